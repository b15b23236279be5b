#include "runtime/core/bconv2d.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "runtime/core/bgemm_driver.h"

namespace lc {

namespace {

int EffectiveSize(int filter, int dilation) { return (filter - 1) * dilation + 1; }

int OutSize(int in, int filter, int stride, int dilation, Padding padding) {
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  const int effective = EffectiveSize(filter, dilation);
  return in >= effective ? (in - effective) / stride + 1 : 0;
}

int PadBefore(int in, int filter, int stride, int dilation, Padding padding) {
  if (padding != Padding::kSame) return 0;
  const int out = OutSize(in, filter, stride, dilation, padding);
  const int total = std::max((out - 1) * stride + EffectiveSize(filter, dilation) - in, 0);
  return total / 2;
}

// Valid filter offsets [first, last] (or an empty range) of one output row or column.
std::pair<int, int> ValidTaps(int out_index, int in, int filter, int stride, int dilation,
                              int pad) {
  int first = filter, last = -1;
  for (int k = 0; k < filter; ++k) {
    const int i = out_index * stride - pad + k * dilation;
    if (i >= 0 && i < in) {
      first = std::min(first, k);
      last = std::max(last, k);
    }
  }
  return {first, last};
}

// Per output row (or column): index of its class of valid filter offsets.
std::vector<int> TapClasses(int out, int in, int filter, int stride, int dilation, int pad,
                            std::vector<std::pair<int, int>>* classes) {
  std::map<std::pair<int, int>, int> ids;
  std::vector<int> class_of(out);
  for (int o = 0; o < out; ++o) {
    const auto range = ValidTaps(o, in, filter, stride, dilation, pad);
    auto it = ids.find(range);
    if (it == ids.end()) {
      it = ids.emplace(range, static_cast<int>(classes->size())).first;
      classes->push_back(range);
    }
    class_of[o] = it->second;
  }
  return class_of;
}

class BConv2DImpl final : public BConv2D {
 public:
  BConv2DImpl(const BConv2DGeometry& g, const TBitpacked* filter, const BGemmKernels& kernels,
              OutputStage stage)
      : g_(g), kernels_(kernels), stage_(std::move(stage)) {
    const std::int64_t k = static_cast<std::int64_t>(g.filter_height) * g.filter_width * (g.channels_in / g.groups);
    stage_.MarkFmaExact(k);
    stage_.MarkInt8Exact(k);
    out_h_ = g.OutHeight();
    out_w_ = g.OutWidth();
    pad_top_ = g.PadTop();
    pad_left_ = g.PadLeft();
    in_words_ = PackedSize(g.channels_in);
    const int group_in = g.channels_in / g.groups;
    const int words = PackedSize(group_in);
    const int taps = g.filter_height * g.filter_width;
    k_ = taps * group_in;
    columns_ = PackedColumns::Pack(filter, g.channels_out, g.groups, taps, words, kernels);
    // Convs whose taps reach past the input (SAME padding) run on a copy of each image framed by
    // all-zero (+1) pixels, so every tap of every output pixel is one fixed offset from the
    // pixel's first tap.
    const int rows_read = (out_h_ - 1) * g.stride_height + EffectiveSize(g.filter_height, g.dilation_height);
    const int cols_read = (out_w_ - 1) * g.stride_width + EffectiveSize(g.filter_width, g.dilation_width);
    padded_height_ = std::max(rows_read, pad_top_ + g.in_height);
    padded_width_ = std::max(cols_read, pad_left_ + g.in_width);
    if (padded_height_ != g.in_height || padded_width_ != g.in_width || pad_top_ || pad_left_) {
      padded_.assign(static_cast<std::size_t>(padded_height_) * padded_width_ * in_words_, 0);
    }
    for (int kh = 0; kh < g.filter_height; ++kh) {
      for (int kw = 0; kw < g.filter_width; ++kw) {
        tap_offsets_.push_back((static_cast<std::ptrdiff_t>(kh) * g.dilation_height * padded_width_ +
                                static_cast<std::ptrdiff_t>(kw) * g.dilation_width) *
                               in_words_);
      }
    }
    // Output rows / columns whose taps are all inside the input.
    std::vector<std::pair<int, int>> row_classes, col_classes;
    row_class_ = TapClasses(out_h_, g.in_height, g.filter_height, g.stride_height,
                            g.dilation_height, pad_top_, &row_classes);
    col_class_ = TapClasses(out_w_, g.in_width, g.filter_width, g.stride_width, g.dilation_width,
                            pad_left_, &col_classes);
    const auto full = [](std::pair<int, int> r, int filter) {
      return r.first == 0 && r.second == filter - 1;
    };
    row_inside_.resize(out_h_);
    col_inside_.resize(out_w_);
    for (int i = 0; i < out_h_; ++i) row_inside_[i] = full(row_classes[row_class_[i]], g.filter_height);
    for (int i = 0; i < out_w_; ++i) col_inside_[i] = full(col_classes[col_class_[i]], g.filter_width);
    if (g.padding == Padding::kSame && g.pad_value == 0) {
      BuildZeroPaddingCorrections(filter, words, row_classes, col_classes);
    }
  }

