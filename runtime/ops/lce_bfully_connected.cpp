// LceBFullyConnected (extension, docs/op-format.md) on top of lc::BFullyConnected.
#include "runtime/core/bfully_connected.h"
#include "runtime/ops/lce_ops.h"
#include "runtime/ops/op_common.h"

namespace lc::ops {
namespace {

class LceBFullyConnected : public OpKernel {
 public:
  bool Init(const NodeInfo& node, const std::uint8_t* data, std::size_t size,
            std::string* error) override {
    FlexbufferMap options;
    int fused = 0, output_activation = 0;
    if (!ParseOptions(data, size, &options, error) ||
        !GetIntOption(options, "channels_in", 1, 1 << 24, &channels_in_, error) ||
        !GetIntOption(options, "fused_activation_function", 0, 3, &fused, error) ||
        !GetOptionalIntOption(options, "output_activation_function", 0, 3, 0, &output_activation,
                              error) ||
        !CheckCounts(node, 2, 5, 1, error) ||
        !CheckInputType(node, 0, {ElementType::kInt32}, error) ||
        !CheckInputType(node, 1, {ElementType::kInt32}, error) ||
        !CheckOutputType(node, 0, {ElementType::kFloat32, ElementType::kInt8, ElementType::kInt32},
                         error)) {
      return false;
    }
    transform_.accumulator_activation = static_cast<Activation>(fused);
    transform_.output_activation = static_cast<Activation>(output_activation);
    const TensorInfo& output = node.outputs[0];
    transform_.type = OutputTypeOf(output.type);
    if (transform_.type == OutputType::kBitpacked) {
      if (!CheckInputType(node, 4, {ElementType::kInt32}, error)) {
        *error = "bit-packed output needs output_threshold: " + *error;
        return false;
      }
    } else if (!CheckInputType(node, 2, {ElementType::kFloat32}, error) ||
               !CheckInputType(node, 3, {ElementType::kFloat32}, error)) {
      *error = "float/int8 output needs post_activation_multiplier and _bias: " + *error;
      return false;
    }
    if (transform_.type == OutputType::kInt8) {
      if (!output.has_quantization || !(output.scale > 0.0f)) {
        *error = "int8 output 0 needs a positive per-tensor scale";
        return false;
      }
      transform_.int8_scale = output.scale;
      transform_.int8_zero_point = static_cast<int>(output.zero_point);
    }
    const std::vector<int>& weights = node.inputs[1].shape;
    if (weights.size() != 2 || weights[0] <= 0 || weights[1] != PackedSize(channels_in_)) {
      *error = "weights (input 1) must be bit-packed [C_out, " +
               std::to_string(PackedSize(channels_in_)) + "] for channels_in = " +
               std::to_string(channels_in_) + ", got " + ShapeText(weights);
      return false;
    }
    channels_out_ = weights[0];
    return true;
  }

  bool InferOutputShapes(const std::vector<std::vector<int>>& in,
                         std::vector<std::vector<int>>* out, std::string* error) override {
    const std::vector<int>& x = in[0];
    if (x.empty() || x.back() != PackedSize(channels_in_)) {
      *error = "input 0 must be bit-packed [..., " + std::to_string(PackedSize(channels_in_)) +
               "] for channels_in = " + std::to_string(channels_in_) + ", got " + ShapeText(x);
      return false;
    }
    std::vector<int> shape = x;
    shape.back() =
        transform_.type == OutputType::kBitpacked ? PackedSize(channels_out_) : channels_out_;
    *out = {shape};
    return true;
  }

  bool Run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, ThreadPool* pool,
           std::string* error) override {
    if (!fc_ || in[1].data != weights_source_) {
      const std::size_t per_channel = static_cast<std::size_t>(channels_out_) * 4;
      const bool bitpacked = transform_.type == OutputType::kBitpacked;
      for (int index : bitpacked ? std::vector<int>{4} : std::vector<int>{2, 3}) {
        if (in[index].bytes < per_channel) {
          *error = "input " + std::to_string(index) + " needs one value per output channel (" +
                   std::to_string(channels_out_) + ")";
          return false;
        }
      }
      OutputTransform transform = transform_;
      if (bitpacked) {
        transform.thresholds = static_cast<const std::int32_t*>(in[4].data);
      } else {
        transform.multiplier = static_cast<const float*>(in[2].data);
        transform.bias = static_cast<const float*>(in[3].data);
      }
      fc_ = BFullyConnected::Create(channels_in_, channels_out_,
                                    static_cast<const TBitpacked*>(in[1].data), transform,
                                    IsaVariant::kAuto, error);
      if (!fc_) return false;
      weights_source_ = in[1].data;
    }
    fc_->Run(static_cast<const TBitpacked*>(in[0].data), LeadingSize(in[0].shape), out[0].data,
             pool);
    return true;
  }

 private:
  int channels_in_ = 0, channels_out_ = 0;
  OutputTransform transform_;
  const void* weights_source_ = nullptr;
  std::unique_ptr<BFullyConnected> fc_;
};

}  // namespace

std::unique_ptr<OpKernel> MakeLceBFullyConnected() {
  return std::make_unique<LceBFullyConnected>();
}

}  // namespace lc::ops
