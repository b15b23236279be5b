"""QuickNet family: residual BNNs designed for fast inference with binary kernels.

Each section is a stack of residual blocks (a one-padded binary 3x3 conv with a ReLU, batch
norm, and a float shortcut add); a section that changes the channel count starts with a float
transition (ReLU, max-pool, fixed blur-pool, pointwise conv). The stem and the classifier are
float.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np

from larq_compute.zoo import _common

_CLIP_VALUE = 1.25


@keras.saving.register_keras_serializable(package="larq_compute.zoo")
class BlurPoolInitializer(keras.initializers.Initializer):
    """Fixed ``[1, 2, 1] x [1, 2, 1] / 16`` blur filter for a 3x3 depthwise convolution."""

    def __call__(self, shape, dtype=None):
        kernel_h, kernel_w, channels, multiplier = shape
        if (kernel_h, kernel_w) != (3, 3):
            raise ValueError(f"BlurPoolInitializer needs a 3x3 kernel, got {kernel_h}x{kernel_w}")
        taps = np.array([1.0, 2.0, 1.0])
        blur = np.outer(taps, taps) / 16.0
        kernel = np.broadcast_to(blur[:, :, None, None], (3, 3, channels, multiplier))
        return keras.ops.convert_to_tensor(kernel, dtype=dtype or "float32")


def _stem(x: keras.KerasTensor, filters: int) -> keras.KerasTensor:
    x = keras.layers.Conv2D(
        filters // 4, 3, strides=2, padding="same", use_bias=False, kernel_initializer="he_normal"
    )(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization(scale=False, center=False)(x)
    x = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="he_normal")(x)
    return keras.layers.BatchNormalization()(x)


def _residual_block(x: keras.KerasTensor) -> keras.KerasTensor:
    y = _common.ste_sign_conv2d(x.shape[-1], 3, _CLIP_VALUE, pad_values=1.0, activation="relu")(x)
    y = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(y)
    return keras.layers.Add()([y, x])


def _transition_block(x: keras.KerasTensor, filters: int, strides: int) -> keras.KerasTensor:
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPool2D(pool_size=strides, strides=1)(x)
    x = keras.layers.DepthwiseConv2D(
        3,
        strides=strides,
        padding="same",
        use_bias=False,
        depthwise_initializer=BlurPoolInitializer(),
        trainable=False,
    )(x)
    x = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="glorot_normal")(x)
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)


def _quicknet(
    name: str,
    section_blocks: Sequence[int],
    section_filters: Sequence[int],
    input_shape: Sequence[int | None] | None,
    num_classes: int,
    include_top: bool,
    weights: str | os.PathLike | None,
) -> keras.Model:
    _common.check_arguments(name, num_classes, weights)
    inputs = _common.image_input(input_shape, name)
    x = _stem(inputs, section_filters[0])
    for section, (blocks, filters) in enumerate(zip(section_blocks, section_filters)):
        for _ in range(blocks):
            if x.shape[-1] != filters:
                x = _transition_block(x, filters, strides=1 if section == 0 else 2)
            x = _residual_block(x)
    if include_top:
        x = keras.layers.Activation("relu")(x)
        x = _common.classifier(x, num_classes, kernel_initializer="glorot_normal")
    return _common.finish(inputs, x, name, weights)


def QuickNetSmall(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """QuickNetSmall: 4 sections of 4 blocks, 32/64/256/512 channels.

    Published ImageNet results (Larq Zoo): 59.4 % top-1, 81.8 % top-5, 12 655 688 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    return _quicknet(
        "quicknet_small", (4, 4, 4, 4), (32, 64, 256, 512),
        input_shape, num_classes, include_top, weights,
    )  # fmt: skip


def QuickNet(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """QuickNet: 4 sections of 4 blocks, 64/128/256/512 channels.

    Published ImageNet results (Larq Zoo): 63.3 % top-1, 84.6 % top-5, 13 234 088 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    return _quicknet(
        "quicknet", (4, 4, 4, 4), (64, 128, 256, 512),
        input_shape, num_classes, include_top, weights,
    )  # fmt: skip


def QuickNetLarge(
    *,
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
) -> keras.Model:
    """QuickNetLarge: sections of 6/8/12/6 blocks, 64/128/256/512 channels.

    Published ImageNet results (Larq Zoo): 66.0 % top-1, 87.0 % top-5, 23 342 248 parameters.

    Takes the zoo's common keyword arguments (``input_shape``, ``num_classes``,
    ``include_top``, ``weights``; see `larq_compute.zoo`) and returns a ``keras.Model``.
    """
    return _quicknet(
        "quicknet_large", (6, 8, 12, 6), (64, 128, 256, 512),
        input_shape, num_classes, include_top, weights,
    )  # fmt: skip
