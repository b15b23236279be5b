"""Latency of every zoo model: larq-compute's BNN .tflite vs the float .tflite on LiteRT (XNNPACK).

For each model (random weights, batch 1, 224x224x3, 1000 classes) this converts the model with
``lc.convert_keras_model`` and the same architecture without quantizers (``demo.float_twin``)
with the stock TFLite converter, then times both with 1 and 2 threads, interleaved in rounds so
that load on a shared machine hits both alike, and prints medians and their ratio as a
Markdown table. It also counts the ``LceBconv2d`` ops against the model's binary convolutions.

    .venv/bin/python bench/zoo.py [--models QuickNet,BiRealNet] [--threads 1,2] [--runs 30]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import larq_compute as lc  # noqa: E402
from larq_compute import demo, zoo  # noqa: E402
from larq_compute.compiler import import_model  # noqa: E402


def _binary_convolutions(model) -> int:
    return sum(
        1
        for layer in model.layers
        if isinstance(layer, lc.layers.QuantConv2D)
        and layer.input_precision == 1
        and getattr(layer.kernel, "precision", 32) == 1
    )


def _quietly(function, *args):
    """Run a conversion without the stock converter's progress prints and layer warnings."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args)


def bench_model(name: str, threads: list[int], runs: int, size: int) -> dict:
    model = zoo.MODELS[name](input_shape=(size, size, 3))
    profile = lc.models.summary(model, print_fn=lambda _: None)
    start = time.perf_counter()
    bnn = bytes(_quietly(lc.convert_keras_model, model))
    convert_s = time.perf_counter() - start
    float_model = _quietly(demo.float_tflite, demo.float_twin(model))
    ops = [op.type for op in import_model(bnn).main.ops]
    image = np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)).astype("float32")
    row = {
        "name": name,
        "binary_macs": profile.macs_by_bits.get(1, 0),
        "float_macs": profile.macs_by_bits.get(32, 0),
        "bconv": ops.count("LceBconv2d"),
        "binary_convs": _binary_convolutions(model),
        "bnn_bytes": len(bnn),
        "float_bytes": len(float_model),
        "convert_s": convert_s,
    }
    for n in threads:
        runners = {
            "bnn": demo.larq_compute_runner(bnn, n),
            "float": demo.litert_runner(float_model, n),
        }
        row[n] = demo.interleaved_median_ms(runners, image, runs=runs)
    return row


def markdown(rows: list[dict], threads: list[int]) -> str:
    header = ["model", "binary MACs", "LceBconv2d / binary convs", "BNN size", "float size"]
    for n in threads:
        header += [f"BNN {n}T (ms)", f"float {n}T (ms)", f"speed-up {n}T"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            row["name"],
            f"{row['binary_macs'] / 1e9:.2f} G",
            f"{row['bconv']} / {row['binary_convs']}",
            f"{row['bnn_bytes'] / 2**20:.2f} MiB",
            f"{row['float_bytes'] / 2**20:.1f} MiB",
        ]
        for n in threads:
            bnn_ms, float_ms = row[n]["bnn"], row[n]["float"]
            cells += [f"{bnn_ms:.1f}", f"{float_ms:.1f}", f"{float_ms / bnn_ms:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(zoo.MODELS), help="comma-separated names")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per model and setting")
    parser.add_argument("--input-size", type=int, default=224, help="input height and width")
    args = parser.parse_args(argv)
    names = args.models.split(",")
    unknown = sorted(set(names) - set(zoo.MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; known: {', '.join(zoo.MODELS)}")
    threads = [int(n) for n in args.threads.split(",")]
    rows = []
    for name in names:
        row = bench_model(name, threads, args.runs, args.input_size)
        timings = ", ".join(
            f"{n}T {row[n]['bnn']:.1f} vs {row[n]['float']:.1f} ms" for n in threads
        )
        print(f"{name}: converted in {row['convert_s']:.0f} s; {timings}", file=sys.stderr)
        rows.append(row)
    print(
        f"Batch 1, {args.input_size}x{args.input_size}x3, random weights; median of {args.runs} "
        "runs each, BNN and float interleaved.\n"
    )
    print(markdown(rows, threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
