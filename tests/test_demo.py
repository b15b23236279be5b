"""``larq-compute demo`` end to end (one epoch), and the helpers it shares with bench/zoo.py."""

from __future__ import annotations

import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from larq_compute import demo, layers


def test_demo_runs_end_to_end():
    result = subprocess.run(
        [sys.executable, "-m", "larq_compute", "demo", "--epochs", "1", "--runs", "10"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Ratio of MACs that are binarized" in out  # the model summary
    assert "4 binary layers" not in out and re.search(r"\b6 binary layers\b", out)
    assert re.search(r"on 360 test images: identical predictions \(0 disagreements\)", out)
    table = re.search(
        r"\| BNN \.tflite, larq-compute \| ([\d.]+)% \| ([\d.]+) KiB \| ([\d.]+) ms \| ([\d.]+)x \|",
        out,
    )
    assert table, out[-2000:]
    float_row = re.search(r"\| float \.tflite, LiteRT XNNPACK \| .* \| ([\d.]+) KiB \| ([\d.]+) ms", out)
    assert float_row, out[-2000:]
    keras_row = re.search(r"\| Keras BNN \(training\) \| ([\d.]+)% \|", out)
    assert keras_row.group(1) == table.group(1)  # identical predictions, identical accuracy
    assert float(table.group(2)) * 10 < float(float_row.group(1))  # bit-packed weights


def test_demo_rejects_bad_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "larq_compute", "demo", "--epochs", "0"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "--epochs must be at least 1" in result.stderr


def test_digits_are_upsampled_and_split():
    x_train, y_train, x_test, y_test = demo.load_digits(image_size=16)
    assert x_train.shape == (1437, 16, 16, 1) and x_test.shape == (360, 16, 16, 1)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    # Nearest-neighbour upsampling: every 2x2 block is one original pixel.
    np.testing.assert_array_equal(x_train[:, ::2, ::2], x_train[:, 1::2, 1::2])
    assert set(np.unique(y_test)) == set(range(10))
    with pytest.raises(ValueError, match="multiple of 8"):
        demo.load_digits(image_size=12)


def test_float_twin_keeps_shapes_and_drops_quantizers():
    model = demo.build_model()
    model.compile(optimizer=demo._optimizer(), loss="sparse_categorical_crossentropy")
    twin = demo.float_twin(model)
    assert not any(isinstance(layer, layers.QuantConv2D) for layer in twin.layers)
    assert [w.shape for w in twin.weights] == [w.shape for w in model.weights]
    assert twin.output.shape == model.output.shape
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in twin.layers)


def test_interleaved_median_times_every_runner():
    calls = {"a": 0, "b": 0}

    def runner(name):
        def run(x):
            calls[name] += 1
            return x

        return run

    timings = demo.interleaved_median_ms(
        {"a": runner("a"), "b": runner("b")}, np.zeros(1), runs=10, warmup=2, rounds=5
    )
    assert set(timings) == {"a", "b"} and all(t >= 0 for t in timings.values())
    assert calls == {"a": 12, "b": 12}
    with pytest.raises(ValueError, match="at least rounds"):
        demo.interleaved_median_ms({"a": runner("a")}, np.zeros(1), runs=2, rounds=5)
