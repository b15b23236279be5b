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


# Every ISA variant against the portable twin and numpy, on shapes that exercise the 64-value
# steps, the ragged row ends and the contiguous-rows path (C % 32 == 0).
VARIANT_CHANNELS = [1, 3, 7, 16, 31, 32, 33, 47, 63, 64, 65, 96, 127, 128, 129, 200, 256, 500, 513, 1000]
ADVERSARIAL_FLOATS = np.array(
    [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-45, -1e-45, 1e-40, -1e-40,
     np.finfo(np.float32).max, -np.finfo(np.float32).max, np.finfo(np.float32).tiny,
     -np.finfo(np.float32).tiny, 1.0, -1.0],
    dtype=np.float32,
)


def float_cases(rng, rows: int, channels: int) -> list[np.ndarray]:
    random = rng.standard_normal((rows, channels)).astype(np.float32)
    adversarial = rng.choice(ADVERSARIAL_FLOATS, size=(rows, channels))
    # A negative NaN payload has the sign bit set but must still pack to +1.
    negative_nan = np.full((rows, channels), np.uint32(0xFFC00001)).view(np.float32)
    return [random, adversarial, negative_nan, np.full((rows, channels), -1.0, np.float32)]


@pytest.mark.parametrize("channels", VARIANT_CHANNELS)
def test_float_variants_match_portable_and_numpy(variant, rng, channels):
    for rows in [1, 2, 5]:
        for x in float_cases(rng, rows, channels):
            expected = ref.bitpack(np.where(x < 0, -1.0, 1.0).astype(np.float32))
            np.testing.assert_array_equal(kernels.bitpack(x, variant=variant), expected)
            np.testing.assert_array_equal(kernels.bitpack(x, variant="portable"), expected)


@pytest.mark.parametrize("channels", VARIANT_CHANNELS)
def test_int8_variants_match_portable_and_numpy(variant, rng, channels):
    for zero_point in [-128, -1, 0, 3, 127]:
        random = rng.integers(-128, 128, size=(3, channels), dtype=np.int8)
        # Values at and next to the zero point, and both int8 extremes.
        near = np.clip(zero_point + rng.integers(-1, 2, size=(3, channels)), -128, 127).astype(np.int8)
        extremes = rng.choice(np.array([-128, 127], np.int8), size=(3, channels))
        for q in [random, near, extremes]:
            expected = ref.bitpack(np.where(q < zero_point, -1.0, 1.0).astype(np.float32))
            np.testing.assert_array_equal(kernels.bitpack(q, zero_point=zero_point, variant=variant), expected)
            np.testing.assert_array_equal(kernels.bitpack(q, zero_point=zero_point, variant="portable"), expected)


def test_variants_pack_many_rows_and_views(variant, rng):
    # Many rows of QuickNet-like widths, and a non-contiguous view (copied by the binding).
    for channels in [32, 64, 3, 100]:
        x = rng.standard_normal((3, 57, channels)).astype(np.float32)
        np.testing.assert_array_equal(kernels.bitpack(x, variant=variant), ref.bitpack(x))
    x = rng.standard_normal((40, 80)).astype(np.float32)[:, ::2]
    np.testing.assert_array_equal(kernels.bitpack(x, variant=variant), ref.bitpack(x))


def test_unusable_variant_raises():
    missing = [v for v in ["portable", "avx2", "avx512", "neon"] if v not in kernels.available_variants()]
    for name in missing:
        with pytest.raises(ValueError, match=f"'{name}'"):
            kernels.bitpack(np.zeros((1, 4), np.float32), variant=name)
    with pytest.raises(ValueError, match="unknown variant"):
        kernels.bitpack(np.zeros((1, 4), np.float32), variant="sse9")


@pytest.mark.parametrize("forced", ["portable", "avx2", "avx512", "neon", "bogus"])
def test_auto_honours_forced_kernel(monkeypatch, rng, forced):
    monkeypatch.setenv("LARQ_COMPUTE_KERNEL", forced)
    x = rng.standard_normal((9, 45)).astype(np.float32)
    q = rng.integers(-128, 128, size=(9, 45), dtype=np.int8)
    if forced not in kernels.available_variants():
        with pytest.raises(ValueError, match=forced):
            kernels.bitpack(x)
        return
    np.testing.assert_array_equal(kernels.bitpack(x), ref.bitpack(x))
    np.testing.assert_array_equal(kernels.bitpack(q, zero_point=-7), ref.bitpack(q, zero_point=-7))
