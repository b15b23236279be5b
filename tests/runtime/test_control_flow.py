"""Binary ops inside control-flow subgraphs: the runner registers the custom nodes of every
subgraph (a WHILE body here), not only of the main one, and names the subgraph in errors; the
compiler rewrites and reports binary layers in bodies."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from op_models import add_bconv2d, bconv2d_options
from support import numpy_reference as ref

from larq_compute import Interpreter
from larq_compute.interpreter import InvalidModelError
from larq_compute.runtime_model_builder import ModelBuilder

STEPS = 3
SHAPE = [2, 5, 5, 64]


def _while_model(weights: np.ndarray, multiplier: np.ndarray, bias: np.ndarray,
                 options: dict | None = None) -> bytes:
    """main: ``WHILE(i < STEPS)`` over (i, x); body: ``x = LceBconv2d(LceQuantize(x))`` (3x3,
    one-padded SAME, float output), ``i = i + 1``."""
    b = ModelBuilder()
    x = b.tensor(SHAPE, np.float32, "x")
    start = b.tensor([], np.int32, "start", data=np.int32(0))
    steps, y = b.tensor([], np.int32, "steps"), b.tensor(SHAPE, np.float32, "y")
    loop = schema.WhileOptionsT()
    loop.condSubgraphIndex, loop.bodySubgraphIndex = 1, 2
    b.builtin_op(schema.BuiltinOperator.WHILE, [start, x], [steps, y],
                 schema.BuiltinOptions.WhileOptions, loop)
    b.next_subgraph([x], [y])

    i, value = b.tensor([], np.int32, "i"), b.tensor(SHAPE, np.float32, "value")
    limit = b.tensor([], np.int32, "limit", data=np.int32(STEPS))
    more = b.tensor([], np.bool_, "more")
    b.builtin_op(schema.BuiltinOperator.LESS, [i, limit], [more])
    b.next_subgraph([i, value], [more])

    i, value = b.tensor([], np.int32, "i"), b.tensor(SHAPE, np.float32, "value")
    one, next_i = b.tensor([], np.int32, "one", data=np.int32(1)), b.tensor([], np.int32, "next_i")
    b.builtin_op(schema.BuiltinOperator.ADD, [i, one], [next_i], schema.BuiltinOptions.AddOptions,
                 schema.AddOptionsT())
    packed_shape = [*SHAPE[:3], ref.packed_size(SHAPE[3])]
    packed = b.tensor(packed_shape, np.int32, "packed")
    b.custom_op("LceQuantize", [value], [packed])
    options = options or bconv2d_options(SHAPE[3], padding="same", pad_value=1)
    next_value, _ = add_bconv2d(b, packed, packed_shape, weights, options, "float", multiplier, bias,
                                name="body_conv")
    return b.build([i, value], [next_i, next_value])


def _reference(x: np.ndarray, weights, multiplier, bias) -> np.ndarray:
    for _ in range(STEPS):
        signs = np.where(x < 0, -1.0, 1.0)
        conv = ref.conv2d_float(signs, weights, padding="same", pad_value=1.0)
        x = ref.float_output(conv, multiplier, bias)
    return x


@pytest.fixture(scope="module")
def constants():
    rng = np.random.default_rng(4)
    weights = ref.random_signs(rng, (SHAPE[3], 3, 3, SHAPE[3]))
    multiplier = rng.uniform(0.01, 0.03, SHAPE[3]).astype(np.float32)
    bias = rng.uniform(-1, 1, SHAPE[3]).astype(np.float32)
    return weights, multiplier, bias


@pytest.mark.parametrize("threads", [1, 2])
def test_binary_conv_in_a_while_body_equals_the_reference(constants, threads):
    interpreter = Interpreter(_while_model(*constants), num_threads=threads)
    x = np.random.default_rng(5).standard_normal(SHAPE).astype(np.float32)
    for _ in range(2):  # the body's kernel objects are reused by a second invoke
        np.testing.assert_allclose(interpreter.predict(x), _reference(x, *constants), rtol=1e-5,
                                   atol=1e-5)
    # Body nodes run inside the WHILE node: the profile lists the main subgraph's node ranges.
    assert [(t["name"], t["first_node"]) for t in interpreter.op_timings()] == [("", 0)]


def test_bad_options_in_a_body_name_the_subgraph(constants):
    options = bconv2d_options(SHAPE[3], padding="same", pad_value=1)
    options["pad_values"] = 7
    with pytest.raises(InvalidModelError, match=r"LceBconv2d \(subgraph 2, node \d+.*pad_values"):
        Interpreter(_while_model(*constants, options=options))


def test_converted_keras_loop_with_a_binary_conv_equals_keras():
    """A layer applying a binary conv in ``keras.ops.fori_loop``: the stock converter emits a
    WHILE whose body the compiler rewrites to LceQuantize + LceBconv2d, and the runtime runs it."""
    import keras

    import larq_compute as lc

    class RepeatedBinaryConv(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = lc.layers.QuantConv2D(
                32, 3, padding="same", pad_values=1.0, input_quantizer="ste_sign",
                kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)

        def build(self, input_shape):
            self.conv.build(input_shape)

        def call(self, x):
            return keras.ops.fori_loop(0, STEPS, lambda i, y: 0.05 * self.conv(y) + y, x)

    keras.utils.set_random_seed(1)
    inputs = keras.Input((6, 6, 32))
    model = keras.Model(inputs, RepeatedBinaryConv(name="loop")(inputs))
    converted = lc.convert_keras_model(model)
    assert [row.op for row in converted.report.binary_layers] == ["LceBconv2d"]  # the body's
    x = np.random.default_rng(0).standard_normal((3, 6, 6, 32)).astype(np.float32)
    np.testing.assert_allclose(Interpreter(bytes(converted)).predict(x), np.asarray(model(x)),
                               atol=1e-5, rtol=1e-5)
    keras.backend.clear_session()


def test_binary_ops_in_an_if_branch():
    """``IF(flag, x)``: the then-branch binarizes with LceQuantize + LceDequantize, the else-branch
    negates (a builtin); both branches as numpy says."""
    b = ModelBuilder()
    flag, x = b.tensor([], np.bool_, "flag"), b.tensor([2, 40], np.float32, "x")
    y = b.tensor([2, 40], np.float32, "y")
    branches = schema.IfOptionsT()
    branches.thenSubgraphIndex, branches.elseSubgraphIndex = 1, 2
    b.builtin_op(schema.BuiltinOperator.IF, [flag, x], [y], schema.BuiltinOptions.IfOptions,
                 branches)
    b.next_subgraph([flag, x], [y])
    value = b.tensor([2, 40], np.float32, "value")
    packed, signs = b.tensor([2, 2], np.int32, "packed"), b.tensor([2, 40], np.float32, "signs")
    b.custom_op("LceQuantize", [value], [packed])
    b.custom_op("LceDequantize", [packed], [signs])
    b.next_subgraph([value], [signs])
    value, negated = b.tensor([2, 40], np.float32, "value"), b.tensor([2, 40], np.float32, "negated")
    b.builtin_op(schema.BuiltinOperator.NEG, [value], [negated])
    interpreter = Interpreter(b.build([value], [negated]))
    x = np.random.default_rng(6).standard_normal((2, 40)).astype(np.float32)
    x[0, :3] = 0.0  # LceQuantize maps 0 to +1
    for flag_value, expected in ((True, np.where(x < 0, -1.0, 1.0)), (False, -x), (True, None)):
        got = interpreter.predict([np.array(flag_value), x])
        np.testing.assert_array_equal(got, np.where(x < 0, -1.0, 1.0) if expected is None else expected)
