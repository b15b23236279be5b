// The popcount roofline the benchmarks report against: binary MACs per second this core reaches
// with nothing but independent 512-bit VPOPCNTQ instructions (one MAC per bit). Measured rather
// than derived from a nominal clock, so it reflects the actual frequency and machine load.
#pragma once

namespace lc {

// Measures for about `seconds`; returns 0 when the CPU or build lacks AVX-512 VPOPCNTDQ.
double MeasureAvx512PopcountRoofline(double seconds);

}  // namespace lc
