// Runs a .tflite model inside LiteRT (libLiteRt.so, C API) with the larq-compute custom ops
// registered. Usable from C++ without Python (runtime/tools/lc_benchmark.cpp) and wrapped by the
// Python Interpreter (python/bind_runtime.cpp).
//
// The model must be runtime-ready (docs/runtime.md, "Model preparation"): constant buffers at
// 64-byte offsets, no absent (-1) operator inputs, and one custom code per custom node.
// larq_compute.runtime_prepare produces such bytes; Create() rejects other models with a message
// saying which rule is broken.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/ops/op_kernel.h"

namespace lc::runtime {

struct RunnerOptions {
  int num_threads = 1;           // XNNPACK's threads and the custom ops' thread pool
  std::string litert_library;    // path of libLiteRt.so; empty: see litert::LoadLiteRtApi
};

struct TensorDetails {
  std::string name;
  int element_type = 0;                // TfLiteType value (1 float32, 2 int32, 9 int8, ...)
  std::vector<int> shape;              // current shape
  std::vector<int> shape_signature;    // as in the model; -1 marks a dynamic dimension
  bool quantized = false;              // per-tensor quantization parameters below are valid
  float scale = 0.0f;
  std::int64_t zero_point = 0;
  std::size_t bytes = 0;               // current size in bytes
};

struct OpTiming {
  std::string name;      // custom op name ("LceBconv2d", ...); empty: the builtin ops of the range
  int first_node = -1;   // operator indices in the subgraph: one custom node, or the builtin
  int last_node = -1;    // nodes between two custom nodes
  double total_us = 0;
  std::int64_t count = 0;  // invokes timed
};

class ModelRunner {
 public:
  // Loads and compiles the model; the bytes are copied. Returns null and sets *error on failure.
  static std::unique_ptr<ModelRunner> Create(const void* model_data, std::size_t size,
                                             const RunnerOptions& options, std::string* error);
  ~ModelRunner();
  ModelRunner(const ModelRunner&) = delete;
  ModelRunner& operator=(const ModelRunner&) = delete;

  int NumInputs() const { return static_cast<int>(inputs_.size()); }
  int NumOutputs() const { return static_cast<int>(outputs_.size()); }
  const TensorDetails& Input(int index) const { return inputs_[index].details; }
  const TensorDetails& Output(int index) const { return outputs_[index].details; }

  // Gives input `index` a new shape (e.g. another batch size); outputs are re-shaped accordingly.
  // Fails for a model with value-dependent output shapes unless `shape` is the load shape.
  bool ResizeInput(int index, const std::vector<int>& shape, std::string* error);

  // Names of the outputs whose shapes LiteRT computes only while running (from tensor values).
  // Non-empty: the model runs only at its load input shapes (callers split larger batches).
  const std::vector<std::string>& ValueDependentOutputs() const { return value_dependent_outputs_; }
  const std::vector<int>& LoadInputShape(int index) const { return load_input_shapes_[index]; }

  // Host memory of the tensors, valid until the next ResizeInput. Write inputs, Invoke, read
  // outputs (Output(i).shape is exact after Invoke, also for shapes computed from values).
  void* InputData(int index) { return inputs_[index].memory; }
  const void* OutputData(int index) const { return outputs_[index].memory; }

  // Runs the model once. Errors of our kernels (which LiteRT would drop) are reported here.
  bool Invoke(std::string* error);

  // Time spent since the last reset in each custom node and in each run of builtin nodes between
  // them, in node order. (LiteRT 2.3.0's C profiler hands out C++-typed events whose layout it
  // does not publish, so consecutive builtin ops are timed together; see docs/runtime.md.)
  std::vector<OpTiming> OpTimings() const;
  void ResetOpTimings();

  int NumThreads() const { return num_threads_; }
  const std::string& LiteRtLibrary() const;

  struct Impl;

 private:
  struct Tensor {
    TensorDetails details;
    void* memory = nullptr;
    std::size_t capacity = 0;
    void* buffer = nullptr;  // LiteRtTensorBuffer wrapping `memory`
  };
  ModelRunner() = default;
  // (Re)creates the LiteRT buffer over host memory sized for the tensor's current shape.
  bool BindTensor(Tensor* tensor, std::string* error);
  bool RefreshOutputs(std::string* error);  // after a resize
  bool ReadOutputShapes(std::string* error);  // after a run
  bool ResizeLiteRtInput(int index, const std::vector<int>& shape, std::string* error);
  // Outputs whose shapes LiteRT computes only while running (from tensor values): found at load
  // by resizing the batch and seeing which output shapes LiteRT cannot follow.
  void FindValueDependentOutputs();

  std::vector<std::vector<int>> load_input_shapes_;
  std::vector<std::string> value_dependent_outputs_;

  std::unique_ptr<Impl> impl_;
  std::vector<Tensor> inputs_, outputs_;
  int num_threads_ = 1;
};

}  // namespace lc::runtime
