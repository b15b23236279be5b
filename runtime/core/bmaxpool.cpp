#include "runtime/core/bmaxpool.h"

#include <algorithm>
#include <cstdint>

#include "runtime/core/thread_pool.h"

namespace lc {
namespace {

int OutSize(int in, int filter, int stride, Padding padding) {
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  return in >= filter ? (in - filter) / stride + 1 : 0;
}

int PadBefore(int in, int filter, int stride, Padding padding) {
  if (padding != Padding::kSame) return 0;
  const int out = OutSize(in, filter, stride, padding);
  return std::max((out - 1) * stride + filter - in, 0) / 2;
}

}  // namespace

int BMaxPool2DGeometry::OutHeight() const {
  return OutSize(in_height, filter_height, stride_height, padding);
}
int BMaxPool2DGeometry::OutWidth() const {
  return OutSize(in_width, filter_width, stride_width, padding);
}

std::string ValidateBMaxPool2D(const BMaxPool2DGeometry& g) {
  if (g.in_height <= 0 || g.in_width <= 0) return "input height and width must be positive";
  if (g.packed_channels <= 0) return "packed channel count must be positive";
  if (g.filter_height <= 0 || g.filter_width <= 0) return "filter height and width must be positive";
  if (g.stride_height <= 0 || g.stride_width <= 0) return "strides must be positive";
  if (g.padding != Padding::kSame && g.padding != Padding::kValid) {
    return "padding must be 0 (SAME) or 1 (VALID), got " + std::to_string(static_cast<int>(g.padding));
  }
  return "";
}

void BMaxPool2D(const BMaxPool2DGeometry& g, const TBitpacked* input, int batch,
                TBitpacked* output, ThreadPool* pool) {
  const int out_h = g.OutHeight(), out_w = g.OutWidth();
  const int pad_top = PadBefore(g.in_height, g.filter_height, g.stride_height, g.padding);
  const int pad_left = PadBefore(g.in_width, g.filter_width, g.stride_width, g.padding);
  const int words = g.packed_channels;
  const std::int64_t rows = static_cast<std::int64_t>(batch) * out_h;
  ParallelFor(pool, rows, 1, [&](std::int64_t begin, std::int64_t end, int) {
    for (std::int64_t row = begin; row < end; ++row) {
      const std::int64_t b = row / out_h;
      const int oh = static_cast<int>(row % out_h);
      const int h0 = std::max(0, oh * g.stride_height - pad_top);
      const int h1 = std::min(g.in_height, oh * g.stride_height - pad_top + g.filter_height);
      for (int ow = 0; ow < out_w; ++ow) {
        const int w0 = std::max(0, ow * g.stride_width - pad_left);
        const int w1 = std::min(g.in_width, ow * g.stride_width - pad_left + g.filter_width);
        TBitpacked* out = output + (row * out_w + ow) * words;
        std::fill(out, out + words, ~TBitpacked{0});
        for (int ih = h0; ih < h1; ++ih) {
          for (int iw = w0; iw < w1; ++iw) {
            const TBitpacked* in = input + ((b * g.in_height + ih) * g.in_width + iw) * words;
            for (int c = 0; c < words; ++c) out[c] &= in[c];
          }
        }
      }
    }
  });
}

}  // namespace lc
