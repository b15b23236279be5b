"""BConv2D's residual input: every variant and the reference twin against numpy, kernel level."""

from __future__ import annotations

import numpy as np
import pytest
from larq_compute._native import kernels
from support import numpy_reference as ref

ALL_VARIANTS = ["reference", *kernels.available_variants()]
ACTIVATIONS = list(ref.ACTIVATION_BOUNDS)


def check(rng, batch, hw, channels_in, channels_out, kernel, stride=(1, 1), padding="valid",
          pad_value=0, residual=None, residual_activation=None, large=False):
    if large:
        # Input all +1, filter all -1: every XOR bit is set, the largest accumulator per step.
        x = np.ones((batch, *hw, channels_in), np.float32)
        w = -np.ones((channels_out, *kernel, channels_in), np.float32)
    else:
        x = ref.random_signs(rng, (batch, *hw, channels_in))
        w = ref.random_signs(rng, (channels_out, *kernel, channels_in))
    conv = ref.conv2d_float(x, w, stride, (1, 1), padding, pad_value, 1)
    args = {
        "multiplier": rng.uniform(-2.0, 2.0, channels_out).astype(np.float32),
        "bias": rng.uniform(-3.0, 3.0, channels_out).astype(np.float32),
        "fused_activation": str(rng.choice(ACTIVATIONS)),
        "output_activation": str(rng.choice(ACTIVATIONS)),
    }
    if residual is None:
        residual = rng.uniform(-4.0, 4.0, conv.shape).astype(np.float32)
    if residual_activation is None:
        residual_activation = str(rng.choice(ACTIVATIONS))
    expected = ref.float_output(conv, residual=residual, residual_activation=residual_activation,
                                **args)
    for variant in ALL_VARIANTS:
        got = kernels.bconv2d(ref.bitpack(x), ref.bitpack(w), channels_in, stride=stride,
                              padding=padding, pad_value=pad_value, variant=variant,
                              residual=residual, residual_activation=residual_activation, **args)
        np.testing.assert_array_equal(got, expected, err_msg=f"{variant}")
    return conv, args


@pytest.mark.parametrize("seed", range(12))
def test_random_shapes_all_variants(seed):
    rng = np.random.default_rng(7000 + seed)
    kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    hw = (kernel[0] + int(rng.integers(0, 8)), kernel[1] + int(rng.integers(0, 8)))
    check(rng, int(rng.integers(1, 3)), hw, int(rng.choice([1, 31, 32, 33, 64, 65, 130, 257])),
          int(rng.integers(1, 80)), kernel, stride, str(rng.choice(["valid", "same"])),
          int(rng.integers(0, 2)))


# Odd channel counts and spatial sizes that leave partial tiles in both dimensions.
@pytest.mark.parametrize("channels_out", [1, 3, 7, 9, 15, 17, 33, 65])
@pytest.mark.parametrize("hw", [(1, 1), (1, 3), (5, 3), (7, 9)])
def test_partial_tiles_and_odd_channels(channels_out, hw):
    rng = np.random.default_rng(channels_out * 100 + hw[0] * 10 + hw[1])
    check(rng, 2, hw, 33, channels_out, (1, 1))


def test_one_by_one_spatial_output():
    rng = np.random.default_rng(3)
    check(rng, 3, (3, 3), 65, 19, (3, 3))


@pytest.mark.parametrize("channels_in", [2048, 2049])
def test_large_accumulators(channels_in):
    rng = np.random.default_rng(channels_in)
    check(rng, 1, (4, 5), channels_in, 21, (3, 3), large=True)


def test_residual_cancels_and_rounds_once():
    """Residuals of -y (sum exactly +0) and -y one ulp off: a kernel that fuses the add into
    the multiply-add or rounds twice gets different bits."""
    rng = np.random.default_rng(11)
    x = ref.random_signs(rng, (2, 6, 5, 40))
    w = ref.random_signs(rng, (13, 3, 3, 40))
    multiplier = rng.uniform(-2.0, 2.0, 13).astype(np.float32)
    bias = rng.uniform(-3.0, 3.0, 13).astype(np.float32)
    conv = ref.conv2d_float(x, w, (1, 1), (1, 1), "valid", 0, 1)
    y = ref.float_output(conv, multiplier, bias)
    residual = -y
    residual[..., 1::2] = np.nextafter(residual[..., 1::2], np.float32(np.inf))
    residual[0, 0, 0, :] = np.float32(1e30)  # one large add
    expected = ref.float_output(conv, multiplier, bias, residual=residual)
    for variant in ALL_VARIANTS:
        got = kernels.bconv2d(ref.bitpack(x), ref.bitpack(w), 40, variant=variant,
                              multiplier=multiplier, bias=bias, residual=residual)
        np.testing.assert_array_equal(got, expected, err_msg=variant)
        assert not np.signbit(got[..., ::2][got[..., ::2] == 0]).any(), variant


def test_non_contiguous_residual_is_copied():
    rng = np.random.default_rng(12)
    residual = np.ascontiguousarray(
        rng.uniform(-1, 1, (1, 4, 4, 10)).astype(np.float32).transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    assert not residual.flags.c_contiguous
    check(rng, 1, (4, 4), 32, 10, (1, 1), residual=residual)


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_residual_errors(variant):
    x = ref.bitpack(np.ones((1, 3, 3, 32), np.float32))
    w = ref.bitpack(np.ones((4, 1, 1, 32), np.float32))
    good = np.zeros((1, 3, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"residual must be float32, got float64"):
        kernels.bconv2d(x, w, 32, variant=variant, residual=good.astype(np.float64))
    with pytest.raises(ValueError, match=r"residual must have the output's shape \[1, 3, 3, 4\], "
                                         r"got \[1, 3, 3, 5\]"):
        kernels.bconv2d(x, w, 32, variant=variant, residual=np.zeros((1, 3, 3, 5), np.float32))
    with pytest.raises(ValueError, match=r"got \[3, 3, 4\]"):
        kernels.bconv2d(x, w, 32, variant=variant, residual=good[0])
    with pytest.raises(ValueError, match="residual needs output_type 'float'"):
        kernels.bconv2d(x, w, 32, variant=variant, output_type="int8", residual=good)
    with pytest.raises(ValueError, match="residual_activation needs a residual"):
        kernels.bconv2d(x, w, 32, variant=variant, residual_activation="relu")
    with pytest.raises(ValueError, match="unknown"):
        kernels.bconv2d(x, w, 32, variant=variant, residual=good, residual_activation="gelu")
    with pytest.raises(ValueError, match="BConv2D: "):  # geometry is checked before the shape
        kernels.bconv2d(x, w, 32, variant=variant, stride=(0, 1), residual=good)
