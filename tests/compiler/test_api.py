"""convert_keras_model / convert_saved_model arguments and bad input."""

import keras
import numpy as np
import pytest

import larq_compute as lc

from . import models


def test_saved_model_converts_like_the_keras_model(tmp_path):
    keras.utils.set_random_seed(5)
    model = models.subclassed_model()
    model.export(str(tmp_path / "saved"), verbose=False)
    converted = lc.convert_saved_model(tmp_path / "saved")
    assert [row.op for row in converted.report.binary_layers] == ["LceBconv2d", "LceBFullyConnected"]
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 5)).astype(np.float32)
    np.testing.assert_allclose(lc.Interpreter(converted).predict(x), np.asarray(model(x)), atol=1e-3)


def test_not_a_keras_model():
    with pytest.raises(TypeError, match="expected a keras.Model, got function"):
        lc.convert_keras_model(lambda x: x)


def test_mixed_precision_names_the_layer():
    layer = keras.layers.Dense(3, dtype="mixed_float16", name="half_dense")
    model = keras.Sequential([keras.Input((4,)), layer])
    with pytest.raises(ValueError, match="layer 'half_dense' computes in float16"):
        lc.convert_keras_model(model)


def test_missing_saved_model_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="SavedModel directory not found"):
        lc.convert_saved_model(tmp_path / "missing")
