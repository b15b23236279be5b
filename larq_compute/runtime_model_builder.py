"""A small writer of .tflite models by hand, for runtime tests and benchmarks.

Builds models op by op with the TFLite schema's object API: builtin ops with their options
objects, custom ops with a dict of integer options (written as a flexbuffer map, as LCE does).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import flexbuffers

from larq_compute.runtime_prepare import write_model

_TENSOR_TYPES = {
    np.dtype(np.float32): schema.TensorType.FLOAT32,
    np.dtype(np.int32): schema.TensorType.INT32,
    np.dtype(np.int8): schema.TensorType.INT8,
    np.dtype(np.int64): schema.TensorType.INT64,
}


class ModelBuilder:
    """Accumulates tensors and ops of one subgraph; ``build()`` returns the model bytes."""

    def __init__(self) -> None:
        self._model = schema.ModelT()
        self._model.version = 3
        self._model.description = b"larq-compute hand-built model"
        self._model.buffers = [schema.BufferT()]  # buffer 0: the empty sentinel
        self._model.operatorCodes = []
        self._subgraph = schema.SubGraphT()
        self._subgraph.tensors, self._subgraph.operators = [], []
        self._codes: dict[tuple[int, str | None], int] = {}

    def tensor(
        self,
        shape: list[int],
        dtype: Any,
        name: str,
        data: np.ndarray | None = None,
        quantization: tuple[float, int] | None = None,
        shape_signature: list[int] | None = None,
    ) -> int:
        """Adds a tensor (a constant when ``data`` is given); returns its index."""
        tensor = schema.TensorT()
        tensor.shape = list(shape)
        if shape_signature is not None:
            tensor.shapeSignature = list(shape_signature)
        tensor.type = _TENSOR_TYPES[np.dtype(dtype)]
        tensor.name = name.encode()
        tensor.buffer = 0
        if data is not None:
            array = np.ascontiguousarray(np.asarray(data, dtype=dtype))
            if list(array.shape) != list(shape):
                raise ValueError(f"constant {name}: data of shape {array.shape} for shape {shape}")
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(array.tobytes(), dtype=np.uint8)
            self._model.buffers.append(buffer)
            tensor.buffer = len(self._model.buffers) - 1
        if quantization is not None:
            q = schema.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(quantization[0])], [int(quantization[1])]
            tensor.quantization = q
        self._subgraph.tensors.append(tensor)
        return len(self._subgraph.tensors) - 1

    def _opcode(self, builtin: int, custom: str | None) -> int:
        key = (builtin, custom)
        if key not in self._codes:
            code = schema.OperatorCodeT()
            code.builtinCode = builtin
            code.deprecatedBuiltinCode = min(builtin, 127)
            code.version = 1
            if custom is not None:
                code.customCode = custom.encode()
            self._model.operatorCodes.append(code)
            self._codes[key] = len(self._model.operatorCodes) - 1
        return self._codes[key]

    def custom_op(
        self,
        name: str,
        inputs: list[int],
        outputs: list[int],
        options: dict[str, int] | bytes | None = None,
    ) -> None:
        """Adds a custom op; ``options`` is a dict of ints (flexbuffer map) or raw bytes."""
        op = schema.OperatorT()
        op.opcodeIndex = self._opcode(schema.BuiltinOperator.CUSTOM, name)
        op.inputs, op.outputs = list(inputs), list(outputs)
        if isinstance(options, dict):
            options = bytes(flexbuffers.Dumps(options))
        if options:
            op.customOptions = np.frombuffer(options, dtype=np.uint8)
            op.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
        self._subgraph.operators.append(op)

    def builtin_op(
        self,
        builtin: int,
        inputs: list[int],
        outputs: list[int],
        options_type: int = 0,
        options: Any = None,
    ) -> None:
        """Adds a builtin op, e.g. ``schema.BuiltinOperator.CONV_2D`` with Conv2DOptionsT."""
        op = schema.OperatorT()
        op.opcodeIndex = self._opcode(builtin, None)
        op.inputs, op.outputs = list(inputs), list(outputs)
        op.builtinOptionsType = options_type
        op.builtinOptions = options
        self._subgraph.operators.append(op)

    def build(self, inputs: list[int], outputs: list[int]) -> bytes:
        """The model with the given subgraph inputs and outputs (64-byte aligned buffers)."""
        self._subgraph.inputs, self._subgraph.outputs = list(inputs), list(outputs)
        self._subgraph.name = b"main"
        self._model.subgraphs = [self._subgraph]
        return write_model(self._model)
