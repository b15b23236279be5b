// NEON binary GEMM micro-kernel: 4 pixels x 8 channels (ARMv8-A Advanced SIMD, no extensions).
//
// One 128-bit register holds the 64-bit words of two channels (the packed B layout is
// channel-minor, so 8 channels are 4 consecutive registers). A pixel's 64-bit word is broadcast
// to both halves, and each (pixel, channel pair) costs three instructions per 128 binary MACs:
//   EOR (a ^ b), CNT (popcount per byte), UADALP (add byte pairs into 16-bit lanes).
// The 16 accumulators stay in registers for the whole K loop and are reduced to 32-bit channel
// sums once per tile, so the horizontal reduction a naive loop pays per word is paid per tile.
// Register use: 16 accumulators + 4 B + 4 broadcast A + temporaries, within the 32 NEON registers.
//
// The output stages work on a tile row (8 channels) as two 4-lane vectors, with OutputStage's
// numerics bit for bit (bgemm_variant_common.h has the scalar twins the tests compare against).
#include <arm_neon.h>

#include <cstring>
#include <limits>
#include <vector>

#include "runtime/core/bgemm.h"
#include "runtime/core/bgemm_variant_common.h"

namespace lc {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;
constexpr int kPairs = kNr / 2;
// A 16-bit lane gains at most 16 per step (two bytes of at most 8 bits each): 4095 steps fit.
constexpr int kMaxStepsBetweenDrains = 65535 / 16;

struct Accumulators {
  uint16x8_t lanes[kMr][kPairs];
};

inline void Zero(Accumulators* acc) {
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 4
    for (int j = 0; j < kPairs; ++j) acc->lanes[m][j] = vdupq_n_u16(0);
  }
}

// One K step of 64 bits for the whole tile.
inline void Step(const uint64x2_t (&x)[kMr], const std::uint64_t* b, Accumulators* acc) {
  uint64x2_t bv[kPairs];
#pragma GCC unroll 4
  for (int j = 0; j < kPairs; ++j) bv[j] = vld1q_u64(b + 2 * j);
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 4
    for (int j = 0; j < kPairs; ++j) {
      const uint8x16_t bits = vreinterpretq_u8_u64(veorq_u64(x[m], bv[j]));
      acc->lanes[m][j] = vpadalq_u8(acc->lanes[m][j], vcntq_u8(bits));
    }
  }
}

// Two packed words of a pixel (4-byte aligned; AArch64 loads accept that) as one 64-bit value in
// both halves, advancing the pointer: one LD1R with post-increment. (GCC 12 turns
// vld1q_dup_u64 into LDR + DUP and indexes the rows, one more instruction per pixel and step.)
typedef std::uint64_t __attribute__((may_alias, aligned(4))) UnalignedWord64;
inline uint64x2_t BroadcastWord64AndAdvance(const TBitpacked*& p) {
  uint64x2_t v;
  asm("ld1r {%0.2d}, [%1], #8"
      : "=w"(v), "+r"(p)
      : "m"(*reinterpret_cast<const UnalignedWord64*>(p)));
  return v;
}

// Adds the tile's channel sums to sums[m * kNr ..] and clears the accumulators. Lanes 0-3 of
// lanes[m][j] count channel 2j, lanes 4-7 channel 2j + 1. The sums live in memory: registers
// are reserved for the K loop.
inline void Drain(Accumulators* acc, std::int32_t* sums) {
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const uint32x4_t lo = vpaddlq_u16(acc->lanes[m][2 * h]);
      const uint32x4_t hi = vpaddlq_u16(acc->lanes[m][2 * h + 1]);
      std::int32_t* dst = sums + m * kNr + 4 * h;  // channels 4h .. 4h + 3
      vst1q_s32(dst, vaddq_s32(vld1q_s32(dst), vreinterpretq_s32_u32(vpaddq_u32(lo, hi))));
    }
  }
  Zero(acc);
}

