"""The conversion report: which layers became binary ops, and why the others stayed float."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ai_edge_litert import schema_py_generated as schema

from .bitpack import packed_depth
from .ir import ACTIVATION_NAMES, Graph, Op, Tensor
from .passes import bconv2d, bfully_connected
from .patterns import (
    BCONV2D,
    BFULLY_CONNECTED,
    BMAXPOOL2D,
    QUANTIZE,
    binary_input,
    constant,
    producer,
)
from .weights import split_binary_weights

_FLOAT_LAYER_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@dataclass
class LayerReport:
    layer: str
    op: str
    binary: bool
    detail: str
    warn: bool = False  # looked binary but stayed float
    int8: bool = False  # a non-binary layer that runs int8


@dataclass
class ConversionReport:
    layers: list[LayerReport] = field(default_factory=list)
    quantizers: int = 0
    int8_quantizers: int = 0  # LceQuantize reading int8
    float_bytes: int = 0
    converted_bytes: int = 0
    # Names of the model's int8/uint8 tensors (activations, not weights): inputs, outputs, all.
    int8_inputs: list[str] = field(default_factory=list)
    int8_outputs: list[str] = field(default_factory=list)
    int8_tensors: list[str] = field(default_factory=list)
    activation_tensors: int = 0

    @property
    def binary_layers(self) -> list[LayerReport]:
        return [row for row in self.layers if row.binary]

    @property
    def float_layers(self) -> list[LayerReport]:
        return [row for row in self.layers if not row.binary]

    def __str__(self) -> str:
        header = ("layer", "op", "result")
        kinds = [("binary: " if r.binary else "int8: " if r.int8 else "float: ") for r in self.layers]
        rows = [(r.layer, r.op, kind + r.detail) for r, kind in zip(self.layers, kinds)]
        widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
        widths[2] = len(header[2])
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        ratio = self.float_bytes / self.converted_bytes if self.converted_bytes else 0.0
        # Alignment padding makes a model without binary layers slightly larger.
        change = f"{ratio:.1f}x smaller" if ratio >= 1 else f"{1 / ratio:.2f}x larger" if ratio else ""
        from_int8 = f" ({self.int8_quantizers} from int8)" if self.int8_quantizers else ""
        lines.append(
            f"{len(self.binary_layers)} binary layers, {len(self.float_layers)} float layers, "
            f"{self.quantizers} LceQuantize{from_int8}; size {_size(self.float_bytes)} (float) -> "
            f"{_size(self.converted_bytes)} ({change})"
        )
        if self.int8_tensors:
            lines.append(
                f"int8: {len(self.int8_tensors)} of {self.activation_tensors} activation tensors; "
                f"inputs: {', '.join(self.int8_inputs) or 'none'}; "
                f"outputs: {', '.join(self.int8_outputs) or 'none'}"
            )
        return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _activation(options: dict) -> str:
    act = options.get("output_activation_function", 0)
    return f", {ACTIVATION_NAMES[act].lower()}" if act else ""


def _residual(op: Op) -> str:
    """The fused residual ADD (fuse_residual_add), if any."""
    if op.input(5) is None:
        return ""
    act = op.options.get("residual_activation_function", 0)
    return " + residual" + (f", then {ACTIVATION_NAMES[act].lower()}" if act else "")


_OUTPUT_KINDS = {schema.TensorType.INT32: "bit-packed output", schema.TensorType.INT8: "int8 output"}
_INTEGER_IO = (schema.TensorType.INT8, schema.TensorType.UINT8)


def _describe_tensor(tensor: Tensor) -> str:
    kind = "uint8" if tensor.tensor_type == schema.TensorType.UINT8 else "int8"
    q = tensor.quantization
    return f"{tensor.name} ({kind}, scale {float(q.scale[0]):.6g}, zero point {int(q.zeroPoint[0])})"


def _describe_binary(op: Op) -> str:
    o = op.options
    output = _OUTPUT_KINDS.get(op.output.tensor_type, "float output")
    if op.type == BCONV2D:
        shape = op.inputs[1].shape
        padding = "valid" if o["padding"] == schema.Padding.VALID else ("one-padded" if o["pad_values"] else "zero-padded")
        groups = packed_depth(o["channels_in"]) // shape[3]
        extra = f", groups {groups}" if groups > 1 else ""
        dil = o["dilation_height_factor"], o["dilation_width_factor"]
        extra += f", dilation {dil[0]}x{dil[1]}" if dil != (1, 1) else ""
        return (
            f"{shape[1]}x{shape[2]} conv {o['channels_in']}->{shape[0]}, stride "
            f"{o['stride_height']}x{o['stride_width']}, {padding}{extra}{_activation(o)}, {output}"
            f"{_residual(op)}"
        )
    if op.type == BFULLY_CONNECTED:
        return f"dense {o['channels_in']}->{op.inputs[1].shape[0]}{_activation(o)}, {output}"
    return f"{o['filter_height']}x{o['filter_width']} max-pool, stride {o['stride_height']}x{o['stride_width']}"


def _why_float(op: Op) -> tuple[str, bool]:
    """(reason, looks binary): why a conv/dense layer stayed float."""
    if op.type == "CONV_2D":
        reason = bconv2d.match(op)
    elif op.type == "FULLY_CONNECTED":
        reason = bfully_connected.match(op)
    else:
        reason = "binary depthwise convolutions are not supported"
    if not isinstance(reason, str):
        reason = "matched, but was not rewritten"
    x = op.inputs[0]
    pad = producer(x, "PAD", "PADV2")
    input_binary = binary_input(x) is not None or (pad is not None and binary_input(pad.inputs[0]) is not None)
    if not input_binary:
        reason = "input is not binarized (no binary quantizer in front)"
        if _is_ternary_quantizer(x):
            return ("input is ternary (sign(sign(x + t) + sign(x − t)), e.g. ste_tern): no op of "
                    "the op set takes ternary input"), True
        weights = constant(op.inputs[1])
        if producer(x, "SIGN") is not None and weights is not None and not isinstance(split_binary_weights(weights), str):
            return "input is a plain sign(x) (maps 0 to 0), not a binary quantizer", True
    # A layer with a binarized input that stays float is worth a warning; a float-input layer
    # (with or without binary weights, e.g. a first layer) is float by design.
    return reason, input_binary


def _is_ternary_quantizer(x: Tensor) -> bool:
    """``x = SIGN(ADD(SIGN(a), SIGN(b)))``: the ste_tern quantizer as the stock converter emits it."""
    outer = producer(x, "SIGN")
    total = producer(outer.inputs[0], "ADD") if outer is not None else None
    return total is not None and all(producer(t, "SIGN") is not None for t in total.inputs)


def build_report(graph: Graph, float_bytes: int, converted_bytes: int,
                 subgraphs: Sequence[Graph] = ()) -> ConversionReport:
    """The report of the main ``graph``; layers of ``subgraphs`` (WHILE / IF bodies) are listed too."""
    report = ConversionReport(float_bytes=float_bytes, converted_bytes=converted_bytes)
    for op in [op for g in (graph, *subgraphs) for op in g.ops]:
        if op.custom and op.type in (BCONV2D, BFULLY_CONNECTED, BMAXPOOL2D):
            report.layers.append(LayerReport(op.origin, op.type, True, _describe_binary(op)))
        elif op.custom and op.type == QUANTIZE:
            report.quantizers += 1
            report.int8_quantizers += op.inputs[0].tensor_type == schema.TensorType.INT8
        elif not op.custom and op.type in _FLOAT_LAYER_OPS:
            reason, looks_binary = _why_float(op)
            int8 = op.output.tensor_type == schema.TensorType.INT8
            report.layers.append(LayerReport(op.origin, op.type, False, reason, warn=looks_binary, int8=int8))
    activations = [t for t in graph.tensors() if not t.is_constant]
    report.activation_tensors = sum(t.tensor_type != schema.TensorType.INT32 for t in activations)
    report.int8_tensors = [t.name for t in activations if t.tensor_type in _INTEGER_IO]
    report.int8_inputs = [_describe_tensor(t) for t in graph.inputs if t.tensor_type in _INTEGER_IO]
    report.int8_outputs = [_describe_tensor(t) for t in graph.outputs if t.tensor_type in _INTEGER_IO]
    return report
