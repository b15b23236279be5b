"""Matching helpers shared by the passes, and the pattern-rewrite driver.

A pattern is a function ``(graph, op) -> bool`` that rewrites the graph around ``op`` and returns
True when it changed something. :func:`rewrite_to_fixed_point` applies a list of patterns to every
op until none of them fires.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from .ir import Graph, Op, Tensor

Pattern = Callable[[Graph, Op], bool]

# Custom op names of the op set (docs/op-format.md).
QUANTIZE = "LceQuantize"
DEQUANTIZE = "LceDequantize"
BCONV2D = "LceBconv2d"
BMAXPOOL2D = "LceBMaxPool2d"
BFULLY_CONNECTED = "LceBFullyConnected"
BINARY_OPS = (BCONV2D, BFULLY_CONNECTED)

# Activations a binary op can apply itself (fused_/output_activation_function enum).
SUPPORTED_ACTIVATIONS = (
    schema.ActivationFunctionType.NONE,
    schema.ActivationFunctionType.RELU,
    schema.ActivationFunctionType.RELU_N1_TO_1,
    schema.ActivationFunctionType.RELU6,
)


def producer(tensor: Tensor | None, *types: str) -> Op | None:
    """The op producing ``tensor`` if its type is one of ``types``."""
    if tensor is None or tensor.producer is None:
        return None
    return tensor.producer if tensor.producer.type in types else None


def constant(tensor: Tensor | None) -> np.ndarray | None:
    if tensor is None or not tensor.is_constant or tensor.dtype is None:
        return None
    return tensor.data


def uniform_constant(tensor: Tensor | None) -> float | None:
    """The value of a constant whose elements are all equal (a broadcast scalar), else None."""
    data = constant(tensor)
    if data is None or data.size == 0 or data.dtype.kind != "f":
        return None
    first = data.reshape(-1)[0]
    return float(first) if np.all(data == first) else None


def channel_constant(tensor: Tensor | None, channels: int) -> np.ndarray | None:
    """A float constant that broadcasts along the last axis only, as a float32 [channels] vector."""
    data = constant(tensor)
    if data is None or data.dtype != np.float32:
        return None
    if data.size == 1:
        return np.full(channels, data.reshape(-1)[0], dtype=np.float32)
    if data.shape[-1] == channels and data.size == channels:
        return data.reshape(channels).astype(np.float32)
    return None


def binary_input(tensor: Tensor | None) -> Tensor | None:
    """The bit-packed tensor behind a ±1 float tensor (one produced by ``LceDequantize``)."""
    op = producer(tensor, DEQUANTIZE)
    return op.inputs[0] if op is not None else None


def fused_activation(op: Op) -> int:
    return getattr(op.options, "fusedActivationFunction", schema.ActivationFunctionType.NONE)


def replace_op(
    graph: Graph,
    old: Op,
    new_type: str,
    inputs: list[Tensor | None],
    options: object,
    *,
    outputs: list[Tensor] | None = None,
    custom: bool = True,
    version: int = 1,
) -> Op:
    """Put a new op where ``old`` was; it takes over ``old``'s outputs unless given others."""
    outputs = list(old.outputs) if outputs is None else outputs
    position = graph.ops.index(old)
    origin = old.origin
    graph.remove_op(old)
    op = Op(new_type, inputs, outputs, options=options, custom=custom, version=version, origin=origin)
    op.graph = graph
    graph.ops.insert(position, op)
    return op


def rewrite_to_fixed_point(graph: Graph, patterns: Sequence[Pattern], max_sweeps: int = 100) -> int:
    """Apply ``patterns`` over the graph until none fires; returns the number of rewrites."""
    total = 0
    for _ in range(max_sweeps):
        changed = 0
        for op in list(graph.ops):
            if op.graph is not graph:
                continue  # removed by an earlier rewrite in this sweep
            for pattern in patterns:
                if pattern(graph, op):
                    changed += 1
                    break
        total += changed
        if not changed:
            return total
    raise RuntimeError(f"graph rewriting did not converge after {max_sweeps} sweeps")
