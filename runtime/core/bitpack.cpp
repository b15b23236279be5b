#include "runtime/core/bitpack.h"

#include <algorithm>
#include <cmath>

namespace lc {
namespace {

// Packs one row with `is_negative(i)` deciding bit i; padding bits stay 0.
template <typename IsNegative>
void PackRow(int channels, TBitpacked* out, IsNegative is_negative) {
  const int words = PackedSize(channels);
  for (int w = 0; w < words; ++w) {
    const int begin = w * kBitsPerWord;
    const int end = std::min(channels, begin + kBitsPerWord);
    std::uint32_t word = 0;
    for (int c = begin; c < end; ++c) word |= std::uint32_t{is_negative(c)} << (c - begin);
    out[w] = static_cast<TBitpacked>(word);
  }
}

template <typename T>
void UnpackRows(const TBitpacked* in, std::int64_t rows, int channels, T plus_one, T minus_one,
                T* out) {
  const int words = PackedSize(channels);
  for (std::int64_t r = 0; r < rows; ++r) {
    const TBitpacked* row_in = in + r * words;
    T* row_out = out + r * channels;
    for (int c = 0; c < channels; ++c) {
      const bool negative = (static_cast<std::uint32_t>(row_in[c / kBitsPerWord]) >> (c % kBitsPerWord)) & 1u;
      row_out[c] = negative ? minus_one : plus_one;
    }
  }
}

void PackFloatPortable(const float* in, std::int64_t rows, int channels, TBitpacked* out) {
  const int words = PackedSize(channels);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = in + r * channels;
    PackRow(channels, out + r * words, [row](int c) { return row[c] < 0.0f; });
  }
}

void PackInt8Portable(const std::int8_t* in, std::int64_t rows, int channels,
                      std::int8_t zero_point, TBitpacked* out) {
  const int words = PackedSize(channels);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int8_t* row = in + r * channels;
    PackRow(channels, out + r * words, [row, zero_point](int c) { return row[c] < zero_point; });
  }
}

}  // namespace

const BitpackKernels* BitpackKernelsPortable() {
  static const BitpackKernels kKernels = {"portable", &PackFloatPortable, &PackInt8Portable};
  return &kKernels;
}

void UnpackToFloat(const TBitpacked* in, std::int64_t rows, int channels, float* out) {
  UnpackRows(in, rows, channels, 1.0f, -1.0f, out);
}

void UnpackToInt8(const TBitpacked* in, std::int64_t rows, int channels, float scale,
                  int zero_point, std::int8_t* out) {
  UnpackRows(in, rows, channels, QuantizeToInt8(1.0f, scale, zero_point),
             QuantizeToInt8(-1.0f, scale, zero_point), out);
}

std::int8_t QuantizeToInt8(float y, float scale, int zero_point) {
  const float q = std::round(y / scale) + static_cast<float>(zero_point);  // round: half away
  if (std::isnan(q)) return static_cast<std::int8_t>(std::clamp(zero_point, -128, 127));
  return static_cast<std::int8_t>(std::clamp(q, -128.0f, 127.0f));
}

}  // namespace lc
