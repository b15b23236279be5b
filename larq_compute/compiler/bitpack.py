"""Bit-packing of ±1 values along the innermost axis (docs/op-format.md, "Bit-packing")."""

from __future__ import annotations

import numpy as np

BITS_PER_WORD = 32


def packed_depth(channels: int) -> int:
    return -(-channels // BITS_PER_WORD)


def pack_bits(negative: np.ndarray) -> np.ndarray:
    """Pack booleans (True = −1) along the last axis into int32 words; channel c is bit c % 32."""
    negative = np.asarray(negative, dtype=bool)
    channels = negative.shape[-1]
    padded = np.zeros((*negative.shape[:-1], packed_depth(channels) * BITS_PER_WORD), dtype=bool)
    padded[..., :channels] = negative
    words = padded.reshape(*negative.shape[:-1], -1, BITS_PER_WORD).astype(np.uint64)
    packed = (words << np.arange(BITS_PER_WORD, dtype=np.uint64)).sum(axis=-1)
    return packed.astype(np.uint32).view(np.int32)


def unpack_bits(packed: np.ndarray, channels: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: booleans (True = −1) with ``channels`` entries on the last axis."""
    words = np.asarray(packed, dtype=np.int32).view(np.uint32).astype(np.uint64)
    bits = (words[..., None] >> np.arange(BITS_PER_WORD, dtype=np.uint64)) & 1
    return bits.reshape(*words.shape[:-1], -1)[..., :channels].astype(bool)
