// C++ unit tests of the kernels: every variant against the reference twin on random shapes,
// known values, the thread pool, bit-packing and max-pool. Also built with ASan + UBSan
// (scripts/cc_tests.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bconv2d.h"
#include "runtime/core/bconv2d_reference.h"
#include "runtime/core/bfully_connected.h"
#include "runtime/core/bgemm.h"
#include "runtime/core/bitpack.h"
#include "runtime/core/bmaxpool.h"
#include "runtime/core/thread_pool.h"

namespace lc {
namespace {

std::vector<IsaVariant> UsableVariants() {
  std::vector<IsaVariant> variants;
  for (const std::string& name : UsableIsaVariants()) {
    IsaVariant v;
    EXPECT_TRUE(ParseIsaVariant(name, &v)) << name;
    variants.push_back(v);
  }
  return variants;
}

std::vector<TBitpacked> RandomPacked(std::mt19937& rng, std::int64_t rows, int channels) {
  std::vector<float> values(rows * channels);
  std::uniform_int_distribution<int> sign(0, 1);
  for (float& v : values) v = sign(rng) ? 1.0f : -1.0f;
  std::vector<TBitpacked> packed(rows * PackedSize(channels));
  BitpackKernelsPortable()->pack_float(values.data(), rows, channels, packed.data());
  return packed;
}

TEST(Bitpack, RoundTripAndPaddingBits) {
  std::mt19937 rng(1);
  for (int channels : {1, 31, 32, 33, 95, 300}) {
    std::normal_distribution<float> normal;
    std::vector<float> x(3 * channels);
    for (float& v : x) v = normal(rng);
    std::vector<TBitpacked> packed(3 * PackedSize(channels));
    BitpackKernelsPortable()->pack_float(x.data(), 3, channels, packed.data());
    if (channels % 32) {
      const auto last = static_cast<std::uint32_t>(packed[PackedSize(channels) - 1]);
      EXPECT_EQ(last >> (channels % 32), 0u) << channels;
    }
    std::vector<float> back(x.size());
    UnpackToFloat(packed.data(), 3, channels, back.data());
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(back[i], x[i] < 0 ? -1.0f : 1.0f);
    std::vector<std::int8_t> q(x.size()), q_back(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) q[i] = static_cast<std::int8_t>(std::lround(x[i] * 40));
    BitpackKernelsPortable()->pack_int8(q.data(), 3, channels, 2, packed.data());
    UnpackToInt8(packed.data(), 3, channels, 0.5f, 2, q_back.data());
    for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q_back[i], q[i] < 2 ? 0 : 4);
  }
}

// Every bit-packing variant this CPU runs against the portable twin: random values, the values at
// the sign / zero-point boundary (0, -0, NaN of either sign, infinities, denormals), ragged row
// ends and contiguous rows (C % 32 == 0), at several row counts.
TEST(Bitpack, EveryUsableVariantMatchesPortable) {
  const BitpackKernels* portable = BitpackKernelsPortable();
  std::vector<const BitpackKernels*> variants;
  for (IsaVariant variant : UsableVariants()) {
    std::string error;
    if (const BitpackKernels* kernels = SelectBitpackKernels(variant, &error)) variants.push_back(kernels);
  }
  const float nan = std::nanf(""), inf = INFINITY;
  const float adversarial[] = {0.0f, -0.0f, nan, -nan, inf, -inf, 1e-45f, -1e-45f, 1e-40f,
                               -1e-40f, 3.4e38f, -3.4e38f, 1.0f, -1.0f};
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> pick(0, sizeof(adversarial) / sizeof(float) - 1), byte(-128, 127);
  for (int channels : {1, 7, 16, 31, 32, 33, 63, 64, 65, 96, 100, 129, 513}) {
    for (std::int64_t rows : {1, 3, 17}) {
      const std::size_t count = static_cast<std::size_t>(rows) * channels;
      std::vector<float> random(count), special(count);
      std::vector<std::int8_t> q(count);
      for (std::size_t i = 0; i < count; ++i) {
        random[i] = normal(rng);
        special[i] = adversarial[pick(rng)];
        q[i] = static_cast<std::int8_t>(byte(rng));
      }
      std::vector<TBitpacked> expected(rows * PackedSize(channels)), got(expected.size());
      for (const BitpackKernels* kernels : variants) {
        for (const std::vector<float>* x : {&random, &special}) {
          portable->pack_float(x->data(), rows, channels, expected.data());
          // Poison the output: a variant must write every word, padding bits included.
          std::fill(got.begin(), got.end(), -1);
          kernels->pack_float(x->data(), rows, channels, got.data());
          EXPECT_EQ(got, expected) << kernels->name << " float, C = " << channels << ", rows = " << rows;
        }
        for (int zero_point : {-128, -1, 0, 5, 127}) {
          portable->pack_int8(q.data(), rows, channels, static_cast<std::int8_t>(zero_point), expected.data());
          std::fill(got.begin(), got.end(), -1);
          kernels->pack_int8(q.data(), rows, channels, static_cast<std::int8_t>(zero_point), got.data());
          EXPECT_EQ(got, expected) << kernels->name << " int8, zero point " << zero_point
                                   << ", C = " << channels << ", rows = " << rows;
        }
      }
    }
  }
}

TEST(Bitpack, QuantizeRoundsHalfAwayAndSaturates) {
  EXPECT_EQ(QuantizeToInt8(0.5f, 1.0f, 0), 1);
  EXPECT_EQ(QuantizeToInt8(-0.5f, 1.0f, 0), -1);
  EXPECT_EQ(QuantizeToInt8(0.49999997f, 1.0f, 0), 0);
  EXPECT_EQ(QuantizeToInt8(1000.0f, 1.0f, 0), 127);
  EXPECT_EQ(QuantizeToInt8(-1000.0f, 1.0f, 5), -128);
  EXPECT_EQ(QuantizeToInt8(NAN, 1.0f, 7), 7);
}

struct ConvCase {
  BConv2DGeometry g;
  OutputType type;
  int batch;
  bool residual = false;  // float output only
  Activation residual_activation = Activation::kNone;  // with residual: kNone, kRelu or kRelu6
};

// Every variant must equal the reference twin bit for bit, single- and multi-threaded.
void ExpectVariantsMatchReference(const ConvCase& c, std::mt19937& rng, ThreadPool* pool) {
  const BConv2DGeometry& g = c.g;
  const int group_in = g.channels_in / g.groups;
  const auto input = RandomPacked(rng, std::int64_t{c.batch} * g.in_height * g.in_width, g.channels_in);
  const auto filter = RandomPacked(rng, std::int64_t{g.channels_out} * g.filter_height * g.filter_width, group_in);
  std::vector<float> multiplier(g.channels_out), bias(g.channels_out);
  std::vector<std::int32_t> thresholds(g.channels_out);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  const int k = g.filter_height * g.filter_width * group_in;
  std::uniform_int_distribution<int> threshold(0, k);
  for (int o = 0; o < g.channels_out; ++o) {
    multiplier[o] = uniform(rng);
    bias[o] = uniform(rng);
    thresholds[o] = threshold(rng);
  }
  OutputTransform t;
  t.type = c.type;
  t.multiplier = multiplier.data();
  t.bias = bias.data();
  t.thresholds = thresholds.data();
  t.accumulator_activation = Activation::kRelu;
  t.output_activation = Activation::kRelu6;
  t.int8_scale = 0.05f;
  t.int8_zero_point = -7;
  const std::size_t pixels = std::size_t(c.batch) * g.OutHeight() * g.OutWidth();
  const std::size_t bytes = c.type == OutputType::kBitpacked ? pixels * PackedSize(g.channels_out) * 4
                            : c.type == OutputType::kFloat   ? pixels * g.channels_out * 4
                                                             : pixels * g.channels_out;
  std::vector<char> expected(bytes), got(bytes);
  // The residual has exactly the output's size, so ASan sees any read past its end.
  std::vector<float> residual;
  if (c.residual) {
    residual.resize(pixels * g.channels_out);
    std::uniform_real_distribution<float> wide(-8.0f, 8.0f);
    for (float& r : residual) r = wide(rng);
  }
  ASSERT_EQ(BConv2DReference(g, filter.data(), t, input.data(), c.batch, expected.data()), "");
  if (c.residual) {
    // The reference with a residual is the plain one plus a float32 add (the separate ADD op).
    std::vector<float> plain(residual.size()), fused(residual.size());
    std::memcpy(plain.data(), expected.data(), bytes);
    t.residual = true;
    t.residual_activation = c.residual_activation;
    ASSERT_EQ(BConv2DReference(g, filter.data(), t, input.data(), c.batch, fused.data(), residual.data()), "");
    for (std::size_t i = 0; i < fused.size(); ++i) {
      const float sum = plain[i] + residual[i];
      const float expected_sum = c.residual_activation == Activation::kRelu    ? std::max(sum, 0.0f)
                                 : c.residual_activation == Activation::kRelu6 ? std::clamp(sum, 0.0f, 6.0f)
                                                                               : sum;
      ASSERT_EQ(fused[i], expected_sum) << i;
    }
    std::memcpy(expected.data(), fused.data(), bytes);
  }
  for (IsaVariant variant : UsableVariants()) {
    std::string error;
    auto conv = BConv2D::Create(g, filter.data(), t, variant, &error);
    ASSERT_TRUE(conv) << error;
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), pool}) {
      std::fill(got.begin(), got.end(), 0x55);
      conv->Run(input.data(), c.batch, got.data(), p, c.residual ? residual.data() : nullptr);
      EXPECT_EQ(std::memcmp(got.data(), expected.data(), bytes), 0)
          << conv->VariantName() << " cin=" << g.channels_in << " cout=" << g.channels_out
          << " k=" << g.filter_height << "x" << g.filter_width << " type=" << int(c.type)
          << " residual=" << c.residual;
    }
  }
}

