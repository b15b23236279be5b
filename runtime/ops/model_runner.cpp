#include "runtime/ops/model_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "runtime/core/thread_pool.h"
#include "runtime/ops/litert_c_api.h"
#include "runtime/ops/op_common.h"

namespace lc::runtime {

using namespace lc::litert;  // NOLINT: the C API's names are prefixed already
using ops::ElementType;

namespace {

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

void* AlignedAlloc(std::size_t bytes) {
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + kHostMemoryAlignment - 1) /
                              kHostMemoryAlignment * kHostMemoryAlignment;
  return std::aligned_alloc(kHostMemoryAlignment, rounded);
}

std::size_t ElementSize(int type) {
  switch (type) {
    case kLiteRtElementTypeFloat32:
    case kLiteRtElementTypeInt32: return 4;
    case kLiteRtElementTypeInt64: return 8;
    case kLiteRtElementTypeInt16:
    case kLiteRtElementTypeFloat16: return 2;
    default: return 1;
  }
}

std::size_t NumElements(const std::vector<int>& shape) {
  std::size_t n = 1;
  for (int d : shape) n *= static_cast<std::size_t>(std::max(d, 0));
  return n;
}

std::vector<int> ShapeOf(const LiteRtLayout& layout) {
  return std::vector<int>(layout.dimensions, layout.dimensions + layout.rank);
}

}  // namespace

// One custom node: LiteRT's callbacks for its registration land here (user_data).
struct CustomNode {
  ModelRunner::Impl* impl = nullptr;
  ops::NodeInfo info;
  std::unique_ptr<ops::OpKernel> kernel;
  std::string error;  // first error of the current invoke / shape inference
  double total_us = 0;
  std::int64_t count = 0;
  double builtin_before_us = 0;  // since the previous custom node returned (or the run began)
  std::vector<ops::TensorView> inputs, outputs;  // reused by Run, never reallocated per invoke
  // Subgraph of the node; -1 for the signature's (main) subgraph. Nodes of other subgraphs (bodies
  // of WHILE / IF) run inside a main-subgraph op and are timed inside its builtin segment.
  int subgraph = -1;

  std::string Describe() const {
    const std::string where =
        subgraph < 0 ? "" : "subgraph " + std::to_string(subgraph) + ", ";
    return info.op_name + " (" + where + "node " + std::to_string(info.node_index) +
           ", custom code '" + info.custom_code + "')";
  }
};

struct ModelRunner::Impl {
  const LiteRtApi* api = nullptr;
  std::unique_ptr<void, AlignedFree> model_bytes;
  LiteRtEnvironment environment = nullptr;
  LiteRtModel model = nullptr;
  LiteRtOptions options = nullptr;
  LiteRtCompiledModel compiled = nullptr;
  std::unique_ptr<ThreadPool> pool;
  std::vector<std::unique_ptr<CustomNode>> nodes;
  std::mutex invoke_mutex;
  int num_ops = 0;
  // Custom nodes run in order on the invoking thread, so the time between one returning and the
  // next starting is the builtin ops between them (LiteRT's own profiler is unusable, see docs).
  std::chrono::steady_clock::time_point segment_start;
  double builtin_tail_us = 0;  // after the last custom node
  std::string shape_error;     // why the last resize failed; empty when the shapes are valid

  ~Impl() {
    if (compiled) api->LiteRtDestroyCompiledModel(compiled);
    if (options) api->LiteRtDestroyOptions(options);
    if (model) api->LiteRtDestroyModel(model);
    if (environment) api->LiteRtDestroyEnvironment(environment);
  }

  // The first recorded kernel error, formatted for the user; empty if none.
  std::string TakeNodeError() {
    std::string message;
    for (auto& node : nodes) {
      if (!node->error.empty() && message.empty()) message = node->Describe() + ": " + node->error;
      node->error.clear();
    }
    return message;
  }
};

