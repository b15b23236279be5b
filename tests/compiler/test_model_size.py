"""File size of converted models (docs/compiler.md, "Where the bytes go"), outputs still equal to Keras.

The models get random batch-norm statistics, as after training: an untrained model's batch norms
fold into many identical constants, which the writer shares, and would understate the size.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import larq_compute as lc

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from convert_models import binarynet_cifar  # noqa: E402
from model_size import randomize_batch_norms  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize(("build", "limit", "shape"), [
    (lc.zoo.QuickNet, None, (224, 224, 3)),
    (binarynet_cifar, 1.5e6, (32, 32, 3)),
])
def test_converted_size_is_the_parameter_memory_and_outputs_unchanged(build, limit, shape):
    keras.utils.set_random_seed(0)
    model = build()
    randomize_batch_norms(model, np.random.default_rng(0))
    tflite = bytes(lc.convert_keras_model(model))
    # The parameters at their precision (binary kernels at 1 bit, batch norms at 4 floats a
    # channel where the file keeps 2, or 3 with bit-packed output thresholds) bound the file up
    # to 2% of structure (tables, names, alignment).
    parameter_bytes = lc.models.summary(model, print_fn=lambda _: None).memory_bytes
    assert len(tflite) <= 1.02 * parameter_bytes, f"{model.name}: {len(tflite):,} > {parameter_bytes:,.0f}"
    if limit is not None:
        assert len(tflite) <= limit, f"{model.name}: {len(tflite):,} bytes"
    x = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype(np.float32)
    np.testing.assert_allclose(lc.Interpreter(tflite).predict(x), np.asarray(model(x)), atol=1e-4,
                               rtol=1e-3)
    keras.backend.clear_session()
