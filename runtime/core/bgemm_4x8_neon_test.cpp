// The NEON micro-kernel against its reference twin (the portable kernel) on the shapes where
// its bookkeeping could go wrong: odd word counts (the half-word tail), 16-bit accumulator
// drains between taps and inside long taps, all-ones operands (largest counts), a_offset and
// accumulation. The NEON output stages against OutputStage's numerics computed here
// independently, on adversarial values. Runs on ARM64 only (bazel --config=aarch64 runs it under
// qemu).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bgemm.h"
#include "runtime/core/bitpack.h"
#include "runtime/core/output_transform.h"

namespace lc {
namespace {

struct Case {
  int taps, words;
  bool all_ones;  // every XOR bit set: the largest popcounts
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "taps=" << c.taps << " words=" << c.words << (c.all_ones ? " all-ones" : "");
}

class NeonBGemmTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    std::string error;
    neon_ = SelectBGemmKernels(IsaVariant::kNeon, &error);
    if (neon_ == nullptr) GTEST_SKIP() << "no NEON kernel on this build/CPU: " << error;
    reference_ = SelectBGemmKernels(IsaVariant::kPortable, &error);
    ASSERT_NE(reference_, nullptr) << error;
  }
  const BGemmKernels* neon_ = nullptr;
  const BGemmKernels* reference_ = nullptr;
};

TEST_P(NeonBGemmTest, MatchesPortableKernel) {
  const Case c = GetParam();
  ASSERT_EQ(neon_->mr, reference_->mr);
  ASSERT_EQ(neon_->nr, reference_->nr);
  const int mr = neon_->mr, nr = neon_->nr, w64 = (c.words + 1) / 2;
  // Each pixel's taps lie in its own buffer, kGap words apart after a kOffset-word start (the
  // group's words start inside the pixel), so the kernels must honour rows[m] + tap_offsets[t].
  constexpr int kOffset = 3, kGap = 2;
  std::mt19937 rng(c.taps * 7919 + c.words);
  std::vector<std::ptrdiff_t> tap_offsets;
  for (int t = 0; t < c.taps; ++t) tap_offsets.push_back(kOffset + static_cast<std::ptrdiff_t>(t) * (c.words + kGap));
  std::vector<std::vector<TBitpacked>> pixels(
      mr, std::vector<TBitpacked>(kOffset + static_cast<std::size_t>(c.taps) * (c.words + kGap)));
  std::vector<const TBitpacked*> rows;
  for (auto& pixel : pixels) {
    for (auto& v : pixel) v = c.all_ones ? -1 : static_cast<TBitpacked>(rng());
    rows.push_back(pixel.data());
  }
  std::vector<std::uint64_t> b(static_cast<std::size_t>(c.taps) * w64 * nr);
  for (std::size_t i = 0; i < b.size(); ++i) {
    std::uint64_t v = c.all_ones ? 0 : (std::uint64_t{rng()} << 32 | rng());
    const int w = static_cast<int>(i / nr) % w64;
    if (2 * w + 1 == c.words) v &= 0xffffffffu;  // the packed layout's zero high half
    b[i] = v;
  }
  std::vector<std::int32_t> expected(mr * nr, 11), actual(mr * nr, 11);
  reference_->popcount_tile(c.taps, c.words, rows.data(), tap_offsets.data(), b.data(), expected.data());
  neon_->popcount_tile(c.taps, c.words, rows.data(), tap_offsets.data(), b.data(), actual.data());
  EXPECT_EQ(actual, expected) << "taps=" << c.taps << " words=" << c.words;
  if (c.all_ones) EXPECT_EQ(expected[0], 32 * c.taps * c.words);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, NeonBGemmTest,
    ::testing::Values(Case{1, 1, false}, Case{1, 2, false}, Case{3, 3, false},
                      Case{9, 8, false}, Case{2, 17, true}, Case{64, 1, false},
                      // 1000 steps per tap: the 16-bit lanes are drained between taps.
                      Case{5, 2000, true}, Case{5, 1999, false},
                      // 4095 steps fill a tap exactly; 4096 and more split each tap.
                      Case{2, 8190, true}, Case{1, 8191, true}, Case{2, 8192, false},
                      Case{1, 20001, true}));

// ---- Output stages ----

constexpr int kChannels = 8 * 6 + 5;  // six full 8-channel blocks and a 5-channel tail
constexpr int kKinds = 9;

// (level + 0.5) * scale moved by `ulps` floats: on or next to an int8 rounding boundary.
float NearBoundary(int level, float scale, int ulps) {
  float b = (static_cast<float>(level) + 0.5f) * scale;
  for (; ulps != 0; ulps += ulps > 0 ? -1 : 1) b = std::nextafter(b, ulps > 0 ? INFINITY : -INFINITY);
  return b;
}

