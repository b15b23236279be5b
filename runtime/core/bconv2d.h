// Binary 2-D convolution on bit-packed NHWC input with a fused output transform.
// Semantics are those of LceBconv2d in docs/op-format.md.
#pragma once

#include <memory>
#include <string>

#include "runtime/core/output_transform.h"
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
  // SAME padding added before the first row / column (TFLite's convention: the smaller half).
  int PadTop() const;
  int PadLeft() const;
};

// Why `geometry` + `transform` cannot run (empty if they can): non-positive sizes, groups that do
// not divide the channels, grouped convs whose channels_in / groups is not a multiple of 32 (the
// packed filter layout of LCE), bit-packed output with zero padding (K is position-dependent),
// missing thresholds, bad activations or int8 parameters.
std::string ValidateBConv2D(const BConv2DGeometry& geometry, const OutputTransform& transform);

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
  // residual: with transform.residual, float [batch, OH, OW, channels_out] (same layout as the
  // output; it may not alias it), added to every output after its clamp; must be null otherwise.
  // `pool` may be null (single thread). Run never allocates; it is not reentrant on one object
  // (convs whose taps reach past the input copy each image into a frame the object owns).
  virtual void Run(const TBitpacked* input, int batch, void* output, ThreadPool* pool,
                   const float* residual = nullptr) const = 0;

  // Name of the variant in use ("portable", "avx2", "avx512", "neon").
  virtual const char* VariantName() const = 0;
};

}  // namespace lc
