"""BMaxPool2D on bit-packed tensors against numpy float max-pool of the +-1 tensors."""

import numpy as np
import pytest
from larq_compute._native import kernels
from support import numpy_reference as ref


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("channels,filter_hw,stride,hw", [
    (1, (2, 2), (2, 2), (6, 6)), (33, (3, 3), (2, 2), (7, 9)), (64, (3, 2), (1, 3), (5, 8)),
    (300, (1, 1), (1, 1), (3, 4)), (70, (4, 4), (3, 2), (9, 7)), (5, (5, 5), (1, 1), (3, 3)),
])
@pytest.mark.parametrize("num_threads", [1, 2])
def test_matches_numpy_maxpool(rng, padding, channels, filter_hw, stride, hw, num_threads):
    if padding == "valid" and (hw[0] < filter_hw[0] or hw[1] < filter_hw[1]):
        pytest.skip("no VALID output")
    # Mostly -1 so the max (any +1 in the window) is not trivially +1.
    x = np.where(rng.random((2, *hw, channels)) < 0.85, -1.0, 1.0).astype(np.float32)
    got = kernels.bmaxpool2d(ref.bitpack(x), filter_hw, stride, padding, num_threads=num_threads)
    expected = ref.maxpool2d(x, filter_hw, stride, padding)
    np.testing.assert_array_equal(got, ref.bitpack(expected))


def test_bad_arguments_raise():
    x = np.zeros((1, 4, 4, 1), np.int32)
    with pytest.raises(ValueError, match="strides must be positive"):
        kernels.bmaxpool2d(x, (2, 2), (0, 2))
    with pytest.raises(ValueError, match="padding must be"):
        kernels.bmaxpool2d(x, (2, 2), (2, 2), "full")
    with pytest.raises(ValueError, match="rank 4"):
        kernels.bmaxpool2d(np.zeros((4, 4, 1), np.int32), (2, 2), (2, 2))
