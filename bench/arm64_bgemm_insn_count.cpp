// Workload for counting executed aarch64 instructions per binary MAC under qemu
// (bench/arm64_insn_count.py runs it with the insn_count plugin of toolchain/qemu_plugins).
//
//   arm64_bgemm_insn_count VARIANT PIXELS CHANNELS TAPS WORDS
//
// computes the XOR-popcount GEMM of PIXELS x CHANNELS outputs over K = TAPS * WORDS * 32 bits and
// marks exactly that computation as the counted region (hint #0x70 .. hint #0x71, no-ops on real
// CPUs). VARIANT is a micro-kernel of runtime/core ("neon", "portable", through the BGemmKernels
// table as the driver calls it) or a baseline written here:
//   naive-popcount   per output: per 64-bit word XOR, CNT, ADDV (what __builtin_popcountll
//                    compiles to on ARMv8-A) into a scalar sum
//   naive-vector     per output: per 128 bits XOR, CNT, UADALP, one reduction per output
// Every variant's popcounts are checked against naive-popcount's before the program exits, so a
// count is never reported for a wrong result. Prints "macs=<n>".
#include <arm_neon.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bgemm.h"

namespace {

inline void RegionStart() { asm volatile("hint #0x70" ::: "memory"); }
inline void RegionStop() { asm volatile("hint #0x71" ::: "memory"); }

struct Problem {
  int pixels, channels, taps, words;
  // Row-major operands, K bits contiguous per pixel / per channel: [pixels][taps][words] and
  // [channels][taps][words] 32-bit words (words even, so every segment is whole 64-bit words).
  std::vector<std::int32_t> a, b;
  int KWords64() const { return taps * words / 2; }
};

std::vector<std::int32_t> NaivePopcount(const Problem& p, bool counted) {
  std::vector<std::int32_t> out(static_cast<std::size_t>(p.pixels) * p.channels);
  const int k64 = p.KWords64();
  const auto* a = reinterpret_cast<const std::uint64_t*>(p.a.data());
  const auto* b = reinterpret_cast<const std::uint64_t*>(p.b.data());
  if (counted) RegionStart();
  for (int m = 0; m < p.pixels; ++m) {
    for (int n = 0; n < p.channels; ++n) {
      std::uint32_t sum = 0;
      for (int w = 0; w < k64; ++w) {
        sum += vaddv_u8(vcnt_u8(vcreate_u8(a[m * k64 + w] ^ b[n * k64 + w])));
      }
      out[m * p.channels + n] = static_cast<std::int32_t>(sum);
    }
  }
  if (counted) RegionStop();
  return out;
}

std::vector<std::int32_t> NaiveVector(const Problem& p) {
  std::vector<std::int32_t> out(static_cast<std::size_t>(p.pixels) * p.channels);
  const int k64 = p.KWords64();
  const auto* a = reinterpret_cast<const std::uint64_t*>(p.a.data());
  const auto* b = reinterpret_cast<const std::uint64_t*>(p.b.data());
  RegionStart();
  for (int m = 0; m < p.pixels; ++m) {
    for (int n = 0; n < p.channels; ++n) {
      const std::uint64_t* x = a + m * k64;
      const std::uint64_t* y = b + n * k64;
      uint16x8_t acc = vdupq_n_u16(0);
      for (int w = 0; w < k64; w += 2) {
        acc = vpadalq_u8(acc, vcntq_u8(vreinterpretq_u8_u64(veorq_u64(vld1q_u64(x + w),
                                                                      vld1q_u64(y + w)))));
      }
      out[m * p.channels + n] = static_cast<std::int32_t>(vaddlvq_u16(acc));
    }
  }
  RegionStop();
  return out;
}

// The micro-kernel as the driver (bgemm_driver.h) calls it: B packed once (outside the region),
// A passed as per-pixel row pointers and per-tap offsets, one popcount_tile call per (pixel tile,
// channel block).
std::vector<std::int32_t> MicroKernel(const Problem& p, const lc::BGemmKernels& k) {
  const int mr = k.mr, nr = k.nr, w64 = p.words / 2;
  const int tiles = p.pixels / mr, blocks = p.channels / nr;
  std::vector<std::uint64_t> packed(static_cast<std::size_t>(blocks) * p.taps * w64 * nr);
  for (int blk = 0; blk < blocks; ++blk) {
    for (int t = 0; t < p.taps; ++t) {
      for (int w = 0; w < w64; ++w) {
        for (int n = 0; n < nr; ++n) {
          const std::int32_t* col = &p.b[((blk * nr + n) * p.taps + t) * p.words + 2 * w];
          packed[((static_cast<std::size_t>(blk) * p.taps + t) * w64 + w) * nr + n] =
              static_cast<std::uint32_t>(col[0]) |
              static_cast<std::uint64_t>(static_cast<std::uint32_t>(col[1])) << 32;
        }
      }
    }
  }
  // A pixel's taps follow each other: row m of a tile is its first tap, tap t is t * words later.
  std::vector<const lc::TBitpacked*> rows(static_cast<std::size_t>(tiles) * mr);
  for (int pixel = 0; pixel < tiles * mr; ++pixel) rows[pixel] = &p.a[static_cast<std::size_t>(pixel) * p.taps * p.words];
  std::vector<std::ptrdiff_t> tap_offsets(p.taps);
  for (int t = 0; t < p.taps; ++t) tap_offsets[t] = static_cast<std::ptrdiff_t>(t) * p.words;
  std::vector<std::int32_t> acc(static_cast<std::size_t>(tiles) * blocks * mr * nr);
  RegionStart();
  for (int tile = 0; tile < tiles; ++tile) {
    for (int blk = 0; blk < blocks; ++blk) {
      k.popcount_tile(p.taps, p.words, &rows[static_cast<std::size_t>(tile) * mr], tap_offsets.data(),
                      &packed[static_cast<std::size_t>(blk) * p.taps * w64 * nr],
                      &acc[(static_cast<std::size_t>(tile) * blocks + blk) * mr * nr]);
    }
  }
  RegionStop();
  std::vector<std::int32_t> out(static_cast<std::size_t>(p.pixels) * p.channels);
  for (int tile = 0; tile < tiles; ++tile) {
    for (int blk = 0; blk < blocks; ++blk) {
      for (int m = 0; m < mr; ++m) {
        for (int n = 0; n < nr; ++n) {
          out[(tile * mr + m) * p.channels + blk * nr + n] =
              acc[((static_cast<std::size_t>(tile) * blocks + blk) * mr + m) * nr + n];
        }
      }
    }
  }
  return out;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "arm64_bgemm_insn_count: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    return Fail("usage: arm64_bgemm_insn_count naive-popcount|naive-vector|neon|portable "
                "PIXELS CHANNELS TAPS WORDS");
  }
  const std::string variant = argv[1];
  Problem p{std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]), {}, {}};
  if (p.pixels <= 0 || p.channels <= 0 || p.taps <= 0 || p.words <= 0 || p.words % 2 != 0) {
    return Fail("PIXELS, CHANNELS, TAPS must be positive and WORDS positive and even");
  }
  std::mt19937 rng(7);
  p.a.resize(static_cast<std::size_t>(p.pixels) * p.taps * p.words);
  p.b.resize(static_cast<std::size_t>(p.channels) * p.taps * p.words);
  for (auto& v : p.a) v = static_cast<std::int32_t>(rng());
  for (auto& v : p.b) v = static_cast<std::int32_t>(rng());

  std::vector<std::int32_t> result;
  if (variant == "naive-popcount") {
    result = NaivePopcount(p, true);
  } else if (variant == "naive-vector") {
    result = NaiveVector(p);
  } else {
    lc::IsaVariant isa;
    if (!lc::ParseIsaVariant(variant, &isa) || isa == lc::IsaVariant::kAuto) {
      return Fail("unknown variant '" + variant + "'");
    }
    std::string error;
    const lc::BGemmKernels* kernels = lc::SelectBGemmKernels(isa, &error);
    if (kernels == nullptr) return Fail(error);
    if (p.pixels % kernels->mr != 0 || p.channels % kernels->nr != 0) {
      return Fail("PIXELS and CHANNELS must be multiples of the " + variant + " tile (" +
                  std::to_string(kernels->mr) + "x" + std::to_string(kernels->nr) + ")");
    }
    result = MicroKernel(p, *kernels);
  }
  if (result != NaivePopcount(p, false)) return Fail(variant + " disagrees with naive-popcount");
  std::printf("macs=%lld\n",
              static_cast<long long>(p.pixels) * p.channels * p.taps * p.words * 32);
  return 0;
}
