// AVX2 binary GEMM micro-kernel: 4 pixels x 8 channels. AVX2 has no vector popcount, so bytes are
// counted with the nibble lookup (VPSHUFB) into byte counters, summed into 64-bit lanes with
// VPSADBW every 31 steps; channels sit in the 64-bit lanes (2 ymm of 4 channels per pixel), as in
// the AVX-512 kernel.
#include <immintrin.h>

#include "runtime/core/bgemm.h"
#include "runtime/core/bgemm_variant_common.h"

namespace lc {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;
constexpr int kVectors = kNr / 4;

// A byte lane gains at most 8 per 64-bit step, so byte counters hold 31 steps before they are
// summed into the 64-bit lanes (VPSADBW). Deferring that sum saves one instruction per
// (pixel, 4 channels) and step; VPSADBW also competes with VPSHUFB for the shuffle port on Intel.
constexpr int kMaxStepsBetweenDrains = 255 / 8;

// Byte-wise popcounts of v (each byte 0..8).
inline __m256i PopcountBytes(__m256i v, __m256i lookup, __m256i low_nibbles) {
  const __m256i low = _mm256_and_si256(v, low_nibbles);
  const __m256i high = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lookup, low), _mm256_shuffle_epi8(lookup, high));
}

struct Counters {
  __m256i bytes[kMr][kVectors];  // per-byte counts since the last drain
  __m256i lanes[kMr][kVectors];  // 64-bit lane sums (channel order within a vector)
};

inline void Drain(Counters* c) {
  const __m256i zero = _mm256_setzero_si256();
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 2
    for (int j = 0; j < kVectors; ++j) {
      c->lanes[m][j] = _mm256_add_epi64(c->lanes[m][j], _mm256_sad_epu8(c->bytes[m][j], zero));
      c->bytes[m][j] = zero;
    }
  }
}

// One 64-bit K step: `x[m]` is pixel m's word broadcast, `b` the step's 8 channel words.
inline void Step(const __m256i (&x)[kMr], const std::uint64_t* b, __m256i lookup,
                 __m256i low_nibbles, Counters* c) {
  __m256i bv[kVectors];
#pragma GCC unroll 2
  for (int j = 0; j < kVectors; ++j) {
    bv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 4 * j));
  }
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 2
    for (int j = 0; j < kVectors; ++j) {
      c->bytes[m][j] = _mm256_add_epi8(
          c->bytes[m][j], PopcountBytes(_mm256_xor_si256(x[m], bv[j]), lookup, low_nibbles));
    }
  }
}

void PopcountTile(int taps, int words, const TBitpacked* const* a_rows,
                  const std::ptrdiff_t* tap_offsets, const std::uint64_t* b, std::int32_t* acc) {
  const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                          0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  Counters c;
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
#pragma GCC unroll 2
    for (int j = 0; j < kVectors; ++j) c.bytes[m][j] = c.lanes[m][j] = _mm256_setzero_si256();
  }
  const int full = words / 2;
  const bool odd = words & 1;
  int steps = 0;  // since the last drain
  for (int t = 0; t < taps; ++t) {
    const TBitpacked* rows[kMr];
#pragma GCC unroll 4
    for (int m = 0; m < kMr; ++m) rows[m] = a_rows[m] + tap_offsets[t];
    for (int w = 0; w < full + odd; ++w, b += kNr) {
      if (steps == kMaxStepsBetweenDrains) {
        Drain(&c);
        steps = 0;
      }
      ++steps;
      __m256i x[kMr];
#pragma GCC unroll 4
      for (int m = 0; m < kMr; ++m) {
        // Only `words` 32-bit words may be read: the last step of an odd count reads one (the
        // packed B word's high half is 0 there).
        const std::uint64_t word = w < full ? LoadWord64(rows[m] + 2 * w)
                                            : static_cast<std::uint32_t>(rows[m][2 * w]);
        x[m] = _mm256_set1_epi64x(static_cast<long long>(word));
      }
      Step(x, b, lookup, low_nibbles, &c);
    }
  }
  Drain(&c);
  // Pack the 64-bit lane sums of each pixel into 8 int32 (lane order = channel order).
#pragma GCC unroll 4
  for (int m = 0; m < kMr; ++m) {
    const __m256i packed = _mm256_permutevar8x32_epi32(
        _mm256_blend_epi32(c.lanes[m][0], _mm256_slli_epi64(c.lanes[m][1], 32), 0xaa),
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
