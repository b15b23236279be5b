"""``convert_keras_model`` / ``convert_saved_model``: Keras BNN → ``.tflite`` with binary ops.

The stock TFLite converter produces the float flatbuffer (it folds BatchNormalization, constants
and layouts); :func:`convert_flatbuffer` imports it, runs the rewrite passes to a fixed point and
exports the result.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from .flatbuffer import export_model, import_model
from .ir import Model
from .passes import PIPELINE
from .patterns import rewrite_to_fixed_point
from .report import ConversionReport, build_report


class ConvertedModel(bytes):
    """The converted ``.tflite`` flatbuffer (a ``bytes``) with its :class:`ConversionReport`."""

    report: ConversionReport
    ir: Model


def optimize(model: Model) -> int:
    """Run every pass over every graph of ``model`` in place; returns the number of rewrites."""
    return sum(rewrite_to_fixed_point(graph, PIPELINE) for graph in model.graphs)


def _prepare_for_runtime(flatbuffer: bytes) -> bytes:
    return flatbuffer


def convert_flatbuffer(float_model: bytes, *, warn: bool = True) -> ConvertedModel:
    """Rewrite a float ``.tflite`` from the stock converter into one with binary ops."""
    model = import_model(float_model)
    optimize(model)
    converted = ConvertedModel(_prepare_for_runtime(export_model(model)))
    converted.ir = model
    converted.report = build_report(model.main, len(float_model), len(converted))
    if warn:
        for row in converted.report.float_layers:
            if row.warn:
                warnings.warn(
                    f"layer {row.layer!r} ({row.op}) stays float: {row.detail}", stacklevel=3
                )
    return converted


def _check_io_types(inference_input_type: Any, inference_output_type: Any,
                    experimental_default_int8_range: Any) -> None:
    import tensorflow as tf

    for name, value in (("inference_input_type", inference_input_type),
                        ("inference_output_type", inference_output_type)):
        if tf.as_dtype(value) != tf.float32:
            raise ValueError(f"{name}={tf.as_dtype(value).name} is not supported yet; only tf.float32")
    if experimental_default_int8_range is not None:
        raise ValueError("experimental_default_int8_range is not supported yet")


def _check_dtype_policies(model: Any) -> None:
    for layer in model._flatten_layers(include_self=True, recursive=True):
        policy = getattr(layer, "dtype_policy", None)
        compute = getattr(policy, "compute_dtype", "float32")
        if compute not in ("float32", None):
            raise ValueError(
                f"layer {layer.name!r} computes in {compute} (dtype policy {policy.name!r}); "
                "convert a float32 copy of the model (keras.mixed_precision.set_dtype_policy('float32'))"
            )


def _stock_convert(converter: Any, what: str) -> bytes:
    try:
        return converter.convert()
    except Exception as error:  # the stock converter's errors are long; keep its message
        raise ValueError(f"the TFLite converter could not convert {what}: {error}") from error


def convert_keras_model(
    model: Any,
    *,
    inference_input_type: Any = None,
    inference_output_type: Any = None,
    experimental_default_int8_range: tuple[float, float] | None = None,
) -> ConvertedModel:
    """Convert a Keras model to a ``.tflite`` flatbuffer whose binary layers run as binary ops.

    Returns the flatbuffer bytes; ``result.report`` tells per layer what became a binary op
    and why anything stayed float. Layers that look binary but cannot be converted stay float
    and raise a warning naming the layer.
    """
    import tensorflow as tf

    _check_io_types(inference_input_type or tf.float32, inference_output_type or tf.float32,
                    experimental_default_int8_range)
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    _check_dtype_policies(model)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return convert_flatbuffer(_stock_convert(converter, f"model {model.name!r}"))


def convert_saved_model(
    path: str | os.PathLike,
    *,
    inference_input_type: Any = None,
    inference_output_type: Any = None,
    experimental_default_int8_range: tuple[float, float] | None = None,
) -> ConvertedModel:
    """Like :func:`convert_keras_model`, from a SavedModel directory (e.g. ``model.export(path)``)."""
    import tensorflow as tf

    _check_io_types(inference_input_type or tf.float32, inference_output_type or tf.float32,
                    experimental_default_int8_range)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"SavedModel directory not found: {os.fspath(path)!r}")
    converter = tf.lite.TFLiteConverter.from_saved_model(os.fspath(path))
    return convert_flatbuffer(_stock_convert(converter, f"SavedModel {os.fspath(path)!r}"))