  void Run(const TBitpacked* input, int batch, void* output, ThreadPool* pool,
           const float* residual) const override {
    if (batch <= 0 || out_h_ == 0 || out_w_ == 0) return;
    // Only a float output created with transform.residual reads one (int8 / bit-packed output
    // stages never look at it; Create rejected residual for them).
    if (!stage_.residual) residual = nullptr;
    const std::int64_t plane = static_cast<std::int64_t>(out_h_) * out_w_;
    const std::int64_t image_words = static_cast<std::int64_t>(g_.in_height) * g_.in_width * in_words_;
    const std::size_t out_bytes = static_cast<std::size_t>(plane) *
                                  (stage_.type == OutputType::kBitpacked ? PackedSize(g_.channels_out) * 4
                                   : stage_.type == OutputType::kInt8  ? g_.channels_out
                                                                       : g_.channels_out * 4);
    const std::ptrdiff_t pixel_step = static_cast<std::ptrdiff_t>(g_.stride_width) * in_words_;
    const std::ptrdiff_t row_step = static_cast<std::ptrdiff_t>(g_.stride_height) * padded_width_ * in_words_;
    for (int b = 0; b < batch; ++b) {
      const TBitpacked* image = input + b * image_words;
      if (!padded_.empty()) {
        // Rows of the image into the frame; the frame's zero border is never written.
        const std::size_t row_words = static_cast<std::size_t>(g_.in_width) * in_words_;
        for (int ih = 0; ih < g_.in_height; ++ih) {
          std::memcpy(padded_.data() + (static_cast<std::size_t>(pad_top_ + ih) * padded_width_ + pad_left_) * in_words_,
                      image + ih * row_words, row_words * sizeof(TBitpacked));
        }
        image = padded_.data();
      }
      const auto fill = [&](std::int64_t pixel0, int count, const TBitpacked** rows,
                            const std::int32_t** corrections) {
        // Position of pixel0; later pixels step along the row without divisions.
        int oh = static_cast<int>(pixel0 / out_w_);
        int ow = static_cast<int>(pixel0 % out_w_);
        const TBitpacked* row = image + oh * row_step;
        for (int m = 0; m < count; ++m) {
          rows[m] = row + ow * pixel_step;
          corrections[m] = corrections_.empty() || (row_inside_[oh] && col_inside_[ow])
                               ? nullptr
                               : corrections_.data() +
                                     static_cast<std::size_t>(row_class_[oh] * num_col_classes_ + col_class_[ow]) *
                                         g_.channels_out;
          if (++ow == out_w_) {
            ow = 0;
            ++oh;
            row += row_step;
          }
        }
      };
      RunBGemm(kernels_, columns_, tap_offsets_.data(), stage_, k_, g_.channels_out, plane,
               static_cast<char*>(output) + b * out_bytes,
               residual != nullptr ? residual + b * plane * g_.channels_out : nullptr, pool, fill);
    }
  }

  const char* VariantName() const override { return kernels_.name; }

 private:
  // Zero padding: a padded tap reads +1 (bit 0), adding sum_c w_c to conv where it should add 0.
  // corrections_[class][o] = sum over the class's padded taps of sum_c w[o][tap][c].
  void BuildZeroPaddingCorrections(const TBitpacked* filter, int words,
                                   const std::vector<std::pair<int, int>>& row_classes,
                                   const std::vector<std::pair<int, int>>& col_classes) {
    const int group_in = g_.channels_in / g_.groups;
    const int taps = g_.filter_height * g_.filter_width;
    num_col_classes_ = static_cast<int>(col_classes.size());
    corrections_.assign(row_classes.size() * col_classes.size() * g_.channels_out, 0);
    for (std::size_t rc = 0; rc < row_classes.size(); ++rc) {
      for (std::size_t cc = 0; cc < col_classes.size(); ++cc) {
        std::int32_t* row = corrections_.data() + (rc * col_classes.size() + cc) * g_.channels_out;
        for (int o = 0; o < g_.channels_out; ++o) {
          for (int t = 0; t < taps; ++t) {
            const int kh = t / g_.filter_width, kw = t % g_.filter_width;
            const bool inside = kh >= row_classes[rc].first && kh <= row_classes[rc].second &&
                                kw >= col_classes[cc].first && kw <= col_classes[cc].second;
            if (inside) continue;
            int negatives = 0;
            for (int w = 0; w < words; ++w) {
              negatives += __builtin_popcount(static_cast<std::uint32_t>(
                  filter[(static_cast<std::size_t>(o) * taps + t) * words + w]));
            }
            row[o] += group_in - 2 * negatives;
          }
        }
      }
    }
  }

