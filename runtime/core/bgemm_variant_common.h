// What every kernel variant file shares: unaligned 64-bit A loads, portable output stages and the
// table constructor. Included by each variant file so the loops are compiled (and
// auto-vectorized) under that file's ISA flags; everything here has internal linkage on purpose
// (see the ODR caution in bgemm.h).
#pragma once

#include <cstdint>
#include <cstring>

#include "runtime/core/bgemm.h"

namespace lc {
namespace {

// Two consecutive 32-bit words of a bit-packed row as one 64-bit word (word 2w in the low half).
inline std::uint64_t LoadWord64(const TBitpacked* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline std::int32_t ClampInt(std::int32_t v, std::int32_t low, std::int32_t high) {
  return v < low ? low : (v > high ? high : v);
}

inline float ClampFloat(float v, float low, float high) {
  v = v < low ? low : v;
  return v > high ? high : v;
}

// clamp(round_half_away(v) + zero_point, -128, 127), NaN -> zero point; branch-free integer code
// (libm's roundf would block vectorization). Clamping v to +-1024 first cannot change the result.
inline std::int8_t RoundToInt8(float v, int zero_point) {
  v = v != v ? 0.0f : ClampFloat(v, -1024.0f, 1024.0f);
  std::int32_t i = static_cast<std::int32_t>(v);  // truncates toward zero
  const float fraction = v - static_cast<float>(i);  // exact
  i += (fraction >= 0.5f) - (fraction <= -0.5f);
  return static_cast<std::int8_t>(ClampInt(i + zero_point, -128, 127));
}

// Whether this file's target has a hardware float FMA (then fma_exact channels use it).
#ifdef __FP_FAST_FMAF
constexpr bool kFastFma = true;
#else
constexpr bool kFastFma = false;
#endif

// True when one float FMA gives y for every channel of [c0, c0 + n) (OutputStage::fma_exact) and
// this target has one.
inline bool UseFma(const OutputStage& stage, int c0, int n) {
  if (!kFastFma || stage.fma_exact.empty()) return false;
  bool all = true;
  for (int i = 0; i < n; ++i) all = all && stage.fma_exact[c0 + i];
  return all;
}

// OutputStage's float numerics for one tile, copied into locals: int8 stores may alias anything
// reached through a reference, which would reload every field per element and block
// vectorization.
struct TileTransform {
  const float* multiplier;  // at the tile's first channel
  const float* bias;
  std::int32_t k, acc_low, acc_high;
  float out_low, out_high;

  TileTransform(const OutputTileArgs& args, const OutputStage& stage)
      : multiplier(stage.multiplier.data() + args.c0), bias(stage.bias.data() + args.c0), k(args.k),
        acc_low(stage.acc_low), acc_high(stage.acc_high), out_low(stage.out_low), out_high(stage.out_high) {}

  // The float y of the tile's channel n; kFma: a tile UseFma allows.
  template <bool kFma>
  float Y(std::int32_t popcount, std::int32_t correction, int n) const {
    const std::int32_t a = ClampInt(k - 2 * popcount - correction, acc_low, acc_high);
    const float y = kFma ? __builtin_fmaf(static_cast<float>(a), multiplier[n], bias[n])
                         : static_cast<float>(static_cast<double>(a) * multiplier[n] + bias[n]);
    return ClampFloat(y, out_low, out_high);
  }
};

// The correction row of pixels without one (all zero), so the loops below need no branch.
constexpr std::int32_t kNoCorrection[kMaxTileChannels] = {};

// Calls row(popcounts, correction, out) for every pixel of the tile (popcount rows are
// kTileStride, the variant's NR, apart).
template <int kTileStride, typename T, typename Row>
inline void ForEachRow(const OutputTileArgs& args, Row row) {
  const int rows = args.rows, c0 = args.c0;
  const std::ptrdiff_t out_stride = args.out_stride;
  const std::int32_t* const popcounts = args.popcounts;
  const std::int32_t* const* const corrections = args.corrections;
  T* const out = static_cast<T*>(args.out);
  for (int m = 0; m < rows; ++m) {
    const std::int32_t* correction = corrections[m] ? corrections[m] + c0 : kNoCorrection;
    row(popcounts + m * kTileStride, correction, out + m * out_stride);
  }
}

template <int kTileStride, bool kFma>
void OutputFloatTileOf(const OutputTileArgs& args, const OutputStage& stage) {
  const TileTransform transform(args, stage);
  const int count = args.n;
  ForEachRow<kTileStride, float>(args, [=](const std::int32_t* popcounts, const std::int32_t* correction,
                                           float* out) {
    for (int n = 0; n < count; ++n) {
      out[n] = transform.Y<kFma>(popcounts[n], correction[n], n);
    }
  });
}

template <int kTileStride>
void OutputFloatTile(const OutputTileArgs& args, const OutputStage& stage) {
  if (UseFma(stage, args.c0, args.n)) return OutputFloatTileOf<kTileStride, true>(args, stage);
  OutputFloatTileOf<kTileStride, false>(args, stage);
}

template <int kTileStride, bool kFma>
void OutputFloatResidualTileOf(const OutputTileArgs& args, const OutputStage& stage) {
  const TileTransform transform(args, stage);
  const int count = args.n;
  // The residual row of a pixel sits at the same offset from args.residual as its output row
  // from args.out.
  const float* const residual = args.residual;
  const float* const out0 = static_cast<const float*>(args.out);
  const float residual_low = stage.residual_low, residual_high = stage.residual_high;
  ForEachRow<kTileStride, float>(args, [=](const std::int32_t* popcounts, const std::int32_t* correction,
                                           float* out) {
    const float* const r = residual + (out - out0);
    // y is final (clamped) before the add: one float32 add, as a separate ADD op would do, then
    // that op's fused activation.
    for (int n = 0; n < count; ++n) {
      out[n] = ClampFloat(transform.Y<kFma>(popcounts[n], correction[n], n) + r[n], residual_low, residual_high);
    }
  });
}

template <int kTileStride>
void OutputFloatResidualTile(const OutputTileArgs& args, const OutputStage& stage) {
  if (UseFma(stage, args.c0, args.n)) return OutputFloatResidualTileOf<kTileStride, true>(args, stage);
  OutputFloatResidualTileOf<kTileStride, false>(args, stage);
}

// Int8 without the division (output_transform.h): nearest to v = y * inverse + zero point, except
// where v is NaN, huge or within kInt8TieMargin of a half-integer; those take RoundToInt8(y / scale)
// in a second pass, so the first stays branch-free.
template <int kTileStride, bool kFma>
void OutputInt8TileOf(const OutputTileArgs& args, const OutputStage& stage) {
  const TileTransform transform(args, stage);
  const int count = args.n;
  const float scale = stage.int8_scale, inverse = stage.int8_inverse_scale;
  const int zero_point = stage.int8_zero_point;
  const float zero_point_float = static_cast<float>(zero_point);
  // Adding and subtracting 1.5 * 2^23 rounds a float of magnitude below 2^22 to the nearest
  // integer (ties to even), without libm.
  constexpr float kRound = 12582912.0f;
  ForEachRow<kTileStride, std::int8_t>(args, [=](const std::int32_t* popcounts, const std::int32_t* correction,
                                                 std::int8_t* out) {
    std::uint8_t suspect[kTileStride];
    std::uint8_t any_suspect = 0;
    for (int n = 0; n < count; ++n) {
      const float y = transform.Y<kFma>(popcounts[n], correction[n], n);
      const float v = ClampFloat(kFma ? __builtin_fmaf(y, inverse, zero_point_float) : y * inverse + zero_point_float,
                                 -2048.0f, 2048.0f);  // NaN stays NaN
      const float nearest = (v + kRound) - kRound;
      const float distance = __builtin_fabsf(v - nearest);
      const bool near_tie = !(distance < 0.5f - kInt8TieMargin);  // NaN too
      suspect[n] = near_tie;
      any_suspect |= near_tie;
      const std::int32_t i = static_cast<std::int32_t>(near_tie ? 0.0f : nearest);
      out[n] = static_cast<std::int8_t>(ClampInt(i, -128, 127));
    }
    if (!any_suspect) return;
    for (int n = 0; n < count; ++n) {
      if (suspect[n]) out[n] = RoundToInt8(transform.Y<false>(popcounts[n], correction[n], n) / scale, zero_point);
    }
  });
}

template <int kTileStride>
void OutputInt8Tile(const OutputTileArgs& args, const OutputStage& stage) {
  if (UseFma(stage, args.c0, args.n)) return OutputInt8TileOf<kTileStride, true>(args, stage);
  OutputInt8TileOf<kTileStride, false>(args, stage);
}

// Popcount rows are kTileStride (the variant's NR) apart.
template <int kTileStride>
void OutputBitsTile(const OutputTileArgs& args, const OutputStage& stage) {
  const std::int32_t* thresholds = stage.thresholds.data() + args.c0;
  for (int m = 0; m < args.rows; ++m) {
    const std::int32_t* popcounts = args.popcounts + m * kTileStride;
    std::uint32_t* out = static_cast<std::uint32_t*>(args.out) + m * args.out_stride;
    for (int w = 0; w * kBitsPerWord < args.n; ++w) {
      std::uint32_t bits = 0;
      for (int j = 0; j < kBitsPerWord && w * kBitsPerWord + j < args.n; ++j) {
        const int n = w * kBitsPerWord + j;
        bits |= std::uint32_t{popcounts[n] > thresholds[n]} << j;
      }
      out[w] = bits;
    }
  }
}

// The table of a variant with the 64-bit B layout whose output stages are the portable ones above.
template <int kMr, int kNr>
BGemmKernels MakeBGemmKernels(const char* name, decltype(BGemmKernels::popcount_tile) tile) {
  static_assert(kMr <= kMaxTileRows && kNr <= kMaxTileChannels && kNr % 8 == 0, "tile too large");
  return {name, kMr, kNr, 64, tile, nullptr, OutputFloatTile<kNr>, OutputInt8Tile<kNr>, OutputBitsTile<kNr>,
          OutputFloatResidualTile<kNr>};
}

}  // namespace
}  // namespace lc
