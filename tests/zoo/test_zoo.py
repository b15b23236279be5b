"""The zoo: every architecture builds, runs, matches its published size, and saves/loads."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from larq_compute import layers, zoo
from larq_compute.zoo.meliusnet import AddToLastChannels

# Smallest convenient input per model: the AlexNet family needs room for its large kernels and
# three valid 3x3/2 poolings; XNOR-Net's 6x6 valid conv needs at least 217 pixels.
SMALL_INPUT = {"XNORNet": 224, "BinaryAlexNet": 64, "DoReFaNet": 64}

# Published parameter counts (Larq Zoo documentation) and how they were counted there: older
# entries count every Keras weight; QuickNet and MeliusNet entries leave out the moving
# mean/variance of batch norms that have a learned scale or offset.
PUBLISHED_PARAMETERS = {
    "QuickNetSmall": (12_655_688, "without_bn_statistics"),
    "QuickNet": (13_234_088, "without_bn_statistics"),
    "QuickNetLarge": (23_342_248, "without_bn_statistics"),
    "BiRealNet": (11_699_112, "all"),
    "BinaryResNetE18": (11_699_368, "all"),
    "BinaryDenseNet28": (5_150_504, "all"),
    "BinaryDenseNet37": (8_734_120, "all"),
    "BinaryDenseNet45": (13_939_240, "all"),
    "MeliusNet22": (6_944_584, "without_bn_statistics"),
    "RealToBinaryNet": (11_995_624, "all"),
    "XNORNet": (62_396_768, "all"),
    "BinaryAlexNet": (61_859_192, "all"),
    "DoReFaNet": (62_403_912, "all"),
}

# Channels of the last feature map (include_top=False), as named by the published models.
FEATURE_CHANNELS = {
    "QuickNetSmall": 512, "QuickNet": 512, "QuickNetLarge": 512, "BiRealNet": 512,
    "BinaryResNetE18": 512, "BinaryDenseNet28": 576, "BinaryDenseNet37": 640,
    "BinaryDenseNet45": 800, "MeliusNet22": 512, "RealToBinaryNet": 512, "XNORNet": 4096,
    "BinaryAlexNet": 256, "DoReFaNet": 256,
}  # fmt: skip

# Binary (1-bit input and 1-bit kernel) convolution/dense layers per model at 224x224.
BINARY_LAYERS = {
    "QuickNetSmall": 16, "QuickNet": 16, "QuickNetLarge": 32, "BiRealNet": 16,
    "BinaryResNetE18": 16, "BinaryDenseNet28": 23, "BinaryDenseNet37": 32,
    "BinaryDenseNet45": 40, "MeliusNet22": 34, "RealToBinaryNet": 16, "XNORNet": 6,
    "BinaryAlexNet": 7, "DoReFaNet": 0,
}  # fmt: skip


def _parameter_count(model: keras.Model, convention: str) -> int:
    total = model.count_params()
    if convention == "all":
        return total
    statistics = sum(
        2 * layer.moving_mean.shape[0]
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization) and (layer.scale or layer.center)
    )
    return total - statistics


def _binary_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [
        layer
        for layer in model.layers
        if isinstance(layer, layers.QuantConv2D | layers.QuantDense)
        and layer.input_precision == 1
        and getattr(layer.kernel, "precision", 32) == 1
    ]


def test_models_lists_every_architecture():
    assert set(zoo.MODELS) == set(PUBLISHED_PARAMETERS)
    assert all(name in zoo.__all__ for name in zoo.MODELS)


@pytest.mark.parametrize("name", sorted(zoo.MODELS))
def test_builds_and_runs_at_a_small_input(name):
    size = SMALL_INPUT.get(name, 32)
    model = zoo.MODELS[name](input_shape=(size, size, 3), num_classes=7)
    images = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    probabilities = keras.ops.convert_to_numpy(model(images, training=False))
    assert probabilities.shape == (2, 7)
    assert np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

    features = zoo.MODELS[name](input_shape=(size, size, 3), include_top=False)
    assert features.output.shape[-1] == FEATURE_CHANNELS[name]
    assert len(features.output.shape) == 4


# Building at 224x224 takes seconds per model; the rest of the zoo is checked in the slow suite.
FAST_PARAMETER_CHECKS = {"QuickNetSmall", "QuickNet", "BiRealNet", "BinaryDenseNet28", "MeliusNet22"}


@pytest.mark.parametrize(
    "name",
    [
        name if name in FAST_PARAMETER_CHECKS else pytest.param(name, marks=pytest.mark.slow)
        for name in sorted(zoo.MODELS)
    ],
)
def test_parameter_count_matches_published_architecture(name):
    model = zoo.MODELS[name]()
    assert model.input.shape[1:] == (224, 224, 3)
    published, convention = PUBLISHED_PARAMETERS[name]
    assert _parameter_count(model, convention) == published
    assert len(_binary_layers(model)) == BINARY_LAYERS[name]


def test_num_classes_changes_only_the_classifier():
    small = zoo.QuickNetSmall(input_shape=(32, 32, 3), num_classes=10)
    large = zoo.QuickNetSmall(input_shape=(32, 32, 3), num_classes=1000)
    # Dense 512 -> classes with bias.
    assert large.count_params() - small.count_params() == (512 + 1) * (1000 - 10)


def test_local_weights_round_trip(tmp_path):
    model = zoo.QuickNetSmall(input_shape=(32, 32, 3), num_classes=5)
    images = np.random.default_rng(1).uniform(-1, 1, (3, 32, 32, 3)).astype("float32")
    path = tmp_path / "quicknet_small.weights.h5"
    model.save_weights(path)
    restored = zoo.QuickNetSmall(input_shape=(32, 32, 3), num_classes=5, weights=path)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(images, training=False)),
        keras.ops.convert_to_numpy(restored(images, training=False)),
    )


def test_saved_model_file_reloads(tmp_path):
    """A whole zoo model, with its fixed blur-pool initializer, survives ``model.save``."""
    model = zoo.QuickNetSmall(input_shape=(32, 32, 3), num_classes=4)
    _assert_reloads_identically(model, tmp_path / "quicknet_small.keras", input_shape=(2, 32, 32, 3))


def test_custom_zoo_pieces_reload(tmp_path):
    """MeliusNet's channel merge and the XNOR-Net and DoReFa-Net weight quantizers serialize."""
    from larq_compute.zoo.dorefanet import magnitude_aware_sign_unclipped
    from larq_compute.zoo.xnornet import xnor_weight_scale

    inputs = keras.Input((8, 8, 3))
    x = layers.QuantConv2D(
        8, 3, input_quantizer="ste_sign", kernel_quantizer=xnor_weight_scale,
        kernel_constraint="weight_clip",
    )(inputs)  # fmt: skip
    y = layers.QuantConv2D(
        4, 1, kernel_quantizer=magnitude_aware_sign_unclipped, kernel_constraint="weight_clip"
    )(x)
    model = keras.Model(inputs, AddToLastChannels()([x, y]))
    _assert_reloads_identically(model, tmp_path / "pieces.keras", input_shape=(2, 8, 8, 3))


