// Binary 2-D convolution on bit-packed NHWC input with a fused output transform.
// Semantics are those of LceBconv2d in docs/op-format.md.
#pragma once

#include <memory>
#include <string>

#include "runtime/core/types.h"

namespace lc {

class ThreadPool;

struct BConv2DGeometry {
  int in_height = 0, in_width = 0;
  int channels_in = 0;   // unpacked, all groups
  int channels_out = 0;
  int filter_height = 0, filter_width = 0;
  int groups = 1;
  int stride_height = 1, stride_width = 1;
  int dilation_height = 1, dilation_width = 1;
  Padding padding = Padding::kValid;
  int pad_value = 0;  // 0 or 1, used with kSame

  int OutHeight() const;
  int OutWidth() const;
};

struct OutputTransform {
  OutputType type = OutputType::kFloat;
  // Float and int8 outputs: y = multiplier[o] * clamp_acc(conv) + bias[o], then clamp_out(y).
  const float* multiplier = nullptr;  // [channels_out]; copied at Create
  const float* bias = nullptr;        // [channels_out]; copied at Create
  Activation accumulator_activation = Activation::kNone;  // LCE's fused_activation_function
  Activation output_activation = Activation::kNone;       // extension output_activation_function
  // Int8 output: q = saturate(round_half_away(y / int8_scale) + int8_zero_point).
  float int8_scale = 1.0f;
  int int8_zero_point = 0;
  // Bit-packed output: bit = popcount > thresholds[o]. Copied at Create.
  const std::int32_t* thresholds = nullptr;
};

class BConv2D {
 public:
  // `filter` is bit-packed OHWI: [channels_out, filter_height, filter_width,
  // PackedSize(channels_in / groups)]. Everything is copied and re-laid-out once here.
  // Returns nullptr and sets *error on invalid geometry or an unavailable forced variant.
  static std::unique_ptr<BConv2D> Create(const BConv2DGeometry& geometry, const TBitpacked* filter,
                                         const OutputTransform& transform, IsaVariant variant,
                                         std::string* error);
  virtual ~BConv2D() = default;

  // input: [batch, in_height, in_width, PackedSize(channels_in)] bit-packed.
  // output: float / int8 [batch, OH, OW, channels_out] or bit-packed
  // [batch, OH, OW, PackedSize(channels_out)], per the transform's type.
  // `pool` may be null (single thread). Run never allocates.
  virtual void Run(const TBitpacked* input, int batch, void* output, ThreadPool* pool) const = 0;

  // Name of the variant in use ("portable", "avx2", "avx512", "neon").
  virtual const char* VariantName() const = 0;
};

}  // namespace lc
