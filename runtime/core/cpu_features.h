// CPU feature detection used to pick kernel variants at run time.
#pragma once

#include <string>
#include <vector>

namespace lc {

struct CpuFeatures {
  bool avx2 = false;             // AVX2 + FMA + POPCNT (x86-64)
  bool avx512_vpopcntdq = false; // AVX-512 F/BW/VL + VPOPCNTDQ (x86-64)
  bool amx_int8 = false;         // AMX tiles usable by this process (x86-64)
  bool neon = false;             // Advanced SIMD (always present on ARM64)
};

// Detected once; cheap to call afterwards.
const CpuFeatures& GetCpuFeatures();

// Names of the kernel ISA variants this build can run on this CPU, best last,
// e.g. {"portable", "avx2", "avx512"}.
std::vector<std::string> AvailableIsaVariants();

}  // namespace lc
