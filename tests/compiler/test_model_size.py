"""File-size targets of docs/compiler.md ("Where the bytes go"), with outputs still equal to Keras."""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import larq_compute as lc

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from convert_models import binarynet_cifar  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize(("build", "limit", "shape"), [
    (lc.zoo.QuickNet, 4.35e6, (224, 224, 3)),
    (binarynet_cifar, 1.5e6, (32, 32, 3)),
])
def test_converted_size_within_target_and_outputs_unchanged(build, limit, shape):
    keras.utils.set_random_seed(0)
    model = build()
    tflite = bytes(lc.convert_keras_model(model))
    assert len(tflite) <= limit, f"{model.name}: {len(tflite):,} bytes"
    x = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype(np.float32)
    np.testing.assert_allclose(lc.Interpreter(tflite).predict(x), np.asarray(model(x)), atol=1e-4,
                               rtol=1e-3)
    keras.backend.clear_session()
