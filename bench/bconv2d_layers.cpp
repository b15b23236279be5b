// Per-layer timing of lc::BConv2D on QuickNet's binary conv shapes, 1 thread, for comparing two
// builds of the kernel library side by side (bench/bconv2d_ab.sh links this file against each).
//
//   bconv2d_layers ITERATIONS [cold] [int8 | residual]
//
// For every layer (3x3, stride 1, one-padded SAME, float output, multiplier/bias fused) prints
// "<layer> <median microseconds> <variant>". With `cold`, 8 MiB of other memory is touched before
// every run, so filters, input and output come from L3 as inside a whole model. With `int8`, the
// output is int8 (scale 6/255, zero point 0: the range (-3, 3) of a whole-model int8 conversion).
// With `residual`, the same float conv without and with a fused residual input runs alternately
// (so load changes hit both alike) and each line is
// "<layer> <float us> <float+residual us> <ratio> <variant>" (not for bconv2d_ab.sh).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bconv2d.h"

namespace {

struct Layer {
  int size, channels_in, channels_out;
};

// The four sections' convs and the three transitions (after the 2x2 binary max-pool).
constexpr Layer kLayers[] = {{56, 64, 64},  {28, 128, 128}, {14, 256, 256}, {7, 512, 512},
                             {28, 64, 128}, {14, 128, 256}, {7, 256, 512}};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ITERATIONS [cold] [int8 | residual]\n", argv[0]);
    return 2;
  }
  const int iterations = std::atoi(argv[1]);
  bool cold = false, int8 = false, residual = false;
  for (int i = 2; i < argc; ++i) {
    cold = cold || std::strcmp(argv[i], "cold") == 0;
    int8 = int8 || std::strcmp(argv[i], "int8") == 0;
    residual = residual || std::strcmp(argv[i], "residual") == 0;
  }
  if (int8 && residual) {
    std::fprintf(stderr, "the residual input needs float output\n");
    return 2;
  }
  std::vector<char> other(8 << 20, 1);
  std::mt19937 rng(1);
  for (const Layer& layer : kLayers) {
    lc::BConv2DGeometry g;
    g.in_height = g.in_width = layer.size;
    g.channels_in = layer.channels_in;
    g.channels_out = layer.channels_out;
    g.filter_height = g.filter_width = 3;
    g.padding = lc::Padding::kSame;
    g.pad_value = 1;
    const int words = lc::PackedSize(layer.channels_in);
    std::vector<lc::TBitpacked> input(static_cast<std::size_t>(layer.size) * layer.size * words);
    std::vector<lc::TBitpacked> filter(static_cast<std::size_t>(layer.channels_out) * 9 * words);
    for (auto& v : input) v = static_cast<lc::TBitpacked>(rng());
    for (auto& v : filter) v = static_cast<lc::TBitpacked>(rng());
    std::vector<float> multiplier(layer.channels_out), bias(layer.channels_out);
    // Generic values (decimal steps would put many int8 outputs on exact rounding ties).
    std::uniform_real_distribution<float> multipliers(0.01f, 0.11f), biases(-1.0f, 1.0f);
    for (int c = 0; c < layer.channels_out; ++c) {
      multiplier[c] = multipliers(rng);
      bias[c] = biases(rng);
    }
    lc::OutputTransform transform;
    transform.multiplier = multiplier.data();
    transform.bias = bias.data();
    if (int8) {
      transform.type = lc::OutputType::kInt8;
      transform.int8_scale = 6.0f / 255.0f;
    }
    lc::OutputTransform residual_transform = transform;
    residual_transform.residual = true;
    std::string error;
    auto conv = lc::BConv2D::Create(g, filter.data(), transform, lc::IsaVariant::kAuto, &error);
    auto residual_conv =
        residual ? lc::BConv2D::Create(g, filter.data(), residual_transform, lc::IsaVariant::kAuto, &error)
                 : nullptr;
    if (!conv || (residual && !residual_conv)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    // Float-sized, so either output type fits.
    const std::size_t outputs = static_cast<std::size_t>(layer.size) * layer.size * layer.channels_out;
    std::vector<float> output(outputs), residual_input(residual ? outputs : 0);
    std::uniform_real_distribution<float> residuals(-2.0f, 2.0f);
    for (float& r : residual_input) r = residuals(rng);
    const auto time_run = [&](const lc::BConv2D& c, const float* r) {
      if (cold) {
        for (std::size_t j = 0; j < other.size(); j += 64) ++other[j];
      }
      const auto start = std::chrono::steady_clock::now();
      c.Run(input.data(), 1, output.data(), nullptr, r);
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    const auto median_us = [](std::vector<double> v) {
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      return v[v.size() / 2] * 1e6;
    };
    std::vector<double> seconds, residual_seconds;
    for (int i = 0; i < iterations; ++i) {
      seconds.push_back(time_run(*conv, nullptr));
      if (residual) residual_seconds.push_back(time_run(*residual_conv, residual_input.data()));
    }
    std::printf("%dx%dx%d->%d %.1f", layer.size, layer.size, layer.channels_in, layer.channels_out,
                median_us(seconds));
    if (residual) {
      const double with = median_us(residual_seconds);
      std::printf(" %.1f %.3f", with, with / median_us(seconds));
    }
    std::printf(" %s\n", conv->VariantName());
  }
  return 0;
}
