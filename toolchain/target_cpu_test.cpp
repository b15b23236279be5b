// The cross toolchain must produce code for the CPU it claims, and run-time dispatch must see
// the features that CPU has. Under `--config=aarch64` this runs under qemu-aarch64.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "runtime/core/cpu_features.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace {

bool HasVariant(const std::string& name) {
  const auto names = lc::AvailableIsaVariants();
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(TargetCpu, PortableVariantAlwaysAvailable) { EXPECT_TRUE(HasVariant("portable")); }

#if defined(__aarch64__)
TEST(TargetCpu, Aarch64ReportsNeonAndNoX86Variants) {
  EXPECT_TRUE(lc::GetCpuFeatures().neon);
  EXPECT_TRUE(HasVariant("neon"));
  EXPECT_FALSE(HasVariant("avx2"));
  EXPECT_FALSE(HasVariant("avx512"));
}

TEST(TargetCpu, NeonByteCountMatchesScalarPopcount) {
  alignas(16) uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
  const uint8x16_t counts = vcntq_u8(vld1q_u8(bytes));
  int expected = 0;
  for (uint8_t b : bytes) expected += __builtin_popcount(b);
  EXPECT_EQ(vaddvq_u8(counts), expected);
}
#elif defined(__x86_64__)
TEST(TargetCpu, X86ReportsNoNeon) {
  EXPECT_FALSE(lc::GetCpuFeatures().neon);
  EXPECT_FALSE(HasVariant("neon"));
}
#endif

}  // namespace
