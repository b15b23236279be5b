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

// One 64-bit K word for the whole tile: sums[m][j] += popcount(A word of pixel m ^ B[j]).
template <typename LoadA>
__attribute__((always_inline)) inline void AccumulateWord(const std::uint64_t* b, LoadA load_a,
                                                          __m512i (&sums)[kMr][kVectors]) {
  __m512i bv[kVectors];
#pragma GCC unroll 4
  for (int j = 0; j < kVectors; ++j) bv[j] = _mm512_loadu_si512(b + 8 * j);
#pragma GCC unroll 8
  for (int m = 0; m < kMr; ++m) {
    const __m512i x = _mm512_set1_epi64(static_cast<long long>(load_a(m)));
#pragma GCC unroll 4
    for (int j = 0; j < kVectors; ++j) {
      sums[m][j] = _mm512_add_epi64(sums[m][j], _mm512_popcnt_epi64(_mm512_xor_si512(x, bv[j])));
    }
  }
}

void PopcountTile(int taps, int words, const TBitpacked* const* a, std::ptrdiff_t a_offset,
                  const std::uint64_t* b, std::int32_t* acc, bool accumulate) {
  __m512i sums[kMr][kVectors];
#pragma GCC unroll 8
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 4
    for (int j = 0; j < kVectors; ++j) sums[m][j] = _mm512_setzero_si512();
  }
  const int full = words / 2;
  for (int t = 0; t < taps; ++t) {
    const TBitpacked* rows[kMr];
#pragma GCC unroll 8
    for (int m = 0; m < kMr; ++m) rows[m] = a[t * kMr + m] + a_offset;
    for (int w = 0; w < full; ++w, b += kNr) {
      AccumulateWord(b, [&](int m) { return LoadWord64(rows[m] + 2 * w); }, sums);
    }
    if (words & 1) {
      // Zero-extended: the next pixel's words follow the odd last word in memory.
      AccumulateWord(b, [&](int m) { return std::uint64_t{static_cast<std::uint32_t>(rows[m][words - 1])}; },
                     sums);
      b += kNr;
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

// Output stages, 16 channels per step; the same numerics as bgemm_variant_common.h.

// conv = k - 2 * popcount - correction, clamped to the accumulator activation's bounds.
inline __m512i ClampedConv(const std::int32_t* popcounts, const OutputRowArgs& args, int n0,
                           __mmask16 mask, const OutputStage& stage) {
  __m512i conv = _mm512_sub_epi32(_mm512_set1_epi32(args.k),
                                  _mm512_slli_epi32(_mm512_maskz_loadu_epi32(mask, popcounts + n0), 1));
  if (args.correction) conv = _mm512_sub_epi32(conv, _mm512_maskz_loadu_epi32(mask, args.correction + n0));
  conv = _mm512_max_epi32(conv, _mm512_set1_epi32(stage.acc_low));
  return _mm512_min_epi32(conv, _mm512_set1_epi32(stage.acc_high));
}

// float32(double(a) * multiplier + bias) (the product is exact, so fused or not is the same),
// then the output activation's clamp.
inline __m512 TransformedFloat(__m512i a, const OutputRowArgs& args, int n0, __mmask16 mask,
                               const OutputStage& stage) {
  const float* multiplier = stage.multiplier.data() + args.c0 + n0;
  const float* bias = stage.bias.data() + args.c0 + n0;
  const __m512 m = _mm512_maskz_loadu_ps(mask, multiplier);
  const __m512 b = _mm512_maskz_loadu_ps(mask, bias);
  const __m512d low = _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(a)),
                                      _mm512_cvtps_pd(_mm512_castps512_ps256(m)),
                                      _mm512_cvtps_pd(_mm512_castps512_ps256(b)));
  const __m512d high = _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(a, 1)),
                                       _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(m), 1))),
                                       _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(b), 1))));
  __m512 y = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(low)), _mm512_cvtpd_ps(high), 1);
  y = _mm512_max_ps(y, _mm512_set1_ps(stage.out_low));
  return _mm512_min_ps(y, _mm512_set1_ps(stage.out_high));
}

inline __mmask16 TailMask(int remaining) {
  return remaining >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << remaining) - 1);
}

void OutputFloat(const std::int32_t* popcounts, const OutputRowArgs& args, const OutputStage& stage,
                 float* out) {
  for (int n0 = 0; n0 < args.n; n0 += 16) {
    const __mmask16 mask = TailMask(args.n - n0);
    const __m512 y = TransformedFloat(ClampedConv(popcounts, args, n0, mask, stage), args, n0, mask, stage);
    _mm512_mask_storeu_ps(out + n0, mask, y);
  }
}

void OutputInt8(const std::int32_t* popcounts, const OutputRowArgs& args, const OutputStage& stage,
                std::int8_t* out) {
  const __m512 scale = _mm512_set1_ps(stage.int8_scale);
  for (int n0 = 0; n0 < args.n; n0 += 16) {
    const __mmask16 mask = TailMask(args.n - n0);
    const __m512 y = TransformedFloat(ClampedConv(popcounts, args, n0, mask, stage), args, n0, mask, stage);
    // Round half away from zero as RoundToInt8: truncate, then step by the exact fraction.
    __m512 v = _mm512_div_ps(y, scale);
    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);  // NaN -> 0
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-1024.0f)), _mm512_set1_ps(1024.0f));
    __m512i i = _mm512_cvttps_epi32(v);
    const __m512 fraction = _mm512_sub_ps(v, _mm512_cvtepi32_ps(i));
    const __m512i one = _mm512_set1_epi32(1);
    i = _mm512_mask_add_epi32(i, _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(0.5f), _CMP_GE_OQ), i, one);
    i = _mm512_mask_sub_epi32(i, _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(-0.5f), _CMP_LE_OQ), i, one);
    i = _mm512_add_epi32(i, _mm512_set1_epi32(stage.int8_zero_point));
    i = _mm512_min_epi32(_mm512_max_epi32(i, _mm512_set1_epi32(-128)), _mm512_set1_epi32(127));
    _mm512_mask_cvtepi32_storeu_epi8(out + n0, mask, i);
  }
}

std::uint32_t OutputBits(const std::int32_t* popcounts, const OutputRowArgs& args,
                         const OutputStage& stage) {
  const std::int32_t* thresholds = stage.thresholds.data() + args.c0;
  std::uint32_t bits = 0;
  for (int n0 = 0; n0 < args.n; n0 += 16) {
    const __mmask16 mask = TailMask(args.n - n0);
    const __mmask16 greater = _mm512_mask_cmpgt_epi32_mask(
        mask, _mm512_maskz_loadu_epi32(mask, popcounts + n0), _mm512_maskz_loadu_epi32(mask, thresholds + n0));
    bits |= static_cast<std::uint32_t>(greater) << n0;
  }
  return bits;
}

}  // namespace

const BGemmKernels* BGemmKernelsAvx512() {
  static const BGemmKernels kernels = {"avx512", kMr, kNr, PopcountTile, OutputFloat, OutputInt8, OutputBits};
  return &kernels;
}

}  // namespace lc
