// Helpers shared by the custom-op adapters: checks that produce messages naming the tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/core/output_transform.h"
#include "runtime/core/types.h"
#include "runtime/ops/flexbuffer_map.h"
#include "runtime/ops/op_kernel.h"

namespace lc::ops {

std::string ShapeText(const std::vector<int>& shape);

// Product of the dimensions before the last one (the "rows" of a channel-innermost tensor).
std::int64_t LeadingSize(const std::vector<int>& shape);

// Input `index` exists (not absent) and has one of the allowed types.
bool CheckInputType(const NodeInfo& node, int index, std::initializer_list<ElementType> allowed,
                    std::string* error);
bool CheckOutputType(const NodeInfo& node, int index, std::initializer_list<ElementType> allowed,
                     std::string* error);
bool CheckCounts(const NodeInfo& node, int min_inputs, int max_inputs, int outputs,
                 std::string* error);
bool InputPresent(const NodeInfo& node, int index);

// Integer option within [low, high].
bool GetIntOption(const FlexbufferMap& options, const std::string& key, int low, int high,
                  int* value, std::string* error);
// Same, with a default when the key is absent.
bool GetOptionalIntOption(const FlexbufferMap& options, const std::string& key, int low, int high,
                          int fallback, int* value, std::string* error);

bool ParseOptions(const std::uint8_t* data, std::size_t size, FlexbufferMap* options,
                  std::string* error);

// Output type of a binary op from its output tensor's element type.
OutputType OutputTypeOf(ElementType type);

// The output-transform part shared by LceBconv2d and LceBFullyConnected: options
// fused_activation_function / output_activation_function, the output type from output 0, the
// inputs that type needs (2, 3 float32 multiplier and bias, or 4 int32 thresholds) and int8
// parameters. Sets everything but the arrays.
bool InitOutputTransform(const NodeInfo& node, const FlexbufferMap& options,
                         OutputTransform* transform, std::string* error);

// Points the transform's arrays at the constant inputs after checking they hold one value per
// output channel.
bool BindOutputTransformInputs(const std::vector<TensorView>& inputs, int channels_out,
                               OutputTransform* transform, std::string* error);

}  // namespace lc::ops