// Adds the tile's popcounts to sums (kMr x kNr).
void AccumulateTile(int taps, int words, const TBitpacked* const* a_rows,
                    const std::ptrdiff_t* tap_offsets, const std::uint64_t* b, std::int32_t* sums) {
  const int full = words / 2;
  const bool odd = words & 1;
  const int tap_steps = full + odd;
  if (tap_steps > kMaxStepsBetweenDrains) {
    // Segments longer than 4095 * 64 bits: split every tap into shorter segments (B's words of
    // a tap are consecutive groups of kNr, so a segment's B starts kNr words later per step).
    constexpr int kChunkWords = 2 * kMaxStepsBetweenDrains;
    const std::ptrdiff_t no_offset = 0;
    for (int t = 0; t < taps; ++t) {
      for (int w0 = 0; w0 < words; w0 += kChunkWords) {
        const TBitpacked* rows[kMr];
        for (int m = 0; m < kMr; ++m) rows[m] = a_rows[m] + tap_offsets[t] + w0;
        const int chunk = words - w0 < kChunkWords ? words - w0 : kChunkWords;
        AccumulateTile(1, chunk, rows, &no_offset,
                       b + (static_cast<std::size_t>(t) * tap_steps + w0 / 2) * kNr, sums);
      }
    }
    return;
  }

  Accumulators acc;
  Zero(&acc);
  int steps = 0;  // since the last drain
  for (int t = 0; t < taps; ++t) {
    if (steps + tap_steps > kMaxStepsBetweenDrains) {
      Drain(&acc, sums);
      steps = 0;
    }
    steps += tap_steps;
    const TBitpacked* rows[kMr];
#pragma GCC unroll 4
    for (int m = 0; m < kMr; ++m) rows[m] = a_rows[m] + tap_offsets[t];
    for (int w = 0; w < full; ++w, b += kNr) {
      uint64x2_t x[kMr];
#pragma GCC unroll 4
      for (int m = 0; m < kMr; ++m) x[m] = BroadcastWord64AndAdvance(rows[m]);
      Step(x, b, &acc);
    }
    if (odd) {
      // Only `words` 32-bit words may be read; the packed B word's high half is 0 here.
      uint64x2_t x[kMr];
#pragma GCC unroll 4
      for (int m = 0; m < kMr; ++m) x[m] = vdupq_n_u64(static_cast<std::uint32_t>(rows[m][0]));
      Step(x, b, &acc);
      b += kNr;
    }
  }
  Drain(&acc, sums);
}

void PopcountTile(int taps, int words, const TBitpacked* const* a_rows,
                  const std::ptrdiff_t* tap_offsets, const std::uint64_t* b, std::int32_t* acc) {
  alignas(16) std::int32_t sums[kMr * kNr] = {};
  AccumulateTile(taps, words, a_rows, tap_offsets, b, sums);
  for (int i = 0; i < kMr * kNr; ++i) acc[i] = sums[i];
}

// ---- Output stages ----

// The stage's arrays end at the real channel count, so a partial last block (n < kNr) reads its
// values through a copy padded with `fill`; a full block reads them in place.
template <typename T>
inline const T* Padded(const T* values, int n, T fill, T (&copy)[kNr]) {
  if (n == kNr) return values;
  for (int i = 0; i < kNr; ++i) copy[i] = i < n ? values[i] : fill;
  return copy;
}

// Whether flags[c0 .. c0 + n) (OutputStage::fma_exact / int8_exact) are all set; false if empty.
inline bool AllFlagged(const std::vector<std::uint8_t>& flags, int c0, int n) {
  if (flags.empty()) return false;
  const std::uint8_t* f = flags.data() + c0;
  if (n == kNr) {
    std::uint64_t all;
    std::memcpy(&all, f, sizeof(all));
    return all == 0x0101010101010101u;
  }
  bool all = true;
  for (int i = 0; i < n; ++i) all = all && f[i];
  return all;
}

