import numpy as np
import pytest
from larq_compute._native import kernels
from support import numpy_reference as ref

CHANNELS = [1, 2, 31, 32, 33, 63, 64, 65, 100, 300, 513]


@pytest.mark.parametrize("channels", CHANNELS)
def test_float_round_trip_and_padding_bits(rng, channels):
    x = rng.standard_normal((3, 5, channels)).astype(np.float32)
    packed = kernels.bitpack(x)
    assert packed.shape == (3, 5, ref.packed_size(channels)) and packed.dtype == np.int32
    np.testing.assert_array_equal(packed, ref.bitpack(x))
    np.testing.assert_array_equal(kernels.unpack(packed, channels), np.where(x < 0, -1.0, 1.0))
    # Padding bits of the last word are zero.
    if channels % 32:
        tail = packed[..., -1].view(np.uint32) >> np.uint32(channels % 32)
        assert not tail.any()


def test_float_sign_conventions():
    x = np.array([[0.0, -0.0, np.nan, -np.inf, np.inf, -1e-30, 1e-30]], dtype=np.float32)
    bits = int(kernels.bitpack(x)[0, 0])
    # Only strictly negative values are -1 (bit 1): -inf (bit 3) and -1e-30 (bit 5).
    assert bits == (1 << 3) | (1 << 5)


@pytest.mark.parametrize("zero_point", [-128, -3, 0, 5, 127])
@pytest.mark.parametrize("channels", [1, 33, 300])
def test_int8_round_trip(rng, zero_point, channels):
    q = rng.integers(-128, 128, size=(4, channels), dtype=np.int8)
    packed = kernels.bitpack(q, zero_point=zero_point)
    np.testing.assert_array_equal(packed, ref.bitpack(q.astype(np.int32), zero_point=zero_point))
    scale = 0.25
    unpacked = kernels.unpack(packed, channels, dtype="int8", scale=scale, zero_point=zero_point)
    expected = ref.int8_output(np.where(q < zero_point, -1.0, 1.0), scale, zero_point)
    np.testing.assert_array_equal(unpacked, expected)


def test_unpack_int8_saturates():
    packed = kernels.bitpack(np.array([[1.0, -1.0]], np.float32))
    out = kernels.unpack(packed, 2, dtype="int8", scale=0.001, zero_point=100)
    np.testing.assert_array_equal(out, [[127, -128]])


def test_unpack_of_numpy_packed_tensor(rng):
    x = ref.random_signs(rng, (7, 45))
    np.testing.assert_array_equal(kernels.unpack(ref.bitpack(x), 45), x)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="ceil"):
        kernels.unpack(np.zeros((2, 3), np.int32), 32)
    with pytest.raises(ValueError, match="zero_point"):
        kernels.bitpack(np.zeros((2, 3), np.float32), zero_point=4)
    with pytest.raises(ValueError, match="dtype"):
        kernels.unpack(np.zeros((2, 1), np.int32), 3, dtype="float16")
