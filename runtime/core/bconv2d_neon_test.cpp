// BConv2D and BFullyConnected running the NEON micro-kernel against their plain reference twins
// (bconv2d_reference.h, BFullyConnectedReference), on ARM64 (bazel --config=aarch64 and the
// CMake aarch64 toolchain run it under qemu). Shapes cover packed-word edges (31/32/33/65
// channels), odd output-channel counts (partial 8-channel blocks), partial 4-pixel tiles,
// SAME padding with 0 and 1, strides, dilations, groups, all three output types, and a thread
// pool. Outputs must match exactly: every variant has the same numerics (output_transform.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bconv2d.h"
#include "runtime/core/bconv2d_reference.h"
#include "runtime/core/bfully_connected.h"
#include "runtime/core/bgemm.h"
#include "runtime/core/thread_pool.h"

namespace lc {
namespace {

bool NeonAvailable(std::string* why) {
  return SelectBGemmKernels(IsaVariant::kNeon, why) != nullptr;
}

// Random bit-packed words whose padding bits (channels >= `channels` in each row) are 0.
std::vector<TBitpacked> RandomPacked(std::mt19937* rng, std::int64_t rows, int channels) {
  const int words = PackedSize(channels);
  std::vector<TBitpacked> packed(static_cast<std::size_t>(rows) * words);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (int w = 0; w < words; ++w) {
      std::uint32_t v = (*rng)();
      const int valid = channels - w * kBitsPerWord;
      if (valid < kBitsPerWord) v &= (1u << valid) - 1u;
      packed[r * words + w] = static_cast<TBitpacked>(v);
    }
  }
  return packed;
}

struct Transform {
  std::vector<float> multiplier, bias;
  std::vector<std::int32_t> thresholds;
  OutputTransform transform;

  Transform(std::mt19937* rng, OutputType type, int channels_out, int k) {
    std::uniform_real_distribution<float> scale(-0.5f, 0.5f);
    std::uniform_int_distribution<int> threshold(-k, k);
    for (int c = 0; c < channels_out; ++c) {
      multiplier.push_back(scale(*rng));
      bias.push_back(scale(*rng) * 4.0f);
      thresholds.push_back(threshold(*rng) / 2);
    }
    transform.type = type;
    transform.multiplier = multiplier.data();
    transform.bias = bias.data();
    transform.accumulator_activation = Activation::kRelu;
    transform.int8_scale = 0.05f;
    transform.int8_zero_point = 3;
    transform.thresholds = thresholds.data();
  }
};

std::size_t OutputBytes(OutputType type, std::int64_t rows, int channels_out) {
  switch (type) {
    case OutputType::kFloat: return rows * channels_out * sizeof(float);
    case OutputType::kInt8: return rows * channels_out;
    case OutputType::kBitpacked: return rows * PackedSize(channels_out) * sizeof(TBitpacked);
  }
  return 0;
}

struct ConvCase {
  int height, width, channels_in, channels_out, filter, stride, dilation, groups;
  Padding padding;
  int pad_value;
};

void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << c.height << "x" << c.width << "x" << c.channels_in << " -> " << c.channels_out
      << " filter " << c.filter << " stride " << c.stride << " dilation " << c.dilation
      << " groups " << c.groups << (c.padding == Padding::kSame ? " SAME pad " : " VALID")
      << (c.padding == Padding::kSame ? std::to_string(c.pad_value) : "");
}

