"""XNOR-Net (Rastegari et al., 2016, https://arxiv.org/abs/1603.05279), AlexNet-based.

Binary activations and binary weights scaled per output channel by the mean absolute weight;
the first convolution and the classifier stay float.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from larq_compute import layers, quantizers
from larq_compute.zoo import _common


@keras.saving.register_keras_serializable(package="larq_compute.zoo")
def xnor_weight_scale(x):
    """Sign of the weights clipped to [-1, 1], scaled per output channel by their mean |w|.

    Forward: ``mean(|clip(w)|, over kernel_h, kernel_w, in_channels) * sign(clip(w))``;
    gradient: straight-through (``ste_sign``) inside the clip range.
    """
    x = keras.ops.clip(x, -1.0, 1.0)
    reduce_axes = tuple(range(len(x.shape) - 1))
    scale = keras.ops.mean(keras.ops.abs(x), axis=reduce_axes, keepdims=True)
    return scale * quantizers.ste_sign(x)


xnor_weight_scale.precision = 1


def XNORNet(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """XNOR-Net: a float 11x11 stem, five binary convolutions (the last one 6x6 over the whole
    feature map, acting as a dense layer) and, with the top, a binary 1x1 conv and a float
    classifier.

    Needs inputs of at least 217x217 pixels (the 6x6 valid conv after three poolings).
    Published ImageNet results (Larq Zoo): 44.96 % top-1, 69.18 % top-5, 62 396 768 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    name = "xnornet"
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)

    def regularizer():
        return keras.regularizers.L2(5e-7)

    def binary_conv(x, filters, kernel_size, padding="same"):
        return layers.QuantConv2D(
            filters,
            kernel_size,
            padding=padding,
            input_quantizer="ste_sign",
            kernel_quantizer=xnor_weight_scale,
            kernel_constraint="weight_clip",
            kernel_regularizer=regularizer(),
            use_bias=False,
        )(x)

    def batch_norm(x, epsilon=1e-4):
        return keras.layers.BatchNormalization(momentum=0.9, scale=False, epsilon=epsilon)(x)

    x = keras.layers.Conv2D(
        96, 11, strides=4, padding="same", use_bias=False, kernel_regularizer=regularizer()
    )(inputs)
    x = batch_norm(x, epsilon=1e-5)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPool2D(3, strides=2)(x)
    x = batch_norm(x)
    x = binary_conv(x, 256, 5)
    x = keras.layers.MaxPool2D(3, strides=2)(x)
    x = batch_norm(x)
    x = binary_conv(x, 384, 3)
    x = batch_norm(x)
    x = binary_conv(x, 384, 3)
    x = batch_norm(x)
    x = binary_conv(x, 256, 3)
    x = keras.layers.MaxPool2D(3, strides=2)(x)
    x = batch_norm(x)
    if x.shape[1] is not None and (x.shape[1] < 6 or x.shape[2] < 6):
        raise ValueError(f"{name}: input_shape {input_shape!r} is too small; use at least 217x217")
    x = binary_conv(x, 4096, 6, padding="valid")
    x = batch_norm(x)
    if include_top:
        x = binary_conv(x, 4096, 1, padding="valid")
        x = batch_norm(x, epsilon=1e-3)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(num_classes, use_bias=False, kernel_regularizer=regularizer())(x)
        x = keras.layers.Activation("softmax", dtype="float32")(x)
    return _common.finish(inputs, x, name, weights)
