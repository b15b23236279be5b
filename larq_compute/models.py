"""``summary(model)``: per-layer precision, parameters by bit width, memory and MACs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from larq_compute import quantizers

__all__ = ["LayerProfile", "ModelProfile", "summary"]

_FLOAT_BITS = 32


@dataclasses.dataclass
class LayerProfile:
    """What one layer costs: ``params``/``macs`` map bit width -> count (MACs per sample)."""

    name: str
    class_name: str
    input_precision: int | None
    output_shape: tuple[int | None, ...]
    params: dict[int, int]
    trainable_params: int
    macs: dict[int, int]

    @property
    def memory_bytes(self) -> float:
        """Weights stored at their precision (binary kernels bit-packed)."""
        return sum(bits * count for bits, count in self.params.items()) / 8


@dataclasses.dataclass
class ModelProfile:
    """The summary's data: one :class:`LayerProfile` per layer and model totals."""

    name: str
    layers: list[LayerProfile]

    def _sum(self, attribute: str) -> dict[int, int]:
        totals: dict[int, int] = {}
        for layer in self.layers:
            for bits, count in getattr(layer, attribute).items():
                totals[bits] = totals.get(bits, 0) + count
        return dict(sorted(totals.items()))

    @property
    def params_by_bits(self) -> dict[int, int]:
        return self._sum("params")

    @property
    def macs_by_bits(self) -> dict[int, int]:
        return self._sum("macs")

    @property
    def total_params(self) -> int:
        return sum(self.params_by_bits.values())

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def memory_bytes(self) -> float:
        """Model size with every weight at its precision (binary kernels at 1 bit)."""
        return sum(layer.memory_bytes for layer in self.layers)

    @property
    def float32_memory_bytes(self) -> float:
        """Model size if every weight were float32."""
        return self.total_params * 4.0

    @property
    def compression_ratio(self) -> float:
        return self.float32_memory_bytes / self.memory_bytes if self.memory_bytes else 1.0

    @property
    def total_macs(self) -> int:
        return sum(self.macs_by_bits.values())

    @property
    def binarized_mac_ratio(self) -> float:
        """Fraction of MACs with both operands 1-bit (the ones binary kernels run)."""
        return self.macs_by_bits.get(1, 0) / self.total_macs if self.total_macs else 0.0

    def table(self) -> str:
        """The per-layer table and totals as text (what :func:`summary` prints)."""
        param_bits = sorted({b for layer in self.layers for b in layer.params} | {1, _FLOAT_BITS})
        mac_bits = sorted({b for layer in self.layers for b in layer.macs} | {1, _FLOAT_BITS})
        header = (
            ["Layer (type)", "Input prec. (bit)", "Outputs"]
            + [f"# {b}-bit" for b in param_bits]
            + ["Memory (KiB)"]
            + [f"{b}-bit MACs" for b in mac_bits]
        )
        rows = []
        for layer in self.layers:
            rows.append(
                [
                    f"{layer.name} ({layer.class_name})",
                    "-" if layer.input_precision is None else str(layer.input_precision),
                    str(tuple(-1 if d is None else d for d in layer.output_shape)),
                ]
                + [_count(layer.params.get(b, 0)) for b in param_bits]
                + [f"{layer.memory_bytes / 1024:.2f}"]
                + [_count(layer.macs.get(b, 0)) for b in mac_bits]
            )
        totals = self.params_by_bits
        total_macs = self.macs_by_bits
        rows.append(
            ["Total", "", ""]
            + [_count(totals.get(b, 0)) for b in param_bits]
            + [f"{self.memory_bytes / 1024:.2f}"]
            + [_count(total_macs.get(b, 0)) for b in mac_bits]
        )
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])]
            return "  ".join([first, *rest]).rstrip()

        width = len(line(header))
        out = [f'Model: "{self.name}"', "━" * width, line(header), "━" * width]
        out += [line(row) for row in rows[:-1]]
        out += ["─" * width, line(rows[-1]), "━" * width]
        mebi = 1024 * 1024
        out += [
            f" Total params: {_count(self.total_params)}",
            f" Trainable params: {_count(self.trainable_params)}",
            f" Non-trainable params: {_count(self.non_trainable_params)}",
            f" Model size: {self.memory_bytes / mebi:.2f} MiB "
            f"({self.memory_bytes / 1024:.2f} KiB; binary weights bit-packed, others float32)",
            f" Float-32 equivalent: {self.float32_memory_bytes / mebi:.2f} MiB",
            f" Compression ratio of memory: {self.compression_ratio:.2f}",
            f" Number of MACs: {_count(self.total_macs)}",
            f" Ratio of MACs that are binarized: {self.binarized_mac_ratio:.4f}",
        ]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


