// LceBconv2d (docs/op-format.md) on top of lc::BConv2D.
#include <algorithm>

#include "runtime/core/bconv2d.h"
#include "runtime/core/bgemm.h"
#include "runtime/core/bitpack.h"
#include "runtime/ops/lce_ops.h"
#include "runtime/ops/op_common.h"

namespace lc::ops {
namespace {

class LceBconv2d : public OpKernel {
 public:
  bool Init(const NodeInfo& node, const std::uint8_t* data, std::size_t size,
            std::string* error) override {
    FlexbufferMap options;
    int padding = 0;
    if (!ParseOptions(data, size, &options, error) ||
        !GetIntOption(options, "channels_in", 1, 1 << 24, &geometry_.channels_in, error) ||
        !GetIntOption(options, "dilation_height_factor", 1, 1 << 16, &geometry_.dilation_height,
                      error) ||
        !GetIntOption(options, "dilation_width_factor", 1, 1 << 16, &geometry_.dilation_width,
                      error) ||
        !GetIntOption(options, "stride_height", 1, 1 << 16, &geometry_.stride_height, error) ||
        !GetIntOption(options, "stride_width", 1, 1 << 16, &geometry_.stride_width, error) ||
        !GetIntOption(options, "padding", 0, 1, &padding, error) ||
        !GetIntOption(options, "pad_values", 0, 1, &geometry_.pad_value, error) ||
        !CheckCounts(node, 2, 6, 1, error) ||
        !CheckInputType(node, 0, {ElementType::kInt32}, error) ||
        !CheckInputType(node, 1, {ElementType::kInt32, ElementType::kFloat32}, error) ||
        !InitOutputTransform(node, options, &transform_, error)) {
      return false;
    }
    geometry_.padding = static_cast<Padding>(padding);
    if (!InitResidual(node, options, error)) return false;

    // Filter: [C_out, KH, KW, depth]; depth is packed words (int32) or channels (float32).
    const TensorInfo& filter = node.inputs[1];
    if (filter.shape.size() != 4 || filter.shape[0] <= 0 || filter.shape[1] <= 0 ||
        filter.shape[2] <= 0 || filter.shape[3] <= 0) {
      *error = "filter (input 1) must be a constant [C_out, KH, KW, depth] tensor, got shape " +
               ShapeText(filter.shape);
      return false;
    }
    float_filter_ = filter.type == ElementType::kFloat32;
    geometry_.channels_out = filter.shape[0];
    geometry_.filter_height = filter.shape[1];
    geometry_.filter_width = filter.shape[2];
    const int depth = filter.shape[3];
    const int c_in = geometry_.channels_in;
    int per_group = 0;
    if (float_filter_) {
      per_group = depth;
    } else if (depth == PackedSize(c_in)) {
      per_group = c_in;
    } else if (PackedSize(c_in) % depth == 0) {
      per_group = c_in / (PackedSize(c_in) / depth);
    }
    if (per_group <= 0 || c_in % per_group != 0) {
      *error = "filter depth " + std::to_string(depth) + " does not match channels_in = " +
               std::to_string(c_in) + " with a whole number of groups";
      return false;
    }
    geometry_.groups = c_in / per_group;
    filter_words_ = PackedSize(per_group);
    if (!filter.constant) {
      *error = "filter (input 1) must be a constant tensor";
      return false;
    }
    // The kernels pack whole groups into words (LCE's rule: channels per group a multiple of
    // 32). A float filter may have other group sizes; those run as one conv per group.
    split_groups_ = float_filter_ && geometry_.groups > 1 && per_group % kBitsPerWord != 0
                        ? geometry_.groups
                        : 1;
    if (geometry_.channels_out % geometry_.groups != 0) {
      *error = "channels_out = " + std::to_string(geometry_.channels_out) +
               " is not a multiple of the " + std::to_string(geometry_.groups) + " groups";
      return false;
    }
    // Geometry checks that do not depend on the input size, with a placeholder size and arrays.
    BConv2DGeometry probe = ConvGeometry();
    probe.in_height = probe.in_width = 1 << 12;
    const std::vector<float> ones(geometry_.channels_out, 1.0f);
    const std::vector<std::int32_t> zeros(geometry_.channels_out, 0);
    OutputTransform transform = transform_;
    transform.multiplier = transform.bias = ones.data();
    transform.thresholds = zeros.data();
    const std::string invalid = ValidateBConv2D(probe, transform);
    if (!invalid.empty()) {
      *error = invalid;
      return false;
    }
    // Kernels are chosen once, here, so a forced variant the CPU or build lacks fails at load.
    if (!ResolveBGemmVariant(&variant_, error)) return false;
    if (float_filter_) {
      bitpack_ = SelectBitpackKernels(IsaVariant::kAuto, error);
      if (bitpack_ == nullptr) return false;
    }
    return true;
  }

