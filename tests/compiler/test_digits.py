"""A BNN trained briefly on scikit-learn's digits: the converted model predicts what Keras does."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import larq_compute as lc
from larq_compute import layers as lq

from .models import BINARY
from .numpy_eval import evaluate


@pytest.fixture(scope="module")
def digits_model():
    digits = load_digits()
    x = (digits.images[..., None] / 8.0 - 1.0).astype(np.float32)
    y = digits.target
    keras.utils.set_random_seed(4)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        lq.QuantConv2D(32, 3, padding="same", kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False),
        keras.layers.BatchNormalization(),
        lq.QuantConv2D(32, 3, padding="same", pad_values=1.0, **BINARY),
        keras.layers.MaxPool2D(2),
        keras.layers.BatchNormalization(),
        lq.QuantConv2D(64, 3, padding="same", pad_values=1.0, **BINARY),
        keras.layers.BatchNormalization(),
        keras.layers.Flatten(),
        lq.QuantDense(10, **BINARY),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("softmax"),
    ])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=4, batch_size=64, verbose=0)
    return model, x, y


def test_converted_digits_model_matches_keras(digits_model):
    model, x, y = digits_model
    converted = lc.convert_keras_model(model)
    ops = [op.type for op in converted.ir.main.ops]
    assert ops.count("LceBconv2d") == 2 and ops.count("LceBFullyConnected") == 1 and "LceBMaxPool2d" in ops
    expected = model.predict(x, verbose=0)
    got = evaluate(converted.ir.main, x)[0]
    np.testing.assert_allclose(got, expected, atol=1e-3)
    np.testing.assert_allclose(lc.Interpreter(converted).predict(x), expected, atol=1e-3)
    keras_accuracy = np.mean(expected.argmax(1) == y)
    assert keras_accuracy > 0.8  # it learned something, so the comparison is not between noise
    assert np.mean(got.argmax(1) == expected.argmax(1)) > 0.995
