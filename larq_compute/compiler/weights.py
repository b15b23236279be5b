"""Recognising binary weights in float filters.

After the stock converter folds a BatchNormalization into a binary layer, output channel ``o`` of
the filter holds ``q(W) * scale[o]``: one magnitude per channel, sign = binary weight. The folded
values are within a few float32 ulp of each other (not bit-identical), so magnitudes are compared
with a relative tolerance far above that and far below anything a real-valued filter shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RELATIVE_TOLERANCE = 1e-5


@dataclass
class BinaryWeights:
    magnitude: np.ndarray  # float32 [C_out], >= 0
    negative: np.ndarray  # bool, the filter's shape: True where the binary weight is −1


def split_binary_weights(weights: np.ndarray) -> BinaryWeights | str:
    """Split a float filter with output channels on axis 0 into magnitudes and signs.

    Returns a reason string when the filter is not binary.
    """
    if weights.dtype != np.float32:
        return f"weights are {weights.dtype}, not float32"
    flat = weights.reshape(weights.shape[0], -1).astype(np.float64)
    if not np.all(np.isfinite(flat)):
        return "weights contain inf or NaN"
    magnitudes = np.abs(flat)
    scale = np.median(magnitudes, axis=1)
    spread = np.abs(magnitudes - scale[:, None]).max(axis=1, initial=0.0)
    bad = spread > RELATIVE_TOLERANCE * scale
    if np.any(bad):
        if _is_ternary(flat):
            return ("weights are ternary (−s, 0, +s per output channel, e.g. ste_tern): no op of "
                    "the op set reads ternary weights, so the kernel stays float32")
        channel = int(np.argmax(bad))
        distinct = np.unique(np.round(flat[channel], 6))
        shown = ", ".join(f"{v:g}" for v in distinct[:4]) + (", ..." if distinct.size > 4 else "")
        return (
            f"weights are not binary: output channel {channel} has {distinct.size} distinct "
            f"values ({shown}), not ±s"
        )
    return BinaryWeights(scale.astype(np.float32), weights < 0)


def _is_ternary(flat: np.ndarray) -> bool:
    """Every output channel holds zeros and values of one magnitude, and some channel a zero."""
    magnitudes = np.abs(flat)
    nonzero = magnitudes > 0
    if nonzero.all():
        return False
    scale = np.max(magnitudes, axis=1)
    spread = np.where(nonzero, np.abs(magnitudes - scale[:, None]), 0.0).max(axis=1, initial=0.0)
    return bool(np.all(spread <= RELATIVE_TOLERANCE * scale))