  bool InferOutputShapes(const std::vector<std::vector<int>>& in,
                         std::vector<std::vector<int>>* out, std::string* error) override {
    const std::vector<int>& x = in[0];
    if (x.size() != 4 || x[3] != PackedSize(geometry_.channels_in)) {
      *error = "input 0 must be bit-packed [N, H, W, " +
               std::to_string(PackedSize(geometry_.channels_in)) + "] for channels_in = " +
               std::to_string(geometry_.channels_in) + ", got " + ShapeText(x);
      return false;
    }
    BConv2DGeometry g = geometry_;
    g.in_height = x[1];
    g.in_width = x[2];
    const int oh = g.OutHeight(), ow = g.OutWidth();
    if (oh <= 0 || ow <= 0) {
      *error = "input of shape " + ShapeText(x) + " is smaller than the " +
               std::to_string(g.filter_height) + "x" + std::to_string(g.filter_width) +
               " (dilated) filter";
      return false;
    }
    const int depth = transform_.type == OutputType::kBitpacked ? PackedSize(g.channels_out)
                                                                 : g.channels_out;
    *out = {{x[0], oh, ow, depth}};
    // The residual is added element by element: it must have exactly the output's shape, also
    // after a resize (no broadcasting).
    if (transform_.residual && in[kResidualInput] != (*out)[0]) {
      *error = "residual (input 5) must have the output's shape " + ShapeText((*out)[0]) +
               ", got " + ShapeText(in[kResidualInput]);
      return false;
    }
    return true;
  }

  bool Run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, ThreadPool* pool,
           std::string* error) override {
    const std::vector<int>& x = in[0].shape;
    if (convs_.empty() || x[1] != geometry_.in_height || x[2] != geometry_.in_width ||
        in[1].data != filter_source_) {
      if (!Build(in, x[1], x[2], error)) return false;
    }
    const auto* input = static_cast<const TBitpacked*>(in[0].data);
    const float* residual = nullptr;
    if (transform_.residual) {
      // Shapes were checked by InferOutputShapes; the byte count guards against a buffer that
      // does not match them.
      if (in[kResidualInput].bytes < out[0].bytes) {
        *error = "residual (input 5) holds " + std::to_string(in[kResidualInput].bytes) +
                 " bytes, the output " + std::to_string(out[0].bytes);
        return false;
      }
      residual = static_cast<const float*>(in[kResidualInput].data);
    }
    if (split_groups_ == 1) {
      convs_[0]->Run(input, x[0], out[0].data, pool, residual);
    } else {
      RunPerGroup(input, x, out[0], residual, pool);
    }
    return true;
  }

 private:
  static constexpr int kResidualInput = 5;

  // The optional residual input and its activation (extensions, docs/op-format.md): float32,
  // float output only.
  bool InitResidual(const NodeInfo& node, const FlexbufferMap& options, std::string* error) {
    int activation = 0;
    if (!GetOptionalIntOption(options, "residual_activation_function", 0, 3, 0, &activation, error)) {
      return false;
    }
    if (!InputPresent(node, kResidualInput)) {
      if (activation != 0) {
        *error = "custom option 'residual_activation_function' needs the residual input 5";
        return false;
      }
      return true;
    }
    const TensorInfo& residual = node.inputs[kResidualInput];
    if (residual.type != ElementType::kFloat32) {
      *error = std::string("residual (input 5, '") + residual.name + "') must be float32, got " +
               ElementTypeName(residual.type);
      return false;
    }
    if (transform_.type != OutputType::kFloat) {
      *error = std::string("residual (input 5, '") + residual.name +
               "') needs float32 output, but output 0 is " +
               ElementTypeName(node.outputs[0].type) +
               (transform_.type == OutputType::kBitpacked ? " (bit-packed)" : "");
      return false;
    }
    transform_.residual = true;
    transform_.residual_activation = static_cast<Activation>(activation);
    ActivationBounds(transform_.residual_activation, &residual_low_, &residual_high_);
    return true;
  }

  // The geometry of each kernel object: the whole conv, or one group of a split one.
  BConv2DGeometry ConvGeometry() const {
    BConv2DGeometry g = geometry_;
    if (split_groups_ > 1) {
      g.channels_in /= split_groups_;
      g.channels_out /= split_groups_;
      g.groups = 1;
    }
    return g;
  }

  // Packs / re-lays out the constant filter and copies the transform: once per input size.
  bool Build(const std::vector<TensorView>& in, int height, int width, std::string* error) {
    geometry_.in_height = height;
    geometry_.in_width = width;
    OutputTransform transform = transform_;
    if (!BindOutputTransformInputs(in, geometry_.channels_out, &transform, error)) return false;
    const TBitpacked* filter = static_cast<const TBitpacked*>(in[1].data);
    const std::int64_t rows = static_cast<std::int64_t>(geometry_.channels_out) *
                              geometry_.filter_height * geometry_.filter_width;
    if (float_filter_) {
      packed_filter_.resize(rows * filter_words_);
      bitpack_->pack_float(static_cast<const float*>(in[1].data), rows,
                           geometry_.channels_in / geometry_.groups, packed_filter_.data());
      filter = packed_filter_.data();
    }
    convs_.clear();
    const BConv2DGeometry g = ConvGeometry();
    for (int group = 0; group < split_groups_; ++group) {
      OutputTransform part = transform;
      // Split groups: RunPerGroup adds the residual (and clamps) as it places the groups.
      if (split_groups_ > 1) {
        part.residual = false;
        part.residual_activation = Activation::kNone;
      }
      const int first = group * g.channels_out;
      if (part.multiplier) part.multiplier += first;
      if (part.bias) part.bias += first;
      if (part.thresholds) part.thresholds += first;
      const TBitpacked* part_filter =
          filter + static_cast<std::int64_t>(first) * g.filter_height * g.filter_width *
                       filter_words_;
      auto conv = BConv2D::Create(g, part_filter, part, variant_, error);
      if (!conv) {
        convs_.clear();
        return false;
      }
      convs_.push_back(std::move(conv));
    }
    filter_source_ = in[1].data;
    return true;
  }

