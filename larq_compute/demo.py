"""``larq-compute demo``: the whole pipeline in one command.

Trains a small BNN (float first and last layer, binary convolutions in between, Bop for the
binary weights) on scikit-learn's 8x8 digits upsampled to 32x32, prints its summary, converts
it to a ``.tflite`` with binary ops, checks that the converted model predicts exactly what the
Keras model predicts, and times it against the same architecture without quantizers converted
to a float ``.tflite`` and run by LiteRT (XNNPACK).

The timing helpers here (:func:`float_twin`, :func:`float_tflite`, :func:`litert_runner`,
:func:`interleaved_median_ms`) also serve ``bench/zoo.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

IMAGE_SIZE = 16
NUM_CLASSES = 10


@dataclass
class DemoResult:
    keras_accuracy: float
    converted_accuracy: float
    disagreements: int
    test_images: int
    bnn_bytes: int
    float_bytes: int
    bnn_ms: float
    float_ms: float
    threads: int

    @property
    def speedup(self) -> float:
        return self.float_ms / self.bnn_ms

    def table(self) -> str:
        """The result as a Markdown table."""
        rows = [
            ("model", "test accuracy", "size", f"latency ({self.threads} thread{'s' * (self.threads > 1)})", "speed-up"),
            ("---", "---:", "---:", "---:", "---:"),
            ("Keras BNN (training)", f"{self.keras_accuracy:.2%}", "", "", ""),
            (
                "BNN .tflite, larq-compute",
                f"{self.converted_accuracy:.2%}",
                _kilobytes(self.bnn_bytes),
                f"{self.bnn_ms:.3f} ms",
                f"{self.speedup:.1f}x",
            ),
            (
                "float .tflite, LiteRT XNNPACK",
                "(untrained twin)",
                _kilobytes(self.float_bytes),
                f"{self.float_ms:.3f} ms",
                "1.0x",
            ),
        ]
        return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _kilobytes(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def load_digits(image_size: int = IMAGE_SIZE, seed: int = 0):
    """scikit-learn's digits as ``(x_train, y_train, x_test, y_test)``: images in [0, 1],
    upsampled (nearest neighbour) from 8x8 to ``image_size``, a stratified 80/20 split."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
        from sklearn.model_selection import train_test_split
    except ImportError as error:
        raise SystemExit("the demo needs scikit-learn: pip install scikit-learn") from error
    if image_size % 8:
        raise ValueError(f"image_size must be a multiple of 8, got {image_size}")
    digits = sklearn_digits()
    scale = image_size // 8
    images = (digits.images / 16.0).astype("float32")
    images = images.repeat(scale, axis=1).repeat(scale, axis=2)[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.2, random_state=seed, stratify=digits.target
    )
    return x_train, y_train, x_test, y_test


