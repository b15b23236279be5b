"""A plain numpy evaluator for compiler IR graphs (test-only reference).

Implements the builtin ops our test models use and the binary ops straight from
docs/op-format.md, with its own bit (un)packing, so converted graphs can be checked numerically
independently of the compiler's helpers and of the native runtime.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from larq_compute.compiler.ir import Graph, Op

_SAME = schema.Padding.SAME


# -- bit-packing, written from the op contract -------------------------------------------------
def pack(values: np.ndarray) -> np.ndarray:
    """Float (or ±1) values → int32 words, bit 1 where value < 0."""
    channels = values.shape[-1]
    words = np.zeros((*values.shape[:-1], -(-channels // 32)), dtype=np.uint32)
    for c in range(channels):
        words[..., c // 32] |= (values[..., c] < 0).astype(np.uint32) << np.uint32(c % 32)
    return words.view(np.int32)


def unpack(words: np.ndarray, channels: int) -> np.ndarray:
    """int32 words → float ±1 values with ``channels`` channels."""
    words = words.view(np.uint32)
    out = np.empty((*words.shape[:-1], channels), dtype=np.float32)
    for c in range(channels):
        bit = (words[..., c // 32] >> np.uint32(c % 32)) & 1
        out[..., c] = np.where(bit == 1, -1.0, 1.0)
    return out


# -- shared float helpers ------------------------------------------------------------------------
_CLAMP = {0: (-np.inf, np.inf), 1: (0.0, np.inf), 2: (-1.0, 1.0), 3: (0.0, 6.0)}


def activation(x: np.ndarray, code: int) -> np.ndarray:
    if code not in _CLAMP:
        raise NotImplementedError(f"activation {code}")
    lo, hi = _CLAMP[code]
    return np.clip(x, lo, hi).astype(x.dtype)


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def conv2d(x, w, stride, dilation, padding, pad_value=0.0):
    """NHWC input, OHWI filter (grouped when I < C_in)."""
    kh, kw = w.shape[1:3]
    if padding == _SAME:
        ph = same_pads(x.shape[1], kh, stride[0], dilation[0])
        pw = same_pads(x.shape[2], kw, stride[1], dilation[1])
        x = np.pad(x, [(0, 0), ph, pw, (0, 0)], constant_values=pad_value)
    out_h = (x.shape[1] - (kh - 1) * dilation[0] - 1) // stride[0] + 1
    out_w = (x.shape[2] - (kw - 1) * dilation[1] - 1) // stride[1] + 1
    # patches[n, oh, ow, kh, kw, c]
    patches = np.empty((x.shape[0], out_h, out_w, kh, kw, x.shape[3]), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dilation[0], i * dilation[0] + (out_h - 1) * stride[0] + 1, stride[0])
            cols = slice(j * dilation[1], j * dilation[1] + (out_w - 1) * stride[1] + 1, stride[1])
            patches[:, :, :, i, j, :] = x[:, rows, cols, :]
    depth = w.shape[3]
    groups = x.shape[3] // depth
    per_group_out = w.shape[0] // groups
    outputs = []
    for g in range(groups):
        p = patches[..., g * depth : (g + 1) * depth]
        wg = w[g * per_group_out : (g + 1) * per_group_out].astype(np.float64)
        outputs.append(np.einsum("nhwijc,oijc->nhwo", p, wg))
    return np.concatenate(outputs, axis=-1)


def max_pool(x, size, stride, padding):
    if padding == _SAME:
        ph = same_pads(x.shape[1], size[0], stride[0], 1)
        pw = same_pads(x.shape[2], size[1], stride[1], 1)
        x = np.pad(x, [(0, 0), ph, pw, (0, 0)], constant_values=-np.inf)
    out_h = (x.shape[1] - size[0]) // stride[0] + 1
    out_w = (x.shape[2] - size[1]) // stride[1] + 1
    out = np.full((x.shape[0], out_h, out_w, x.shape[3]), -np.inf, dtype=x.dtype)
    for i in range(size[0]):
        for j in range(size[1]):
            out = np.maximum(out, x[:, i : i + (out_h - 1) * stride[0] + 1 : stride[0],
                                    j : j + (out_w - 1) * stride[1] + 1 : stride[1]])
    return out


def average_pool(x, size, stride, padding):
    """Mean over in-bounds taps (TFLite's SAME average pool ignores padding)."""
    ones = np.ones(x.shape[:3] + (1,), dtype=np.float64)
    if padding == _SAME:
        ph = same_pads(x.shape[1], size[0], stride[0], 1)
        pw = same_pads(x.shape[2], size[1], stride[1], 1)
        x = np.pad(x, [(0, 0), ph, pw, (0, 0)])
        ones = np.pad(ones, [(0, 0), ph, pw, (0, 0)])
    out_h = (x.shape[1] - size[0]) // stride[0] + 1
    out_w = (x.shape[2] - size[1]) // stride[1] + 1
    total = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    count = np.zeros((x.shape[0], out_h, out_w, 1))
    for i in range(size[0]):
        for j in range(size[1]):
            window = (slice(None), slice(i, i + (out_h - 1) * stride[0] + 1, stride[0]),
                      slice(j, j + (out_w - 1) * stride[1] + 1, stride[1]))
            total += x[window]
            count += ones[window]
    return (total / count).astype(np.float32)


# -- binary ops ------------------------------------------------------------------------------------
def _binary_output(op: Op, conv: np.ndarray, taps: int, inputs: list) -> np.ndarray:
    """conv: exact integer Σ x·w per output; returns float or bit-packed output."""
    options = op.options
    if op.output.dtype == np.int32:
        popcount = (taps - conv) / 2
        threshold = inputs[4]
        return pack(np.where(popcount > threshold, -1.0, 1.0))
    a = activation(conv.astype(np.float32), options.get("fused_activation_function", 0))
    y = a * inputs[2].astype(np.float32) + inputs[3].astype(np.float32)
    y = activation(y.astype(np.float32), options.get("output_activation_function", 0))
    if len(inputs) > 5 and inputs[5] is not None:  # extension residual input
        y = activation(y + inputs[5].astype(np.float32), options.get("residual_activation_function", 0))
    return y


def lce_bconv2d(op: Op, inputs: list) -> np.ndarray:
    o = op.options
    channels_in = o["channels_in"]
    x = unpack(inputs[0], channels_in)
    w = inputs[1]
    if w.dtype == np.int32:
        groups = -(-channels_in // 32) // w.shape[3]
        w = unpack(w, channels_in // groups)
    stride = (o["stride_height"], o["stride_width"])
    dilation = (o["dilation_height_factor"], o["dilation_width_factor"])
    conv = conv2d(x, w, stride, dilation, o["padding"], float(o["pad_values"]))
    taps = w.shape[1] * w.shape[2] * w.shape[3]
    return _binary_output(op, conv, taps, inputs)


def lce_bfully_connected(op: Op, inputs: list) -> np.ndarray:
    channels_in = op.options["channels_in"]
    x = unpack(inputs[0], channels_in).astype(np.float64)
    w = unpack(inputs[1], channels_in).astype(np.float64)
    return _binary_output(op, x @ w.T, channels_in, inputs)


def lce_bmaxpool(op: Op, inputs: list) -> np.ndarray:
    o = op.options
    channels = inputs[0].shape[-1] * 32
    x = unpack(inputs[0], channels)
    pooled = max_pool(x, (o["filter_height"], o["filter_width"]), (o["stride_height"], o["stride_width"]), o["padding"])
    return pack(pooled)


# -- builtins --------------------------------------------------------------------------------------
def _fused(op: Op, y):
    return activation(y, getattr(op.options, "fusedActivationFunction", 0) or 0)


def _strided_slice(op, x, begin, end, strides):
    o = op.options
    index = []
    for axis in range(len(begin)):
        b = None if o.beginMask >> axis & 1 else int(begin[axis])
        e = None if o.endMask >> axis & 1 else int(end[axis])
        if o.shrinkAxisMask >> axis & 1:
            index.append(int(begin[axis]))
        else:
            index.append(slice(b, e, int(strides[axis])))
    return np.asarray(x[tuple(index)])


def _builtin(op: Op, v: list):
    t, o = op.type, op.options
    if t == "SIGN":
        return np.sign(v[0])
    if t in ("ADD", "SUB", "MUL"):
        f = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply}[t]
        return _fused(op, f(v[0], v[1]).astype(v[0].dtype))
    if t == "CONV_2D":
        y = conv2d(v[0], v[1], (o.strideH, o.strideW), (o.dilationHFactor, o.dilationWFactor), o.padding)
        if len(v) > 2 and v[2] is not None:
            y = y + v[2]
        return _fused(op, y.astype(np.float32))
    if t == "DEPTHWISE_CONV_2D":  # filter [1, H, W, C*M]: as a conv with C groups
        w = v[1].transpose(3, 1, 2, 0)  # [C*M, H, W, 1]
        y = conv2d(v[0], w, (o.strideH, o.strideW), (o.dilationHFactor, o.dilationWFactor), o.padding)
        if len(v) > 2 and v[2] is not None:
            y = y + v[2]
        return _fused(op, y.astype(np.float32))
    if t == "AVERAGE_POOL_2D":
        return _fused(op, average_pool(v[0], (o.filterHeight, o.filterWidth), (o.strideH, o.strideW), o.padding))
    if t == "FULLY_CONNECTED":
        y = v[0].reshape(-1, v[1].shape[1]).astype(np.float64) @ v[1].T.astype(np.float64)
        if len(v) > 2 and v[2] is not None:
            y = y + v[2]
        if op.options is not None and op.options.keepNumDims:
            y = y.reshape(*v[0].shape[:-1], -1)
        return _fused(op, y.astype(np.float32))
    if t in ("PAD", "PADV2"):
        value = v[2].item() if len(v) > 2 else 0.0
        return np.pad(v[0], v[1].tolist(), constant_values=value)
    if t == "MAX_POOL_2D":
        return _fused(op, max_pool(v[0], (o.filterHeight, o.filterWidth), (o.strideH, o.strideW), o.padding))
    if t == "MEAN":
        return np.mean(v[0], axis=tuple(np.atleast_1d(v[1]).tolist()), keepdims=bool(o.keepDims)).astype(v[0].dtype)
    if t == "RESHAPE":
        shape = v[1] if len(v) > 1 and v[1] is not None else op.output.shape
        return v[0].reshape([int(d) for d in shape])
    if t == "SHAPE":
        return np.asarray(v[0].shape, dtype=np.int32)
    if t == "STRIDED_SLICE":
        return _strided_slice(op, *v)
    if t == "PACK":
        return np.stack([np.asarray(a) for a in v], axis=o.axis)
    if t == "SOFTMAX":
        e = np.exp(o.beta * (v[0] - v[0].max(axis=-1, keepdims=True)))
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    if t == "LOGISTIC":
        return (1.0 / (1.0 + np.exp(-v[0].astype(np.float64)))).astype(np.float32)
    if t == "PRELU":
        return np.where(v[0] >= 0, v[0], v[0] * v[1]).astype(np.float32)
    if t == "RELU":
        return np.maximum(v[0], 0)
    if t == "GREATER_EQUAL":
        return v[0] >= v[1]
    if t == "LESS":
        return v[0] < v[1]
    if t == "SELECT_V2":
        return np.where(v[0], v[1], v[2]).astype(np.float32)
    if t == "CONCATENATION":
        return _fused(op, np.concatenate(v, axis=o.axis))
    raise NotImplementedError(f"numpy evaluator: no builtin {t}")


_CUSTOM = {
    "LceQuantize": lambda op, v: pack(v[0]),
    "LceDequantize": lambda op, v: unpack(v[0], op.output.shape[-1]),
    "LceBconv2d": lce_bconv2d,
    "LceBFullyConnected": lce_bfully_connected,
    "LceBMaxPool2d": lce_bmaxpool,
}


def evaluate(graph: Graph, *inputs: np.ndarray) -> list[np.ndarray]:
    values: dict[int, np.ndarray] = {id(t): np.asarray(x) for t, x in zip(graph.inputs, inputs)}

    def value(tensor):
        if tensor is None:
            return None
        if tensor.is_constant:
            return tensor.data
        return values[id(tensor)]

    for op in graph.ops:
        args = [value(t) for t in op.inputs]
        result = _CUSTOM[op.type](op, args) if op.custom else _builtin(op, args)
        values[id(op.outputs[0])] = np.asarray(result)
    return [values[id(t)] if not t.is_constant else t.data for t in graph.outputs]
