#include <immintrin.h>

#include <chrono>
#include <cstdint>

#include "runtime/core/cpu_features.h"
#include "runtime/core/popcount_roofline.h"

namespace lc {
namespace {

// 8 independent VPOPCNTQ chains: enough to cover the instruction's latency at one per cycle.
__attribute__((noinline)) std::uint64_t PopcountChains(std::int64_t iterations) {
  __m512i v[8];
  for (int i = 0; i < 8; ++i) v[i] = _mm512_set1_epi64(0x0123456789abcdefLL + i);
  for (std::int64_t n = 0; n < iterations; ++n) {
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      v[i] = _mm512_popcnt_epi64(v[i]);
      asm volatile("" : "+v"(v[i]));  // keep the chain: popcnt of a popcount is not folded
    }
  }
  __m512i sum = v[0];
  for (int i = 1; i < 8; ++i) sum = _mm512_add_epi64(sum, v[i]);
  return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(sum));
}

}  // namespace

double MeasureAvx512PopcountRoofline(double seconds) {
  if (!GetCpuFeatures().avx512_vpopcntdq) return 0.0;
  using Clock = std::chrono::steady_clock;
  std::int64_t iterations = 1 << 16;
  volatile std::uint64_t sink = 0;
  double best = 0.0;
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    const auto start = Clock::now();
    sink = sink + PopcountChains(iterations);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed < 1e-3) {
      iterations *= 2;
      continue;
    }
    const double rate = 8.0 * 512.0 * static_cast<double>(iterations) / elapsed;
    if (rate > best) best = rate;
  }
  return best;
}

}  // namespace lc