TEST(BConv2D, RandomShapesMatchReference) {
  std::mt19937 rng(7);
  ThreadPool pool(3);
  std::uniform_int_distribution<int> kernel(1, 5), stride(1, 3), dilation(1, 2), extra(0, 4),
      cout(1, 70), batch(1, 2), pad(0, 2), type(0, 2);
  const int channel_choices[] = {1, 32, 33, 64, 65, 130, 300};
  for (int i = 0; i < 40; ++i) {
    ConvCase c;
    BConv2DGeometry& g = c.g;
    g.channels_in = channel_choices[i % 7];
    g.channels_out = cout(rng);
    if (i % 5 == 4) {
      g.groups = 2;
      g.channels_in = 64 * (1 + i % 2);
      g.channels_out = 2 * (1 + cout(rng) / 2);
    }
    g.filter_height = kernel(rng);
    g.filter_width = kernel(rng);
    g.dilation_height = dilation(rng);
    g.dilation_width = dilation(rng);
    g.stride_height = stride(rng);
    g.stride_width = stride(rng);
    g.in_height = (g.filter_height - 1) * g.dilation_height + 1 + extra(rng);
    g.in_width = (g.filter_width - 1) * g.dilation_width + 1 + extra(rng);
    const int padding = pad(rng);
    g.padding = padding == 0 ? Padding::kValid : Padding::kSame;
    g.pad_value = padding == 2 ? 1 : 0;
    c.type = static_cast<OutputType>(type(rng));
    if (c.type == OutputType::kBitpacked && padding == 1) g.pad_value = 1;
    c.batch = batch(rng);
    ExpectVariantsMatchReference(c, rng, &pool);
    if (c.type == OutputType::kFloat) {
      c.residual = true;
      c.residual_activation = i % 3 == 0 ? Activation::kNone : i % 3 == 1 ? Activation::kRelu : Activation::kRelu6;
      ExpectVariantsMatchReference(c, rng, &pool);
    }
  }
}

