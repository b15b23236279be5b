"""Residual ``ADD`` → the binary convolution's residual input (extension, docs/op-format.md).

``ADD(y, r)`` or ``ADD(r, y)``, where ``y`` is the float output of an ``LceBconv2d`` read by
nothing but this ``ADD`` (and not a graph output), ``r`` is float32 of exactly ``y``'s shape (no
broadcasting; a constant ``r`` is left alone, per-channel ones are ``fold_affine``'s): the
convolution takes ``r`` as input 5 and writes the ``ADD``'s output, ``clamp_out(y) + r``, the same
float32 add; the ``ADD``'s fused activation (NONE, RELU, RELU_N1_TO_1, RELU6) becomes the
convolution's ``residual_activation_function``, applied to the sum. The ``ADD`` goes away, and
with it one write and one read of the activation (QuickNet's ``h + bconv(quantize(h))`` blocks;
the stock converter fuses the ReLU that starts a transition block into the last block's ``ADD``).

No cycle can arise: everything the convolution reads, and ``r``, is computed before the ``ADD``
(the graph's op list is in execution order), and the new op takes the ``ADD``'s place.

This runs after int8 quantization (``PIPELINE_AFTER_QUANTIZATION``), when the output types are
final: an output that becomes int8 cannot take a residual, and a fused op in the int8 stage would
hide the ``ADD`` from the stock quantizer.
"""

from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from ..ir import Graph, Op
from ..patterns import BCONV2D, SUPPORTED_ACTIVATIONS, fused_activation, replace_op

RESIDUAL_INPUT = 5
_FLOAT32 = schema.TensorType.FLOAT32


def _fusable(graph: Graph, add: Op, y_index: int) -> bool:
    y, r = add.inputs[y_index], add.inputs[1 - y_index]
    conv = y.producer
    if conv is None or not conv.custom or conv.type != BCONV2D or conv.outputs != [y]:
        return False
    if len(conv.inputs) != 4:
        return False  # bit-packed output (input 4) or already a residual (input 5)
    if y.tensor_type != _FLOAT32 or graph.only_consumer(y) is not add:
        return False
    if r is y or r.tensor_type != _FLOAT32 or r.is_constant:
        return False
    # Exactly the output's shape, static dimensions and dynamic ones alike.
    if r.shape != y.shape or add.output.shape != y.shape or add.output.tensor_type != _FLOAT32:
        return False
    return (r.shape_signature or r.shape) == (y.shape_signature or y.shape)


def rewrite(graph: Graph, op: Op) -> bool:
    if op.custom or op.type != "ADD" or len(op.inputs) != 2 or len(op.outputs) != 1:
        return False
    if fused_activation(op) not in SUPPORTED_ACTIVATIONS:
        return False
    for y_index in (0, 1):
        if not _fusable(graph, op, y_index):
            continue
        conv, residual = op.inputs[y_index].producer, op.inputs[1 - y_index]
        inputs = [*conv.inputs, None, residual]  # output_threshold (input 4) stays absent
        options, origin = dict(conv.options), conv.origin
        if fused_activation(op):
            options["residual_activation_function"] = int(fused_activation(op))
        graph.remove_op(conv)
        replace_op(graph, op, BCONV2D, inputs, options).origin = origin
        return True
    return False
