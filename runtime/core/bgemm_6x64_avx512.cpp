// AVX-512 binary GEMM micro-kernel: 6 pixels x 64 channels, VPOPCNTD on 32-bit K words.
// Channels sit in the 32-bit lanes (4 zmm of 16 channels per pixel), so each A word is broadcast
// once, there is no horizontal reduction, and the sums are already the int32 popcounts the output
// stage reads (no 64 -> 32-bit narrowing). 24 accumulators + 4 B vectors fit the 32 registers.
// Per 32-bit K word: 24 x (VPXORD, VPOPCNTD, VPADDD) on ports 0 and 5 -> 36 cycles for 24 x 512
// binary MACs (a ceiling of about 2/3 of the 512-bit/cycle popcount roofline). The A rows
// and tap offsets are registers and an address add, not per-tap pointer tables; 64 channels per
// tile halve the per-tile work (pointers, calls) of a 32-channel tile for 64+ channel layers.
#include <immintrin.h>

#include <limits>

#include "runtime/core/bgemm.h"

namespace lc {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 64;
constexpr int kVectors = kNr / 16;

// The first kRows (<= kMr) rows of the tile.
template <int kRows>
void PopcountRows(int taps, int words, const TBitpacked* const* a_rows,
                  const std::ptrdiff_t* tap_offsets, const std::uint64_t* b_storage,
                  std::int32_t* acc) {
  const auto* b = reinterpret_cast<const std::uint32_t*>(b_storage);  // 32-bit K words, bgemm.h
  __m512i sums[kRows][kVectors];
#pragma GCC unroll 8
  for (int m = 0; m < kRows; ++m) {
#pragma GCC unroll 4
    for (int j = 0; j < kVectors; ++j) sums[m][j] = _mm512_setzero_si512();
  }
  for (int t = 0; t < taps; ++t) {
    const std::ptrdiff_t offset = tap_offsets[t];
    for (int w = 0; w < words; ++w, b += kNr) {
      __m512i bv[kVectors];
#pragma GCC unroll 4
      for (int j = 0; j < kVectors; ++j) bv[j] = _mm512_loadu_si512(b + 16 * j);
#pragma GCC unroll 8
      for (int m = 0; m < kRows; ++m) {
        const __m512i x = _mm512_set1_epi32(a_rows[m][offset + w]);
#pragma GCC unroll 4
        for (int j = 0; j < kVectors; ++j) {
          sums[m][j] = _mm512_add_epi32(sums[m][j], _mm512_popcnt_epi32(_mm512_xor_si512(x, bv[j])));
        }
      }
    }
  }
  // 512-bit stores, so the output stage's 512-bit loads are forwarded from the store buffer.
#pragma GCC unroll 8
  for (int m = 0; m < kRows; ++m) {
#pragma GCC unroll 4
    for (int j = 0; j < kVectors; ++j) _mm512_storeu_si512(acc + m * kNr + 16 * j, sums[m][j]);
  }
}

void PopcountTile(int taps, int words, const TBitpacked* const* a_rows,
                  const std::ptrdiff_t* tap_offsets, const std::uint64_t* b, std::int32_t* acc) {
  PopcountRows<kMr>(taps, words, a_rows, tap_offsets, b, acc);
}

void PopcountPartialTile(int rows, int taps, int words, const TBitpacked* const* a_rows,
                         const std::ptrdiff_t* tap_offsets, const std::uint64_t* b,
                         std::int32_t* acc) {
  static_assert(kMr == 6, "one case per row count below MR");
  switch (rows) {
    case 1: return PopcountRows<1>(taps, words, a_rows, tap_offsets, b, acc);
    case 2: return PopcountRows<2>(taps, words, a_rows, tap_offsets, b, acc);
    case 3: return PopcountRows<3>(taps, words, a_rows, tap_offsets, b, acc);
    case 4: return PopcountRows<4>(taps, words, a_rows, tap_offsets, b, acc);
    case 5: return PopcountRows<5>(taps, words, a_rows, tap_offsets, b, acc);
    default: return PopcountRows<kMr>(taps, words, a_rows, tap_offsets, b, acc);
  }
}

// Output stages, 16 channels per step; the same numerics as bgemm_variant_common.h.

inline __mmask16 TailMask(int remaining) {
  if (remaining <= 0) return 0;
  return remaining >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << remaining) - 1);
}

