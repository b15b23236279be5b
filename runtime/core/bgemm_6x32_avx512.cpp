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
  // 512-bit stores, so the output stage's 512-bit loads are forwarded from the store buffer
  // (a 512-bit load over two 256-bit stores stalls).
#pragma GCC unroll 8
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 2
    for (int j = 0; j < kVectors; j += 2) {
      __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(sums[m][j])),
                                     _mm512_cvtepi64_epi32(sums[m][j + 1]), 1);
      std::int32_t* dst = acc + m * kNr + 8 * j;
      if (accumulate) v = _mm512_add_epi32(v, _mm512_loadu_si512(dst));
      _mm512_storeu_si512(dst, v);
    }
  }
}

// Output stages, 16 channels per step; the same numerics as bgemm_variant_common.h.

inline __mmask16 TailMask(int remaining) {
  if (remaining <= 0) return 0;
  return remaining >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << remaining) - 1);
}

// conv = k - 2 * popcount - correction, clamped to the accumulator activation's bounds.
// popcounts rows hold a full NR: an unmasked load, which (unlike a masked one) is forwarded from
// the micro-kernel's recent stores.
inline __m512i ClampedConv(const std::int32_t* popcounts, const std::int32_t* correction, int n0,
                           __mmask16 mask, __m512i k, __m512i low, __m512i high) {
  __m512i conv = _mm512_sub_epi32(k, _mm512_slli_epi32(_mm512_loadu_si512(popcounts + n0), 1));
  if (correction) conv = _mm512_sub_epi32(conv, _mm512_maskz_loadu_epi32(mask, correction + n0));
  return _mm512_min_epi32(_mm512_max_epi32(conv, low), high);
}

// Channel constants of 16 output channels, loaded once per tile.
struct ChannelConstants {
  __m512d multiplier_low, multiplier_high, bias_low, bias_high;
};

inline ChannelConstants LoadChannelConstants(const OutputStage& stage, int c, __mmask16 mask) {
  const __m512 m = _mm512_maskz_loadu_ps(mask, stage.multiplier.data() + c);
  const __m512 b = _mm512_maskz_loadu_ps(mask, stage.bias.data() + c);
  return {_mm512_cvtps_pd(_mm512_castps512_ps256(m)),
          _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(m), 1))),
          _mm512_cvtps_pd(_mm512_castps512_ps256(b)),
          _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(b), 1)))};
}

// float32(double(a) * multiplier + bias) (the product is exact, so fused or not is the same),
// then the output activation's clamp.
inline __m512 TransformedFloat(__m512i a, const ChannelConstants& c, __m512 out_low, __m512 out_high) {
  const __m512d low = _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(a)), c.multiplier_low, c.bias_low);
  const __m512d high = _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(a, 1)), c.multiplier_high, c.bias_high);
  const __m512 y = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(low)), _mm512_cvtpd_ps(high), 1);
  return _mm512_min_ps(_mm512_max_ps(y, out_low), out_high);
}

// Calls store(m, n0, mask, y) with the float y of every 16-channel group of every pixel.
template <typename Store>
inline void ForEachFloatGroup(const OutputTileArgs& args, const OutputStage& stage, Store store) {
  const __m512i k = _mm512_set1_epi32(args.k);
  const __m512i acc_low = _mm512_set1_epi32(stage.acc_low), acc_high = _mm512_set1_epi32(stage.acc_high);
  const __m512 out_low = _mm512_set1_ps(stage.out_low), out_high = _mm512_set1_ps(stage.out_high);
  for (int n0 = 0; n0 < args.n; n0 += 16) {
    const __mmask16 mask = TailMask(args.n - n0);
    const ChannelConstants constants = LoadChannelConstants(stage, args.c0 + n0, mask);
    for (int m = 0; m < args.rows; ++m) {
      const std::int32_t* correction = args.corrections[m] ? args.corrections[m] + args.c0 : nullptr;
      const __m512i a = ClampedConv(args.popcounts + m * kNr, correction, n0, mask, k, acc_low, acc_high);
      store(m, n0, mask, TransformedFloat(a, constants, out_low, out_high));
    }
  }
}

void OutputFloat(const OutputTileArgs& args, const OutputStage& stage) {
  float* out = static_cast<float*>(args.out);
  ForEachFloatGroup(args, stage, [&](int m, int n0, __mmask16 mask, __m512 y) {
    _mm512_mask_storeu_ps(out + m * args.out_stride + n0, mask, y);
  });
}

void OutputInt8(const OutputTileArgs& args, const OutputStage& stage) {
  std::int8_t* out = static_cast<std::int8_t*>(args.out);
  const __m512 scale = _mm512_set1_ps(stage.int8_scale);
  const __m512i zero_point = _mm512_set1_epi32(stage.int8_zero_point);
  ForEachFloatGroup(args, stage, [&](int m, int n0, __mmask16 mask, __m512 y) {
    // Round half away from zero as RoundToInt8: truncate, then step by the exact fraction.
    __m512 v = _mm512_div_ps(y, scale);
    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);  // NaN -> 0
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-1024.0f)), _mm512_set1_ps(1024.0f));
    __m512i i = _mm512_cvttps_epi32(v);
    const __m512 fraction = _mm512_sub_ps(v, _mm512_cvtepi32_ps(i));
    const __m512i one = _mm512_set1_epi32(1);
    i = _mm512_mask_add_epi32(i, _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(0.5f), _CMP_GE_OQ), i, one);
    i = _mm512_mask_sub_epi32(i, _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(-0.5f), _CMP_LE_OQ), i, one);
    i = _mm512_add_epi32(i, zero_point);
    i = _mm512_min_epi32(_mm512_max_epi32(i, _mm512_set1_epi32(-128)), _mm512_set1_epi32(127));
    _mm512_mask_cvtepi32_storeu_epi8(out + m * args.out_stride + n0, mask, i);
  });
}

void OutputBits(const OutputTileArgs& args, const OutputStage& stage) {
  auto* out = static_cast<std::uint32_t*>(args.out);
  const std::int32_t* thresholds = stage.thresholds.data() + args.c0;
  const __mmask16 mask0 = TailMask(args.n), mask1 = TailMask(args.n - 16);
  const __m512i t0 = _mm512_maskz_loadu_epi32(mask0, thresholds);
  const __m512i t1 = args.n > 16 ? _mm512_maskz_loadu_epi32(mask1, thresholds + 16) : _mm512_setzero_si512();
  for (int m = 0; m < args.rows; ++m) {
    const std::int32_t* popcounts = args.popcounts + m * kNr;
    const std::uint32_t low = _mm512_mask_cmpgt_epi32_mask(mask0, _mm512_loadu_si512(popcounts), t0);
    const std::uint32_t high = args.n > 16 ? _mm512_mask_cmpgt_epi32_mask(mask1, _mm512_loadu_si512(popcounts + 16), t1) : 0u;
    out[m * args.out_stride] = low | high << 16;
  }
}

}  // namespace

const BGemmKernels* BGemmKernelsAvx512() {
  static_assert(kNr == kBitsPerWord, "OutputBits writes one word per pixel");
  static const BGemmKernels kernels = {"avx512", kMr, kNr, PopcountTile, OutputFloat, OutputInt8, OutputBits};
  return &kernels;
}

}  // namespace lc
