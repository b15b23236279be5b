"""The corpus of Keras BNNs the end-to-end tests convert (built with larq_compute.layers)."""

from __future__ import annotations

import keras
import numpy as np

from larq_compute import layers as lq

BINARY = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)


def batch_norm(negative_gammas: bool = True) -> keras.layers.BatchNormalization:
    """A BN with non-trivial statistics (gammas of both signs unless told otherwise)."""
    gamma = keras.initializers.RandomNormal(0.0, 1.0) if negative_gammas else keras.initializers.RandomUniform(0.5, 1.5)
    return keras.layers.BatchNormalization(
        gamma_initializer=gamma,
        beta_initializer=keras.initializers.RandomNormal(0.0, 0.5),
        moving_mean_initializer=keras.initializers.RandomNormal(0.0, 2.0),
        moving_variance_initializer=keras.initializers.RandomUniform(0.5, 4.0),
    )


def conv_block_model() -> keras.Model:
    """Zero- and one-padded binary convs, stride 2, ReLU after BN, binary Dense head."""
    x = keras.Input((12, 12, 3))
    y = keras.layers.Conv2D(32, 3, padding="same")(x)
    y = batch_norm()(y)
    y = lq.QuantConv2D(40, 3, padding="same", pad_values=1.0, **BINARY)(y)
    y = batch_norm()(y)
    y = lq.QuantConv2D(40, 3, strides=2, padding="same", **BINARY)(y)
    y = batch_norm()(y)
    y = keras.layers.ReLU()(y)
    y = lq.QuantConv2D(64, 3, strides=2, padding="same", pad_values=1.0, **BINARY)(y)
    y = batch_norm()(y)
    y = keras.layers.Flatten()(y)
    y = lq.QuantDense(10, **BINARY)(y)
    y = batch_norm()(y)
    return keras.Model(x, y, name="conv_blocks")


def pooling_model() -> keras.Model:
    """Max-pools between binary convs: float→packed, packed→packed, odd pool/stride, BN after pool."""
    x = keras.Input((15, 15, 8))
    y = lq.QuantConv2D(32, 3, padding="same", pad_values=1.0, **BINARY)(x)
    y = keras.layers.MaxPool2D(3, 2, padding="same")(y)
    y = batch_norm(negative_gammas=False)(y)
    y = lq.QuantConv2D(48, 3, padding="same", pad_values=1.0, **BINARY)(y)
    y = batch_norm()(y)
    y = keras.layers.MaxPool2D(2, 1)(y)
    y = lq.QuantConv2D(48, 2, **BINARY)(y)
    y = keras.layers.MaxPool2D(3, 3, padding="same")(y)
    y = batch_norm()(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    return keras.Model(x, y, name="pooling")


def residual_model() -> keras.Model:
    """Bi-Real-style residual adds, dilation and groups (functional)."""
    x = keras.Input((10, 10, 64))
    shortcut = x
    y = lq.QuantConv2D(64, 3, padding="same", pad_values=1.0, **BINARY)(x)
    y = batch_norm()(y)
    y = keras.layers.Add()([y, shortcut])
    z = lq.QuantConv2D(64, 3, padding="same", dilation_rate=2, **BINARY)(y)
    z = batch_norm()(z)
    y = keras.layers.Add()([y, z])
    z = lq.QuantConv2D(64, 3, padding="valid", dilation_rate=2, **BINARY)(y)
    z = lq.QuantConv2D(64, 1, groups=2, **BINARY)(z)
    z = batch_norm()(z)
    z = lq.QuantConv2D(32, 3, groups=2, padding="same", pad_values=1.0, **BINARY)(z)
    return keras.Model(x, z, name="residual")


def sequential_model() -> keras.Sequential:
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, padding="same", use_bias=False),
            batch_norm(),
            lq.QuantConv2D(32, 3, padding="same", pad_values=1.0, **BINARY),
            keras.layers.MaxPool2D(2),
            batch_norm(negative_gammas=False),
            lq.QuantConv2D(32, 3, padding="same", pad_values=1.0, **BINARY),
            batch_norm(),
            keras.layers.Flatten(),
            lq.QuantDense(64, **BINARY),
            batch_norm(),
            lq.QuantDense(10, **BINARY),
            keras.layers.Activation("softmax"),
        ],
        name="sequential",
    )


class SubclassedModel(keras.Model):
    def __init__(self) -> None:
        super().__init__(name="subclassed")
        self.conv = lq.QuantConv2D(16, 3, padding="same", pad_values=1.0, **BINARY)
        self.bn = batch_norm()
        self.flatten = keras.layers.Flatten()
        self.dense = lq.QuantDense(4, **BINARY)

    def call(self, x):
        return self.dense(self.flatten(self.bn(self.conv(x))))


def subclassed_model() -> keras.Model:
    model = SubclassedModel()
    model(np.zeros((1, 6, 6, 5), np.float32))
    return model


CORPUS = {
    "conv_blocks": conv_block_model,
    "pooling": pooling_model,
    "residual": residual_model,
    "sequential": sequential_model,
    "subclassed": subclassed_model,
}


def input_shape(model: keras.Model) -> tuple[int, ...]:
    if isinstance(model, SubclassedModel):
        return (6, 6, 5)
    return tuple(model.inputs[0].shape[1:])


@keras.saving.register_keras_serializable("larq_compute_tests")
class FakeQuant(keras.layers.Layer):
    """8-bit fake quantization to a fixed range, as int8-aware training inserts it."""

    def __init__(self, low: float, high: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.low, self.high = low, high

    def call(self, x):
        return keras.quantizers.fake_quant_with_min_max_vars(x, self.low, self.high)

    def get_config(self) -> dict:
        return {**super().get_config(), "low": self.low, "high": self.high}


def fake_quant_model() -> keras.Model:
    """Fake-quant at the input, after each binary conv block (one with ReLU6 after its BN), after
    a residual add and at the output; the float ops in between (ADD, MEAN) have no weights."""
    x = keras.Input((8, 8, 3))
    y = FakeQuant(-1.0, 1.0)(x)
    y = lq.QuantConv2D(32, 3, padding="same", pad_values=1.0, **BINARY)(y)
    y = batch_norm()(y)
    y = FakeQuant(-12.0, 12.0)(y)
    z = lq.QuantConv2D(32, 3, strides=1, padding="same", pad_values=1.0, **BINARY)(y)
    z = batch_norm()(z)
    z = keras.layers.ReLU(6.0)(z)
    z = FakeQuant(-12.0, 12.0)(z)
    y = keras.layers.Add()([y, z])
    y = FakeQuant(-16.0, 16.0)(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    y = FakeQuant(-6.0, 6.0)(y)
    return keras.Model(x, y, name="fake_quant")
