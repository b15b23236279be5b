// larq_compute._native.kernels: numpy access to the binary kernels of runtime/core, for tests
// and benchmarks. Every kernel takes variant= ("auto", "reference", "portable", "avx2",
// "avx512", "neon"); "reference" runs the plain reference twin.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "python/bindings.h"
#include "runtime/core/bconv2d.h"
#include "runtime/core/bconv2d_reference.h"
#include "runtime/core/bfully_connected.h"
#include "runtime/core/bgemm.h"
#include "runtime/core/bitpack.h"
#include "runtime/core/bmaxpool.h"
#include "runtime/core/popcount_roofline.h"
#include "runtime/core/thread_pool.h"

namespace py = pybind11;

namespace lc::python {
namespace {

using PackedArray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// One pool per thread count, kept for the life of the process (benchmarks call repeatedly).
ThreadPool* PoolFor(int num_threads) {
  if (num_threads < 1) throw py::value_error("num_threads must be >= 1, got " + std::to_string(num_threads));
  if (num_threads == 1) return nullptr;
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  std::lock_guard<std::mutex> lock(mutex);
  auto& pool = pools[num_threads];
  if (!pool) pool = std::make_unique<ThreadPool>(num_threads);
  return pool.get();
}

Activation ParseActivation(const std::string& name) {
  if (name == "none") return Activation::kNone;
  if (name == "relu") return Activation::kRelu;
  if (name == "relu_n1_to_1") return Activation::kReluN1To1;
  if (name == "relu6") return Activation::kRelu6;
  throw py::value_error("unknown activation '" + name + "' (none, relu, relu_n1_to_1, relu6)");
}

OutputType ParseOutputType(const std::string& name) {
  if (name == "float") return OutputType::kFloat;
  if (name == "int8") return OutputType::kInt8;
  if (name == "bitpacked") return OutputType::kBitpacked;
  throw py::value_error("unknown output_type '" + name + "' (float, int8, bitpacked)");
}

// The variant argument: "reference" or an IsaVariant name.
bool IsReference(const std::string& variant) { return variant == "reference"; }
IsaVariant ParseVariant(const std::string& name) {
  IsaVariant v;
  if (!ParseIsaVariant(name, &v)) {
    throw py::value_error("unknown variant '" + name +
                          "' (auto, reference, portable, avx2, avx512, neon)");
  }
  return v;
}

void CheckRank(const py::array& a, int rank, const char* what) {
  if (a.ndim() != rank) {
    throw py::value_error(std::string(what) + " must have rank " + std::to_string(rank) +
                          ", got rank " + std::to_string(a.ndim()));
  }
}

// The transform arguments shared by bconv2d and bfully_connected, with the arrays they point to.
struct TransformArgs {
  OutputTransform transform;
  std::optional<FloatArray> multiplier, bias;
  std::optional<PackedArray> thresholds;

  TransformArgs(int channels_out, const std::string& output_type,
                const std::optional<FloatArray>& multiplier_in,
                const std::optional<FloatArray>& bias_in,
                const std::optional<PackedArray>& thresholds_in,
                const std::string& fused_activation, const std::string& output_activation,
                float int8_scale, int int8_zero_point)
      : multiplier(multiplier_in), bias(bias_in), thresholds(thresholds_in) {
    transform.type = ParseOutputType(output_type);
    transform.accumulator_activation = ParseActivation(fused_activation);
    transform.output_activation = ParseActivation(output_activation);
    transform.int8_scale = int8_scale;
    transform.int8_zero_point = int8_zero_point;
    const auto check = [channels_out](const py::array& a, const char* what) {
      if (a.ndim() != 1 || a.shape(0) != channels_out) {
        throw py::value_error(std::string(what) + " must have shape [" +
                              std::to_string(channels_out) + "]");
      }
    };
    if (multiplier) check(*multiplier, "multiplier"), transform.multiplier = multiplier->data();
    if (bias) check(*bias, "bias"), transform.bias = bias->data();
    if (thresholds) check(*thresholds, "thresholds"), transform.thresholds = thresholds->data();
  }

