"""BinaryDenseNet (Bethge et al., 2019, https://arxiv.org/abs/1906.08637).

Dense blocks of binary 3x3 convolutions, each adding ``growth_rate`` channels to the running
concatenation; float transitions (batch norm, max-pool, ReLU, pointwise conv) shrink the
channel count by a fixed reduction factor between blocks.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from larq_compute.zoo import _common

_CLIP_VALUE = 1.3
_GROWTH_RATE = 64
_INITIAL_FILTERS = 64


def _dense_layer(x: keras.KerasTensor, dilation_rate: int) -> keras.KerasTensor:
    y = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
    y = _common.ste_sign_conv2d(_GROWTH_RATE, 3, _CLIP_VALUE, dilation_rate=dilation_rate)(y)
    return keras.layers.Concatenate()([x, y])


def _binary_densenet(
    name: str,
    block_layers: Sequence[int],
    reduction: Sequence[float],
    dilation_rates: Sequence[int],
    input_shape: Sequence[int | None] | None,
    num_classes: int,
    include_top: bool,
    weights: str | os.PathLike | None,
) -> keras.Model:
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)
    height = inputs.shape[1]
    if height is not None and height < 50:
        # Small images (e.g. CIFAR) keep their resolution: one 3x3 stem conv, no pooling.
        x = keras.layers.Conv2D(
            _INITIAL_FILTERS, 3, padding="same", use_bias=False, kernel_initializer="he_normal"
        )(inputs)
    else:
        x = keras.layers.Conv2D(
            _INITIAL_FILTERS, 7, strides=2, padding="same", use_bias=False,
            kernel_initializer="he_normal",
        )(inputs)  # fmt: skip
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.MaxPool2D(3, strides=2, padding="same")(x)
    for block, num_layers in enumerate(block_layers):
        for _ in range(num_layers):
            x = _dense_layer(x, dilation_rates[block])
        if block < len(block_layers) - 1:
            x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
            if dilation_rates[block + 1] == 1:
                x = keras.layers.MaxPool2D(2, strides=2)(x)
            x = keras.layers.Activation("relu")(x)
            # Channels after the transition: divided by the reduction, rounded to a multiple of 32.
            filters = round(x.shape[-1] // reduction[block] / 32) * 32
            x = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="he_normal")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
    x = keras.layers.Activation("relu")(x)
    if include_top:
        x = _common.classifier(x, num_classes, kernel_initializer="he_normal")
    return _common.finish(inputs, x, name, weights)


def BinaryDenseNet28(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """BinaryDenseNet28: dense blocks of 6/6/6/5 binary layers, reductions 2.7/2.7/2.2.
    Inputs smaller than 50 pixels get a 3x3 stem without downsampling.

    Published ImageNet results (Larq Zoo): 60.91 % top-1, 82.83 % top-5, 5 150 504 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    return _binary_densenet(
        "binary_densenet28", (6, 6, 6, 5), (2.7, 2.7, 2.2), (1, 1, 1, 1),
        input_shape, num_classes, include_top, weights,
    )  # fmt: skip


def BinaryDenseNet37(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """BinaryDenseNet37: dense blocks of 6/8/12/6 binary layers, reductions 3.3/3.3/4.

    Published ImageNet results (Larq Zoo): 62.89 % top-1, 84.19 % top-5, 8 734 120 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    return _binary_densenet(
        "binary_densenet37", (6, 8, 12, 6), (3.3, 3.3, 4.0), (1, 1, 1, 1),
        input_shape, num_classes, include_top, weights,
    )  # fmt: skip


def BinaryDenseNet45(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """BinaryDenseNet45: dense blocks of 6/12/14/8 binary layers, reductions 2.7/3.3/4.

    Published ImageNet results (Larq Zoo): 64.59 % top-1, 85.21 % top-5, 13 939 240 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    return _binary_densenet(
        "binary_densenet45", (6, 12, 14, 8), (2.7, 3.3, 4.0), (1, 1, 1, 1),
        input_shape, num_classes, include_top, weights,
    )  # fmt: skip
