"""Make a .tflite model runtime-ready for LiteRT's C API custom-op kernels.

LiteRT 2.3.0 needs these things from a model whose custom ops run through its C API (see
docs/runtime.md, "Model preparation"):

1. Every constant buffer a custom op reads at a 64-byte offset: LiteRT hands constant inputs to
   custom kernels zero-copy, through tensor buffers that require 64-byte aligned host memory.
   (Constants only builtin ops read get 16 bytes, TFLite's own alignment.)
2. No absent operator inputs (tensor index -1): LiteRT crashes on them while allocating. Trailing
   ones are dropped; an absent input followed by a present one becomes a one-element zero constant
   (the kernels never read it, e.g. ``LceBconv2d``'s multiplier when its output is bit-packed).
3. One custom code per custom node (``LceBconv2d#3``): a C API kernel's ``user_data`` belongs to its
   registration, not to a node, so a per-node kernel needs a per-node name. The runtime maps
   ``NAME#k`` back to ``NAME``.
4. Shapes known before a run wherever they are static: the stock converter flattens a
   dynamic-batch tensor as ``RESHAPE(x, PACK(STRIDED_SLICE(SHAPE(x), [0], [1], [1]), c...))``,
   whose output shape (and every shape after it) exists only while the model runs. The same
   reshape with the constant shape ``[-1, c...]`` is resolved when the input is resized
   (:func:`make_flatten_shapes_static`).

5. No model output written by a reshape-like op (``RESHAPE``, ``SQUEEZE``, ``EXPAND_DIMS``): when
   such an op's input has a shape computed while running, LiteRT turns its output into a dynamic
   tensor that no longer writes into the caller's output buffer (the first run returns whatever
   the buffer held, later runs fail). A ``CAST`` to the same type copies it into the output
   (:func:`copy_reshaped_outputs`).

Steps 1, 2 and 4 keep the file in the established LCE format, so the compiler applies them to
every file it writes (:func:`make_runtime_compatible`). Steps 3 and 5 change ops, so they are
applied only when loading (:func:`prepare_model`), or written to a separate file with
``python -m larq_compute.runtime_prepare IN OUT`` for the C++ benchmark tool.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Sequence

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

BUFFER_ALIGNMENT = 64  # constants a custom op reads (zero-copy LiteRT tensor buffers)
BUILTIN_BUFFER_ALIGNMENT = 16  # constants only builtin ops read (TFLite's own converter's rule)
_CUSTOM = schema.BuiltinOperator.CUSTOM
_FLOAT32 = schema.TensorType.FLOAT32
_INT32 = schema.TensorType.INT32
# Types of placeholder tensors for absent inputs followed by present ones, by (op, input index).
_PLACEHOLDER_TYPES = {("LceBconv2d", 2): _FLOAT32, ("LceBconv2d", 3): _FLOAT32, ("LceBconv2d", 4): _INT32,
                      ("LceBFullyConnected", 2): _FLOAT32, ("LceBFullyConnected", 3): _FLOAT32}


class ModelFormatError(ValueError):
    """The bytes are not a TFLite flatbuffer this module can read."""


class _AlignedBufferT(schema.BufferT):
    """A ``BufferT`` whose data vector starts at a multiple of ``alignment`` bytes."""

    alignment = BUFFER_ALIGNMENT

    def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 (generated API name)
        data = None
        if self.data is not None and len(self.data) > 0:
            payload = np.asarray(self.data, dtype=np.uint8).tobytes()
            # Flatbuffers build back to front: after Prep(alignment, n) and n bytes, the head
            # (the first data byte) is aligned, and Finish pads the whole buffer to BUFFER_ALIGNMENT.
            builder.StartVector(1, len(payload), self.alignment)
            builder.head = builder.head - len(payload)
            builder.Bytes[builder.head : builder.head + len(payload)] = payload
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        schema.BufferAddOffset(builder, self.offset)
        schema.BufferAddSize(builder, self.size)
        return schema.BufferEnd(builder)


def read_model(model: bytes) -> schema.ModelT:
    """Parses TFLite flatbuffer bytes into the schema's object API, or raises ModelFormatError."""
    data = bytes(model)
    if len(data) < 8:
        raise ModelFormatError(f"not a TFLite model: only {len(data)} bytes")
    if data[4:8] != b"TFL3":
        raise ModelFormatError("not a TFLite model: file identifier is not 'TFL3'")
    try:
        parsed = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as error:  # the generated reader raises whatever a bad offset causes
        raise ModelFormatError(f"malformed TFLite flatbuffer ({len(data)} bytes): {error}") from error
    if not parsed.subgraphs:
        raise ModelFormatError("malformed TFLite model: it has no subgraph")
    _check_indices(parsed)
    return parsed