// The float transform of one block in registers: conv = k - 2 * popcount - correction, the
// integer clamp, y = float32(double(a) * multiplier + bias) (one float FMA when kFma: the block's
// channels are all OutputStage::fma_exact), the output clamp. The clamps are compiled in only
// where an activation has bounds. Stage functions keep it in a local (never behind a pointer the
// output stores could alias), so its vectors stay in registers across the row loop.
template <bool kClampAccumulator, bool kClampOutput, bool kFma>
struct Transform {
  int32x4_t k, acc_low, acc_high;
  float32x4_t out_low, out_high;
  float32x4_t multiplier[2], bias[2];          // channels 0-3 and 4-7 of the block
  float64x2_t multiplier_wide[4], bias_wide[4];  // !kFma: the same as pairs of doubles

  Transform(const OutputTileArgs& args, const OutputStage& stage)
      : k(vdupq_n_s32(args.k)), acc_low(vdupq_n_s32(stage.acc_low)), acc_high(vdupq_n_s32(stage.acc_high)),
        out_low(vdupq_n_f32(stage.out_low)), out_high(vdupq_n_f32(stage.out_high)) {
    float multiplier_copy[kNr], bias_copy[kNr];
    const float* m = Padded(stage.multiplier.data() + args.c0, args.n, 0.0f, multiplier_copy);
    const float* b = Padded(stage.bias.data() + args.c0, args.n, 0.0f, bias_copy);
    for (int h = 0; h < 2; ++h) {
      multiplier[h] = vld1q_f32(m + 4 * h);
      bias[h] = vld1q_f32(b + 4 * h);
      if (!kFma) {
        multiplier_wide[2 * h] = vcvt_f64_f32(vget_low_f32(multiplier[h]));
        multiplier_wide[2 * h + 1] = vcvt_high_f64_f32(multiplier[h]);
        bias_wide[2 * h] = vcvt_f64_f32(vget_low_f32(bias[h]));
        bias_wide[2 * h + 1] = vcvt_high_f64_f32(bias[h]);
      }
    }
  }

  // y of channels 4h .. 4h + 3 of a row (correction: null, or the row's kNr corrections).
  float32x4_t Y(int h, const std::int32_t* popcounts, const std::int32_t* correction) const {
    int32x4_t a = vsubq_s32(k, vshlq_n_s32(vld1q_s32(popcounts + 4 * h), 1));
    if (correction != nullptr) a = vsubq_s32(a, vld1q_s32(correction + 4 * h));
    if (kClampAccumulator) a = vminq_s32(vmaxq_s32(a, acc_low), acc_high);
    float32x4_t y;
    if (kFma) {
      y = vfmaq_f32(bias[h], vcvtq_f32_s32(a), multiplier[h]);
    } else {
      // |a| is at most about 2K, far below 2^29, so double(a) * multiplier is exact (at most 53
      // significant bits) and fused or not is the same.
      const float64x2_t low = vfmaq_f64(bias_wide[2 * h], vcvtq_f64_s64(vmovl_s32(vget_low_s32(a))),
                                        multiplier_wide[2 * h]);
      const float64x2_t high = vfmaq_f64(bias_wide[2 * h + 1], vcvtq_f64_s64(vmovl_high_s32(a)),
                                         multiplier_wide[2 * h + 1]);
      y = vcvt_high_f32_f64(vcvt_f32_f64(low), high);
    }
    if (kClampOutput) {
      // Compare and select, as ClampFloat: -0 and NaN pass through (FMAX(-0, +0) is +0, FMAXNM
      // turns NaN into the bound).
      y = vbslq_f32(vcltq_f32(y, out_low), out_low, y);
      y = vbslq_f32(vcgtq_f32(y, out_high), out_high, y);
    }
    return y;
  }
};

// Calls fn(m) for the tile's rows, unrolled for a full tile.
template <typename Fn>
__attribute__((always_inline)) inline void ForEachRow(int rows, Fn fn) {
  if (rows == kMr) {
#pragma GCC unroll 4
    for (int m = 0; m < kMr; ++m) fn(m);
  } else {
    for (int m = 0; m < rows; ++m) fn(m);
  }
}

