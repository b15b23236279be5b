"""int8 activations: ranges from fake-quant ops or a default range, int8 I/O, int8 binary ops.

A model is quantized when it has range information: fake-quant ops
(``tf.quantization.fake_quant_with_min_max_vars``, which the stock float converter emits as a
``QUANTIZE(uint8) -> DEQUANTIZE`` round trip) or ``experimental_default_int8_range``, which gives
every float activation tensor without a range that range. The stages, after the binary passes:

1. :func:`ranges_from_fake_quant`: each round trip becomes the (min, max) range of the tensor it
   quantizes, and is removed. The range is the one the fake-quant op snapped to, so the int8 grid
   is exactly the fake-quant grid.
2. :func:`apply_default_range`; :func:`check_io_ranges` refuses int8 I/O without a range.
3. ``passes.int8.binary_output``: a binary op whose float output has a range writes int8.
4. The stock quantizer (``mlir_quantize``, as in TFLite's post-training quantization with the
   ranges given instead of calibrated) makes every builtin op whose tensors all have ranges int8,
   weights per channel from their own values, and sets the model's I/O types. Our custom ops
   stay as they are, with ``QUANTIZE``/``DEQUANTIZE`` where an int8 tensor meets a float one.
5. ``passes.int8`` removes the boundaries our ops can take themselves: ``LceQuantize`` reads int8
   (bit = ``q < zero_point``), a ``QUANTIZE`` of a binary op's int8 output after ``DEQUANTIZE`` is
   that output.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ai_edge_litert import schema_py_generated as schema

from .flatbuffer import export_model, import_model
from .ir import Graph, Model
from .passes import cleanup, int8
from .passes.int8 import (
    int8_parameters,
    per_tensor_parameters,
    quantized_tensor,
    same_grid,
    set_value_range,
    value_range,
)
from .patterns import rewrite_to_fixed_point

FLOAT32 = schema.TensorType.FLOAT32
INT8 = schema.TensorType.INT8
UINT8 = schema.TensorType.UINT8
QUANTIZED_RANGES = {INT8: (-128, 127), UINT8: (0, 255)}
IO_TYPES = {"float32": FLOAT32, "int8": INT8, "uint8": UINT8}
# int8 builtin ops whose kernels take any input scale (they derive their rescaling from the
# tensors when the model is prepared); conv/dense layers have a bias quantized for one scale,
# pooling and concatenation need their output's.
_ANY_INPUT_SCALE = {"ADD", "SUB", "MUL", "MEAN", "SUM", "SOFTMAX", "LOGISTIC", "TANH", "QUANTIZE", "DEQUANTIZE"}
# QUANTIZE writes and DEQUANTIZE reads int8 from builtin operator version 2 on.
_INT8_OP_VERSION = 2


def _fake_quant_pair(graph: Graph, quantize_op: Any) -> Any:
    """The DEQUANTIZE of a float -> (u)int8 -> float round trip starting at ``quantize_op``."""
    if quantize_op.type != "QUANTIZE" or quantize_op.custom:
        return None
    source, quantized = quantize_op.inputs[0], quantize_op.output
    if source is None or source.tensor_type != FLOAT32 or source.is_constant:
        return None
    if quantized.tensor_type not in QUANTIZED_RANGES or per_tensor_parameters(quantized) is None:
        return None
    reader = graph.only_consumer(quantized)
    if reader is None or reader.type != "DEQUANTIZE" or reader.custom or reader.output.tensor_type != FLOAT32:
        return None
    return reader


def ranges_from_fake_quant(graph: Graph) -> dict[str, tuple[float, float]]:
    """Replace every float -> (u)int8 -> float round trip by the range of the tensor it
    quantizes; returns those ranges by tensor name."""
    ranges = {}
    for op in list(graph.ops):
        dequantize = _fake_quant_pair(graph, op) if op.graph is graph else None
        if dequantize is None:
            continue
        source = op.inputs[0]
        scale, zero_point = per_tensor_parameters(op.output)
        q_min, q_max = QUANTIZED_RANGES[op.output.tensor_type]
        ranges[source.name] = ((q_min - zero_point) * scale, (q_max - zero_point) * scale)
        set_value_range(source, *ranges[source.name])
        graph.replace_uses(dequantize.output, source)
        graph.remove_op(dequantize)
        graph.remove_op(op)
    return ranges


def keep_fake_quant(graph: Graph, ranges: dict[str, tuple[float, float]]) -> int:
    """Put each fake-quant tensor back on its own grid where the stock quantizer did not: a
    tensor it left float (its producer or all its readers stay float) gets an int8 round trip,
    one it gave another scale (a same-scale op such as RESHAPE takes its input's) a requantize.
    So the model rounds and clamps there as the Keras model does."""
    count = 0
    for tensor in list(graph.tensors()):
        value = ranges.get(tensor.name)
        if value is None or tensor.is_constant:
            continue
        grid = int8_parameters(*value)
        if tensor.tensor_type == INT8:
            if same_grid(per_tensor_parameters(tensor), grid):
                continue
            fixed = [op.type for op in tensor.consumers if not op.custom and op.type not in _ANY_INPUT_SCALE]
            if fixed:
                warnings.warn(
                    f"the fake-quant range ({value[0]:g}, {value[1]:g}) of {tensor.name!r} is not "
                    f"applied: the quantizer gave it its input's grid and its reader "
                    f"({fixed[0]}) was quantized for that grid", stacklevel=5)
                continue
            steps = [("QUANTIZE", "/requantized", INT8)]
        elif tensor.tensor_type == FLOAT32:
            dequantize = tensor.producer
            if dequantize is not None and dequantize.type == "DEQUANTIZE" and not dequantize.custom:
                continue  # already an int8 value
            steps = [("QUANTIZE", "/int8", INT8), ("DEQUANTIZE", "/fake_quant", FLOAT32)]
        else:
            continue
        last = tensor
        chain = []
        for op_type, suffix, tensor_type in steps:
            if tensor_type == INT8:
                out = quantized_tensor(graph, tensor.name + suffix, tensor, *grid)
            else:
                out = graph.tensor(tensor.name + suffix, tensor.shape, FLOAT32, like=tensor)
                out.shape_signature = tensor.shape_signature
            chain.append((op_type, last, out))
            last = out
        graph.replace_uses(tensor, last)
        if graph.is_output(last):  # a model output keeps its name
            last.name, tensor.name = tensor.name, last.name
        first_reader = min((graph.ops.index(op) for op in last.consumers), default=None)
        before = graph.ops[first_reader] if first_reader is not None else None
        for op_type, source, out in chain:
            graph.create_op(op_type, [source], [out], before=before, version=_INT8_OP_VERSION)
        count += 1
    return count


def apply_default_range(graph: Graph, default_range: tuple[float, float]) -> int:
    """Give every float activation tensor without a range ``default_range``."""
    count = 0
    for tensor in graph.tensors():
        if tensor.tensor_type == FLOAT32 and not tensor.is_constant and value_range(tensor) is None:
            set_value_range(tensor, *default_range)
            count += 1
    return count


def check_io_ranges(graph: Graph, input_type: int, output_type: int) -> None:
    for kind, tensors, wanted in (("input", graph.inputs, input_type), ("output", graph.outputs, output_type)):
        if wanted == FLOAT32:
            continue
        for tensor in tensors:
            if tensor.tensor_type == FLOAT32 and value_range(tensor) is None:
                raise ValueError(
                    f"model {kind} {tensor.name!r} has no range for {_TYPE_NAMES[wanted]} "
                    f"quantization: add a fake-quant op (e.g. tf.quantization."
                    f"fake_quant_with_min_max_vars) at the {kind}, or pass "
                    f"experimental_default_int8_range=(min, max)"
                )


_TYPE_NAMES = {code: name for name, code in IO_TYPES.items()}


def check_default_range(default_range: Any) -> tuple[float, float] | None:
    if default_range is None:
        return None
    try:
        low, high = (float(v) for v in default_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"experimental_default_int8_range must be a (min, max) pair of numbers, got {default_range!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"experimental_default_int8_range must be finite with min < max, got ({low}, {high})"
        )
    return low, high


def _stock_quantize(model: bytes, input_type: int, output_type: int) -> bytes:
    import tensorflow as tf
    from tensorflow.lite.python.convert import mlir_quantize

    dtypes = {FLOAT32: tf.float32, INT8: tf.int8, UINT8: tf.uint8}
    try:
        return mlir_quantize(
            model, fully_quantize=False, input_data_type=dtypes[input_type], output_data_type=dtypes[output_type]
        )
    except Exception as error:  # the quantizer raises bare converter errors
        raise ValueError(f"the TFLite quantizer could not quantize the model: {error}") from error


def has_ranges(model: Model) -> bool:
    return any(value_range(t) is not None for g in model.graphs for t in g.tensors())


def quantize(model: Model, input_type: int, output_type: int, default_range: tuple[float, float] | None) -> Model:
    """Stages 1-5 of the module docstring; returns ``model`` unchanged when nothing has a range."""
    fake_quant = []
    for graph in model.graphs:
        fake_quant.append(ranges_from_fake_quant(graph))
        rewrite_to_fixed_point(graph, [cleanup.remove_dead_op])
        if default_range is not None:
            apply_default_range(graph, default_range)
    check_io_ranges(model.main, input_type, output_type)
    if not has_ranges(model):
        return model
    for graph in model.graphs:
        rewrite_to_fixed_point(graph, [int8.binary_output])
    # The stock quantizer round trip loses our op attributes; carry the report's layer names over.
    origins = {op.output.name: op.origin for g in model.graphs for op in g.ops if op.outputs}
    quantized = import_model(_stock_quantize(export_model(model), input_type, output_type))
    for graph, ranges in zip(quantized.graphs, fake_quant):
        for op in graph.ops:
            if op.outputs and op.output.name in origins:
                op.origin = origins[op.output.name]
        keep_fake_quant(graph, ranges)
        rewrite_to_fixed_point(graph, [cleanup.remove_dead_op, *int8.PATTERNS])
    return quantized