def _count(n: int) -> str:
    return f"{n:,}"


def _weight_bits(variable: Any) -> int:
    return int(getattr(variable, "precision", None) or _FLOAT_BITS)


def _pixels(shape: tuple[int | None, ...], data_format: str) -> int:
    spatial = shape[2:] if data_format == "channels_first" else shape[1:-1]
    return int(np.prod([d for d in spatial]))


def _macs(layer: keras.layers.Layer, input_precision: int) -> dict[int, int]:
    """Multiply-accumulates per sample, keyed by max(input bits, weight bits)."""
    transposes = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)
    separables = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
    convs = (
        keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
        keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
    )
    counts: dict[int, int] = {}

    def add(bits: int, count: int) -> None:
        counts[bits] = counts.get(bits, 0) + int(count)

    if isinstance(layer, transposes):
        # Every input pixel scatters one product per kernel weight.
        add(max(input_precision, _weight_bits(layer.kernel)),
            _pixels(layer.input.shape, layer.data_format) * int(np.prod(layer.kernel.shape)))
    elif isinstance(layer, separables):
        pixels = _pixels(layer.output.shape, layer.data_format)
        add(max(input_precision, _weight_bits(layer.depthwise_kernel)),
            pixels * int(np.prod(layer.depthwise_kernel.shape)))
        # The depthwise result is not re-quantized, so the pointwise products take float input.
        add(max(_FLOAT_BITS, _weight_bits(layer.pointwise_kernel)),
            pixels * int(np.prod(layer.pointwise_kernel.shape)))
    elif isinstance(layer, convs):
        # Every output pixel takes one product per kernel weight.
        add(max(input_precision, _weight_bits(layer.kernel)),
            _pixels(layer.output.shape, layer.data_format) * int(np.prod(layer.kernel.shape)))
    elif isinstance(layer, keras.layers.Dense):
        rows = int(np.prod([d for d in layer.input.shape[1:-1]]))
        add(max(input_precision, _weight_bits(layer.kernel)), rows * int(np.prod(layer.kernel.shape)))
    return counts


def _profile(layer: keras.layers.Layer) -> LayerProfile:
    params: dict[int, int] = {}
    for variable in layer.weights:
        bits = _weight_bits(variable)
        params[bits] = params.get(bits, 0) + int(np.prod(variable.shape))
    has_input_quantizer = hasattr(layer, "input_quantizer")
    input_precision = quantizers.precision_of(layer.input_quantizer) if has_input_quantizer else None
    return LayerProfile(
        name=layer.name,
        class_name=type(layer).__name__,
        input_precision=input_precision,
        output_shape=tuple(layer.output.shape),
        params=dict(sorted(params.items())),
        trainable_params=sum(int(np.prod(v.shape)) for v in layer.trainable_weights),
        macs=_macs(layer, input_precision or _FLOAT_BITS),
    )


def _leaf_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers, with nested models replaced by their own layers."""
    leaves = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            leaves.extend(_leaf_layers(layer))
        elif not isinstance(layer, keras.layers.InputLayer):
            leaves.append(layer)
    return leaves


def summary(
    model: keras.Model, print_fn: Callable[[str], Any] | None = None, include_macs: bool = True
) -> ModelProfile:
    """Print a per-layer table of precisions, parameters by bit width, memory and MACs.

    Returns the same numbers as a :class:`ModelProfile`. The model must be built (a
    functional model, or a Sequential model that has been called); nested models are listed
    layer by layer. ``include_macs=False``
    leaves MACs out of the returned profile and the table.
    """
    if not model.built:
        raise ValueError(f"summary: model '{model.name}' is not built; call it on data or give it an Input first.")
    profiles = []
    for layer in _leaf_layers(model):
        profile = _profile(layer)
        if not include_macs:
            profile.macs = {}
        profiles.append(profile)
    result = ModelProfile(name=model.name, layers=profiles)
    (print_fn or print)(result.table())
    return result
