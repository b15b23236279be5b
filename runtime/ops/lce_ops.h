// Factories of the custom-op adapters, one per op (registered by name in op_registry.cpp).
#pragma once

#include <memory>

#include "runtime/ops/op_kernel.h"

namespace lc::ops {

std::unique_ptr<OpKernel> MakeLceQuantize();
std::unique_ptr<OpKernel> MakeLceDequantize();
std::unique_ptr<OpKernel> MakeLceBconv2d();
std::unique_ptr<OpKernel> MakeLceBMaxPool2d();
std::unique_ptr<OpKernel> MakeLceBFullyConnected();

}  // namespace lc::ops
