"""Independent numpy reference of the binary op semantics in docs/op-format.md.

Everything here works on unpacked +-1 float tensors (or plain bits) and float convolutions, never
on the kernels' popcount formulation, so it checks the kernels from the outside. Shared by the
kernel tests and the runtime op tests.
"""

from __future__ import annotations

import numpy as np

ACTIVATION_BOUNDS: dict[str, tuple[float, float]] = {
    "none": (-np.inf, np.inf),
    "relu": (0.0, np.inf),
    "relu_n1_to_1": (-1.0, 1.0),
    "relu6": (0.0, 6.0),
}


def packed_size(channels: int) -> int:
    return (channels + 31) // 32


def bitpack(x: np.ndarray, zero_point: int | None = None) -> np.ndarray:
    """Packs the last axis: bit c % 32 of word c // 32 is 1 where x < 0 (int8: x < zero_point)."""
    x = np.asarray(x)
    negative = x < (zero_point if zero_point is not None else 0)
    channels = x.shape[-1]
    words = packed_size(channels)
    padded = np.zeros(x.shape[:-1] + (words * 32,), dtype=np.uint64)
    padded[..., :channels] = negative
    weights = np.uint64(1) << np.arange(32, dtype=np.uint64)
    packed = (padded.reshape(x.shape[:-1] + (words, 32)) * weights).sum(axis=-1)
    return packed.astype(np.uint32).view(np.int32)


def unpack(packed: np.ndarray, channels: int) -> np.ndarray:
    """Inverse of bitpack: [..., ceil(C/32)] int32 -> [..., C] float32 of +1 / -1."""
    packed = np.asarray(packed, dtype=np.int32).view(np.uint32)
    bits = (packed[..., None] >> np.arange(32, dtype=np.uint32)) & 1
    bits = bits.reshape(packed.shape[:-1] + (-1,))[..., :channels]
    return np.where(bits == 1, -1.0, 1.0).astype(np.float32)


def random_signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=shape)


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int, int]:
    """(output size, pad before, pad after) of TensorFlow's SAME padding."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2, total - total // 2


def conv2d_float(
    x: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, int] = (1, 1),
    dilation: tuple[int, int] = (1, 1),
    padding: str = "valid",
    pad_value: float = 0.0,
    groups: int = 1,
) -> np.ndarray:
    """Plain float conv2d. x: [N, H, W, Cin]; w: [Cout, KH, KW, Cin / groups] (OHWI).

    SAME pads with `pad_value` (0: a float conv's zero padding, 1: LCE's one-padding).
    Returns float64 [N, OH, OW, Cout] (exact for +-1 inputs).
    """
    n, h, wd, cin = x.shape
    cout, kh, kw, cin_g = w.shape
    assert cin == cin_g * groups and cout % groups == 0
    sh, sw = stride
    dh, dw = dilation
    x = x.astype(np.float64)
    if padding == "same":
        _, top, bottom = same_padding(h, kh, sh, dh)
        _, left, right = same_padding(wd, kw, sw, dw)
        x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=pad_value)
    elif padding != "valid":
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    ph, pw = x.shape[1], x.shape[2]
    oh = (ph - ((kh - 1) * dh + 1)) // sh + 1
    ow = (pw - ((kw - 1) * dw + 1)) // sw + 1
    out = np.zeros((n, max(oh, 0), max(ow, 0), cout), dtype=np.float64)
    cout_g = cout // groups
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i * dh : i * dh + (oh - 1) * sh + 1 : sh, j * dw : j * dw + (ow - 1) * sw + 1 : sw, :]
            for g in range(groups):
                xs = patch[..., g * cin_g : (g + 1) * cin_g]
                ws = w[g * cout_g : (g + 1) * cout_g, i, j, :].astype(np.float64)
                out[..., g * cout_g : (g + 1) * cout_g] += xs @ ws.T
    return out


def xor_popcount_from_conv(conv: np.ndarray, k: int) -> np.ndarray:
    """p with conv = K - 2p (VALID or one-padded convs)."""
    return ((k - conv) / 2).astype(np.int64)


def float_output(
    conv: np.ndarray,
    multiplier: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    fused_activation: str = "none",
    output_activation: str = "none",
    residual: np.ndarray | None = None,
    residual_activation: str = "none",
) -> np.ndarray:
    """y = clamp_out(float32(clamp_acc(conv) * multiplier + bias)), the product exact in float64;
    with a residual (same shape), clamp_res(y + residual), the sum one float32 add."""
    channels = conv.shape[-1]
    m = np.ones(channels, np.float32) if multiplier is None else np.asarray(multiplier, np.float32)
    b = np.zeros(channels, np.float32) if bias is None else np.asarray(bias, np.float32)
    low, high = ACTIVATION_BOUNDS[fused_activation]
    a = np.clip(conv, low, high)
    y = (a * m.astype(np.float64) + b.astype(np.float64)).astype(np.float32)
    low, high = ACTIVATION_BOUNDS[output_activation]
    y = np.minimum(np.maximum(y, np.float32(low)), np.float32(high))
    if residual is not None:
        residual = np.asarray(residual, np.float32)
        if residual.shape != y.shape:
            raise ValueError(f"residual of shape {residual.shape} for an output of shape {y.shape}")
        low, high = ACTIVATION_BOUNDS[residual_activation]
        y = np.minimum(np.maximum(y + residual, np.float32(low)), np.float32(high))
    return y


def int8_output(y: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Quantizes float32 y: round half away from zero of y / scale, + zero point, saturated."""
    v = (np.asarray(y, np.float32) / np.float32(scale)).astype(np.float64)
    rounded = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(rounded + zero_point, -128, 127).astype(np.int8)


def bitpacked_output(popcount: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Bit-packs popcount > threshold (bit 1 = -1) along the channel axis."""
    return bitpack(np.where(popcount > np.asarray(thresholds), -1.0, 1.0))


def maxpool2d(x: np.ndarray, filter_hw: tuple[int, int], stride: tuple[int, int], padding: str) -> np.ndarray:
    """Float max-pool of NHWC x; SAME padding positions are ignored (as TFLite does)."""
    n, h, w, c = x.shape
    fh, fw = filter_hw
    sh, sw = stride
    if padding == "same":
        oh, top, _ = same_padding(h, fh, sh, 1)
        ow, left, _ = same_padding(w, fw, sw, 1)
    else:
        oh, ow, top, left = (h - fh) // sh + 1, (w - fw) // sw + 1, 0, 0
    out = np.full((n, oh, ow, c), -np.inf, dtype=np.float64)
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * sh - top, j * sw - left
            window = x[:, max(h0, 0) : max(h0 + fh, 0), max(w0, 0) : max(w0 + fw, 0), :]
            out[:, i, j, :] = window.max(axis=(1, 2))
    return out.astype(x.dtype)