// conv = k - 2 * popcount - correction, clamped to the accumulator activation's bounds if it has
// any. popcounts rows hold a full NR: an unmasked load, which (unlike a masked one) is forwarded
// from the micro-kernel's recent stores.
template <bool kClampAccumulator>
inline __m512i Accumulator(const std::int32_t* popcounts, const std::int32_t* correction, int n0,
                           __mmask16 mask, __m512i k, __m512i low, __m512i high) {
  __m512i conv = _mm512_sub_epi32(k, _mm512_slli_epi32(_mm512_loadu_si512(popcounts + n0), 1));
  if (correction) conv = _mm512_sub_epi32(conv, _mm512_maskz_loadu_epi32(mask, correction + n0));
  return kClampAccumulator ? _mm512_min_epi32(_mm512_max_epi32(conv, low), high) : conv;
}

// Channel constants of 16 output channels, loaded once per tile: float ones when every channel
// of the group is fma_exact (OutputStage), else double ones.
struct ChannelConstants {
  bool fma_exact;
  __m512 multiplier, bias;
  __m512d multiplier_low, multiplier_high, bias_low, bias_high;
};

inline __m512d WidenLow(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d WidenHigh(__m512 v) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

inline ChannelConstants LoadChannelConstants(const OutputStage& stage, int c, __mmask16 mask) {
  ChannelConstants constants;
  constants.multiplier = _mm512_maskz_loadu_ps(mask, stage.multiplier.data() + c);
  constants.bias = _mm512_maskz_loadu_ps(mask, stage.bias.data() + c);
  constants.fma_exact =
      !stage.fma_exact.empty() &&
      _mm_mask_cmpeq_epi8_mask(mask, _mm_maskz_loadu_epi8(mask, stage.fma_exact.data() + c),
                               _mm_setzero_si128()) == 0;
  if (!constants.fma_exact) {
    constants.multiplier_low = WidenLow(constants.multiplier);
    constants.multiplier_high = WidenHigh(constants.multiplier);
    constants.bias_low = WidenLow(constants.bias);
    constants.bias_high = WidenHigh(constants.bias);
  }
  return constants;
}

// float32(double(a) * multiplier + bias) (the product is exact, so fused or not is the same); a
// single float FMA where OutputStage::fma_exact proves it rounds the same.
inline __m512 Transformed(__m512i a, const ChannelConstants& c) {
  if (c.fma_exact) return _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), c.multiplier, c.bias);
  const __m512d low = _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(a)), c.multiplier_low, c.bias_low);
  const __m512d high = _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(a, 1)), c.multiplier_high, c.bias_high);
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(low)), _mm512_cvtpd_ps(high), 1);
}

// A tile's float y, pixel by pixel (so each pixel's outputs are stored in address order).
struct FloatRowArgs {
  int groups;                  // 16-channel groups: ceil(n / 16)
  __mmask16 masks[kVectors];   // the real channels of each group
};

template <bool kClampAccumulator, bool kClampOutput, typename Store>
inline void ForEachFloatRowOf(const OutputTileArgs& args, const OutputStage& stage, Store store) {
  const __m512i k = _mm512_set1_epi32(args.k);
  const __m512i acc_low = _mm512_set1_epi32(stage.acc_low), acc_high = _mm512_set1_epi32(stage.acc_high);
  const __m512 out_low = _mm512_set1_ps(stage.out_low), out_high = _mm512_set1_ps(stage.out_high);
  ChannelConstants constants[kVectors];
  FloatRowArgs row;
  row.groups = (args.n + 15) / 16;
  for (int j = 0; j < row.groups; ++j) {
    row.masks[j] = TailMask(args.n - 16 * j);
    constants[j] = LoadChannelConstants(stage, args.c0 + 16 * j, row.masks[j]);
  }
  // Locals: int8 stores may alias anything reached through args or stage.
  const int rows = args.rows, c0 = args.c0;
  const std::int32_t* const popcounts = args.popcounts;
  const std::int32_t* const* const corrections = args.corrections;
  for (int m = 0; m < rows; ++m) {
    const std::int32_t* correction = corrections[m] ? corrections[m] + c0 : nullptr;
    __m512 y[kVectors];
    for (int j = 0; j < row.groups; ++j) {
      const __m512i a = Accumulator<kClampAccumulator>(popcounts + m * kNr, correction, 16 * j,
                                                       row.masks[j], k, acc_low, acc_high);
      y[j] = Transformed(a, constants[j]);
      if (kClampOutput) y[j] = _mm512_min_ps(_mm512_max_ps(y[j], out_low), out_high);
    }
    store(m, row, y);
  }
}

