// Does an AMX-int8 path on +-1 values beat the VPOPCNTQ kernel? Measures both on the headline
// layer (56x56x64 -> 64, 3x3, stride 1, one-padded SAME, float output), 1 thread, side by side:
//   AMX:      unpack bits to int8 +-1 into a one-padded image (part of the cost), then TDPBSSD
//             with tiles loaded straight from the image (16 consecutive pixels x 64 channels per
//             tap: no im2col), then the float output transform.
//   popcount: lc::BConv2D, avx512 variant.
// Checks that both give the same outputs. Built and run by bench/amx_vs_popcount.sh.
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/bconv2d.h"
#include "runtime/core/bitpack.h"

namespace {

constexpr int kH = 56, kW = 56, kC = 64, kO = 64, kK = 3;
constexpr int kPadded = kW + 2;

struct TileConfig {
  std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

// B tiles in the VNNI layout TDPBSSD wants: per tap and 16-channel output group, 16 rows of
// (4 input channels x 16 output channels) int8.
std::vector<std::int8_t> PackWeightsVnni(const std::vector<float>& w /* OHWI */) {
  std::vector<std::int8_t> b(kK * kK * 4 * 16 * 64);
  for (int t = 0; t < kK * kK; ++t)
    for (int g = 0; g < 4; ++g)
      for (int c = 0; c < kC; ++c)
        for (int n = 0; n < 16; ++n)
          b[((t * 4 + g) * 16 + c / 4) * 64 + n * 4 + c % 4] =
              static_cast<std::int8_t>(w[((g * 16 + n) * kK * kK + t) * kC + c]);
  return b;
}

// +-1 int8 image with a +1 border (one-padding).
void UnpackImage(const lc::TBitpacked* input, std::int8_t* image) {
  std::memset(image, 1, kPadded * kPadded * kC);
  for (int h = 0; h < kH; ++h) {
    for (int w = 0; w < kW; ++w) {
      const auto* words = reinterpret_cast<const std::uint32_t*>(input + (h * kW + w) * 2);
      const __mmask64 negative = (std::uint64_t{words[1]} << 32) | words[0];
      _mm512_storeu_si512(image + ((h + 1) * kPadded + w + 1) * kC,
                          _mm512_mask_blend_epi8(negative, _mm512_set1_epi8(1), _mm512_set1_epi8(-1)));
    }
  }
}

void AmxGemm(const std::int8_t* image, const std::int8_t* b, const float* multiplier,
             const float* bias, float* out) {
  alignas(64) std::int32_t c[16 * 64];
  for (int oh = 0; oh < kH; ++oh) {
    for (int block = 0; block < 4; ++block) {
      const int ow0 = std::min(block * 16, kW - 16);  // the last block overlaps the previous one
      _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
      for (int t = 0; t < kK * kK; ++t) {
        _tile_loadd(4, image + ((oh + t / kK) * kPadded + ow0 + t % kK) * kC, kC);
        const std::int8_t* bt = b + t * 4 * 16 * 64;
        _tile_loadd(5, bt, 64); _tile_dpbssd(0, 4, 5);
        _tile_loadd(6, bt + 1024, 64); _tile_dpbssd(1, 4, 6);
        _tile_loadd(5, bt + 2048, 64); _tile_dpbssd(2, 4, 5);
        _tile_loadd(6, bt + 3072, 64); _tile_dpbssd(3, 4, 6);
      }
      _tile_stored(0, c, 256); _tile_stored(1, c + 16, 256); _tile_stored(2, c + 32, 256); _tile_stored(3, c + 48, 256);
      for (int m = 0; m < 16; ++m) {
        float* o = out + (oh * kW + ow0 + m) * kO;
        for (int n0 = 0; n0 < kO; n0 += 8) {
          const __m512d y = _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm256_load_si256(reinterpret_cast<const __m256i*>(c + m * 64 + n0))),
                                            _mm512_cvtps_pd(_mm256_loadu_ps(multiplier + n0)), _mm512_cvtps_pd(_mm256_loadu_ps(bias + n0)));
          _mm256_storeu_ps(o + n0, _mm512_cvtpd_ps(y));
        }
      }
    }
  }
}

