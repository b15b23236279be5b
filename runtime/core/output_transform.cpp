#include "runtime/core/output_transform.h"

#include <algorithm>
#include <cmath>

#include "runtime/core/bitpack.h"

namespace lc {

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

namespace {

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

void OutputStage::MarkInt8Exact(std::int64_t max_abs_accumulator) {
  int8_exact.assign(multiplier.size(), 0);
  if (type != OutputType::kInt8) return;
  const std::int64_t low = std::max<std::int64_t>(-max_abs_accumulator, acc_low);
  const std::int64_t high = std::min<std::int64_t>(max_abs_accumulator, acc_high);
  const float zero_point = static_cast<float>(int8_zero_point);
  for (std::size_t c = 0; c < multiplier.size(); ++c) {
    const float m = multiplier[c], b = bias[c];
    if (!std::isfinite(m) || !std::isfinite(b) || low > high) continue;
    const auto y = [&](std::int64_t a) {
      const float v = static_cast<float>(static_cast<double>(a) * m + b);
      return std::min(std::max(v, out_low), out_high);
    };
    const auto exact = [&](std::int64_t a) { return QuantizeToInt8(y(a), int8_scale, int8_zero_point); };
    const auto fast = [&](std::int64_t a) {
      const float v = std::fma(y(a), int8_inverse_scale, zero_point);
      if (!(v >= -2147483648.0f && v < 2147483648.0f)) return std::int8_t{-128};  // INT32_MIN
      return static_cast<std::int8_t>(std::clamp(std::nearbyint(v), -128.0f, 127.0f));
    };
    // Walk from the middle of the range to each end; q and q' only move towards the end's
    // saturation value (+127 where y grows, -128 where it falls), so once both hold it they keep it.
    const std::int64_t middle = std::clamp<std::int64_t>(0, low, high);
    bool agree = true;
    for (int direction : {1, -1}) {
      const bool rising = (direction > 0) == (m > 0.0f);
      const std::int8_t end = m == 0.0f ? exact(middle) : (rising ? 127 : -128);
      for (std::int64_t a = middle; agree && a >= low && a <= high; a += direction) {
        const std::int8_t q = exact(a);
        agree = q == fast(a);
        if (q == end && agree) break;
      }
    }
    // The ends too: past the last accumulator walked, v may still grow beyond int32.
    int8_exact[c] = agree && exact(low) == fast(low) && exact(high) == fast(high);
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
  if (transform.residual && transform.type != OutputType::kFloat) {
    return "a residual input needs float output (int8 and bit-packed outputs cannot add one)";
  }
  s.residual = transform.residual;
  if (!ActivationBounds(transform.residual_activation, &s.residual_low, &s.residual_high)) {
    return "unknown residual_activation_function " +
           std::to_string(static_cast<int>(transform.residual_activation));
  }
  if (!transform.residual && transform.residual_activation != Activation::kNone) {
    return "residual_activation_function needs a residual input";
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
