// LceBMaxPool2d (docs/op-format.md) on top of lc::BMaxPool2D.
#include "runtime/core/bmaxpool.h"
#include "runtime/ops/lce_ops.h"
#include "runtime/ops/op_common.h"

namespace lc::ops {
namespace {

class LceBMaxPool2d : public OpKernel {
 public:
  bool Init(const NodeInfo& node, const std::uint8_t* data, std::size_t size,
            std::string* error) override {
    FlexbufferMap options;
    int padding = 0;
    if (!ParseOptions(data, size, &options, error) ||
        !GetIntOption(options, "padding", 0, 1, &padding, error) ||
        !GetIntOption(options, "stride_height", 1, 1 << 16, &geometry_.stride_height, error) ||
        !GetIntOption(options, "stride_width", 1, 1 << 16, &geometry_.stride_width, error) ||
        !GetIntOption(options, "filter_height", 1, 1 << 16, &geometry_.filter_height, error) ||
        !GetIntOption(options, "filter_width", 1, 1 << 16, &geometry_.filter_width, error) ||
        !CheckCounts(node, 1, 1, 1, error) ||
        !CheckInputType(node, 0, {ElementType::kInt32}, error) ||
        !CheckOutputType(node, 0, {ElementType::kInt32}, error)) {
      return false;
    }
    geometry_.padding = static_cast<Padding>(padding);
    return true;
  }

  bool InferOutputShapes(const std::vector<std::vector<int>>& in,
                         std::vector<std::vector<int>>* out, std::string* error) override {
    const std::vector<int>& x = in[0];
    if (x.size() != 4) {
      *error = "input 0 must be bit-packed [N, H, W, words], got " + ShapeText(x);
      return false;
    }
    BMaxPool2DGeometry g = Geometry(x);
    const std::string invalid = ValidateBMaxPool2D(g);
    if (!invalid.empty()) {
      *error = invalid + " (input " + ShapeText(x) + ")";
      return false;
    }
    *out = {{x[0], g.OutHeight(), g.OutWidth(), x[3]}};
    return true;
  }

  bool Run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, ThreadPool* pool,
           std::string*) override {
    BMaxPool2D(Geometry(in[0].shape), static_cast<const TBitpacked*>(in[0].data), in[0].shape[0],
               static_cast<TBitpacked*>(out[0].data), pool);
    return true;
  }

 private:
  BMaxPool2DGeometry Geometry(const std::vector<int>& x) const {
    BMaxPool2DGeometry g = geometry_;
    g.in_height = x[1];
    g.in_width = x[2];
    g.packed_channels = x[3];
    return g;
  }

  BMaxPool2DGeometry geometry_;
};

}  // namespace

std::unique_ptr<OpKernel> MakeLceBMaxPool2d() { return std::make_unique<LceBMaxPool2d>(); }

}  // namespace lc::ops
