#include "runtime/core/popcount_roofline.h"

namespace lc {

#if !defined(__x86_64__)
// Only x86-64 builds have popcount_roofline_avx512.cpp.
double MeasureAvx512PopcountRoofline(double) { return 0.0; }
#endif

}  // namespace lc
