"""Real-to-Binary Net (Martinez et al., 2020, https://openreview.net/forum?id=BJg4NgBKvH),
the fully binary (BNN) variant.

A ResNet-18 layout of binary 3x3 convolutions, each with its own shortcut, whose outputs are
rescaled per channel by a data-dependent gate (squeeze-and-excite on the conv's float input)
before a PReLU.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from larq_compute.zoo import _common

_MOMENTUM = 0.99
_SCALING_REDUCTION = 8


def _half_block(x: keras.KerasTensor, downsample: bool) -> keras.KerasTensor:
    in_filters = x.shape[-1]
    filters = 2 * in_filters if downsample else in_filters
    shortcut = _common.shortcut(x, filters, momentum=_MOMENTUM)
    conv_input = keras.layers.BatchNormalization(momentum=_MOMENTUM)(x)
    y = _common.ste_sign_conv2d(filters, 3, strides=2 if downsample else 1)(conv_input)
    # Data-dependent per-channel scale of the binary conv's output.
    gate = keras.layers.GlobalAveragePooling2D()(conv_input)
    gate = keras.layers.Dense(
        in_filters // _SCALING_REDUCTION, activation="relu", use_bias=False,
        kernel_initializer="he_normal",
    )(gate)  # fmt: skip
    gate = keras.layers.Dense(
        filters, activation="sigmoid", use_bias=False, kernel_initializer="he_normal"
    )(gate)
    gate = keras.layers.Reshape((1, 1, filters))(gate)
    y = keras.layers.Multiply()([y, gate])
    y = keras.layers.PReLU(shared_axes=[1, 2])(y)
    return keras.layers.Add()([y, shortcut])


def RealToBinaryNet(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """Real-to-Binary Net (BNN): a float 7x7 stem with PReLU, 16 gated binary 3x3 convolutions
    with shortcuts, and a float classifier.

    Published ImageNet results (Larq Zoo): 65.01 % top-1, 85.72 % top-5, 11 995 624 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    name = "real_to_binary_net"
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)
    x = keras.layers.Conv2D(
        64, 7, strides=2, padding="same", use_bias=False, kernel_initializer="glorot_normal"
    )(inputs)
    x = keras.layers.BatchNormalization(momentum=_MOMENTUM)(x)
    x = keras.layers.PReLU(shared_axes=[1, 2])(x)
    x = keras.layers.MaxPool2D(3, strides=2, padding="same")(x)
    for block in range(2, 10):
        # ResNet-18 blocks 2..9; blocks 4, 6 and 8 halve the resolution and double the channels.
        x = _half_block(x, downsample=block in (4, 6, 8))
        x = _half_block(x, downsample=False)
    if include_top:
        x = _common.classifier(x, num_classes)
    return _common.finish(inputs, x, name, weights)
