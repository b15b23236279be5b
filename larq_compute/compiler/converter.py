"""``convert_keras_model`` / ``convert_saved_model``: Keras BNN → ``.tflite`` with binary ops.

The stock TFLite converter produces the float flatbuffer (it folds BatchNormalization, constants
and layouts); :func:`convert_flatbuffer` imports it, runs the rewrite passes to a fixed point and
exports the result.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from larq_compute.runtime_prepare import make_runtime_compatible

from .flatbuffer import export_model, import_model
from .ir import Model
from .passes import PIPELINE, PIPELINE_AFTER_QUANTIZATION, constant_folding
from .patterns import rewrite_to_fixed_point
from .quantization import FLOAT32, IO_TYPES, check_default_range, quantize
from .report import ConversionReport, build_report


class ConvertedModel(bytes):
    """The converted ``.tflite`` flatbuffer (a ``bytes``) with its :class:`ConversionReport`."""

    report: ConversionReport
    ir: Model


def optimize(model: Model) -> int:
    """Run every pass over every graph of ``model`` in place; returns the number of rewrites."""
    return sum(rewrite_to_fixed_point(graph, PIPELINE) for graph in model.graphs)


def _kernel_layers(keras_model: Any) -> list[tuple[str, np.ndarray]]:
    """(layer name, kernel in TFLite layout) for every conv/dense layer of a Keras model."""
    found = []
    for layer in keras_model._flatten_layers(include_self=False, recursive=True):
        for attribute in ("kernel", "depthwise_kernel"):
            variable = getattr(layer, attribute, None)
            if variable is None or len(variable.shape) not in (2, 4):
                continue
            kernel = np.asarray(variable.numpy())
            if attribute == "depthwise_kernel":  # [H, W, C, M] -> [1, H, W, C*M]
                kernel = kernel.reshape(1, *kernel.shape[:2], -1)
            else:  # Dense [I, O] -> [O, I]; conv HWIO -> OHWI
                kernel = kernel.T if kernel.ndim == 2 else kernel.transpose(3, 0, 1, 2)
            found.append((layer.name, kernel))
    return found


def _name_layers(model: Model, keras_model: Any) -> None:
    """Name each conv/dense op after the Keras layer whose kernel it holds.

    Converter tensor names are unreliable (fused ops, renamed scopes), but the folded filter
    keeps the kernel's shape and, per output channel, its sign pattern up to a flip (a negative
    BatchNormalization scale flips a channel).
    """
    layers = _kernel_layers(keras_model)
    for op in model.main.ops:
        if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL") or op.custom:
            continue
        weights = op.inputs[1].data if op.inputs[1] is not None else None
        if weights is None or weights.dtype != np.float32:
            continue
        if op.type == "BATCH_MATMUL" and weights.ndim == 2 and not getattr(op.options, "adjY", False):
            # a Dense too large for the stock converter reads the Keras [I, O] kernel
            weights = weights.T
        for name, kernel in layers:
            if kernel.shape != weights.shape:
                continue
            axes = tuple(range(1, kernel.ndim))
            agree = np.sign(kernel) * np.sign(weights)
            if np.all((agree >= 0).all(axis=axes) | (agree <= 0).all(axis=axes)):
                op.origin = name
                break


def convert_flatbuffer(
    float_model: bytes,
    *,
    inference_input_type: Any = None,
    inference_output_type: Any = None,
    experimental_default_int8_range: tuple[float, float] | None = None,
    warn: bool = True,
    keras_model: Any = None,
) -> ConvertedModel:
    """Rewrite a float ``.tflite`` from the stock converter into one with binary ops.

    The result has 64-byte aligned buffers and no absent op inputs, as the runtime needs
    (``larq_compute.runtime_prepare.make_runtime_compatible``). Tensors with range
    information (fake-quant ops, ``experimental_default_int8_range``) become int8, and so do
    the model's inputs/outputs when ``inference_input_type``/``inference_output_type`` ask
    (see :func:`convert_keras_model`).

    ``keras_model``, when given, is the model it was converted from; the report then names
    layers after it.
    """
    input_type, output_type, default_range = _check_io_types(
        inference_input_type, inference_output_type, experimental_default_int8_range
    )
    model = import_model(float_model)
    if keras_model is not None:
        # Kernels too large for the stock converter's folding are still computed at this point.
        for graph in model.graphs:
            rewrite_to_fixed_point(graph, [constant_folding.rewrite])
        _name_layers(model, keras_model)
    optimize(model)
    model = quantize(model, input_type, output_type, default_range)
    for graph in model.graphs:
        rewrite_to_fixed_point(graph, PIPELINE_AFTER_QUANTIZATION)
    converted = ConvertedModel(make_runtime_compatible(export_model(model)))
    converted.ir = model
    converted.report = build_report(model.main, len(float_model), len(converted), model.graphs[1:])
    if warn:
        for row in converted.report.float_layers:
            if row.warn:
                warnings.warn(
                    f"layer {row.layer!r} ({row.op}) stays float: {row.detail}", stacklevel=3
                )
    return converted


def _io_type(name: str, value: Any) -> int:
    """The TFLite tensor type of an ``inference_*_type`` (a tf.DType, numpy dtype or name)."""
    if value is None:
        return FLOAT32
    type_name = value if isinstance(value, str) else getattr(value, "name", None)
    if not isinstance(type_name, str):
        try:
            type_name = np.dtype(value).name
        except TypeError:
            type_name = repr(value)
    if type_name not in IO_TYPES:
        raise ValueError(f"{name}={type_name} is not supported; use tf.float32, tf.int8 or tf.uint8")
    return IO_TYPES[type_name]


def _check_io_types(
    inference_input_type: Any, inference_output_type: Any, experimental_default_int8_range: Any
) -> tuple[int, int, tuple[float, float] | None]:
    return (
        _io_type("inference_input_type", inference_input_type),
        _io_type("inference_output_type", inference_output_type),
        check_default_range(experimental_default_int8_range),
    )


def _check_dtype_policies(model: Any) -> None:
    for layer in model._flatten_layers(include_self=True, recursive=True):
        policy = getattr(layer, "dtype_policy", None)
        compute = getattr(policy, "compute_dtype", "float32")
        if compute not in ("float32", None):
            raise ValueError(
                f"layer {layer.name!r} computes in {compute} (dtype policy {policy.name!r}); "
                "convert a float32 copy of the model (keras.mixed_precision.set_dtype_policy('float32'))"
            )


@contextlib.contextmanager
def _silenced_process_output(log: Any) -> Iterator[None]:
    """Send what native code and Python print to stdout/stderr into ``log`` meanwhile.

    The stock converter prints the SavedModel signature and dozens of TensorFlow log lines per
    conversion; they bury the report. They are kept and shown only if conversion fails.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        log.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _stock_convert(converter: Any, what: str) -> bytes:
    with tempfile.TemporaryFile("w+") as log:
        try:
            with _silenced_process_output(log):
                return converter.convert()
        except Exception as error:  # the stock converter's errors are long; keep its message
            log.seek(0)
            output = log.read()[-4000:]
            detail = f"\nconverter output (last lines):\n{output}" if output.strip() else ""
            raise ValueError(
                f"the TFLite converter could not convert {what}: {error}{detail}"
            ) from error


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

    Args:
      model: the Keras model.
      inference_input_type, inference_output_type: ``tf.float32`` (default), ``tf.int8`` or
        ``tf.uint8``: the type of the model's inputs / outputs. Integer types need a range at
        that input / output: a fake-quant op there (``tf.quantization.
        fake_quant_with_min_max_vars``) or ``experimental_default_int8_range``.
      experimental_default_int8_range: ``(min, max)`` given to every float activation tensor
        without a range, so the whole model runs int8; for latency experiments with models
        trained without fake-quant (the accuracy is whatever that range gives).

    Tensors with a range run int8: activations of builtin ops where all their tensors have one
    (weights quantized per channel from their own values), binary ops read int8 and write int8
    where the range sits at their output (docs/compiler.md, "int8").
    """
    import tensorflow as tf

    _check_io_types(inference_input_type, inference_output_type, experimental_default_int8_range)
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    _check_dtype_policies(model)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return convert_flatbuffer(
        _stock_convert(converter, f"model {model.name!r}"),
        inference_input_type=inference_input_type,
        inference_output_type=inference_output_type,
        experimental_default_int8_range=experimental_default_int8_range,
        keras_model=model,
    )


def convert_saved_model(
    path: str | os.PathLike,
    *,
    inference_input_type: Any = None,
    inference_output_type: Any = None,
    experimental_default_int8_range: tuple[float, float] | None = None,
) -> ConvertedModel:
    """Like :func:`convert_keras_model`, from a SavedModel directory (e.g. ``model.export(path)``)."""
    import tensorflow as tf

    _check_io_types(inference_input_type, inference_output_type, experimental_default_int8_range)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"SavedModel directory not found: {os.fspath(path)!r}")
    converter = tf.lite.TFLiteConverter.from_saved_model(os.fspath(path))
    return convert_flatbuffer(
        _stock_convert(converter, f"SavedModel {os.fspath(path)!r}"),
        inference_input_type=inference_input_type,
        inference_output_type=inference_output_type,
        experimental_default_int8_range=experimental_default_int8_range,
    )
