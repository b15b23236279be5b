"""Elementwise functions shared by quantizers and activations (TensorFlow backend)."""

from __future__ import annotations

import tensorflow as tf

__all__ = ["heaviside", "sign"]


def sign(x: tf.Tensor) -> tf.Tensor:
    """Sign that maps 0 to +1: ``sign(sign(x) + 0.1)``.

    This exact form is what the compiler recognises as a binary quantizer in a converted
    model (``SIGN -> ADD(0.1) -> SIGN``), so every binary quantizer uses it.
    """
    return tf.sign(tf.sign(x) + 0.1)


def heaviside(x: tf.Tensor) -> tf.Tensor:
    """Heaviside step: 1 where ``x > 0``, else 0."""
    return tf.sign(tf.nn.relu(x))