// A full-width stage; row m's corrections start at args.corrections[m] + correction_offset.
using StageRun = void (*)(const OutputTileArgs&, const OutputStage&, std::ptrdiff_t correction_offset);

// Runs a full-width stage (kNr values per row: correction rows and outputs) on a block of n < kNr
// channels: the corrections through padded copies, the outputs into a local tile whose first n
// values per row are then copied out.
template <typename T>
void RunPartialBlock(StageRun run, const OutputTileArgs& args, const OutputStage& stage) {
  std::int32_t corrections[kMr][kNr];
  const std::int32_t* correction_rows[kMaxTileRows] = {};
  T values[kMr][kNr];
  OutputTileArgs local = args;
  for (int m = 0; m < args.rows; ++m) {
    if (args.corrections[m] != nullptr) correction_rows[m] = Padded(args.corrections[m] + args.c0, args.n, 0, corrections[m]);
  }
  local.corrections = correction_rows;
  local.out = values;
  local.out_stride = kNr;
  run(local, stage, 0);
  T* const out = static_cast<T*>(args.out);
  for (int m = 0; m < args.rows; ++m) {
    for (int i = 0; i < args.n; ++i) out[m * args.out_stride + i] = values[m][i];
  }
}

// Runs Stage<clamp accumulator, clamp output, fma>::Run for this block; T: the output type.
template <template <bool, bool, bool> class Stage, typename T>
inline void Dispatch(const OutputTileArgs& args, const OutputStage& stage) {
  using Int = std::numeric_limits<std::int32_t>;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  static constexpr StageRun kRuns[8] = {
      Stage<false, false, false>::Run, Stage<false, false, true>::Run, Stage<false, true, false>::Run,
      Stage<false, true, true>::Run,   Stage<true, false, false>::Run, Stage<true, false, true>::Run,
      Stage<true, true, false>::Run,   Stage<true, true, true>::Run};
  const bool clamp_accumulator = stage.acc_low != Int::min() || stage.acc_high != Int::max();
  const bool clamp_output = stage.out_low != -kInf || stage.out_high != kInf;
  const bool fma = AllFlagged(stage.fma_exact, args.c0, args.n);
  const StageRun run = kRuns[4 * clamp_accumulator + 2 * clamp_output + fma];
  if (args.n == kNr) return run(args, stage, args.c0);
  RunPartialBlock<T>(run, args, stage);
}

// Stages below see full-width blocks (kNr outputs per row, readable correction rows); their
// tile arguments are copied into locals, which output stores cannot alias.
template <bool kClampAccumulator, bool kClampOutput, bool kFma>
struct FloatStage {
  static void Run(const OutputTileArgs& args, const OutputStage& stage, std::ptrdiff_t correction_offset) {
    const Transform<kClampAccumulator, kClampOutput, kFma> transform(args, stage);
    float* const out = static_cast<float*>(args.out);
    const std::ptrdiff_t out_stride = args.out_stride;
    const std::int32_t* const popcounts = args.popcounts;
    const std::int32_t* const* const corrections = args.corrections;
    ForEachRow(args.rows, [&](int m) {
      const std::int32_t* correction = corrections[m] ? corrections[m] + correction_offset : nullptr;
      vst1q_f32(out + m * out_stride, transform.Y(0, popcounts + m * kNr, correction));
      vst1q_f32(out + m * out_stride + 4, transform.Y(1, popcounts + m * kNr, correction));
    });
  }
};

