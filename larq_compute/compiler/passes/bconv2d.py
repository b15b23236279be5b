"""Binary ``CONV_2D`` → ``LceBconv2d``.

Matches a float ``CONV_2D`` whose input is ±1 (behind an ``LceDequantize``, optionally through a
``PADV2(…, 1.0)`` or ``PAD`` that amounts to SAME padding) and whose filter is binary per output
channel (``±s[o]``, see ``weights.py``). The conv computes ``s[o] * Σ x·w + bias[o]``, so the
binary op gets ``post_activation_multiplier = s``, ``post_activation_bias = bias`` and the
conv's fused ReLU/ReLU6 as ``output_activation_function`` (applied after the multiplier, as the
float conv did; LCE's ``fused_activation_function`` would act on the raw count instead).

Filters are stored bit-packed OHWI. A grouped filter must have a multiple of 32 channels per group
(the op contract's rule for bit-packed grouped filters); other groupings stay float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..bitpack import BITS_PER_WORD, pack_bits
from ..ir import ACTIVATION_NAMES, Graph, Op, Tensor
from ..patterns import (
    BCONV2D,
    SUPPORTED_ACTIVATIONS,
    binary_input,
    constant,
    producer,
    replace_op,
    uniform_constant,
)
from ..weights import BinaryWeights, split_binary_weights

_SAME, _VALID = schema.Padding.SAME, schema.Padding.VALID


@dataclass
class _Match:
    packed_input: Tensor
    padding: int
    pad_values: int
    weights: BinaryWeights
    bias: np.ndarray


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite's SAME padding (before, after) along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _explicit_padding(conv: Op, pad: Op) -> tuple[int, int] | str:
    """(padding, pad_values) for a VALID conv reading PAD/PADV2(±1 values)."""
    pads = constant(pad.inputs[1])
    if pads is None or pads.shape != (4, 2):
        return "its input padding is not a constant"
    if pad.type == "PADV2":
        value = uniform_constant(pad.input(2))
        if value not in (0.0, 1.0):
            return f"its input is padded with {value}, only 0 and 1 padding are supported"
        pad_values = int(value)
    else:
        pad_values = 0
    if pads[0].any() or pads[3].any():
        return "its input padding pads the batch or channel axis"
    x = pad.inputs[0]
    kernel = conv.inputs[1].shape[1:3]
    strides = (conv.options.strideH, conv.options.strideW)
    dilations = (conv.options.dilationHFactor, conv.options.dilationWFactor)
    for axis in range(2):
        expected = same_padding(x.shape[1 + axis], kernel[axis], strides[axis], dilations[axis])
        if tuple(int(v) for v in pads[1 + axis]) != expected:
            return f"its explicit input padding {pads[1:3].tolist()} is not SAME padding"
    return _SAME, pad_values


def match(conv: Op) -> _Match | str:
    """The binary form of ``conv``, or why it has none."""
    if conv.type != "CONV_2D":
        return "not a CONV_2D"
    x, filter_tensor = conv.inputs[0], conv.inputs[1]
    padding, pad_values = conv.options.padding, 0
    packed = binary_input(x)
    pad = producer(x, "PAD", "PADV2")
    if packed is None and pad is not None and binary_input(pad.inputs[0]) is not None:
        if padding != _VALID:
            return "its input is explicitly padded and the conv is SAME"
        explicit = _explicit_padding(conv, pad)
        if isinstance(explicit, str):
            return explicit
        padding, pad_values = explicit
        packed = binary_input(pad.inputs[0])
    if packed is None:
        return "input is not binarized (no binary quantizer in front)"
    if x.tensor_type != schema.TensorType.FLOAT32 or conv.output.tensor_type != schema.TensorType.FLOAT32:
        return "not a float32 convolution"
    activation = conv.options.fusedActivationFunction
    if activation not in SUPPORTED_ACTIVATIONS:
        return f"fused activation {ACTIVATION_NAMES.get(activation, activation)} is not supported"
    weights = constant(filter_tensor)
    if weights is None or weights.ndim != 4:
        return "filter is not a constant"
    binary = split_binary_weights(weights)
    if isinstance(binary, str):
        return binary
    channels_in = x.shape[-1]  # the ±1 float tensor has the real channel count
    if channels_in % weights.shape[3]:
        return f"filter depth {weights.shape[3]} does not divide the {channels_in} input channels"
    if channels_in != weights.shape[3] and weights.shape[3] % BITS_PER_WORD:
        return (
            f"grouped with {weights.shape[3]} channels per group; binary grouped convolutions "
            f"need a multiple of {BITS_PER_WORD}"
        )
    bias = constant(conv.input(2))
    if conv.input(2) is not None and bias is None:
        return "bias is not a constant"
    bias = np.zeros(weights.shape[0], np.float32) if bias is None else bias.astype(np.float32)
    return _Match(packed, padding, pad_values, binary, bias)


def rewrite(graph: Graph, op: Op) -> bool:
    found = match(op)
    if isinstance(found, str):
        return False
    options = op.options
    name = op.origin
    inputs = [
        found.packed_input,
        graph.constant(pack_bits(found.weights.negative), f"{name}/binary_filter"),
        graph.constant(found.weights.magnitude, f"{name}/post_activation_multiplier"),
        graph.constant(found.bias, f"{name}/post_activation_bias"),
    ]
    custom_options = {
        "channels_in": int(op.inputs[0].shape[-1]),
        "dilation_height_factor": int(options.dilationHFactor),
        "dilation_width_factor": int(options.dilationWFactor),
        "fused_activation_function": 0,
        "pad_values": found.pad_values,
        "padding": int(found.padding),
        "stride_height": int(options.strideH),
        "stride_width": int(options.strideW),
    }
    if options.fusedActivationFunction:
        custom_options["output_activation_function"] = int(options.fusedActivationFunction)
    replace_op(graph, op, BCONV2D, inputs, custom_options)
    return True
