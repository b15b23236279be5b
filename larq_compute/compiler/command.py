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
    types = ["float32", "int8", "uint8"]
    parser.add_argument("--inference-input-type", choices=types, default="float32",
                        help="type of the model inputs (int8/uint8 need a range: fake-quant or --default-int8-range)")
    parser.add_argument("--inference-output-type", choices=types, default="float32",
                        help="type of the model outputs")
    parser.add_argument("--default-int8-range", nargs=2, type=float, metavar=("MIN", "MAX"),
                        help="range for every float activation without one: the whole model runs int8")


def run(args: argparse.Namespace) -> int:
    from .converter import convert_flatbuffer, convert_keras_model, convert_saved_model

    path = args.model
    if not os.path.exists(path):
        print(f"error: {path!r} does not exist", file=sys.stderr)
        return 1
    options = dict(
        inference_input_type=args.inference_input_type,
        inference_output_type=args.inference_output_type,
        experimental_default_int8_range=args.default_int8_range,
    )
    try:
        if os.path.isdir(path):
            converted = convert_saved_model(path, **options)
        elif path.endswith(".tflite"):
            with open(path, "rb") as file:
                converted = convert_flatbuffer(file.read(), **options)
        else:
            import keras

            import larq_compute.layers  # noqa: F401  (registers the quantized layers for loading)

            converted = convert_keras_model(keras.models.load_model(path, compile=False), **options)
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
    int8 = f", {len(report.int8_tensors)} int8 tensors" if report.int8_tensors else ""
    print(
        f"wrote {args.output}: {len(report.binary_layers)} binary layers, "
        f"{len(report.float_layers)} float layers{int8}, {len(converted)} bytes"
    )
    return 0
