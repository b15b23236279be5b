// AVX2 bit-packing: one compare + movemask per 8 floats or 32 int8 values, so a 32-bit word
// costs 4 (float) or 1 (int8) compare/movemask pairs instead of 32 scalar steps. The ragged end
// of a row never reads past it, and its padding bits stay 0.
#include <immintrin.h>

#include "runtime/core/bitpack.h"

namespace lc {
namespace {

// bit = x < 0 (ordered, so NaN gives 0; -0.0 is not < 0).
inline std::uint32_t PackFloatWord(const float* x) {
  const __m256 zero = _mm256_setzero_ps();
  std::uint32_t word = 0;
  for (int i = 0; i < 4; ++i) {
    const __m256 negative = _mm256_cmp_ps(_mm256_loadu_ps(x + 8 * i), zero, _CMP_LT_OQ);
    word |= static_cast<std::uint32_t>(_mm256_movemask_ps(negative)) << (8 * i);
  }
  return word;
}

inline std::uint32_t PackInt8Word(const std::int8_t* q, __m256i zero_point) {
  const __m256i values = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpgt_epi8(zero_point, values)));
}

// The first `count` (< 32) floats: masked loads read nothing past them and give 0.0 (bit 0).
inline std::uint32_t PackFloatPartialWord(const float* x, int count) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  std::uint32_t word = 0;
  for (int i = 0; i < 4 && 8 * i < count; ++i) {
    const __m256i load = _mm256_cmpgt_epi32(_mm256_set1_epi32(count - 8 * i), lane);
    const __m256 values = _mm256_maskload_ps(x + 8 * i, load);
    word |= static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(values, zero, _CMP_LT_OQ)))
            << (8 * i);
  }
  return word;
}

// The first `count` (< 32) int8 values, one at a time (AVX2 has no masked byte load).
inline std::uint32_t PackInt8PartialWord(const std::int8_t* q, int count, std::int8_t zero_point) {
  std::uint32_t word = 0;
  for (int i = 0; i < count; ++i) word |= std::uint32_t{q[i] < zero_point} << i;
  return word;
}

// Packs `words` consecutive full words, then the `tail` (< 32) values after them.
template <typename T, typename PackWord, typename PackPartialWord>
void PackSpan(const T* in, std::int64_t words, int tail, TBitpacked* out, PackWord pack_word,
              PackPartialWord pack_partial_word) {
  for (std::int64_t w = 0; w < words; ++w) {
    out[w] = static_cast<TBitpacked>(pack_word(in + w * kBitsPerWord));
  }
  if (tail != 0) out[words] = static_cast<TBitpacked>(pack_partial_word(in + words * kBitsPerWord, tail));
}

// Rows of a multiple of 32 channels are contiguous words: pack them as one span.
template <typename T, typename PackWord, typename PackPartialWord>
void PackRows(const T* in, std::int64_t rows, int channels, TBitpacked* out, PackWord pack_word,
              PackPartialWord pack_partial_word) {
  const int tail = channels % kBitsPerWord;
  if (tail == 0) {
    PackSpan(in, rows * (channels / kBitsPerWord), 0, out, pack_word, pack_partial_word);
    return;
  }
  const int words = PackedSize(channels);
  for (std::int64_t r = 0; r < rows; ++r) {
    PackSpan(in + r * channels, words - 1, tail, out + r * words, pack_word, pack_partial_word);
  }
}

void PackFloatAvx2(const float* in, std::int64_t rows, int channels, TBitpacked* out) {
  PackRows(in, rows, channels, out, [](const float* x) { return PackFloatWord(x); },
           [](const float* x, int count) { return PackFloatPartialWord(x, count); });
}

void PackInt8Avx2(const std::int8_t* in, std::int64_t rows, int channels, std::int8_t zero_point,
                  TBitpacked* out) {
  const __m256i zero_point_vector = _mm256_set1_epi8(zero_point);
  PackRows(
      in, rows, channels, out,
      [zero_point_vector](const std::int8_t* q) { return PackInt8Word(q, zero_point_vector); },
      [zero_point](const std::int8_t* q, int count) {
        return PackInt8PartialWord(q, count, zero_point);
      });
}

}  // namespace

const BitpackKernels* BitpackKernelsAvx2() {
  static const BitpackKernels kKernels = {"avx2", &PackFloatAvx2, &PackInt8Avx2};
  return &kKernels;
}

}  // namespace lc
