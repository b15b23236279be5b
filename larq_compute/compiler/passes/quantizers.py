"""Recognise binary quantizers and replace them with ``LceQuantize`` + ``LceDequantize``.

A binary quantizer maps x < 0 to −1 and everything else (0 included) to +1. Forms recognised, as
the stock converter emits them:

- ``SIGN(ADD(SIGN(x), c))`` with a constant 0 < c < 1 (``sign(sign(x) + 0.1)``, the forward of
  ``ste_sign``): sign(x) ∈ {−1, 0, 1} becomes {−1 + c, c, 1 + c}, whose sign is exactly q(x);
- ``SELECT_V2(GREATER_EQUAL(x, 0), 1, −1)`` (``where(x >= 0, 1, -1)``);
- ``SELECT_V2(LESS(x, 0), −1, 1)`` (``where(x < 0, -1, 1)``).

The pair keeps the graph float-valued (``LceDequantize`` gives back exactly ±1.0), so the
rewrite is exact on its own; the binary-layer passes then read the bit-packed tensor behind the
``LceDequantize`` and the cleanup pass drops it once no float op needs it. A plain ``SIGN(x)``
maps 0 to 0, so it is not a binary quantizer (unless x is already ±1, see ``cleanup``).
"""

from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from ..bitpack import packed_depth
from ..ir import Graph, Op, Tensor
from ..patterns import (
    DEQUANTIZE,
    QUANTIZE,
    binary_input,
    fused_activation,
    producer,
    replace_op,
    uniform_constant,
)


def _sign_add_sign(op: Op) -> Tensor | None:
    if op.type != "SIGN":
        return None
    add = producer(op.inputs[0], "ADD")
    if add is None or fused_activation(add) != schema.ActivationFunctionType.NONE:
        return None
    for first, offset in ((add.inputs[0], add.inputs[1]), (add.inputs[1], add.inputs[0])):
        c = uniform_constant(offset)
        if c is None or not 0.0 < c < 1.0:
            continue
        inner = producer(first, "SIGN")
        if inner is not None:
            return inner.inputs[0]
        if binary_input(first) is not None:  # the inner SIGN of ±1 values was already dropped
            return first
    return None


def _select_form(op: Op) -> Tensor | None:
    if op.type != "SELECT_V2" or len(op.inputs) != 3:
        return None
    condition, on_true, on_false = op.inputs
    compare = producer(condition, "GREATER_EQUAL", "LESS")
    if compare is None or uniform_constant(compare.inputs[1]) != 0.0:
        return None
    expected = (1.0, -1.0) if compare.type == "GREATER_EQUAL" else (-1.0, 1.0)
    if (uniform_constant(on_true), uniform_constant(on_false)) != expected:
        return None
    return compare.inputs[0]


def quantizer_input(op: Op) -> Tensor | None:
    """The tensor x when ``op`` is the last op of a binary quantizer of x (with x's shape)."""
    x = _sign_add_sign(op) or _select_form(op)
    if x is None or x.shape != op.output.shape or x.tensor_type != schema.TensorType.FLOAT32:
        return None
    return x


def quantize(graph: Graph, x: Tensor, *, before: Op, origin: str) -> Tensor:
    """Insert ``LceQuantize(x)`` before ``before``; returns the bit-packed tensor."""
    packed = graph.tensor(
        f"{origin}/bitpacked", (*x.shape[:-1], packed_depth(x.shape[-1])), schema.TensorType.INT32, like=x
    )
    graph.create_op(QUANTIZE, [x], [packed], custom=True, before=before, origin=origin)
    return packed


def rewrite(graph: Graph, op: Op) -> bool:
    x = quantizer_input(op)
    if x is None:
        return False
    packed = quantize(graph, x, before=op, origin=op.origin)
    replace_op(graph, op, DEQUANTIZE, [packed], None)
    return True
