"""Binary max-pooling: ``MAX_POOL_2D`` on ±1 values → ``LceBMaxPool2d`` on bit-packed values.

- ``MAX_POOL_2D(LceDequantize(p))`` → ``LceDequantize(LceBMaxPool2d(p))``: max over ±1 is an
  AND of the "−1" bits.
- ``LceQuantize(MAX_POOL_2D(y))`` → ``LceBMaxPool2d(LceQuantize(y))``: the quantizer is monotone
  (non-decreasing), so it commutes with max exactly; the float pool disappears when nothing
  else reads it, and ``y`` can then come bit-packed out of a binary convolution.
- ``swap_affine_before_pool``: ``MUL(MAX_POOL_2D(y), c)`` with ``c ≥ 0`` per channel, or
  ``ADD(MAX_POOL_2D(y), c)``, becomes ``MAX_POOL_2D(MUL/ADD(y, c))`` when ``y`` comes from a
  binary op that can absorb the MUL/ADD (``fold_affine``). Float rounding is monotone, so
  ``max(y)·c = max(y·c)`` exactly for c ≥ 0. This is the BatchNormalization of a
  "conv → max-pool → BN" block, which the stock converter cannot fold.

Only pools without a fused activation are taken (ReLU before a quantizer would change it).
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import Graph, Op
from ..patterns import (
    BINARY_OPS,
    BMAXPOOL2D,
    DEQUANTIZE,
    QUANTIZE,
    binary_input,
    channel_constant,
    fused_activation,
    producer,
    replace_op,
)
from .quantizers import quantize


def _pool_options(pool: Op) -> dict:
    o = pool.options
    return {
        "filter_height": int(o.filterHeight),
        "filter_width": int(o.filterWidth),
        "padding": int(o.padding),
        "stride_height": int(o.strideH),
        "stride_width": int(o.strideW),
    }


def _plain_pool(op: Op | None) -> bool:
    return (
        op is not None
        and not op.custom
        and op.type == "MAX_POOL_2D"
        and fused_activation(op) == schema.ActivationFunctionType.NONE
        and len(op.output.shape) == 4
    )


def rewrite(graph: Graph, op: Op) -> bool:
    if _plain_pool(op) and binary_input(op.inputs[0]) is not None:
        packed_in = binary_input(op.inputs[0])
        packed_out = graph.tensor(
            f"{op.origin}/bitpacked", (*op.output.shape[:-1], packed_in.shape[-1]),
            schema.TensorType.INT32, like=op.output,
        )
        graph.create_op(BMAXPOOL2D, [packed_in], [packed_out], options=_pool_options(op), custom=True,
                        before=op, origin=op.origin)
        replace_op(graph, op, DEQUANTIZE, [packed_out], None)
        return True
    if op.custom and op.type == QUANTIZE:
        pool = producer(op.inputs[0], "MAX_POOL_2D")
        if not _plain_pool(pool) or graph.only_consumer(pool.output) is not op:
            return False
        packed = quantize(graph, pool.inputs[0], before=op, origin=op.origin)
        replace_op(graph, op, BMAXPOOL2D, [packed], _pool_options(pool)).origin = pool.origin
        return True
    return False


def swap_affine_before_pool(graph: Graph, op: Op) -> bool:
    if op.custom or op.type not in ("MUL", "ADD") or len(op.inputs) != 2:
        return False
    if fused_activation(op) != schema.ActivationFunctionType.NONE:
        return False
    for index in (0, 1):
        pool = producer(op.inputs[index], "MAX_POOL_2D")
        if not _plain_pool(pool) or graph.only_consumer(pool.output) is not op:
            continue
        y = pool.inputs[0]
        binary = y.producer
        if (
            binary is None
            or not binary.custom
            or binary.type not in BINARY_OPS
            or len(binary.inputs) != 4
            or binary.options.get("output_activation_function", 0)
            or graph.only_consumer(y) is not pool
        ):
            continue
        c = channel_constant(op.inputs[1 - index], y.shape[-1])
        if c is None or (op.type == "MUL" and not np.all(c >= 0)) or op.output.shape != pool.output.shape:
            continue
        moved = graph.tensor(f"{op.origin}/before_pool", y.shape, y.tensor_type, like=y)
        graph.create_op(op.type, [y, op.inputs[1 - index]], [moved], options=op.options, before=pool,
                        version=op.version, origin=op.origin)
        new_pool = replace_op(graph, op, "MAX_POOL_2D", [moved], pool.options, custom=False,
                              version=pool.version)
        new_pool.origin = pool.origin
        graph.remove_op(pool)
        return True
    return False