// Calls store(m, row, y) with the float y[row.groups] of every pixel m; clamps only where an
// activation has bounds.
template <typename Store>
inline void ForEachFloatRow(const OutputTileArgs& args, const OutputStage& stage, Store store) {
  // (Limits, not a default OutputStage: no std:: code may be instantiated here, see bgemm.h.)
  using Int = std::numeric_limits<std::int32_t>;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const bool clamp_accumulator = stage.acc_low != Int::min() || stage.acc_high != Int::max();
  const bool clamp_output = stage.out_low != -kInf || stage.out_high != kInf;
  if (clamp_accumulator) {
    if (clamp_output) return ForEachFloatRowOf<true, true>(args, stage, store);
    return ForEachFloatRowOf<true, false>(args, stage, store);
  }
  if (clamp_output) return ForEachFloatRowOf<false, true>(args, stage, store);
  ForEachFloatRowOf<false, false>(args, stage, store);
}

void OutputFloat(const OutputTileArgs& args, const OutputStage& stage) {
  float* const out = static_cast<float*>(args.out);
  const std::ptrdiff_t out_stride = args.out_stride;
  ForEachFloatRow(args, stage, [=](int m, const FloatRowArgs& row, const __m512* y) {
    for (int j = 0; j < row.groups; ++j) _mm512_mask_storeu_ps(out + m * out_stride + 16 * j, row.masks[j], y[j]);
  });
}

void OutputFloatResidual(const OutputTileArgs& args, const OutputStage& stage) {
  float* const out = static_cast<float*>(args.out);
  const std::ptrdiff_t out_stride = args.out_stride;
  const float* const residual = args.residual;
  // y is final (clamped) before the add: one float32 add, as a separate ADD op would do, then
  // that op's fused activation (max(low, v): a NaN v stays NaN, as in ClampFloat). The masked
  // loads never touch the residual past the tile's channels.
  const __m512 low = _mm512_set1_ps(stage.residual_low), high = _mm512_set1_ps(stage.residual_high);
  ForEachFloatRow(args, stage, [=](int m, const FloatRowArgs& row, const __m512* y) {
    for (int j = 0; j < row.groups; ++j) {
      const std::ptrdiff_t offset = m * out_stride + 16 * j;
      const __m512 r = _mm512_maskz_loadu_ps(row.masks[j], residual + offset);
      const __m512 sum = _mm512_min_ps(high, _mm512_max_ps(low, _mm512_add_ps(y[j], r)));
      _mm512_mask_storeu_ps(out + offset, row.masks[j], sum);
    }
  });
}

// round_half_away(y / scale) of RoundToInt8 (bgemm_variant_common.h) plus the zero point, with
// the float32 division: truncate, then step by the exact fraction.
inline __m512i QuantizeExact(__m512 y, __m512 scale, __m512i zero_point) {
  __m512 v = _mm512_div_ps(y, scale);
  v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);  // NaN -> 0
  v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-1024.0f)), _mm512_set1_ps(1024.0f));
  __m512i i = _mm512_cvttps_epi32(v);
  const __m512 fraction = _mm512_sub_ps(v, _mm512_cvtepi32_ps(i));
  const __m512i one = _mm512_set1_epi32(1);
  i = _mm512_mask_add_epi32(i, _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(0.5f), _CMP_GE_OQ), i, one);
  i = _mm512_mask_sub_epi32(i, _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(-0.5f), _CMP_LE_OQ), i, one);
  return _mm512_add_epi32(i, zero_point);
}

// Lanes of `mask` whose v = fma(y, inverse, zero point) lies within kInt8TieMargin of a
// half-integer or is NaN or outside int32 (converted to INT32_MIN, far from v): only those need
// QuantizeExact instead of `nearest` (output_transform.h).
inline __mmask16 NearTies(__m512 v, __m512i nearest, __mmask16 mask) {
  const __m512 distance = _mm512_abs_ps(_mm512_sub_ps(v, _mm512_cvtepi32_ps(nearest)));
  return _mm512_mask_cmp_ps_mask(mask, distance, _mm512_set1_ps(0.5f - kInt8TieMargin), _CMP_NLT_UQ);
}

