"""Property: hypothesis builds random small BNNs; every one converts and matches Keras (slow)."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import larq_compute as lc
from larq_compute import layers as lq

from .models import BINARY, FakeQuant, batch_norm
from .numpy_eval import evaluate

conv_block = st.fixed_dictionaries({
    "filters": st.sampled_from([8, 32, 40, 64]),
    "kernel": st.integers(1, 3),
    "stride": st.integers(1, 2),
    "padding": st.sampled_from(["same", "valid", "one"]),
    "bn": st.booleans(),
    "relu": st.booleans(),
    "residual": st.booleans(),  # y + block input, where the shapes agree (fuse_residual_add)
    "pool": st.sampled_from([None, (2, 2, "valid"), (3, 2, "same"), (2, 1, "same")]),
})


def _build(blocks, dense_units, seed, fake_quant_ranges=None):
    """A random BNN; with ``fake_quant_ranges`` (one per block plus two), fake-quant at the
    input, after each block and at the output."""
    keras.utils.set_random_seed(seed)
    ranges = iter(fake_quant_ranges or [])

    def fake_quant(y):
        if fake_quant_ranges is None:
            return y
        r = next(ranges)
        return FakeQuant(-r, r)(y)

    x = keras.Input((9, 9, 3))
    y = fake_quant(x)
    for block in blocks:
        block_input = y
        padding = "same" if block["padding"] == "one" else block["padding"]
        if padding == "valid" and y.shape[1] < block["kernel"]:
            padding = "same"
        y = lq.QuantConv2D(block["filters"], block["kernel"], strides=block["stride"], padding=padding,
                           pad_values=1.0 if block["padding"] == "one" else 0.0, **BINARY)(y)
        if block["bn"]:
            y = batch_norm()(y)
        if block["residual"] and y.shape == block_input.shape:
            y = keras.layers.Add()([y, block_input])
        if block["relu"]:
            y = keras.layers.ReLU()(y)
        if block["pool"] is not None and y.shape[1] >= block["pool"][0]:
            size, stride, pool_padding = block["pool"]
            y = keras.layers.MaxPool2D(size, stride, padding=pool_padding)(y)
            if block["bn"]:
                y = batch_norm(negative_gammas=False)(y)
        y = fake_quant(y)
    if dense_units:
        y = keras.layers.Flatten()(y)
        y = lq.QuantDense(dense_units, **BINARY)(y)
        y = fake_quant(batch_norm()(y))
    return keras.Model(x, y)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(conv_block, min_size=1, max_size=4), dense_units=st.sampled_from([0, 5, 33]),
       seed=st.integers(0, 2**16))
def test_random_bnn_converts_and_matches_keras(blocks, dense_units, seed):
    model = _build(blocks, dense_units, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        converted = lc.convert_keras_model(model)
    ops = [op.type for op in converted.ir.main.ops]
    assert "SIGN" not in ops
    assert ops.count("LceBconv2d") == len(blocks) and ops.count("LceBFullyConnected") == int(bool(dense_units))
    x = np.random.default_rng(seed).standard_normal((2, 9, 9, 3)).astype(np.float32)
    expected = np.asarray(model(x))
    np.testing.assert_allclose(evaluate(converted.ir.main, x)[0], expected, atol=1e-3, rtol=1e-4)
    np.testing.assert_allclose(lc.Interpreter(converted).predict(x), expected, atol=1e-3, rtol=1e-4)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(conv_block, min_size=1, max_size=3), dense_units=st.sampled_from([0, 5]),
       ranges=st.lists(st.floats(1.0, 20.0), min_size=5, max_size=5), seed=st.integers(0, 2**16))
def test_random_fake_quant_bnn_with_int8_io_matches_keras(blocks, dense_units, ranges, seed):
    """Fake-quant after the input and every block: int8 I/O, one output step from Keras."""
    model = _build(blocks, dense_units, seed, fake_quant_ranges=ranges)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        converted = lc.convert_keras_model(model, inference_input_type=tf.int8, inference_output_type=tf.int8)
    ops = [op.type for op in converted.ir.main.ops]
    assert ops.count("LceBconv2d") == len(blocks) and ops.count("LceBFullyConnected") == int(bool(dense_units))
    interpreter = lc.Interpreter(converted)
    inputs, outputs = interpreter.input_details[0], interpreter.output_details[0]
    assert inputs["dtype"] == outputs["dtype"] == np.int8
    (in_scale, in_zero), (out_scale, out_zero) = inputs["quantization"], outputs["quantization"]
    # Inputs on the input grid: no tie to round differently before the first block.
    q = np.random.default_rng(seed).integers(-128, 128, (2, 9, 9, 3)).astype(np.int8)
    x = ((q.astype(np.float32) - in_zero) * in_scale).astype(np.float32)
    expected = np.asarray(model(x))
    got = (interpreter.predict(q).astype(np.float32) - out_zero) * out_scale
    assert np.abs(got - expected).max() <= out_scale * 1.001


def test_residual_blocks_fuse_and_match_keras():
    """Blocks whose output adds their input (ReLU after the add too): the ADDs become residual inputs."""
    block = {"filters": 32, "kernel": 3, "stride": 1, "padding": "one", "bn": True, "residual": True, "pool": None}
    blocks = [{**block, "relu": False}, {**block, "relu": True}, {**block, "relu": False, "padding": "same"}]
    model = _build(blocks, 0, seed=3)
    converted = lc.convert_keras_model(model)
    ops = converted.ir.main.ops
    # The first block's input has 3 channels (no residual); the other two fuse.
    assert [op.type for op in ops].count("ADD") == 0
    assert [len(op.inputs) for op in ops if op.type == "LceBconv2d"] == [4, 6, 6]
    x = np.random.default_rng(3).standard_normal((2, 9, 9, 3)).astype(np.float32)
    expected = np.asarray(model(x))
    np.testing.assert_allclose(evaluate(converted.ir.main, x)[0], expected, atol=1e-3, rtol=1e-4)
    np.testing.assert_allclose(lc.Interpreter(converted).predict(x), expected, atol=1e-3, rtol=1e-4)
    descriptions = [row.detail for row in converted.report.layers if row.binary]
    assert descriptions[1].endswith("float output + residual, then relu"), descriptions
    assert descriptions[2].endswith("float output + residual"), descriptions
