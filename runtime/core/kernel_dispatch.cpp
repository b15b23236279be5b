// Run-time choice of the binary GEMM and bit-packing kernels by CPU features (and LARQ_COMPUTE_KERNEL).
#include <cstdlib>

#include "runtime/core/bgemm.h"
#include "runtime/core/bitpack.h"
#include "runtime/core/cpu_features.h"

namespace lc {

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

// The getters of one kernel family's variants; null for a variant this architecture never builds.
template <typename Kernels>
struct VariantGetters {
  const Kernels* (*portable)();
  const Kernels* (*avx2)();
  const Kernels* (*avx512)();
  const Kernels* (*neon)();
};

#if defined(__x86_64__)
constexpr VariantGetters<BGemmKernels> kBGemmGetters = {&BGemmKernelsPortable, &BGemmKernelsAvx2,
                                                        &BGemmKernelsAvx512, nullptr};
constexpr VariantGetters<BitpackKernels> kBitpackGetters = {
    &BitpackKernelsPortable, &BitpackKernelsAvx2, &BitpackKernelsAvx512, nullptr};
#elif defined(__aarch64__)
constexpr VariantGetters<BGemmKernels> kBGemmGetters = {&BGemmKernelsPortable, nullptr, nullptr,
                                                        &BGemmKernelsNeon};
constexpr VariantGetters<BitpackKernels> kBitpackGetters = {&BitpackKernelsPortable, nullptr,
                                                            nullptr, &BitpackKernelsNeon};
#else
constexpr VariantGetters<BGemmKernels> kBGemmGetters = {&BGemmKernelsPortable, nullptr, nullptr,
                                                        nullptr};
constexpr VariantGetters<BitpackKernels> kBitpackGetters = {&BitpackKernelsPortable, nullptr,
                                                            nullptr, nullptr};
#endif

// Null with *error set when the build lacks the variant or the CPU cannot run it.
template <typename Kernels>
const Kernels* KernelsIfUsable(const VariantGetters<Kernels>& getters, IsaVariant variant,
                               std::string* error) {
  const CpuFeatures& cpu = GetCpuFeatures();
  const Kernels* (*getter)() = nullptr;
  bool cpu_ok = true;
  switch (variant) {
    case IsaVariant::kPortable: getter = getters.portable; break;
    case IsaVariant::kAvx2: getter = getters.avx2; cpu_ok = cpu.avx2; break;
    case IsaVariant::kAvx512: getter = getters.avx512; cpu_ok = cpu.avx512_vpopcntdq; break;
    case IsaVariant::kNeon: getter = getters.neon; cpu_ok = cpu.neon; break;
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

template <typename Kernels>
const Kernels* SelectKernels(const VariantGetters<Kernels>& getters, IsaVariant variant,
                             std::string* error) {
  bool from_environment = false;
  if (variant == IsaVariant::kAuto) {
    const char* forced = std::getenv("LARQ_COMPUTE_KERNEL");
    if (forced != nullptr && *forced != '\0') {
      from_environment = true;
      if (!ParseIsaVariant(forced, &variant)) {
        *error = std::string("LARQ_COMPUTE_KERNEL='") + forced +
                 "' is not one of auto, portable, avx2, avx512, neon";
        return nullptr;
      }
    }
  }
  if (variant != IsaVariant::kAuto) {
    const Kernels* kernels = KernelsIfUsable(getters, variant, error);
    if (kernels == nullptr && from_environment) *error += " (forced by LARQ_COMPUTE_KERNEL)";
    return kernels;
  }
  std::string ignored;
  for (IsaVariant best : {IsaVariant::kAvx512, IsaVariant::kAvx2, IsaVariant::kNeon}) {
    if (const Kernels* kernels = KernelsIfUsable(getters, best, &ignored)) return kernels;
  }
  return getters.portable();
}

}  // namespace

const BGemmKernels* SelectBGemmKernels(IsaVariant variant, std::string* error) {
  return SelectKernels(kBGemmGetters, variant, error);
}

bool ResolveBGemmVariant(IsaVariant* variant, std::string* error) {
  const BGemmKernels* kernels = SelectBGemmKernels(*variant, error);
  return kernels != nullptr && ParseIsaVariant(kernels->name, variant);
}

const BitpackKernels* SelectBitpackKernels(IsaVariant variant, std::string* error) {
  return SelectKernels(kBitpackGetters, variant, error);
}

std::vector<std::string> UsableIsaVariants() {
  std::vector<std::string> names;
  for (IsaVariant v : {IsaVariant::kPortable, IsaVariant::kAvx2, IsaVariant::kAvx512, IsaVariant::kNeon}) {
    std::string error;
    if (KernelsIfUsable(kBGemmGetters, v, &error) != nullptr) names.push_back(IsaVariantName(v));
  }
  return names;
}

}  // namespace lc
