"""Optimizers for binarized networks: ``Bop`` for binary weights and ``CaseOptimizer`` to
route each variable to the optimizer that suits it.

Typical use (Larq's recipe)::

    optimizer = lc.optimizers.CaseOptimizer(
        (lc.optimizers.Bop.is_binary_variable, lc.optimizers.Bop(threshold=1e-6, gamma=1e-3)),
        default_optimizer=keras.optimizers.Adam(0.01),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf
from keras.src import backend as keras_backend

from larq_compute import math as lc_math

__all__ = ["Bop", "CaseOptimizer", "is_binary_variable"]

_PACKAGE = "larq_compute"
Predicate = Callable[[Any], bool]


@keras.saving.register_keras_serializable(package=_PACKAGE)
def is_binary_variable(variable: Any) -> bool:
    """True for the kernels of quantized layers whose kernel quantizer has precision 1."""
    return getattr(variable, "precision", None) == 1


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Bop(keras.optimizers.Optimizer):
    """Binary optimizer (Helwegen et al., 2019): flips binary weights instead of updating
    latent real values.

    For each weight ``w`` (±1) with gradient ``g`` it keeps an exponential moving average
    ``m <- (1 - gamma) m + gamma g`` and flips ``w`` to ``-w`` exactly when ``w * m >
    threshold``, i.e. when ``m`` agrees in sign with ``w`` (the gradient pushes ``w`` across
    zero) and ``abs(m)`` exceeds ``threshold``. Other weights become ``sign(w)``.

    ``gamma`` is the adaptivity rate and plays the role of the learning rate: it can be a
    ``keras.optimizers.schedules.LearningRateSchedule`` and ``optimizer.gamma`` can be set
    during training. Bop only trains binary variables; use it inside :class:`CaseOptimizer`.
    """

    def __init__(self, threshold: float = 1e-8, gamma: Any = 1e-4, name: str = "Bop", **kwargs: Any) -> None:
        kwargs.pop("learning_rate", None)
        super().__init__(learning_rate=gamma, name=name, **kwargs)
        with keras_backend.name_scope(self.name, caller=self):
            self._threshold = keras.Variable(
                float(threshold), name="threshold", dtype="float32", trainable=False
            )
        self._track_variable(self._threshold)

    is_binary_variable = staticmethod(is_binary_variable)

    @property
    def threshold(self) -> Any:
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self._threshold.assign(value)

    @property
    def gamma(self) -> Any:
        return self.learning_rate

    @gamma.setter
    def gamma(self, value: Any) -> None:
        self.learning_rate = value

    def build(self, variables: Sequence[Any]) -> None:
        if self.built:
            return
        if not variables:
            raise ValueError(
                "Bop got no variables to train: the model has no binary weights (a quantized "
                "layer whose kernel quantizer has precision 1, e.g. kernel_quantizer='ste_sign')."
            )
        not_binary = [v.path for v in variables if not is_binary_variable(v)]
        if not_binary:
            raise ValueError(
                f"Bop only trains binary weights, but got non-binary variables {not_binary}. "
                "Use CaseOptimizer((Bop.is_binary_variable, Bop()), default_optimizer=...) so "
                "the other variables get a standard optimizer."
            )
        super().build(variables)
        self._moving_averages = self.add_optimizer_variables(variables, "moving_average")

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        gamma = tf.cast(learning_rate, variable.dtype)
        threshold = tf.cast(self._threshold, variable.dtype)
        moving_average = self._moving_averages[self._get_variable_index(variable)]
        m = moving_average + gamma * (tf.cast(gradient, variable.dtype) - moving_average)
        self.assign(moving_average, m)
        w = lc_math.sign(variable)
        self.assign(variable, tf.where(w * m > threshold, -w, w))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["gamma"] = config.pop("learning_rate")
        config["threshold"] = float(keras.ops.convert_to_numpy(self._threshold))
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Bop:
        config = dict(config)
        if isinstance(config.get("gamma"), dict):
            config["gamma"] = keras.saving.deserialize_keras_object(config["gamma"], custom_objects=custom_objects)
        return cls(**config)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CaseOptimizer(keras.optimizers.Optimizer):
    """Apply a different optimizer to each group of variables.

    Each ``(predicate, optimizer)`` pair claims the variables for which ``predicate(variable)``
    is true (a variable goes to the first pair that claims it); the rest go to
    ``default_optimizer``. Every pair must claim at least one variable — an optimizer with
    nothing to train is a configuration error. ``learning_rate`` refers to the default
    optimizer's, so learning-rate callbacks keep working.
    """

    def __init__(
        self,
        *predicate_optimizer_pairs: tuple[Predicate, keras.optimizers.Optimizer],
        default_optimizer: keras.optimizers.Optimizer | None = None,
        name: str = "optimizer_case",
    ) -> None:
        super().__init__(learning_rate=0.0, name=name)
        for pair in predicate_optimizer_pairs:
            if (
                not isinstance(pair, (tuple, list))
                or len(pair) != 2
                or not callable(pair[0])
                or not isinstance(pair[1], keras.optimizers.Optimizer)
            ):
                raise ValueError(
                    f"CaseOptimizer takes (predicate, optimizer) pairs, got {pair!r}."
                )
        if default_optimizer is not None and not isinstance(default_optimizer, keras.optimizers.Optimizer):
            raise ValueError(
                f"CaseOptimizer `default_optimizer` must be a Keras optimizer, got {default_optimizer!r}."
            )
        self.predicate_optimizer_pairs = [tuple(pair) for pair in predicate_optimizer_pairs]
        self.default_optimizer = default_optimizer

    @property
    def optimizers(self) -> list[keras.optimizers.Optimizer]:
        """The pair optimizers in order, then the default optimizer if there is one."""
        pairs = [optimizer for _, optimizer in self.predicate_optimizer_pairs]
        return pairs + ([self.default_optimizer] if self.default_optimizer is not None else [])

    def _route(self, variables: Sequence[Any]) -> list[list[int]]:
        """Indices of ``variables`` per optimizer (same order as :attr:`optimizers`)."""
        groups: list[list[int]] = [[] for _ in self.optimizers]
        for index, variable in enumerate(variables):
            for pair_index, (predicate, _) in enumerate(self.predicate_optimizer_pairs):
                if predicate(variable):
                    groups[pair_index].append(index)
                    break
            else:
                if self.default_optimizer is None:
                    raise ValueError(
                        f"CaseOptimizer: variable '{variable.path}' matches no predicate and "
                        "there is no `default_optimizer` for it."
                    )
                groups[-1].append(index)
        return groups

    def build(self, variables: Sequence[Any]) -> None:
        if self.built:
            return
        variables = list(variables)
        groups = self._route(variables)
        for (predicate, optimizer), group in zip(self.predicate_optimizer_pairs, groups):
            if not group:
                raise ValueError(
                    f"CaseOptimizer: no trainable variable matches the predicate "
                    f"{getattr(predicate, '__name__', predicate)!r} of optimizer "
                    f"'{optimizer.name}'. For Bop this means the model has no binary weights "
                    "(a quantized layer with a 1-bit kernel_quantizer such as 'ste_sign')."
                )
        for optimizer, group in zip(self.optimizers, groups):
            if group:
                optimizer.build([variables[i] for i in group])
        super().build(variables)

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None) -> None:
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            with keras_backend.name_scope(self.name, caller=self):
                self.build(trainable_variables)
        for optimizer, group in zip(self.optimizers, self._route(trainable_variables)):
            if group:
                optimizer.apply([grads[i] for i in group], [trainable_variables[i] for i in group])
        self._iterations.assign_add(1)

    @property
    def variables(self) -> list[Any]:
        return self._variables + [v for optimizer in self.optimizers for v in optimizer.variables]

    @property
    def learning_rate(self) -> Any:
        if self.default_optimizer is None:
            raise AttributeError("CaseOptimizer has no default_optimizer, hence no learning_rate.")
        return self.default_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        # The base constructor sets a placeholder rate before the default optimizer exists.
        if getattr(self, "default_optimizer", None) is None:
            keras.optimizers.Optimizer.learning_rate.fset(self, value)
        else:
            self.default_optimizer.learning_rate = value

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        for optimizer, group in zip(self.optimizers, self._route(list(var_list))):
            if group:
                optimizer.finalize_variable_values([var_list[i] for i in group])

    def get_config(self) -> dict[str, Any]:
        serialize = keras.saving.serialize_keras_object
        return {
            "name": self.name,
            "predicate_optimizer_pairs": [
                [serialize(predicate), serialize(optimizer)]
                for predicate, optimizer in self.predicate_optimizer_pairs
            ],
            "default_optimizer": None if self.default_optimizer is None else serialize(self.default_optimizer),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> CaseOptimizer:
        def deserialize(obj: Any) -> Any:
            return keras.saving.deserialize_keras_object(obj, custom_objects=custom_objects)

        pairs = [(deserialize(p), deserialize(o)) for p, o in config["predicate_optimizer_pairs"]]
        default = config.get("default_optimizer")
        return cls(*pairs, default_optimizer=None if default is None else deserialize(default), name=config["name"])
