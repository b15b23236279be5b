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

// The float y of OutputStage for one channel.
inline float TransformOne(std::int32_t popcount, std::int32_t correction, int k, int c,
                          const OutputStage& stage) {
  const std::int32_t conv = k - 2 * popcount - correction;
  const std::int32_t a = ClampInt(conv, stage.acc_low, stage.acc_high);
  const float y = static_cast<float>(static_cast<double>(a) * stage.multiplier[c] + stage.bias[c]);
  return ClampFloat(y, stage.out_low, stage.out_high);
}

// Popcount rows are kTileStride (the variant's NR) apart.
template <int kTileStride>
void OutputFloatTile(const OutputTileArgs& args, const OutputStage& stage) {
  for (int m = 0; m < args.rows; ++m) {
    const std::int32_t* popcounts = args.popcounts + m * kTileStride;
    const std::int32_t* correction = args.corrections[m] ? args.corrections[m] + args.c0 : nullptr;
    float* out = static_cast<float*>(args.out) + m * args.out_stride;
    for (int n = 0; n < args.n; ++n) {
      out[n] = TransformOne(popcounts[n], correction ? correction[n] : 0, args.k, args.c0 + n, stage);
    }
  }
}

// Popcount rows are kTileStride (the variant's NR) apart.
template <int kTileStride>
void OutputInt8Tile(const OutputTileArgs& args, const OutputStage& stage) {
  for (int m = 0; m < args.rows; ++m) {
    const std::int32_t* popcounts = args.popcounts + m * kTileStride;
    const std::int32_t* correction = args.corrections[m] ? args.corrections[m] + args.c0 : nullptr;
    std::int8_t* out = static_cast<std::int8_t*>(args.out) + m * args.out_stride;
    for (int n = 0; n < args.n; ++n) {
      const float y = TransformOne(popcounts[n], correction ? correction[n] : 0, args.k, args.c0 + n, stage);
      out[n] = RoundToInt8(y / stage.int8_scale, stage.int8_zero_point);
    }
  }
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
  return {name, kMr, kNr, 64, tile, nullptr, OutputFloatTile<kNr>, OutputInt8Tile<kNr>, OutputBitsTile<kNr>};
}

}  // namespace
}  // namespace lc
