"""Binary ``FULLY_CONNECTED`` → ``LceBFullyConnected`` (extension op, docs/op-format.md).

Matches a float ``FULLY_CONNECTED`` whose input is ±1 (behind an ``LceDequantize``) and whose
``[C_out, C_in]`` weights are binary per output row (``±s[o]``, BN folded). As for convolutions,
``s`` becomes the post-activation multiplier, the bias the post-activation bias and a fused
ReLU/ReLU6 the ``output_activation_function``; weights are stored bit-packed ``[C_out,
ceil(C_in/32)]``.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..bitpack import pack_bits
from ..ir import ACTIVATION_NAMES, Graph, Op
from ..patterns import BFULLY_CONNECTED, SUPPORTED_ACTIVATIONS, binary_input, constant, replace_op
from ..weights import BinaryWeights, split_binary_weights


def match(op: Op) -> tuple[BinaryWeights, np.ndarray] | str:
    """(weights, bias) of the binary form of ``op``, or why it has none."""
    if op.type != "FULLY_CONNECTED":
        return "not a FULLY_CONNECTED"
    x = op.inputs[0]
    if binary_input(x) is None:
        return "input is not binarized (no binary quantizer in front)"
    if x.tensor_type != schema.TensorType.FLOAT32 or op.output.tensor_type != schema.TensorType.FLOAT32:
        return "not a float32 fully-connected layer"
    options = op.options
    if options is not None and options.weightsFormat != schema.FullyConnectedOptionsWeightsFormat.DEFAULT:
        return "weights are in a shuffled format"
    keep_dims = options is not None and options.keepNumDims
    if len(x.shape) != 2 and not keep_dims:
        return f"rank-{len(x.shape)} input without keep_num_dims"
    activation = options.fusedActivationFunction if options is not None else 0
    if activation not in SUPPORTED_ACTIVATIONS:
        return f"fused activation {ACTIVATION_NAMES.get(activation, activation)} is not supported"
    weights = constant(op.inputs[1])
    if weights is None or weights.ndim != 2 or weights.shape[1] != x.shape[-1]:
        return "weights are not a constant [C_out, C_in] matrix"
    binary = split_binary_weights(weights)
    if isinstance(binary, str):
        return binary
    bias = constant(op.input(2))
    if op.input(2) is not None and bias is None:
        return "bias is not a constant"
    bias = np.zeros(weights.shape[0], np.float32) if bias is None else bias.astype(np.float32)
    return binary, bias


def rewrite(graph: Graph, op: Op) -> bool:
    found = match(op)
    if isinstance(found, str):
        return False
    binary, bias = found
    name = op.origin
    activation = op.options.fusedActivationFunction if op.options is not None else 0
    inputs = [
        binary_input(op.inputs[0]),
        graph.constant(pack_bits(binary.negative), f"{name}/binary_weights"),
        graph.constant(binary.magnitude, f"{name}/post_activation_multiplier"),
        graph.constant(bias, f"{name}/post_activation_bias"),
    ]
    options = {"channels_in": int(op.inputs[0].shape[-1]), "fused_activation_function": 0}
    if activation:
        options["output_activation_function"] = int(activation)
    replace_op(graph, op, BFULLY_CONNECTED, inputs, options)
    return True