def build_model(image_size: int = IMAGE_SIZE, binary: bool = True):
    """The demo network; ``binary=False`` gives the same architecture without quantizers."""
    import keras

    from larq_compute import layers

    inputs = keras.Input((image_size, image_size, 1), name="image")
    x = keras.layers.Conv2D(32, 3, padding="same", use_bias=False, name="float_stem")(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9)(x)
    for index, (filters, pool) in enumerate(((64, True), (128, True), (256, False), (256, True))):
        x = layers.QuantConv2D(
            filters,
            3,
            padding="same",
            pad_values=1.0 if binary else 0.0,
            input_quantizer="ste_sign" if binary else None,
            kernel_quantizer="ste_sign" if binary else None,
            kernel_constraint="weight_clip" if binary else None,
            use_bias=False,
            name=f"binary_conv_{index}",
        )(x)
        if pool:
            x = keras.layers.MaxPool2D(2)(x)
        # Few steps per epoch: a short moving-average memory keeps test-time statistics fresh.
        x = keras.layers.BatchNormalization(momentum=0.9)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(NUM_CLASSES, name="float_classifier")(x)
    outputs = keras.layers.Activation("softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="digits_bnn" if binary else "digits_float")


def _optimizer():
    import keras

    from larq_compute import optimizers

    return optimizers.CaseOptimizer(
        (optimizers.Bop.is_binary_variable, optimizers.Bop(threshold=1e-6, gamma=1e-3)),
        default_optimizer=keras.optimizers.Adam(0.01),
    )


def float_twin(model):
    """The same architecture with every quantizer removed (float convolutions and dense
    layers with zero padding), for timing the float baseline."""
    import keras

    from larq_compute import layers

    float_classes = {layers.QuantConv2D: keras.layers.Conv2D, layers.QuantDense: keras.layers.Dense,
                     layers.QuantDepthwiseConv2D: keras.layers.DepthwiseConv2D}  # fmt: skip

    def clone(layer):
        config = layer.get_config()
        float_class = float_classes.get(type(layer))
        if float_class is None:
            return layer.__class__.from_config(config)
        for key in ("input_quantizer", "kernel_quantizer", "depthwise_quantizer", "pad_values"):
            config.pop(key, None)
        config["kernel_constraint"] = None
        return float_class.from_config(config)

    # A fresh functional view of the same layers: uncompiled, so cloning does not re-create
    # the training optimizer (whose Bop would find no binary weights in the twin).
    uncompiled = keras.Model(model.input, model.output, name=f"{model.name}_float")
    return keras.models.clone_model(uncompiled, clone_function=clone)


def float_tflite(model) -> bytes:
    """``model`` converted by the stock TFLite converter alone (float, no binary ops)."""
    import tensorflow as tf

    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def litert_runner(model: bytes, num_threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """``x -> y`` with ``ai_edge_litert``'s interpreter (its default XNNPACK delegate)."""
    from ai_edge_litert.interpreter import Interpreter as LiteRtInterpreter

    interpreter = LiteRtInterpreter(model_content=model, num_threads=num_threads)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]

    def run(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)

    return run


def larq_compute_runner(model: bytes, num_threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """``x -> y`` with ``larq_compute.Interpreter``."""
    from larq_compute.interpreter import Interpreter

    return Interpreter(model_content=model, num_threads=num_threads).predict


def interleaved_median_ms(
    runners: dict[str, Callable[[np.ndarray], np.ndarray]],
    x: np.ndarray,
    runs: int = 50,
    warmup: int = 3,
    rounds: int = 5,
) -> dict[str, float]:
    """Median latency per runner in ms, timing ``runs`` calls of each, in alternating rounds so
    that load changes on a shared machine hit every runner alike."""
    if runs < rounds:
        raise ValueError(f"runs ({runs}) must be at least rounds ({rounds})")
    for run in runners.values():
        for _ in range(warmup):
            run(x)
    latencies: dict[str, list[float]] = {name: [] for name in runners}
    per_round = runs // rounds
    for _ in range(rounds):
        for name, run in runners.items():
            for _ in range(per_round):
                start = time.perf_counter()
                run(x)
                latencies[name].append((time.perf_counter() - start) * 1e3)
    return {name: float(np.median(values)) for name, values in latencies.items()}


def run_demo(
    epochs: int = 6,
    batch_size: int = 64,
    threads: int = 1,
    runs: int = 100,
    seed: int = 0,
    print_fn: Callable[[str], object] = print,
) -> DemoResult:
    """Train, summarise, convert, check and time the demo BNN; returns the numbers it prints."""
    import keras

    import larq_compute as lc

    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = load_digits(seed=seed)
    print_fn(
        f"Data: scikit-learn digits upsampled to {IMAGE_SIZE}x{IMAGE_SIZE}, "
        f"{len(x_train)} training and {len(x_test)} test images."
    )
    model = build_model()
    lc.models.summary(model, print_fn=print_fn)

    print_fn(f"\nTraining for {epochs} epochs (Bop for binary kernels, Adam for the rest):")
    model.compile(
        optimizer=_optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    # A progress bar on a terminal; one line per epoch in logs and pipes, where "\r" redraws
    # pile up.
    verbose = 1 if sys.stdout.isatty() else 2
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose)
    keras_predictions = np.argmax(model.predict(x_test, verbose=0), axis=1)

    print_fn("\nConverting to .tflite with binary ops:")
    with contextlib.redirect_stdout(io.StringIO()):  # the stock converter's progress output
        converted = lc.convert_keras_model(model)
    print_fn(str(converted.report))
    bnn_model = bytes(converted)
    predict = larq_compute_runner(bnn_model, threads)
    converted_predictions = np.argmax(predict(x_test), axis=1)
    disagreements = int(np.sum(converted_predictions != keras_predictions))
    verdict = "identical predictions" if disagreements == 0 else "PREDICTIONS DIFFER"
    print_fn(
        f"\nConverted vs Keras on {len(x_test)} test images: {verdict} "
        f"({disagreements} disagreements)"
    )

    print_fn("\nConverting the same architecture without quantizers to a float .tflite")
    with contextlib.redirect_stdout(io.StringIO()):
        float_model = float_tflite(float_twin(model))
    one_image = x_test[:1]
    latency = interleaved_median_ms(
        {"bnn": larq_compute_runner(bnn_model, threads), "float": litert_runner(float_model, threads)},
        one_image,
        runs=runs,
    )
    result = DemoResult(
        keras_accuracy=float(np.mean(keras_predictions == y_test)),
        converted_accuracy=float(np.mean(converted_predictions == y_test)),
        disagreements=disagreements,
        test_images=len(x_test),
        bnn_bytes=len(bnn_model),
        float_bytes=len(float_model),
        bnn_ms=latency["bnn"],
        float_ms=latency["float"],
        threads=threads,
    )
    print_fn(f"\nBatch-1 latency, median of {runs} runs each, interleaved:\n")
    print_fn(result.table())
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=6, help="training epochs (default 6)")
    parser.add_argument("--batch-size", type=int, default=64, help="training batch size")
    parser.add_argument("--threads", type=int, default=1, help="inference threads (both runtimes)")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per model")
    parser.add_argument("--seed", type=int, default=0, help="random seed (data split, weights)")


def main(args: argparse.Namespace) -> int:
    for name in ("epochs", "batch_size", "threads", "runs"):
        if getattr(args, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be at least 1")
    result = run_demo(args.epochs, args.batch_size, args.threads, args.runs, args.seed)
    return 0 if result.disagreements == 0 else 1
