"""BConv2D: every variant and the reference twin against a numpy float conv of the +-1 tensors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from larq_compute._native import kernels
from support import numpy_reference as ref

CHANNEL_CHOICES = [1, 3, 31, 32, 33, 63, 64, 65, 96, 100, 130, 257, 300]
ACTIVATIONS = list(ref.ACTIVATION_BOUNDS)


@dataclasses.dataclass
class Case:
    batch: int
    height: int
    width: int
    channels_in: int
    channels_out: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: str  # "valid", "same_zero", "same_one"
    groups: int
    output_type: str

    @property
    def pad_value(self) -> int:
        return 1 if self.padding == "same_one" else 0

    @property
    def conv_padding(self) -> str:
        return "valid" if self.padding == "valid" else "same"


def random_case(rng: np.random.Generator, output_type: str) -> Case:
    groups = 1
    if rng.random() < 0.25:
        groups = int(rng.choice([2, 3, 4]))
        channels_in = 32 * groups * int(rng.integers(1, 3))
        channels_out = groups * int(rng.integers(1, 24))
    else:
        channels_in = int(rng.choice(CHANNEL_CHOICES))
        channels_out = int(rng.integers(1, 80))
    kernel = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    paddings = ["valid", "same_one"] if output_type == "bitpacked" else ["valid", "same_zero", "same_one"]
    padding = str(rng.choice(paddings))
    # Inputs at least as large as the dilated kernel, so VALID has outputs; kept small for speed.
    height = (kernel[0] - 1) * dilation[0] + 1 + int(rng.integers(0, 6))
    width = (kernel[1] - 1) * dilation[1] + 1 + int(rng.integers(0, 6))
    return Case(int(rng.integers(1, 4)), height, width, channels_in, channels_out, kernel, stride,
                dilation, padding, groups, output_type)


def transform_args(rng: np.random.Generator, case: Case, popcounts: np.ndarray | None) -> dict:
    c = case.channels_out
    if case.output_type == "bitpacked":
        # Thresholds at observed popcounts put many outputs exactly on the edge (p == t -> bit 0).
        flat = popcounts.reshape(-1, c)
        picks = flat[rng.integers(0, flat.shape[0], size=c), np.arange(c)]
        return {"thresholds": (picks + rng.integers(-1, 1, size=c)).astype(np.int32)}
    args = {
        "multiplier": rng.uniform(-2.0, 2.0, c).astype(np.float32),  # negative ones included
        "bias": rng.uniform(-3.0, 3.0, c).astype(np.float32),
        "fused_activation": str(rng.choice(ACTIVATIONS)),
        "output_activation": str(rng.choice(ACTIVATIONS)),
    }
    if case.output_type == "int8":
        args["int8_scale"] = float(rng.uniform(0.02, 0.5))
        args["int8_zero_point"] = int(rng.integers(-20, 21))
    return args


def expected_output(case: Case, conv: np.ndarray, k: int, args: dict) -> np.ndarray:
    if case.output_type == "bitpacked":
        return ref.bitpacked_output(ref.xor_popcount_from_conv(conv, k), args["thresholds"])
    y = ref.float_output(conv, args["multiplier"], args["bias"], args["fused_activation"],
                         args["output_activation"])
    if case.output_type == "int8":
        return ref.int8_output(y, args["int8_scale"], args["int8_zero_point"])
    return y


def run_case(rng: np.random.Generator, case: Case, variants: list[str]) -> None:
    x = ref.random_signs(rng, (case.batch, case.height, case.width, case.channels_in))
    cin_g = case.channels_in // case.groups
    w = ref.random_signs(rng, (case.channels_out, *case.kernel, cin_g))
    conv = ref.conv2d_float(x, w, case.stride, case.dilation, case.conv_padding, case.pad_value,
                            case.groups)
    k = case.kernel[0] * case.kernel[1] * cin_g
    args = transform_args(rng, case, ref.xor_popcount_from_conv(conv, k))
    expected = expected_output(case, conv, k, args)
    for variant in variants:
        got = kernels.bconv2d(
            ref.bitpack(x), ref.bitpack(w), case.channels_in, stride=case.stride,
            dilation=case.dilation, padding=case.conv_padding, pad_value=case.pad_value,
            groups=case.groups, output_type=case.output_type, variant=variant, **args)
        assert got.shape == expected.shape, (variant, case)
        np.testing.assert_array_equal(got, expected, err_msg=f"{variant}: {case}")


ALL_VARIANTS = ["reference", *kernels.available_variants()]


@pytest.mark.parametrize("output_type", ["float", "int8", "bitpacked"])
@pytest.mark.parametrize("seed", range(14))
def test_random_shapes_all_variants(output_type, seed):
    rng = np.random.default_rng(1000 * seed + len(output_type))
    run_case(rng, random_case(rng, output_type), ALL_VARIANTS)


@pytest.mark.parametrize("padding", ["same_zero", "same_one"])
@pytest.mark.parametrize("kernel,dilation,stride", [((7, 7), (1, 1), (1, 1)), ((5, 3), (2, 2), (1, 1)),
                                                    ((4, 6), (1, 2), (2, 3)), ((3, 3), (1, 1), (2, 2))])
def test_padding_at_every_border_position(variant, padding, kernel, dilation, stride):
    """Small images where most outputs touch the border in a different way."""
    rng = np.random.default_rng(len(padding) * 100 + kernel[0] * 10 + kernel[1])
    for output_type in ["float", "bitpacked"] if padding == "same_one" else ["float", "int8"]:
        case = Case(2, 6, 7, 70, 40, kernel, stride, dilation, padding, 1, output_type)
        run_case(rng, case, [variant])


def test_zero_padding_counts_only_inside_taps(variant):
    """All +1 input and filter: conv = number of in-bounds taps x channels, exactly."""
    x = np.ones((1, 4, 5, 40), np.float32)
    w = np.ones((8, 3, 3, 40), np.float32)
    got = kernels.bconv2d(ref.bitpack(x), ref.bitpack(w), 40, padding="same", pad_value=0,
                          variant=variant)
    rows = np.array([2, 3, 3, 2])[:, None]
    cols = np.array([2, 3, 3, 3, 2])[None, :]
    np.testing.assert_array_equal(got[0, :, :, 0], 40 * rows * cols)


@pytest.mark.parametrize("channels_in", [64, 2048, 2049])
def test_every_bit_differs_over_long_sums(variant, channels_in):
    """Input all +1 and filter all -1: every XOR bit is 1, the largest popcount per step. Over
    3x3 x 2048 channels (288 64-bit steps) kernels that count in narrow lanes between drains
    must drain before those lanes overflow."""
    x = np.ones((1, 3, 3, channels_in), np.float32)
    w = -np.ones((5, 3, 3, channels_in), np.float32)
    got = kernels.bconv2d(ref.bitpack(x), ref.bitpack(w), channels_in, padding="valid",
                          variant=variant)
    np.testing.assert_array_equal(got, np.full((1, 1, 1, 5), -9.0 * channels_in, np.float32))


@pytest.mark.parametrize("scale", [0.1, 6 / 255, 0.0137])
@pytest.mark.parametrize("zero_point", [-128, 0, 127])
def test_int8_output_near_rounding_ties(variant, scale, zero_point):
    """y = bias a few ulps around (k + 0.5) * scale, and odd a with multiplier scale / 2 (ties):
    kernels that quantize through the inverse scale must still round as the division does."""
    rng = np.random.default_rng(int(scale * 1e4) + zero_point)
    channels_out = 600
    x = ref.random_signs(rng, (1, 2, 3, 33))  # 1x1 conv: K = 33, so a is odd
    w = ref.random_signs(rng, (channels_out, 1, 1, 33))
    scale32 = np.float32(scale)
    bias = ((rng.integers(-140, 141, channels_out) + np.float32(0.5)) * scale32).astype(np.float32)
    for _ in range(3):
        step = rng.integers(-1, 2, channels_out)
        bias = np.where(step == 0, bias, np.nextafter(bias, step * np.float32(np.inf))).astype(np.float32)
    multiplier = np.where(np.arange(channels_out) % 4 == 0, scale32 / 2, 0).astype(np.float32)
    bias[::4] = 0
    conv = ref.conv2d_float(x, w, (1, 1), (1, 1), "valid", 0, 1)
    y = ref.float_output(conv, multiplier, bias, "none", "none")
    expected = ref.int8_output(y, scale, zero_point)
    got = kernels.bconv2d(ref.bitpack(x), ref.bitpack(w), 33, output_type="int8", variant=variant,
                          multiplier=multiplier, bias=bias, int8_scale=scale,
                          int8_zero_point=zero_point)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("num_threads", [2, 3])
def test_threads_give_identical_results(rng, num_threads):
    for output_type, channels_out, height in [("float", 70, 9), ("bitpacked", 100, 13), ("int8", 8, 2)]:
        x = ref.random_signs(rng, (2, height, 11, 96))
        w = ref.random_signs(rng, (channels_out, 3, 3, 96))
        args = {"thresholds": rng.integers(400, 460, channels_out).astype(np.int32)} \
            if output_type == "bitpacked" else {"multiplier": rng.standard_normal(channels_out).astype(np.float32)}
        single = kernels.bconv2d(ref.bitpack(x), ref.bitpack(w), 96, padding="same", pad_value=1,
                                 output_type=output_type, **args)
        multi = kernels.bconv2d(ref.bitpack(x), ref.bitpack(w), 96, padding="same", pad_value=1,
                                output_type=output_type, num_threads=num_threads, **args)
        np.testing.assert_array_equal(single, multi)


def test_large_kernel_in_one_micro_kernel_call(variant):
    """81 taps: one call walks every tap offset (no per-call table of tap pointers)."""
    rng = np.random.default_rng(5)
    run_case(rng, Case(1, 11, 10, 33, 17, (9, 9), (1, 1), (1, 1), "same_zero", 1, "float"), [variant])


def test_forced_variants_and_errors(monkeypatch):
    x = ref.bitpack(np.ones((1, 3, 3, 32), np.float32))
    w = ref.bitpack(np.ones((4, 3, 3, 32), np.float32))
    for variant in ["avx2", "avx512", "neon"]:
        if variant not in kernels.available_variants():
            with pytest.raises(ValueError, match=f"'{variant}' is not"):
                kernels.bconv2d(x, w, 32, variant=variant)
    conv = kernels.make_bconv2d(w, (3, 3), 32, variant="portable")
    assert conv.variant == "portable"
    monkeypatch.setenv("LARQ_COMPUTE_KERNEL", "portable")
    assert kernels.make_bconv2d(w, (3, 3), 32).variant == "portable"
    monkeypatch.setenv("LARQ_COMPUTE_KERNEL", "sse9")
    with pytest.raises(ValueError, match="LARQ_COMPUTE_KERNEL='sse9'"):
        kernels.bconv2d(x, w, 32)
    monkeypatch.delenv("LARQ_COMPUTE_KERNEL")
    assert kernels.make_bconv2d(w, (3, 3), 32).variant == kernels.available_variants()[-1]


@pytest.mark.parametrize("kwargs,message", [
    ({"groups": 2}, "multiple of 32"),
    ({"groups": 3}, "must divide"),
    ({"stride": (0, 1)}, "strides must be positive"),
    ({"dilation": (1, -1)}, "dilations must be positive"),
    ({"padding": "full"}, "padding must be"),
    ({"padding": "same", "pad_value": 2}, "pad_values must be 0 or 1"),
    ({"padding": "same", "output_type": "bitpacked", "thresholds": np.zeros(4, np.int32)}, "zero padding"),
    ({"output_type": "bitpacked"}, "thresholds"),
    ({"output_type": "int8", "int8_scale": 0.0}, "positive finite scale"),
    ({"output_type": "int8", "int8_zero_point": 300}, "zero point"),
    ({"multiplier": np.ones(3, np.float32)}, r"shape \[4\]"),
    ({"fused_activation": "gelu"}, "unknown activation"),
    ({"variant": "fastest"}, "unknown variant"),
])
def test_bad_arguments_raise(kwargs, message):
    x = ref.bitpack(np.ones((1, 5, 5, 40), np.float32))
    group_in = 20 if kwargs.get("groups") == 2 else 40
    w = ref.bitpack(np.ones((4, 3, 3, group_in), np.float32))
    kwargs = dict(kwargs)
    for variant in [kwargs.pop("variant")] if "variant" in kwargs else ["reference", "auto"]:
        with pytest.raises(ValueError, match=message):
            kernels.bconv2d(x, w, 40, variant=variant, **kwargs)


def test_shape_mismatches_raise():
    w = ref.bitpack(np.ones((4, 3, 3, 40), np.float32))
    with pytest.raises(ValueError, match="packed words per pixel"):
        kernels.bconv2d(np.zeros((1, 5, 5, 1), np.int32), w, 40)
    with pytest.raises(ValueError, match="rank 4"):
        kernels.bconv2d(np.zeros((5, 5, 2), np.int32), w, 40)


@pytest.mark.parametrize("groups,channels_out", [(2, 48), (3, 72), (4, 20), (2, 130)])
def test_grouped_bitpacked_output_blocks_straddle_words(variant, groups, channels_out):
    """Per-group channel blocks start mid-word and spill into the next packed word."""
    rng = np.random.default_rng(groups * 1000 + channels_out)
    run_case(rng, Case(2, 5, 6, 32 * groups, channels_out, (3, 3), (1, 1), (1, 1), "same_one", groups,
                       "bitpacked"), [variant])


def test_float_transform_rounds_once_in_double(variant):
    # The optimized output stages use one float32 FMA only where it provably rounds like
    # float32(double(a) * m + b). Channel 0 is a case where it would not: with a = 97 and
    # m = 172961 * 2^-24, a * m = 1 + 2^-24 (a tie between two floats), and b = 2^-60 is lost in
    # double, so the answer is the tie rounded to even (1.0), while an FMA rounds up. Channels
    # 1-15 mix tiny, huge, zero, subnormal and non-finite parameters; channel 16 repeats the tie
    # in a 16-channel group whose other channels are ordinary, so only its own rule keeps the
    # group off the FMA.
    channels_in = 97  # 1x1 VALID on all +1 inputs and weights: conv = K = 97 everywhere
    tie = 172961 * 2.0**-24
    m = [tie, 0.5, 1e-30, 3e38, 1.0, 0.0, 1e-45, 2.0, np.inf, 0.25, -0.75, 1.5, np.nan, 1e-3,
         -2.0, 7.0, tie, 0.3, 0.1]
    b = [2.0**-60, 0.0, 1.0, -1.0, 1e-38, 2.5, 0.0, 2.0**-100, 0.0, 1e30, -1e-20, 0.125, 0.0,
         5.0, 1e-45, -3.0, 2.0**-60, 0.0, 0.2]
    multiplier, bias = np.array(m, np.float32), np.array(b, np.float32)
    x = np.ones((1, 3, 3, channels_in), np.float32)
    w = np.ones((len(m), 1, 1, channels_in), np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = ref.float_output(ref.conv2d_float(x, w), multiplier, bias)
    assert expected[0, 0, 0, 0] == expected[0, 0, 0, 16] == 1.0  # the double-rounding case
    got = kernels.bconv2d(ref.bitpack(x), ref.bitpack(w), channels_in, multiplier=multiplier,
                          bias=bias, variant=variant)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("channels_out", [1, 63, 64, 65, 128, 129])
@pytest.mark.parametrize("height,width,stride,padding", [(1, 1, (1, 1), "same_one"), (1, 7, (1, 2), "same_zero"),
                                                         (5, 5, (3, 3), "same_one"), (6, 1, (1, 1), "valid")])
def test_tile_edges(variant, channels_out, height, width, stride, padding):
    """Channel counts around the 64-channel tile, pixel counts around the 6-pixel tile (1x1
    images, single rows and columns), a 3x3 dilated-by-2 filter reaching past tiny images, and an
    odd K word count (C = 97)."""
    rng = np.random.default_rng(channels_out * 31 + height * 7 + width)
    kernel = (1, 1) if padding == "valid" else (3, 3)
    for output_type in ["float", "bitpacked" if padding != "same_zero" else "int8"]:
        case = Case(2, height, width, 97, channels_out, kernel, stride, (2, 2), padding, 1, output_type)
        run_case(rng, case, [variant])
