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
    np.dtype(np.bool_): schema.TensorType.BOOL,
}


class ModelBuilder:
    """Accumulates tensors and ops of a subgraph; ``build()`` returns the model bytes. A model with
    control flow builds its main subgraph first, then ``next_subgraph()`` for each subgraph its
    WHILE / IF ops refer to (numbered in that order from 1)."""

    def __init__(self) -> None:
        self._model = schema.ModelT()
        self._model.version = 3
        self._model.description = b"larq-compute hand-built model"
        self._model.buffers = [schema.BufferT()]  # buffer 0: the empty sentinel
        self._model.operatorCodes = []
        self._subgraphs: list[schema.SubGraphT] = []
        self._subgraph = self._new_subgraph()
        self._codes: dict[tuple[int, str | None], int] = {}

    @staticmethod
    def _new_subgraph() -> schema.SubGraphT:
        subgraph = schema.SubGraphT()
        subgraph.tensors, subgraph.operators = [], []
        return subgraph

    def _close_subgraph(self, inputs: list[int], outputs: list[int]) -> None:
        self._subgraph.inputs, self._subgraph.outputs = list(inputs), list(outputs)
        index = len(self._subgraphs)
        self._subgraph.name = b"main" if index == 0 else f"subgraph_{index}".encode()
        self._subgraphs.append(self._subgraph)

    def next_subgraph(self, inputs: list[int], outputs: list[int]) -> int:
        """Closes the current subgraph with these inputs and outputs and starts the next one;
        returns the index the next one will have. Tensor indices are per subgraph."""
        self._close_subgraph(inputs, outputs)
        self._subgraph = self._new_subgraph()
        return len(self._subgraphs)

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
            array = np.array(data, dtype=dtype, order="C")  # keeps scalars 0-d
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
        """The model, with the given inputs and outputs for the current (last) subgraph."""
        self._close_subgraph(inputs, outputs)
        self._model.subgraphs = self._subgraphs
        return write_model(self._model)