void AmxConv(const lc::TBitpacked* input, const std::int8_t* b, const float* multiplier,
             const float* bias, std::int8_t* image, float* out) {
  UnpackImage(input, image);
  AmxGemm(image, b, multiplier, bias, out);
}

template <typename Fn>
double MedianSeconds(Fn fn, int iterations) {
  std::vector<double> s;
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(s.begin(), s.begin() + s.size() / 2, s.end());
  return s[s.size() / 2];
}

}  // namespace

int main() {
  if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) != 0) {
    std::printf("AMX not available to this process\n");
    return 1;
  }
  std::mt19937 rng(1);
  std::vector<float> x(kH * kW * kC), w(kO * kK * kK * kC), multiplier(kO), bias(kO);
  for (float& v : x) v = rng() & 1 ? 1.0f : -1.0f;
  for (float& v : w) v = rng() & 1 ? 1.0f : -1.0f;
  for (int o = 0; o < kO; ++o) multiplier[o] = 0.25f + o * 0.01f, bias[o] = o * 0.5f - 3.0f;
  std::vector<lc::TBitpacked> input(kH * kW * 2), filter(kO * kK * kK * 2);
  lc::BitpackKernelsPortable()->pack_float(x.data(), kH * kW, kC, input.data());
  lc::BitpackKernelsPortable()->pack_float(w.data(), kO * kK * kK, kC, filter.data());

  lc::BConv2DGeometry g;
  g.in_height = kH, g.in_width = kW, g.channels_in = kC, g.channels_out = kO;
  g.filter_height = g.filter_width = kK, g.padding = lc::Padding::kSame, g.pad_value = 1;
  lc::OutputTransform transform;
  transform.multiplier = multiplier.data(), transform.bias = bias.data();
  std::string error;
  auto conv = lc::BConv2D::Create(g, filter.data(), transform, lc::IsaVariant::kAvx512, &error);
  if (!conv) return std::printf("%s\n", error.c_str()), 1;

  TileConfig config;
  for (int i = 0; i < 7; ++i) config.rows[i] = 16, config.colsb[i] = 64;
  _tile_loadconfig(&config);
  const std::vector<std::int8_t> b = PackWeightsVnni(w);
  std::vector<std::int8_t> image(kPadded * kPadded * kC);
  std::vector<float> out_amx(kH * kW * kO), out_popcount(kH * kW * kO);
  AmxConv(input.data(), b.data(), multiplier.data(), bias.data(), image.data(), out_amx.data());
  conv->Run(input.data(), 1, out_popcount.data(), nullptr);
  const bool same = out_amx == out_popcount;

  double amx = 0, popcount = 0;
  std::vector<double> amx_runs, popcount_runs, gemm_runs;
  for (int round = 0; round < 15; ++round) {  // alternate, so machine load hits both alike
    amx_runs.push_back(MedianSeconds([&] { AmxConv(input.data(), b.data(), multiplier.data(), bias.data(), image.data(), out_amx.data()); }, 40));
    gemm_runs.push_back(MedianSeconds([&] { AmxGemm(image.data(), b.data(), multiplier.data(), bias.data(), out_amx.data()); }, 40));
    popcount_runs.push_back(MedianSeconds([&] { conv->Run(input.data(), 1, out_popcount.data(), nullptr); }, 40));
  }
  std::sort(amx_runs.begin(), amx_runs.end());
  std::sort(popcount_runs.begin(), popcount_runs.end());
  std::sort(gemm_runs.begin(), gemm_runs.end());
  amx = amx_runs[amx_runs.size() / 2], popcount = popcount_runs[popcount_runs.size() / 2];
  _tile_release();
  std::printf("56x56x64 -> 64 3x3 one-padded, float output, 1 thread (median of medians)\n");
  std::printf("  AMX int8 (unpack + TDPBSSD + transform): %8.1f us\n", amx * 1e6);
  std::printf("    of which TDPBSSD + transform alone:   %8.1f us\n", gemm_runs[gemm_runs.size() / 2] * 1e6);
  std::printf("  AVX-512 VPOPCNTQ (lc::BConv2D avx512):   %8.1f us\n", popcount * 1e6);
  std::printf("  AMX / popcount time: %.2f; outputs identical: %s\n", amx / popcount, same ? "yes" : "NO");
  return same ? 0 : 1;
}
