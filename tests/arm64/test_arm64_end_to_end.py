"""End to end on ARM64: a model converted by our compiler runs on LiteRT's aarch64 runtime
(libLiteRt.so of the pinned ai-edge-litert wheel for manylinux_2_27_aarch64) with our ops
cross-compiled for aarch64, under qemu-user, and its outputs equal the x86-64 run's.

Both sides run tests/arm64/model_io_runner.cpp (lc::runtime::ModelRunner) on the same input
files: the host build with the installed wheel's libLiteRt.so, the aarch64 build under
toolchain/qemu_run.sh (Cortex-A72 model, fake ARM /proc/cpuinfo) with the aarch64 one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from arm64_support import QEMU_RUN, REPO, require, run

pytestmark = pytest.mark.slow

RUNNER = "//tests/arm64:model_io_runner"


def bazel_binary(bazel: str, *config: str) -> Path:
    run([bazel, "build", *config, RUNNER], timeout=1800)
    bin_dir = run([bazel, "info", *config, "bazel-bin"], timeout=300).stdout.strip()
    return Path(bin_dir) / "tests" / "arm64" / "model_io_runner"


@pytest.fixture(scope="module")
def runners(bazel: str) -> dict[str, Path]:
    return {"x86_64": bazel_binary(bazel), "aarch64": bazel_binary(bazel, "--config=aarch64")}


@pytest.fixture(scope="module")
def litert_libraries(cross_toolchain: None) -> dict[str, Path]:
    from larq_compute.interpreter import litert_library

    fetch = subprocess.run([str(REPO / "scripts" / "arm64_fetch_litert.sh")],
                           capture_output=True, text=True, timeout=600)
    require(fetch.returncode == 0,
            f"the aarch64 ai-edge-litert wheel (pip download failed: {fetch.stderr.strip()[-300:]})")
    return {"x86_64": Path(litert_library()),
            "aarch64": Path(fetch.stdout.strip().splitlines()[-1]) / "libLiteRt.so"}


def float_model():
    import keras

    keras.utils.set_random_seed(1)
    x = keras.Input((16, 16, 3))
    y = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    y = keras.layers.MaxPool2D(2)(y)
    y = keras.layers.DepthwiseConv2D(3, padding="same")(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    y = keras.layers.Dense(10, activation="softmax")(y)
    return keras.Model(x, y, name="float_cnn")


def binary_model():
    import keras

    from larq_compute import layers as lq

    binary = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                  kernel_constraint="weight_clip", use_bias=False)
    keras.utils.set_random_seed(2)

    def batch_norm():
        return keras.layers.BatchNormalization(
            gamma_initializer=keras.initializers.RandomNormal(0.0, 1.0),
            beta_initializer=keras.initializers.RandomNormal(0.0, 0.5),
            moving_mean_initializer=keras.initializers.RandomNormal(0.0, 2.0),
            moving_variance_initializer=keras.initializers.RandomUniform(0.5, 4.0))

    x = keras.Input((16, 16, 3))
    y = keras.layers.Conv2D(32, 3, padding="same")(x)
    y = batch_norm()(y)
    y = lq.QuantConv2D(64, 3, padding="same", pad_values=1.0, **binary)(y)
    y = batch_norm()(y)
    # A residual block: the compiler fuses the ADD into the conv (residual input, NEON output stage).
    r = lq.QuantConv2D(64, 3, padding="same", pad_values=1.0, **binary)(y)
    y = keras.layers.Add()([batch_norm()(r), y])
    y = keras.layers.MaxPool2D(2)(y)
    y = lq.QuantConv2D(96, 3, strides=2, padding="same", **binary)(y)
    y = batch_norm()(y)
    y = keras.layers.Flatten()(y)
    y = lq.QuantDense(10, **binary)(y)
    y = batch_norm()(y)
    return keras.Model(x, y, name="binary_cnn")


def convert(model) -> bytes:
    if model.name == "binary_cnn":
        import larq_compute as lc

        flatbuffer = bytes(lc.convert_keras_model(model))
        assert b"LceBconv2d" in flatbuffer, "the compiler produced no binary convolution"
        from larq_compute.compiler import import_model

        ops = import_model(flatbuffer).main.ops
        assert any(op.type == "LceBconv2d" and op.input(5) is not None for op in ops), "no fused residual"
    else:
        import tensorflow as tf

        flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    from larq_compute.runtime_prepare import prepare_model

    return prepare_model(flatbuffer)


@pytest.mark.parametrize("make_model", [float_model, binary_model], ids=["float", "binary"])
def test_aarch64_run_under_qemu_equals_x86_64_run(make_model, runners, litert_libraries, tmp_path):
    model = make_model()
    model_path = tmp_path / "model.tflite"
    model_path.write_bytes(convert(model))
    images = np.random.default_rng(3).normal(size=(1, 16, 16, 3)).astype(np.float32)
    input_path = tmp_path / "input0.bin"
    images.tofile(input_path)

    outputs = {}
    # On aarch64 the NEON kernels are forced: a build or CPU without them fails instead of
    # silently running the portable ones.
    host_env = {k: v for k, v in os.environ.items() if k != "LARQ_COMPUTE_KERNEL"}
    for arch, prefix, env in (("x86_64", [], host_env),
                              ("aarch64", [str(QEMU_RUN)], {**host_env, "LARQ_COMPUTE_KERNEL": "neon"})):
        out = tmp_path / f"{arch}_"
        run([*prefix, str(runners[arch]), str(model_path), str(litert_libraries[arch]),
             str(input_path), "--", str(out)], timeout=600, env=env)
        outputs[arch] = np.fromfile(f"{out}0.bin", dtype=np.float32)

    # The binary ops are exact integer arithmetic plus one float multiply-add per output on both
    # sides; only LiteRT's float kernels (XNNPACK, other instructions per ISA) may round apart.
    np.testing.assert_allclose(outputs["aarch64"], outputs["x86_64"], rtol=1e-5, atol=1e-5)
    if model.name == "float_cnn":
        # And the common answer is the model's (the compiler's own tests check binary models
        # against Keras, where a sign flip near 0 needs more care than this check).
        expected = model(images, training=False).numpy().ravel()
        np.testing.assert_allclose(outputs["x86_64"], expected, rtol=1e-4, atol=1e-5)
