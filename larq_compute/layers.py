"""Quantized Keras 3 layers with Larq's names, arguments and semantics.

Each layer is its Keras twin (``QuantConv2D`` ~ ``keras.layers.Conv2D``) that first quantizes
its input with ``input_quantizer`` and its kernel(s) with ``kernel_quantizer`` (or
``depthwise_quantizer`` / ``pointwise_quantizer``). With every quantizer None it computes
exactly what the Keras twin computes.

Convolutions also take ``pad_values``: with ``padding="same"``, ``pad_values=1.0`` pads the
*quantized* input with +1 instead of 0 (explicit pad, then a VALID convolution). Binary
convolutions padded with +1 deploy without a correction term.

Positional arguments are those of the Keras twin; the added arguments (quantizers,
``pad_values``) are keyword-only, as Larq's examples pass them.

After ``build``, each quantized kernel variable carries a ``precision`` attribute (the
kernel quantizer's bits), which :class:`larq_compute.optimizers.Bop` uses to find binary
weights.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

# activations, metrics and optimizers are imported only to register their serializable
# objects: after `import larq_compute.layers` (or any use of `lc.layers`),
# `keras.models.load_model` finds everything a saved model refers to.
from larq_compute import (  # noqa: F401
    activations,
    constraints,
    context,
    metrics,
    optimizers,
    quantizers,
)

__all__ = [
    "QuantConv1D",
    "QuantConv2D",
    "QuantConv2DTranspose",
    "QuantConv3D",
    "QuantConv3DTranspose",
    "QuantDense",
    "QuantDepthwiseConv2D",
    "QuantSeparableConv1D",
    "QuantSeparableConv2D",
]

_PACKAGE = "larq_compute"


def _resolve_activation(activation: Any, layer_name: str) -> Any:
    """Quantizer aliases (``activation="ste_sign"``) become quantizers; the rest stays for Keras."""
    if isinstance(activation, str) and activation in quantizers._ALIASES:
        return quantizers.get(activation, argument="activation", layer=layer_name)
    return activation


class _QuantizerMixin:
    """Shared machinery: quantizer arguments, quantized kernels, quantized_scope, config.

    ``_weight_quantizer_args`` maps each kernel attribute to the argument naming its quantizer.
    """

    _weight_quantizer_args: dict[str, str] = {"kernel": "kernel_quantizer"}

    def __init__(self, *args: Any, input_quantizer: Any = None, **kwargs: Any) -> None:
        quantizer_args = {
            arg: kwargs.pop(arg, None) for arg in self._weight_quantizer_args.values()
        }
        name = kwargs.get("name") or type(self).__name__
        if "activation" in kwargs:
            kwargs["activation"] = _resolve_activation(kwargs["activation"], name)
        for key in ("kernel_constraint", "depthwise_constraint", "pointwise_constraint"):
            if key in kwargs:
                kwargs[key] = constraints.get(kwargs[key])
        super().__init__(*args, **kwargs)
        self.input_quantizer = quantizers.get(
            input_quantizer, argument="input_quantizer", layer=self.name
        )
        for arg, identifier in quantizer_args.items():
            setattr(self, arg, quantizers.get(identifier, argument=arg, layer=self.name))

    @property
    def weight_quantizers(self) -> dict[str, Any]:
        """Kernel attribute name -> its quantizer (None for a float kernel)."""
        return {attr: getattr(self, arg) for attr, arg in self._weight_quantizer_args.items()}

    @property
    def input_precision(self) -> int:
        """Bits per input value after ``input_quantizer`` (32 without one)."""
        return quantizers.precision_of(self.input_quantizer)

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        for attr, quantizer in self.weight_quantizers.items():
            getattr(self, attr).precision = quantizers.precision_of(quantizer)
            if (
                quantizer is not None
                and not isinstance(quantizer, quantizers.NoOp)
                and getattr(self, self._constraint_attr(attr), None) is None
            ):
                warnings.warn(
                    f"Layer '{self.name}': `{self._weight_quantizer_args[attr]}` is set without "
                    f"`{self._constraint_attr(attr)}`; latent weights may grow beyond the "
                    "clipping range and stop receiving gradients (use 'weight_clip').",
                    stacklevel=2,
                )

    @staticmethod
    def _constraint_attr(kernel_attr: str) -> str:
        return "kernel_constraint" if kernel_attr == "kernel" else kernel_attr.replace("kernel", "constraint")

    def _quantize_input(self, inputs: Any) -> Any:
        return inputs if self.input_quantizer is None else self.input_quantizer(inputs)

    def _quantized_weight(self, attr: str) -> Any:
        variable = getattr(self, attr)
        quantizer = self.weight_quantizers[attr]
        return variable if quantizer is None else quantizer(variable)

    def _bias_and_activation(self, outputs: Any) -> Any:
        if self.bias is not None:
            channel_axis = 1 if getattr(self, "data_format", "channels_last") == "channels_first" else -1
            bias_shape = [1] * len(outputs.shape)
            bias_shape[channel_axis] = -1
            outputs = ops.add(outputs, ops.reshape(self.bias, bias_shape))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def _quantized_values(self) -> dict[int, np.ndarray]:
        """id(variable) -> its quantized value, for every quantized kernel."""
        return {
            id(getattr(self, attr)): keras.ops.convert_to_numpy(self._quantized_weight(attr))
            for attr, quantizer in self.weight_quantizers.items()
            if quantizer is not None
        }

    def get_weights(self) -> list[np.ndarray]:
        """The layer's weights; inside ``quantized_scope(True)`` kernels come quantized."""
        if not context.should_quantize():
            return super().get_weights()
        quantized = self._quantized_values()
        return [quantized[id(v)] if id(v) in quantized else v.numpy() for v in self.weights]

    def save_own_variables(self, store: Any) -> None:
        if not context.should_quantize():
            return super().save_own_variables(store)
        return super().save_own_variables(_QuantizingStore(store, self._quantized_values()))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["input_quantizer"] = quantizers.serialize(self.input_quantizer)
        for arg in self._weight_quantizer_args.values():
            config[arg] = quantizers.serialize(getattr(self, arg))
        return config


