"""Each custom op on hand-built single-op models, run inside LiteRT, vs the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
from op_models import (
    add_bconv2d,
    bconv2d_model,
    bconv2d_options,
    dequantize_model,
    quantize_model,
)
from support import numpy_reference as ref

from larq_compute import Interpreter
from larq_compute.runtime_model_builder import ModelBuilder

CHANNELS = [1, 31, 32, 33, 64, 100]


@pytest.mark.parametrize("channels", CHANNELS)
def test_quantize_float_matches_reference(channels):
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((2, 3, 5, channels)).astype(np.float32)
    x[0, 0, 0, 0] = 0.0
    x[0, 0, 1, 0] = -0.0
    interpreter = Interpreter(quantize_model([2, 3, 5, channels]))
    np.testing.assert_array_equal(interpreter.predict(x), ref.bitpack(x))


def test_quantize_int8_uses_zero_point():
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=(4, 70), dtype=np.int8)
    interpreter = Interpreter(quantize_model([4, 70], dtype=np.int8, zero_point=-3))
    np.testing.assert_array_equal(interpreter.predict(x), ref.bitpack(x, zero_point=-3))


@pytest.mark.parametrize("channels", CHANNELS)
def test_dequantize_float_matches_reference(channels):
    rng = np.random.default_rng(channels)
    signs = ref.random_signs(rng, (3, 4, channels))
    interpreter = Interpreter(dequantize_model([3, 4, channels]))
    np.testing.assert_array_equal(interpreter.predict(ref.bitpack(signs)), signs)


def test_dequantize_int8_output():
    signs = ref.random_signs(np.random.default_rng(1), (5, 40))
    interpreter = Interpreter(dequantize_model([5, 40], np.int8, quantization=(0.3, 4)))
    expected = ref.int8_output(signs, 0.3, 4)
    np.testing.assert_array_equal(interpreter.predict(ref.bitpack(signs)), expected)


CONV_CASES = [
    # (H, W, Cin, Cout, K, stride, dilation, padding, pad_value)
    (7, 7, 32, 8, 3, (1, 1), (1, 1), "valid", 0),
    (8, 9, 40, 33, 3, (2, 2), (1, 1), "same", 0),
    (8, 8, 64, 16, 3, (1, 1), (1, 1), "same", 1),
    (9, 7, 3, 5, 1, (1, 2), (1, 1), "valid", 0),
    (10, 10, 100, 64, 3, (1, 1), (2, 2), "same", 1),
    (6, 6, 70, 7, 5, (3, 3), (1, 1), "same", 0),
]


def _conv_reference(x, w, case, out_type, multiplier, bias, fused="none"):
    _, _, _, _, k, stride, dilation, padding, pad_value = case
    conv = ref.conv2d_float(x, w, stride, dilation, padding, float(pad_value))
    return ref.float_output(conv, multiplier, bias, fused)


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("out_type", ["float", "int8"])
def test_bconv2d_float_and_int8_outputs(case, out_type):
    h, w_, cin, cout, k, stride, dilation, padding, pad_value = case
    rng = np.random.default_rng(h * 1000 + cin)
    x = ref.random_signs(rng, (2, h, w_, cin))
    w = ref.random_signs(rng, (cout, k, k, cin))
    multiplier = rng.uniform(-2, 2, cout).astype(np.float32)
    bias = rng.uniform(-3, 3, cout).astype(np.float32)
    options = bconv2d_options(cin, stride, dilation, padding, pad_value, fused="relu")
    quantization = (0.25, -5) if out_type == "int8" else None
    model = bconv2d_model([2, h, w_, cin], w, options, out_type, multiplier=multiplier,
                          bias=bias, quantization=quantization)
    got = Interpreter(model).predict(ref.bitpack(x))
    expected = _conv_reference(x, w, case, out_type, multiplier, bias, fused="relu")
    if out_type == "int8":
        expected = ref.int8_output(expected, 0.25, -5)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("case", [c for c in CONV_CASES if c[7] == "valid" or c[8] == 1])
def test_bconv2d_bitpacked_output(case):
    h, w_, cin, cout, k, stride, dilation, padding, pad_value = case
    rng = np.random.default_rng(cout)
    x = ref.random_signs(rng, (1, h, w_, cin))
    w = ref.random_signs(rng, (cout, k, k, cin))
    thresholds = rng.integers(0, k * k * cin, cout).astype(np.int32)
    options = bconv2d_options(cin, stride, dilation, padding, pad_value)
    model = bconv2d_model([1, h, w_, cin], w, options, "bitpacked", thresholds=thresholds)
    conv = ref.conv2d_float(x, w, stride, dilation, padding, float(pad_value))
    expected = ref.bitpacked_output(ref.xor_popcount_from_conv(conv, k * k * cin), thresholds)
    np.testing.assert_array_equal(Interpreter(model).predict(ref.bitpack(x)), expected)


def test_bconv2d_float_filter_is_packed_at_load():
    rng = np.random.default_rng(5)
    x = ref.random_signs(rng, (1, 6, 6, 20))
    w = ref.random_signs(rng, (4, 3, 3, 20))
    b = ModelBuilder()
    xi = b.tensor([1, 6, 6, 1], np.int32, "x")
    f = b.tensor([4, 3, 3, 20], np.float32, "filter", data=w)
    m = b.tensor([4], np.float32, "m", data=np.ones(4, np.float32))
    bias = b.tensor([4], np.float32, "b", data=np.zeros(4, np.float32))
    y = b.tensor([1, 4, 4, 4], np.float32, "y")
    b.custom_op("LceBconv2d", [xi, f, m, bias], [y], bconv2d_options(20))
    got = Interpreter(b.build([xi], [y])).predict(ref.bitpack(x))
    np.testing.assert_array_equal(got, ref.conv2d_float(x, w).astype(np.float32))


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("channels", [17, 64])
def test_bmaxpool2d_matches_float_maxpool(padding, channels):
    rng = np.random.default_rng(channels)
    x = ref.random_signs(rng, (2, 9, 8, channels))
    expected = ref.maxpool2d(x, (3, 2), (2, 2), padding)
    b = ModelBuilder()
    words = ref.packed_size(channels)
    xi = b.tensor([2, 9, 8, words], np.int32, "x")
    y = b.tensor([2, *expected.shape[1:3], words], np.int32, "y")
    options = {"padding": 0 if padding == "same" else 1, "stride_height": 2, "stride_width": 2,
               "filter_height": 3, "filter_width": 2}
    b.custom_op("LceBMaxPool2d", [xi], [y], options)
    got = Interpreter(b.build([xi], [y])).predict(ref.bitpack(x))
    np.testing.assert_array_equal(got, ref.bitpack(expected))


@pytest.mark.parametrize("out_type", ["float", "bitpacked"])
def test_bfully_connected(out_type):
    rng = np.random.default_rng(3)
    cin, cout = 100, 40
    x = ref.random_signs(rng, (3, 5, cin))
    w = ref.random_signs(rng, (cout, cin))
    conv = x.astype(np.float64) @ w.T.astype(np.float64)
    b = ModelBuilder()
    xi = b.tensor([3, 5, ref.packed_size(cin)], np.int32, "x")
    wi = b.tensor([cout, ref.packed_size(cin)], np.int32, "w", data=ref.bitpack(w))
    options = {"channels_in": cin, "fused_activation_function": 0}
    if out_type == "float":
        multiplier = rng.uniform(-1, 1, cout).astype(np.float32)
        bias = rng.uniform(-1, 1, cout).astype(np.float32)
        inputs = [xi, wi, b.tensor([cout], np.float32, "m", data=multiplier),
                  b.tensor([cout], np.float32, "b", data=bias)]
        y = b.tensor([3, 5, cout], np.float32, "y")
        expected = ref.float_output(conv, multiplier, bias)
    else:
        thresholds = rng.integers(0, cin, cout).astype(np.int32)
        inputs = [xi, wi, -1, -1, b.tensor([cout], np.int32, "t", data=thresholds)]
        y = b.tensor([3, 5, ref.packed_size(cout)], np.int32, "y")
        expected = ref.bitpacked_output(ref.xor_popcount_from_conv(conv, cin), thresholds)
    b.custom_op("LceBFullyConnected", inputs, [y], options)
    np.testing.assert_array_equal(Interpreter(b.build([xi], [y])).predict(ref.bitpack(x)), expected)


def _chain_model():
    """Quantize -> Bconv2d (bit-packed out) -> BMaxPool2d -> Bconv2d (float out)."""
    rng = np.random.default_rng(11)
    w1 = ref.random_signs(rng, (64, 3, 3, 48))
    w2 = ref.random_signs(rng, (24, 3, 3, 64))
    thresholds = rng.integers(150, 280, 64).astype(np.int32)
    multiplier = rng.uniform(0.5, 1.5, 24).astype(np.float32)
    bias = rng.uniform(-1, 1, 24).astype(np.float32)
    b = ModelBuilder()
    x = b.tensor([1, 12, 12, 48], np.float32, "x", shape_signature=[-1, 12, 12, 48])
    q = b.tensor([1, 12, 12, 2], np.int32, "x_packed")
    b.custom_op("LceQuantize", [x], [q])
    h1, s1 = add_bconv2d(b, q, [1, 12, 12, 2], w1, bconv2d_options(48, padding="same", pad_value=1),
                         "bitpacked", thresholds=thresholds, name="conv1")
    p = b.tensor([1, 6, 6, 2], np.int32, "pool")
    b.custom_op("LceBMaxPool2d", [h1], [p], {"padding": 1, "stride_height": 2, "stride_width": 2,
                                               "filter_height": 2, "filter_width": 2})
    y, _ = add_bconv2d(b, p, [1, 6, 6, 2], w2, bconv2d_options(64), "float",
                       multiplier=multiplier, bias=bias, name="conv2")
    model = b.build([x], [y])

    def reference(inputs: np.ndarray) -> np.ndarray:
        signs = np.where(inputs < 0, -1.0, 1.0).astype(np.float32)
        conv1 = ref.conv2d_float(signs, w1, padding="same", pad_value=1.0)
        bits = ref.xor_popcount_from_conv(conv1, 9 * 48) > thresholds
        h = np.where(bits, -1.0, 1.0).astype(np.float32)
        pooled = ref.maxpool2d(h, (2, 2), (2, 2), "valid")
        return ref.float_output(ref.conv2d_float(pooled, w2), multiplier, bias)

    return model, reference


def test_chain_of_binary_layers_matches_reference():
    model, reference = _chain_model()
    x = np.random.default_rng(2).standard_normal((1, 12, 12, 48)).astype(np.float32)
    np.testing.assert_array_equal(Interpreter(model).predict(x), reference(x))


def test_dynamic_batch_and_threads_give_identical_results():
    model, reference = _chain_model()
    rng = np.random.default_rng(4)
    single = Interpreter(model, num_threads=1)
    double = Interpreter(model, num_threads=2)
    for batch in [3, 1, 5]:
        x = rng.standard_normal((batch, 12, 12, 48)).astype(np.float32)
        y1, y2 = single.predict(x), double.predict(x)
        assert y1.shape == (batch, 4, 4, 24)
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(y1, reference(x))
    assert list(single.output_details[0]["shape"]) == [5, 4, 4, 24]


@pytest.mark.parametrize("out_type", ["float", "int8", "bitpacked"])
@pytest.mark.parametrize(("cin", "groups"), [(64, 4), (48, 3), (64, 2)])
def test_bconv2d_grouped(out_type, cin, groups):
    """Float filters may have any group size (split per group); packed ones 32-multiples."""
    rng = np.random.default_rng(cin + groups)
    cout, per_group = 2 * groups * 3, cin // groups
    x = ref.random_signs(rng, (2, 6, 7, cin))
    w = ref.random_signs(rng, (cout, 3, 3, per_group))
    conv = ref.conv2d_float(x, w, padding="same", pad_value=1.0, groups=groups)
    b = ModelBuilder()
    xi = b.tensor([2, 6, 7, ref.packed_size(cin)], np.int32, "x")
    packed = per_group % 32 == 0 and groups == 2
    f = (b.tensor([cout, 3, 3, 1], np.int32, "f", data=ref.bitpack(w)) if packed
         else b.tensor([cout, 3, 3, per_group], np.float32, "f", data=w))
    options = bconv2d_options(cin, padding="same", pad_value=1)
    if out_type == "bitpacked":
        thresholds = rng.integers(0, 9 * per_group, cout).astype(np.int32)
        inputs = [xi, f, -1, -1, b.tensor([cout], np.int32, "t", data=thresholds)]
        y = b.tensor([2, 6, 7, ref.packed_size(cout)], np.int32, "y")
        expected = ref.bitpacked_output(ref.xor_popcount_from_conv(conv, 9 * per_group), thresholds)
    else:
        multiplier = rng.uniform(-1, 1, cout).astype(np.float32)
        bias = rng.uniform(-1, 1, cout).astype(np.float32)
        inputs = [xi, f, b.tensor([cout], np.float32, "m", data=multiplier),
                  b.tensor([cout], np.float32, "b", data=bias)]
        expected = ref.float_output(conv, multiplier, bias)
        if out_type == "int8":
            y = b.tensor([2, 6, 7, cout], np.int8, "y", quantization=(0.1, 2))
            expected = ref.int8_output(expected, 0.1, 2)
        else:
            y = b.tensor([2, 6, 7, cout], np.float32, "y")
    b.custom_op("LceBconv2d", inputs, [y], options)
    for threads in (1, 2):
        got = Interpreter(b.build([xi], [y]), num_threads=threads).predict(ref.bitpack(x))
        np.testing.assert_array_equal(got, expected)
