// LceBFullyConnected (extension, docs/op-format.md) on top of lc::BFullyConnected.
#include "runtime/core/bfully_connected.h"
#include "runtime/core/bgemm.h"
#include "runtime/ops/lce_ops.h"
#include "runtime/ops/op_common.h"

namespace lc::ops {
namespace {

class LceBFullyConnected : public OpKernel {
 public:
  bool Init(const NodeInfo& node, const std::uint8_t* data, std::size_t size,
            std::string* error) override {
    FlexbufferMap options;
    if (!ParseOptions(data, size, &options, error) ||
        !GetIntOption(options, "channels_in", 1, 1 << 24, &channels_in_, error) ||
        !CheckCounts(node, 2, 5, 1, error) ||
        !CheckInputType(node, 0, {ElementType::kInt32}, error) ||
        !CheckInputType(node, 1, {ElementType::kInt32}, error) ||
        !InitOutputTransform(node, options, &transform_, error)) {
      return false;
    }
    const std::vector<int>& weights = node.inputs[1].shape;
    if (weights.size() != 2 || weights[0] <= 0 || weights[1] != PackedSize(channels_in_)) {
      *error = "weights (input 1) must be bit-packed [C_out, " +
               std::to_string(PackedSize(channels_in_)) + "] for channels_in = " +
               std::to_string(channels_in_) + ", got " + ShapeText(weights);
      return false;
    }
    if (!node.inputs[1].constant) {
      *error = "weights (input 1) must be a constant tensor";
      return false;
    }
    channels_out_ = weights[0];
    // Chosen once, here, so a forced variant the CPU or build lacks fails at load.
    return ResolveBGemmVariant(&variant_, error);
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
      OutputTransform transform = transform_;
      if (!BindOutputTransformInputs(in, channels_out_, &transform, error)) return false;
      fc_ = BFullyConnected::Create(channels_in_, channels_out_,
                                    static_cast<const TBitpacked*>(in[1].data), transform,
                                    variant_, error);
      if (!fc_) return false;
      weights_source_ = in[1].data;
    }
    fc_->Run(static_cast<const TBitpacked*>(in[0].data), LeadingSize(in[0].shape), out[0].data,
             pool);
    return true;
  }

 private:
  int channels_in_ = 0, channels_out_ = 0;
  IsaVariant variant_ = IsaVariant::kAuto;  // resolved at Init
  OutputTransform transform_;
  const void* weights_source_ = nullptr;
  std::unique_ptr<BFullyConnected> fc_;
};

}  // namespace

std::unique_ptr<OpKernel> MakeLceBFullyConnected() {
  return std::make_unique<LceBFullyConnected>();
}

}  // namespace lc::ops
