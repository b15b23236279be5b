"""Zoo models convert to the expected binary op mix and the converted model matches Keras."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import larq_compute as lc
from larq_compute import layers, zoo
from larq_compute.compiler import import_model

# (input size, models) per suite: the two below in the fast suite, the rest in the slow one.
FAST = {"QuickNetSmall", "BiRealNet"}
INPUT_SIZE = {"XNORNet": 224, "BinaryAlexNet": 64, "DoReFaNet": 64}


def _binary_layers(model: keras.Model, layer_type: type) -> int:
    return sum(
        1
        for layer in model.layers
        if isinstance(layer, layer_type)
        and layer.input_precision == 1
        and getattr(layer.kernel, "precision", 32) == 1
    )


def _randomize_batch_norms(model: keras.Model, rng: np.random.Generator) -> None:
    """Give every batch norm non-trivial statistics, as a trained model would have."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            values = []
            for weight in layer.weights:
                shape = weight.shape
                if "moving_variance" in weight.path:
                    values.append(rng.uniform(0.5, 2.0, shape))
                elif "gamma" in weight.path:
                    values.append(rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape))
                else:  # beta, moving_mean
                    values.append(rng.normal(0, 0.5, shape))
            layer.set_weights([v.astype("float32") for v in values])


def _marks(name: str) -> list:
    return [] if name in FAST else [pytest.mark.slow]


@pytest.mark.parametrize("name", [pytest.param(name, marks=_marks(name)) for name in sorted(zoo.MODELS)])
def test_converts_to_binary_ops_and_matches_keras(name):
    size = INPUT_SIZE.get(name, 32)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    model = zoo.MODELS[name](input_shape=(size, size, 3), num_classes=10)
    _randomize_batch_norms(model, rng)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        converted = lc.convert_keras_model(model)
    # The converter may warn only about quantized layers whose input is not binary (a binary
    # kernel on the float image, 2-bit activations); a binary layer left float is a failure.
    float_input_layers = {
        layer.name
        for layer in model.layers
        if isinstance(layer, layers.QuantConv2D | layers.QuantDense) and layer.input_precision != 1
    }
    for warning in caught:
        message = str(warning.message)
        assert "input is not binarized" in message, message
        assert message.split("'")[1] in float_input_layers, message
    ops = [op.type for op in import_model(bytes(converted)).main.ops]
    assert ops.count("LceBconv2d") == _binary_layers(model, layers.QuantConv2D)
    assert ops.count("LceBFullyConnected") == _binary_layers(model, layers.QuantDense)
    if name != "DoReFaNet":  # 2-bit activations: no binary quantizer to recognise
        assert "SIGN" not in ops
    if name.startswith("QuickNet"):
        # Every residual block's h + bconv(quantize(h)) is the conv's residual input: no float ADD
        # reads a binary conv's output.
        graph = import_model(bytes(converted)).main
        blocks = sum(isinstance(layer, keras.layers.Add) for layer in model.layers)
        assert sum(op.type == "LceBconv2d" and len(op.inputs) == 6 for op in graph.ops) == blocks
        assert not any(op.type == "ADD" and any(t.producer is not None and t.producer.type == "LceBconv2d"
                                                for t in op.inputs) for op in graph.ops)

    images = rng.uniform(-1, 1, (4, size, size, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(images, training=False))
    assert np.ptp(expected) > 0.05  # far from uniform, so the comparison means something
    actual = lc.Interpreter(model_content=bytes(converted)).predict(images)
    np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-5)


@pytest.mark.slow
def test_binary_alexnet_dense_layers_convert_at_full_size():
    model = zoo.BinaryAlexNet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = lc.convert_keras_model(model)
    ops = [op.type for op in import_model(bytes(converted)).main.ops]
    assert ops.count("LceBFullyConnected") == _binary_layers(model, layers.QuantDense)