def _check_tensor_indices(indices, num_tensors: int, where: str, optional: bool = False) -> None:
    for index in indices if indices is not None else []:
        if not (-1 if optional else 0) <= index < num_tensors:
            raise ModelFormatError(
                f"malformed TFLite model: {where} refers to tensor {index} of {num_tensors}")


def _check_indices(model: schema.ModelT) -> None:
    """Every index the rewrite follows is in range; a bad one names where it is."""
    num_codes, num_buffers = len(model.operatorCodes or []), len(model.buffers or [])
    for k, signature in enumerate(model.signatureDefs or []):
        if not 0 <= signature.subgraphIndex < len(model.subgraphs):
            raise ModelFormatError(
                f"malformed TFLite model: signature {k} refers to subgraph "
                f"{signature.subgraphIndex} of {len(model.subgraphs)}")
    for s, subgraph in enumerate(model.subgraphs):
        tensors = subgraph.tensors or []
        for t, tensor in enumerate(tensors):
            if not 0 <= tensor.buffer < max(num_buffers, 1):
                raise ModelFormatError(
                    f"malformed TFLite model: tensor {t} of subgraph {s} uses buffer "
                    f"{tensor.buffer} of {num_buffers}")
        _check_tensor_indices(subgraph.inputs, len(tensors), f"an input of subgraph {s}")
        _check_tensor_indices(subgraph.outputs, len(tensors), f"an output of subgraph {s}")
        for o, op in enumerate(subgraph.operators or []):
            if not 0 <= op.opcodeIndex < num_codes:
                raise ModelFormatError(
                    f"malformed TFLite model: operator {o} of subgraph {s} has opcode index "
                    f"{op.opcodeIndex} of {num_codes}")
            where = f"operator {o} of subgraph {s}"
            _check_tensor_indices(op.inputs, len(tensors), where, optional=True)
            _check_tensor_indices(op.outputs, len(tensors), where)


class _SharingBuilder(flatbuffers.Builder):
    """Writes each distinct numeric vector once (tensor shapes, operator inputs, custom options):
    flatbuffer tables may point at one vector, as they point at one shared string."""

    def __init__(self, initial_size: int) -> None:
        super().__init__(initial_size)
        self._vectors: dict[tuple[str, bytes], int] = {}

    def CreateNumpyVector(self, x: np.ndarray) -> int:  # noqa: N802 (flatbuffers API name)
        key = (x.dtype.str, x.tobytes())
        if key not in self._vectors:
            self._vectors[key] = super().CreateNumpyVector(x)
        return self._vectors[key]


def write_model(model: schema.ModelT) -> bytes:
    """Serializes with every non-empty constant buffer a custom op reads at a 64-byte offset (others
    at 16), each distinct numeric vector written once, and no empty quantization tables."""
    custom_read = _buffers_read_by_custom_ops(model)
    model.buffers = [_as_aligned(b, i in custom_read) for i, b in enumerate(model.buffers or [])]
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors or []:
            if _is_empty_quantization(tensor.quantization):
                tensor.quantization = None
    builder = _SharingBuilder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _buffers_read_by_custom_ops(model: schema.ModelT) -> set[int]:
    read = set()
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            if _custom_name(model, op) is not None:
                read.update(subgraph.tensors[t].buffer for t in op.inputs if t >= 0)
    return read


def _is_empty_quantization(q: schema.QuantizationParametersT | None) -> bool:
    return q is not None and all(
        v is None or len(v) == 0 for v in (q.min, q.max, q.scale, q.zeroPoint)) and q.details is None


def _as_aligned(buffer: schema.BufferT, custom_read: bool) -> _AlignedBufferT:
    aligned = _AlignedBufferT()
    aligned.data, aligned.offset, aligned.size = buffer.data, buffer.offset, buffer.size
    aligned.alignment = BUFFER_ALIGNMENT if custom_read else BUILTIN_BUFFER_ALIGNMENT
    return aligned


def _custom_name(model: schema.ModelT, op: schema.OperatorT) -> str | None:
    code = model.operatorCodes[op.opcodeIndex]
    if max(code.builtinCode, code.deprecatedBuiltinCode) != _CUSTOM or code.customCode is None:
        return None
    name = code.customCode
    return name.decode() if isinstance(name, bytes) else name


def _fill_absent_inputs(model: schema.ModelT) -> None:
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            inputs = list(op.inputs if op.inputs is not None else [])
            while inputs and inputs[-1] < 0:
                inputs.pop()
            for position, tensor_index in enumerate(inputs):
                if tensor_index >= 0:
                    continue
                name = _custom_name(model, op) or "op"
                dtype = _PLACEHOLDER_TYPES.get((name.split("#")[0], position), _FLOAT32)
                buffer = schema.BufferT()
                buffer.data = np.zeros(4, dtype=np.uint8)
                model.buffers.append(buffer)
                tensor = schema.TensorT()
                tensor.shape = [1]
                tensor.type = dtype
                tensor.buffer = len(model.buffers) - 1
                tensor.name = f"{name}_absent_input_{position}".encode()
                subgraph.tensors.append(tensor)
                inputs[position] = len(subgraph.tensors) - 1
            op.inputs = inputs


