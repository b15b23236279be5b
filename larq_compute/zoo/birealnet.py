"""Bi-Real Net (Liu et al., 2018, https://arxiv.org/abs/1808.00278), the 18-layer variant.

A ResNet-18 whose every 3x3 convolution is binary and has its own float shortcut, so each
binary layer is wrapped by a real-valued identity path; downsampling shortcuts are average
pooling followed by a float pointwise convolution.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from larq_compute import layers
from larq_compute.zoo import _common


def _residual_block(x: keras.KerasTensor, filters: int) -> keras.KerasTensor:
    downsample = x.shape[-1] != filters
    y = layers.QuantConv2D(
        filters,
        3,
        strides=2 if downsample else 1,
        padding="same",
        input_quantizer="approx_sign",
        kernel_quantizer="magnitude_aware_sign",
        kernel_constraint="weight_clip",
        kernel_initializer="glorot_normal",
        use_bias=False,
    )(x)
    y = keras.layers.BatchNormalization(momentum=0.8)(y)
    return keras.layers.Add()([y, _common.shortcut(x, filters, momentum=0.8)])


def BiRealNet(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """Bi-Real Net 18: a float 7x7 stem, 16 binary 3x3 convolutions with shortcuts, float head.

    Binary layers use ``approx_sign`` activations and ``magnitude_aware_sign`` weights.
    Published ImageNet results (Larq Zoo): 57.47 % top-1, 79.84 % top-5, 11 699 112 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    name = "birealnet18"
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)
    x = keras.layers.Conv2D(
        64, 7, strides=2, padding="same", use_bias=False, kernel_initializer="glorot_normal"
    )(inputs)
    x = keras.layers.BatchNormalization(momentum=0.8)(x)
    x = keras.layers.MaxPool2D(3, strides=2, padding="same")(x)
    for filters in (64, 128, 256, 512):
        for _ in range(4):
            x = _residual_block(x, filters)
    if include_top:
        x = _common.classifier(x, num_classes)
    return _common.finish(inputs, x, name, weights)