// Residual (float output): odd channel counts (partial tiles and masks), more pixels than one
// thread's share, zero and one padding, groups, batches.
TEST(BConv2D, ResidualMatchesReference) {
  std::mt19937 rng(11);
  ThreadPool pool(2);
  struct Shape { int h, w, cin, cout, kh, stride, groups; Padding padding; int pad_value, batch; };
  const Shape shapes[] = {{7, 7, 64, 64, 3, 1, 1, Padding::kSame, 0, 1},
                          {9, 5, 33, 17, 3, 2, 1, Padding::kSame, 1, 2},
                          {6, 11, 96, 70, 1, 1, 1, Padding::kValid, 0, 3},
                          {5, 5, 128, 6, 3, 1, 2, Padding::kSame, 0, 1},
                          {1, 1, 1, 1, 1, 1, 1, Padding::kValid, 0, 1},
                          {14, 14, 256, 100, 3, 1, 1, Padding::kSame, 0, 1}};
  for (const Shape& s : shapes) {
    ConvCase c;
    c.g.in_height = s.h;
    c.g.in_width = s.w;
    c.g.channels_in = s.cin;
    c.g.channels_out = s.cout;
    c.g.filter_height = c.g.filter_width = s.kh;
    c.g.stride_height = c.g.stride_width = s.stride;
    c.g.groups = s.groups;
    c.g.padding = s.padding;
    c.g.pad_value = s.pad_value;
    c.type = OutputType::kFloat;
    c.batch = s.batch;
    c.residual = true;
    for (Activation activation : {Activation::kNone, Activation::kRelu, Activation::kRelu6}) {
      c.residual_activation = activation;
      ExpectVariantsMatchReference(c, rng, &pool);
    }
  }
}

