// AVX2 binary GEMM micro-kernel: 4 pixels x 8 channels. AVX2 has no vector popcount, so bytes are
// counted with the nibble lookup (VPSHUFB) and summed into 64-bit lanes with VPSADBW; channels sit
// in the 64-bit lanes (2 ymm of 4 channels per pixel), as in the AVX-512 kernel.
#include <immintrin.h>

#include "runtime/core/bgemm.h"
#include "runtime/core/bgemm_variant_common.h"

namespace lc {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;
constexpr int kVectors = kNr / 4;

// Popcount of each 64-bit lane.
inline __m256i Popcount64(__m256i v, __m256i lookup, __m256i low_nibbles) {
  const __m256i low = _mm256_and_si256(v, low_nibbles);
  const __m256i high = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
  const __m256i bytes =
      _mm256_add_epi8(_mm256_shuffle_epi8(lookup, low), _mm256_shuffle_epi8(lookup, high));
  return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
}

void PopcountTile(int taps, int words, const TBitpacked* const* a_rows,
                  const std::ptrdiff_t* tap_offsets, const std::uint64_t* b, std::int32_t* acc) {
  const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                          0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  __m256i sums[kMr][kVectors];
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 2
    for (int j = 0; j < kVectors; ++j) sums[m][j] = _mm256_setzero_si256();
  }
  const int full = words / 2;
  const bool odd = words & 1;
  for (int t = 0; t < taps; ++t) {
    const TBitpacked* rows[kMr];
#pragma GCC unroll 4
    for (int m = 0; m < kMr; ++m) rows[m] = a_rows[m] + tap_offsets[t];
    for (int w = 0; w <= full; ++w) {
      if (w == full && !odd) break;
      __m256i bv[kVectors];
#pragma GCC unroll 2
      for (int j = 0; j < kVectors; ++j) {
        bv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 4 * j));
      }
      b += kNr;
#pragma GCC unroll 4
      for (int m = 0; m < kMr; ++m) {
        const std::uint64_t word = w < full ? LoadWord64(rows[m] + 2 * w)
                                            : static_cast<std::uint32_t>(rows[m][2 * w]);
        const __m256i x = _mm256_set1_epi64x(static_cast<long long>(word));
#pragma GCC unroll 2
        for (int j = 0; j < kVectors; ++j) {
          sums[m][j] = _mm256_add_epi64(
              sums[m][j], Popcount64(_mm256_xor_si256(x, bv[j]), lookup, low_nibbles));
        }
      }
    }
  }
  // Pack the 64-bit lane sums of each pixel into 8 int32 (lane order = channel order).
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
    const __m256i packed = _mm256_permutevar8x32_epi32(
        _mm256_blend_epi32(sums[m][0], _mm256_slli_epi64(sums[m][1], 32), 0xaa),
        _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + m * kNr), packed);
  }
}

}  // namespace

const BGemmKernels* BGemmKernelsAvx2() {
  static const BGemmKernels kernels = MakeBGemmKernels<kMr, kNr>("avx2", PopcountTile);
  return &kernels;
}

}  // namespace lc
