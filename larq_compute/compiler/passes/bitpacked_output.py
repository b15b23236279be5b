"""Bit-packed outputs: a binary op whose every reader quantizes its output writes bits directly.

``LceQuantize(y)`` with ``y = act(clamp(conv)·m + b)`` and ``conv = K − 2p`` (``p`` the
XOR-popcount, ``K`` taps per output) is a function of the integer ``p`` alone, for VALID and
one-padded convolutions and for fully-connected layers (zero padding makes ``K`` depend on the
position). The op contract's form is ``bit = p > threshold[o]``. Thresholds are derived exactly
by evaluating y in float32 for every p in 0..K, as the float path would:

- bits rising with p (m > 0): threshold = last p whose bit is 0 (−1 if none, K if all);
- bits falling with p (m < 0): the channel's filter is flipped (p becomes K − p), then as above;
- constant bits (m = 0, or a clamp that saturates): either form, threshold −1 or K.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..bitpack import pack_bits, packed_depth, unpack_bits
from ..ir import Graph, Op
from ..patterns import BCONV2D, BINARY_OPS, QUANTIZE, replace_op

_CLAMPS = {
    schema.ActivationFunctionType.NONE: (-np.inf, np.inf),
    schema.ActivationFunctionType.RELU: (0.0, np.inf),
    schema.ActivationFunctionType.RELU_N1_TO_1: (-1.0, 1.0),
    schema.ActivationFunctionType.RELU6: (0.0, 6.0),
}


def taps_per_output(op: Op) -> int:
    """K: the number of ±1 products summed per output value."""
    if op.type == BCONV2D:
        filter_shape = op.inputs[1].shape
        return filter_shape[1] * filter_shape[2] * _channels_per_group(op)
    return op.options["channels_in"]


def _channels_per_group(op: Op) -> int:
    channels = op.options["channels_in"]
    if op.type == BCONV2D:
        channels //= packed_depth(channels) // op.inputs[1].shape[3]  # groups
    return channels


def thresholds(op: Op) -> tuple[np.ndarray, np.ndarray]:
    """(threshold[o], flip[o]): output bit = p' > threshold, p' the popcount after flipping."""
    taps = taps_per_output(op)
    multiplier = op.inputs[2].data.astype(np.float32)
    bias = op.inputs[3].data.astype(np.float32)
    lo, hi = _CLAMPS[op.options.get("fused_activation_function", 0)]
    out_lo, out_hi = _CLAMPS[op.options.get("output_activation_function", 0)]
    p = np.arange(taps + 1)
    accumulator = np.clip(taps - 2 * p, lo, hi).astype(np.float32)
    y = accumulator[None, :] * multiplier[:, None] + bias[:, None]  # float32, as the float path
    y = np.clip(y, out_lo, out_hi)
    bits = y < 0  # [C_out, K + 1]
    rising = np.all(bits[:, 1:] >= bits[:, :-1], axis=1)
    falling = np.all(bits[:, 1:] <= bits[:, :-1], axis=1)
    if not np.all(rising | falling):
        raise AssertionError("quantized output is not monotone in the popcount")
    flip = ~rising
    oriented = np.where(flip[:, None], bits[:, ::-1], bits)
    threshold = (~oriented).sum(axis=1) - 1  # bits are 0 for p <= threshold
    return threshold.astype(np.int32), flip


def _flip_filter(graph: Graph, op: Op, flip: np.ndarray) -> object:
    negative = unpack_bits(op.inputs[1].data, _channels_per_group(op))
    flipped = negative ^ flip.reshape(-1, *([1] * (negative.ndim - 1)))
    return graph.constant(pack_bits(flipped), f"{op.origin}/binary_filter")


def rewrite(graph: Graph, op: Op) -> bool:
    if not op.custom or op.type not in BINARY_OPS or len(op.inputs) != 4:
        return False
    y = op.output
    if y.tensor_type != schema.TensorType.FLOAT32 or graph.is_output(y) or not y.consumers:
        return False
    if not all(c.custom and c.type == QUANTIZE for c in y.consumers):
        return False
    if op.type == BCONV2D and op.options["padding"] == schema.Padding.SAME and op.options["pad_values"] != 1:
        return False  # zero padding: K varies with the position
    if op.inputs[1].tensor_type != schema.TensorType.INT32 or op.inputs[2].data is None or op.inputs[3].data is None:
        return False  # float filter (older files) or non-constant multiplier/bias
    threshold, flip = thresholds(op)
    filter_tensor = _flip_filter(graph, op, flip) if flip.any() else op.inputs[1]
    packed = graph.tensor(f"{op.origin}/bitpacked", (*y.shape[:-1], packed_depth(y.shape[-1])),
                          schema.TensorType.INT32, like=y)
    for quantizer in list(y.consumers):
        graph.replace_uses(quantizer.output, packed)
        graph.remove_op(quantizer)
    # Multiplier and bias stay real inputs (a runtime may crash on absent ones); negating the
    # flipped channels' multipliers keeps them describing the same function.
    multiplier = np.where(flip, -op.inputs[2].data, op.inputs[2].data).astype(np.float32)
    inputs = [
        op.inputs[0],
        filter_tensor,
        graph.constant(multiplier, f"{op.origin}/post_activation_multiplier") if flip.any() else op.inputs[2],
        op.inputs[3],
        graph.constant(threshold, f"{op.origin}/output_threshold"),
    ]
    replace_op(graph, op, op.type, inputs, dict(op.options), outputs=[packed])
    return True