TEST(BConv2D, ResidualNeedsFloatOutput) {
  BConv2DGeometry g;
  g.in_height = g.in_width = 4;
  g.channels_in = g.channels_out = 32;
  g.filter_height = g.filter_width = 3;
  const std::vector<TBitpacked> filter(32 * 9, 0);
  const std::vector<float> ones(32, 1.0f);
  const std::vector<std::int32_t> thresholds(32, 0);
  for (OutputType type : {OutputType::kInt8, OutputType::kBitpacked}) {
    OutputTransform t;
    t.type = type;
    t.multiplier = t.bias = ones.data();
    t.int8_scale = 0.1f;
    t.thresholds = thresholds.data();
    t.residual = true;
    std::string error;
    EXPECT_FALSE(BConv2D::Create(g, filter.data(), t, IsaVariant::kAuto, &error));
    EXPECT_NE(error.find("residual input needs float output"), std::string::npos) << error;
  }
  OutputTransform t;
  t.multiplier = t.bias = ones.data();
  t.residual_activation = Activation::kRelu;
  std::string error;
  EXPECT_FALSE(BConv2D::Create(g, filter.data(), t, IsaVariant::kAuto, &error));
  EXPECT_NE(error.find("residual_activation_function needs a residual input"), std::string::npos) << error;
}

OutputTransform Int8Transform(const std::vector<float>& multiplier, const std::vector<float>& bias, float scale,
                              int zero_point) {
  OutputTransform t;
  t.type = OutputType::kInt8;
  t.multiplier = multiplier.data();
  t.bias = bias.data();
  t.int8_scale = scale;
  t.int8_zero_point = zero_point;
  return t;
}

// (level + 0.5) * scale moved by `ulps` floats: on or next to a quantization boundary.
float NearBoundary(int level, float scale, int ulps) {
  float b = (static_cast<float>(level) + 0.5f) * scale;
  for (; ulps != 0; ulps += ulps > 0 ? -1 : 1) b = std::nextafter(b, ulps > 0 ? INFINITY : -INFINITY);
  return b;
}

// Every variant's int8 output of one image equals the reference twin's, byte for byte.
void ExpectInt8MatchesReference(const BConv2DGeometry& g, const std::vector<TBitpacked>& filter,
                                const std::vector<TBitpacked>& input, const OutputTransform& t) {
  std::vector<std::int8_t> expected(static_cast<std::size_t>(g.OutHeight()) * g.OutWidth() * g.channels_out);
  std::vector<std::int8_t> got(expected.size());
  ASSERT_EQ(BConv2DReference(g, filter.data(), t, input.data(), 1, expected.data()), "");
  for (IsaVariant variant : UsableVariants()) {
    std::string error;
    auto conv = BConv2D::Create(g, filter.data(), t, variant, &error);
    ASSERT_TRUE(conv) << error;
    std::fill(got.begin(), got.end(), 0x55);
    conv->Run(input.data(), 1, got.data(), nullptr);
    for (std::size_t i = 0; i < got.size(); ++i) {
      const int o = static_cast<int>(i % g.channels_out);
      ASSERT_EQ(got[i], expected[i]) << conv->VariantName() << " scale " << t.int8_scale << " zero point "
                                     << t.int8_zero_point << " channel " << o << " m " << t.multiplier[o]
                                     << " b " << t.bias[o] << " activations "
                                     << static_cast<int>(t.accumulator_activation);
    }
  }
}

