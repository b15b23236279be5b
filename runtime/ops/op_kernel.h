// The custom-op adapters: one OpKernel object per node of the model, created by name.
// They are independent of LiteRT's ABI: the model runner translates LiteRT's callbacks into
// the calls below (so the adapters can also be driven by another runtime).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lc {
class ThreadPool;
}

namespace lc::ops {

// TFLite element types the ops use (same values as TfLiteType).
enum class ElementType : int { kNone = 0, kFloat32 = 1, kInt32 = 2, kInt8 = 9 };

const char* ElementTypeName(ElementType type);

// What the model file says about one tensor of a node (known at load time).
struct TensorInfo {
  ElementType type = ElementType::kNone;  // kNone: an absent optional input
  std::vector<int> shape;                 // as stored; may hold -1 for dynamic dimensions
  bool has_quantization = false;
  float scale = 1.0f;
  std::int64_t zero_point = 0;
  std::string name;
  bool constant = false;  // data stored in the model; its size matches shape and type
};

struct NodeInfo {
  std::string op_name;      // e.g. "LceBconv2d"
  std::string custom_code;  // as in the model, e.g. "LceBconv2d" or "LceBconv2d#7"
  int node_index = -1;      // index of the operator in its subgraph
  std::vector<TensorInfo> inputs, outputs;
};

// A tensor as a kernel sees it at run time.
struct TensorView {
  void* data = nullptr;
  std::vector<int> shape;
  std::size_t bytes = 0;
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;

  // Parses the node's custom options (flexbuffer bytes, may be empty) and checks the tensor
  // types. Called once per node at load.
  virtual bool Init(const NodeInfo& node, const std::uint8_t* options, std::size_t size,
                    std::string* error) = 0;

  // Output shapes from input shapes (batch and spatial dimensions may change between runs).
  virtual bool InferOutputShapes(const std::vector<std::vector<int>>& input_shapes,
                                 std::vector<std::vector<int>>* output_shapes,
                                 std::string* error) = 0;

  // Computes the outputs. Constant inputs keep their address across runs, so state derived from
  // them (re-laid-out filters) is built on the first run and reused.
  virtual bool Run(const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs,
                   ThreadPool* pool, std::string* error) = 0;
};

// The custom ops this runtime implements, by name ("LceQuantize", ...).
const std::vector<std::string>& SupportedOps();

// Creates the kernel for `op_name`, or null if the op is not one of SupportedOps().
std::unique_ptr<OpKernel> CreateOpKernel(const std::string& op_name);

// Op name of a custom code: the part before '#' ("LceBconv2d#7" -> "LceBconv2d"). The runtime
// gives every custom node its own code (docs/runtime.md, model preparation).
std::string OpNameOfCustomCode(const std::string& custom_code);

}  // namespace lc::ops
