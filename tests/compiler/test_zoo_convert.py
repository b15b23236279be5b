"""Every zoo architecture converts and, run by larq_compute.Interpreter, matches Keras (slow)."""

import warnings

import keras
import numpy as np
import pytest

import larq_compute as lc

# (architecture, binary layers the converter must find); XNORNet needs 217x217 inputs, too slow here.
ZOO = [
    ("QuickNetSmall", 16),
    ("BiRealNet", 16),
    ("BinaryAlexNet", 7),
    ("BinaryDenseNet28", None),
    ("BinaryResNetE18", None),
    ("RealToBinaryNet", None),
    ("MeliusNet22", None),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, expected_binary", ZOO)
def test_zoo_model_converts_and_matches_keras(name, expected_binary):
    keras.utils.set_random_seed(0)
    model = getattr(lc.zoo, name)(input_shape=(64, 64, 3), num_classes=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        converted = lc.convert_keras_model(model)
    stays_float = [str(w.message) for w in caught if "stays float" in str(w.message)]
    binary = [row for row in converted.report.layers if row.op in ("LceBconv2d", "LceBFullyConnected")]
    if expected_binary is not None:
        assert len(binary) == expected_binary, converted.report
    assert binary and not stays_float, (stays_float, str(converted.report))
    # Batch 1: resizing the batch of models with run-time-shaped RESHAPEs (squeeze-excite blocks)
    # is not supported by the runtime yet.
    x = np.random.default_rng(0).standard_normal((1, 64, 64, 3)).astype(np.float32)
    expected = np.asarray(model(x))
    np.testing.assert_allclose(lc.Interpreter(converted).predict(x), expected, atol=1e-3, rtol=1e-4)
