"""BinaryResNetE18 (Bethge et al., 2019, https://arxiv.org/abs/1906.08637).

ResNet-18 with twice as many shortcuts: every binary 3x3 convolution has its own residual
connection. Downsampling shortcuts are average pooling and a float pointwise convolution.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from larq_compute.zoo import _common

_CLIP_VALUE = 1.25


def _residual_block(x: keras.KerasTensor, filters: int, strides: int) -> keras.KerasTensor:
    shortcut = _common.shortcut(x, filters, pool_padding="valid", momentum=0.9, epsilon=1e-5)
    y = _common.ste_sign_conv2d(filters, 3, _CLIP_VALUE, strides=strides)(x)
    y = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(y)
    return keras.layers.Add()([y, shortcut])


def BinaryResNetE18(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """BinaryResNetE18: a float stem, 16 binary 3x3 convolutions each with a shortcut, and a
    float classifier. Inputs smaller than 50 pixels get a 3x3 stem without downsampling.

    Published ImageNet results (Larq Zoo): 58.32 % top-1, 80.79 % top-5, 11 699 368 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    name = "binary_resnet_e_18"
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)
    height = inputs.shape[1]
    if height is not None and height < 50:
        x = keras.layers.Conv2D(
            64, 3, padding="same", use_bias=False, kernel_initializer="he_normal"
        )(inputs)
    else:
        x = keras.layers.Conv2D(
            64, 7, strides=2, padding="same", use_bias=False, kernel_initializer="he_normal"
        )(inputs)
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.MaxPool2D(3, strides=2, padding="same")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
    for section, filters in enumerate((64, 128, 256, 512)):
        # ResNet-18's two convolutions per block, each with its own shortcut: 4 per section.
        for layer in range(4):
            strides = 2 if section > 0 and layer == 0 else 1
            x = _residual_block(x, filters, strides)
    x = keras.layers.Activation("relu")(x)
    if include_top:
        x = _common.classifier(x, num_classes, kernel_initializer="glorot_normal")
    return _common.finish(inputs, x, name, weights)