  py::array MakeOutput(std::vector<py::ssize_t> shape, int channels_out) const {
    switch (transform.type) {
      case OutputType::kFloat: shape.push_back(channels_out); return py::array_t<float>(shape);
      case OutputType::kInt8: shape.push_back(channels_out); return py::array_t<std::int8_t>(shape);
      case OutputType::kBitpacked:
        shape.push_back(PackedSize(channels_out));
        return py::array_t<std::int32_t>(shape);
    }
    throw py::value_error("unknown output type");
  }
};

BConv2DGeometry MakeGeometry(const PackedArray& input, const PackedArray& filter, int channels_in,
                             std::pair<int, int> stride, std::pair<int, int> dilation,
                             const std::string& padding, int pad_value, int groups) {
  CheckRank(input, 4, "input");
  CheckRank(filter, 4, "filter");
  BConv2DGeometry g;
  g.in_height = static_cast<int>(input.shape(1));
  g.in_width = static_cast<int>(input.shape(2));
  g.channels_in = channels_in;
  g.channels_out = static_cast<int>(filter.shape(0));
  g.filter_height = static_cast<int>(filter.shape(1));
  g.filter_width = static_cast<int>(filter.shape(2));
  g.groups = groups;
  g.stride_height = stride.first;
  g.stride_width = stride.second;
  g.dilation_height = dilation.first;
  g.dilation_width = dilation.second;
  if (padding == "same") {
    g.padding = Padding::kSame;
  } else if (padding == "valid") {
    g.padding = Padding::kValid;
  } else {
    throw py::value_error("padding must be 'same' or 'valid', got '" + padding + "'");
  }
  g.pad_value = pad_value;
  if (input.shape(3) != PackedSize(channels_in)) {
    throw py::value_error("input has " + std::to_string(input.shape(3)) + " packed words per pixel, channels_in=" +
                          std::to_string(channels_in) + " needs " + std::to_string(PackedSize(channels_in)));
  }
  if (groups > 0 && channels_in % groups == 0 && filter.shape(3) != PackedSize(channels_in / groups)) {
    throw py::value_error("filter has " + std::to_string(filter.shape(3)) +
                          " packed words per tap, channels_in / groups needs " +
                          std::to_string(PackedSize(channels_in / groups)));
  }
  return g;
}

// A kernel created once and run many times (benchmarks): BConv2D or BFullyConnected.
// One validated bitpack call: contiguous float32 or int8 input, the chosen variant, the output.
struct BitpackJob {
  py::array input;
  bool is_int8;
  std::int8_t zero_point;
  const BitpackKernels* packer;
  int channels;
  std::int64_t rows;
  py::array_t<std::int32_t> out;
  TBitpacked* out_data;  // taken with the GIL held; Run may go without it

  void Run() const {
    if (is_int8) {
      packer->pack_int8(static_cast<const std::int8_t*>(input.data()), rows, channels, zero_point,
                        out_data);
    } else {
      packer->pack_float(static_cast<const float*>(input.data()), rows, channels, out_data);
    }
  }
};

BitpackJob PrepareBitpack(const py::array& x, int zero_point, const std::string& variant) {
  if (x.ndim() < 1) throw py::value_error("bitpack needs at least one dimension");
  // The portable variant is the plain reference twin.
  std::string error;
  const BitpackKernels* packer =
      SelectBitpackKernels(ParseVariant(IsReference(variant) ? "portable" : variant), &error);
  if (packer == nullptr) throw py::value_error(error);
  const int channels = static_cast<int>(x.shape(x.ndim() - 1));
  const std::int64_t rows = channels ? x.size() / channels : 0;
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  shape.back() = PackedSize(channels);
  const bool is_int8 = x.dtype().is(py::dtype::of<std::int8_t>());
  py::array input;
  if (is_int8) {
    if (zero_point < -128 || zero_point > 127) throw py::value_error("zero_point must be in [-128, 127]");
    input = py::array_t<std::int8_t, py::array::c_style | py::array::forcecast>::ensure(x);
  } else {
    if (zero_point != 0) throw py::value_error("zero_point applies to int8 input only");
    input = FloatArray::ensure(x);
    if (!input) throw py::value_error("bitpack takes a float32 or int8 array");
  }
  py::array_t<std::int32_t> out(shape);
  TBitpacked* out_data = out.mutable_data();
  return {input, is_int8, static_cast<std::int8_t>(zero_point), packer, channels, rows, out, out_data};
}

class PreparedKernel {
 public:
  using RunFn = std::function<void(const TBitpacked* input, std::int64_t batch, void* output,
                                   ThreadPool* pool)>;
  // input: [batch, *input_tail]; output: [batch, *output_tail, channels (or packed words)].
  PreparedKernel(RunFn run, const char* variant, std::vector<py::ssize_t> input_tail,
                 std::vector<py::ssize_t> output_tail, int channels_out, TransformArgs args)
      : run_(std::move(run)), variant_(variant), input_tail_(std::move(input_tail)),
        output_tail_(std::move(output_tail)), channels_out_(channels_out), args_(std::move(args)) {}