// The residual (OutputTransform::residual): added to the tile's outputs just stored, while they
// are in L1, so y and its clamp are final before the one float32 add; then the residual clamp
// (compare and select, as ClampFloat).
void AddResidual(const OutputTileArgs& args, const OutputStage& stage) {
  float* const out = static_cast<float*>(args.out);
  const float* const residual = args.residual;
  const std::ptrdiff_t stride = args.out_stride;
  if (args.n != kNr) {
    for (int m = 0; m < args.rows; ++m) {
      for (int i = 0; i < args.n; ++i) {
        out[m * stride + i] = ClampFloat(out[m * stride + i] + residual[m * stride + i], stage.residual_low,
                                         stage.residual_high);
      }
    }
    return;
  }
  const float32x4_t low = vdupq_n_f32(stage.residual_low), high = vdupq_n_f32(stage.residual_high);
  ForEachRow(args.rows, [&](int m) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      float* const pixel = out + m * stride + 4 * h;
      float32x4_t v = vaddq_f32(vld1q_f32(pixel), vld1q_f32(residual + m * stride + 4 * h));
      v = vbslq_f32(vcltq_f32(v, low), low, v);
      v = vbslq_f32(vcgtq_f32(v, high), high, v);
      vst1q_f32(pixel, v);
    }
  });
}

void OutputFloat(const OutputTileArgs& args, const OutputStage& stage) { Dispatch<FloatStage, float>(args, stage); }

void OutputFloatResidual(const OutputTileArgs& args, const OutputStage& stage) {
  Dispatch<FloatStage, float>(args, stage);
  AddResidual(args, stage);
}

// Int8 through the inverse scale (output_transform.h): v = fma(y, inverse, zero point) rounded
// to nearest (FCVTNS) and narrowed with saturation (SQXTN), which is q except where v lies
// within kInt8TieMargin of a half-integer, is NaN or leaves int32; one test per tile finds such
// lanes, and only then are the tile's rows walked again to redo them with the division
// (RoundToInt8). Blocks whose channels are all OutputStage::int8_exact skip the test when the
// inverse scale is a number: int8_exact proves q' (NaN / outside int32 -> INT32_MIN) equal to q,
// and with a finite inverse such a channel never makes v NaN or >= 2^31 (q would be 127 there,
// q' -128), the only inputs where FCVTNS (NaN -> 0, saturating) differs from q'.
template <bool kClampAccumulator, bool kClampOutput, bool kFma>
struct Int8Stage {
  using BlockTransform = Transform<kClampAccumulator, kClampOutput, kFma>;

  struct Constants {
    float32x4_t inverse, zero_point, tie_limit;
  };

  // The row's outputs; with kTieTest, ok[h] has all-ones lanes where nearest(v) is q.
  template <bool kTieTest>
  static int8x8_t Quantize(const BlockTransform& transform, const Constants& c, const std::int32_t* popcounts,
                           const std::int32_t* correction, uint32x4_t (&ok)[2]) {
    int32x4_t nearest[2];
    for (int h = 0; h < 2; ++h) {
      const float32x4_t v = vfmaq_f32(c.zero_point, transform.Y(h, popcounts, correction), c.inverse);
      nearest[h] = vcvtnq_s32_f32(v);
      // |v - nearest| < 0.5 - margin: false for NaN, and far from true outside int32.
      if (kTieTest) ok[h] = vcltq_f32(vabdq_f32(v, vcvtq_f32_s32(nearest[h])), c.tie_limit);
    }
    return vqmovn_s16(vcombine_s16(vqmovn_s32(nearest[0]), vqmovn_s32(nearest[1])));
  }

