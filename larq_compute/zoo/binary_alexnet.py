"""Binary AlexNet, after "Binarized Neural Networks" (Hubara et al., NeurIPS 2016).

Every convolution and dense layer has binary weights; all but the first also have binary
activations (the first sees the float image).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from larq_compute import layers
from larq_compute.zoo import _common


def _batch_norm(x: keras.KerasTensor) -> keras.KerasTensor:
    return keras.layers.BatchNormalization(momentum=0.9, scale=False)(x)


def _conv_block(
    x: keras.KerasTensor,
    filters: int,
    kernel_size: int,
    strides: int = 1,
    pool: bool = False,
    binary_input: bool = True,
) -> keras.KerasTensor:
    x = layers.QuantConv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        input_quantizer="ste_sign" if binary_input else None,
        kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip",
        use_bias=False,
    )(x)
    if pool:
        x = keras.layers.MaxPool2D(3, strides=2)(x)
    return _batch_norm(x)


def _dense_block(x: keras.KerasTensor, units: int) -> keras.KerasTensor:
    x = layers.QuantDense(
        units,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip",
        use_bias=False,
    )(x)
    return _batch_norm(x)


def BinaryAlexNet(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """Binary AlexNet: five binary-weight convolutions (the first with float input) and,
    with the top, three binary dense layers, each followed by batch norm.

    Published ImageNet results (Larq Zoo): 36.30 % top-1, 61.53 % top-5, 61 859 192 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    name = "binary_alexnet"
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)
    x = _conv_block(inputs, 64, 11, strides=4, pool=True, binary_input=False)
    x = _conv_block(x, 192, 5, pool=True)
    x = _conv_block(x, 384, 3)
    x = _conv_block(x, 384, 3)
    x = _conv_block(x, 256, 3, pool=True)
    if include_top:
        x = keras.layers.Flatten()(x)
        x = _dense_block(x, 4096)
        x = _dense_block(x, 4096)
        x = _dense_block(x, num_classes)
        x = keras.layers.Activation("softmax", dtype="float32")(x)
    return _common.finish(inputs, x, name, weights)
