"""Training-step cost of quantization: the same CNN with float, binary (STE + Adam) and
binary (Bop via CaseOptimizer) convolutions, side by side in one run.

    .venv/bin/python bench/training_step.py [--steps 30] [--batch 32]

Model: 32x32x3 input, float 3x3 stem, four 3x3 64-channel convolutions each followed by batch
norm (max-pool after the second and fourth), global average pooling, float Dense(10). Prints
the median wall time of one `train_on_batch` step after a warm-up, and its ratio to float.
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np

import larq_compute as lc


def build(binary: bool) -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    quantized = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                     kernel_constraint="weight_clip", pad_values=1.0) if binary else {}
    for block in range(4):
        x = lc.layers.QuantConv2D(64, 3, padding="same", use_bias=False, **quantized)(x)
        x = keras.layers.BatchNormalization()(x)
        if block % 2:
            x = keras.layers.MaxPool2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def step_time(model: keras.Model, optimizer: keras.optimizers.Optimizer, x: np.ndarray, y: np.ndarray, steps: int) -> float:
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for _ in range(3):
        model.train_on_batch(x, y)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, args.batch)
    cases = {
        "float conv, Adam": (build(False), keras.optimizers.Adam()),
        "binary conv, Adam (STE)": (build(True), keras.optimizers.Adam()),
        "binary conv, Bop + Adam": (
            build(True),
            lc.optimizers.CaseOptimizer(
                (lc.optimizers.Bop.is_binary_variable, lc.optimizers.Bop()),
                default_optimizer=keras.optimizers.Adam(),
            ),
        ),
    }
    results = {name: step_time(model, opt, x, y, args.steps) for name, (model, opt) in cases.items()}
    baseline = results["float conv, Adam"]
    print(f"median train step, batch {args.batch}, {args.steps} steps")
    for name, seconds in results.items():
        print(f"  {name:26s} {seconds * 1e3:8.1f} ms   x{seconds / baseline:.2f}")


if __name__ == "__main__":
    main()
