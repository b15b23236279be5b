// AVX-512 bit-packing: compares write mask registers directly, so 64 values become two packed
// words (4 float compares or 1 int8 compare); the ragged end of a row uses masked loads, which
// neither read past the row nor set padding bits.
#include <immintrin.h>

#include <cstring>

#include "runtime/core/bitpack.h"

namespace lc {
namespace {

constexpr int kValuesPerStep = 64;

// Bits of the first `count` (<= 64) values.
inline std::uint64_t ValidMask(std::int64_t count) {
  return count >= kValuesPerStep ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
}

// bit = x < 0 (ordered: NaN gives 0; -0.0 is not < 0); lanes outside `valid` give 0.
inline std::uint64_t PackFloat64(const float* x, std::uint64_t valid) {
  const __m512 zero = _mm512_setzero_ps();
  std::uint64_t bits = 0;
  for (int i = 0; i < 4; ++i) {
    const __mmask16 lanes = static_cast<__mmask16>(valid >> (16 * i));
    if (lanes == 0) break;  // `valid` is a run of low bits: nothing further to pack
    const __m512 values = _mm512_maskz_loadu_ps(lanes, x + 16 * i);
    bits |= std::uint64_t{_mm512_mask_cmp_ps_mask(lanes, values, zero, _CMP_LT_OQ)} << (16 * i);
  }
  return bits;
}

inline std::uint64_t PackInt8x64(const std::int8_t* q, __m512i zero_point, std::uint64_t valid) {
  const __m512i values = _mm512_maskz_loadu_epi8(valid, q);
  return _mm512_mask_cmplt_epi8_mask(valid, values, zero_point);
}

// Packs `count` consecutive values into PackedSize(count) words.
template <typename Pack64>
void PackSpan(std::int64_t count, TBitpacked* out, Pack64 pack64) {
  std::int64_t i = 0;
  for (; i + kValuesPerStep <= count; i += kValuesPerStep) {
    const std::uint64_t bits = pack64(i, ~std::uint64_t{0});
    std::memcpy(out + i / kBitsPerWord, &bits, sizeof(bits));
  }
  const std::int64_t rest = count - i;
  if (rest == 0) return;
  const std::uint64_t bits = pack64(i, ValidMask(rest));
  out[i / kBitsPerWord] = static_cast<TBitpacked>(static_cast<std::uint32_t>(bits));
  if (rest > kBitsPerWord) {
    out[i / kBitsPerWord + 1] = static_cast<TBitpacked>(static_cast<std::uint32_t>(bits >> 32));
  }
}

// Rows of a multiple of 32 channels are contiguous words: pack them as one span.
template <typename PackRowSpan>
void PackRows(std::int64_t rows, int channels, PackRowSpan pack_span) {
  if (channels % kBitsPerWord == 0) {
    pack_span(0, rows * channels, 0);
    return;
  }
  const int words = PackedSize(channels);
  for (std::int64_t r = 0; r < rows; ++r) pack_span(r * channels, channels, r * words);
}

void PackFloatAvx512(const float* in, std::int64_t rows, int channels, TBitpacked* out) {
  PackRows(rows, channels, [in, out](std::int64_t first, std::int64_t count, std::int64_t word) {
    const float* x = in + first;
    PackSpan(count, out + word,
             [x](std::int64_t i, std::uint64_t valid) { return PackFloat64(x + i, valid); });
  });
}

void PackInt8Avx512(const std::int8_t* in, std::int64_t rows, int channels,
                    std::int8_t zero_point, TBitpacked* out) {
  const __m512i zero_point_vector = _mm512_set1_epi8(zero_point);
  PackRows(rows, channels, [&](std::int64_t first, std::int64_t count, std::int64_t word) {
    const std::int8_t* q = in + first;
    PackSpan(count, out + word, [q, zero_point_vector](std::int64_t i, std::uint64_t valid) {
      return PackInt8x64(q + i, zero_point_vector, valid);
    });
  });
}

}  // namespace

const BitpackKernels* BitpackKernelsAvx512() {
  static const BitpackKernels kKernels = {"avx512", &PackFloatAvx512, &PackInt8Avx512};
  return &kKernels;
}

}  // namespace lc
