"""Context managers that change how quantized layers behave while they are active.

``quantized_scope(True)`` makes quantized layers report and save their kernels in quantized
form (e.g. exactly ±1 for a binary kernel), so ``layer.get_weights()`` or
``model.save(...)`` inside the scope yields the weights a deployed model uses.
``metrics_scope(["flip_ratio"])`` turns on training metrics for quantizers created inside it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

__all__ = ["get_training_metrics", "metrics_scope", "quantized_scope", "should_quantize"]

_SUPPORTED_TRAINING_METRICS = frozenset({"flip_ratio"})
_state = threading.local()


@contextlib.contextmanager
def quantized_scope(quantize: bool) -> Iterator[bool]:
    """Inside this scope, quantized layers expose their kernels quantized (``quantize=True``)."""
    previous = should_quantize()
    _state.quantize = bool(quantize)
    try:
        yield bool(quantize)
    finally:
        _state.quantize = previous


def should_quantize() -> bool:
    """Whether the innermost ``quantized_scope`` asks for quantized kernels."""
    return getattr(_state, "quantize", False)


@contextlib.contextmanager
def metrics_scope(metrics: Sequence[str] | None = None) -> Iterator[list[str]]:
    """Quantizers created inside this scope track ``metrics`` (only ``"flip_ratio"`` exists)."""
    metrics = list(metrics or [])
    unknown = sorted(set(metrics) - _SUPPORTED_TRAINING_METRICS)
    if unknown:
        raise ValueError(
            f"Unknown training metric(s) {unknown}; supported: {sorted(_SUPPORTED_TRAINING_METRICS)}."
        )
    previous = get_training_metrics()
    _state.metrics = metrics
    try:
        yield metrics
    finally:
        _state.metrics = previous


def get_training_metrics() -> list[str]:
    """The training metrics enabled by the innermost ``metrics_scope`` (default: none)."""
    return list(getattr(_state, "metrics", []))
