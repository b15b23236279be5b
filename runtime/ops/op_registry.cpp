#include <map>

#include "runtime/ops/lce_ops.h"

namespace lc::ops {
namespace {

using Factory = std::unique_ptr<OpKernel> (*)();

const std::map<std::string, Factory>& Registry() {
  static const std::map<std::string, Factory> registry = {
      {"LceQuantize", &MakeLceQuantize},
      {"LceDequantize", &MakeLceDequantize},
      {"LceBconv2d", &MakeLceBconv2d},
      {"LceBMaxPool2d", &MakeLceBMaxPool2d},
      {"LceBFullyConnected", &MakeLceBFullyConnected},
  };
  return registry;
}

}  // namespace

const std::vector<std::string>& SupportedOps() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const auto& entry : Registry()) result.push_back(entry.first);
    return result;
  }();
  return names;
}

std::unique_ptr<OpKernel> CreateOpKernel(const std::string& op_name) {
  auto it = Registry().find(op_name);
  return it == Registry().end() ? nullptr : it->second();
}

std::string OpNameOfCustomCode(const std::string& custom_code) {
  return custom_code.substr(0, custom_code.find('#'));
}

}  // namespace lc::ops