class NeonBConv2DTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(NeonBConv2DTest, MatchesReferenceForEveryOutputType) {
  std::string why;
  if (!NeonAvailable(&why)) GTEST_SKIP() << "NEON kernels not available here: " << why;
  const ConvCase c = GetParam();
  BConv2DGeometry g;
  g.in_height = c.height;
  g.in_width = c.width;
  g.channels_in = c.channels_in;
  g.channels_out = c.channels_out;
  g.filter_height = g.filter_width = c.filter;
  g.groups = c.groups;
  g.stride_height = g.stride_width = c.stride;
  g.dilation_height = g.dilation_width = c.dilation;
  g.padding = c.padding;
  g.pad_value = c.pad_value;
  std::mt19937 rng(c.channels_in * 131 + c.channels_out * 17 + c.filter);
  const int group_in = c.channels_in / c.groups;
  const std::vector<TBitpacked> filter =
      RandomPacked(&rng, static_cast<std::int64_t>(c.channels_out) * c.filter * c.filter, group_in);
  constexpr int kBatch = 2;
  const std::vector<TBitpacked> input =
      RandomPacked(&rng, static_cast<std::int64_t>(kBatch) * c.height * c.width, c.channels_in);
  const std::int64_t out_rows = static_cast<std::int64_t>(kBatch) * g.OutHeight() * g.OutWidth();
  ThreadPool pool(2);
  for (OutputType type : {OutputType::kFloat, OutputType::kInt8, OutputType::kBitpacked}) {
    // Zero padding makes K position-dependent, which bit-packed output does not support.
    const bool zero_padded = c.padding == Padding::kSame && c.pad_value == 0;
    if (type == OutputType::kBitpacked && zero_padded) continue;
    Transform t(&rng, type, c.channels_out, c.filter * c.filter * group_in);
    std::string error;
    auto conv = BConv2D::Create(g, filter.data(), t.transform, IsaVariant::kNeon, &error);
    ASSERT_NE(conv, nullptr) << error;
    EXPECT_STREQ(conv->VariantName(), "neon");
    const std::size_t bytes = OutputBytes(type, out_rows, c.channels_out);
    std::vector<std::uint8_t> expected(bytes, 0xAB), single(bytes, 0xCD), threaded(bytes, 0xEF);
    ASSERT_EQ(BConv2DReference(g, filter.data(), t.transform, input.data(), kBatch,
                               expected.data()),
              "");
    conv->Run(input.data(), kBatch, single.data(), nullptr);
    conv->Run(input.data(), kBatch, threaded.data(), &pool);
    EXPECT_EQ(single, expected) << "output type " << static_cast<int>(type);
    EXPECT_EQ(threaded, expected) << "output type " << static_cast<int>(type) << ", 2 threads";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, NeonBConv2DTest,
    ::testing::Values(ConvCase{5, 5, 1, 1, 1, 1, 1, 1, Padding::kValid, 0},
                      ConvCase{7, 6, 31, 9, 3, 1, 1, 1, Padding::kSame, 0},
                      ConvCase{7, 6, 32, 8, 3, 1, 1, 1, Padding::kSame, 1},
                      ConvCase{9, 9, 33, 17, 3, 2, 1, 1, Padding::kSame, 1},
                      ConvCase{8, 8, 65, 16, 3, 1, 2, 1, Padding::kValid, 0},
                      ConvCase{6, 7, 130, 24, 5, 2, 1, 1, Padding::kSame, 0},
                      ConvCase{6, 6, 64, 16, 3, 1, 1, 2, Padding::kSame, 1},
                      ConvCase{4, 4, 512, 40, 3, 1, 1, 1, Padding::kSame, 1},
                      ConvCase{3, 3, 96, 3, 1, 1, 1, 3, Padding::kValid, 0}));

TEST(NeonBFullyConnected, MatchesReference) {
  std::string why;
  if (!NeonAvailable(&why)) GTEST_SKIP() << "NEON kernels not available here: " << why;
  std::mt19937 rng(5);
  ThreadPool pool(2);
  for (int channels_in : {1, 32, 63, 64, 300, 2048}) {
    for (int channels_out : {1, 8, 10, 33}) {
      for (std::int64_t rows : {1, 3, 4, 9}) {
        const auto weights = RandomPacked(&rng, channels_out, channels_in);
        const auto input = RandomPacked(&rng, rows, channels_in);
        for (OutputType type : {OutputType::kFloat, OutputType::kInt8, OutputType::kBitpacked}) {
          Transform t(&rng, type, channels_out, channels_in);
          std::string error;
          auto fc = BFullyConnected::Create(channels_in, channels_out, weights.data(), t.transform,
                                            IsaVariant::kNeon, &error);
          ASSERT_NE(fc, nullptr) << error;
          const std::size_t bytes = OutputBytes(type, rows, channels_out);
          std::vector<std::uint8_t> expected(bytes, 1), actual(bytes, 2);
          ASSERT_EQ(BFullyConnectedReference(channels_in, channels_out, weights.data(),
                                             t.transform, input.data(), rows, expected.data()),
                    "");
          fc->Run(input.data(), rows, actual.data(), &pool);
          EXPECT_EQ(actual, expected) << channels_in << " -> " << channels_out << ", rows "
                                      << rows << ", output type " << static_cast<int>(type);
        }
      }
    }
  }
}

}  // namespace
}  // namespace lc