class _QuantizingStore:
    """A write-only view of a weights store that writes quantized values for chosen variables."""

    def __init__(self, store: Any, quantized: dict[int, np.ndarray]) -> None:
        self._store = store
        self._quantized = quantized

    def __setitem__(self, key: str, value: Any) -> None:
        self._store[key] = self._quantized.get(id(value), value)


class _PaddedConvMixin(_QuantizerMixin):
    """Adds ``pad_values``: padding="same" with a constant other than 0, done explicitly."""

    def __init__(self, *args: Any, pad_values: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(pad_values, bool) or not isinstance(pad_values, (int, float)) or not math.isfinite(pad_values):
            raise ValueError(
                f"Layer '{self.name}': `pad_values` must be a finite number (0.0 for zero "
                f"padding, 1.0 to pad the quantized input with +1), got {pad_values!r}."
            )
        if pad_values != 0.0 and self.padding != "same":
            raise ValueError(
                f"Layer '{self.name}': `pad_values={pad_values}` needs padding='same', but "
                f"padding='{self.padding}' adds no padding to fill."
            )
        self.pad_values = float(pad_values)

    def _padding_for_op(self) -> str:
        return "valid" if self.pad_values != 0.0 else self.padding

    def _pad(self, inputs: Any) -> Any:
        """Pad like TF's SAME (extra pixel at the end) with ``pad_values``; no-op for zero padding."""
        if self.pad_values == 0.0:
            return inputs
        channels_first = self.data_format == "channels_first"
        spatial_axes = range(2, 2 + self.rank) if channels_first else range(1, 1 + self.rank)
        widths = [(0, 0)] * len(inputs.shape)
        for i, axis in enumerate(spatial_axes):
            # Static sizes give constant paddings (PADV2 with a constant operand after
            # conversion); unknown sizes are computed in the graph.
            size = inputs.shape[axis]
            maximum = max
            if size is None:
                size, maximum = tf.shape(inputs)[axis], ops.maximum
            stride = self.strides[i]
            effective_kernel = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
            output_size = (size + stride - 1) // stride
            total = maximum((output_size - 1) * stride + effective_kernel - size, 0)
            widths[axis] = (total // 2, total - total // 2)
        return ops.pad(inputs, widths, constant_values=self.pad_values)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pad_values": self.pad_values}


class _QuantConv(_PaddedConvMixin):
    def call(self, inputs: Any) -> Any:
        x = self._quantize_input(inputs)
        padding = self._padding_for_op()
        if self.padding == "causal":
            x = ops.pad(x, self._compute_causal_padding())
            padding = "valid"
        outputs = ops.conv(
            self._pad(x),
            self._quantized_weight("kernel"),
            strides=list(self.strides),
            padding=padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        return self._bias_and_activation(outputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantDense(_QuantizerMixin, keras.layers.Dense):
    """``keras.layers.Dense`` with ``input_quantizer`` and ``kernel_quantizer``."""

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = ops.matmul(self._quantize_input(inputs), self._quantized_weight("kernel"))
        return self._bias_and_activation(outputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantConv1D(_QuantConv, keras.layers.Conv1D):
    """``keras.layers.Conv1D`` with ``input_quantizer``, ``kernel_quantizer`` and ``pad_values``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantConv2D(_QuantConv, keras.layers.Conv2D):
    """``keras.layers.Conv2D`` with ``input_quantizer``, ``kernel_quantizer`` and ``pad_values``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantConv3D(_QuantConv, keras.layers.Conv3D):
    """``keras.layers.Conv3D`` with ``input_quantizer``, ``kernel_quantizer`` and ``pad_values``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantDepthwiseConv2D(_PaddedConvMixin, keras.layers.DepthwiseConv2D):
    """``keras.layers.DepthwiseConv2D`` with ``input_quantizer``, ``depthwise_quantizer`` and
    ``pad_values``."""

    _weight_quantizer_args = {"kernel": "depthwise_quantizer"}

    @staticmethod
    def _constraint_attr(kernel_attr: str) -> str:
        return "depthwise_constraint"

    def call(self, inputs: Any) -> Any:
        outputs = ops.depthwise_conv(
            self._pad(self._quantize_input(inputs)),
            self._quantized_weight("kernel"),
            strides=self.strides,
            padding=self._padding_for_op(),
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        return self._bias_and_activation(outputs)


class _QuantSeparableConv(_PaddedConvMixin):
    _weight_quantizer_args = {
        "depthwise_kernel": "depthwise_quantizer",
        "pointwise_kernel": "pointwise_quantizer",
    }

    def call(self, inputs: Any) -> Any:
        outputs = ops.separable_conv(
            self._pad(self._quantize_input(inputs)),
            self._quantized_weight("depthwise_kernel"),
            self._quantized_weight("pointwise_kernel"),
            strides=self.strides,
            padding=self._padding_for_op(),
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        return self._bias_and_activation(outputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantSeparableConv1D(_QuantSeparableConv, keras.layers.SeparableConv1D):
    """``keras.layers.SeparableConv1D`` with ``input_quantizer``, ``depthwise_quantizer``,
    ``pointwise_quantizer`` and ``pad_values``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantSeparableConv2D(_QuantSeparableConv, keras.layers.SeparableConv2D):
    """``keras.layers.SeparableConv2D`` with ``input_quantizer``, ``depthwise_quantizer``,
    ``pointwise_quantizer`` and ``pad_values``."""


class _QuantConvTranspose(_QuantizerMixin):
    def call(self, inputs: Any) -> Any:
        outputs = ops.conv_transpose(
            self._quantize_input(inputs),
            self._quantized_weight("kernel"),
            strides=list(self.strides),
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        return self._bias_and_activation(outputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantConv2DTranspose(_QuantConvTranspose, keras.layers.Conv2DTranspose):
    """``keras.layers.Conv2DTranspose`` with ``input_quantizer`` and ``kernel_quantizer``."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuantConv3DTranspose(_QuantConvTranspose, keras.layers.Conv3DTranspose):
    """``keras.layers.Conv3DTranspose`` with ``input_quantizer`` and ``kernel_quantizer``."""
