// AVX-512 binary GEMM micro-kernel: 6 pixels x 32 channels, VPOPCNTQ.
// Channels sit in the 64-bit lanes (4 zmm of 8 channels per pixel), so each A word is broadcast
// once and there is no horizontal reduction; 24 accumulators + 4 B vectors fit the 32 registers.
// Per 64-bit K word: 24 x (VPXORQ, VPOPCNTQ, VPADDQ) on ports 0 and 5 -> 36 cycles for 24 x 512
// binary MACs (the kernel's ceiling is 2/3 of the 512-bit/cycle popcount roofline).
#include <immintrin.h>

#include "runtime/core/bgemm.h"
#include "runtime/core/bgemm_variant_common.h"

namespace lc {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 32;
constexpr int kVectors = kNr / 8;

void PopcountTile(int taps, int words, const TBitpacked* const* a, std::ptrdiff_t a_offset,
                  const std::uint64_t* b, std::int32_t* acc, bool accumulate) {
  __m512i sums[kMr][kVectors];
#pragma GCC unroll 8
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 4
    for (int j = 0; j < kVectors; ++j) sums[m][j] = _mm512_setzero_si512();
  }
  const int full = words / 2;
  const bool odd = words & 1;
  for (int t = 0; t < taps; ++t) {
    const TBitpacked* rows[kMr];
#pragma GCC unroll 8
    for (int m = 0; m < kMr; ++m) rows[m] = a[t * kMr + m] + a_offset;
    for (int w = 0; w <= full; ++w) {
      if (w == full && !odd) break;
      __m512i bv[kVectors];
#pragma GCC unroll 4
      for (int j = 0; j < kVectors; ++j) bv[j] = _mm512_loadu_si512(b + 8 * j);
      b += kNr;
#pragma GCC unroll 8
      for (int m = 0; m < kMr; ++m) {
        // The odd last word is zero-extended: the next pixel's words follow it in memory.
        const std::uint64_t word = w < full ? LoadWord64(rows[m] + 2 * w)
                                            : static_cast<std::uint32_t>(rows[m][2 * w]);
        const __m512i x = _mm512_set1_epi64(static_cast<long long>(word));
#pragma GCC unroll 4
        for (int j = 0; j < kVectors; ++j) {
          sums[m][j] = _mm512_add_epi64(sums[m][j], _mm512_popcnt_epi64(_mm512_xor_si512(x, bv[j])));
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 4
    for (int j = 0; j < kVectors; ++j) {
      __m256i v = _mm512_cvtepi64_epi32(sums[m][j]);
      std::int32_t* dst = acc + m * kNr + 8 * j;
      if (accumulate) v = _mm256_add_epi32(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(dst)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
    }
  }
}

}  // namespace

const BGemmKernels* BGemmKernelsAvx512() {
  static const BGemmKernels kernels = MakeBGemmKernels<kMr, kNr>("avx512", PopcountTile);
  return &kernels;
}

}  // namespace lc
