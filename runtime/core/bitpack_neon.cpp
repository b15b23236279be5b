// NEON bit-packing (ARMv8-A Advanced SIMD): 32 values become one word through compares (FCMLT /
// CMGT give 0xff.. or 0 per lane), narrowing moves down to one byte per value, an AND with the bit
// weights 1, 2, .., 128 and three pairwise adds (ADDP) that sum every 8 bytes into one. The ragged
// end of a row is packed value by value, so nothing past the row is read and the padding bits
// stay 0.
#include <arm_neon.h>

#include "runtime/core/bitpack.h"

namespace lc {
namespace {

// Bytes 0..15 of `low` and of `high` (0xff or 0 each, one per value) -> the 32-bit word whose
// bit j is value j.
inline std::uint32_t MaskBytesToWord(uint8x16_t low, uint8x16_t high) {
  static const std::uint8_t kWeights[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                            1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t weights = vld1q_u8(kWeights);
  uint8x16_t sums = vpaddq_u8(vandq_u8(low, weights), vandq_u8(high, weights));  // 2 values/byte
  sums = vpaddq_u8(sums, sums);                                                   // 4
  sums = vpaddq_u8(sums, sums);                                                   // 8
  return vgetq_lane_u32(vreinterpretq_u32_u8(sums), 0);
}

// 8 floats -> 8 16-bit lanes of 0xffff (x < 0: ordered, so NaN and -0.0 give 0) or 0.
inline uint16x8_t Negative8(const float* x) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  return vmovn_high_u32(vmovn_u32(vcltq_f32(vld1q_f32(x), zero)), vcltq_f32(vld1q_f32(x + 4), zero));
}

inline std::uint32_t PackFloatWord(const float* x) {
  const uint8x16_t low = vmovn_high_u16(vmovn_u16(Negative8(x)), Negative8(x + 8));
  const uint8x16_t high = vmovn_high_u16(vmovn_u16(Negative8(x + 16)), Negative8(x + 24));
  return MaskBytesToWord(low, high);
}

inline std::uint32_t PackInt8Word(const std::int8_t* q, int8x16_t zero_point) {
  return MaskBytesToWord(vcltq_s8(vld1q_s8(q), zero_point), vcltq_s8(vld1q_s8(q + 16), zero_point));
}

// Packs `count` consecutive values into PackedSize(count) words; the ragged last word value by
// value (is_negative), leaving its padding bits 0 and reading nothing past the span.
template <typename T, typename PackWord, typename IsNegative>
void PackSpan(const T* in, std::int64_t count, TBitpacked* out, PackWord pack_word,
              IsNegative is_negative) {
  const std::int64_t full = count / kBitsPerWord;
  for (std::int64_t w = 0; w < full; ++w) {
    out[w] = static_cast<TBitpacked>(pack_word(in + w * kBitsPerWord));
  }
  const int tail = static_cast<int>(count % kBitsPerWord);
  if (tail == 0) return;
  const T* last = in + full * kBitsPerWord;
  std::uint32_t word = 0;
  for (int i = 0; i < tail; ++i) word |= std::uint32_t{is_negative(last[i])} << i;
  out[full] = static_cast<TBitpacked>(word);
}

// Rows of a multiple of 32 channels are contiguous words: one span for all of them.
template <typename T, typename PackWord, typename IsNegative>
void PackRows(const T* in, std::int64_t rows, int channels, TBitpacked* out, PackWord pack_word,
              IsNegative is_negative) {
  const bool contiguous = channels % kBitsPerWord == 0;
  const std::int64_t span = contiguous ? rows * channels : channels;
  const int words = PackedSize(channels);
  for (std::int64_t r = 0; r < (contiguous ? 1 : rows); ++r) {
    PackSpan(in + r * channels, span, out + r * words, pack_word, is_negative);
  }
}

void PackFloatNeon(const float* in, std::int64_t rows, int channels, TBitpacked* out) {
  PackRows(in, rows, channels, out, [](const float* x) { return PackFloatWord(x); },
           [](float x) { return x < 0.0f; });
}

void PackInt8Neon(const std::int8_t* in, std::int64_t rows, int channels, std::int8_t zero_point,
                  TBitpacked* out) {
  const int8x16_t zero_point_vector = vdupq_n_s8(zero_point);
  PackRows(
      in, rows, channels, out,
      [zero_point_vector](const std::int8_t* q) { return PackInt8Word(q, zero_point_vector); },
      [zero_point](std::int8_t q) { return q < zero_point; });
}

}  // namespace

const BitpackKernels* BitpackKernelsNeon() {
  static const BitpackKernels kKernels = {"neon", &PackFloatNeon, &PackInt8Neon};
  return &kKernels;
}

}  // namespace lc
