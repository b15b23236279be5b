#include "runtime/core/output_transform.h"

#include <algorithm>
#include <cmath>

namespace lc {
namespace {

// Clamp bounds of a fused activation; false for an unknown enum value.
bool ActivationBounds(Activation activation, float* low, float* high) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  switch (activation) {
    case Activation::kNone: *low = -kInf; *high = kInf; return true;
    case Activation::kRelu: *low = 0.0f; *high = kInf; return true;
    case Activation::kReluN1To1: *low = -1.0f; *high = 1.0f; return true;
    case Activation::kRelu6: *low = 0.0f; *high = 6.0f; return true;
  }
  return false;
}

// Exponent of the last bit of a finite float's significand (normal or subnormal).
int LowestBitExponent(float x) {
  return (std::fpclassify(x) == FP_SUBNORMAL ? -126 : std::ilogb(x)) - 23;
}

}  // namespace

void OutputStage::MarkFmaExact(std::int64_t max_abs_accumulator) {
  fma_exact.assign(multiplier.size(), 0);
  for (std::size_t c = 0; c < multiplier.size(); ++c) {
    const float m = multiplier[c], b = bias[c];
    if (!std::isfinite(m) || !std::isfinite(b)) continue;
    // a * m + b is a multiple of 2^lowest; below 2^(53 + lowest) in magnitude it has at most 53
    // significant bits, so double holds it exactly (one bit of margin for the bound's rounding).
    int lowest = 0;
    if (m != 0.0f && b != 0.0f) {
      lowest = std::min(LowestBitExponent(m), LowestBitExponent(b));
    } else if (m != 0.0f || b != 0.0f) {
      lowest = LowestBitExponent(m != 0.0f ? m : b);
    } else {
      fma_exact[c] = 1;  // y = +-0 in both
      continue;
    }
    const double bound = static_cast<double>(max_abs_accumulator) * std::fabs(m) + std::fabs(b);
    fma_exact[c] = bound < std::ldexp(1.0, 52 + lowest);
  }
}

std::string OutputStage::Make(const OutputTransform& transform, int channels, int padded_channels,
                              OutputStage* stage) {
  if (channels <= 0 || padded_channels < channels) return "output channels must be positive";
  OutputStage s;
  s.type = transform.type;
  float low, high;
  if (!ActivationBounds(transform.accumulator_activation, &low, &high)) {
    return "unknown fused_activation_function " +
           std::to_string(static_cast<int>(transform.accumulator_activation));
  }
  // The accumulator is an integer; its bounds are integers too.
  if (std::isfinite(low)) s.acc_low = static_cast<std::int32_t>(low);
  if (std::isfinite(high)) s.acc_high = static_cast<std::int32_t>(high);
  if (!ActivationBounds(transform.output_activation, &s.out_low, &s.out_high)) {
    return "unknown output_activation_function " +
           std::to_string(static_cast<int>(transform.output_activation));
  }
  switch (transform.type) {
    case OutputType::kInt8:
      if (!(transform.int8_scale > 0.0f) || !std::isfinite(transform.int8_scale)) {
        return "int8 output needs a positive finite scale, got " +
               std::to_string(transform.int8_scale);
      }
      if (transform.int8_zero_point < -128 || transform.int8_zero_point > 127) {
        return "int8 output zero point " + std::to_string(transform.int8_zero_point) +
               " is outside [-128, 127]";
      }
      s.int8_scale = transform.int8_scale;
      s.int8_zero_point = transform.int8_zero_point;
      s.int8_inverse_scale = 1.0f / transform.int8_scale;
      if (!std::isnormal(s.int8_inverse_scale)) {
        s.int8_inverse_scale = std::numeric_limits<float>::quiet_NaN();
      }
      [[fallthrough]];
    case OutputType::kFloat:
      s.multiplier.assign(padded_channels, 0.0f);
      s.bias.assign(padded_channels, 0.0f);
      for (int c = 0; c < channels; ++c) {
        s.multiplier[c] = transform.multiplier ? transform.multiplier[c] : 1.0f;
        s.bias[c] = transform.bias ? transform.bias[c] : 0.0f;
      }
      break;
    case OutputType::kBitpacked:
      if (transform.thresholds == nullptr) return "bit-packed output needs output thresholds";
      s.thresholds.assign(padded_channels, std::numeric_limits<std::int32_t>::max());
      for (int c = 0; c < channels; ++c) s.thresholds[c] = transform.thresholds[c];
      break;
    default:
      return "unknown output type " + std::to_string(static_cast<int>(transform.type));
  }
  *stage = std::move(s);
  return "";
}

}  // namespace lc
