"""larq_compute: binarized neural networks from Keras 3 training to fast on-device inference.

Import as ``import larq_compute as lc``. Submodules load lazily so that using the runtime alone
(``lc.Interpreter``) does not import TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {
    "activations",
    "callbacks",
    "compiler",
    "constraints",
    "context",
    "layers",
    "math",
    "metrics",
    "models",
    "optimizers",
    "quantizers",
    "zoo",
}
# Public names that live in a submodule: name -> module.
_LAZY_ATTRIBUTES = {
    "convert_keras_model": "larq_compute.compiler",
    "convert_saved_model": "larq_compute.compiler",
    "Interpreter": "larq_compute.interpreter",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"larq_compute.{name}")
    if name in _LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(_LAZY_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'larq_compute' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | set(_LAZY_ATTRIBUTES))
