"""BFullyConnected: every variant and the reference twin against a numpy matmul of +-1 tensors."""

import numpy as np
import pytest
from larq_compute._native import kernels
from support import numpy_reference as ref


@pytest.mark.parametrize("output_type", ["float", "int8", "bitpacked"])
@pytest.mark.parametrize("rows,channels_in,channels_out", [
    (1, 1, 1), (1, 300, 10), (2, 64, 33), (3, 65, 64), (7, 512, 100), (13, 1000, 7), (6, 32, 129),
])
def test_matches_numpy(variant, rng, output_type, rows, channels_in, channels_out):
    x = ref.random_signs(rng, (rows, channels_in))
    w = ref.random_signs(rng, (channels_out, channels_in))
    conv = x.astype(np.float64) @ w.T.astype(np.float64)
    if output_type == "bitpacked":
        popcount = ref.xor_popcount_from_conv(conv, channels_in)
        thresholds = popcount[rng.integers(0, rows, channels_out), np.arange(channels_out)].astype(np.int32)
        args = {"thresholds": thresholds}
        expected = ref.bitpacked_output(popcount, thresholds)
    else:
        args = {"multiplier": rng.uniform(-1, 1, channels_out).astype(np.float32),
                "bias": rng.uniform(-5, 5, channels_out).astype(np.float32),
                "fused_activation": "relu6", "output_activation": "relu"}
        expected = ref.float_output(conv, **args)
        if output_type == "int8":
            args.update(int8_scale=0.1, int8_zero_point=-3)
            expected = ref.int8_output(expected, 0.1, -3)
    got = kernels.bfully_connected(ref.bitpack(x), ref.bitpack(w), channels_in,
                                   output_type=output_type, variant=variant, **args)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("num_threads", [2, 3])
def test_threads_split_channels_for_one_row(rng, num_threads):
    x = ref.random_signs(rng, (1, 2048))
    w = ref.random_signs(rng, (1000, 2048))
    packed = ref.bitpack(x), ref.bitpack(w)
    single = kernels.bfully_connected(*packed, 2048)
    np.testing.assert_array_equal(kernels.bfully_connected(*packed, 2048, num_threads=num_threads), single)
    np.testing.assert_array_equal(single, x.astype(np.float64) @ w.T.astype(np.float64))


def test_zero_rows():
    out = kernels.bfully_connected(np.zeros((0, 2), np.int32), np.zeros((3, 2), np.int32), 40)
    assert out.shape == (0, 3)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="words per row"):
        kernels.bfully_connected(np.zeros((2, 2), np.int32), np.zeros((3, 1), np.int32), 40)
    with pytest.raises(ValueError, match="thresholds"):
        kernels.bfully_connected(np.zeros((2, 2), np.int32), np.zeros((3, 2), np.int32), 40,
                                 output_type="bitpacked")
