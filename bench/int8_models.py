"""Zoo models converted float vs whole-model int8 (``experimental_default_int8_range``), side by side.

For each model (random weights, batch 1, 1000 classes) this converts it twice with
``lc.convert_keras_model``: as usual (float activations outside the binary ops) and with a
default int8 range and int8 I/O, then prints conversion time, size, how many activation
tensors are int8 and the median latency of both, interleaved on the same machine.

    .venv/bin/python bench/int8_models.py [--models QuickNet] [--runs 20] [--range 3] [--profile]

``--profile`` also prints each variant's median time per custom op type (``larq-compute
benchmark``'s per-op timings, summed over the op's nodes), e.g. ``LceBconv2d`` with float vs int8
output.
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
import tensorflow as tf  # noqa: E402

import larq_compute as lc  # noqa: E402
from larq_compute import demo, zoo  # noqa: E402
from larq_compute.runtime_benchmark import benchmark  # noqa: E402


def _convert(model, **options) -> tuple[lc.compiler.ConvertedModel, float]:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = lc.convert_keras_model(model, **options)
    return converted, time.perf_counter() - start


def _int8_runner(model: bytes, num_threads: int):
    """Quantizes the float image with the model's input scale outside the timed model."""
    interpreter = lc.Interpreter(model_content=model, num_threads=num_threads)
    scale, zero_point = interpreter.input_details[0]["quantization"]
    return lambda x: interpreter.predict(np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8))


def _custom_op_profile(name: str, variant: str, model: bytes, args: argparse.Namespace) -> str:
    result = benchmark(model, args.threads, args.runs, warmup=3)
    by_op: dict[str, float] = {}
    for _, _, op, ms, custom in result.op_ms:
        if custom:
            by_op[op] = by_op.get(op, 0.0) + ms
    ops = ", ".join(f"{op} {ms:.2f}" for op, ms in sorted(by_op.items()))
    return f"  {name} {variant}: {ops} (invoke {result.median_ms:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="QuickNet", help="comma-separated zoo names")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per model and setting")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--range", type=float, default=3.0, help="default range is (-R, R)")
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--profile", action="store_true", help="per custom op type times too")
    args = parser.parse_args(argv)
    size = args.input_size
    image = np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)).astype(np.float32)
    lines = [
        "| model | variant | convert (s) | size | int8 / activation tensors | latency (ms) |",
        "|---|---|---|---|---|---|",
    ]
    profiles: list[str] = []
    for name in args.models.split(","):
        model = zoo.MODELS[name](input_shape=(size, size, 3))
        bnn, bnn_s = _convert(model)
        int8, int8_s = _convert(
            model, inference_input_type=tf.int8, inference_output_type=tf.int8,
            experimental_default_int8_range=(-args.range, args.range))
        runners = {
            "float": demo.larq_compute_runner(bnn, args.threads),
            "int8": _int8_runner(int8, args.threads),
        }
        ms = demo.interleaved_median_ms(runners, image, runs=args.runs)
        if args.profile:
            profiles.extend(_custom_op_profile(name, variant, converted, args)
                            for variant, converted in (("float", bnn), ("int8", int8)))
        for variant, converted, seconds in (("float", bnn, bnn_s), ("int8", int8, int8_s)):
            report = converted.report
            lines.append(
                f"| {name} | {variant} | {seconds:.1f} | {len(converted) / 2**20:.2f} MiB | "
                f"{len(report.int8_tensors)} / {report.activation_tensors} | {ms[variant]:.1f} |"
            )
    print(f"Batch 1, {size}x{size}x3, random weights, {args.threads} thread(s), default range "
          f"(-{args.range}, {args.range}); median of {args.runs} runs, variants interleaved.\n")
    print("\n".join(lines))
    if profiles:
        print("\nms per invoke in custom ops (median of runs):")
        print("\n".join(profiles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
