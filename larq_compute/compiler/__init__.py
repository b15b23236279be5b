"""The graph-rewrite compiler: Keras BNN → ``.tflite`` with binary custom ops (docs/compiler.md)."""

from .converter import (
    ConvertedModel,
    convert_flatbuffer,
    convert_keras_model,
    convert_saved_model,
    optimize,
)
from .flatbuffer import FlatbufferError, export_model, import_model
from .ir import Graph, Model, Op, Tensor
from .report import ConversionReport, LayerReport

__all__ = [
    "ConversionReport",
    "ConvertedModel",
    "FlatbufferError",
    "Graph",
    "LayerReport",
    "Model",
    "Op",
    "Tensor",
    "convert_flatbuffer",
    "convert_keras_model",
    "convert_saved_model",
    "export_model",
    "import_model",
    "optimize",
]
