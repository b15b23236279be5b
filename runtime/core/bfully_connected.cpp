#include "runtime/core/bfully_connected.h"

#include "runtime/core/bconv2d.h"
#include "runtime/core/bconv2d_reference.h"
#include "runtime/core/bgemm_driver.h"

namespace lc {
namespace {

}  // namespace

std::string ValidateBFullyConnected(int channels_in, int channels_out, const TBitpacked* weights,
                                    const OutputTransform& transform) {
  if (channels_in <= 0 || channels_out <= 0) {
    return "channels_in and channels_out must be positive, got " + std::to_string(channels_in) +
           " and " + std::to_string(channels_out);
  }
  if (channels_in >= (1 << 24)) return "channels_in must be below 2^24";
  if (weights == nullptr) return "weights are null";
  if (transform.residual) return "a residual input is only supported by BConv2D";
  OutputStage stage;
  return OutputStage::Make(transform, channels_out, channels_out, &stage);
}

namespace {

class BFullyConnectedImpl final : public BFullyConnected {
 public:
  BFullyConnectedImpl(int channels_in, int channels_out, const TBitpacked* weights,
                      const BGemmKernels& kernels, OutputStage stage)
      : channels_in_(channels_in),
        channels_out_(channels_out),
        kernels_(kernels),
        stage_(std::move(stage)),
        columns_(PackedColumns::Pack(weights, channels_out, 1, 1, PackedSize(channels_in),
                                     kernels)) {
    stage_.MarkFmaExact(channels_in);
    stage_.MarkInt8Exact(channels_in);
  }

  void Run(const TBitpacked* input, std::int64_t rows, void* output,
           ThreadPool* pool) const override {
    if (rows <= 0) return;
    const int words = PackedSize(channels_in_);
    const auto fill = [&](std::int64_t row0, int count, const TBitpacked** a,
                          const std::int32_t** corrections) {
      for (int m = 0; m < count; ++m) {
        a[m] = input + (row0 + m) * words;
        corrections[m] = nullptr;
      }
    };
    const std::ptrdiff_t single_tap = 0;
    RunBGemm(kernels_, columns_, &single_tap, stage_, channels_in_, channels_out_, rows, output,
             nullptr, pool, fill);
  }

  const char* VariantName() const override { return kernels_.name; }

 private:
  int channels_in_, channels_out_;
  const BGemmKernels& kernels_;
  OutputStage stage_;
  PackedColumns columns_;
};

}  // namespace

std::unique_ptr<BFullyConnected> BFullyConnected::Create(int channels_in, int channels_out,
                                                         const TBitpacked* weights,
                                                         const OutputTransform& transform,
                                                         IsaVariant variant, std::string* error) {
  std::string message = ValidateBFullyConnected(channels_in, channels_out, weights, transform);
  const BGemmKernels* kernels = nullptr;
  if (message.empty()) kernels = SelectBGemmKernels(variant, &message);
  OutputStage stage;
  if (message.empty()) message = OutputStage::Make(transform, channels_out, channels_out, &stage);
  if (!message.empty()) {
    if (error) *error = "BFullyConnected: " + message;
    return nullptr;
  }
  return std::make_unique<BFullyConnectedImpl>(channels_in, channels_out, weights, *kernels,
                                               std::move(stage));
}

std::string BFullyConnectedReference(int channels_in, int channels_out, const TBitpacked* weights,
                                     const OutputTransform& transform, const TBitpacked* input,
                                     std::int64_t rows, void* output) {
  std::string message = ValidateBFullyConnected(channels_in, channels_out, weights, transform);
  if (!message.empty()) return message;
  if (rows <= 0) return "";
  // A fully-connected layer is a VALID 1x1 convolution over a 1 x rows image.
  BConv2DGeometry g;
  g.in_height = 1;
  g.in_width = static_cast<int>(rows);
  g.channels_in = channels_in;
  g.channels_out = channels_out;
  g.filter_height = g.filter_width = 1;
  return BConv2DReference(g, weights, transform, input, 1, output);
}

}  // namespace lc
