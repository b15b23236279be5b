// The NEON micro-kernel against its reference twin (the portable kernel) on the shapes where
// its bookkeeping could go wrong: odd word counts (the half-word tail), 16-bit accumulator
// drains between taps and inside long taps, all-ones operands (largest counts), a_offset and
// accumulation. Runs on ARM64 only (bazel --config=aarch64 runs it under qemu).
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bgemm.h"

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

}  // namespace
}  // namespace lc