def _give_custom_nodes_own_codes(model: schema.ModelT) -> None:
    counter = 0
    codes = list(model.operatorCodes)
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            name = _custom_name(model, op)
            if name is None:
                continue
            code = schema.OperatorCodeT()
            original = codes[op.opcodeIndex]
            code.builtinCode = original.builtinCode
            code.deprecatedBuiltinCode = original.deprecatedBuiltinCode
            code.version = original.version
            code.customCode = f"{name.split('#')[0]}#{counter}".encode()
            counter += 1
            model.operatorCodes.append(code)
            op.opcodeIndex = len(model.operatorCodes) - 1


def _builtin_name(model: schema.ModelT, op: schema.OperatorT) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def _constant_values(model: schema.ModelT, tensor: schema.TensorT) -> np.ndarray | None:
    """The int32 values of a constant tensor, or None if it is not one."""
    data = model.buffers[tensor.buffer].data if tensor.buffer < len(model.buffers) else None
    if tensor.type != _INT32 or data is None or len(data) == 0 or len(data) % 4:
        return None
    return np.frombuffer(np.asarray(data, dtype=np.uint8).tobytes(), dtype="<i4")


def _is_batch_size_of(model: schema.ModelT, subgraph: schema.SubGraphT, producers: dict,
                      scalar: int, x: int) -> bool:
    """True when tensor ``scalar`` is ``STRIDED_SLICE(SHAPE(x), [0], [1], [1])`` (dim 0, squeezed)."""
    slice_op = producers.get(scalar)
    if slice_op is None or _builtin_name(model, slice_op) != schema.BuiltinOperator.STRIDED_SLICE:
        return False
    options = slice_op.builtinOptions
    if (len(slice_op.inputs) != 4 or not isinstance(options, schema.StridedSliceOptionsT)
            or options.shrinkAxisMask != 1 or options.beginMask or options.endMask
            or options.ellipsisMask or options.newAxisMask or options.offset):
        return False
    shape_op = producers.get(slice_op.inputs[0])
    if (shape_op is None or _builtin_name(model, shape_op) != schema.BuiltinOperator.SHAPE
            or list(shape_op.inputs) != [x]):
        return False
    begin, end, strides = (_constant_values(model, subgraph.tensors[t]) for t in slice_op.inputs[1:])
    return all(v is not None for v in (begin, end, strides)) and (
        begin.tolist(), end.tolist(), strides.tolist()) == ([0], [1], [1])


def _static_flatten_shape(model: schema.ModelT, subgraph: schema.SubGraphT, producers: dict,
                          op: schema.OperatorT) -> np.ndarray | None:
    """``[-1, c...]`` when ``op`` is a RESHAPE of x to ``PACK(SHAPE(x)[0], c...)`` whose constants
    multiply to the static size of one x item (so -1 is exactly x's batch), else None."""
    if _builtin_name(model, op) != schema.BuiltinOperator.RESHAPE or len(op.inputs) != 2:
        return None
    x, shape = op.inputs
    pack = producers.get(shape)
    if (x < 0 or pack is None or _builtin_name(model, pack) != schema.BuiltinOperator.PACK
            or not isinstance(pack.builtinOptions, schema.PackOptionsT)
            or pack.builtinOptions.axis != 0 or len(pack.inputs) < 2
            or not _is_batch_size_of(model, subgraph, producers, pack.inputs[0], x)):
        return None
    rest = [_constant_values(model, subgraph.tensors[t]) for t in pack.inputs[1:]]
    if any(r is None or r.size != 1 or r[0] < 0 for r in rest):
        return None
    item = subgraph.tensors[x]
    dims = list(item.shapeSignature if item.shapeSignature is not None else item.shape)[1:]
    if any(d < 0 for d in dims) or int(np.prod(dims)) != int(np.prod([r[0] for r in rest])):
        return None
    return np.asarray([-1, *(int(r[0]) for r in rest)], dtype="<i4")


def _remove_dead_shape_ops(model: schema.ModelT, subgraph: schema.SubGraphT) -> None:
    """Drops PACK / STRIDED_SLICE / SHAPE ops nothing reads any more (last consumers first)."""
    kinds = {schema.BuiltinOperator.PACK, schema.BuiltinOperator.STRIDED_SLICE,
             schema.BuiltinOperator.SHAPE}
    while True:
        read = {t for op in subgraph.operators for t in (op.inputs if op.inputs is not None else [])}
        read |= set(subgraph.outputs if subgraph.outputs is not None else [])
        dead = [op for op in subgraph.operators if _builtin_name(model, op) in kinds
                and not any(t in read for t in op.outputs)]
        if not dead:
            return
        subgraph.operators = [op for op in subgraph.operators if all(op is not d for d in dead)]


