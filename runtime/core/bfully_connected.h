// Binary fully-connected layer (LceBFullyConnected, docs/op-format.md): a binary GEMM of
// bit-packed rows against bit-packed weights with the fused output transform of BConv2D.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/core/output_transform.h"
#include "runtime/core/types.h"

namespace lc {

class ThreadPool;

class BFullyConnected {
 public:
  // weights: bit-packed [channels_out, PackedSize(channels_in)]; copied and re-laid-out here.
  // Returns nullptr and sets *error on invalid arguments or an unavailable forced variant.
  static std::unique_ptr<BFullyConnected> Create(int channels_in, int channels_out,
                                                 const TBitpacked* weights,
                                                 const OutputTransform& transform,
                                                 IsaVariant variant, std::string* error);
  virtual ~BFullyConnected() = default;

  // input: [rows, PackedSize(channels_in)]; output: float / int8 [rows, channels_out] or
  // bit-packed [rows, PackedSize(channels_out)]. Any rows >= 0; never allocates.
  virtual void Run(const TBitpacked* input, std::int64_t rows, void* output,
                   ThreadPool* pool) const = 0;

  virtual const char* VariantName() const = 0;
};

// Why the arguments cannot run, empty if they can.
std::string ValidateBFullyConnected(int channels_in, int channels_out, const TBitpacked* weights,
                                    const OutputTransform& transform);

// The plain reference twin (bit-by-bit loops); returns an error message, empty on success.
std::string BFullyConnectedReference(int channels_in, int channels_out, const TBitpacked* weights,
                                     const OutputTransform& transform, const TBitpacked* input,
                                     std::int64_t rows, void* output);

}  // namespace lc
