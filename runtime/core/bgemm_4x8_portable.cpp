// Portable C++ binary GEMM micro-kernel: a 4-pixel x 8-channel tile, scalar 64-bit popcounts.
// The fallback on any CPU and the structure the ISA variants follow.
#include "runtime/core/bgemm.h"
#include "runtime/core/bgemm_variant_common.h"

namespace lc {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;

void PopcountTile(int taps, int words, const TBitpacked* const* a_rows,
                  const std::ptrdiff_t* tap_offsets, const std::uint64_t* b, std::int32_t* acc) {
  std::int32_t sums[kMr][kNr] = {};
  const int full = words / 2;
  for (int t = 0; t < taps; ++t) {
    const TBitpacked* rows[kMr];
    for (int m = 0; m < kMr; ++m) rows[m] = a_rows[m] + tap_offsets[t];
    for (int w = 0; w < full; ++w, b += kNr) {
      for (int m = 0; m < kMr; ++m) {
        const std::uint64_t x = LoadWord64(rows[m] + 2 * w);
        for (int n = 0; n < kNr; ++n) sums[m][n] += __builtin_popcountll(x ^ b[n]);
      }
    }
    if (words & 1) {
      for (int m = 0; m < kMr; ++m) {
        const std::uint64_t x = static_cast<std::uint32_t>(rows[m][words - 1]);
        for (int n = 0; n < kNr; ++n) sums[m][n] += __builtin_popcountll(x ^ b[n]);
      }
      b += kNr;
    }
  }
  for (int m = 0; m < kMr; ++m) {
    for (int n = 0; n < kNr; ++n) acc[m * kNr + n] = sums[m][n];
  }
}

}  // namespace

const BGemmKernels* BGemmKernelsPortable() {
  static const BGemmKernels kernels = MakeBGemmKernels<kMr, kNr>("portable", PopcountTile);
  return &kernels;
}

}  // namespace lc
