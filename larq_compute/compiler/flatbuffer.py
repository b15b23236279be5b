"""Import a TFLite flatbuffer into the IR and export the IR back to a flatbuffer.

Uses the schema's object API (``ai_edge_litert/schema_py_generated.py``). Everything a pass does
not change is carried over: op versions and options, intermediates, quantization parameters,
sparsity, variable tensors, subgraph order (control-flow ops refer to subgraphs by index),
signature definitions and metadata buffers.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import flexbuffers

from .ir import BUILTIN_CODES, BUILTIN_NAMES, Graph, Model, Op, SignatureDef, Tensor, dtype_of

_CUSTOM = schema.BuiltinOperator.CUSTOM
# Op codes above this are stored in `builtinCode` only (the deprecated int8 field saturates).
_PLACEHOLDER_FOR_GREATER_OP_CODES = 127
_TFLITE_FILE_IDENTIFIER = b"TFL3"


class FlatbufferError(ValueError):
    """The bytes are not a TFLite model this compiler can read."""


def _decode(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _buffer_bytes(model: schema.ModelT, index: int, raw: bytes) -> bytes:
    buffer = model.buffers[index] if 0 <= index < len(model.buffers) else None
    if buffer is None:
        return b""
    if buffer.data is not None and len(buffer.data):
        return np.asarray(buffer.data, dtype=np.uint8).tobytes()
    if buffer.offset and buffer.size:  # data stored after the flatbuffer (models > 2 GB)
        return raw[buffer.offset : buffer.offset + buffer.size]
    return b""


def _import_custom_options(op: schema.OperatorT) -> dict | bytes:
    data = bytes(np.asarray(op.customOptions, dtype=np.uint8)) if op.customOptions is not None else b""
    if data and op.customOptionsFormat == schema.CustomOptionsFormat.FLEXBUFFERS:
        try:
            value = flexbuffers.Loads(data)
        except Exception:  # not a flexbuffer after all: keep the bytes as they are
            return data
        if isinstance(value, dict):
            return value
    return data


def import_model(data: bytes) -> Model:
    """Parse TFLite flatbuffer bytes into a :class:`Model`."""
    data = bytes(data)
    if len(data) < 8 or data[4:8] != _TFLITE_FILE_IDENTIFIER:
        raise FlatbufferError("not a TFLite flatbuffer (file identifier 'TFL3' missing)")
    try:
        model_t = schema.ModelT.InitFromPackedBuf(data, 0)
    except Exception as error:
        raise FlatbufferError(f"cannot parse the TFLite flatbuffer: {error}") from error

    op_codes = []
    for code in model_t.operatorCodes or []:
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        if builtin == _CUSTOM:
            op_codes.append((_decode(code.customCode), True, code.version))
        else:
            op_codes.append((BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}"), False, code.version))

    # (buffer index, type, shape) -> array, so shared buffers stay shared. The converter also
    # shares one buffer between constants of different types with equal bytes (eight float32
    # zeros and eight int32 zeros), so the type and shape are part of the key.
    array_cache: dict[tuple[int, int, tuple[int, ...]], np.ndarray] = {}

    def constant_data(t: schema.TensorT) -> np.ndarray | None:
        if t.buffer <= 0:
            return None
        raw = _buffer_bytes(model_t, t.buffer, data)
        if not raw:
            return None
        shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
        key = (t.buffer, t.type, shape)
        if key in array_cache:
            return array_cache[key]
        dtype = dtype_of(t.type)
        if dtype is not None and t.sparsity is None and len(raw) == dtype.itemsize * int(np.prod(shape)):
            array = np.frombuffer(raw, dtype=dtype).reshape(shape)
        else:  # strings, packed int4, sparse: opaque bytes
            array = np.frombuffer(raw, dtype=np.uint8)
        array_cache[key] = array
        return array

    graphs = []
    for index, subgraph in enumerate(model_t.subgraphs or []):
        graph = Graph(_decode(subgraph.name) or ("main" if index == 0 else f"subgraph{index}"))
        tensors = []
        for t in subgraph.tensors or []:
            name = _decode(t.name)
            graph.unique_name(name)  # reserve
            tensors.append(
                Tensor(
                    name,
                    [] if t.shape is None else t.shape,
                    t.type,
                    data=constant_data(t),
                    shape_signature=t.shapeSignature,
                    quantization=t.quantization,
                    extra=t,
                )
            )
        graph.original_tensors = tensors

        def lookup(i: int, tensors: list[Tensor] = tensors) -> Tensor | None:
            return None if i < 0 else tensors[i]

        for op_t in subgraph.operators or []:
            name, custom, version = op_codes[op_t.opcodeIndex]
            options = _import_custom_options(op_t) if custom else op_t.builtinOptions
            op = Op(
                name,
                [lookup(int(i)) for i in (op_t.inputs if op_t.inputs is not None else [])],
                [tensors[int(i)] for i in (op_t.outputs if op_t.outputs is not None else [])],
                options=options,
                custom=custom,
                version=version,
                extra=op_t,
            )
            graph.add_op(op)
        graph.inputs = [tensors[int(i)] for i in (subgraph.inputs if subgraph.inputs is not None else [])]
        graph.outputs = [tensors[int(i)] for i in (subgraph.outputs if subgraph.outputs is not None else [])]
        graphs.append(graph)

    metadata = [(_decode(m.name), _buffer_bytes(model_t, m.buffer, data)) for m in model_t.metadata or []]
    signatures = []
    for sig in model_t.signatureDefs or []:
        graph = graphs[sig.subgraphIndex]

        def position(entry: schema.TensorMapT, ends: list[Tensor], graph: Graph = graph) -> int:
            tensor = graph.original_tensors[entry.tensorIndex]
            for i, candidate in enumerate(ends):
                if candidate is tensor:
                    return i
            raise FlatbufferError(f"signature tensor {tensor.name!r} is not a subgraph input or output")

        signatures.append(
            SignatureDef(
                _decode(sig.signatureKey),
                sig.subgraphIndex,
                [(_decode(m.name), position(m, graph.inputs)) for m in sig.inputs or []],
                [(_decode(m.name), position(m, graph.outputs)) for m in sig.outputs or []],
            )
        )
    return Model(graphs, _decode(model_t.description), model_t.version, metadata, signatures)


class _BufferTable:
    """The model's buffers. Constants with identical bytes share one buffer (the stock converter
    leaves duplicates, e.g. equal biases of several layers); constant buffers are read-only, so
    sharing cannot change a result."""

    def __init__(self) -> None:
        self.buffers = [schema.BufferT()]  # buffer 0 is the empty sentinel
        self._by_content: dict[bytes, int] = {}

    def add_bytes(self, raw: bytes) -> int:
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(raw, dtype=np.uint8) if raw else None
        self.buffers.append(buffer)
        return len(self.buffers) - 1

    def add_array(self, array: np.ndarray) -> int:
        raw = np.ascontiguousarray(array).tobytes()
        if not raw:
            return self.add_bytes(raw)
        if raw not in self._by_content:
            self._by_content[raw] = self.add_bytes(raw)
        return self._by_content[raw]


def _export_tensor(tensor: Tensor, buffers: _BufferTable) -> schema.TensorT:
    t = schema.TensorT()
    if tensor.extra is not None:  # keep fields no pass models (sparsity, variants, ...)
        for key, value in vars(tensor.extra).items():
            setattr(t, key, value)
    t.name = tensor.name
    t.shape = np.asarray(tensor.shape, dtype=np.int32)
    t.type = tensor.tensor_type
    t.shapeSignature = (
        None if tensor.shape_signature is None else np.asarray(tensor.shape_signature, dtype=np.int32)
    )
    t.quantization = tensor.quantization
    t.buffer = 0 if tensor.data is None else buffers.add_array(tensor.data)
    return t


def _export_graph(
    graph: Graph, buffers: _BufferTable, op_code_index: dict[tuple[str, bool, int], int]
) -> tuple[schema.SubGraphT, dict[int, int]]:
    graph.sort_ops()
    used = {id(t) for t in graph.tensors()}
    ordered = [t for t in graph.original_tensors if id(t) in used]
    known = {id(t) for t in ordered}
    ordered += [t for t in graph.tensors() if id(t) not in known]
    index = {id(t): i for i, t in enumerate(ordered)}

    subgraph = schema.SubGraphT()
    subgraph.name = graph.name
    subgraph.tensors = [_export_tensor(t, buffers) for t in ordered]
    subgraph.inputs = np.asarray([index[id(t)] for t in graph.inputs], dtype=np.int32)
    subgraph.outputs = np.asarray([index[id(t)] for t in graph.outputs], dtype=np.int32)
    subgraph.operators = []
    for op in graph.ops:
        op_t = schema.OperatorT()
        if op.extra is not None:
            for key, value in vars(op.extra).items():
                setattr(op_t, key, value)
        key = (op.type, op.custom, op.version)
        op_t.opcodeIndex = op_code_index.setdefault(key, len(op_code_index))
        op_t.inputs = np.asarray([-1 if t is None else index[id(t)] for t in op.inputs], dtype=np.int32)
        op_t.outputs = np.asarray([index[id(t)] for t in op.outputs], dtype=np.int32)
        if op.custom:
            op_t.builtinOptionsType = schema.BuiltinOptions.NONE
            op_t.builtinOptions = None
            if isinstance(op.options, dict):
                raw = bytes(flexbuffers.Dumps(op.options)) if op.options else b""
            else:
                raw = bytes(op.options or b"")
            op_t.customOptions = np.frombuffer(raw, dtype=np.uint8) if raw else None
            op_t.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
        else:
            op_t.builtinOptions = op.options
            op_t.builtinOptionsType = _options_type(op) if op.options is not None else 0
        subgraph.operators.append(op_t)
    return subgraph, index


def _options_type(op: Op) -> int:
    if op.extra is not None and op.extra.builtinOptions is op.options:
        return op.extra.builtinOptionsType
    name = type(op.options).__name__
    if not name.endswith("T"):
        raise TypeError(f"{op.type}: options {name} are not a schema object-API type")
    return getattr(schema.BuiltinOptions, name[:-1])


def export_model(model: Model) -> bytes:
    """Serialize a :class:`Model` to TFLite flatbuffer bytes."""
    buffers = _BufferTable()
    op_code_index: dict[tuple[str, bool, int], int] = {}
    model_t = schema.ModelT()
    model_t.version = model.version
    model_t.description = model.description
    model_t.subgraphs = []
    indices = []
    for graph in model.graphs:
        subgraph, index = _export_graph(graph, buffers, op_code_index)
        model_t.subgraphs.append(subgraph)
        indices.append(index)

    model_t.operatorCodes = []
    for (name, custom, version), _ in sorted(op_code_index.items(), key=lambda item: item[1]):
        code = schema.OperatorCodeT()
        if custom:
            code.builtinCode = code.deprecatedBuiltinCode = _CUSTOM
            code.customCode = name
        else:
            if name not in BUILTIN_CODES:
                raise ValueError(f"unknown builtin operator {name!r}")
            code.builtinCode = BUILTIN_CODES[name]
            code.deprecatedBuiltinCode = min(code.builtinCode, _PLACEHOLDER_FOR_GREATER_OP_CODES)
        code.version = version
        model_t.operatorCodes.append(code)

    model_t.metadata = []
    for name, raw in model.metadata:
        entry = schema.MetadataT()
        entry.name = name
        entry.buffer = buffers.add_bytes(raw)
        model_t.metadata.append(entry)

    model_t.signatureDefs = []
    for sig in model.signatures:
        index = indices[sig.graph_index]
        sig_t = schema.SignatureDefT()
        sig_t.signatureKey = sig.key
        sig_t.subgraphIndex = sig.graph_index
        sig_t.inputs, sig_t.outputs = [], []
        graph = model.graphs[sig.graph_index]
        for target, entries, ends in (
            (sig_t.inputs, sig.inputs, graph.inputs),
            (sig_t.outputs, sig.outputs, graph.outputs),
        ):
            for name, position in entries:
                entry = schema.TensorMapT()
                entry.name = name
                entry.tensorIndex = index[id(ends[position])]
                target.append(entry)
        model_t.signatureDefs.append(sig_t)
    model_t.buffers = buffers.buffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(model_t.Pack(builder), file_identifier=_TFLITE_FILE_IDENTIFIER)
    return bytes(builder.Output())
