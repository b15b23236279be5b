"""Headline: a 56x56x64 -> 64 3x3 stride-1 one-padded binary conv vs the same conv in float.

    python bench/kernels_vs_float.py [--rounds 15] [--iterations 40]

Float: tf.keras Conv2D converted with tf.lite.TFLiteConverter and run by ai_edge_litert's
Interpreter (XNNPACK, num_threads=1). Binary: our BConv2D (best variant) on the bit-packed input,
with float output (multiplier/bias fused) and with bit-packed output. Rounds alternate between the
contenders so machine load hits all alike; the main numbers are medians over all
samples (the best sample is shown too: it is less sensitive to other processes).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from larq_compute._native import kernels  # noqa: E402
from support import numpy_reference as ref  # noqa: E402

H = W = 56
C_IN = C_OUT = 64
KERNEL = 3


def float_conv_interpreter(threads: int):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    inputs = tf.keras.Input((H, W, C_IN), batch_size=1)
    outputs = tf.keras.layers.Conv2D(C_OUT, KERNEL, padding="same")(inputs)
    model = tf.keras.Model(inputs, outputs)
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    interpreter = Interpreter(model_content=flatbuffer, num_threads=threads)
    interpreter.allocate_tensors()
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert ops <= {"CONV_2D", "DELEGATE"} and "CONV_2D" in ops, ops  # DELEGATE: XNNPACK took it
    index = interpreter.get_input_details()[0]["index"]
    interpreter.set_tensor(index, np.random.default_rng(0).standard_normal((1, H, W, C_IN)).astype(np.float32))

    def run(iterations: int) -> list[float]:
        seconds = []
        for _ in range(iterations):
            start = time.perf_counter()
            interpreter.invoke()
            seconds.append(time.perf_counter() - start)
        return seconds

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--iterations", type=int, default=40)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = ref.bitpack(ref.random_signs(rng, (1, H, W, C_IN)))
    w = ref.bitpack(ref.random_signs(rng, (C_OUT, KERNEL, KERNEL, C_IN)))
    common = {"padding": "same", "pad_value": 1}
    binary_float = kernels.make_bconv2d(w, (H, W), C_IN, output_type="float",
                                        multiplier=rng.uniform(0.1, 1, C_OUT).astype(np.float32),
                                        bias=rng.uniform(-1, 1, C_OUT).astype(np.float32), **common)
    binary_bits = kernels.make_bconv2d(w, (H, W), C_IN, output_type="bitpacked",
                                       thresholds=np.full(C_OUT, 288, np.int32), **common)
    contenders = {
        "float CONV_2D, LiteRT XNNPACK, 1 thread": float_conv_interpreter(1),
        f"binary, float output, {binary_float.variant}, 1 thread": lambda n: binary_float.time(x, n, 1),
        f"binary, float output, {binary_float.variant}, 2 threads": lambda n: binary_float.time(x, n, 2),
        f"binary, bit-packed output, {binary_bits.variant}, 1 thread": lambda n: binary_bits.time(x, n, 1),
        f"binary, bit-packed output, {binary_bits.variant}, 2 threads": lambda n: binary_bits.time(x, n, 2),
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    roofline: list[float] = []
    for run in contenders.values():
        run(5)  # warm-up
    for _ in range(args.rounds):
        for name, run in contenders.items():
            samples[name] += run(args.iterations)
        roofline.append(kernels.avx512_popcount_roofline(0.01))

    macs = H * W * C_OUT * KERNEL * KERNEL * C_IN
    roof = float(np.median(roofline))
    medians = {name: float(np.median(s)) for name, s in samples.items()}
    bests = {name: float(np.min(s)) for name, s in samples.items()}
    float_time, float_best = next(iter(medians.values())), next(iter(bests.values()))
    print(f"{H}x{W}x{C_IN} -> {C_OUT}, {KERNEL}x{KERNEL}, stride 1, one-padded SAME; {macs / 1e6:.1f} M MACs")
    print(f"AVX-512 popcount roofline (measured): {roof / 1e9:.0f} G binary MACs/s per core; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print(f"{'':58s} {'median us':>10s} {'vs float':>9s} {'% roof/thread':>14s} "
          f"{'(best us':>9s} {'vs float)':>9s}")
    for name, t in medians.items():
        threads = 2 if "2 threads" in name else 1
        share = f"{100 * macs / t / roof / threads:13.1f}%" if name.startswith("binary") else " " * 14
        print(f"{name:58s} {t * 1e6:10.1f} {float_time / t:8.2f}x {share} "
              f"{bests[name] * 1e6:9.1f} {float_best / bests[name]:8.2f}x")
    for output in ["float output", "bit-packed output"]:
        one, two = (medians[n] for n in medians if output in n)
        print(f"2 threads over 1 thread, {output}: {one / two:.2f}x")


if __name__ == "__main__":
    main()
