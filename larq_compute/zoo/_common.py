"""Helpers shared by the zoo architectures: input validation, weights, the classifier head."""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

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
