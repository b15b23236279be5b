// Run-time choice of the binary GEMM kernels by CPU features (and LARQ_COMPUTE_KERNEL).
#include <cstdlib>

#include "runtime/core/bgemm.h"
#include "runtime/core/cpu_features.h"

namespace lc {

#if defined(__aarch64__)
const BGemmKernels* BGemmKernelsNeon();
#endif

bool ParseIsaVariant(const std::string& name, IsaVariant* variant) {
  static const struct {
    const char* name;
    IsaVariant variant;
  } kNames[] = {{"auto", IsaVariant::kAuto},
                {"portable", IsaVariant::kPortable},
                {"avx2", IsaVariant::kAvx2},
                {"avx512", IsaVariant::kAvx512},
                {"neon", IsaVariant::kNeon}};
  for (const auto& entry : kNames) {
    if (name == entry.name) {
      *variant = entry.variant;
      return true;
    }
  }
  return false;
}

const char* IsaVariantName(IsaVariant variant) {
  switch (variant) {
    case IsaVariant::kAuto: return "auto";
    case IsaVariant::kPortable: return "portable";
    case IsaVariant::kAvx2: return "avx2";
    case IsaVariant::kAvx512: return "avx512";
    case IsaVariant::kNeon: return "neon";
  }
  return "unknown";
}

namespace {

// Null with *error set when the build lacks the variant or the CPU cannot run it.
const BGemmKernels* KernelsIfUsable(IsaVariant variant, std::string* error) {
  const CpuFeatures& cpu = GetCpuFeatures();
  const BGemmKernels* (*getter)() = nullptr;
  bool cpu_ok = true;
  switch (variant) {
    case IsaVariant::kPortable: getter = &BGemmKernelsPortable; break;
#if defined(__x86_64__)
    case IsaVariant::kAvx2: getter = &BGemmKernelsAvx2; cpu_ok = cpu.avx2; break;
    case IsaVariant::kAvx512: getter = &BGemmKernelsAvx512; cpu_ok = cpu.avx512_vpopcntdq; break;
#endif
#if defined(__aarch64__)
    case IsaVariant::kNeon: getter = &BGemmKernelsNeon; cpu_ok = cpu.neon; break;
#endif
    default: break;
  }
  const std::string name = IsaVariantName(variant);
  if (getter == nullptr) {
    *error = "kernel variant '" + name + "' is not built into this library";
    return nullptr;
  }
  if (!cpu_ok) {
    *error = "kernel variant '" + name + "' is not supported by this CPU";
    return nullptr;
  }
  return getter();
}

}  // namespace

const BGemmKernels* SelectBGemmKernels(IsaVariant variant, std::string* error) {
  if (variant == IsaVariant::kAuto) {
    const char* forced = std::getenv("LARQ_COMPUTE_KERNEL");
    if (forced != nullptr && *forced != '\0') {
      if (!ParseIsaVariant(forced, &variant)) {
        *error = std::string("LARQ_COMPUTE_KERNEL='") + forced +
                 "' is not one of auto, portable, avx2, avx512, neon";
        return nullptr;
      }
    }
  }
  if (variant != IsaVariant::kAuto) return KernelsIfUsable(variant, error);
  std::string ignored;
  for (IsaVariant best : {IsaVariant::kAvx512, IsaVariant::kAvx2, IsaVariant::kNeon}) {
    if (const BGemmKernels* kernels = KernelsIfUsable(best, &ignored)) return kernels;
  }
  return BGemmKernelsPortable();
}

std::vector<std::string> UsableIsaVariants() {
  std::vector<std::string> names;
  for (IsaVariant v : {IsaVariant::kPortable, IsaVariant::kAvx2, IsaVariant::kAvx512, IsaVariant::kNeon}) {
    std::string error;
    if (KernelsIfUsable(v, &error) != nullptr) names.push_back(IsaVariantName(v));
  }
  return names;
}

}  // namespace lc
