// LceQuantize and LceDequantize (docs/op-format.md): bit-packing along the channel axis.
#include "runtime/core/bitpack.h"
#include "runtime/core/thread_pool.h"
#include "runtime/ops/lce_ops.h"
#include "runtime/ops/op_common.h"

namespace lc::ops {
namespace {

constexpr std::int64_t kRowsPerChunk = 64;

class LceQuantize : public OpKernel {
 public:
  bool Init(const NodeInfo& node, const std::uint8_t*, std::size_t, std::string* error) override {
    if (!CheckCounts(node, 1, 1, 1, error) ||
        !CheckInputType(node, 0, {ElementType::kFloat32, ElementType::kInt8}, error) ||
        !CheckOutputType(node, 0, {ElementType::kInt32}, error)) {
      return false;
    }
    input_type_ = node.inputs[0].type;
    zero_point_ = static_cast<std::int8_t>(node.inputs[0].zero_point);
    bitpack_ = SelectBitpackKernels(IsaVariant::kAuto, error);
    return bitpack_ != nullptr;
  }

  bool InferOutputShapes(const std::vector<std::vector<int>>& in,
                         std::vector<std::vector<int>>* out, std::string* error) override {
    if (in[0].empty()) {
      *error = "input 0 must have at least one dimension (channels), got a scalar";
      return false;
    }
    std::vector<int> shape = in[0];
    shape.back() = PackedSize(shape.back());
    *out = {shape};
    return true;
  }

  bool Run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, ThreadPool* pool,
           std::string*) override {
    const int channels = in[0].shape.empty() ? 1 : in[0].shape.back();
    const std::int64_t rows = LeadingSize(in[0].shape);
    const int words = PackedSize(channels);
    auto* packed = static_cast<TBitpacked*>(out[0].data);
    if (input_type_ == ElementType::kFloat32) {
      const auto* x = static_cast<const float*>(in[0].data);
      ParallelFor(pool, rows, kRowsPerChunk, [&](std::int64_t b, std::int64_t e, int) {
        bitpack_->pack_float(x + b * channels, e - b, channels, packed + b * words);
      });
    } else {
      const auto* x = static_cast<const std::int8_t*>(in[0].data);
      ParallelFor(pool, rows, kRowsPerChunk, [&](std::int64_t b, std::int64_t e, int) {
        bitpack_->pack_int8(x + b * channels, e - b, channels, zero_point_, packed + b * words);
      });
    }
    return true;
  }

 private:
  ElementType input_type_ = ElementType::kFloat32;
  std::int8_t zero_point_ = 0;
  const BitpackKernels* bitpack_ = nullptr;  // resolved once at Init
};

class LceDequantize : public OpKernel {
 public:
  bool Init(const NodeInfo& node, const std::uint8_t*, std::size_t, std::string* error) override {
    if (!CheckCounts(node, 1, 1, 1, error) ||
        !CheckInputType(node, 0, {ElementType::kInt32}, error) ||
        !CheckOutputType(node, 0, {ElementType::kFloat32, ElementType::kInt8}, error)) {
      return false;
    }
    const TensorInfo& output = node.outputs[0];
    output_type_ = output.type;
    if (output.shape.empty() || output.shape.back() <= 0) {
      *error = "output 0 must have a known channel count in its last dimension (got shape " +
               ShapeText(output.shape) + ")";
      return false;
    }
    channels_ = output.shape.back();
    if (output_type_ == ElementType::kInt8) {
      if (!output.has_quantization || !(output.scale > 0.0f)) {
        *error = "int8 output 0 needs a positive per-tensor scale";
        return false;
      }
      scale_ = output.scale;
      zero_point_ = static_cast<int>(output.zero_point);
    }
    return true;
  }

  bool InferOutputShapes(const std::vector<std::vector<int>>& in,
                         std::vector<std::vector<int>>* out, std::string* error) override {
    if (in[0].empty() || in[0].back() != PackedSize(channels_)) {
      *error = "input 0 of shape " + ShapeText(in[0]) + " must end in " +
               std::to_string(PackedSize(channels_)) + " words for " + std::to_string(channels_) +
               " output channels";
      return false;
    }
    std::vector<int> shape = in[0];
    shape.back() = channels_;
    *out = {shape};
    return true;
  }

  bool Run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, ThreadPool* pool,
           std::string*) override {
    const std::int64_t rows = LeadingSize(in[0].shape);
    const int words = PackedSize(channels_);
    const auto* packed = static_cast<const TBitpacked*>(in[0].data);
    if (output_type_ == ElementType::kFloat32) {
      auto* y = static_cast<float*>(out[0].data);
      ParallelFor(pool, rows, kRowsPerChunk, [&](std::int64_t b, std::int64_t e, int) {
        UnpackToFloat(packed + b * words, e - b, channels_, y + b * channels_);
      });
    } else {
      auto* y = static_cast<std::int8_t*>(out[0].data);
      ParallelFor(pool, rows, kRowsPerChunk, [&](std::int64_t b, std::int64_t e, int) {
        UnpackToInt8(packed + b * words, e - b, channels_, scale_, zero_point_, y + b * channels_);
      });
    }
    return true;
  }

 private:
  ElementType output_type_ = ElementType::kFloat32;
  int channels_ = 0;
  float scale_ = 1.0f;
  int zero_point_ = 0;
};

}  // namespace

std::unique_ptr<OpKernel> MakeLceQuantize() { return std::make_unique<LceQuantize>(); }
std::unique_ptr<OpKernel> MakeLceDequantize() { return std::make_unique<LceDequantize>(); }

}  // namespace lc::ops
