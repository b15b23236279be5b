"""Conversion time and .tflite size for two reference BNNs, float vs converted side by side.

- QuickNet (``larq_compute.zoo.QuickNet``), 224x224x3, 1000 classes. Target: ≤ 20 s and
  ≤ 4.35 MB (the established engine's QuickNet file).
- BinaryNet CIFAR-10 (Larq's example), 32x32x3: convs 128-128-MP-256-256-MP-512-512-MP (the first
  with binary weights on the float image), binary Dense 4608→1024→1024→10, BN after each layer.
  Target: ≤ 1.5 MB (the established engine kept the binary Dense layers float: 23.7 MB).

    .venv/bin/python bench/convert_models.py [--runs 3]

Prints the median wall time of ``convert_keras_model`` (stock converter + passes) and of the
passes alone, and the sizes.
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from model_size import randomize_batch_norms

import larq_compute as lc
from larq_compute import layers as lq
from larq_compute.compiler import convert_flatbuffer

BINARY = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)


def binarynet_cifar() -> keras.Model:
    """Larq's BinaryNet CIFAR-10 example: the first conv reads the float image (VALID padding)."""

    def bn() -> keras.layers.BatchNormalization:
        return keras.layers.BatchNormalization(momentum=0.999, scale=False)

    x = keras.Input((32, 32, 3))
    y = lq.QuantConv2D(128, 3, kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)(x)
    y = bn()(y)
    for filters, pool in ((128, True), (256, False), (256, True), (512, False), (512, True)):
        y = lq.QuantConv2D(filters, 3, padding="same", **BINARY)(y)
        if pool:
            y = keras.layers.MaxPool2D(2)(y)
        y = bn()(y)
    y = keras.layers.Flatten()(y)
    for units in (1024, 1024, 10):
        y = lq.QuantDense(units, **BINARY)(y)
        y = bn()(y)
    return keras.Model(x, keras.layers.Activation("softmax")(y), name="binarynet_cifar")


def _median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for build, size_target in ((lc.zoo.QuickNet, 4.35e6), (binarynet_cifar, 1.5e6)):
        model = build()
        randomize_batch_norms(model, np.random.default_rng(0))  # sizes as after training
        float_bytes = tf.lite.TFLiteConverter.from_keras_model(model).convert()
        total = _median_seconds(lambda model=model: lc.convert_keras_model(model), args.runs)
        passes = _median_seconds(lambda fb=float_bytes: convert_flatbuffer(fb, warn=False), args.runs)
        converted = convert_flatbuffer(float_bytes, warn=False)
        report = converted.report
        rows.append((model.name, model.count_params(), total, passes, len(float_bytes), len(converted),
                     size_target, len(report.binary_layers), len(report.float_layers)))
    print(f"{'model':16} {'params':>10} {'convert s':>10} {'passes s':>9} {'float MB':>9} "
          f"{'binary MB':>10} {'ratio':>6} {'target MB':>10}  binary/float layers")
    for name, params, total, passes, fb, cb, target, nb, nf in rows:
        print(f"{name:16} {params:>10,} {total:>10.2f} {passes:>9.2f} {fb / 1e6:>9.2f} {cb / 1e6:>10.3f} "
              f"{fb / cb:>5.1f}x {target / 1e6:>10.2f}  {nb}/{nf}")


if __name__ == "__main__":
    main()