// Multiplier and bias of one channel of adversarial kind `kind`.
void ChannelValues(int kind, int c, float scale, std::mt19937* rng, float* m, float* b) {
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::uniform_int_distribution<int> level(-140, 140), ulps(-2, 2);
  switch (kind) {
    case 0:  // exact int8 ties: y / scale = +-a / 2 (a odd when K is)
      *m = (c % 2 == 0 ? 0.5f : -0.5f) * scale;
      *b = 0.0f;
      break;
    case 1:  // multiplier 0: y = b a few ulps around a rounding boundary
      *m = 0.0f;
      *b = NearBoundary(level(*rng), scale, ulps(*rng));
      break;
    case 2:  // saturates int8 at both ends; negative multipliers on odd channels
      *m = (c % 2 ? -1.0f : 1.0f) * (0.5f + std::fabs(uniform(*rng))) * scale * 20;
      *b = uniform(*rng) * scale * 100;
      break;
    case 3:  // generic (BN-like), negative multipliers included
      *m = uniform(*rng) * scale;
      *b = uniform(*rng) * scale * 50;
      break;
    case 4:  // overflows float: y = +-inf
      *m = c % 2 == 0 ? 3e38f : -3e38f;
      *b = 0.0f;
      break;
    case 5:  // NaN or infinite bias
      *m = 1.0f;
      *b = c % 2 == 0 ? NAN : -INFINITY;
      break;
    case 6:  // -0 bias with a negative multiplier: y = -0 at a = 0
      *m = -0.25f;
      *b = -0.0f;
      break;
    case 7:  // double rounding: at a = 3 (K odd) or 6 (K even) a * m lies on a float midpoint,
             // which the double sum keeps and one float FMA would leave (not fma_exact)
      *m = 1.0f + 0x1p-23f;
      *b = 0x1p-60f * (c % 2 ? -1 : 1);
      break;
    default:  // long significands, a bias below y's ulp: one float FMA and a product rounded
              // before the sum give different y (fma_exact channels must use the FMA)
      *m = (c % 2 ? -1.0f : 1.0f) * (1.0f + std::fabs(uniform(*rng))) / 3.0f;
      *b = uniform(*rng) * 0x1p-20f;
  }
}

// conv, the integer clamp, y = float32(double(a) * m + b), the output clamp (output_transform.h).
float ExpectedY(const OutputStage& s, int k, std::int32_t popcount, std::int32_t correction, int c) {
  std::int32_t a = k - 2 * popcount - correction;
  a = a < s.acc_low ? s.acc_low : (a > s.acc_high ? s.acc_high : a);
  float y = static_cast<float>(static_cast<double>(a) * static_cast<double>(s.multiplier[c]) +
                               static_cast<double>(s.bias[c]));
  if (y < s.out_low) y = s.out_low;
  if (y > s.out_high) y = s.out_high;
  return y;
}

struct StageCase {
  OutputType type;
  int k;
  bool kind_per_block;  // else per channel (mixed blocks never skip the int8 tie test)
  Activation accumulator, output;
  float scale;
  int zero_point;
};

std::string Describe(const StageCase& c) {
  return "type " + std::to_string(static_cast<int>(c.type)) + " k " + std::to_string(c.k) +
         (c.kind_per_block ? " kinds per block" : " kinds per channel") + " activations " +
         std::to_string(static_cast<int>(c.accumulator)) + "/" + std::to_string(static_cast<int>(c.output)) +
         " scale " + std::to_string(c.scale) + " zero point " + std::to_string(c.zero_point);
}

