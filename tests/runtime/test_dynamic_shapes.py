"""Models whose shapes the stock converter computes from tensor values (dynamic-batch Flatten).

The stock converter flattens an unknown batch as ``RESHAPE(x, PACK(SHAPE(x)[0], c...))``: every
shape after it is known only while the model runs. Loading rewrites it to ``RESHAPE(x, [-1, c])``
(``runtime_prepare.make_flatten_shapes_static``); the runner must stay memory-safe at any batch
either way.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema

import larq_compute as lc
from larq_compute import _native
from larq_compute.interpreter import litert_library
from larq_compute.runtime_prepare import (
    _fill_absent_inputs,
    _give_custom_nodes_own_codes,
    make_flatten_shapes_static,
    prepare_model,
    read_model,
    write_model,
)

_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


@pytest.fixture(scope="module")
def flatten_model():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10)(x)
    model = keras.Model(inputs, outputs)
    yield model, tf.lite.TFLiteConverter.from_keras_model(model).convert()
    keras.backend.clear_session()


def _ops(model: schema.ModelT) -> list[str]:
    codes = model.operatorCodes
    return [_NAMES[max(codes[op.opcodeIndex].builtinCode, codes[op.opcodeIndex].deprecatedBuiltinCode)]
            for op in model.subgraphs[0].operators]


def test_stock_flatten_becomes_a_constant_shape_reshape(flatten_model):
    _, stock = flatten_model
    model = read_model(stock)
    before = _ops(model)
    assert before == ["SHAPE", "STRIDED_SLICE", "PACK", "CONV_2D", "RESHAPE", "FULLY_CONNECTED"] or (
        {"SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"} <= set(before)), before
    assert make_flatten_shapes_static(model) == 1
    after = _ops(model)
    assert not {"SHAPE", "STRIDED_SLICE", "PACK"} & set(after), after
    subgraph = model.subgraphs[0]
    reshape = next(op for op, name in zip(subgraph.operators, after) if name == "RESHAPE")
    shape = subgraph.tensors[reshape.inputs[1]]
    data = np.frombuffer(bytes(model.buffers[shape.buffer].data), dtype="<i4")
    assert data.tolist() == [-1, 6 * 6 * 4]
    assert make_flatten_shapes_static(model) == 0  # nothing left to rewrite


def test_shape_op_with_another_consumer_stays(flatten_model):
    _, stock = flatten_model
    model = read_model(stock)
    subgraph = model.subgraphs[0]
    shape_op = next(op for op, name in zip(subgraph.operators, _ops(model)) if name == "SHAPE")
    subgraph.outputs = [*subgraph.outputs, shape_op.outputs[0]]  # the shape is read elsewhere too
    assert make_flatten_shapes_static(model) == 1
    after = _ops(model)
    assert "SHAPE" in after and not {"STRIDED_SLICE", "PACK"} & set(after), after


def test_flatten_model_equals_keras_at_growing_and_shrinking_batches(flatten_model):
    keras_model, stock = flatten_model
    interpreter = lc.Interpreter(stock, num_threads=2)
    rng = np.random.default_rng(0)
    for batch in [1, 100, 300, 1000, 7, 513, 1, 1000]:
        x = rng.standard_normal((batch, 6, 6, 2)).astype(np.float32)
        got = interpreter.predict(x)
        assert got.shape == (batch, 10)
        np.testing.assert_allclose(got, np.asarray(keras_model(x)), atol=1e-4, rtol=1e-5)


def _prepared_without_static_shapes(stock: bytes) -> bytes:
    model = read_model(stock)
    _fill_absent_inputs(model)
    _give_custom_nodes_own_codes(model)
    return write_model(model)


def test_runner_refuses_to_resize_a_model_with_value_dependent_output_shapes(flatten_model):
    """Without the rewrite, output sizes are known only while running: the runner refuses other
    batches before running (never writing past a buffer) and stays right at the load batch."""
    keras_model, stock = flatten_model
    runner = _native.ModelRunner(_prepared_without_static_shapes(stock), 1, litert_library())
    rng = np.random.default_rng(1)
    for batch in [100, 1000, 2, 1, 128, 1]:
        x = rng.standard_normal((batch, 6, 6, 2)).astype(np.float32)
        if batch != 1:
            with pytest.raises(_native.RuntimeFailure, match="computed from tensor values"):
                runner.resize_input(0, list(x.shape))
            continue
        runner.set_input(0, x)
        runner.invoke()
        (details,) = runner.output_details()
        assert list(details["shape"]) == [1, 10]
        got = np.frombuffer(runner.get_output(0), dtype=np.float32).reshape(1, 10)
        np.testing.assert_allclose(got, np.asarray(keras_model(x)), atol=1e-4, rtol=1e-5)


def test_static_flatten_model_resizes_freely_on_the_native_runner(flatten_model):
    _, stock = flatten_model
    runner = _native.ModelRunner(prepare_model(stock), 1, litert_library())
    for batch in [1000, 3, 300]:
        runner.resize_input(0, [batch, 6, 6, 2])
        runner.set_input(0, np.ones((batch, 6, 6, 2), np.float32))
        runner.invoke()
        assert list(runner.output_details()[0]["shape"]) == [batch, 10]
