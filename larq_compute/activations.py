"""Activations used in binarized networks."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["hard_tanh", "leaky_tanh"]


@keras.saving.register_keras_serializable(package="larq_compute")
def hard_tanh(x: Any) -> Any:
    """``clip(x, -1, 1)``."""
    return ops.clip(x, -1.0, 1.0)


@keras.saving.register_keras_serializable(package="larq_compute")
def leaky_tanh(x: Any, alpha: float = 0.2) -> Any:
    """Hard tanh with slope ``alpha`` outside [-1, 1]: ``clip(x, -1, 1) + alpha * (x - clip(x, -1, 1))``."""
    clipped = ops.clip(x, -1.0, 1.0)
    return clipped + alpha * (x - clipped)
