#include "runtime/core/bconv2d_reference.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/core/bitpack.h"

namespace lc {
namespace {

bool Bit(const TBitpacked* words, int index) {
  return (static_cast<std::uint32_t>(words[index / kBitsPerWord]) >> (index % kBitsPerWord)) & 1u;
}

}  // namespace

std::string BConv2DReference(const BConv2DGeometry& g, const TBitpacked* filter,
                             const OutputTransform& transform, const TBitpacked* input, int batch,
                             void* output, const float* residual) {
  std::string error = ValidateBConv2D(g, transform);
  if (error.empty() && batch < 0) error = "batch must not be negative";
  if (error.empty() && transform.residual && residual == nullptr) error = "the residual is null";
  if (!error.empty()) return error;
  OutputStage stage;
  error = OutputStage::Make(transform, g.channels_out, g.channels_out, &stage);
  if (!error.empty()) return error;

  const int out_h = g.OutHeight(), out_w = g.OutWidth();
  const int pad_top = g.PadTop(), pad_left = g.PadLeft();
  const int in_words = PackedSize(g.channels_in);
  const int group_in = g.channels_in / g.groups;
  const int group_out = g.channels_out / g.groups;
  const int filter_words = PackedSize(group_in);
  const int out_words = PackedSize(g.channels_out);
  const bool one_padding = g.padding == Padding::kSame && g.pad_value == 1;

  for (int b = 0; b < batch; ++b) {
    for (int oh = 0; oh < out_h; ++oh) {
      for (int ow = 0; ow < out_w; ++ow) {
        const std::int64_t pixel = (static_cast<std::int64_t>(b) * out_h + oh) * out_w + ow;
        std::vector<std::uint32_t> packed_out(out_words, 0);
        for (int o = 0; o < g.channels_out; ++o) {
          const int group = o / group_out;
          int conv = 0;      // sum of x * w over taps that count
          int popcount = 0;  // XOR-popcount over in-bounds and one-padded taps
          for (int kh = 0; kh < g.filter_height; ++kh) {
            for (int kw = 0; kw < g.filter_width; ++kw) {
              const int ih = oh * g.stride_height - pad_top + kh * g.dilation_height;
              const int iw = ow * g.stride_width - pad_left + kw * g.dilation_width;
              const bool inside = ih >= 0 && ih < g.in_height && iw >= 0 && iw < g.in_width;
              if (!inside && !one_padding) continue;  // zero padding: the tap adds nothing
              const TBitpacked* w_row =
                  filter + ((static_cast<std::int64_t>(o) * g.filter_height + kh) * g.filter_width + kw) *
                               filter_words;
              const TBitpacked* x_row =
                  inside ? input + ((static_cast<std::int64_t>(b) * g.in_height + ih) * g.in_width + iw) *
                                       in_words
                         : nullptr;
              for (int c = 0; c < group_in; ++c) {
                const bool w_negative = Bit(w_row, c);
                const bool x_negative = inside && Bit(x_row, group * group_in + c);  // pad = +1
                const bool differ = w_negative != x_negative;
                conv += differ ? -1 : 1;
                popcount += differ;
              }
            }
          }
          if (stage.type == OutputType::kBitpacked) {
            if (popcount > stage.thresholds[o]) packed_out[o / kBitsPerWord] |= 1u << (o % kBitsPerWord);
            continue;
          }
          const std::int32_t a = std::clamp(conv, stage.acc_low, stage.acc_high);
          float y = static_cast<float>(static_cast<double>(a) * stage.multiplier[o] + stage.bias[o]);
          y = std::min(std::max(y, stage.out_low), stage.out_high);
          if (stage.type == OutputType::kFloat) {
            const std::int64_t index = pixel * g.channels_out + o;
            static_cast<float*>(output)[index] =
                stage.residual ? std::min(std::max(y + residual[index], stage.residual_low), stage.residual_high)
                               : y;
          } else {
            static_cast<std::int8_t*>(output)[pixel * g.channels_out + o] =
                QuantizeToInt8(y, stage.int8_scale, stage.int8_zero_point);
          }
        }
        if (stage.type == OutputType::kBitpacked) {
          std::copy(packed_out.begin(), packed_out.end(),
                    static_cast<TBitpacked*>(output) + pixel * out_words);
        }
      }
    }
  }
  return "";
}

}  // namespace lc
