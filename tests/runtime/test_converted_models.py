"""Models from the compiler's corpus, converted from Keras, run on the runtime and equal Keras.

This covers what hand-built models do not: the stock converter's graph around our ops (shape
computations of Flatten whose output shapes are known only after a run, signatures, float
grouped filters) at several batch sizes.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from compiler import models

import larq_compute as lc


@pytest.fixture(scope="module", params=sorted(models.CORPUS))
def converted(request):
    keras.utils.set_random_seed(11)
    model = models.CORPUS[request.param]()
    yield model, bytes(lc.convert_keras_model(model))
    keras.backend.clear_session()  # later tests see fresh layer names


def test_converted_model_equals_keras_at_several_batch_sizes(converted):
    model, tflite = converted
    interpreter = lc.Interpreter(tflite, num_threads=2)
    rng = np.random.default_rng(5)
    for batch in [3, 1, 4]:
        x = rng.standard_normal((batch, *models.input_shape(model))).astype(np.float32)
        expected = np.asarray(model(x))
        got = interpreter.predict(x)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-5)