// Int8 outputs skip the division except near rounding ties (output_transform.h), so every variant
// must still equal the reference where that matters: exact ties (a odd, y / scale = a / 2), biases a
// few ulps around (k + 0.5) * scale, saturation at both ends, extreme zero points, negative
// multipliers, infinities and NaN, and scales whose inverse is not a normal float. 150 channels:
// full 64-channel tiles and a partial one.
TEST(BConv2D, Int8OutputMatchesReferenceAtTiesAndSaturation) {
  std::mt19937 rng(5);
  BConv2DGeometry g;
  g.in_height = 4;
  g.in_width = 5;
  g.channels_in = 11;  // K = 9 * 11 = 99 (odd, so a is odd) for the one-padded 3x3
  g.channels_out = 150;
  g.filter_height = g.filter_width = 3;
  g.padding = Padding::kSame;
  g.pad_value = 1;
  const int pixels = g.in_height * g.in_width;
  const auto input = RandomPacked(rng, pixels, g.channels_in);
  const auto filter = RandomPacked(rng, std::int64_t{g.channels_out} * 9, g.channels_in);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::uniform_int_distribution<int> level(-140, 140), ulps(-2, 2);
  for (float scale : {0.5f, 0.1f, 1.0f / 3, 6.0f / 255, 1e-40f, 3e38f}) {
    for (int zero_point : {-128, -7, 0, 127}) {
      std::vector<float> multiplier(g.channels_out), bias(g.channels_out);
      for (int o = 0; o < g.channels_out; ++o) {
        float& m = multiplier[o];
        float& b = bias[o];
        switch ((o / 16) % 7) {  // one kind per 16-channel group, so some groups skip the tie test
          case 0:  // ties: y / scale = +-a / 2
            m = (o % 2 == 0 ? 0.5f : -0.5f) * scale;
            b = 0.0f;
            break;
          case 1:  // y = b, a few ulps around a quantization boundary
            m = 0.0f;
            b = NearBoundary(level(rng), scale, ulps(rng));
            break;
          case 2:  // saturates at both ends
            m = uniform(rng) * scale * 20;
            b = uniform(rng) * scale * 100;
            break;
          case 3:  // generic, negative multipliers included
            m = uniform(rng) * scale;
            b = uniform(rng) * scale * 50;
            break;
          case 4:  // overflows float: +-inf
            m = o % 2 == 0 ? 3e38f : -3e38f;
            b = 0.0f;
            break;
          case 5:  // saturated from a = 1 on, but y / scale leaves int32 only from a = 8
            m = scale * 3e8f;
            b = 0.0f;
            break;
          default:  // NaN, or an infinite bias
            m = 1.0f;
            b = o % 2 == 0 ? NAN : -INFINITY;
        }
      }
      for (bool activations : {false, true}) {
        OutputTransform t = Int8Transform(multiplier, bias, scale, zero_point);
        if (activations) {
          t.accumulator_activation = Activation::kReluN1To1;
          t.output_activation = Activation::kRelu;
        }
        ExpectInt8MatchesReference(g, filter, input, t);
      }
    }
  }
}

// Many int8 outputs within a few ulps of a quantization boundary: y = bias (multiplier 0) around
// (k + 0.5) * scale. About one in a few hundred rounds differently through the inverse scale than
// through the division, so the kernels' fallback near ties must catch every one.
TEST(BConv2D, Int8OutputNearRoundingTiesMatchesReference) {
  std::mt19937 rng(9);
  BConv2DGeometry g;
  g.in_height = g.in_width = 1;
  g.channels_in = 32;
  g.channels_out = 3000;
  g.filter_height = g.filter_width = 1;
  const auto input = RandomPacked(rng, 1, g.channels_in);
  const auto filter = RandomPacked(rng, g.channels_out, g.channels_in);
  std::uniform_int_distribution<int> level(-140, 140), ulps(-3, 3);
  const std::vector<float> multiplier(g.channels_out, 0.0f);
  for (float scale : {0.5f, 0.1f, 1.0f / 3, 6.0f / 255, 0.0137f}) {
    for (int zero_point : {-128, -7, 0, 127}) {
      std::vector<float> bias(g.channels_out);
      for (float& b : bias) b = NearBoundary(level(rng), scale, ulps(rng));
      ExpectInt8MatchesReference(g, filter, input, Int8Transform(multiplier, bias, scale, zero_point));
    }
  }
}