  // A split grouped conv: per group, gather its input channels into their own packed tensor, run
  // that group's conv, and place its output channels (plus the residual, if any: the group's
  // kernel object has none, since its output rows are not the residual's).
  void RunPerGroup(const TBitpacked* input, const std::vector<int>& x, const TensorView& out,
                   const float* residual, ThreadPool* pool) {
    const BConv2DGeometry g = ConvGeometry();
    const std::int64_t pixels = static_cast<std::int64_t>(x[0]) * x[1] * x[2];
    const std::int64_t out_pixels =
        static_cast<std::int64_t>(x[0]) * g.OutHeight() * g.OutWidth();
    const int in_words = PackedSize(geometry_.channels_in), group_words = PackedSize(g.channels_in);
    const bool bitpacked = transform_.type == OutputType::kBitpacked;
    const int element = transform_.type == OutputType::kInt8 ? 1 : 4;
    const std::int64_t group_row = bitpacked ? PackedSize(g.channels_out) * 4
                                             : static_cast<std::int64_t>(g.channels_out) * element;
    group_input_.resize(pixels * group_words);
    group_output_.resize(out_pixels * group_row);
    auto* output = static_cast<std::uint8_t*>(out.data);
    const int out_words = PackedSize(geometry_.channels_out);
    if (bitpacked) std::fill(output, output + out_pixels * out_words * 4, 0);
    for (int group = 0; group < split_groups_; ++group) {
      for (std::int64_t p = 0; p < pixels; ++p) {
        CopyBits(input + p * in_words, group * g.channels_in, g.channels_in,
                 group_input_.data() + p * group_words, 0);
      }
      convs_[group]->Run(group_input_.data(), x[0], group_output_.data(), pool);
      for (std::int64_t p = 0; p < out_pixels; ++p) {
        const std::uint8_t* part = group_output_.data() + p * group_row;
        if (bitpacked) {
          CopyBits(reinterpret_cast<const TBitpacked*>(part), 0, g.channels_out,
                   reinterpret_cast<TBitpacked*>(output) + p * out_words,
                   group * g.channels_out);
        } else if (residual != nullptr) {
          const std::int64_t first = p * geometry_.channels_out + group * g.channels_out;
          const auto* y = reinterpret_cast<const float*>(part);
          float* dst = reinterpret_cast<float*>(output) + first;
          for (int c = 0; c < g.channels_out; ++c) {
            dst[c] = std::min(std::max(y[c] + residual[first + c], residual_low_), residual_high_);
          }
        } else {
          std::copy(part, part + group_row,
                    output + (p * geometry_.channels_out + group * g.channels_out) * element);
        }
      }
    }
  }

  // Copies `count` bits starting at bit `from` of `src` to bit `to` of `dst`; other bits of dst
  // keep their value, except that a copy to bit 0 clears the rest of its last word (padding).
  static void CopyBits(const TBitpacked* src, int from, int count, TBitpacked* dst, int to) {
    if (to == 0) std::fill(dst, dst + PackedSize(count), 0);
    for (int i = 0; i < count; ++i) {
      const int s = from + i, d = to + i;
      const std::uint32_t bit = (static_cast<std::uint32_t>(src[s / kBitsPerWord]) >> (s % kBitsPerWord)) & 1u;
      dst[d / kBitsPerWord] = static_cast<TBitpacked>(static_cast<std::uint32_t>(dst[d / kBitsPerWord]) | (bit << (d % kBitsPerWord)));
    }
  }

  BConv2DGeometry geometry_;
  OutputTransform transform_;
  bool float_filter_ = false;
  IsaVariant variant_ = IsaVariant::kAuto;     // resolved at Init
  const BitpackKernels* bitpack_ = nullptr;    // float filters: resolved at Init
  int filter_words_ = 0;
  std::vector<TBitpacked> packed_filter_;
  const void* filter_source_ = nullptr;
  int split_groups_ = 1;  // > 1: one kernel object per group (see Init)
  // Clamp of output + residual: applied here on the split-groups path, in the kernels otherwise.
  float residual_low_ = 0.0f, residual_high_ = 0.0f;
  std::vector<std::unique_ptr<BConv2D>> convs_;
  std::vector<TBitpacked> group_input_;
  std::vector<std::uint8_t> group_output_;
};

}  // namespace

std::unique_ptr<OpKernel> MakeLceBconv2d() { return std::make_unique<LceBconv2d>(); }

}  // namespace lc::ops
