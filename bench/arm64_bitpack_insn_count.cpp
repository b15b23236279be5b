// Workload for counting executed aarch64 instructions per packed value of the bit-packers under
// qemu (bench/arm64_bitpack_insn_count.py runs it with the insn_count plugin of
// toolchain/qemu_plugins).
//
//   arm64_bitpack_insn_count VARIANT DTYPE ROWS CHANNELS
//
// packs ROWS x CHANNELS values (DTYPE float or int8, random signs around the zero point 0) with
// the BitpackKernels of VARIANT ("portable" or "neon") and marks exactly that call as the counted
// region (hint #0x70 .. hint #0x71, no-ops on real CPUs). The result is checked against the
// portable packer before the program exits, so a count is never reported for a wrong result.
// Prints "values=<n>".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bgemm.h"
#include "runtime/core/bitpack.h"

namespace {

inline void RegionStart() { asm volatile("hint #0x70" ::: "memory"); }
inline void RegionStop() { asm volatile("hint #0x71" ::: "memory"); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s VARIANT float|int8 ROWS CHANNELS\n", argv[0]);
    return 2;
  }
  lc::IsaVariant variant;
  std::string error;
  const lc::BitpackKernels* kernels =
      lc::ParseIsaVariant(argv[1], &variant) ? lc::SelectBitpackKernels(variant, &error) : nullptr;
  if (kernels == nullptr) {
    std::fprintf(stderr, "unusable variant %s: %s\n", argv[1], error.c_str());
    return 2;
  }
  const std::string dtype = argv[2];
  const std::int64_t rows = std::atoll(argv[3]);
  const int channels = std::atoi(argv[4]);
  const std::size_t count = static_cast<std::size_t>(rows) * channels;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> x(count);
  std::vector<std::int8_t> q(count);
  for (std::size_t i = 0; i < count; ++i) {
    x[i] = normal(rng);
    q[i] = static_cast<std::int8_t>(static_cast<int>(rng() % 256) - 128);
  }
  const std::size_t words = static_cast<std::size_t>(rows) * lc::PackedSize(channels);
  std::vector<lc::TBitpacked> packed(words), expected(words);
  const lc::BitpackKernels* portable = lc::BitpackKernelsPortable();
  if (dtype == "float") {
    RegionStart();
    kernels->pack_float(x.data(), rows, channels, packed.data());
    RegionStop();
    portable->pack_float(x.data(), rows, channels, expected.data());
  } else if (dtype == "int8") {
    RegionStart();
    kernels->pack_int8(q.data(), rows, channels, 0, packed.data());
    RegionStop();
    portable->pack_int8(q.data(), rows, channels, 0, expected.data());
  } else {
    std::fprintf(stderr, "dtype must be float or int8, got %s\n", dtype.c_str());
    return 2;
  }
  if (packed != expected) {
    std::fprintf(stderr, "%s %s packing differs from the portable packer\n", argv[1], dtype.c_str());
    return 1;
  }
  std::printf("values=%zu\n", count);
  return 0;
}