  BConv2DGeometry g_;
  const BGemmKernels& kernels_;
  OutputStage stage_;
  int out_h_ = 0, out_w_ = 0, pad_top_ = 0, pad_left_ = 0, in_words_ = 0, k_ = 0;
  PackedColumns columns_;
  // SAME padding: one image framed by all-zero (+1) pixels, [padded_height_, padded_width_,
  // in_words_]; Run copies each image into it (so Run is not reentrant on one object).
  int padded_height_ = 0, padded_width_ = 0;
  mutable std::vector<TBitpacked> padded_;
  std::vector<std::ptrdiff_t> tap_offsets_;  // [taps]: word offset of each filter tap
  std::vector<int> row_class_, col_class_;
  std::vector<char> row_inside_, col_inside_;
  int num_col_classes_ = 0;
  std::vector<std::int32_t> corrections_;
};

}  // namespace

int BConv2DGeometry::OutHeight() const {
  return OutSize(in_height, filter_height, stride_height, dilation_height, padding);
}
int BConv2DGeometry::OutWidth() const {
  return OutSize(in_width, filter_width, stride_width, dilation_width, padding);
}
int BConv2DGeometry::PadTop() const {
  return PadBefore(in_height, filter_height, stride_height, dilation_height, padding);
}
int BConv2DGeometry::PadLeft() const {
  return PadBefore(in_width, filter_width, stride_width, dilation_width, padding);
}

std::string ValidateBConv2D(const BConv2DGeometry& g, const OutputTransform& transform) {
  const auto positive = [](int v) { return v > 0; };
  if (!positive(g.in_height) || !positive(g.in_width)) return "input height and width must be positive";
  if (!positive(g.channels_in) || !positive(g.channels_out)) return "channels_in and channels_out must be positive";
  if (!positive(g.filter_height) || !positive(g.filter_width)) return "filter height and width must be positive";
  if (!positive(g.stride_height) || !positive(g.stride_width)) return "strides must be positive";
  if (!positive(g.dilation_height) || !positive(g.dilation_width)) return "dilations must be positive";
  if (g.padding != Padding::kSame && g.padding != Padding::kValid) {
    return "padding must be 0 (SAME) or 1 (VALID), got " + std::to_string(static_cast<int>(g.padding));
  }
  if (g.pad_value != 0 && g.pad_value != 1) {
    return "pad_values must be 0 or 1, got " + std::to_string(g.pad_value);
  }
  if (!positive(g.groups) || g.channels_in % g.groups != 0 || g.channels_out % g.groups != 0) {
    return "groups (" + std::to_string(g.groups) + ") must divide channels_in (" +
           std::to_string(g.channels_in) + ") and channels_out (" + std::to_string(g.channels_out) + ")";
  }
  if (g.groups > 1 && (g.channels_in / g.groups) % kBitsPerWord != 0) {
    return "grouped binary convolution needs channels_in / groups to be a multiple of 32, got " +
           std::to_string(g.channels_in / g.groups);
  }
  const std::int64_t k = static_cast<std::int64_t>(g.filter_height) * g.filter_width * (g.channels_in / g.groups);
  if (k >= (std::int64_t{1} << 24)) return "filter too large: K = " + std::to_string(k) + " >= 2^24";
  if (transform.type == OutputType::kBitpacked && g.padding == Padding::kSame && g.pad_value == 0) {
    return "bit-packed output needs VALID or one-padded SAME padding (zero padding makes K position-dependent)";
  }
  OutputStage stage;
  return OutputStage::Make(transform, g.channels_out, g.channels_out, &stage);
}

std::unique_ptr<BConv2D> BConv2D::Create(const BConv2DGeometry& geometry, const TBitpacked* filter,
                                         const OutputTransform& transform, IsaVariant variant,
                                         std::string* error) {
  std::string message = ValidateBConv2D(geometry, transform);
  if (message.empty() && filter == nullptr) message = "filter is null";
  const BGemmKernels* kernels = nullptr;
  if (message.empty()) kernels = SelectBGemmKernels(variant, &message);
  OutputStage stage;
  if (message.empty()) message = OutputStage::Make(transform, geometry.channels_out, geometry.channels_out, &stage);
  if (!message.empty()) {
    if (error) *error = "BConv2D: " + message;
    return nullptr;
  }
  return std::make_unique<BConv2DImpl>(geometry, filter, *kernels, std::move(stage));
}

}  // namespace lc