namespace {

LiteRtStatus NodeInit(void*, const void*, std::size_t) {
  return kLiteRtStatusOk;  // options were parsed and checked when the model was loaded
}

LiteRtStatus NodeGetOutputLayouts(void* user_data, std::size_t num_inputs,
                                  const LiteRtLayout* input_layouts, std::size_t num_outputs,
                                  LiteRtLayout* output_layouts) {
  auto* node = static_cast<CustomNode*>(user_data);
  std::vector<std::vector<int>> in(num_inputs), out;
  for (std::size_t i = 0; i < num_inputs; ++i) in[i] = ShapeOf(input_layouts[i]);
  std::string error;
  if (num_inputs != node->info.inputs.size()) {
    error = "LiteRT passed " + std::to_string(num_inputs) + " inputs, the model lists " +
            std::to_string(node->info.inputs.size());
  } else if (node->kernel->InferOutputShapes(in, &out, &error) && out.size() != num_outputs) {
    error = "shape inference produced " + std::to_string(out.size()) + " outputs, expected " +
            std::to_string(num_outputs);
  }
  if (!error.empty()) {
    if (node->error.empty()) node->error = error;  // LiteRT ignores the status; the host checks
    return kLiteRtStatusErrorInvalidArgument;
  }
  for (std::size_t o = 0; o < num_outputs; ++o) {
    LiteRtLayout& layout = output_layouts[o];
    if (out[o].size() > static_cast<std::size_t>(kLiteRtTensorMaxRank)) {
      node->error = "output rank above 8";
      return kLiteRtStatusErrorInvalidArgument;
    }
    layout.rank = static_cast<unsigned>(out[o].size());
    layout.has_strides = 0;
    for (std::size_t d = 0; d < out[o].size(); ++d) layout.dimensions[d] = out[o][d];
  }
  return kLiteRtStatusOk;
}

bool MapBuffer(const LiteRtApi& api, LiteRtTensorBuffer buffer, LiteRtTensorBufferLockMode mode,
               ops::TensorView* view) {
  LiteRtRankedTensorType type{};
  if (api.LiteRtGetTensorBufferTensorType(buffer, &type) != kLiteRtStatusOk ||
      api.LiteRtGetTensorBufferPackedSize(buffer, &view->bytes) != kLiteRtStatusOk ||
      api.LiteRtLockTensorBuffer(buffer, &view->data, mode) != kLiteRtStatusOk) {
    return false;
  }
  view->shape.assign(type.layout.dimensions, type.layout.dimensions + type.layout.rank);
  return true;
}

LiteRtStatus NodeRun(void* user_data, std::size_t num_inputs, const LiteRtTensorBuffer* inputs,
                     std::size_t num_outputs, LiteRtTensorBuffer* outputs) {
  auto* node = static_cast<CustomNode*>(user_data);
  if (!node->error.empty()) return kLiteRtStatusErrorRuntimeFailure;  // shape inference failed
  const auto start = std::chrono::steady_clock::now();
  const bool main_subgraph = node->subgraph < 0;
  if (main_subgraph) {
    node->builtin_before_us +=
        std::chrono::duration<double, std::micro>(start - node->impl->segment_start).count();
  }
  const LiteRtApi& api = *node->impl->api;
  node->inputs.resize(num_inputs);
  node->outputs.resize(num_outputs);
  std::size_t locked_in = 0, locked_out = 0;
  bool ok = true;
  for (; ok && locked_in < num_inputs; ++locked_in) {
    ok = MapBuffer(api, inputs[locked_in], kLiteRtTensorBufferLockModeRead,
                   &node->inputs[locked_in]);
  }
  for (; ok && locked_out < num_outputs; ++locked_out) {
    ok = MapBuffer(api, outputs[locked_out], kLiteRtTensorBufferLockModeWrite,
                   &node->outputs[locked_out]);
  }
  std::string error;
  if (!ok) {
    error = "LiteRT could not map the node's tensor buffers to host memory";
  } else if (num_inputs != node->info.inputs.size() || num_outputs != node->info.outputs.size()) {
    error = "LiteRT passed a different number of tensors than the model lists";
  } else {
    ok = node->kernel->Run(node->inputs, node->outputs, node->impl->pool.get(), &error);
  }
  for (std::size_t i = 0; i < locked_in; ++i) api.LiteRtUnlockTensorBuffer(inputs[i]);
  for (std::size_t i = 0; i < locked_out; ++i) api.LiteRtUnlockTensorBuffer(outputs[i]);
  if (!error.empty()) {
    if (node->error.empty()) node->error = error;
    return kLiteRtStatusErrorRuntimeFailure;
  }
  const auto end = std::chrono::steady_clock::now();
  node->total_us += std::chrono::duration<double, std::micro>(end - start).count();
  node->count += 1;
  if (main_subgraph) node->impl->segment_start = end;
  return kLiteRtStatusOk;
}

LiteRtStatus NodeDestroy(void*) { return kLiteRtStatusOk; }  // nodes are owned by the runner

const LiteRtCustomOpKernel kNodeKernel = {&NodeInit, &NodeGetOutputLayouts, &NodeRun, &NodeDestroy};

ElementType ToOpsType(int type) {
  switch (type) {
    case kLiteRtElementTypeFloat32: return ElementType::kFloat32;
    case kLiteRtElementTypeInt32: return ElementType::kInt32;
    case kLiteRtElementTypeInt8: return ElementType::kInt8;
    default: return static_cast<ElementType>(type);
  }
}

// Type, shape, name and per-tensor quantization of a model tensor.
bool ReadTensor(const LiteRtApi& api, LiteRtTensor tensor, TensorDetails* details,
                std::string* error) {
  const char* name = nullptr;
  LiteRtTensorTypeId type_id{};
  LiteRtRankedTensorType type{};
  if (api.LiteRtGetTensorName(tensor, &name) != kLiteRtStatusOk ||
      api.LiteRtGetTensorTypeId(tensor, &type_id) != kLiteRtStatusOk) {
    *error = "cannot read a tensor of the model";
    return false;
  }
  details->name = name ? name : "";
  if (type_id != kLiteRtRankedTensorType ||
      api.LiteRtGetRankedTensorType(tensor, &type) != kLiteRtStatusOk) {
    *error = "tensor '" + details->name + "' has no fixed rank; unranked tensors are unsupported";
    return false;
  }
  details->element_type = type.element_type;
  details->shape_signature = ShapeOf(type.layout);
  details->shape = details->shape_signature;
  for (int& d : details->shape) d = std::max(d, 1);  // dynamic dims start at 1
  details->bytes = NumElements(details->shape) * ElementSize(details->element_type);
  LiteRtQuantizationTypeId q{};
  LiteRtQuantizationPerTensor per_tensor{};
  details->quantized = api.LiteRtGetQuantizationTypeId(tensor, &q) == kLiteRtStatusOk &&
                       q == kLiteRtQuantizationPerTensor &&
                       api.LiteRtGetPerTensorQuantization(tensor, &per_tensor) == kLiteRtStatusOk;
  if (details->quantized) {
    details->scale = per_tensor.scale;
    details->zero_point = per_tensor.zero_point;
  }
  return true;
}

ops::TensorInfo ToTensorInfo(const TensorDetails& d) {
  ops::TensorInfo info;
  info.type = ToOpsType(d.element_type);
  info.shape = d.shape_signature;
  info.has_quantization = d.quantized;
  info.scale = d.scale;
  info.zero_point = d.zero_point;
  info.name = d.name;
  return info;
}


bool AddOpaqueOptions(const LiteRtApi& api, LiteRtOptions options, const char* id,
                      const std::string& payload, std::string* error) {
  char* data = static_cast<char*>(std::malloc(payload.size() + 1));
  std::memcpy(data, payload.c_str(), payload.size() + 1);
  LiteRtOpaqueOptions opaque = nullptr;
  LiteRtStatus status = api.LiteRtCreateOpaqueOptions(id, data, &std::free, &opaque);
  if (status != kLiteRtStatusOk) {
    std::free(data);
  } else {
    status = api.LiteRtAddOpaqueOptions(options, opaque);  // takes ownership
  }
  if (status != kLiteRtStatusOk) {
    *error = std::string("cannot set LiteRT options '") + id + "': " + StatusText(status);
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<ModelRunner> ModelRunner::Create(const void* model_data, std::size_t size,
                                                 const RunnerOptions& options,
                                                 std::string* error) {
  if (options.num_threads < 1) {
    *error = "num_threads must be at least 1, got " + std::to_string(options.num_threads);
    return nullptr;
  }
  std::unique_ptr<ModelRunner> runner(new ModelRunner);
  runner->impl_ = std::make_unique<Impl>();
  runner->num_threads_ = options.num_threads;
  Impl& impl = *runner->impl_;
  impl.api = LoadLiteRtApi(options.litert_library, error);
  if (!impl.api) return nullptr;
  const LiteRtApi& api = *impl.api;

  // LiteRT wraps constant inputs of custom ops zero-copy, which needs 64-byte aligned addresses:
  // the model's bytes start at an aligned address and its buffers sit at aligned offsets.
  impl.model_bytes.reset(AlignedAlloc(size));
  if (size) std::memcpy(impl.model_bytes.get(), model_data, size);
  LiteRtStatus status = api.LiteRtCreateEnvironment(0, nullptr, &impl.environment);
  if (status != kLiteRtStatusOk) {
    *error = "cannot create the LiteRT environment: " + StatusText(status);
    return nullptr;
  }
  status = api.LiteRtCreateModelFromBuffer(impl.environment, impl.model_bytes.get(), size,
                                           &impl.model);
  if (status != kLiteRtStatusOk) {
    *error = "not a valid TFLite model (" + std::to_string(size) +
             " bytes; LiteRT could not read it: " + StatusText(status) + ")";
    return nullptr;
  }
  LiteRtParamIndex num_signatures = 0;
  LiteRtSignature signature = nullptr;
  LiteRtSubgraph subgraph = nullptr;
  if (api.LiteRtGetNumModelSignatures(impl.model, &num_signatures) != kLiteRtStatusOk ||
      num_signatures == 0 ||
      api.LiteRtGetModelSignature(impl.model, 0, &signature) != kLiteRtStatusOk ||
      api.LiteRtGetSignatureSubgraph(signature, &subgraph) != kLiteRtStatusOk) {
    *error = "the model has no runnable signature / main subgraph";
    return nullptr;
  }

  // Inputs and outputs in signature order (the order LiteRT runs them in).
  LiteRtParamIndex n_in = 0, n_out = 0;
  api.LiteRtGetNumSignatureInputs(signature, &n_in);
  api.LiteRtGetNumSignatureOutputs(signature, &n_out);
  runner->inputs_.resize(n_in);
  runner->outputs_.resize(n_out);
  for (LiteRtParamIndex i = 0; i < n_in + n_out; ++i) {
    const bool is_input = i < n_in;
    LiteRtTensor tensor = nullptr;
    Tensor& t = is_input ? runner->inputs_[i] : runner->outputs_[i - n_in];
    status = is_input ? api.LiteRtGetSignatureInputTensorByIndex(signature, i, &tensor)
                      : api.LiteRtGetSignatureOutputTensorByIndex(signature, i - n_in, &tensor);
    if (status != kLiteRtStatusOk || !ReadTensor(api, tensor, &t.details, error)) {
      if (status != kLiteRtStatusOk) *error = "cannot read the model's inputs and outputs";
      return nullptr;
    }
  }

  // Custom nodes of every subgraph (the main one, and bodies of control-flow ops such as WHILE
  // and IF): each gets its own kernel object and registration (user_data is per registration, so
  // every node needs its own custom code).
  LiteRtParamIndex num_subgraphs = 0;
  if (api.LiteRtGetNumModelSubgraphs(impl.model, &num_subgraphs) != kLiteRtStatusOk) {
    *error = "cannot read the model's subgraphs";
    return nullptr;
  }
  LiteRtParamIndex main_ops = 0;
  api.LiteRtGetNumSubgraphOps(subgraph, &main_ops);
  impl.num_ops = static_cast<int>(main_ops);
  std::map<std::string, std::string> code_owner;
  for (LiteRtParamIndex s = 0; s < num_subgraphs; ++s) {
    LiteRtSubgraph current = nullptr;
    if (api.LiteRtGetModelSubgraph(impl.model, s, &current) != kLiteRtStatusOk) {
      *error = "cannot read subgraph " + std::to_string(s) + " of the model";
      return nullptr;
    }
    LiteRtParamIndex num_ops = 0;
    api.LiteRtGetNumSubgraphOps(current, &num_ops);
    for (LiteRtParamIndex op_index = 0; op_index < num_ops; ++op_index) {
      LiteRtOp op = nullptr;
      int code = 0;
      if (api.LiteRtGetSubgraphOp(current, op_index, &op) != kLiteRtStatusOk ||
          api.LiteRtGetOpCode(op, &code) != kLiteRtStatusOk) {
        *error = "cannot read operator " + std::to_string(op_index) + " of subgraph " +
                 std::to_string(s);
        return nullptr;
      }
      if (code != kLiteRtOpCodeTflCustom) continue;
      const char* custom_code = nullptr;
      const std::uint8_t* custom_options = nullptr;
      std::size_t custom_options_size = 0;
      api.LiteRtGetCustomCode(op, &custom_code);
      api.LiteRtGetCustomOptions(op, &custom_options, &custom_options_size);
      auto node = std::make_unique<CustomNode>();
      node->impl = &impl;
      node->info.custom_code = custom_code ? custom_code : "";
      node->info.op_name = ops::OpNameOfCustomCode(node->info.custom_code);
      node->info.node_index = static_cast<int>(op_index);
      node->subgraph = current == subgraph ? -1 : static_cast<int>(s);
      const std::string where = (node->subgraph < 0 ? "" : "subgraph " + std::to_string(s) + ", ") +
                                "node " + std::to_string(op_index);
      node->kernel = ops::CreateOpKernel(node->info.op_name);
      if (!node->kernel) {
        std::string supported;
        for (const auto& name : ops::SupportedOps()) {
          supported += (supported.empty() ? "" : ", ") + name;
        }
        *error = "the model uses custom op '" + node->info.op_name + "' (" + where +
                 "), which larq-compute does not implement (it has: " + supported + ")";
        return nullptr;
      }
      auto [owner, inserted] = code_owner.emplace(node->info.custom_code, where);
      if (!inserted) {
        *error = owner->second + " and " + where + " share the custom code '" +
                 node->info.custom_code +
                 "': the model is not prepared for the runtime (larq_compute.runtime_prepare gives "
                 "every custom node its own code)";
        return nullptr;
      }
      LiteRtParamIndex op_in = 0, op_out = 0;
      api.LiteRtGetNumOpInputs(op, &op_in);
      api.LiteRtGetNumOpOutputs(op, &op_out);
      for (LiteRtParamIndex k = 0; k < op_in + op_out; ++k) {
        const bool is_input = k < op_in;
        LiteRtTensor tensor = nullptr;
        TensorDetails details;
        status = is_input ? api.LiteRtGetOpInput(op, k, &tensor)
                          : api.LiteRtGetOpOutput(op, k - op_in, &tensor);
        if (status != kLiteRtStatusOk || !tensor || !ReadTensor(api, tensor, &details, error)) {
          *error = node->Describe() + ": cannot read its " + (is_input ? "input " : "output ") +
                   std::to_string(is_input ? k : k - op_in) +
                   (status != kLiteRtStatusOk || !tensor ? "" : ": " + *error);
          return nullptr;
        }
        ops::TensorInfo info = ToTensorInfo(details);
        LiteRtWeights weights = nullptr;
        const void* bytes = nullptr;
        std::size_t weight_size = 0;
        if (is_input && api.LiteRtGetTensorWeights(tensor, &weights) == kLiteRtStatusOk &&
            weights &&
            api.LiteRtGetWeightsBytes(weights, &bytes, &weight_size) == kLiteRtStatusOk &&
            weight_size > 0) {
          // Kernels read constants by their declared shape: it must match the stored bytes.
          const bool static_shape = std::all_of(details.shape_signature.begin(),
                                                details.shape_signature.end(),
                                                [](int d) { return d >= 0; });
          const std::size_t expected =
              NumElements(details.shape_signature) * ElementSize(details.element_type);
          if (!static_shape || expected != weight_size) {
            *error = node->Describe() + ": constant input " + std::to_string(k) + " ('" +
                     details.name + "') of shape " + ops::ShapeText(details.shape_signature) +
                     " needs " + std::to_string(expected) + " bytes, its buffer holds " +
                     std::to_string(weight_size);
            return nullptr;
          }
          if (reinterpret_cast<std::uintptr_t>(bytes) % kHostMemoryAlignment) {
            *error = node->Describe() + ": constant input " + std::to_string(k) + " ('" +
                     details.name + "') is not at a 64-byte aligned offset of the model; "
                     "prepare the model with larq_compute.runtime_prepare";
            return nullptr;
          }
          info.constant = true;
        }
        (is_input ? node->info.inputs : node->info.outputs).push_back(info);
      }
      std::string init_error;
      if (!node->kernel->Init(node->info, custom_options, custom_options_size, &init_error)) {
        *error = node->Describe() + ": " + init_error;
        return nullptr;
      }
      impl.nodes.push_back(std::move(node));
    }
  }

  impl.pool = std::make_unique<ThreadPool>(options.num_threads);
  status = api.LiteRtCreateOptions(&impl.options);
  if (status == kLiteRtStatusOk) {
    status = api.LiteRtSetOptionsHardwareAccelerators(impl.options, kLiteRtHwAcceleratorCpu);
  }
  if (status != kLiteRtStatusOk) {
    *error = "cannot create LiteRT options: " + StatusText(status);
    return nullptr;
  }
  if (!AddOpaqueOptions(api, impl.options, "xnnpack",
                        "num_threads = " + std::to_string(options.num_threads) + "\n", error) ||
      !AddOpaqueOptions(api, impl.options, "runtime_options_string",
                        "error_reporter_mode = 2\n", error)) {
    return nullptr;
  }
  for (auto& node : impl.nodes) {
    status = api.LiteRtAddCustomOpKernelOption(impl.options, node->info.custom_code.c_str(), 1,
                                               &kNodeKernel, node.get());
    if (status != kLiteRtStatusOk) {
      *error = node->Describe() + ": cannot register the kernel: " + StatusText(status);
      return nullptr;
    }
  }
  status = api.LiteRtCreateCompiledModel(impl.environment, impl.model, impl.options, &impl.compiled);
  if (status != kLiteRtStatusOk) {
    impl.compiled = nullptr;
    *error = "LiteRT could not compile the model: " + StatusText(status);
    return nullptr;
  }
  for (auto& t : runner->inputs_) {
    if (!runner->BindTensor(&t, error)) return nullptr;
    runner->load_input_shapes_.push_back(t.details.shape);
  }
  if (!runner->RefreshOutputs(error)) return nullptr;
  runner->FindValueDependentOutputs();
  return runner;
}

void ModelRunner::FindValueDependentOutputs() {
  if (inputs_.empty() || outputs_.empty()) return;
  std::vector<std::vector<int>> load_outputs;
  for (const auto& t : outputs_) load_outputs.push_back(t.details.shape);
  // A larger batch: every output LiteRT can shape before a run and whose signature has a free
  // dimension follows it; one that keeps its old shape is computed from values.
  std::string ignored;
  bool resized = true;
  for (int i = 0; resized && i < NumInputs(); ++i) {
    std::vector<int> bigger = load_input_shapes_[i];
    if (!bigger.empty()) bigger[0] += 1;
    resized = ResizeLiteRtInput(i, bigger, &ignored);
  }
  if (resized && RefreshOutputs(&ignored)) {
    for (std::size_t o = 0; o < outputs_.size(); ++o) {
      const TensorDetails& d = outputs_[o].details;
      const bool free_dim = std::any_of(d.shape_signature.begin(), d.shape_signature.end(),
                                        [](int v) { return v < 0; });
      if (free_dim && d.shape == load_outputs[o]) value_dependent_outputs_.push_back(d.name);
    }
  }
  for (int i = 0; i < NumInputs(); ++i) ResizeLiteRtInput(i, load_input_shapes_[i], &ignored);
  RefreshOutputs(&ignored);
  impl_->TakeNodeError();
}

ModelRunner::~ModelRunner() {
  if (!impl_) return;
  for (auto* list : {&inputs_, &outputs_}) {
    for (auto& t : *list) {
      if (t.buffer) impl_->api->LiteRtDestroyTensorBuffer(static_cast<LiteRtTensorBuffer>(t.buffer));
      std::free(t.memory);
    }
  }
}

const std::string& ModelRunner::LiteRtLibrary() const { return impl_->api->library_path; }

bool ModelRunner::BindTensor(Tensor* tensor, std::string* error) {
  const LiteRtApi& api = *impl_->api;
  TensorDetails& d = tensor->details;
  d.bytes = NumElements(d.shape) * ElementSize(d.element_type);
  const std::size_t wanted = std::max(d.bytes, std::size_t{1});
  if (wanted > tensor->capacity || !tensor->memory) {
    std::free(tensor->memory);
    tensor->memory = AlignedAlloc(wanted);
    tensor->capacity = wanted;
    if (!tensor->memory) {
      *error = "out of memory for tensor '" + d.name + "'";
      return false;
    }
  }
  if (tensor->buffer) api.LiteRtDestroyTensorBuffer(static_cast<LiteRtTensorBuffer>(tensor->buffer));
  tensor->buffer = nullptr;
  LiteRtRankedTensorType type{};
  type.element_type = static_cast<LiteRtElementType>(d.element_type);
  type.layout.rank = static_cast<unsigned>(d.shape.size());
  for (std::size_t i = 0; i < d.shape.size(); ++i) type.layout.dimensions[i] = d.shape[i];
  LiteRtTensorBuffer buffer = nullptr;
  const LiteRtStatus status = api.LiteRtCreateTensorBufferFromHostMemory(
      &type, tensor->memory, tensor->capacity, nullptr, &buffer);
  if (status != kLiteRtStatusOk) {
    *error = "cannot create the buffer of tensor '" + d.name + "': " + StatusText(status);
    return false;
  }
  tensor->buffer = buffer;
  return true;
}

bool ModelRunner::RefreshOutputs(std::string* error) {
  const LiteRtApi& api = *impl_->api;
  std::vector<LiteRtLayout> layouts(outputs_.size());
  const LiteRtStatus status = api.LiteRtGetCompiledModelOutputTensorLayouts(
      impl_->compiled, 0, layouts.size(), layouts.data(), /*update_allocation=*/true);
  std::string node_error = impl_->TakeNodeError();
  if (node_error.empty() && status != kLiteRtStatusOk) {
    node_error = "LiteRT could not compute the output shapes: " + StatusText(status);
  }
  // Until a resize succeeds, running would hand kernels shapes they rejected.
  impl_->shape_error = node_error;
  if (!node_error.empty()) {
    *error = node_error;
    return false;
  }
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    outputs_[i].details.shape = ShapeOf(layouts[i]);
    if (!BindTensor(&outputs_[i], error)) return false;
  }
  return true;
}

bool ModelRunner::ReadOutputShapes(std::string* error) {
  std::vector<LiteRtLayout> layouts(outputs_.size());
  const LiteRtStatus status = impl_->api->LiteRtGetCompiledModelOutputTensorLayouts(
      impl_->compiled, 0, layouts.size(), layouts.data(), /*update_allocation=*/false);
  if (status != kLiteRtStatusOk) {
    *error = "LiteRT could not report the output shapes: " + StatusText(status);
    return false;
  }
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    TensorDetails& d = outputs_[i].details;
    d.shape = ShapeOf(layouts[i]);
    d.bytes = NumElements(d.shape) * ElementSize(d.element_type);
    if (d.bytes > outputs_[i].capacity) {
      *error = "output '" + d.name + "' grew to " + ops::ShapeText(d.shape) +
               ", beyond its buffer";
      return false;
    }
  }
  return true;
}

bool ModelRunner::ResizeInput(int index, const std::vector<int>& shape, std::string* error) {
  std::lock_guard<std::mutex> lock(impl_->invoke_mutex);
  if (index < 0 || index >= NumInputs()) {
    *error = "no input " + std::to_string(index);
    return false;
  }
  TensorDetails& d = inputs_[index].details;
  if (shape == d.shape) return true;
  if (shape.size() != d.shape_signature.size()) {
    *error = "input '" + d.name + "' has rank " + std::to_string(d.shape_signature.size()) +
             ", cannot take shape " + ops::ShapeText(shape);
    return false;
  }
  for (int dim : shape) {
    if (dim <= 0) {
      *error = "input '" + d.name + "': shape " + ops::ShapeText(shape) + " has a non-positive dimension";
      return false;
    }
  }
  // LiteRT writes a value-dependent output at the size it finds while running, which no buffer
  // sized before the run can be known to hold: such models run only at their load shapes.
  if (!value_dependent_outputs_.empty() && shape != load_input_shapes_[index]) {
    *error = "cannot resize input '" + d.name + "' to " + ops::ShapeText(shape) + ": output '" +
             value_dependent_outputs_.front() +
             "' has a shape computed from tensor values while the model runs (e.g. a Flatten "
             "built from SHAPE, STRIDED_SLICE, PACK and RESHAPE that is not a plain batch "
             "flatten), so its size is unknown before a run; the model runs only at input shape " +
             ops::ShapeText(load_input_shapes_[index]);
    return false;
  }
  return ResizeLiteRtInput(index, shape, error) && BindTensor(&inputs_[index], error) &&
         RefreshOutputs(error);
}

bool ModelRunner::ResizeLiteRtInput(int index, const std::vector<int>& shape, std::string* error) {
  TensorDetails& d = inputs_[index].details;
  const bool dynamic = std::any_of(d.shape_signature.begin(), d.shape_signature.end(),
                                   [](int v) { return v < 0; });
  const LiteRtApi& api = *impl_->api;
  // A model with -1 dimensions resizes strictly (only those); a static one through the
  // non-strict call, as TFLite's ResizeInputTensor does.
  const LiteRtStatus status =
      (dynamic ? api.LiteRtCompiledModelResizeInputTensor
               : api.LiteRtCompiledModelResizeInputTensorNonStrict)(
          impl_->compiled, 0, index, shape.data(), shape.size());
  if (status != kLiteRtStatusOk) {
    *error = "LiteRT cannot resize input '" + d.name + "' to " + ops::ShapeText(shape) + ": " +
             StatusText(status);
    return false;
  }
  d.shape = shape;
  return true;
}

bool ModelRunner::Invoke(std::string* error) {
  std::lock_guard<std::mutex> lock(impl_->invoke_mutex);
  if (!impl_->shape_error.empty()) {
    *error = "the inputs' current shapes were rejected (resize them again): " + impl_->shape_error;
    return false;
  }
  const LiteRtApi& api = *impl_->api;
  std::vector<LiteRtTensorBuffer> in(inputs_.size()), out(outputs_.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<LiteRtTensorBuffer>(inputs_[i].buffer);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<LiteRtTensorBuffer>(outputs_[i].buffer);
  impl_->segment_start = std::chrono::steady_clock::now();
  const LiteRtStatus status =
      api.LiteRtRunCompiledModel(impl_->compiled, 0, in.size(), in.data(), out.size(), out.data());
  impl_->builtin_tail_us += std::chrono::duration<double, std::micro>(
                                std::chrono::steady_clock::now() - impl_->segment_start)
                                .count();
  // LiteRT drops the status of a custom op's Run, so our nodes' error flags come first.
  const std::string node_error = impl_->TakeNodeError();
  if (!node_error.empty()) {
    *error = node_error;
    return false;
  }
  if (status != kLiteRtStatusOk) {
    char* messages = nullptr;
    std::string detail;
    if (api.LiteRtCompiledModelGetErrorMessages(impl_->compiled, &messages) == kLiteRtStatusOk &&
        messages) {
      detail = messages;
      std::free(messages);
      api.LiteRtCompiledModelClearErrors(impl_->compiled);
    }
    *error = "LiteRT failed to run the model: " + StatusText(status) +
             (detail.empty() ? "" : ": " + detail);
    return false;
  }
  return ReadOutputShapes(error);
}

std::vector<OpTiming> ModelRunner::OpTimings() const {
  std::vector<OpTiming> result;
  int next = 0;  // first node after the previous custom node
  std::int64_t invokes = 0;
  for (const auto& node : impl_->nodes) {
    if (node->subgraph >= 0) continue;  // timed within the main-subgraph op that runs its body
    invokes = std::max(invokes, node->count);
    if (node->info.node_index > next) {
      result.push_back({"", next, node->info.node_index - 1, node->builtin_before_us, node->count});
    }
    result.push_back(
        {node->info.op_name, node->info.node_index, node->info.node_index, node->total_us,
         node->count});
    next = node->info.node_index + 1;
  }
  if (next < impl_->num_ops) {
    result.push_back({"", next, impl_->num_ops - 1, impl_->builtin_tail_us, invokes});
  }
  return result;
}

void ModelRunner::ResetOpTimings() {
  for (auto& node : impl_->nodes) {
    node->total_us = node->builtin_before_us = 0;
    node->count = 0;
  }
  impl_->builtin_tail_us = 0;
}

}  // namespace lc::runtime
