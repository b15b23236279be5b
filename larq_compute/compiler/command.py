"""``larq-compute convert``: a Keras model, SavedModel or float .tflite → .tflite with binary ops."""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a Keras model file (.keras, .h5), a SavedModel directory or a float .tflite")
    parser.add_argument("-o", "--output", required=True, help="where to write the converted .tflite")
    parser.add_argument("--dump-ir", action="store_true", help="print the rewritten graph")
    parser.add_argument("--report", action="store_true", help="print the per-layer conversion report")


def run(args: argparse.Namespace) -> int:
    from .converter import convert_flatbuffer, convert_keras_model, convert_saved_model

    path = args.model
    if not os.path.exists(path):
        print(f"error: {path!r} does not exist", file=sys.stderr)
        return 1
    try:
        if os.path.isdir(path):
            converted = convert_saved_model(path)
        elif path.endswith(".tflite"):
            with open(path, "rb") as file:
                converted = convert_flatbuffer(file.read())
        else:
            import keras

            import larq_compute.layers  # noqa: F401  (registers the quantized layers for loading)

            converted = convert_keras_model(keras.models.load_model(path, compile=False))
    except (ValueError, TypeError, OSError) as error:
        print(f"error: cannot convert {path!r}: {error}", file=sys.stderr)
        return 1
    with open(args.output, "wb") as file:
        file.write(converted)
    if args.dump_ir:
        print(converted.ir)
    if args.report:
        print(converted.report)
    report = converted.report
    print(
        f"wrote {args.output}: {len(report.binary_layers)} binary layers, "
        f"{len(report.float_layers)} float layers, {len(converted)} bytes"
    )
    return 0
