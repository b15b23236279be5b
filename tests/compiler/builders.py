"""Small hand-made IR graphs for the per-pass tests, built the way the stock converter emits them."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from larq_compute.compiler.ir import Graph, Tensor

F32 = schema.TensorType.FLOAT32
RNG = np.random.default_rng(1)


class Builder:
    def __init__(self, *input_shape: int) -> None:
        self.graph = Graph()
        self.x = Tensor("input", input_shape, F32)
        self.graph.inputs = [self.x]

    def _op(self, type_: str, inputs: list, shape, options=None, tensor_type=F32) -> Tensor:
        out = self.graph.tensor(type_.lower(), shape, tensor_type)
        self.graph.create_op(type_, inputs, [out], options=options)
        return out

    def const(self, value) -> Tensor:
        return self.graph.constant(np.asarray(value, dtype=np.float32), "const")

    def sign(self, x: Tensor) -> Tensor:
        return self._op("SIGN", [x], x.shape)

    def add(self, x: Tensor, c, activation: int = 0) -> Tensor:
        options = schema.AddOptionsT()
        options.fusedActivationFunction = activation
        other = c if isinstance(c, Tensor) else self.const(c)
        return self._op("ADD", [x, other], x.shape, options)

    def mul(self, x: Tensor, c) -> Tensor:
        return self._op("MUL", [x, self.const(c)], x.shape, schema.MulOptionsT())

    def ste_sign(self, x: Tensor) -> Tensor:
        """sign(sign(x) + 0.1): the binary quantizer's converted form."""
        return self.sign(self.add(self.sign(x), 0.1))

    def pad(self, x: Tensor, pads, value: float | None = 1.0) -> Tensor:
        pads_t = self.graph.constant(np.asarray(pads, dtype=np.int32), "paddings")
        shape = [d + sum(p) for d, p in zip(x.shape, pads)]
        if value is None:
            return self._op("PAD", [x, pads_t], shape)
        return self._op("PADV2", [x, pads_t, self.const(value)], shape)

    def conv(self, x: Tensor, weights: np.ndarray, bias=None, *, stride=1, dilation=1, padding="VALID",
             activation: int = 0) -> Tensor:
        options = schema.Conv2DOptionsT()
        options.padding = getattr(schema.Padding, padding)
        options.strideH = options.strideW = stride
        options.dilationHFactor = options.dilationWFactor = dilation
        options.fusedActivationFunction = activation
        o, kh, kw, _ = weights.shape
        eff_h, eff_w = (kh - 1) * dilation + 1, (kw - 1) * dilation + 1
        if padding == "SAME":
            oh, ow = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
        else:
            oh, ow = (x.shape[1] - eff_h) // stride + 1, (x.shape[2] - eff_w) // stride + 1
        bias = np.zeros(o, np.float32) if bias is None else bias
        return self._op("CONV_2D", [x, self.const(weights), self.const(bias)], (x.shape[0], oh, ow, o), options)

    def max_pool(self, x: Tensor, size=2, stride=2, padding="VALID") -> Tensor:
        options = schema.Pool2DOptionsT()
        options.padding = getattr(schema.Padding, padding)
        options.strideH = options.strideW = stride
        options.filterHeight = options.filterWidth = size
        if padding == "SAME":
            oh, ow = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
        else:
            oh, ow = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
        return self._op("MAX_POOL_2D", [x], (x.shape[0], oh, ow, x.shape[3]), options)

    def dense(self, x: Tensor, weights: np.ndarray, bias=None, activation: int = 0) -> Tensor:
        options = schema.FullyConnectedOptionsT()
        options.fusedActivationFunction = activation
        inputs = [x, self.const(weights), None if bias is None else self.const(bias)]
        return self._op("FULLY_CONNECTED", inputs, (x.shape[0], weights.shape[0]), options)

    def output(self, *tensors: Tensor) -> Graph:
        self.graph.outputs = list(tensors)
        return self.graph


def binary_filter(*shape: int, scale=None) -> np.ndarray:
    """±scale[o] per output channel (BN folded), random signs; scale defaults to random ±."""
    signs = np.where(RNG.random(shape) < 0.5, -1.0, 1.0)
    if scale is None:
        scale = RNG.uniform(0.5, 2.0, shape[0]) * np.where(RNG.random(shape[0]) < 0.5, -1, 1)
    return (signs * np.reshape(scale, (-1,) + (1,) * (len(shape) - 1))).astype(np.float32)
