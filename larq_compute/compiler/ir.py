"""The compiler's intermediate representation: an SSA graph of ops and tensors.

A :class:`Model` holds :class:`Graph` objects (TFLite subgraphs). Every :class:`Tensor` is
produced by at most one :class:`Op` (``tensor.producer``) and knows the ops reading it
(``tensor.consumers``); constants hold their value as a numpy array. Ops keep their builtin
options as the TFLite schema's object-API instance (so options no pass touches round-trip
exactly); custom ops keep a ``dict`` (written as a flexbuffer map) or raw bytes.

``str(graph)`` gives a readable dump: values are numbered in op order (``%0``, ``%1``...),
constants are shown inline, so the text does not depend on tensor names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

# TFLite TensorType -> numpy dtype, for the types whose buffers are plain little-endian arrays.
_TENSOR_TYPE_TO_DTYPE = {
    schema.TensorType.FLOAT32: np.dtype("<f4"),
    schema.TensorType.FLOAT16: np.dtype("<f2"),
    schema.TensorType.FLOAT64: np.dtype("<f8"),
    schema.TensorType.INT8: np.dtype("i1"),
    schema.TensorType.UINT8: np.dtype("u1"),
    schema.TensorType.INT16: np.dtype("<i2"),
    schema.TensorType.UINT16: np.dtype("<u2"),
    schema.TensorType.INT32: np.dtype("<i4"),
    schema.TensorType.UINT32: np.dtype("<u4"),
    schema.TensorType.INT64: np.dtype("<i8"),
    schema.TensorType.UINT64: np.dtype("<u8"),
    schema.TensorType.BOOL: np.dtype("?"),
    schema.TensorType.COMPLEX64: np.dtype("<c8"),
    schema.TensorType.COMPLEX128: np.dtype("<c16"),
}
_DTYPE_TO_TENSOR_TYPE = {dtype: code for code, dtype in _TENSOR_TYPE_TO_DTYPE.items()}
TENSOR_TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
_SHORT_TYPE_NAMES = {
    "FLOAT32": "f32", "FLOAT16": "f16", "FLOAT64": "f64", "INT8": "i8", "UINT8": "u8",
    "INT16": "i16", "UINT16": "u16", "INT32": "i32", "UINT32": "u32", "INT64": "i64",
    "UINT64": "u64", "BOOL": "bool",
}  # fmt: skip
BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
BUILTIN_CODES = {k: v for v, k in BUILTIN_NAMES.items()}
ACTIVATION_NAMES = {
    v: k for k, v in vars(schema.ActivationFunctionType).items() if not k.startswith("_")
}
PADDING_NAMES = {v: k for k, v in vars(schema.Padding).items() if not k.startswith("_")}


def dtype_of(tensor_type: int) -> np.dtype | None:
    """The numpy dtype of a TFLite ``TensorType``, or None when it has no plain array layout."""
    return _TENSOR_TYPE_TO_DTYPE.get(tensor_type)


def tensor_type_of(dtype: np.dtype) -> int:
    return _DTYPE_TO_TENSOR_TYPE[np.dtype(dtype).newbyteorder("<")]


def layer_name(tensor_name: str) -> str:
    """The Keras layer a converter-named tensor belongs to.

    The stock converter names tensors after the TF ops they fuse, joined by ';', each a path
    like ``model_name/layer_name/op``; the layer is the second path element.
    """
    parts = tensor_name.split(";")[0].split("/")
    return parts[1] if len(parts) > 2 else parts[0]


class Tensor:
    """A value in the graph: a graph input, an op output, or a constant (``data`` is set)."""

    def __init__(
        self,
        name: str,
        shape: Iterable[int],
        tensor_type: int,
        *,
        data: np.ndarray | None = None,
        shape_signature: Iterable[int] | None = None,
        quantization: Any = None,
        extra: Any = None,
    ) -> None:
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.tensor_type = tensor_type
        self.data = data
        self.shape_signature = None if shape_signature is None else tuple(int(d) for d in shape_signature)
        self.quantization = quantization
        # The imported schema.TensorT, for fields no pass reads (sparsity, variant types...).
        self.extra = extra
        self.producer: Op | None = None
        self.consumers: list[Op] = []

    @property
    def dtype(self) -> np.dtype | None:
        return dtype_of(self.tensor_type)

    @property
    def is_constant(self) -> bool:
        return self.data is not None and not (self.extra is not None and self.extra.isVariable)

    def type_str(self) -> str:
        dims = self.shape_signature if self.shape_signature is not None else self.shape
        type_name = TENSOR_TYPE_NAMES.get(self.tensor_type, str(self.tensor_type))
        text = _SHORT_TYPE_NAMES.get(type_name, type_name.lower())
        text += "[" + ",".join("?" if d < 0 else str(d) for d in dims) + "]"
        quant = self.quantization
        if quant is not None and quant.scale is not None and len(quant.scale):
            if len(quant.scale) == 1:
                text += f"{{scale={float(quant.scale[0]):.6g},zp={int(quant.zeroPoint[0])}}}"
            else:
                text += f"{{per-axis {quant.quantizedDimension}}}"
        elif quant is not None and quant.min is not None and quant.max is not None and len(quant.min) == 1:
            text += f"{{range={float(quant.min[0]):.6g}..{float(quant.max[0]):.6g}}}"
        return text

    def __repr__(self) -> str:
        return f"Tensor({self.name!r}, {self.type_str()})"


class Op:
    """One operator. ``type`` is the builtin name (``"CONV_2D"``) or the custom code."""

    def __init__(
        self,
        type: str,
        inputs: list[Tensor | None],
        outputs: list[Tensor],
        *,
        options: Any = None,
        custom: bool = False,
        version: int = 1,
        extra: Any = None,
        origin: str | None = None,
    ) -> None:
        self.type = type
        self.custom = custom
        self.options = options
        self.version = version
        self.extra = extra  # the imported schema.OperatorT (intermediates, ...), if any
        # The model layer this op comes from (for the conversion report); passes carry it over.
        self.origin = origin if origin is not None else (layer_name(outputs[0].name) if outputs else "")
        self.inputs: list[Tensor | None] = []
        self.outputs: list[Tensor] = []
        self.graph: Graph | None = None
        for tensor in inputs:
            self._attach_input(tensor)
        for tensor in outputs:
            if tensor.producer is not None:
                raise ValueError(f"tensor {tensor.name!r} already has a producer ({tensor.producer.type})")
            tensor.producer = self
            self.outputs.append(tensor)

    def _attach_input(self, tensor: Tensor | None) -> None:
        self.inputs.append(tensor)
        if tensor is not None:
            tensor.consumers.append(self)

    def set_input(self, index: int, tensor: Tensor | None) -> None:
        old = self.inputs[index]
        if old is not None:
            old.consumers.remove(self)
        self.inputs[index] = tensor
        if tensor is not None:
            tensor.consumers.append(self)

    def detach(self) -> None:
        """Unlink from all tensors (used when the op leaves the graph)."""
        for tensor in self.inputs:
            if tensor is not None:
                tensor.consumers.remove(self)
        for tensor in self.outputs:
            tensor.producer = None
        self.inputs = []
        self.outputs = []

    def input(self, index: int) -> Tensor | None:
        return self.inputs[index] if index < len(self.inputs) else None

    @property
    def output(self) -> Tensor:
        return self.outputs[0]

    def __repr__(self) -> str:
        names = ", ".join(t.name for t in self.outputs)
        return f"Op({self.type} -> {names})"


class Graph:
    """A TFLite subgraph: inputs, outputs and ops in a valid execution order."""

    def __init__(self, name: str = "main") -> None:
        self.name = name
        self.inputs: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.ops: list[Op] = []
        # Tensors of the imported subgraph in their original order (unused ones included, so an
        # untouched model exports with its tensor indices unchanged).
        self.original_tensors: list[Tensor] = []
        self._name_counts: dict[str, int] = {}

    # -- building -------------------------------------------------------------------------
    def add_op(self, op: Op, *, before: Op | None = None) -> Op:
        """Insert ``op`` before ``before`` (or at the end)."""
        op.graph = self
        if before is None:
            self.ops.append(op)
        else:
            self.ops.insert(self.ops.index(before), op)
        return op

    def create_op(
        self,
        type: str,
        inputs: list[Tensor | None],
        outputs: list[Tensor],
        *,
        before: Op | None = None,
        **attributes: Any,
    ) -> Op:
        """Create an :class:`Op` (``attributes`` as its keyword arguments) and insert it."""
        return self.add_op(Op(type, inputs, outputs, **attributes), before=before)

    def remove_op(self, op: Op) -> None:
        self.ops.remove(op)
        op.detach()
        op.graph = None

    def unique_name(self, base: str) -> str:
        count = self._name_counts.get(base, 0)
        self._name_counts[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def constant(self, data: np.ndarray, name: str) -> Tensor:
        data = np.asarray(data)
        if not data.flags.c_contiguous:
            data = data.copy()
        return Tensor(self.unique_name(name), data.shape, tensor_type_of(data.dtype), data=data)

    def tensor(
        self, name: str, shape: Iterable[int], tensor_type: int, *, like: Tensor | None = None
    ) -> Tensor:
        """A new non-constant tensor; ``like`` copies its dynamic dims (shape signature)."""
        shape = tuple(shape)
        signature = None
        if like is not None and like.shape_signature is not None:
            signature = tuple(like.shape_signature[: len(shape) - 1]) + (shape[-1],)
            if len(like.shape_signature) != len(shape):
                signature = None
        return Tensor(self.unique_name(name), shape, tensor_type, shape_signature=signature)

    def replace_uses(self, old: Tensor, new: Tensor) -> None:
        """Make every reader of ``old`` (ops and graph outputs) read ``new`` instead."""
        for op in list(old.consumers):
            for index, tensor in enumerate(op.inputs):
                if tensor is old:
                    op.set_input(index, new)
        self.outputs = [new if t is old else t for t in self.outputs]

    # -- queries ---------------------------------------------------------------------------
    def is_output(self, tensor: Tensor) -> bool:
        return any(t is tensor for t in self.outputs)

    def only_consumer(self, tensor: Tensor) -> Op | None:
        """The single op reading ``tensor`` once, if nothing else (graph output) reads it."""
        if len(tensor.consumers) != 1 or self.is_output(tensor):
            return None
        return tensor.consumers[0]

    def tensors(self) -> Iterator[Tensor]:
        """Every tensor reachable from the inputs, ops and outputs, each once."""
        seen: set[int] = set()
        for tensor in [*self.inputs, *(t for op in self.ops for t in [*op.inputs, *op.outputs]), *self.outputs]:
            if tensor is not None and id(tensor) not in seen:
                seen.add(id(tensor))
                yield tensor

    def sort_ops(self) -> None:
        """Restore a valid execution order (stable: keeps the current order where possible)."""
        position = {id(op): i for i, op in enumerate(self.ops)}
        ready: list[Op] = []
        done: set[int] = set()
        remaining = {id(op): op for op in self.ops}
        order: list[Op] = []
        while remaining:
            ready = [
                op
                for op in remaining.values()
                if all(
                    t is None or t.producer is None or id(t.producer) in done or id(t.producer) not in position
                    for t in op.inputs
                )
            ]
            if not ready:
                raise ValueError(f"graph {self.name!r} has a cycle")
            op = min(ready, key=lambda o: position[id(o)])
            order.append(op)
            done.add(id(op))
            del remaining[id(op)]
        self.ops = order

    def __str__(self) -> str:
        return format_graph(self)


@dataclass
class SignatureDef:
    """A named entry point; inputs and outputs are (name, position in the graph's inputs/outputs)."""

    key: str
    graph_index: int
    inputs: list[tuple[str, int]]
    outputs: list[tuple[str, int]]


@dataclass
class Model:
    graphs: list[Graph]
    description: str = ""
    version: int = 3
    metadata: list[tuple[str, bytes]] = field(default_factory=list)
    signatures: list[SignatureDef] = field(default_factory=list)

    @property
    def main(self) -> Graph:
        return self.graphs[0]

    def __str__(self) -> str:
        return "\n".join(str(g) for g in self.graphs)


# -- text dump ------------------------------------------------------------------------------
def _format_constant(tensor: Tensor) -> str:
    data = tensor.data
    assert data is not None
    if data.size <= 4 and tensor.dtype is not None and data.dtype.kind in "fiub":
        values = data.reshape(-1).tolist()
        shown = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
        return f"{tensor.type_str()}({shown})" if data.ndim else f"{tensor.type_str()[:-2]}({shown})"
    return f"const {tensor.type_str()}"


def _format_option_value(key: str, value: Any) -> str:
    lowered = key.lower()
    if "activation" in lowered and isinstance(value, int):
        return ACTIVATION_NAMES.get(value, str(value))
    if lowered == "padding" and isinstance(value, int):
        return PADDING_NAMES.get(value, str(value))
    if isinstance(value, np.ndarray):
        return "[" + ",".join(str(v) for v in value.tolist()) + "]"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def format_options(op: Op) -> str:
    options = op.options
    if options is None:
        return ""
    if isinstance(options, dict):
        items = sorted(options.items())
    elif isinstance(options, bytes | bytearray):
        items = [("raw", bytes(options))] if options else []
    else:
        # Fields at their schema default are left out, except padding (whose default is SAME).
        defaults = vars(type(options)())
        items = sorted(
            (k, v)
            for k, v in vars(options).items()
            if v is not None and (k == "padding" or not _same_value(v, defaults.get(k)))
        )
    return " ".join(f"{k}={_format_option_value(k, v)}" for k, v in items)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    return a == b


def format_graph(graph: Graph) -> str:
    names: dict[int, str] = {}

    def ref(tensor: Tensor | None) -> str:
        if tensor is None:
            return "_"
        if id(tensor) not in names:
            if tensor.is_constant:
                return _format_constant(tensor)
            names[id(tensor)] = f"%{len(names)}"
        return names[id(tensor)]

    inputs = ", ".join(f"{ref(t)}: {t.type_str()}" for t in graph.inputs)
    lines = []
    for op in graph.ops:
        outputs = ", ".join(f"{ref(t)}: {t.type_str()}" for t in op.outputs)
        args = ", ".join(ref(t) for t in op.inputs)
        options = format_options(op)
        lines.append(f"  {outputs} = {op.type}({args})" + (f" {options}" if options else ""))
    outputs = ", ".join(ref(t) for t in graph.outputs)
    return "\n".join([f"graph {graph.name}({inputs}) -> ({outputs})", *lines])
