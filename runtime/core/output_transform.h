// The output transform fused into the binary conv / fully-connected kernels (docs/op-format.md).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "runtime/core/types.h"

namespace lc {

// How close to a half-integer (in units of the int8 scale) y * int8_inverse_scale may come before
// a kernel falls back to the exact y / int8_scale (OutputStage).
constexpr float kInt8TieMargin = 1.0f / 2048;

// Clamp bounds of a fused activation (+-infinity where unbounded); false for an unknown enum value.
bool ActivationBounds(Activation activation, float* low, float* high);

// What the caller asks for. Arrays are only read during Create and copied.
struct OutputTransform {
  OutputType type = OutputType::kFloat;
  // Float and int8 outputs: y = multiplier[o] * clamp_acc(conv) + bias[o], then clamp_out(y).
  const float* multiplier = nullptr;  // [channels_out]; null means all 1
  const float* bias = nullptr;        // [channels_out]; null means all 0
  Activation accumulator_activation = Activation::kNone;  // LCE's fused_activation_function
  Activation output_activation = Activation::kNone;       // extension output_activation_function
  // Int8 output: q = saturate(round_half_away(y / int8_scale) + int8_zero_point).
  float int8_scale = 1.0f;
  int int8_zero_point = 0;
  // Bit-packed output: bit = popcount > thresholds[o] (bit 1 = -1). Required for that type.
  const std::int32_t* thresholds = nullptr;
  // Float output only (extension residual input of LceBconv2d): the kernel's Run takes a float
  // tensor of the output's shape and writes clamp_out(y) + residual (one float32 add, after y
  // and its clamp are final), so a following residual ADD op is not needed.
  bool residual = false;
  // With a residual: clamp of the sum (extension residual_activation_function; the ADD's own
  // fused activation).
  Activation residual_activation = Activation::kNone;
};

// The transform with its arrays copied and the clamps resolved, as every kernel variant applies it.
// Numerics, identical in every variant and in tests/support/numpy_reference.py:
//   conv = K - 2 * popcount (- zero-padding correction)
//   a = clamp(conv, acc_low, acc_high)                          (integer)
//   y = float32(double(a) * double(multiplier) + double(bias))  (exact product, one rounding
//                                                                  in double; FMA-proof)
//   y = min(max(y, out_low), out_high)
//   float with a residual: out = y + residual[same index as out]  (float32 add)
//                          out = min(max(out, residual_low), residual_high)
//   int8: q = clamp(round_half_away(y / scale) + zero_point, -128, 127) (float32 division)
// Int8 without the division: v = fma(y, int8_inverse_scale, zero_point) (or the product and the
// sum rounded apart) is within 2^-12 of float32(y / scale) + zero_point wherever q does not
// saturate (|y / scale| <= 512: at most four roundings, each below 2^-15), and rounding to nearest
// commutes with adding an integer except at ties. So where v lies more than kInt8TieMargin from
// a half-integer, q = clamp(nearest(v), -128, 127); kernels redo the exact division only for the
// rare values that close (and for NaN or huge v).
struct OutputStage {
  OutputType type = OutputType::kFloat;
  std::vector<float> multiplier, bias;
  std::vector<std::int32_t> thresholds;  // padded with INT32_MAX so padding channels give bit 0
  std::int32_t acc_low = std::numeric_limits<std::int32_t>::min();
  std::int32_t acc_high = std::numeric_limits<std::int32_t>::max();
  float out_low = -std::numeric_limits<float>::infinity();
  float out_high = std::numeric_limits<float>::infinity();
  float int8_scale = 1.0f;
  int int8_zero_point = 0;
  // float32(1 / int8_scale) when that is a normal float, else NaN (every value takes the exact
  // division).
  float int8_inverse_scale = 1.0f;
  // Float / int8 outputs, per channel: 1 when float32 fma(float(a), multiplier, bias) rounds
  // to the same y as the double expression above for every |a| <= the bound given to
  // MarkFmaExact (then a * multiplier + bias is exact in double, so the double expression rounds
  // once, as the FMA does). Empty until MarkFmaExact: no channel is marked.
  std::vector<std::uint8_t> fma_exact;

  // Int8 output, per channel: 1 when the int8 shortcut without the tie test,
  //   q' = saturate(v is NaN or outside int32 ? INT32_MIN : nearest_even(v)),
  //   v = fma(y, int8_inverse_scale, zero_point),
  // equals q for every accumulator (checked at Create, exhaustively where q is not saturated:
  // both move monotonically towards one saturation value per direction, so past the first
  // accumulator where both hold it they agree, as long as v stays inside int32, which the range
  // ends show). Kernels skip the tie test for such channels. Empty until MarkInt8Exact.
  std::vector<std::uint8_t> int8_exact;

  // Float output: Run adds a residual tensor, then clamps the sum. (Last, so the fields the
  // output stages read per tile keep their layout: acc_low and acc_high stay one 64-bit load.)
  bool residual = false;
  float residual_low = -std::numeric_limits<float>::infinity();
  float residual_high = std::numeric_limits<float>::infinity();

  // Fills fma_exact for accumulators of magnitude at most `max_abs_accumulator` (K).
  void MarkFmaExact(std::int64_t max_abs_accumulator);
  // Fills int8_exact (int8 output only) for the same accumulators.
  void MarkInt8Exact(std::int64_t max_abs_accumulator);

  // `padded_channels` >= channels: the arrays are extended with neutral values up to it.
  // Returns an error message, empty on success.
  static std::string Make(const OutputTransform& transform, int channels, int padded_channels,
                          OutputStage* stage);
};

}  // namespace lc