def make_flatten_shapes_static(model: schema.ModelT) -> int:
    """Rewrites every dynamic-batch Flatten ``RESHAPE(x, PACK(SHAPE(x)[0], c...))`` to
    ``RESHAPE(x, [-1, c...])`` in place and drops the shape ops left unused (a SHAPE with other
    consumers stays). Returns how many reshapes it rewrote."""
    rewritten = 0
    for subgraph in model.subgraphs:
        operators = subgraph.operators or []
        producers = {t: op for op in operators for t in (op.outputs if op.outputs is not None else [])}
        for op in operators:
            new_shape = _static_flatten_shape(model, subgraph, producers, op)
            if new_shape is None:
                continue
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(new_shape.tobytes(), dtype=np.uint8).copy()
            model.buffers.append(buffer)
            tensor = schema.TensorT()
            tensor.shape = [len(new_shape)]
            tensor.type = _INT32
            tensor.buffer = len(model.buffers) - 1
            tensor.name = (subgraph.tensors[op.outputs[0]].name or b"reshape") + b"/static_shape"
            subgraph.tensors.append(tensor)
            op.inputs = [op.inputs[0], len(subgraph.tensors) - 1]
            options = schema.ReshapeOptionsT()
            options.newShape = new_shape.tolist()
            op.builtinOptionsType = schema.BuiltinOptions.ReshapeOptions
            op.builtinOptions = options
            rewritten += 1
        if rewritten:
            _remove_dead_shape_ops(model, subgraph)
    return rewritten


_RESHAPE_LIKE = {schema.BuiltinOperator.RESHAPE, schema.BuiltinOperator.SQUEEZE,
                 schema.BuiltinOperator.EXPAND_DIMS}


def copy_reshaped_outputs(model: schema.ModelT) -> int:
    """Makes every model output (of the subgraph the runner runs: the first signature's) that a
    reshape-like op writes the output of a same-type ``CAST`` of it instead, in place. Outputs
    of control-flow bodies are not bound to caller buffers and stay. Returns how many copies it
    added."""
    copies = 0
    cast_code = None
    signatures = model.signatureDefs or []
    subgraph = model.subgraphs[signatures[0].subgraphIndex if signatures else 0]
    outputs = set(subgraph.outputs if subgraph.outputs is not None else [])
    for op in list(subgraph.operators or []):
        if _builtin_name(model, op) not in _RESHAPE_LIKE or not set(op.outputs) & outputs:
            continue
        if cast_code is None:
            cast_code = _builtin_code(model, schema.BuiltinOperator.CAST)
        (output,) = op.outputs
        reshaped = copy.copy(subgraph.tensors[output])
        reshaped.name = (reshaped.name or b"output") + b"/before_copy"
        reshaped.buffer = 0
        subgraph.tensors.append(reshaped)
        op.outputs = [len(subgraph.tensors) - 1]
        cast = schema.OperatorT()
        cast.opcodeIndex = cast_code
        cast.inputs, cast.outputs = [len(subgraph.tensors) - 1], [output]
        cast.builtinOptionsType = schema.BuiltinOptions.CastOptions
        cast.builtinOptions = schema.CastOptionsT()
        cast.builtinOptions.inDataType = cast.builtinOptions.outDataType = reshaped.type
        subgraph.operators.insert(subgraph.operators.index(op) + 1, cast)
        copies += 1
    return copies


def _builtin_code(model: schema.ModelT, builtin: int) -> int:
    """Index of the operator code of ``builtin``, added if the model has none."""
    for index, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return index
    code = schema.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def make_runtime_compatible(model: bytes) -> bytes:
    """Format-preserving fixes (aligned buffers, no absent inputs, static Flatten shapes); the
    compiler applies these."""
    parsed = read_model(model)
    _fill_absent_inputs(parsed)
    make_flatten_shapes_static(parsed)
    return write_model(parsed)


def prepare_model(model: bytes) -> bytes:
    """Everything the runtime needs, including one custom code per custom node."""
    parsed = read_model(model)
    _fill_absent_inputs(parsed)
    make_flatten_shapes_static(parsed)
    copy_reshaped_outputs(parsed)
    _give_custom_nodes_own_codes(parsed)
    return write_model(parsed)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m larq_compute.runtime_prepare IN.tflite OUT.tflite", file=sys.stderr)
        return 2
    with open(args[0], "rb") as f:
        prepared = prepare_model(f.read())
    with open(args[1], "wb") as f:
        f.write(prepared)
    return 0


if __name__ == "__main__":
    sys.exit(main())