  template <bool kTieTest>
  static void RunOf(const OutputTileArgs& args, const OutputStage& stage, std::ptrdiff_t correction_offset) {
    const BlockTransform transform(args, stage);
    const Constants c = {vdupq_n_f32(stage.int8_inverse_scale), vdupq_n_f32(static_cast<float>(stage.int8_zero_point)),
                         vdupq_n_f32(0.5f - kInt8TieMargin)};
    std::int8_t* const out = static_cast<std::int8_t*>(args.out);
    const std::ptrdiff_t out_stride = args.out_stride;
    const std::int32_t* const popcounts = args.popcounts;
    const std::int32_t* const* const corrections = args.corrections;
    const int rows = args.rows;
    uint32x4_t tile_ok = vdupq_n_u32(~0u);
    ForEachRow(rows, [&](int m) {
      const std::int32_t* correction = corrections[m] ? corrections[m] + correction_offset : nullptr;
      uint32x4_t ok[2];
      vst1_s8(out + m * out_stride, Quantize<kTieTest>(transform, c, popcounts + m * kNr, correction, ok));
      if (kTieTest) tile_ok = vandq_u32(tile_ok, vandq_u32(ok[0], ok[1]));
    });
    if (!kTieTest || vminvq_u32(tile_ok) != 0) return;
    const float scale = stage.int8_scale;
    const int zero_point = stage.int8_zero_point;
    for (int m = 0; m < rows; ++m) {
      const std::int32_t* correction = corrections[m] ? corrections[m] + correction_offset : nullptr;
      uint32x4_t ok_lanes[2];
      Quantize<true>(transform, c, popcounts + m * kNr, correction, ok_lanes);
      std::uint32_t ok[kNr];
      float y[kNr];
      for (int h = 0; h < 2; ++h) {
        vst1q_u32(ok + 4 * h, ok_lanes[h]);
        vst1q_f32(y + 4 * h, transform.Y(h, popcounts + m * kNr, correction));
      }
      for (int i = 0; i < kNr; ++i) {
        if (!ok[i]) out[m * out_stride + i] = RoundToInt8(y[i] / scale, zero_point);
      }
    }
  }

  static void Run(const OutputTileArgs& args, const OutputStage& stage, std::ptrdiff_t correction_offset) {
    const bool skip_tie_test = stage.int8_inverse_scale == stage.int8_inverse_scale &&
                               AllFlagged(stage.int8_exact, args.c0, args.n);
    if (skip_tie_test) return RunOf<false>(args, stage, correction_offset);
    RunOf<true>(args, stage, correction_offset);
  }
};

void OutputInt8(const OutputTileArgs& args, const OutputStage& stage) {
  Dispatch<Int8Stage, std::int8_t>(args, stage);
}

// Bit = popcount > threshold: per row two compares, each lane ANDed with its bit's weight, and
// one ADDV. Thresholds of a partial block are padded with INT32_MAX (bit 0).
void OutputBits(const OutputTileArgs& args, const OutputStage& stage) {
  static_assert(kNr <= kBitsPerWord, "one output word per row");
  std::int32_t threshold_copy[kNr];
  const std::int32_t* thresholds =
      Padded(stage.thresholds.data() + args.c0, args.n, std::numeric_limits<std::int32_t>::max(), threshold_copy);
  const int32x4_t t0 = vld1q_s32(thresholds), t1 = vld1q_s32(thresholds + 4);
  constexpr std::uint32_t kWeights[kNr] = {1, 2, 4, 8, 16, 32, 64, 128};
  const uint32x4_t w0 = vld1q_u32(kWeights), w1 = vld1q_u32(kWeights + 4);
  auto* const out = static_cast<std::uint32_t*>(args.out);
  const std::ptrdiff_t out_stride = args.out_stride;
  const std::int32_t* const popcounts = args.popcounts;
  ForEachRow(args.rows, [&](int m) {
    const std::int32_t* p = popcounts + m * kNr;
    const uint32x4_t low = vandq_u32(vcgtq_s32(vld1q_s32(p), t0), w0);
    const uint32x4_t high = vandq_u32(vcgtq_s32(vld1q_s32(p + 4), t1), w1);
    out[m * out_stride] = vaddvq_u32(vorrq_u32(low, high));
  });
}

}  // namespace

const BGemmKernels* BGemmKernelsNeon() {
  static const BGemmKernels kernels = {"neon", kMr, kNr, 64, PopcountTile, nullptr,
                                       OutputFloat, OutputInt8, OutputBits, OutputFloatResidual};
  return &kernels;
}

}  // namespace lc
