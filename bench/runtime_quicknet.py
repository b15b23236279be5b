"""End-to-end runtime benchmark on a QuickNet-like 224x224 model, side by side in one run.

Builds the same architecture twice by hand (flatbuffer schema): QuickNet's float stem (conv 3x3/2,
depthwise 3x3/2, pointwise) and head (global average pool, dense 1000, softmax) around four
sections of four residual 3x3 convs (64/128/256/512 channels at 56/28/14/7 pixels) with 2x2
max-pool transitions. Once binary (LceQuantize / LceBconv2d / LceBMaxPool2d), once all float
(CONV_2D / MAX_POOL_2D), runs both on LiteRT with 1 thread (XNNPACK for builtin ops), and prints
medians and their ratio, timed two ways: each model back to back (the headline, as deployed) and
strictly alternating single invokes (each invoke after the other model's, caches cold).
Then measures the per-op overhead of the custom-op path with a chain of tiny custom ops.

    .venv/bin/python bench/runtime_quicknet.py [--runs 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support import numpy_reference as ref  # noqa: E402

from larq_compute import Interpreter  # noqa: E402
from larq_compute.demo import interleaved_median_ms  # noqa: E402
from larq_compute.runtime_benchmark import benchmark  # noqa: E402
from larq_compute.runtime_model_builder import ModelBuilder  # noqa: E402

OP = schema.BuiltinOperator
SECTIONS = [(64, 4), (128, 4), (256, 4), (512, 4)]  # (channels, binary convs) per resolution


class _Net:
    def __init__(self, binary: bool, seed: int = 0):
        self.b = ModelBuilder()
        self.binary = binary
        self.rng = np.random.default_rng(seed)
        self.count = 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def float_conv(self, x, shape, cout, k, stride, relu=True):
        n, h, w, cin = shape
        oh, ow = -(-h // stride), -(-w // stride)
        name = self.name("conv")
        wt = self.b.tensor([cout, k, k, cin], np.float32, f"{name}/w",
                           data=self.rng.normal(0, 0.1, (cout, k, k, cin)).astype(np.float32))
        bias = self.b.tensor([cout], np.float32, f"{name}/b", data=np.zeros(cout, np.float32))
        y = self.b.tensor([n, oh, ow, cout], np.float32, f"{name}/y")
        opt = schema.Conv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = schema.Padding.SAME, stride, stride
        opt.dilationHFactor = opt.dilationWFactor = 1
        opt.fusedActivationFunction = (schema.ActivationFunctionType.RELU if relu
                                       else schema.ActivationFunctionType.NONE)
        self.b.builtin_op(OP.CONV_2D, [x, wt, bias], [y], schema.BuiltinOptions.Conv2DOptions, opt)
        return y, [n, oh, ow, cout]

    def depthwise_conv(self, x, shape, k, stride):
        n, h, w, c = shape
        oh, ow = -(-h // stride), -(-w // stride)
        name = self.name("dwconv")
        wt = self.b.tensor([1, k, k, c], np.float32, f"{name}/w",
                           data=self.rng.normal(0, 0.1, (1, k, k, c)).astype(np.float32))
        bias = self.b.tensor([c], np.float32, f"{name}/b", data=np.zeros(c, np.float32))
        y = self.b.tensor([n, oh, ow, c], np.float32, f"{name}/y")
        opt = schema.DepthwiseConv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = schema.Padding.SAME, stride, stride
        opt.depthMultiplier = opt.dilationHFactor = opt.dilationWFactor = 1
        self.b.builtin_op(OP.DEPTHWISE_CONV_2D, [x, wt, bias], [y],
                          schema.BuiltinOptions.DepthwiseConv2DOptions, opt)
        return y, [n, oh, ow, c]

    def quantize(self, x, shape):
        y = self.b.tensor(shape[:-1] + [ref.packed_size(shape[-1])], np.int32, self.name("q"))
        self.b.custom_op("LceQuantize", [x], [y])
        return y

    def binary_conv(self, h, shape, cout, stride=1, residual=None):
        """Float in, float out: LceQuantize -> LceBconv2d (one-padded SAME) [+ residual, the
        residual ADD fused into the conv as the compiler emits it (input 5)]."""
        n, hh, ww, cin = shape
        q = self.quantize(h, shape)
        name = self.name("bconv")
        w = ref.random_signs(self.rng, (cout, 3, 3, cin))
        f = self.b.tensor([cout, 3, 3, ref.packed_size(cin)], np.int32, f"{name}/f", data=ref.bitpack(w))
        m = self.b.tensor([cout], np.float32, f"{name}/m",
                          data=self.rng.uniform(0.01, 0.1, cout).astype(np.float32))
        bias = self.b.tensor([cout], np.float32, f"{name}/b", data=np.zeros(cout, np.float32))
        y = self.b.tensor([n, hh, ww, cout], np.float32, f"{name}/y")
        inputs = [q, f, m, bias] if residual is None else [q, f, m, bias, -1, residual]
        self.b.custom_op("LceBconv2d", inputs, [y], {
            "channels_in": cin, "dilation_height_factor": 1, "dilation_width_factor": 1,
            "fused_activation_function": 0, "pad_values": 1, "padding": 0,
            "stride_height": stride, "stride_width": stride})
        return y

    def add(self, a, c, shape):
        y = self.b.tensor(shape, np.float32, self.name("add"))
        opt = schema.AddOptionsT()
        self.b.builtin_op(OP.ADD, [a, c], [y], schema.BuiltinOptions.AddOptions, opt)
        return y

    def block(self, h, shape):
        if self.binary:
            return self.binary_conv(h, shape, shape[-1], residual=h)
        return self.add(h, self.float_conv(h, shape, shape[-1], 3, 1, relu=False)[0], shape)

    def transition(self, h, shape, cout):
        n, hh, ww, cin = shape
        half = [n, hh // 2, ww // 2, cin]
        if self.binary:
            q = self.quantize(h, shape)
            p = self.b.tensor(half[:-1] + [ref.packed_size(cin)], np.int32, self.name("bpool"))
            self.b.custom_op("LceBMaxPool2d", [q], [p], {"padding": 1, "stride_height": 2,
                                                          "stride_width": 2, "filter_height": 2,
                                                          "filter_width": 2})
            name = self.name("bconv")
            w = ref.random_signs(self.rng, (cout, 3, 3, cin))
            f = self.b.tensor([cout, 3, 3, ref.packed_size(cin)], np.int32, f"{name}/f",
                              data=ref.bitpack(w))
            m = self.b.tensor([cout], np.float32, f"{name}/m", data=np.full(cout, 0.05, np.float32))
            bias = self.b.tensor([cout], np.float32, f"{name}/b", data=np.zeros(cout, np.float32))
            y = self.b.tensor(half[:-1] + [cout], np.float32, f"{name}/y")
            self.b.custom_op("LceBconv2d", [p, f, m, bias], [y], {
                "channels_in": cin, "dilation_height_factor": 1, "dilation_width_factor": 1,
                "fused_activation_function": 0, "pad_values": 1, "padding": 0,
                "stride_height": 1, "stride_width": 1})
            return y, half[:-1] + [cout]
        p = self.b.tensor(half, np.float32, self.name("pool"))
        opt = schema.Pool2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = schema.Padding.VALID, 2, 2
        opt.filterHeight = opt.filterWidth = 2
        self.b.builtin_op(OP.MAX_POOL_2D, [h], [p], schema.BuiltinOptions.Pool2DOptions, opt)
        return self.float_conv(p, half, cout, 3, 1, relu=False)

    def head(self, h, shape, classes=1000):
        n, hh, ww, c = shape
        pooled = self.b.tensor([n, 1, 1, c], np.float32, "gap")
        opt = schema.Pool2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = schema.Padding.VALID, 1, 1
        opt.filterHeight, opt.filterWidth = hh, ww
        self.b.builtin_op(OP.AVERAGE_POOL_2D, [h], [pooled], schema.BuiltinOptions.Pool2DOptions, opt)
        flat_shape = self.b.tensor([2], np.int32, "flat_shape", data=np.array([n, c], np.int32))
        flat = self.b.tensor([n, c], np.float32, "flat")
        self.b.builtin_op(OP.RESHAPE, [pooled, flat_shape], [flat])
        w = self.b.tensor([classes, c], np.float32, "fc/w",
                          data=self.rng.normal(0, 0.05, (classes, c)).astype(np.float32))
        bias = self.b.tensor([classes], np.float32, "fc/b", data=np.zeros(classes, np.float32))
        logits = self.b.tensor([n, classes], np.float32, "logits")
        self.b.builtin_op(OP.FULLY_CONNECTED, [flat, w, bias], [logits],
                          schema.BuiltinOptions.FullyConnectedOptions,
                          schema.FullyConnectedOptionsT())
        probs = self.b.tensor([n, classes], np.float32, "probs")
        opt = schema.SoftmaxOptionsT()
        opt.beta = 1.0
        self.b.builtin_op(OP.SOFTMAX, [logits], [probs], schema.BuiltinOptions.SoftmaxOptions, opt)
        return probs


def quicknet_like(binary: bool) -> bytes:
    net = _Net(binary)
    x = net.b.tensor([1, 224, 224, 3], np.float32, "image")
    # QuickNet's stem: conv 3x3/2 to a quarter of the first section's channels, depthwise 3x3/2,
    # pointwise conv to the first section's channels.
    h, shape = net.float_conv(x, [1, 224, 224, 3], SECTIONS[0][0] // 4, 3, 2)
    h, shape = net.depthwise_conv(h, shape, 3, 2)
    h, shape = net.float_conv(h, shape, SECTIONS[0][0], 1, 1)
    for index, (channels, convs) in enumerate(SECTIONS):
        if index:
            h, shape = net.transition(h, shape, channels)
        for _ in range(convs):
            h = net.block(h, shape)
    return net.b.build([x], [net.head(h, shape)])


def custom_op_chain(length: int) -> bytes:
    """`length` tiny LceQuantize/LceDequantize pairs: the cost of the custom-op path itself."""
    b = ModelBuilder()
    x = first = b.tensor([1, 32], np.float32, "x")
    for i in range(length):
        q = b.tensor([1, 1], np.int32, f"q{i}")
        y = b.tensor([1, 32], np.float32, f"y{i}")
        b.custom_op("LceQuantize", [x], [q])
        b.custom_op("LceDequantize", [q], [y])
        x = y
    return b.build([first], [x])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    binary_model, float_model = quicknet_like(True), quicknet_like(False)
    models = {"binary": Interpreter(binary_model, num_threads=args.threads),
              "float": Interpreter(float_model, num_threads=args.threads)}
    runners = {name: interpreter.predict for name, interpreter in models.items()}
    image = np.random.default_rng(0).standard_normal((1, 224, 224, 3)).astype(np.float32)
    # Headline: each model invoked back to back, as a deployed model is, in rounds that alternate
    # the models so that load changes on a shared machine hit both alike (as bench/zoo.py and the
    # demo). Second figure: strictly alternating single invokes, so every binary invoke starts
    # with caches holding the float model's 50 MB of weights; the binary model (1.6 MB packed
    # filters, 2 MB float head) is the one that loses its warm caches.
    steady = interleaved_median_ms(runners, image, runs=args.runs, rounds=5)
    alternating: dict[str, list[float]] = {name: [] for name in models}
    for run in range(args.runs + 3):
        for name, predict in runners.items():
            start = time.perf_counter()
            predict(image)
            if run >= 3:  # warm-up
                alternating[name].append((time.perf_counter() - start) * 1e3)
    cold = {name: float(np.median(t)) for name, t in alternating.items()}
    print(f"QuickNet-like 224x224, {args.threads} thread(s), median of {args.runs} runs each:")
    print(f"{'':44s} {'back to back':>13s} {'alternating':>12s}")
    print(f"  {'float model (LiteRT/XNNPACK)':42s} {steady['float']:10.2f} ms {cold['float']:9.2f} ms")
    print(f"  {'binary model (larq-compute ops in LiteRT)':42s} {steady['binary']:10.2f} ms "
          f"{cold['binary']:9.2f} ms")
    print(f"  {'ratio binary / float (goal <= 0.1)':42s} {steady['binary'] / steady['float']:13.3f} "
          f"{cold['binary'] / cold['float']:12.3f}")
    binary = benchmark(binary_model, args.threads, args.runs, warmup=3)
    print("binary model profile:")
    print(binary.report())

    pairs = 100
    chain = benchmark(custom_op_chain(pairs), 1, max(args.runs, 50), warmup=10)
    per_op_us = chain.median_ms * 1e3 / (2 * pairs)
    custom_ops = binary.custom_ops
    share = per_op_us * custom_ops / (binary.median_ms * 1e3)
    print(f"custom-op path: {per_op_us:.2f} us per op (incl. the tiny kernel), "
          f"{custom_ops} custom ops per QuickNet-like invoke -> {100 * share:.2f}% of it (goal < 2%)")


if __name__ == "__main__":
    main()