// Runs `stage_fn` of `kernels` on every block of kChannels channels for 1 .. MR rows, with and
// without corrections, and compares every byte with the expectation; bytes past a block's n
// channels and rows must stay untouched.
void ExpectStageMatches(const BGemmKernels& kernels, const StageCase& c, std::mt19937* rng) {
  std::vector<float> multiplier(kChannels), bias(kChannels);
  std::vector<std::int32_t> thresholds(kChannels);
  std::uniform_int_distribution<int> around(-3, 3), kind_of(0, kKinds - 1);
  for (int ch = 0; ch < kChannels; ++ch) {
    ChannelValues(c.kind_per_block ? (ch / kernels.nr) % kKinds : ch % kKinds, ch, c.scale, rng, &multiplier[ch],
                  &bias[ch]);
    const int edge = ch % 7;
    thresholds[ch] = edge == 0 ? std::numeric_limits<std::int32_t>::min()
                   : edge == 1 ? std::numeric_limits<std::int32_t>::max()
                   : edge == 2 ? -1
                               : c.k / 2 + around(*rng);
  }
  OutputTransform t;
  t.type = c.type;
  t.multiplier = multiplier.data();
  t.bias = bias.data();
  t.accumulator_activation = c.accumulator;
  t.output_activation = c.output;
  t.int8_scale = c.scale;
  t.int8_zero_point = c.zero_point;
  t.thresholds = thresholds.data();
  OutputStage stage;
  ASSERT_EQ(OutputStage::Make(t, kChannels, kChannels, &stage), "");
  stage.MarkFmaExact(c.k);
  stage.MarkInt8Exact(c.k);

  const int mr = kernels.mr, nr = kernels.nr;
  std::uniform_int_distribution<int> popcount_of(0, c.k), correction_of(-c.k / 4, c.k / 4);
  for (int c0 = 0; c0 < kChannels; c0 += nr) {
    const int n = std::min(nr, kChannels - c0);
    for (int rows = 1; rows <= mr; ++rows) {
      for (bool with_corrections : {false, true}) {
        std::vector<std::int32_t> popcounts(static_cast<std::size_t>(mr) * nr);
        for (std::size_t i = 0; i < popcounts.size(); ++i) {
          // The extremes (a = +-K), a = 0 (K even), a = 3 or 6 (kind 7's midpoint) and random counts.
          const int pick = static_cast<int>((i + rows) % 6);
          popcounts[i] = pick == 0 ? 0 : pick == 1 ? c.k : pick == 2 ? c.k / 2
                       : pick == 3 ? (c.k - (c.k % 2 ? 3 : 6)) / 2 : popcount_of(*rng);
        }
        // Correction rows hold the real channels only (the layout BConv2D gives them).
        std::vector<std::vector<std::int32_t>> correction_rows(mr, std::vector<std::int32_t>(kChannels));
        const std::int32_t* corrections[kMaxTileRows] = {};
        for (int m = 0; m < mr; ++m) {
          for (auto& v : correction_rows[m]) v = correction_of(*rng);
          if (with_corrections && m % 2 == 0) corrections[m] = correction_rows[m].data();
        }
        const std::ptrdiff_t stride = nr + 3;  // bytes past n must survive
        const std::size_t value_bytes = c.type == OutputType::kFloat ? 4 : c.type == OutputType::kInt8 ? 1 : 4;
        std::vector<std::uint8_t> expected((static_cast<std::size_t>(mr) + 1) * stride * value_bytes, 0xA5);
        std::vector<std::uint8_t> got(expected);
        for (int m = 0; m < rows; ++m) {
          const std::int32_t* p = popcounts.data() + m * nr;
          if (c.type == OutputType::kBitpacked) {
            std::uint32_t word = 0;
            for (int i = 0; i < n; ++i) word |= std::uint32_t{p[i] > thresholds[c0 + i]} << i;
            std::memcpy(&expected[m * stride * 4], &word, 4);
            continue;
          }
          for (int i = 0; i < n; ++i) {
            const std::int32_t correction = corrections[m] ? corrections[m][c0 + i] : 0;
            const float y = ExpectedY(stage, c.k, p[i], correction, c0 + i);
            if (c.type == OutputType::kFloat) {
              std::memcpy(&expected[(m * stride + i) * 4], &y, 4);
            } else {
              const std::int8_t q = QuantizeToInt8(y, c.scale, c.zero_point);
              std::memcpy(&expected[m * stride + i], &q, 1);
            }
          }
        }
        OutputTileArgs args = {popcounts.data(), rows, c.k, c0, n, corrections, got.data(), stride, nullptr};
        switch (c.type) {
          case OutputType::kFloat: kernels.output_float(args, stage); break;
          case OutputType::kInt8: kernels.output_int8(args, stage); break;
          case OutputType::kBitpacked: kernels.output_bits(args, stage); break;
        }
        for (std::size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i], expected[i]) << kernels.name << " " << Describe(c) << " block " << c0 << " n " << n
                                         << " rows " << rows << (with_corrections ? " corrections" : "")
                                         << " byte " << i << " (row " << i / (stride * value_bytes) << ")";
        }
      }
    }
  }
}

TEST(NeonOutputStages, MatchOutputStageNumericsOnAdversarialValues) {
  std::string error;
  const BGemmKernels* neon = SelectBGemmKernels(IsaVariant::kNeon, &error);
  if (neon == nullptr) GTEST_SKIP() << "no NEON kernel on this build/CPU: " << error;
  const BGemmKernels* portable = SelectBGemmKernels(IsaVariant::kPortable, &error);
  ASSERT_NE(portable, nullptr) << error;
  std::mt19937 rng(11);
  const Activation activations[][2] = {{Activation::kNone, Activation::kNone},
                                       {Activation::kRelu, Activation::kNone},
                                       {Activation::kReluN1To1, Activation::kRelu},
                                       {Activation::kNone, Activation::kRelu6}};
  int cases = 0;
  for (OutputType type : {OutputType::kFloat, OutputType::kInt8, OutputType::kBitpacked}) {
    for (int k : {99, 576}) {
      for (bool per_block : {true, false}) {
        for (const auto& activation : activations) {
          // 1e-40 and 3e38: scales whose inverse is not a normal float (every value divides).
          for (float scale : {0.5f, 6.0f / 255, 1.0f / 3, 1e-40f, 3e38f}) {
            for (int zero_point : {-128, -3, 0, 127}) {
              const StageCase c = {type, k, per_block, activation[0], activation[1], scale, zero_point};
              // The portable stage is the reference twin: it must agree with the expectation too.
              for (const BGemmKernels* kernels : {neon, portable}) {
                ExpectStageMatches(*kernels, c, &rng);
                if (HasFatalFailure()) return;
              }
              ++cases;
              if (type != OutputType::kInt8) break;  // scale and zero point matter only for int8
            }
            if (type != OutputType::kInt8) break;
          }
        }
      }
    }
  }
  EXPECT_GT(cases, 100);
}

}  // namespace
}  // namespace lc