// Whether every real channel of the group starting at c is OutputStage::int8_exact.
inline bool Int8Exact(const OutputStage& stage, int c, __mmask16 mask) {
  return !stage.int8_exact.empty() &&
         _mm_mask_cmpeq_epi8_mask(mask, _mm_maskz_loadu_epi8(mask, stage.int8_exact.data() + c),
                                  _mm_setzero_si128()) == 0;
}

void OutputInt8(const OutputTileArgs& args, const OutputStage& stage) {
  std::int8_t* const out = static_cast<std::int8_t*>(args.out);
  const std::ptrdiff_t out_stride = args.out_stride;
  const __m512 scale = _mm512_set1_ps(stage.int8_scale);
  const __m512 inverse = _mm512_set1_ps(stage.int8_inverse_scale);
  const __m512 zero_point_float = _mm512_set1_ps(static_cast<float>(stage.int8_zero_point));
  const __m512i zero_point = _mm512_set1_epi32(stage.int8_zero_point);
  // 32-bit lanes of packs(packs(q0, q1), packs(q2, q3)) back in channel order.
  const __m512i unshuffle = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  bool exact[kVectors] = {};
  for (int j = 0; 16 * j < args.n; ++j) exact[j] = Int8Exact(stage, args.c0 + 16 * j, TailMask(args.n - 16 * j));
  ForEachFloatRow(args, stage, [=](int m, const FloatRowArgs& row, const __m512* y) {
    __m512i q[kVectors];
    for (int j = 0; j < row.groups; ++j) {
      const __m512 v = _mm512_fmadd_ps(y[j], inverse, zero_point_float);
      q[j] = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      if (exact[j]) continue;
      const __mmask16 suspect = NearTies(v, q[j], row.masks[j]);
      if (suspect) q[j] = _mm512_mask_mov_epi32(q[j], suspect, QuantizeExact(y[j], scale, zero_point));
    }
    std::int8_t* const pixel = out + m * out_stride;
    // The saturating narrowings are the clamp to [-128, 127].
    if (row.groups == kVectors && row.masks[kVectors - 1] == 0xffff) {
      const __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(q[0], q[1]), _mm512_packs_epi32(q[2], q[3]));
      _mm512_storeu_si512(pixel, _mm512_permutexvar_epi32(unshuffle, bytes));
    } else {
      for (int j = 0; j < row.groups; ++j) _mm512_mask_cvtsepi32_storeu_epi8(pixel + 16 * j, row.masks[j], q[j]);
    }
  });
}

void OutputBits(const OutputTileArgs& args, const OutputStage& stage) {
  auto* out = static_cast<std::uint32_t*>(args.out);
  const std::int32_t* thresholds = stage.thresholds.data() + args.c0;
  __m512i t[kVectors];
  __mmask16 masks[kVectors];
#pragma GCC unroll 4
  for (int j = 0; j < kVectors; ++j) {
    masks[j] = TailMask(args.n - 16 * j);
    t[j] = _mm512_maskz_loadu_epi32(masks[j], thresholds + 16 * j);
  }
  for (int m = 0; m < args.rows; ++m) {
    const std::int32_t* popcounts = args.popcounts + m * kNr;
    for (int w = 0; 32 * w < args.n; ++w) {
      const std::uint32_t low = _mm512_mask_cmpgt_epi32_mask(masks[2 * w], _mm512_loadu_si512(popcounts + 32 * w), t[2 * w]);
      const std::uint32_t high = _mm512_mask_cmpgt_epi32_mask(masks[2 * w + 1], _mm512_loadu_si512(popcounts + 32 * w + 16), t[2 * w + 1]);
      out[m * args.out_stride + w] = low | high << 16;
    }
  }
}

}  // namespace

const BGemmKernels* BGemmKernelsAvx512() {
  static_assert(kNr % kBitsPerWord == 0 && kMr <= kMaxTileRows && kNr <= kMaxTileChannels, "tile");
  static const BGemmKernels kernels = {"avx512", kMr, kNr, 32, PopcountTile, PopcountPartialTile,
                                       OutputFloat, OutputInt8, OutputBits, OutputFloatResidual};
  return &kernels;
}

}  // namespace lc
