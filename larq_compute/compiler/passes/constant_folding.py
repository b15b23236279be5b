"""Constant folding: an op whose inputs are all constants becomes a constant.

The stock converter stops folding constants above a size limit, so for large layers the float
graph computes the quantized kernel ``q(W)`` at run time from the latent float weights
(``SIGN``/``ADD``/``ABS``/``MEAN``/``MUL``... of constants feeding the conv or dense filter).
Folding them gives the binary-layer passes the constant filter they need, and the runtime no
longer recomputes the weights on every call.

Each op kind is evaluated in numpy with TFLite's semantics: float32 arithmetic, numpy-style
broadcasting, fused activations applied, ``SIGN(0) = 0``. Known differences from the runtime:
``MEAN``/``SUM`` accumulate in float64 and round once (the runtime sums in float32, so the last
ulp may differ; the binary-weight check allows a relative 1e-5); ``SQRT`` may differ by one ulp
and ``RSQRT`` by a few (the runtime's square roots are vectorised approximations, the fold is
correctly rounded); signed zeros are not tracked (only a division by zero tells them apart).
Op kinds not listed here, and ops whose result would not match the output tensor's declared
shape and type, are left alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import Graph, Op
from ..patterns import constant, fused_activation

_ACTIVATIONS: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    schema.ActivationFunctionType.NONE: lambda y: y,
    schema.ActivationFunctionType.RELU: lambda y: np.maximum(y, np.float32(0)).astype(y.dtype),
    schema.ActivationFunctionType.RELU_N1_TO_1: lambda y: np.clip(y, -1, 1).astype(y.dtype),
    schema.ActivationFunctionType.RELU6: lambda y: np.clip(y, 0, 6).astype(y.dtype),
}


def _arithmetic(function: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    def fold(op: Op, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        activation = _ACTIVATIONS.get(fused_activation(op))
        if activation is None or a.dtype != b.dtype or a.dtype.kind not in "fi":
            return None
        if a.dtype.kind == "i" and (function is np.divide or fused_activation(op)):
            return None  # integer DIV rounding and clamping vary between kernels; leave them
        with np.errstate(all="ignore"):
            return activation(function(a, b).astype(a.dtype))

    return fold


def _reduce(function: Callable[..., np.ndarray]):
    def fold(op: Op, x: np.ndarray, axes: np.ndarray) -> np.ndarray | None:
        if x.dtype != np.float32 or axes.dtype.kind != "i":
            return None
        axis = tuple(sorted({int(a) % x.ndim for a in axes.reshape(-1)})) if x.ndim else ()
        keep_dims = bool(getattr(op.options, "keepDims", False))
        return function(x.astype(np.float64), axis=axis, keepdims=keep_dims).astype(np.float32)

    return fold


def _sign(op: Op, x: np.ndarray) -> np.ndarray:
    return np.sign(x).astype(x.dtype)


def _rsqrt(op: Op, x: np.ndarray) -> np.ndarray | None:
    if x.dtype != np.float32:
        return None
    with np.errstate(all="ignore"):
        return np.float32(1) / np.sqrt(x)  # the runtime's 1.f / std::sqrt(x): two roundings


def _float_unary(function: Callable[[np.ndarray], np.ndarray]):
    def fold(op: Op, x: np.ndarray) -> np.ndarray | None:
        if x.dtype != np.float32:
            return None
        with np.errstate(all="ignore"):
            return function(x).astype(np.float32)

    return fold


def _select(op: Op, condition: np.ndarray, on_true: np.ndarray, on_false: np.ndarray) -> np.ndarray:
    if op.type == "SELECT" and condition.ndim == 1 and on_true.ndim > 1:
        # SELECT (v1) with a vector condition picks whole rows along the first axis.
        condition = condition.reshape(-1, *([1] * (on_true.ndim - 1)))
    return np.where(condition, on_true, on_false)


def _reshape(op: Op, x: np.ndarray, *shape: np.ndarray) -> np.ndarray:
    return x.reshape(op.output.shape)


def _transpose(op: Op, x: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    return np.transpose(x, [int(p) for p in permutation.reshape(-1)])


def _cast(op: Op, x: np.ndarray) -> np.ndarray | None:
    dtype = op.output.dtype
    if dtype is None or x.dtype.kind not in "fiub" or dtype.kind not in "fiub":
        return None
    if x.dtype.kind == "f" and dtype.kind in "iu" and not np.all(np.isfinite(x)):
        return None  # float -> int of inf/nan is undefined behaviour in the runtime
    return x.astype(dtype)


def _concatenation(op: Op, *parts: np.ndarray) -> np.ndarray | None:
    if fused_activation(op) != schema.ActivationFunctionType.NONE:
        return None  # the runtime's float kernel ignores a fused activation here; leave it alone
    return np.concatenate(parts, axis=op.options.axis)


def _pack(op: Op, *parts: np.ndarray) -> np.ndarray:
    return np.stack(parts, axis=op.options.axis)


def _compare(function: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    def fold(op: Op, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return function(a, b)

    return fold


# Op type -> fold(op, *input values) -> value, or None to leave the op alone.
_FOLDERS: dict[str, Callable[..., np.ndarray | None]] = {
    "ADD": _arithmetic(np.add),
    "SUB": _arithmetic(np.subtract),
    "MUL": _arithmetic(np.multiply),
    "DIV": _arithmetic(np.divide),
    "MAXIMUM": _compare(np.maximum),
    "MINIMUM": _compare(np.minimum),
    "SQUARED_DIFFERENCE": _arithmetic(lambda a, b: np.square(a - b)),
    "NEG": lambda op, x: np.negative(x),
    "ABS": lambda op, x: np.abs(x),
    "SIGN": _sign,
    "SQUARE": lambda op, x: np.square(x),
    "SQRT": _float_unary(np.sqrt),
    "RSQRT": _rsqrt,
    "FLOOR": _float_unary(np.floor),
    "CEIL": _float_unary(np.ceil),
    "ROUND": _float_unary(np.rint),  # round half to even, as the runtime's ROUND
    "MEAN": _reduce(np.mean),
    "SUM": _reduce(np.sum),
    "REDUCE_MAX": lambda op, x, axes: _reduce_extreme(op, x, axes, np.max),
    "REDUCE_MIN": lambda op, x, axes: _reduce_extreme(op, x, axes, np.min),
    "GREATER": _compare(np.greater),
    "GREATER_EQUAL": _compare(np.greater_equal),
    "LESS": _compare(np.less),
    "LESS_EQUAL": _compare(np.less_equal),
    "EQUAL": _compare(np.equal),
    "NOT_EQUAL": _compare(np.not_equal),
    "LOGICAL_AND": _compare(np.logical_and),
    "LOGICAL_OR": _compare(np.logical_or),
    "LOGICAL_NOT": lambda op, x: np.logical_not(x),
    "SELECT": _select,
    "SELECT_V2": _select,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
    "TRANSPOSE": _transpose,
    "CAST": _cast,
    "CONCATENATION": _concatenation,
    "PACK": _pack,
}


def _reduce_extreme(op: Op, x: np.ndarray, axes: np.ndarray, function) -> np.ndarray | None:
    if x.size == 0 or axes.dtype.kind != "i":
        return None
    axis = tuple(sorted({int(a) % x.ndim for a in axes.reshape(-1)})) if x.ndim else ()
    return function(x, axis=axis, keepdims=bool(getattr(op.options, "keepDims", False)))


def fold(op: Op) -> np.ndarray | None:
    """The value of ``op``'s single output if all its inputs are constants and it can be folded."""
    folder = _FOLDERS.get(op.type)
    if op.custom or folder is None or len(op.outputs) != 1 or not op.inputs:
        return None
    values = [constant(t) for t in op.inputs]
    if any(v is None for v in values) or op.output.dtype is None:
        return None
    if op.output.shape_signature is not None and any(d < 0 for d in op.output.shape_signature):
        return None
    result = folder(op, *values)
    if result is None:
        return None
    result = np.asarray(result)
    if result.shape != op.output.shape or result.dtype != op.output.dtype:
        return None  # the op does something this fold does not model; leave it
    return result


def rewrite(graph: Graph, op: Op) -> bool:
    if any(graph.is_output(t) for t in op.outputs):
        return False  # a model output stays computed: constant outputs are not portable
    value = fold(op)
    if value is None:
        return False
    output = op.output
    folded = graph.constant(value, output.name)
    graph.replace_uses(output, folded)
    graph.remove_op(op)
    return True
