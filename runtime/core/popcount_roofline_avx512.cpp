#include <immintrin.h>

#include <chrono>
#include <cstdint>

#include "runtime/core/cpu_features.h"
#include "runtime/core/popcount_roofline.h"

namespace lc {
namespace {

// 12 independent VPOPCNTQ chains: enough to cover latency 3 at two per cycle (Zen 5; one per
// cycle on Intel). Named locals, not an array: GCC kept an array of 8 chains on the stack, so
// every step paid a store-to-load round trip and the "roofline" came out at 30% of the real one.
#define LC_POPCOUNT_STEP(v)         \
  v = _mm512_popcnt_epi64(v);       \
  asm volatile("" : "+v"(v));  // keep the chain: popcnt of a popcount is not folded
__attribute__((noinline)) std::uint64_t PopcountChains(std::int64_t iterations) {
  __m512i v0 = _mm512_set1_epi64(1), v1 = _mm512_set1_epi64(2), v2 = _mm512_set1_epi64(3);
  __m512i v3 = _mm512_set1_epi64(4), v4 = _mm512_set1_epi64(5), v5 = _mm512_set1_epi64(6);
  __m512i v6 = _mm512_set1_epi64(7), v7 = _mm512_set1_epi64(8), v8 = _mm512_set1_epi64(9);
  __m512i v9 = _mm512_set1_epi64(10), v10 = _mm512_set1_epi64(11), v11 = _mm512_set1_epi64(12);
  for (std::int64_t n = 0; n < iterations; ++n) {
    LC_POPCOUNT_STEP(v0) LC_POPCOUNT_STEP(v1) LC_POPCOUNT_STEP(v2) LC_POPCOUNT_STEP(v3)
    LC_POPCOUNT_STEP(v4) LC_POPCOUNT_STEP(v5) LC_POPCOUNT_STEP(v6) LC_POPCOUNT_STEP(v7)
    LC_POPCOUNT_STEP(v8) LC_POPCOUNT_STEP(v9) LC_POPCOUNT_STEP(v10) LC_POPCOUNT_STEP(v11)
  }
  const __m512i sum = _mm512_add_epi64(
      _mm512_add_epi64(_mm512_add_epi64(_mm512_add_epi64(v0, v1), _mm512_add_epi64(v2, v3)),
                       _mm512_add_epi64(_mm512_add_epi64(v4, v5), _mm512_add_epi64(v6, v7))),
      _mm512_add_epi64(_mm512_add_epi64(v8, v9), _mm512_add_epi64(v10, v11)));
  return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(sum));
}
#undef LC_POPCOUNT_STEP
constexpr int kChains = 12;

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
    const double rate = kChains * 512.0 * static_cast<double>(iterations) / elapsed;
    if (rate > best) best = rate;
  }
  return best;
}

}  // namespace lc