def _assert_reloads_identically(model, path, input_shape):
    images = np.random.default_rng(2).uniform(-1, 1, input_shape).astype("float32")
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(images, training=False)),
        keras.ops.convert_to_numpy(reloaded(images, training=False)),
    )


def test_add_to_last_channels_against_numpy():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 3, 96)).astype("float32")
    y = rng.normal(size=(2, 3, 3, 64)).astype("float32")
    expected = x.copy()
    expected[..., 32:] += y
    out = keras.ops.convert_to_numpy(AddToLastChannels()([x, y]))
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="cannot add 64 channels to a tensor of 32"):
        AddToLastChannels()([x[..., :32], y])


def test_blur_pool_transition_is_fixed():
    model = zoo.QuickNet(input_shape=(32, 32, 3))
    blurs = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.DepthwiseConv2D) and not layer.trainable
    ]
    assert len(blurs) == 3  # one per section that changes the channel count
    kernel = keras.ops.convert_to_numpy(blurs[0].kernel)
    np.testing.assert_allclose(kernel[:, :, 0, 0], np.outer([1, 2, 1], [1, 2, 1]) / 16)
    assert np.all(kernel == kernel[:, :, :1, :])


def test_xnor_weight_scale_is_per_output_channel():
    from larq_compute.zoo.xnornet import xnor_weight_scale

    w = np.random.default_rng(4).uniform(-1.5, 1.5, (3, 3, 8, 5)).astype("float32")
    clipped = np.clip(w, -1, 1)
    expected = np.abs(clipped).mean(axis=(0, 1, 2)) * np.where(clipped < 0, -1.0, 1.0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(xnor_weight_scale(w)), expected, rtol=1e-6
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"weights": "imagenet"}, ValueError, "never downloads"),
        ({"weights": "/nonexistent/quicknet.weights.h5"}, FileNotFoundError, "does not exist"),
        ({"input_shape": (32, 32)}, ValueError, r"\(height, width, channels\)"),
        ({"input_shape": (32, 0, 3)}, ValueError, "positive integers"),
        ({"input_shape": (32, 32, None)}, ValueError, "channels must be known"),
        ({"num_classes": 0}, ValueError, "num_classes must be a positive integer"),
    ],
)
def test_bad_arguments_are_reported(kwargs, error, message):
    with pytest.raises(error, match=message):
        zoo.QuickNetSmall(**kwargs)


def test_xnornet_rejects_too_small_input():
    with pytest.raises(ValueError, match="at least 217x217"):
        zoo.XNORNet(input_shape=(128, 128, 3))


def test_dorefa_weight_quantizer_has_one_scale_and_identity_gradient():
    import tensorflow as tf

    from larq_compute.zoo.dorefanet import magnitude_aware_sign_unclipped

    w = tf.Variable(np.random.default_rng(5).normal(size=(3, 3, 4, 6)).astype("float32"))
    with tf.GradientTape() as tape:
        q = magnitude_aware_sign_unclipped(w)
        loss = tf.reduce_sum(q * np.arange(q.shape[-1], dtype="float32"))
    expected = np.abs(w.numpy()).mean() * np.where(w.numpy() < 0, -1.0, 1.0)
    np.testing.assert_allclose(q.numpy(), expected, rtol=1e-6)
    gradient = tape.gradient(loss, w).numpy()
    np.testing.assert_array_equal(gradient, np.broadcast_to(np.arange(6.0), w.shape))
