"""Helpers shared by the zoo architectures: input validation, weights, the classifier head."""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from larq_compute import constraints, layers, quantizers

DEFAULT_INPUT_SHAPE = (224, 224, 3)


def image_input(input_shape: Sequence[int | None] | None, model_name: str) -> keras.KerasTensor:
    """The model's input tensor; ``None`` means ImageNet's ``(224, 224, 3)``."""
    shape = tuple(DEFAULT_INPUT_SHAPE if input_shape is None else input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"{model_name}: input_shape must be (height, width, channels), got {input_shape!r}"
        )
    for dim in shape:
        if dim is not None and (not isinstance(dim, int) or dim < 1):
            raise ValueError(
                f"{model_name}: input_shape entries must be positive integers or None, "
                f"got {input_shape!r}"
            )
    if shape[2] is None:
        raise ValueError(f"{model_name}: the number of input channels must be known")
    return keras.Input(shape=shape, name="image")


def check_arguments(model_name: str, num_classes: int, weights: str | os.PathLike | None) -> None:
    """Reject bad ``num_classes`` and ``weights`` before any layer is built."""
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"{model_name}: num_classes must be a positive integer, got {num_classes!r}"
        )
    if weights is None:
        return
    if str(weights) == "imagenet":
        raise ValueError(
            f"{model_name}: larq-compute never downloads weights; pass weights=None or the path "
            "of a local weights file (saved with model.save_weights)"
        )
    if not os.path.isfile(weights):
        raise FileNotFoundError(f"{model_name}: weights file {os.fspath(weights)!r} does not exist")


def finish(
    inputs: keras.KerasTensor,
    outputs: keras.KerasTensor,
    name: str,
    weights: str | os.PathLike | None,
) -> keras.Model:
    """Wrap the graph in a ``keras.Model`` and load local weights if asked to."""
    model = keras.Model(inputs=inputs, outputs=outputs, name=name)
    if weights is not None:
        model.load_weights(os.fspath(weights))
    return model


def classifier(x: keras.KerasTensor, num_classes: int, **dense_kwargs) -> keras.KerasTensor:
    """Global average pooling, a float ``Dense`` layer and softmax."""
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(num_classes, **dense_kwargs)(x)
    return keras.layers.Activation("softmax", dtype="float32")(x)


def ste_sign_conv2d(
    filters: int, kernel_size: int, clip_value: float = 1.0, **kwargs
) -> layers.QuantConv2D:
    """Binary 3x3-style conv: ``SteSign(clip_value)`` on inputs and kernel, kernel clipped to
    ``clip_value``, no bias, ``"same"`` padding and ``glorot_normal`` unless overridden."""
    kwargs.setdefault("padding", "same")
    kwargs.setdefault("kernel_initializer", "glorot_normal")
    return layers.QuantConv2D(
        filters,
        kernel_size,
        input_quantizer=quantizers.SteSign(clip_value=clip_value),
        kernel_quantizer=quantizers.SteSign(clip_value=clip_value),
        kernel_constraint=constraints.WeightClip(clip_value=clip_value),
        use_bias=False,
        **kwargs,
    )


def shortcut(
    x: keras.KerasTensor, filters: int, pool_padding: str = "same", **batch_norm_kwargs
) -> keras.KerasTensor:
    """Identity if ``x`` already has ``filters`` channels; otherwise the float downsampling
    shortcut of Bi-Real-style networks: 2x2 average pooling, pointwise conv, batch norm."""
    if x.shape[-1] == filters:
        return x
    x = keras.layers.AveragePooling2D(2, strides=2, padding=pool_padding)(x)
    x = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="glorot_normal")(x)
    return keras.layers.BatchNormalization(**batch_norm_kwargs)(x)