TEST(BConv2D, ZeroPaddingCountsOnlyInsideTaps) {
  BConv2DGeometry g;
  g.in_height = 3;
  g.in_width = 4;
  g.channels_in = 40;
  g.channels_out = 2;
  g.filter_height = g.filter_width = 3;
  g.padding = Padding::kSame;
  std::vector<float> ones_in(3 * 4 * 40, 1.0f), ones_w(2 * 9 * 40, 1.0f);
  std::vector<TBitpacked> input(12 * 2), filter(18 * 2);
  BitpackKernelsPortable()->pack_float(ones_in.data(), 12, 40, input.data());
  BitpackKernelsPortable()->pack_float(ones_w.data(), 18, 40, filter.data());
  for (IsaVariant variant : UsableVariants()) {
    std::string error;
    auto conv = BConv2D::Create(g, filter.data(), OutputTransform{}, variant, &error);
    ASSERT_TRUE(conv) << error;
    std::vector<float> out(12 * 2);
    conv->Run(input.data(), 1, out.data(), nullptr);
    const int rows[] = {2, 3, 2}, cols[] = {2, 3, 3, 2};
    for (int h = 0; h < 3; ++h) {
      for (int w = 0; w < 4; ++w) EXPECT_EQ(out[(h * 4 + w) * 2], 40.0f * rows[h] * cols[w]);
    }
  }
}

TEST(BConv2D, InvalidArgumentsGiveErrors) {
  BConv2DGeometry g;
  g.in_height = g.in_width = 4;
  g.channels_in = 40;
  g.channels_out = 4;
  g.filter_height = g.filter_width = 3;
  g.groups = 2;  // 20 channels per group: not a multiple of 32
  std::vector<TBitpacked> filter(4 * 9);
  std::string error;
  EXPECT_FALSE(BConv2D::Create(g, filter.data(), OutputTransform{}, IsaVariant::kAuto, &error));
  EXPECT_NE(error.find("multiple of 32"), std::string::npos) << error;
  g.groups = 1;
  OutputTransform bits;
  bits.type = OutputType::kBitpacked;
  EXPECT_FALSE(BConv2D::Create(g, filter.data(), bits, IsaVariant::kAuto, &error));
  EXPECT_NE(error.find("thresholds"), std::string::npos) << error;
  EXPECT_FALSE(BConv2D::Create(g, nullptr, OutputTransform{}, IsaVariant::kAuto, &error));
#if defined(__x86_64__)
  EXPECT_FALSE(BConv2D::Create(g, filter.data(), OutputTransform{}, IsaVariant::kNeon, &error));
  EXPECT_NE(error.find("'neon' is not"), std::string::npos) << error;
#endif
}

// MarkFmaExact's claim, checked exhaustively: for a channel it marks, one float FMA gives the
// reference y = float32(double(a) * m + b) for every |a| <= K. Multipliers and biases span many
// exponents (so the rule must reject some), plus zeros, subnormals and the double-rounding tie
// a = 97, m = 172961 * 2^-24, b = 2^-60 (which it must reject).
TEST(OutputStage, FmaExactChannelsMatchTheDoubleExpression) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
  std::uniform_int_distribution<int> exponent(-40, 10), sign(0, 1);
  const auto random_float = [&] {
    return (sign(rng) ? -1.0f : 1.0f) * std::ldexp(mantissa(rng), exponent(rng));
  };
  for (int k : {9, 97, 577, 4608}) {
    std::vector<float> m(300), b(300);
    for (std::size_t c = 0; c < m.size(); ++c) {
      m[c] = random_float();
      b[c] = c % 7 == 0 ? 0.0f : random_float();
    }
    m[0] = 172961 * std::ldexp(1.0f, -24);
    b[0] = std::ldexp(1.0f, -60);
    m[1] = 0.0f;
    b[2] = 1e-45f;
    OutputTransform transform;
    transform.multiplier = m.data();
    transform.bias = b.data();
    OutputStage stage;
    ASSERT_EQ(OutputStage::Make(transform, 300, 300, &stage), "");
    stage.MarkFmaExact(k);
    if (k >= 97) EXPECT_FALSE(stage.fma_exact[0]) << "the double-rounding tie must not be marked";
    int marked = 0;
    for (std::size_t c = 0; c < m.size(); ++c) {
      if (!stage.fma_exact[c]) continue;
      ++marked;
      for (int a = -k; a <= k; ++a) {
        const float reference = static_cast<float>(static_cast<double>(a) * m[c] + b[c]);
        const float fused = std::fma(static_cast<float>(a), m[c], b[c]);
        ASSERT_EQ(std::memcmp(&reference, &fused, sizeof(float)), 0)
            << "channel " << c << " a = " << a << " m = " << m[c] << " b = " << b[c];
      }
    }
    // Ordinary parameters are marked; far-apart exponents are not.
    EXPECT_GT(marked, 100) << "K = " << k;
    EXPECT_LT(marked, 300) << "K = " << k;
  }
}

