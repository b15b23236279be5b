"""DoReFa-Net (Zhou et al., 2016, https://arxiv.org/abs/1606.06160), AlexNet-based.

2-bit activations (DoReFa quantizer) and binary weights with one scale per layer. The
activations are not binary, so the converted model keeps these layers as float convolutions
(there is no binary op to map them to); the model is here for training and comparison.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import keras
import tensorflow as tf

from larq_compute import layers, quantizers
from larq_compute import math as lc_math
from larq_compute.zoo import _common


@keras.saving.register_keras_serializable(package="larq_compute.zoo")
def magnitude_aware_sign_unclipped(x):
    """``sign(w) * mean(|w|)`` with one scale per layer and an identity pseudo-gradient."""

    @tf.custom_gradient
    def _forward(w):
        scale = tf.reduce_mean(tf.abs(w))
        return lc_math.sign(w) * scale, lambda dy: dy

    # A tensor, not the kernel variable: custom gradients must not capture variables.
    return _forward(tf.convert_to_tensor(x))


magnitude_aware_sign_unclipped.precision = 1


def _conv_block(
    x: keras.KerasTensor,
    filters: int,
    kernel_size: int,
    pool: bool = False,
    pool_padding: str = "same",
) -> keras.KerasTensor:
    x = layers.QuantConv2D(
        filters,
        kernel_size,
        padding="same",
        input_quantizer=quantizers.DoReFa(k_bit=2, mode="activations"),
        kernel_quantizer=magnitude_aware_sign_unclipped,
        use_bias=False,
    )(x)
    x = keras.layers.BatchNormalization(momentum=0.9, scale=False, epsilon=1e-4)(x)
    if pool:
        x = keras.layers.MaxPool2D(3, strides=2, padding=pool_padding)(x)
    return x


def _dense_block(x: keras.KerasTensor, units: int) -> keras.KerasTensor:
    x = layers.QuantDense(
        units,
        input_quantizer=quantizers.DoReFa(k_bit=2, mode="activations"),
        kernel_quantizer=magnitude_aware_sign_unclipped,
        use_bias=False,
    )(x)
    return keras.layers.BatchNormalization(momentum=0.9, scale=False, epsilon=1e-4)(x)


def DoReFaNet(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """DoReFa-Net: a float 12x12 stem, four quantized convolutions and, with the top, two
    quantized dense layers and a float classifier.

    Published ImageNet results (Larq Zoo): 53.39 % top-1, 76.50 % top-5, 62 403 912 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    name = "dorefanet"
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)
    with warnings.catch_warnings():
        # The weight quantizer's gradient is the identity, so unclipped latent weights keep
        # learning; the published architecture has no weight constraint.
        warnings.filterwarnings("ignore", message=".*without `kernel_constraint`")
        x = keras.layers.Conv2D(96, 12, strides=4, padding="valid")(inputs)
        x = _conv_block(x, 256, 5, pool=True)
        x = _conv_block(x, 384, 3, pool=True)
        x = _conv_block(x, 384, 3)
        x = _conv_block(x, 256, 3, pool=True, pool_padding="valid")
        if include_top:
            x = keras.layers.Flatten()(x)
            x = _dense_block(x, 4096)
            x = _dense_block(x, 4096)
            x = keras.layers.ReLU(max_value=1.0)(x)  # clip to [0, 1]
            x = keras.layers.Dense(num_classes)(x)
            x = keras.layers.Activation("softmax", dtype="float32")(x)
    return _common.finish(inputs, x, name, weights)
