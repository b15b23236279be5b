"""Plain numpy references for the quantized layers (channels_last, one group)."""

import numpy as np


def sign(x):
    """The binary quantizers' forward: +1 for x >= 0, else -1."""
    return np.where(x >= 0, 1.0, -1.0).astype(x.dtype)


def _same_pads(size, kernel, stride, dilation):
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def pad_same(x, kernel_shape, strides, dilations, value):
    widths = [(0, 0)]
    for axis, (k, s, d) in enumerate(zip(kernel_shape, strides, dilations)):
        widths.append(_same_pads(x.shape[1 + axis], k, s, d))
    return np.pad(x, widths + [(0, 0)], constant_values=value)


def _windows(x, kernel_shape, strides, dilations):
    """Yield (kernel offset, strided input window) pairs of a VALID convolution."""
    out = [
        (x.shape[1 + i] - ((k - 1) * d + 1)) // s + 1
        for i, (k, s, d) in enumerate(zip(kernel_shape, strides, dilations))
    ]
    for offset in np.ndindex(*kernel_shape):
        index = tuple(
            slice(o * d, o * d + (n - 1) * s + 1, s)
            for o, s, d, n in zip(offset, strides, dilations, out)
        )
        yield offset, x[(slice(None),) + index]


def _convolve(x, w, strides, dilations, padding, pad_value, tap_product):
    """Sum ``tap_product(window, w[offset])`` over the kernel taps of a convolution."""
    rank = w.ndim - 2
    if padding == "same":
        x = pad_same(x, w.shape[:rank], strides, dilations, pad_value)
    windows = _windows(x, w.shape[:rank], strides, dilations)
    return sum(tap_product(window, w[offset]) for offset, window in windows)


def conv(x, w, strides, dilations, padding="valid", pad_value=0.0):
    """N-d convolution: x (N, *spatial, C), w (*kernel, C, O)."""
    return _convolve(x, w, strides, dilations, padding, pad_value, lambda window, tap: window @ tap)


def depthwise_conv(x, w, strides, dilations, padding="valid", pad_value=0.0):
    """Depthwise convolution: w (*kernel, C, M) gives C*M output channels, channel c*M + m."""
    out = _convolve(
        x, w, strides, dilations, padding, pad_value, lambda window, tap: window[..., :, None] * tap
    )
    return out.reshape(out.shape[:-2] + (-1,))


def conv_transpose(x, w, strides, padding):
    """Transposed convolution: w (*kernel, O, C); 'same' gives size n*s, 'valid' the full size."""
    rank = w.ndim - 2
    kernel_shape = w.shape[:rank]
    spatial = x.shape[1:-1]
    full = [(n - 1) * s + k for n, s, k in zip(spatial, strides, kernel_shape)]
    out = np.zeros((x.shape[0], *full, w.shape[-2]), x.dtype)
    for offset in np.ndindex(*kernel_shape):
        index = tuple(slice(o, o + (n - 1) * s + 1, s) for o, s, n in zip(offset, strides, spatial))
        out[(slice(None),) + index] += x @ w[offset].T
    if padding == "same":
        crop = []
        for n, s, k in zip(spatial, strides, kernel_shape):
            before = max(k - s, 0) // 2
            crop.append(slice(before, before + n * s))
        out = out[(slice(None), *crop)]
    return out