// A variant forced through LARQ_COMPUTE_KERNEL that this build or CPU lacks is an error for both
// kernel families, never a fallback; kAuto resolves to one concrete variant.
TEST(Dispatch, ForcedUnusableVariantIsAnError) {
#if defined(__x86_64__)
  const char* unusable = "neon";
#else
  const char* unusable = "avx512";
#endif
  setenv("LARQ_COMPUTE_KERNEL", unusable, 1);
  std::string error;
  EXPECT_EQ(SelectBitpackKernels(IsaVariant::kAuto, &error), nullptr);
  EXPECT_NE(error.find(std::string("'") + unusable + "'"), std::string::npos) << error;
  EXPECT_NE(error.find("LARQ_COMPUTE_KERNEL"), std::string::npos) << error;
  IsaVariant variant = IsaVariant::kAuto;
  error.clear();
  EXPECT_FALSE(ResolveBGemmVariant(&variant, &error));
  EXPECT_NE(error.find("LARQ_COMPUTE_KERNEL"), std::string::npos) << error;

  setenv("LARQ_COMPUTE_KERNEL", "portable", 1);
  ASSERT_NE(SelectBitpackKernels(IsaVariant::kAuto, &error), nullptr);
  EXPECT_STREQ(SelectBitpackKernels(IsaVariant::kAuto, &error)->name, "portable");
  variant = IsaVariant::kAuto;
  EXPECT_TRUE(ResolveBGemmVariant(&variant, &error)) << error;
  EXPECT_EQ(variant, IsaVariant::kPortable);
  unsetenv("LARQ_COMPUTE_KERNEL");

  variant = IsaVariant::kAuto;
  EXPECT_TRUE(ResolveBGemmVariant(&variant, &error)) << error;
  EXPECT_NE(variant, IsaVariant::kAuto);
  EXPECT_EQ(UsableIsaVariants().back(), IsaVariantName(variant));
}

TEST(BFullyConnected, VariantsMatchReference) {
  std::mt19937 rng(3);
  ThreadPool pool(2);
  for (int channels_in : {1, 64, 100, 1024}) {
    for (int rows : {1, 5}) {
      const int channels_out = 37;
      const auto input = RandomPacked(rng, rows, channels_in);
      const auto weights = RandomPacked(rng, channels_out, channels_in);
      std::vector<float> expected(rows * channels_out), got(rows * channels_out);
      OutputTransform t;
      ASSERT_EQ(BFullyConnectedReference(channels_in, channels_out, weights.data(), t, input.data(),
                                         rows, expected.data()),
                "");
      for (IsaVariant variant : UsableVariants()) {
        std::string error;
        auto fc = BFullyConnected::Create(channels_in, channels_out, weights.data(), t, variant, &error);
        ASSERT_TRUE(fc) << error;
        fc->Run(input.data(), rows, got.data(), &pool);
        EXPECT_EQ(got, expected) << fc->VariantName() << " cin=" << channels_in;
      }
    }
  }
}

TEST(BMaxPool2D, AndOfInsideTaps) {
  // One channel, 3x3 input; bit 1 (-1) everywhere except the center.
  std::vector<TBitpacked> input(9, 1);
  input[4] = 0;
  BMaxPool2DGeometry g;
  g.in_height = g.in_width = 3;
  g.packed_channels = 1;
  g.filter_height = g.filter_width = 2;
  g.stride_height = g.stride_width = 2;
  g.padding = Padding::kSame;
  ASSERT_EQ(ValidateBMaxPool2D(g), "");
  std::vector<TBitpacked> out(4);
  BMaxPool2D(g, input.data(), 1, out.data(), nullptr);
  // Only the top-left window contains the +1 center.
  EXPECT_EQ(out, (std::vector<TBitpacked>{0, 1, 1, 1}));
}

TEST(ThreadPool, CoversRangeExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (std::int64_t n : {1, 7, 100, 1001}) {
      for (int repeat = 0; repeat < 50; ++repeat) {
        std::vector<int> hits(n, 0);
        pool.ParallelFor(n, 3, [&](std::int64_t begin, std::int64_t end, int thread) {
          EXPECT_LT(thread, threads);
          for (std::int64_t i = begin; i < end; ++i) ++hits[i];
        });
        for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << "n=" << n << " i=" << i;
      }
    }
  }
}

}  // namespace
}  // namespace lc