  py::array Run(const PackedArray& input, int num_threads) const {
    py::array out = MakeOutput(input);
    ThreadPool* pool = PoolFor(num_threads);
    {
      py::gil_scoped_release release;
      run_(input.data(), input.shape(0), out.mutable_data(), pool);
    }
    return out;
  }

  // Seconds of each of `iterations` back-to-back runs into one output buffer.
  std::vector<double> Time(const PackedArray& input, int iterations, int num_threads) const {
    py::array out = MakeOutput(input);
    ThreadPool* pool = PoolFor(num_threads);
    std::vector<double> seconds;
    seconds.reserve(iterations);
    void* out_data = out.mutable_data();
    py::gil_scoped_release release;
    for (int i = 0; i < iterations; ++i) {
      const auto start = std::chrono::steady_clock::now();
      run_(input.data(), input.shape(0), out_data, pool);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return seconds;
  }

  const char* Variant() const { return variant_; }

 private:
  py::array MakeOutput(const PackedArray& input) const {
    const bool shape_ok = input.ndim() == static_cast<py::ssize_t>(input_tail_.size()) + 1 &&
                          std::equal(input_tail_.begin(), input_tail_.end(), input.shape() + 1);
    if (!shape_ok) throw py::value_error("input shape does not match the kernel's geometry");
    std::vector<py::ssize_t> shape = {input.shape(0)};
    shape.insert(shape.end(), output_tail_.begin(), output_tail_.end());
    return args_.MakeOutput(shape, channels_out_);
  }

  RunFn run_;
  const char* variant_;
  std::vector<py::ssize_t> input_tail_, output_tail_;
  int channels_out_;
  TransformArgs args_;
};

// `residual` (float output only) must outlive every run of the returned kernel.
PreparedKernel PrepareBConv2D(std::unique_ptr<BConv2D> conv, const BConv2DGeometry& g, TransformArgs args,
                              const float* residual = nullptr) {
  std::shared_ptr<BConv2D> shared(std::move(conv));
  const char* variant = shared->VariantName();
  return PreparedKernel(
      [shared, residual](const TBitpacked* in, std::int64_t batch, void* out, ThreadPool* pool) {
        shared->Run(in, static_cast<int>(batch), out, pool, residual);
      },
      variant, {g.in_height, g.in_width, PackedSize(g.channels_in)}, {g.OutHeight(), g.OutWidth()},
      g.channels_out, std::move(args));
}

// Validates bconv2d's residual argument against the output shape and sets the transform's
// residual fields. Returns the residual as a contiguous float32 array (empty without one).
FloatArray CheckResidual(const std::optional<py::array>& residual,
                         const std::string& residual_activation,
                         const std::vector<py::ssize_t>& out_shape, OutputTransform* transform) {
  const Activation act = ParseActivation(residual_activation);
  if (!residual) {
    if (act != Activation::kNone) throw py::value_error("residual_activation needs a residual");
    return FloatArray();
  }
  if (transform->type != OutputType::kFloat) {
    throw py::value_error("residual needs output_type 'float'");
  }
  if (!residual->dtype().is(py::dtype::of<float>())) {
    throw py::value_error("residual must be float32, got " +
                          std::string(py::str(residual->dtype())));
  }
  const bool shape_ok = residual->ndim() == static_cast<py::ssize_t>(out_shape.size()) &&
                        std::equal(out_shape.begin(), out_shape.end(), residual->shape());
  if (!shape_ok) {
    std::string want, got;
    for (py::ssize_t d : out_shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
    for (py::ssize_t i = 0; i < residual->ndim(); ++i) {
      got += (i ? ", " : "") + std::to_string(residual->shape(i));
    }
    throw py::value_error("residual must have the output's shape [" + want + "], got [" + got + "]");
  }
  transform->residual = true;
  transform->residual_activation = act;
  return FloatArray::ensure(*residual);
}

#define LC_TRANSFORM_ARGS                                                                   \
  py::arg("output_type") = "float", py::arg("multiplier") = py::none(),                     \
  py::arg("bias") = py::none(), py::arg("thresholds") = py::none(),                         \
  py::arg("fused_activation") = "none", py::arg("output_activation") = "none",              \
  py::arg("int8_scale") = 1.0f, py::arg("int8_zero_point") = 0

}  // namespace

void BindKernels(py::module_& parent) {
  py::module_ m = parent.def_submodule("kernels", "Binary kernels of runtime/core on numpy arrays.");

  m.def("available_variants", &UsableIsaVariants,
        "ISA variants built into this library and usable on this CPU (best last); 'reference' is "
        "always usable too.");

  m.def(
      "avx512_popcount_roofline",
      [](double seconds) {
        py::gil_scoped_release release;
        return MeasureAvx512PopcountRoofline(seconds);
      },
      py::arg("seconds") = 0.2,
      "Binary MACs/s of back-to-back 512-bit VPOPCNTQ on this core (best of ~1 ms runs); 0 "
      "without AVX-512 VPOPCNTDQ.");

  m.def(
      "bitpack",
      [](const py::array& x, int zero_point, const std::string& variant) {
        const BitpackJob job = PrepareBitpack(x, zero_point, variant);
        {
          py::gil_scoped_release release;
          job.Run();
        }
        return job.out;
      },
      py::arg("x"), py::arg("zero_point") = 0, py::arg("variant") = "auto",
      "Bit-packs the last axis: [..., C] float32/int8 -> [..., ceil(C/32)] int32 (bit 1 = -1).");

  m.def(
      "time_bitpack",
      [](const py::array& x, int iterations, int zero_point, const std::string& variant) {
        const BitpackJob job = PrepareBitpack(x, zero_point, variant);
        std::vector<double> seconds;
        seconds.reserve(iterations);
        py::gil_scoped_release release;
        for (int i = 0; i < iterations; ++i) {
          const auto start = std::chrono::steady_clock::now();
          job.Run();
          seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        return seconds;
      },
      py::arg("x"), py::arg("iterations"), py::arg("zero_point") = 0, py::arg("variant") = "auto",
      "Seconds of each of `iterations` back-to-back bitpack runs (single thread) into one output.");

  m.def(
      "unpack",
      [](const PackedArray& packed, int channels, const std::string& dtype, float scale,
         int zero_point) -> py::array {
        if (packed.ndim() < 1 || packed.shape(packed.ndim() - 1) != PackedSize(channels)) {
          throw py::value_error("last axis must hold ceil(channels / 32) words");
        }
        const std::int64_t rows = packed.size() / std::max<py::ssize_t>(1, packed.shape(packed.ndim() - 1));
        std::vector<py::ssize_t> shape(packed.shape(), packed.shape() + packed.ndim());
        shape.back() = channels;
        if (dtype == "float32") {
          py::array_t<float> out(shape);
          UnpackToFloat(packed.data(), rows, channels, out.mutable_data());
          return out;
        }
        if (dtype == "int8") {
          if (!(scale > 0.0f)) throw py::value_error("int8 unpacking needs a positive scale");
          py::array_t<std::int8_t> out(shape);
          UnpackToInt8(packed.data(), rows, channels, scale, zero_point, out.mutable_data());
          return out;
        }
        throw py::value_error("dtype must be 'float32' or 'int8', got '" + dtype + "'");
      },
      py::arg("packed"), py::arg("channels"), py::arg("dtype") = "float32", py::arg("scale") = 1.0f,
      py::arg("zero_point") = 0, "Unpacks [..., ceil(C/32)] int32 to +-1 values [..., C].");

  py::class_<PreparedKernel>(m, "PreparedKernel", "A kernel created once and run many times.")
      .def("run", &PreparedKernel::Run, py::arg("input"), py::arg("num_threads") = 1)
      .def("time", &PreparedKernel::Time, py::arg("input"), py::arg("iterations"),
           py::arg("num_threads") = 1, "Seconds of each of `iterations` back-to-back runs.")
      .def_property_readonly("variant", &PreparedKernel::Variant);

  m.def(
      "make_bconv2d",
      [](const PackedArray& filter, std::pair<int, int> input_hw, int channels_in,
         std::pair<int, int> stride, std::pair<int, int> dilation, const std::string& padding,
         int pad_value, int groups, const std::string& output_type,
         std::optional<FloatArray> multiplier, std::optional<FloatArray> bias,
         std::optional<PackedArray> thresholds, const std::string& fused_activation,
         const std::string& output_activation, float int8_scale, int int8_zero_point,
         const std::string& variant) {
        PackedArray shape_only({1, input_hw.first, input_hw.second, PackedSize(channels_in)});
        const BConv2DGeometry g = MakeGeometry(shape_only, filter, channels_in, stride, dilation,
                                               padding, pad_value, groups);
        TransformArgs args(g.channels_out, output_type, multiplier, bias, thresholds,
                           fused_activation, output_activation, int8_scale, int8_zero_point);
        std::string error;
        auto conv = BConv2D::Create(g, filter.data(), args.transform, ParseVariant(variant), &error);
        if (!conv) throw py::value_error(error);
        return PrepareBConv2D(std::move(conv), g, std::move(args));
      },
      py::arg("filter"), py::arg("input_hw"), py::arg("channels_in"),
      py::arg("stride") = std::make_pair(1, 1), py::arg("dilation") = std::make_pair(1, 1),
      py::arg("padding") = "valid", py::arg("pad_value") = 0, py::arg("groups") = 1,
      LC_TRANSFORM_ARGS, py::arg("variant") = "auto");

  m.def(
      "bconv2d",
      [](const PackedArray& input, const PackedArray& filter, int channels_in,
         std::pair<int, int> stride, std::pair<int, int> dilation, const std::string& padding,
         int pad_value, int groups, const std::string& output_type,
         std::optional<FloatArray> multiplier, std::optional<FloatArray> bias,
         std::optional<PackedArray> thresholds, const std::string& fused_activation,
         const std::string& output_activation, float int8_scale, int int8_zero_point,
         const std::string& variant, int num_threads, std::optional<py::array> residual,
         const std::string& residual_activation) -> py::array {
        const BConv2DGeometry g = MakeGeometry(input, filter, channels_in, stride, dilation,
                                               padding, pad_value, groups);
        TransformArgs args(g.channels_out, output_type, multiplier, bias, thresholds,
                           fused_activation, output_activation, int8_scale, int8_zero_point);
        const int batch = static_cast<int>(input.shape(0));
        // Geometry first: the output shape is only defined for a valid one (stride 0 divides).
        std::string error = ValidateBConv2D(g, args.transform);
        if (!error.empty()) throw py::value_error("BConv2D: " + error);
        const std::vector<py::ssize_t> out_shape = {batch, g.OutHeight(), g.OutWidth(),
                                                    g.channels_out};
        const FloatArray res = CheckResidual(residual, residual_activation, out_shape, &args.transform);
        const float* res_data = residual ? res.data() : nullptr;
        if (IsReference(variant)) {
          py::array out = args.MakeOutput({batch, g.OutHeight(), g.OutWidth()}, g.channels_out);
          error = BConv2DReference(g, filter.data(), args.transform, input.data(), batch,
                                   out.mutable_data(), res_data);
          if (!error.empty()) throw py::value_error("BConv2D: " + error);
          return out;
        }
        auto conv = BConv2D::Create(g, filter.data(), args.transform, ParseVariant(variant), &error);
        if (!conv) throw py::value_error(error);
        return PrepareBConv2D(std::move(conv), g, std::move(args), res_data).Run(input, num_threads);
      },
      py::arg("input"), py::arg("filter"), py::arg("channels_in"),
      py::arg("stride") = std::make_pair(1, 1), py::arg("dilation") = std::make_pair(1, 1),
      py::arg("padding") = "valid", py::arg("pad_value") = 0, py::arg("groups") = 1,
      LC_TRANSFORM_ARGS, py::arg("variant") = "auto", py::arg("num_threads") = 1,
      py::arg("residual") = py::none(), py::arg("residual_activation") = "none",
      "LceBconv2d on bit-packed NHWC input [N,H,W,ceil(Cin/32)] and OHWI packed filter; with "
      "float output, an optional float32 residual of the output's shape is added after the "
      "output clamp, then residual_activation clamps the sum.");

  const auto prepare_fc = [](const PackedArray& weights, int channels_in,
                             const std::string& output_type, std::optional<FloatArray> multiplier,
                             std::optional<FloatArray> bias, std::optional<PackedArray> thresholds,
                             const std::string& fused_activation,
                             const std::string& output_activation, float int8_scale,
                             int int8_zero_point, const std::string& variant) {
    CheckRank(weights, 2, "weights");
    if (weights.shape(1) != PackedSize(channels_in)) {
      throw py::value_error("weights need ceil(channels_in / 32) = " +
                            std::to_string(PackedSize(channels_in)) + " words per row");
    }
    const int channels_out = static_cast<int>(weights.shape(0));
    TransformArgs args(channels_out, output_type, multiplier, bias, thresholds, fused_activation,
                       output_activation, int8_scale, int8_zero_point);
    std::string error;
    std::shared_ptr<BFullyConnected> fc;
    if (IsReference(variant)) {
      // The reference twin has no Create; run it on a private copy of the weights.
      error = ValidateBFullyConnected(channels_in, channels_out, weights.data(), args.transform);
      if (!error.empty()) throw py::value_error("BFullyConnected: " + error);
      auto copy = std::make_shared<std::vector<TBitpacked>>(weights.data(), weights.data() + weights.size());
      auto stage = std::make_shared<TransformArgs>(args);
      return PreparedKernel(
          [copy, stage, channels_in, channels_out](const TBitpacked* in, std::int64_t rows, void* out, ThreadPool*) {
            BFullyConnectedReference(channels_in, channels_out, copy->data(), stage->transform, in, rows, out);
          },
          "reference", {PackedSize(channels_in)}, {}, channels_out, std::move(args));
    }
    fc = BFullyConnected::Create(channels_in, channels_out, weights.data(), args.transform,
                                 ParseVariant(variant), &error);
    if (!fc) throw py::value_error(error);
    const char* name = fc->VariantName();
    return PreparedKernel(
        [fc](const TBitpacked* in, std::int64_t rows, void* out, ThreadPool* pool) { fc->Run(in, rows, out, pool); },
        name, {PackedSize(channels_in)}, {}, channels_out, std::move(args));
  };

  m.def("make_bfully_connected", prepare_fc, py::arg("weights"), py::arg("channels_in"),
        LC_TRANSFORM_ARGS, py::arg("variant") = "auto");

  m.def(
      "bfully_connected",
      [prepare_fc](const PackedArray& input, const PackedArray& weights, int channels_in,
                   const std::string& output_type, std::optional<FloatArray> multiplier,
                   std::optional<FloatArray> bias, std::optional<PackedArray> thresholds,
                   const std::string& fused_activation, const std::string& output_activation,
                   float int8_scale, int int8_zero_point, const std::string& variant,
                   int num_threads) -> py::array {
        CheckRank(input, 2, "input");
        if (input.shape(1) != PackedSize(channels_in)) {
          throw py::value_error("input and weights need ceil(channels_in / 32) = " +
                                std::to_string(PackedSize(channels_in)) + " words per row");
        }
        return prepare_fc(weights, channels_in, output_type, multiplier, bias, thresholds,
                          fused_activation, output_activation, int8_scale, int8_zero_point, variant)
            .Run(input, num_threads);
      },
      py::arg("input"), py::arg("weights"), py::arg("channels_in"), LC_TRANSFORM_ARGS,
      py::arg("variant") = "auto", py::arg("num_threads") = 1,
      "LceBFullyConnected: [rows, ceil(Cin/32)] x [Cout, ceil(Cin/32)] binary GEMM.");

  m.def(
      "bmaxpool2d",
      [](const PackedArray& input, std::pair<int, int> filter, std::pair<int, int> stride,
         const std::string& padding, int num_threads) {
        CheckRank(input, 4, "input");
        BMaxPool2DGeometry g;
        g.in_height = static_cast<int>(input.shape(1));
        g.in_width = static_cast<int>(input.shape(2));
        g.packed_channels = static_cast<int>(input.shape(3));
        g.filter_height = filter.first;
        g.filter_width = filter.second;
        g.stride_height = stride.first;
        g.stride_width = stride.second;
        if (padding != "same" && padding != "valid") {
          throw py::value_error("padding must be 'same' or 'valid', got '" + padding + "'");
        }
        g.padding = padding == "same" ? Padding::kSame : Padding::kValid;
        const std::string error = ValidateBMaxPool2D(g);
        if (!error.empty()) throw py::value_error("BMaxPool2D: " + error);
        const int batch = static_cast<int>(input.shape(0));
        py::array_t<std::int32_t> out({batch, g.OutHeight(), g.OutWidth(), g.packed_channels});
        ThreadPool* pool = PoolFor(num_threads);
        {
          py::gil_scoped_release release;
          BMaxPool2D(g, input.data(), batch, out.mutable_data(), pool);
        }
        return out;
      },
      py::arg("input"), py::arg("filter"), py::arg("stride"), py::arg("padding") = "valid",
      py::arg("num_threads") = 1, "LceBMaxPool2d on bit-packed NHWC input.");
}

}  // namespace lc::python
