// Binary max-pooling on bit-packed NHWC tensors (LceBMaxPool2d, docs/op-format.md). The max of
// +-1 values is +1 (bit 0) if any tap is +1, so the output word is the AND of the input words over
// the in-bounds taps; SAME padding positions are ignored, like TFLite's float max-pool. Padding
// bits stay 0 (AND of zeros).
#pragma once

#include <string>

#include "runtime/core/types.h"

namespace lc {

class ThreadPool;

struct BMaxPool2DGeometry {
  int in_height = 0, in_width = 0;
  int packed_channels = 0;  // words per pixel, PackedSize(channels)
  int filter_height = 0, filter_width = 0;
  int stride_height = 1, stride_width = 1;
  Padding padding = Padding::kValid;

  int OutHeight() const;
  int OutWidth() const;
};

// Why `geometry` cannot run, empty if it can.
std::string ValidateBMaxPool2D(const BMaxPool2DGeometry& geometry);

// input: [batch, in_height, in_width, packed_channels]; output: [batch, OH, OW, packed_channels].
// The geometry must be valid (ValidateBMaxPool2D). `pool` may be null. Never allocates.
void BMaxPool2D(const BMaxPool2DGeometry& geometry, const TBitpacked* input, int batch,
                TBitpacked* output, ThreadPool* pool);

}  // namespace lc
