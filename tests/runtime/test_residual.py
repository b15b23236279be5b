"""LceBconv2d's extension residual input (5): out = clamp_out(y) + residual, inside LiteRT, vs numpy
and vs the same conv followed by a builtin ADD."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from op_models import ACTIVATION, add_bconv2d, bconv2d_options
from support import numpy_reference as ref

from larq_compute import Interpreter
from larq_compute.interpreter import InvalidModelError, KernelError
from larq_compute.runtime_model_builder import ModelBuilder

CASES = [
    # (H, W, Cin, Cout, K, stride, padding, pad_value)
    (7, 7, 32, 8, 3, (1, 1), "valid", 0),
    (8, 9, 40, 33, 3, (2, 2), "same", 0),
    (8, 8, 64, 64, 3, (1, 1), "same", 1),
    (9, 7, 3, 5, 1, (1, 2), "valid", 0),
    (6, 6, 70, 7, 5, (3, 3), "same", 0),
]


def _out_hw(h, w, k, stride, padding):
    if padding == "same":
        return -(-h // stride[0]), -(-w // stride[1])
    return (h - k) // stride[0] + 1, (w - k) // stride[1] + 1


def _residual_model(case, w, multiplier, bias, options, *, separate_add=False, residual_dtype=np.float32,
                    residual_shape=None, out_type="float", quantization=None, add_activation="none"):
    """Inputs: packed x (dynamic batch) and the residual r; output: conv(x) + r, fused or not."""
    h, w_, cin, cout, k, stride, padding, _ = case
    oh, ow = _out_hw(h, w_, k, stride, padding)
    b = ModelBuilder()
    words = ref.packed_size(cin)
    x = b.tensor([1, h, w_, words], np.int32, "x", shape_signature=[-1, h, w_, words])
    r_shape = residual_shape or [1, oh, ow, cout]
    r = b.tensor(r_shape, residual_dtype, "r", shape_signature=[-1, *r_shape[1:]])
    if separate_add:
        y, shape = add_bconv2d(b, x, [1, h, w_, words], w, options, out_type, multiplier=multiplier, bias=bias)
        out = b.tensor(shape, np.float32, "sum")
        add_options = schema.AddOptionsT()
        add_options.fusedActivationFunction = ACTIVATION[add_activation]
        b.builtin_op(schema.BuiltinOperator.ADD, [y, r], [out], schema.BuiltinOptions.AddOptions, add_options)
    else:
        if add_activation != "none":
            options = {**options, "residual_activation_function": ACTIVATION[add_activation]}
        out, _ = add_bconv2d(b, x, [1, h, w_, words], w, options, out_type, multiplier=multiplier,
                             bias=bias, residual=r, quantization=quantization)
    return b.build([x, r], [out])


@pytest.mark.parametrize("add_activation", ["none", "relu", "relu6"])
@pytest.mark.parametrize("case", CASES)
def test_residual_matches_numpy_and_separate_add(case, add_activation):
    h, w_, cin, cout, k, stride, padding, pad_value = case
    rng = np.random.default_rng(h * 100 + cout)
    w = ref.random_signs(rng, (cout, k, k, cin))
    multiplier = rng.uniform(-2, 2, cout).astype(np.float32)
    bias = rng.uniform(-3, 3, cout).astype(np.float32)
    options = bconv2d_options(cin, stride, (1, 1), padding, pad_value, fused="relu", output_activation="relu6")
    fused = _residual_model(case, w, multiplier, bias, options, add_activation=add_activation)
    separate = _residual_model(case, w, multiplier, bias, options, separate_add=True, add_activation=add_activation)
    oh, ow = _out_hw(h, w_, k, stride, padding)
    interpreters = [Interpreter(fused, num_threads=1), Interpreter(fused, num_threads=2)]
    unfused = Interpreter(separate)
    for batch in (2, 1, 3):  # dynamic batch: both inputs resized
        x = ref.random_signs(rng, (batch, h, w_, cin))
        r = (rng.standard_normal((batch, oh, ow, cout)) * 4).astype(np.float32)
        conv = ref.conv2d_float(x, w, stride, (1, 1), padding, float(pad_value))
        expected = ref.float_output(conv, multiplier, bias, "relu", "relu6", residual=r,
                                    residual_activation=add_activation)
        for interpreter in interpreters:
            np.testing.assert_array_equal(interpreter.predict([ref.bitpack(x), r]), expected)
        np.testing.assert_array_equal(unfused.predict([ref.bitpack(x), r]), expected)


def test_residual_block_reads_the_quantized_tensor():
    """QuickNet's block: h + bconv(quantize(h)), the residual being the conv's own float input."""
    rng = np.random.default_rng(3)
    c = 64
    w = ref.random_signs(rng, (c, 3, 3, c))
    multiplier = rng.uniform(0.1, 1, c).astype(np.float32)
    bias = rng.uniform(-1, 1, c).astype(np.float32)
    b = ModelBuilder()
    hx = b.tensor([1, 6, 6, c], np.float32, "h", shape_signature=[-1, 6, 6, c])
    q = b.tensor([1, 6, 6, 2], np.int32, "h_packed")
    b.custom_op("LceQuantize", [hx], [q])
    y, _ = add_bconv2d(b, q, [1, 6, 6, 2], w, bconv2d_options(c, padding="same", pad_value=1), "float",
                       multiplier=multiplier, bias=bias, residual=hx)
    model = b.build([hx], [y])
    x = rng.standard_normal((2, 6, 6, c)).astype(np.float32)
    signs = np.where(x < 0, -1.0, 1.0).astype(np.float32)
    expected = ref.float_output(ref.conv2d_float(signs, w, padding="same", pad_value=1.0), multiplier, bias,
                                residual=x)
    for threads in (1, 2):
        np.testing.assert_array_equal(Interpreter(model, num_threads=threads).predict(x), expected)


def test_residual_with_split_groups():
    """A float filter whose groups are not 32-channel multiples runs one conv per group; the
    residual is added as the groups' outputs are placed."""
    rng = np.random.default_rng(8)
    cin, groups, cout = 48, 3, 18
    w = ref.random_signs(rng, (cout, 3, 3, cin // groups))
    multiplier = rng.uniform(-1, 1, cout).astype(np.float32)
    bias = rng.uniform(-1, 1, cout).astype(np.float32)
    b = ModelBuilder()
    xi = b.tensor([2, 6, 7, 2], np.int32, "x")
    r = b.tensor([2, 6, 7, cout], np.float32, "r")
    f = b.tensor([cout, 3, 3, cin // groups], np.float32, "f", data=w)
    inputs = [xi, f, b.tensor([cout], np.float32, "m", data=multiplier),
              b.tensor([cout], np.float32, "b", data=bias), -1, r]
    y = b.tensor([2, 6, 7, cout], np.float32, "y")
    options = {**bconv2d_options(cin, padding="same", pad_value=1), "residual_activation_function": 1}
    b.custom_op("LceBconv2d", inputs, [y], options)
    model = b.build([xi, r], [y])
    x = ref.random_signs(rng, (2, 6, 7, cin))
    residual = rng.standard_normal((2, 6, 7, cout)).astype(np.float32)
    conv = ref.conv2d_float(x, w, padding="same", pad_value=1.0, groups=groups)
    expected = ref.float_output(conv, multiplier, bias, residual=residual, residual_activation="relu")
    for threads in (1, 2):
        np.testing.assert_array_equal(Interpreter(model, num_threads=threads).predict([ref.bitpack(x), residual]),
                                      expected)


CASE = CASES[0]


def _small(**kwargs):
    rng = np.random.default_rng(0)
    w = ref.random_signs(rng, (CASE[3], 3, 3, CASE[2]))
    ones = np.ones(CASE[3], np.float32)
    return _residual_model(CASE, w, ones, ones * 0, bconv2d_options(CASE[2]), **kwargs)


def test_residual_of_wrong_type_is_named():
    with pytest.raises(InvalidModelError, match=r"LceBconv2d \(node 0.*residual \(input 5, 'r'\) must be float32"):
        Interpreter(_small(residual_dtype=np.int32))


def test_residual_with_int8_output_is_refused():
    with pytest.raises(InvalidModelError, match=r"LceBconv2d \(node 0.*residual.*needs float32 output.*int8"):
        Interpreter(_small(out_type="int8", quantization=(0.1, 0)))


def test_residual_of_other_shape_is_refused():
    with pytest.raises((InvalidModelError, KernelError), match=r"LceBconv2d.*residual \(input 5\) must have the "
                                                               r"output's shape \[1, 5, 5, 8\]"):
        Interpreter(_small(residual_shape=[1, 5, 5, 1])).predict(
            [np.zeros((1, 7, 7, 1), np.int32), np.zeros((1, 5, 5, 1), np.float32)])


def test_residual_batch_must_follow_the_output_after_resize():
    interpreter = Interpreter(_small())
    x = np.zeros((2, 7, 7, 1), np.int32)
    with pytest.raises((InvalidModelError, KernelError, ValueError), match=r"residual \(input 5\) must have"):
        interpreter.predict([x, np.zeros((3, 5, 5, 8), np.float32)])
    # The interpreter stays usable with matching shapes.
    assert interpreter.predict([x, np.zeros((2, 5, 5, 8), np.float32)]).shape == (2, 5, 5, 8)


def test_residual_activation_without_residual_is_refused():
    rng = np.random.default_rng(0)
    w = ref.random_signs(rng, (4, 3, 3, 32))
    b = ModelBuilder()
    x = b.tensor([1, 5, 5, 1], np.int32, "x")
    options = {**bconv2d_options(32), "residual_activation_function": 1}
    y, _ = add_bconv2d(b, x, [1, 5, 5, 1], w, options, "float", multiplier=np.ones(4), bias=np.zeros(4))
    with pytest.raises(InvalidModelError, match="'residual_activation_function' needs the residual input 5"):
        Interpreter(b.build([x], [y]))
