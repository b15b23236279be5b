"""Cleanup: dead ops, redundant quantizer round trips, duplicate quantizers.

- ``LceQuantize(LceDequantize(p))`` is ``p`` (a quantizer applied to ±1 values, e.g. the input
  quantizer of a layer after a binary max-pool);
- ``SIGN(LceDequantize(p))`` is ``LceDequantize(p)`` (sign of ±1 is itself);
- two ``LceQuantize`` (or two ``LceDequantize``) of the same tensor are one;
- an op whose outputs nobody reads is removed, so an ``LceDequantize`` stays only where a float
  op still needs the ±1 values.
"""

from __future__ import annotations

from ..ir import Graph, Op
from ..patterns import BINARY_OPS, BMAXPOOL2D, DEQUANTIZE, QUANTIZE, binary_input

# Ops that may be dropped when their outputs are unused: builtins other than those with side
# effects, and our own ops.
_SIDE_EFFECTS = {
    "ASSIGN_VARIABLE", "CALL", "CALL_ONCE", "IF", "WHILE", "VAR_HANDLE", "READ_VARIABLE",
    "HASHTABLE", "HASHTABLE_IMPORT", "HASHTABLE_FIND", "HASHTABLE_SIZE", "RANDOM_UNIFORM",
    "RANDOM_STANDARD_NORMAL", "MULTINOMIAL",
}  # fmt: skip
_OWN_OPS = {QUANTIZE, DEQUANTIZE, BMAXPOOL2D, *BINARY_OPS}


def remove_dead_op(graph: Graph, op: Op) -> bool:
    removable = op.type in _OWN_OPS if op.custom else op.type not in _SIDE_EFFECTS
    if not removable or not op.outputs:
        return False
    if any(t.consumers or graph.is_output(t) for t in op.outputs):
        return False
    graph.remove_op(op)
    return True


def _merge_into(graph: Graph, op: Op, survivor: Op) -> bool:
    graph.replace_uses(op.output, survivor.output)
    graph.remove_op(op)
    return True


def rewrite(graph: Graph, op: Op) -> bool:
    if op.type == QUANTIZE and op.custom:
        packed = binary_input(op.inputs[0])
        if packed is not None and not graph.is_output(op.output):
            graph.replace_uses(op.output, packed)
            graph.remove_op(op)
            return True
    if op.type == "SIGN" and binary_input(op.inputs[0]) is not None and not graph.is_output(op.output):
        graph.replace_uses(op.output, op.inputs[0])
        graph.remove_op(op)
        return True
    if op.custom and op.type in (QUANTIZE, DEQUANTIZE):
        for other in op.inputs[0].consumers:
            if other is not op and other.type == op.type and other.custom:
                if graph.ops.index(other) < graph.ops.index(op) and not graph.is_output(op.output):
                    return _merge_into(graph, op, other)
    return False
