"""``Interpreter.predict`` on models that cannot be resized: output shapes computed from tensor
values while running (a Dense on a 3-D tensor, a Reshape with -1 that is not a plain Flatten).

The runner refuses other input shapes (``test_dynamic_shapes.py``); ``predict`` runs any batch in
pieces of the load batch and must equal the Keras model.
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
    copy_reshaped_outputs,
    prepare_model,
    read_model,
)

_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def _two_input_two_output_model() -> keras.Model:
    """Outputs: the Flatten of a Dense on a 3-D tensor (its shape is computed while running) and a
    Dense head over it and a second input."""
    image = keras.Input((6, 6, 2), name="image")
    extra = keras.Input((5,), name="extra")
    x = keras.layers.Conv2D(4, 3, padding="same")(image)
    x = keras.layers.Reshape((-1, 8))(x)
    x = keras.layers.Dense(3)(x)
    features = keras.layers.Flatten()(keras.layers.ReLU()(x))
    extra_features = keras.layers.Dense(4)(extra)
    logits = keras.layers.Dense(2)(keras.layers.Concatenate()([features, extra_features]))
    return keras.Model([image, extra], [features, logits])


@pytest.fixture(scope="module")
def two_by_two():
    keras.utils.set_random_seed(4)
    model = _two_input_two_output_model()
    yield model, tf.lite.TFLiteConverter.from_keras_model(model).convert()
    keras.backend.clear_session()


def _run(interpreter: lc.Interpreter, model: keras.Model, batch: int, rng) -> None:
    """predict in the interpreter's input order, outputs matched to Keras' by name-free shape."""
    by_rank = {4: rng.standard_normal((batch, 6, 6, 2)), 2: rng.standard_normal((batch, 5))}
    inputs = [by_rank[len(d["shape"])].astype(np.float32) for d in interpreter.input_details]
    got = interpreter.predict(inputs)
    expected = [np.asarray(e) for e in model([by_rank[4], by_rank[2]])]
    assert sorted(g.shape for g in got) == sorted(e.shape for e in expected)
    for e in expected:
        (g,) = [g for g in got if g.shape == e.shape]
        np.testing.assert_allclose(g, e, atol=1e-4, rtol=1e-5)


def test_the_model_cannot_be_resized(two_by_two):
    _, tflite = two_by_two
    runner = _native.ModelRunner(prepare_model(tflite), 1, litert_library())
    assert len(runner.value_dependent_outputs) == 2
    assert runner.load_input_shape(0)[0] == 1
    with pytest.raises(_native.RuntimeFailure, match="computed from tensor values"):
        runner.resize_input(0, [3, *runner.load_input_shape(0)[1:]])


def test_predict_splits_any_batch_into_load_batch_pieces(two_by_two):
    model, tflite = two_by_two
    interpreter = lc.Interpreter(tflite, num_threads=2)
    rng = np.random.default_rng(0)
    for batch in [1, 7, 1, 300, 2]:
        _run(interpreter, model, batch, rng)


def test_fixed_batch_model_runs_other_batches_in_padded_pieces():
    """A model converted with a fixed batch of 2 whose Flatten LiteRT cannot resize: a batch of 5
    runs as 2 + 2 + (1 + 1 padding)."""
    keras.utils.set_random_seed(5)
    image = keras.Input((6, 6, 2), batch_size=2)
    x = keras.layers.Reshape((-1, 8))(keras.layers.Conv2D(4, 3, padding="same")(image))
    model = keras.Model(image, keras.layers.Flatten()(keras.layers.Dense(3)(x)))
    interpreter = lc.Interpreter(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    assert interpreter.input_details[0]["shape_signature"].tolist() == [2, 6, 6, 2]
    with pytest.raises(_native.RuntimeFailure, match="could not compute the output shapes"):
        interpreter._runner.resize_input(0, [5, 6, 6, 2])
    rng = np.random.default_rng(1)
    for batch in [2, 5, 1, 8, 257, 2]:
        x = rng.standard_normal((batch, 6, 6, 2)).astype(np.float32)
        got = interpreter.predict(x)
        assert got.shape == (batch, 54)
        np.testing.assert_allclose(got, np.asarray(model(x)), atol=1e-4, rtol=1e-5)
    keras.backend.clear_session()


def test_inputs_of_different_batches_cannot_be_split(two_by_two):
    _, tflite = two_by_two
    interpreter = lc.Interpreter(tflite)
    inputs = [np.zeros((3 if len(d["shape"]) == 4 else 2, *d["shape"][1:]), np.float32)
              for d in interpreter.input_details]
    with pytest.raises(ValueError, match="cannot run inputs of shapes.*computed from tensor values"):
        interpreter.predict(inputs)
    with pytest.raises(ValueError, match="batch is empty"):
        interpreter.predict([np.zeros((0, *d["shape"][1:]), np.float32)
                             for d in interpreter.input_details])


def test_binary_model_with_value_dependent_shapes_runs_any_batch():
    keras.utils.set_random_seed(6)
    inputs = keras.Input((8, 8, 32))
    x = lc.layers.QuantConv2D(32, 3, padding="same", input_quantizer="ste_sign",
                              kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                              use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Reshape((-1, 64))(x)
    outputs = keras.layers.Dense(3)(x)
    model = keras.Model(inputs, outputs)
    tflite = bytes(lc.convert_keras_model(model))
    interpreter = lc.Interpreter(tflite)
    assert interpreter._runner.value_dependent_outputs
    assert any(name.startswith("LceBconv2d") for name in _custom_ops(tflite))
    rng = np.random.default_rng(2)
    for batch in [1, 6, 33]:
        x = rng.standard_normal((batch, 8, 8, 32)).astype(np.float32)
        np.testing.assert_allclose(interpreter.predict(x), np.asarray(model(x)), atol=1e-3,
                                   rtol=1e-4)
    keras.backend.clear_session()


def _custom_ops(tflite: bytes) -> list[str]:
    return [c.customCode.decode() for c in read_model(tflite).operatorCodes if c.customCode]


def _op_names(model: schema.ModelT) -> list[str]:
    codes = model.operatorCodes
    return [_NAMES[max(codes[op.opcodeIndex].builtinCode, codes[op.opcodeIndex].deprecatedBuiltinCode)]
            for op in model.subgraphs[0].operators]


def test_reshaped_outputs_are_copied_by_a_cast():
    """A model output written by a RESHAPE of a tensor whose shape is computed while running
    stops writing into the output buffer; preparation adds a same-type CAST after it."""
    keras.utils.set_random_seed(8)
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Reshape((-1, 8))(keras.layers.Conv2D(4, 3, padding="same")(inputs))
    model = keras.Model(inputs, keras.layers.Flatten()(keras.layers.Dense(3)(x)))
    stock = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    parsed = read_model(stock)
    before = _op_names(parsed)
    assert before[-1] == "RESHAPE", before
    assert copy_reshaped_outputs(parsed) == 1
    after = _op_names(parsed)
    assert after == [*before, "CAST"], after
    subgraph = parsed.subgraphs[0]
    cast = subgraph.operators[-1]
    assert list(cast.outputs) == list(subgraph.outputs)
    assert subgraph.tensors[cast.inputs[0]].name.endswith(b"/before_copy")
    assert copy_reshaped_outputs(parsed) == 0  # the outputs are a CAST's now

    interpreter = lc.Interpreter(stock)
    rng = np.random.default_rng(3)
    for batch in [1, 1, 5, 1]:  # the second run at one shape is the one that used to fail
        x = rng.standard_normal((batch, 6, 6, 2)).astype(np.float32)
        np.testing.assert_allclose(interpreter.predict(x), np.asarray(model(x)), atol=1e-4,
                                   rtol=1e-5)
    keras.backend.clear_session()
