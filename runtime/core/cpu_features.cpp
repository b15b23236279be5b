#include "runtime/core/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

namespace lc {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
// AMX needs both the CPUID bit and the kernel's permission to use the tile state (Linux 5.16+).
bool RequestAmxPermission() {
#if defined(__linux__)
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

CpuFeatures Detect() {
  CpuFeatures f;
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("popcnt");
  f.avx512_vpopcntdq = f.avx2 && __builtin_cpu_supports("avx512f") &&
                       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                       __builtin_cpu_supports("avx512vpopcntdq");
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    const bool amx_tile = (edx >> 24) & 1u;
    const bool amx_int8 = (edx >> 25) & 1u;
    f.amx_int8 = amx_tile && amx_int8 && RequestAmxPermission();
  }
  return f;
}
#elif defined(__aarch64__)
CpuFeatures Detect() {
  CpuFeatures f;
  f.neon = true;
  return f;
}
#else
CpuFeatures Detect() { return CpuFeatures{}; }
#endif

}  // namespace

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

std::vector<std::string> AvailableIsaVariants() {
  const CpuFeatures& f = GetCpuFeatures();
  std::vector<std::string> names = {"portable"};
  if (f.avx2) names.push_back("avx2");
  if (f.avx512_vpopcntdq) names.push_back("avx512");
  if (f.neon) names.push_back("neon");
  return names;
}

}  // namespace lc
