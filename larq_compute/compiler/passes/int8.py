"""int8 boundaries of the binary ops (run by ``quantization.quantize``, not in ``PIPELINE``).

- ``binary_output`` (before the stock quantizer): a binary op (``LceBconv2d``,
  ``LceBFullyConnected``, ``LceDequantize``) whose float output ``y`` has a (min, max) range
  writes int8 ``q`` with that range's scale and zero point (the op contract's int8 output:
  ``y`` quantized, round half away from zero); ``LceQuantize`` readers read ``q``
  (bit = ``q < zero_point``, the sign of the value ``q`` stands for), other readers
  ``DEQUANTIZE(q)``.
- ``quantize_from_int8``: ``LceQuantize(DEQUANTIZE(q))`` with ``q`` int8 is ``LceQuantize(q)``:
  ``(q − zp)·scale < 0`` exactly when ``q < zp``.
- ``requantize_round_trip``: ``QUANTIZE(DEQUANTIZE(q))`` to the same int8 grid is ``q``.
"""

from __future__ import annotations

import math

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import Graph, Op, Tensor
from ..patterns import BINARY_OPS, DEQUANTIZE, QUANTIZE, Pattern, producer

_INT8 = schema.TensorType.INT8
_FLOAT32 = schema.TensorType.FLOAT32
# DEQUANTIZE reads int8 from builtin operator version 2 on.
_DEQUANTIZE_INT8_VERSION = 2


def value_range(tensor: Tensor) -> tuple[float, float] | None:
    """The (min, max) range recorded on a float tensor, if any."""
    q = tensor.quantization
    if q is None or q.min is None or q.max is None or len(q.min) != 1:
        return None
    return float(q.min[0]), float(q.max[0])


def set_value_range(tensor: Tensor, low: float, high: float) -> None:
    q = schema.QuantizationParametersT()
    q.min, q.max = [float(low)], [float(high)]
    tensor.quantization = q


def int8_parameters(low: float, high: float) -> tuple[float, int]:
    """(scale, zero point) of the int8 grid for a range, as the stock quantizer derives them:
    the range is widened to contain 0, zero point rounded half away from zero."""
    low, high = min(low, 0.0), max(high, 0.0)
    scale = (high - low) / 255.0
    zero_point = -128.0 - low / scale
    rounded = math.copysign(math.floor(abs(zero_point) + 0.5), zero_point)
    return float(np.float32(scale)), int(np.clip(rounded, -128, 127))


def per_tensor_parameters(tensor: Tensor) -> tuple[float, int] | None:
    """(scale, zero point) of a per-tensor quantized tensor."""
    q = tensor.quantization
    if q is None or q.scale is None or len(q.scale) != 1:
        return None
    return float(q.scale[0]), int(q.zeroPoint[0]) if q.zeroPoint is not None else 0


def same_grid(a: tuple[float, int] | None, b: tuple[float, int] | None) -> bool:
    """Whether two (scale, zero point) pairs quantize alike: same zero point, and scales
    agreeing to 1e-6, which maps every int8 step (|q - zp| <= 255) back onto itself."""
    return a is not None and b is not None and a[1] == b[1] and abs(a[0] - b[0]) <= 1e-6 * b[0]


def quantized_tensor(graph: Graph, name: str, like: Tensor, scale: float, zero_point: int) -> Tensor:
    """A new int8 tensor shaped like ``like`` with per-tensor scale and zero point."""
    tensor = graph.tensor(name, like.shape, _INT8, like=like)
    tensor.shape_signature = like.shape_signature
    q = schema.QuantizationParametersT()
    q.scale, q.zeroPoint = [scale], [zero_point]
    tensor.quantization = q
    return tensor


def binary_output(graph: Graph, op: Op) -> bool:
    if not op.custom or op.type not in (*BINARY_OPS, DEQUANTIZE):
        return False
    y = op.output
    value = value_range(y) if y.tensor_type == _FLOAT32 else None
    if value is None:
        return False
    q = quantized_tensor(graph, y.name + "/int8", y, *int8_parameters(*value))
    # The int8 tensor carries the grid now; a range left on y would make the stock quantizer
    # derive its own, slightly different (double instead of float32) scale for y's readers.
    y.quantization = None
    y.producer = None
    op.outputs[0] = q
    q.producer = op
    position = graph.ops.index(op) + 1
    following = graph.ops[position] if position < len(graph.ops) else None
    graph.create_op("DEQUANTIZE", [q], [y], before=following, version=_DEQUANTIZE_INT8_VERSION,
                    origin=op.origin)
    for reader in list(y.consumers):
        if reader.custom and reader.type == QUANTIZE:
            reader.set_input(0, q)
    return True


def _int8_behind_dequantize(tensor) -> object | None:
    dequantize = producer(tensor, "DEQUANTIZE")
    if dequantize is None or dequantize.custom or dequantize.inputs[0].tensor_type != _INT8:
        return None
    return dequantize.inputs[0]


def quantize_from_int8(graph: Graph, op: Op) -> bool:
    if not op.custom or op.type != QUANTIZE:
        return False
    q = _int8_behind_dequantize(op.inputs[0])
    if q is None:
        return False
    op.set_input(0, q)
    return True


def requantize_round_trip(graph: Graph, op: Op) -> bool:
    if op.custom or op.type != "QUANTIZE" or op.output.tensor_type != _INT8:
        return False
    q = _int8_behind_dequantize(op.inputs[0])
    if q is None:
        return False
    if not same_grid(per_tensor_parameters(q), per_tensor_parameters(op.output)):
        return False
    if graph.is_output(op.output):
        q.name, op.output.name = op.output.name, q.name  # a model output keeps its name
    graph.replace_uses(op.output, q)
    graph.remove_op(op)
    return True


PATTERNS: tuple[Pattern, ...] = (quantize_from_int8, requantize_round_trip)
