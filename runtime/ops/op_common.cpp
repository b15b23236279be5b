#include "runtime/ops/op_common.h"

namespace lc::ops {

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kNone: return "absent";
    case ElementType::kFloat32: return "float32";
    case ElementType::kInt32: return "int32";
    case ElementType::kInt8: return "int8";
  }
  return "unsupported type";
}

std::string ShapeText(const std::vector<int>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::int64_t LeadingSize(const std::vector<int>& shape) {
  std::int64_t rows = 1;
  for (std::size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  return rows;
}

namespace {
bool CheckType(const std::vector<TensorInfo>& tensors, const char* kind, int index,
               std::initializer_list<ElementType> allowed, std::string* error) {
  const ElementType type =
      index < static_cast<int>(tensors.size()) ? tensors[index].type : ElementType::kNone;
  for (ElementType a : allowed) {
    if (type == a) return true;
  }
  std::string names;
  for (ElementType a : allowed) names += std::string(names.empty() ? "" : " or ") + ElementTypeName(a);
  std::string tensor_name =
      index < static_cast<int>(tensors.size()) && !tensors[index].name.empty()
          ? " ('" + tensors[index].name + "')"
          : "";
  *error = std::string(kind) + " " + std::to_string(index) + tensor_name + " must be " + names +
           ", got " + ElementTypeName(type);
  return false;
}
}  // namespace

bool CheckInputType(const NodeInfo& node, int index, std::initializer_list<ElementType> allowed,
                    std::string* error) {
  return CheckType(node.inputs, "input", index, allowed, error);
}

bool CheckOutputType(const NodeInfo& node, int index, std::initializer_list<ElementType> allowed,
                     std::string* error) {
  return CheckType(node.outputs, "output", index, allowed, error);
}

bool CheckCounts(const NodeInfo& node, int min_inputs, int max_inputs, int outputs,
                 std::string* error) {
  const int n_in = static_cast<int>(node.inputs.size());
  if (n_in < min_inputs || n_in > max_inputs) {
    *error = "expects " + std::to_string(min_inputs) +
             (max_inputs != min_inputs ? " to " + std::to_string(max_inputs) : "") +
             " inputs, got " + std::to_string(n_in);
    return false;
  }
  if (static_cast<int>(node.outputs.size()) != outputs) {
    *error = "expects " + std::to_string(outputs) + " output(s), got " +
             std::to_string(node.outputs.size());
    return false;
  }
  return true;
}

bool InputPresent(const NodeInfo& node, int index) {
  return index < static_cast<int>(node.inputs.size()) &&
         node.inputs[index].type != ElementType::kNone;
}

bool GetIntOption(const FlexbufferMap& options, const std::string& key, int low, int high,
                  int* value, std::string* error) {
  std::int64_t v = 0;
  if (!options.GetInt(key, &v, error)) return false;
  if (v < low || v > high) {
    *error = "custom option '" + key + "' = " + std::to_string(v) + " is outside [" +
             std::to_string(low) + ", " + std::to_string(high) + "]";
    return false;
  }
  *value = static_cast<int>(v);
  return true;
}

bool GetOptionalIntOption(const FlexbufferMap& options, const std::string& key, int low, int high,
                          int fallback, int* value, std::string* error) {
  if (!options.Has(key)) {
    *value = fallback;
    return true;
  }
  return GetIntOption(options, key, low, high, value, error);
}

bool ParseOptions(const std::uint8_t* data, std::size_t size, FlexbufferMap* options,
                  std::string* error) {
  if (size == 0) {
    *error = "custom options are missing (an empty flexbuffer map is not allowed for this op)";
    return false;
  }
  return options->Parse(data, size, error);
}

OutputType OutputTypeOf(ElementType type) {
  switch (type) {
    case ElementType::kInt8: return OutputType::kInt8;
    case ElementType::kInt32: return OutputType::kBitpacked;
    default: return OutputType::kFloat;
  }
}

bool InitOutputTransform(const NodeInfo& node, const FlexbufferMap& options,
                         OutputTransform* transform, std::string* error) {
  int fused = 0, output_activation = 0;
  if (!GetIntOption(options, "fused_activation_function", 0, 3, &fused, error) ||
      !GetOptionalIntOption(options, "output_activation_function", 0, 3, 0, &output_activation,
                            error) ||
      !CheckOutputType(node, 0, {ElementType::kFloat32, ElementType::kInt8, ElementType::kInt32},
                       error)) {
    return false;
  }
  transform->accumulator_activation = static_cast<Activation>(fused);
  transform->output_activation = static_cast<Activation>(output_activation);
  const TensorInfo& output = node.outputs[0];
  transform->type = OutputTypeOf(output.type);
  if (transform->type == OutputType::kBitpacked) {
    if (!CheckInputType(node, 4, {ElementType::kInt32}, error)) {
      *error = "bit-packed output needs output_threshold: " + *error;
      return false;
    }
  } else if (!CheckInputType(node, 2, {ElementType::kFloat32}, error) ||
             !CheckInputType(node, 3, {ElementType::kFloat32}, error)) {
    *error = "float/int8 output needs post_activation_multiplier and _bias: " + *error;
    return false;
  }
  for (int index : transform->type == OutputType::kBitpacked ? std::vector<int>{4}
                                                               : std::vector<int>{2, 3}) {
    if (!node.inputs[index].constant) {
      *error = "input " + std::to_string(index) + " ('" + node.inputs[index].name +
               "') must be a constant tensor";
      return false;
    }
  }
  if (transform->type == OutputType::kInt8) {
    if (!output.has_quantization || !(output.scale > 0.0f)) {
      *error = "int8 output 0 needs a positive per-tensor scale";
      return false;
    }
    transform->int8_scale = output.scale;
    transform->int8_zero_point = static_cast<int>(output.zero_point);
  }
  return true;
}

bool BindOutputTransformInputs(const std::vector<TensorView>& inputs, int channels_out,
                               OutputTransform* transform, std::string* error) {
  const bool bitpacked = transform->type == OutputType::kBitpacked;
  const std::size_t needed = static_cast<std::size_t>(channels_out) * 4;
  for (int index : bitpacked ? std::vector<int>{4} : std::vector<int>{2, 3}) {
    if (inputs[index].bytes < needed) {
      *error = "input " + std::to_string(index) + " holds " + std::to_string(inputs[index].bytes) +
               " bytes, needs one value per output channel (" + std::to_string(channels_out) + ")";
      return false;
    }
  }
  if (bitpacked) {
    transform->thresholds = static_cast<const std::int32_t*>(inputs[4].data);
  } else {
    transform->multiplier = static_cast<const float*>(inputs[2].data);
    transform->bias = static_cast<const float*>(inputs[3].data);
  }
  return true;
}

}  // namespace lc::ops
