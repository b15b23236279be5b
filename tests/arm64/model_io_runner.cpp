// Runs a runtime-ready .tflite model once on inputs read from files and writes its outputs to
// files, through lc::runtime::ModelRunner (LiteRT + the larq-compute ops). Built for the host and
// for aarch64 (run under qemu), it is how tests/arm64/test_arm64_end_to_end.py compares the two
// architectures on identical inputs.
//
//   model_io_runner MODEL.tflite LIBLITERT.so IN_0.bin [IN_1.bin ...] -- OUT_PREFIX
//
// Input i is the raw bytes of input tensor i (its current shape and element type; a size
// mismatch is an error). Output j is written raw to OUT_PREFIX<j>.bin.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runtime/ops/model_runner.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "model_io_runner: %s\n", message.c_str());
  return 1;
}

bool ReadFile(const std::string& path, std::vector<char>* bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  bytes->assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  int separator = -1;
  for (int i = 0; i < static_cast<int>(args.size()); ++i) {
    if (args[i] == "--") separator = i;
  }
  if (args.size() < 4 || separator < 2 || separator + 2 != static_cast<int>(args.size())) {
    return Fail("usage: model_io_runner MODEL LIBLITERT IN_0.bin [IN_1.bin ...] -- OUT_PREFIX");
  }
  std::vector<char> model;
  if (!ReadFile(args[0], &model)) return Fail("cannot read model " + args[0]);
  lc::runtime::RunnerOptions options;
  options.litert_library = args[1];
  std::string error;
  auto runner = lc::runtime::ModelRunner::Create(model.data(), model.size(), options, &error);
  if (!runner) return Fail(error);

  const int inputs = separator - 2;
  if (inputs != runner->NumInputs()) {
    return Fail("the model has " + std::to_string(runner->NumInputs()) + " inputs, " +
                std::to_string(inputs) + " files given");
  }
  for (int i = 0; i < inputs; ++i) {
    std::vector<char> data;
    const std::string& path = args[2 + i];
    if (!ReadFile(path, &data)) return Fail("cannot read input " + path);
    if (data.size() != runner->Input(i).bytes) {
      return Fail(path + " has " + std::to_string(data.size()) + " bytes, input " +
                  std::to_string(i) + " (" + runner->Input(i).name + ") needs " +
                  std::to_string(runner->Input(i).bytes));
    }
    std::copy(data.begin(), data.end(), static_cast<char*>(runner->InputData(i)));
  }
  if (!runner->Invoke(&error)) return Fail(error);
  for (int j = 0; j < runner->NumOutputs(); ++j) {
    const std::string path = args.back() + std::to_string(j) + ".bin";
    std::ofstream out(path, std::ios::binary);
    out.write(static_cast<const char*>(runner->OutputData(j)),
              static_cast<std::streamsize>(runner->Output(j).bytes));
    if (!out) return Fail("cannot write " + path);
  }
  return 0;
}
