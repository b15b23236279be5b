"""Quantizers: the forward quantization and the pseudo-gradient used to train through it.

Every quantizer is a Keras layer with a ``precision`` attribute (bits per value) and is
registered for serialization. Each is available as a class (``SteSign(clip_value=0.5)``), as a
string alias (``"ste_sign"``), and as a function (``ste_sign(x)``); the layers in
:mod:`larq_compute.layers` accept any of them as ``input_quantizer``, ``kernel_quantizer`` or
``activation``.

Binary sign quantizers compute their forward pass as ``sign(sign(x) + 0.1)`` (0 maps to +1),
which the compiler recognises in a converted model. Their pseudo-gradients:

| quantizer | forward | gradient ``dq/dx`` |
|---|---|---|
| ``ste_sign`` | sign(x) | 1 if ``abs(x) <= clip_value`` else 0 |
| ``approx_sign`` | sign(x) | ``2 - 2 abs(x)`` if ``abs(x) <= 1`` else 0 |
| ``swish_sign`` | sign(x) | ``beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x))`` |
| ``magnitude_aware_sign`` | ``mean(abs(x)) * sign(x)`` per output channel | ``mean(abs(x))`` if ``abs(x) <= clip_value`` else 0 |
| ``ste_heaviside`` | 1 if ``x > 0`` else 0 | 1 if ``abs(x) <= clip_value`` else 0 |
| ``ste_tern`` | -1, 0 or +1 around ``±threshold`` | 1 if ``abs(x) <= clip_value`` else 0 |
| ``dorefa_quantizer`` | k-bit uniform levels | identity inside the clipping range |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf

from larq_compute import context
from larq_compute import math as lc_math

__all__ = [
    "ApproxSign",
    "BaseQuantizer",
    "DoReFa",
    "DoReFaQuantizer",
    "MagnitudeAwareSign",
    "NoOp",
    "SteHeaviside",
    "SteSign",
    "SteTern",
    "SwishSign",
    "approx_sign",
    "deserialize",
    "dorefa_quantizer",
    "get",
    "magnitude_aware_sign",
    "noop",
    "precision_of",
    "serialize",
    "ste_heaviside",
    "ste_sign",
    "ste_tern",
    "swish_sign",
]

Quantizer = Callable[[tf.Tensor], tf.Tensor]
_PACKAGE = "larq_compute"


def _clipped_gradient(x: tf.Tensor, dy: tf.Tensor, clip_value: float | None) -> tf.Tensor:
    """Pass ``dy`` where ``abs(x) <= clip_value`` and 0 elsewhere (all of it if no clip)."""
    if clip_value is None:
        return dy
    return tf.where(tf.abs(x) <= clip_value, dy, tf.zeros_like(dy))


def ste_sign(x: tf.Tensor, clip_value: float | None = 1.0) -> tf.Tensor:
    """Sign with a straight-through estimator, cancelled where ``abs(x) > clip_value``."""

    @tf.custom_gradient
    def _ste_sign(x):
        def grad(dy):
            return _clipped_gradient(x, dy, clip_value)

        return lc_math.sign(x), grad

    return _ste_sign(tf.convert_to_tensor(x))


def approx_sign(x: tf.Tensor) -> tf.Tensor:
    """Sign with the piecewise-linear ApproxSign gradient of Bi-Real Net."""

    @tf.custom_gradient
    def _approx_sign(x):
        def grad(dy):
            abs_x = tf.abs(x)
            return tf.where(abs_x <= 1.0, (2.0 - 2.0 * abs_x) * dy, tf.zeros_like(dy))

        return lc_math.sign(x), grad

    return _approx_sign(tf.convert_to_tensor(x))


def swish_sign(x: tf.Tensor, beta: float = 5.0) -> tf.Tensor:
    """Sign with the gradient of the SignSwish function ``2 sigmoid(beta x)(1 + beta x (1 - sigmoid(beta x))) - 1``."""

    @tf.custom_gradient
    def _swish_sign(x):
        def grad(dy):
            b_x = beta * x
            return dy * beta * (2.0 - b_x * tf.tanh(b_x / 2.0)) / (1.0 + tf.cosh(b_x))

        return lc_math.sign(x), grad

    return _swish_sign(tf.convert_to_tensor(x))


def magnitude_aware_sign(x: tf.Tensor, clip_value: float | None = 1.0) -> tf.Tensor:
    """``mean(abs(x))`` per last-axis channel times ``ste_sign(x)`` (Bi-Real Net weights).

    The scale is treated as a constant in the backward pass.
    """
    reduce_axes = list(range(len(x.shape) - 1))
    scale = tf.stop_gradient(tf.reduce_mean(tf.abs(x), axis=reduce_axes))
    return scale * ste_sign(x, clip_value=clip_value)


def ste_heaviside(x: tf.Tensor, clip_value: float | None = 1.0) -> tf.Tensor:
    """Heaviside step (1 for ``x > 0``, else 0) with a clipped straight-through estimator."""

    @tf.custom_gradient
    def _ste_heaviside(x):
        def grad(dy):
            return _clipped_gradient(x, dy, clip_value)

        return lc_math.heaviside(x), grad

    return _ste_heaviside(tf.convert_to_tensor(x))


def ste_tern(
    x: tf.Tensor,
    threshold_value: float = 0.05,
    ternary_weight_networks: bool = False,
    clip_value: float | None = 1.0,
) -> tf.Tensor:
    """Ternarize to {-1, 0, +1}: +1 for ``x >= t``, -1 for ``x <= -t``, 0 between.

    ``t`` is ``threshold_value``, or with ``ternary_weight_networks=True`` the TWN estimate
    ``0.7 * mean(abs(x))``. Gradient: clipped straight-through estimator.
    """

    @tf.custom_gradient
    def _ste_tern(x):
        if ternary_weight_networks:
            threshold = 0.7 * tf.reduce_mean(tf.abs(x))
        else:
            threshold = tf.cast(threshold_value, x.dtype)

        def grad(dy):
            return _clipped_gradient(x, dy, clip_value)

        return tf.sign(tf.sign(x + threshold) + tf.sign(x - threshold)), grad

    return _ste_tern(tf.convert_to_tensor(x))


def _round_with_identity_gradient(x: tf.Tensor, levels: int) -> tf.Tensor:
    """``round(x * levels) / levels`` with gradient 1."""
    return x + tf.stop_gradient(tf.round(x * levels) / levels - x)


def dorefa_quantizer(x: tf.Tensor, k_bit: int = 2, mode: str = "activations") -> tf.Tensor:
    """DoReFa-Net k-bit quantizer.

    ``mode="activations"``: clip to [0, 1], then round to ``2**k_bit`` uniform levels
    (gradient 1 inside [0, 1], 0 outside). ``mode="weights"``: ``w = tanh(x) / (2 max|tanh(x)|)
    + 0.5`` is rounded the same way and mapped to ``2 w - 1`` in [-1, 1] (gradient through
    the tanh normalisation, rounding straight-through).
    """
    levels = 2**k_bit - 1
    if mode == "activations":
        return _round_with_identity_gradient(tf.clip_by_value(x, 0.0, 1.0), levels)
    if mode == "weights":
        tanh_x = tf.tanh(x)
        normalized = tanh_x / (2.0 * tf.reduce_max(tf.abs(tanh_x))) + 0.5
        return 2.0 * _round_with_identity_gradient(normalized, levels) - 1.0
    raise ValueError(f"DoReFa `mode` must be 'activations' or 'weights', got {mode!r}.")


def noop(x: tf.Tensor) -> tf.Tensor:
    """Identity (used through :class:`NoOp` to declare the precision of values already quantized)."""
    return x


class BaseQuantizer(keras.layers.Layer):
    """Base class of quantizers: a Keras layer with a ``precision`` in bits.

    ``metrics=["flip_ratio"]`` (or an enclosing ``context.metrics_scope``) makes the quantizer
    track the fraction of its outputs that change between training steps.
    """

    precision: int = 32

    def __init__(self, *, metrics: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._custom_metrics = list(metrics) if metrics is not None else context.get_training_metrics()
        unknown = sorted(set(self._custom_metrics) - {"flip_ratio"})
        if unknown:
            raise ValueError(
                f"Quantizer '{self.name}': unknown metrics {unknown}; supported: ['flip_ratio']."
            )
        self.flip_ratio = None

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if "flip_ratio" in self._custom_metrics:
            from larq_compute.metrics import FlipRatio

            self.flip_ratio = FlipRatio(name=f"flip_ratio/{self.name}")
            self.flip_ratio.build(input_shape)

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        outputs = self.quantized(inputs)
        if training and self.flip_ratio is not None:
            self.flip_ratio.update_state(outputs)
        return outputs

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "metrics": self._custom_metrics}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SteSign(BaseQuantizer):
    """Binary sign quantizer with a clipped straight-through estimator (``"ste_sign"``).

    Forward: +1 for ``x >= 0``, -1 otherwise. Backward: 1 where ``abs(x) <= clip_value``, else 0
    (``clip_value=None`` passes every gradient).
    """

    precision = 1

    def __init__(self, clip_value: float | None = 1.0, **kwargs: Any) -> None:
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        return ste_sign(inputs, clip_value=self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ApproxSign(BaseQuantizer):
    """Binary sign with the ApproxSign pseudo-gradient ``2 - 2 abs(x)`` on [-1, 1] (``"approx_sign"``)."""

    precision = 1

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        return approx_sign(inputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SwishSign(BaseQuantizer):
    """Binary sign with the SignSwish pseudo-gradient of steepness ``beta`` (``"swish_sign"``)."""

    precision = 1

    def __init__(self, beta: float = 5.0, **kwargs: Any) -> None:
        self.beta = beta
        super().__init__(**kwargs)

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        return swish_sign(inputs, beta=self.beta)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta": self.beta}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MagnitudeAwareSign(BaseQuantizer):
    """Sign scaled per output channel by ``mean(abs(x))`` (``"magnitude_aware_sign"``, for kernels).

    The scale folds into the following batch norm in a deployed model, so it counts as 1 bit.
    """

    precision = 1

    def __init__(self, clip_value: float | None = 1.0, **kwargs: Any) -> None:
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        return magnitude_aware_sign(inputs, clip_value=self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SteHeaviside(BaseQuantizer):
    """Binary {0, 1} step with a clipped straight-through estimator (``"ste_heaviside"``)."""

    precision = 1

    def __init__(self, clip_value: float | None = 1.0, **kwargs: Any) -> None:
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        return ste_heaviside(inputs, clip_value=self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SteTern(BaseQuantizer):
    """Ternary {-1, 0, +1} quantizer with a clipped straight-through estimator (``"ste_tern"``)."""

    precision = 2

    def __init__(
        self,
        threshold_value: float = 0.05,
        ternary_weight_networks: bool = False,
        clip_value: float | None = 1.0,
        **kwargs: Any,
    ) -> None:
        self.threshold_value = threshold_value
        self.ternary_weight_networks = ternary_weight_networks
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        return ste_tern(
            inputs,
            threshold_value=self.threshold_value,
            ternary_weight_networks=self.ternary_weight_networks,
            clip_value=self.clip_value,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "threshold_value": self.threshold_value,
            "ternary_weight_networks": self.ternary_weight_networks,
            "clip_value": self.clip_value,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DoReFa(BaseQuantizer):
    """DoReFa-Net k-bit quantizer for ``mode="activations"`` or ``mode="weights"`` (``"dorefa_quantizer"``)."""

    def __init__(self, k_bit: int = 2, mode: str = "activations", **kwargs: Any) -> None:
        if not isinstance(k_bit, int) or isinstance(k_bit, bool) or k_bit < 1:
            raise ValueError(f"DoReFa `k_bit` must be a positive integer, got {k_bit!r}.")
        if mode not in ("activations", "weights"):
            raise ValueError(f"DoReFa `mode` must be 'activations' or 'weights', got {mode!r}.")
        self.k_bit = k_bit
        self.mode = mode
        super().__init__(**kwargs)

    @property
    def precision(self) -> int:  # type: ignore[override]
        return self.k_bit

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        return dorefa_quantizer(inputs, k_bit=self.k_bit, mode=self.mode)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "k_bit": self.k_bit, "mode": self.mode}


# The name older Larq releases used.
DoReFaQuantizer = DoReFa


@keras.saving.register_keras_serializable(package=_PACKAGE)
class NoOp(BaseQuantizer):
    """Identity that declares the ``precision`` of values that are already quantized (``"noop"``).

    Typical use: ``kernel_quantizer=NoOp(precision=1)`` on a kernel trained by :class:`Bop`,
    which keeps it at exactly ±1.
    """

    def __init__(self, precision: int = 32, **kwargs: Any) -> None:
        if not isinstance(precision, int) or isinstance(precision, bool) or precision < 1:
            raise ValueError(f"NoOp `precision` must be a positive integer, got {precision!r}.")
        self._precision = precision
        super().__init__(**kwargs)

    @property
    def precision(self) -> int:  # type: ignore[override]
        return self._precision

    def quantized(self, inputs: tf.Tensor) -> tf.Tensor:
        return noop(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "precision": self._precision}


_ALIASES: dict[str, type[BaseQuantizer]] = {
    "ste_sign": SteSign,
    "approx_sign": ApproxSign,
    "swish_sign": SwishSign,
    "magnitude_aware_sign": MagnitudeAwareSign,
    "ste_heaviside": SteHeaviside,
    "ste_tern": SteTern,
    "dorefa_quantizer": DoReFa,
    "noop": NoOp,
}
_CLASSES: dict[str, type[BaseQuantizer]] = {cls.__name__: cls for cls in set(_ALIASES.values())}
_CLASSES["DoReFaQuantizer"] = DoReFa
_FUNCTIONS: dict[Callable[..., tf.Tensor], type[BaseQuantizer]] = {
    ste_sign: SteSign,
    approx_sign: ApproxSign,
    swish_sign: SwishSign,
    magnitude_aware_sign: MagnitudeAwareSign,
    ste_heaviside: SteHeaviside,
    ste_tern: SteTern,
    dorefa_quantizer: DoReFa,
}


def _describe(argument: str | None, layer: str | None) -> str:
    where = f"`{argument}`" if argument else "quantizer"
    return f"{where} of layer '{layer}'" if layer else where


def get(identifier: Any, *, argument: str | None = None, layer: str | None = None) -> Quantizer | None:
    """Resolve a quantizer from None, an alias (``"ste_sign"``), a class name, a config dict,
    a quantizer class or instance, or any callable.

    ``argument`` and ``layer`` only make error messages say where the bad value came from.
    """
    if identifier is None:
        return None
    if isinstance(identifier, BaseQuantizer):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown quantizer {identifier!r} for {_describe(argument, layer)}. "
                f"Known names: {sorted(_ALIASES)}."
            )
        return cls()
    if isinstance(identifier, dict):
        quantizer = deserialize(identifier)
        if not callable(quantizer):
            raise ValueError(f"Could not deserialize {_describe(argument, layer)} from {identifier!r}.")
        return quantizer
    if isinstance(identifier, type) and issubclass(identifier, BaseQuantizer):
        return identifier()
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret {_describe(argument, layer)}: {identifier!r} is neither None, "
        f"a quantizer name, a config dict nor a callable."
    )


def serialize(quantizer: Quantizer | None) -> Any:
    """Keras-serializable form of a quantizer (None stays None)."""
    return None if quantizer is None else keras.saving.serialize_keras_object(quantizer)


def deserialize(config: Any) -> Quantizer | None:
    """Inverse of :func:`serialize`; also accepts aliases."""
    if config is None:
        return None
    if isinstance(config, str):
        return get(config)
    if isinstance(config, dict) and "module" not in config and config.get("class_name") in _CLASSES:
        # Configs written by Larq on tf.keras 2 name the class only.
        return _CLASSES[config["class_name"]].from_config(config.get("config") or {})
    return keras.saving.deserialize_keras_object(config)


def precision_of(quantizer: Quantizer | None) -> int:
    """Bits per value produced by ``quantizer``; 32 for None or a callable without ``precision``."""
    precision = getattr(quantizer, "precision", None)
    return int(precision) if precision is not None else 32
