"""Weight constraints for quantized training."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["WeightClip", "get", "weight_clip"]


@keras.saving.register_keras_serializable(package="larq_compute")
class WeightClip(keras.constraints.Constraint):
    """Clip weights to ``[-clip_value, clip_value]`` (``"weight_clip"``).

    Keeps latent weights where a clipped straight-through estimator still passes gradients,
    so they cannot drift away and stop learning.
    """

    def __init__(self, clip_value: float = 1.0) -> None:
        self.clip_value = clip_value

    def __call__(self, w: Any) -> Any:
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {"clip_value": self.clip_value}


# Larq's lower-case alias, usable as a class: ``weight_clip(clip_value=0.5)``.
weight_clip = WeightClip

_ALIASES = {"weight_clip": WeightClip, "WeightClip": WeightClip}


def get(identifier: Any) -> Any:
    """Resolve a constraint from our aliases, then from Keras' own identifiers."""
    if isinstance(identifier, str) and identifier in _ALIASES:
        return _ALIASES[identifier]()
    return keras.constraints.get(identifier)
