"""End to end: Keras BNN → convert_keras_model → outputs equal the Keras model's.

Converted graphs run in the numpy evaluator (binary ops from docs/op-format.md) and in
larq_compute.Interpreter (LiteRT with the native kernels).
"""

import warnings

import keras
import numpy as np
import pytest

import larq_compute as lc

from . import models
from .numpy_eval import evaluate

RNG = np.random.default_rng(3)


@pytest.fixture(scope="module", params=sorted(models.CORPUS))
def converted(request):
    keras.utils.set_random_seed(11)
    model = models.CORPUS[request.param]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every layer of the corpus must convert without warning
        result = lc.convert_keras_model(model)
    return model, result


def test_outputs_equal_keras(converted):
    model, result = converted
    x = RNG.standard_normal((3, *models.input_shape(model))).astype(np.float32)
    x[0, 0, 0, :] = 0.0
    expected = np.asarray(model(x))
    got = evaluate(result.ir.main, x)[0]
    np.testing.assert_allclose(got, expected, atol=1e-3, rtol=1e-4)


def test_runtime_outputs_equal_keras(converted):
    """The same through the native runtime (LiteRT with our kernels), batch resized to 3."""
    model, result = converted
    x = RNG.standard_normal((3, *models.input_shape(model))).astype(np.float32)
    expected = np.asarray(model(x))
    np.testing.assert_allclose(lc.Interpreter(result).predict(x), expected, atol=1e-3, rtol=1e-4)


def test_every_binary_layer_is_one_binary_op(converted):
    model, result = converted
    binary_layers = [
        layer.name for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, lc.layers.QuantConv2D | lc.layers.QuantDense)
    ]
    ops = [op.type for op in result.ir.main.ops]
    assert "SIGN" not in ops
    assert ops.count("LceBconv2d") + ops.count("LceBFullyConnected") == len(binary_layers)
    assert sorted(r.layer for r in result.report.layers if r.op in ("LceBconv2d", "LceBFullyConnected")) == sorted(binary_layers)
    # one LceQuantize per binary layer, unless its input arrives bit-packed
    packed_inputs = sum(
        1 for op in result.ir.main.ops if op.type in ("LceBconv2d", "LceBFullyConnected")
        and op.inputs[0].producer is not None and op.inputs[0].producer.type != "LceQuantize"
    )
    assert ops.count("LceQuantize") == len(binary_layers) - packed_inputs


def test_report_lists_sizes(converted):
    _, result = converted
    text = str(result.report)
    assert "binary layers" in text and "kB" in text or "MB" in text
    assert result.report.converted_bytes == len(result) < result.report.float_bytes
