// Workload for counting executed aarch64 instructions per binary MAC, or per output of an output
// stage, under qemu (bench/arm64_insn_count.py runs it with the insn_count plugin of
// toolchain/qemu_plugins).
//
//   arm64_bgemm_insn_count VARIANT PIXELS CHANNELS TAPS WORDS [STAGE]
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
//
// STAGE (float, int8 or bits; VARIANT neon or portable) counts the variant's output stage
// instead: the GEMM runs uncounted, then the marked region calls the stage once per (pixel tile,
// channel block) as bgemm_driver.h does, with BN-like multipliers and biases (some negative),
// int8 scale 6/255 and zero point -3, thresholds around K / 2, and OutputStage marked at K as
// BConv2D marks it (int8-tested: int8 without OutputStage::int8_exact, so every block takes the
// tie test, as blocks with a channel the proof fails for do). The outputs are checked against
// the portable stage's (the reference twin) before the program exits. STAGE none runs the same calls into an empty function: the loop's
// own cost, which bench/arm64_insn_count.py subtracts. Prints "outputs=<n>".
#include <arm_neon.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bgemm.h"
#include "runtime/core/output_transform.h"

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
// channel block). Returns the tiles' popcounts, tile-major ([tiles][blocks][MR][NR]).
std::vector<std::int32_t> MicroKernelTiles(const Problem& p, const lc::BGemmKernels& k, bool counted) {
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
  if (counted) RegionStart();
  for (int tile = 0; tile < tiles; ++tile) {
    for (int blk = 0; blk < blocks; ++blk) {
      k.popcount_tile(p.taps, p.words, &rows[static_cast<std::size_t>(tile) * mr], tap_offsets.data(),
                      &packed[static_cast<std::size_t>(blk) * p.taps * w64 * nr],
                      &acc[(static_cast<std::size_t>(tile) * blocks + blk) * mr * nr]);
    }
  }
  if (counted) RegionStop();
  return acc;
}

