"""MeliusNet22 (Bethge et al., 2020, https://arxiv.org/abs/2001.05936).

Each block is a dense block (a binary 3x3 conv adding 64 channels) followed by an improvement
block (a binary 3x3 conv whose 64 outputs are added to the newest 64 channels). Float
transitions between sections; a grouped-convolution float stem.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from larq_compute.zoo import _common

_CLIP_VALUE = 1.3
_BLOCK_FILTERS = 64


@keras.saving.register_keras_serializable(package="larq_compute.zoo")
class AddToLastChannels(keras.layers.Layer):
    """``[x, y] -> x`` with ``y`` added to the last ``y.shape[-1]`` channels of ``x``."""

    def build(self, input_shape):
        x_shape, y_shape = input_shape
        if y_shape[-1] > x_shape[-1]:
            raise ValueError(
                f"{self.name}: cannot add {y_shape[-1]} channels to a tensor of {x_shape[-1]}"
            )

    def call(self, inputs):
        x, y = inputs
        split = x.shape[-1] - y.shape[-1]
        return keras.ops.concatenate([x[..., :split], x[..., split:] + y], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _batch_norm(x: keras.KerasTensor) -> keras.KerasTensor:
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)


def _binary_conv(x: keras.KerasTensor) -> keras.KerasTensor:
    return _common.ste_sign_conv2d(_BLOCK_FILTERS, 3, _CLIP_VALUE)(x)


def _stem(x: keras.KerasTensor) -> keras.KerasTensor:
    x = keras.layers.Conv2D(
        32, 3, strides=2, padding="same", use_bias=False, kernel_initializer="glorot_normal"
    )(x)
    for filters, groups in ((32, 4), (64, 8)):
        x = _batch_norm(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.Conv2D(
            filters, 3, padding="same", groups=groups, use_bias=False,
            kernel_initializer="glorot_normal",
        )(x)  # fmt: skip
    x = _batch_norm(x)
    x = keras.layers.Activation("relu")(x)
    return keras.layers.MaxPool2D(2, strides=2, padding="same")(x)


def MeliusNet22(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """MeliusNet22: sections of 4/5/4/4 dense + improvement blocks, transitions to
    160/224/256 channels.

    Published ImageNet results (Larq Zoo): 62.4 % top-1, 83.9 % top-5, 6 944 584 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    name = "meliusnet22"
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)
    x = _stem(inputs)
    for num_blocks, transition_filters in zip((4, 5, 4, 4), (160, 224, 256, None)):
        for _ in range(num_blocks):
            x = keras.layers.Concatenate()([x, _binary_conv(_batch_norm(x))])
            x = AddToLastChannels()([x, _binary_conv(_batch_norm(x))])
        if transition_filters is not None:
            x = _batch_norm(x)
            x = keras.layers.MaxPool2D(2, strides=2, padding="same")(x)
            x = keras.layers.Activation("relu")(x)
            x = keras.layers.Conv2D(
                transition_filters, 1, use_bias=False, kernel_initializer="glorot_normal"
            )(x)
    x = _batch_norm(x)
    x = keras.layers.Activation("relu")(x)
    if include_top:
        x = _common.classifier(x, num_classes, kernel_initializer="glorot_normal")
    return _common.finish(inputs, x, name, weights)
