"""Fold a per-channel ``MUL`` / ``ADD`` / ``SUB`` after a binary op into its multiplier and bias.

The stock converter folds a BatchNormalization into the filter only when it directly follows
the conv; elsewhere (after a max-pool, once ``bmaxpool`` has moved the pool) it stays as
``MUL`` + ``ADD``. With ``y = conv·m + b``: ``y·c = conv·(m·c) + b·c`` and ``y + c = conv·m +
(b + c)``. Legal when the binary op has no output activation yet (a clamp does not commute), the
constant broadcasts along channels only and the op is the output's only reader. A fused
activation of the folded op becomes the binary op's ``output_activation_function``.
One clamp does commute: ``relu(y)·c = relu(y·c)`` for ``c ≥ 0``, so a non-negative ``MUL``
after a ReLU output (QuickNet's conv → ReLU → BatchNormalization) folds too.
And a ReLU output of a binary op with zero bias and non-negative multiplier is the same as a ReLU on
the accumulator, ``relu(conv·m) = relu(conv)·m`` (the op's ``fused_activation_function``, applied
before the multiplier), after which any ``MUL``/``ADD`` folds: that is how a trained QuickNet's
BatchNormalization with negative gammas after its ReLU becomes part of the binary conv.
"""

from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from ..ir import Graph, Op
from ..patterns import (
    BINARY_OPS,
    SUPPORTED_ACTIVATIONS,
    channel_constant,
    fused_activation,
    replace_op,
)


def rewrite(graph: Graph, op: Op) -> bool:
    if op.type not in ("MUL", "ADD", "SUB") or op.custom or len(op.inputs) != 2:
        return False
    for index in (0, 1) if op.type != "SUB" else (0,):
        y = op.inputs[index]
        binary = y.producer
        if binary is None or binary.type not in BINARY_OPS or not binary.custom:
            continue
        if len(binary.inputs) != 4:
            continue  # bit-packed output
        if graph.only_consumer(y) is not op or op.output.shape != y.shape:
            continue
        channels = y.shape[-1]
        c = channel_constant(op.inputs[1 - index], channels)
        multiplier, bias = binary.inputs[2].data, binary.inputs[3].data
        if c is None or multiplier is None or bias is None:
            continue
        if fused_activation(op) not in SUPPORTED_ACTIVATIONS:
            continue
        RELU = schema.ActivationFunctionType.RELU
        options = dict(binary.options)
        clamp = options.get("output_activation_function", 0)
        if (clamp == RELU and not options.get("fused_activation_function", 0)
                and (bias == 0).all() and (multiplier >= 0).all()):
            options["fused_activation_function"] = int(RELU)
            options["output_activation_function"] = clamp = 0
        if clamp and not (
            clamp == RELU and op.type == "MUL" and fused_activation(op) in (0, RELU) and (c >= 0).all()
        ):
            continue  # a clamp already applied after the multiplier does not commute
        if op.type == "MUL":
            multiplier, bias = multiplier * c, bias * c
        else:
            bias = bias + c if op.type == "ADD" else bias - c
        if fused_activation(op) and not clamp:
            options["output_activation_function"] = int(fused_activation(op))
        name = binary.origin
        inputs = [
            *binary.inputs[:2],
            graph.constant(multiplier.astype("float32"), f"{name}/post_activation_multiplier"),
            graph.constant(bias.astype("float32"), f"{name}/post_activation_bias"),
        ]
        origin = binary.origin
        graph.remove_op(binary)
        replace_op(graph, op, binary.type, inputs, options).origin = origin
        return True
    return False