std::vector<std::int32_t> MicroKernel(const Problem& p, const lc::BGemmKernels& k) {
  const int mr = k.mr, nr = k.nr;
  const int tiles = p.pixels / mr, blocks = p.channels / nr;
  const std::vector<std::int32_t> acc = MicroKernelTiles(p, k, true);
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

// The output stage of the fused transform as BConv2D sets it up (OutputStage::Make, then marked
// at K), for `type`.
lc::OutputStage MakeStage(const Problem& p, lc::OutputType type, bool int8_exact, std::mt19937* rng) {
  const int k = p.taps * p.words * 32;
  std::vector<float> multiplier(p.channels), bias(p.channels);
  std::vector<std::int32_t> thresholds(p.channels);
  // Folded batch norms: |y| of a few units over the accumulator's spread (sqrt(K)).
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_int_distribution<int> around_half(k / 2 - 16, k / 2 + 16);
  for (int c = 0; c < p.channels; ++c) {
    multiplier[c] = (c % 4 == 3 ? -1.0f : 1.0f) * (0.5f + unit(*rng) * 0.4f) / std::sqrt(static_cast<float>(k));
    bias[c] = unit(*rng);
    thresholds[c] = around_half(*rng);
  }
  lc::OutputTransform t;
  t.type = type;
  t.multiplier = multiplier.data();
  t.bias = bias.data();
  t.int8_scale = 6.0f / 255;
  t.int8_zero_point = -3;
  t.thresholds = thresholds.data();
  lc::OutputStage stage;
  const std::string error = lc::OutputStage::Make(t, p.channels, p.channels, &stage);
  if (!error.empty()) {
    std::fprintf(stderr, "arm64_bgemm_insn_count: %s\n", error.c_str());
    std::exit(2);
  }
  stage.MarkFmaExact(k);
  if (int8_exact) stage.MarkInt8Exact(k);
  return stage;
}

// The bytes `kernels`' output stage writes for the tiles' popcounts (`acc` of MicroKernelTiles),
// as the driver calls it: float / int8 rows of `channels` values, bit-packed tiles into the
// driver's [kMaxTileRows][kMaxTileChannels / 32] words buffer, one per (tile, block).
std::vector<std::uint8_t> RunStage(const Problem& p, const lc::BGemmKernels& kernels, const lc::OutputStage& stage,
                                   const std::vector<std::int32_t>& acc, bool counted) {
  const int mr = kernels.mr, nr = kernels.nr, k = p.taps * p.words * 32;
  const int tiles = p.pixels / mr, blocks = p.channels / nr;
  constexpr int kBitsStride = lc::kMaxTileChannels / lc::kBitsPerWord;
  const std::size_t value_bytes = stage.type == lc::OutputType::kFloat ? sizeof(float) : 1;
  const std::size_t bytes = stage.type == lc::OutputType::kBitpacked
                                ? static_cast<std::size_t>(tiles) * blocks * lc::kMaxTileRows * kBitsStride * 4
                                : static_cast<std::size_t>(p.pixels) * p.channels * value_bytes;
  std::vector<std::uint8_t> out(bytes);
  const std::int32_t* const corrections[lc::kMaxTileRows] = {};
  if (counted) RegionStart();
  for (int tile = 0; tile < tiles; ++tile) {
    for (int blk = 0; blk < blocks; ++blk) {
      lc::OutputTileArgs args = {&acc[(static_cast<std::size_t>(tile) * blocks + blk) * mr * nr],
                                 mr, k, blk * nr, nr, corrections, nullptr, p.channels, nullptr};
      const std::size_t first = static_cast<std::size_t>(tile) * mr * p.channels + blk * nr;
      switch (stage.type) {
        case lc::OutputType::kFloat:
          args.out = reinterpret_cast<float*>(out.data()) + first;
          kernels.output_float(args, stage);
          break;
        case lc::OutputType::kInt8:
          args.out = reinterpret_cast<std::int8_t*>(out.data()) + first;
          kernels.output_int8(args, stage);
          break;
        case lc::OutputType::kBitpacked:
          args.out = reinterpret_cast<std::uint32_t*>(out.data()) +
                     (static_cast<std::size_t>(tile) * blocks + blk) * lc::kMaxTileRows * kBitsStride;
          args.out_stride = kBitsStride;
          kernels.output_bits(args, stage);
          break;
      }
    }
  }
  if (counted) RegionStop();
  return out;
}

// An output stage that does nothing: the calling loop's cost alone.
void NoOutput(const lc::OutputTileArgs&, const lc::OutputStage&) {}

int Fail(const std::string& message) {
  std::fprintf(stderr, "arm64_bgemm_insn_count: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    return Fail("usage: arm64_bgemm_insn_count naive-popcount|naive-vector|neon|portable "
                "PIXELS CHANNELS TAPS WORDS [float|int8|int8-tested|bits|none]");
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

  if (argc == 7) {
    const std::string stage_name = argv[6];
    lc::OutputType type = lc::OutputType::kFloat;
    if (stage_name == "float" || stage_name == "none") {
      type = lc::OutputType::kFloat;
    } else if (stage_name == "int8" || stage_name == "int8-tested") {
      type = lc::OutputType::kInt8;
    } else if (stage_name == "bits") {
      type = lc::OutputType::kBitpacked;
    } else {
      return Fail("unknown output stage '" + stage_name + "' (float, int8, int8-tested, bits, none)");
    }
    lc::IsaVariant isa;
    if (!lc::ParseIsaVariant(variant, &isa) || isa == lc::IsaVariant::kAuto) {
      return Fail("output stages need a kernel variant (neon, portable), got '" + variant + "'");
    }
    std::string error;
    const lc::BGemmKernels* kernels = lc::SelectBGemmKernels(isa, &error);
    const lc::BGemmKernels* reference = lc::SelectBGemmKernels(lc::IsaVariant::kPortable, &error);
    if (kernels == nullptr || reference == nullptr) return Fail(error);
    if (p.pixels % kernels->mr != 0 || p.channels % kernels->nr != 0 || kernels->mr != reference->mr ||
        kernels->nr != reference->nr) {
      return Fail("PIXELS and CHANNELS must be multiples of the " + variant + " tile, which must be portable's");
    }
    const lc::OutputStage stage = MakeStage(p, type, stage_name != "int8-tested", &rng);
    const std::vector<std::int32_t> acc = MicroKernelTiles(p, *kernels, false);
    if (stage_name == "none") {
      lc::BGemmKernels empty = *kernels;
      empty.output_float = empty.output_int8 = empty.output_bits = NoOutput;
      RunStage(p, empty, stage, acc, true);
    } else if (RunStage(p, *kernels, stage, acc, true) != RunStage(p, *reference, stage, acc, false)) {
      return Fail(variant + " " + stage_name + " output stage disagrees with portable");
    }
    std::printf("outputs=%lld\n", static_cast<long long>(p.pixels) * p.channels);
    return 0;
  }

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
