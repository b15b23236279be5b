// NEON binary GEMM micro-kernel: 4 pixels x 8 channels (ARMv8-A Advanced SIMD, no extensions).
//
// One 128-bit register holds the 64-bit words of two channels (the packed B layout is
// channel-minor, so 8 channels are 4 consecutive registers). A pixel's 64-bit word is broadcast
// to both halves, and each (pixel, channel pair) costs three instructions per 128 binary MACs:
//   EOR (a ^ b), CNT (popcount per byte), UADALP (add byte pairs into 16-bit lanes).
// The 16 accumulators stay in registers for the whole K loop and are reduced to 32-bit channel
// sums once per tile, so the horizontal reduction a naive loop pays per word is paid per tile.
// Register use: 16 accumulators + 4 B + 4 broadcast A + temporaries, within the 32 NEON registers.
#include <arm_neon.h>

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

}  // namespace

const BGemmKernels* BGemmKernelsNeon() {
  static const BGemmKernels kernels = MakeBGemmKernels<kMr, kNr>("neon", PopcountTile);
  return &kernels;
}

}  // namespace lc
