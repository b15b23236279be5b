"""Training metrics for quantized networks."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["FlipRatio"]


@keras.saving.register_keras_serializable(package="larq_compute")
class FlipRatio(keras.metrics.Metric):
    """Mean fraction of values that changed since the previous update.

    Fed the quantized kernel at every training step (``SteSign(metrics=["flip_ratio"])``), it
    reports how many binary weights flip per step — a direct view of how much a BNN still
    learns. The first update only records values. ``reset_state`` clears the mean but keeps
    the last values, so the first step of an epoch is compared with the last of the previous.
    """

    def __init__(self, values_dtype: str = "int8", name: str = "flip_ratio", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.values_dtype = values_dtype
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")
        self.has_previous = self.add_variable(shape=(), initializer="zeros", name="has_previous")
        self.previous_values = None

    def build(self, shape: Any) -> None:
        self.previous_values = self.add_variable(
            shape=tuple(shape), initializer="zeros", dtype=self.values_dtype, name="previous_values"
        )

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = ops.cast(values, self.values_dtype)
        if self.previous_values is None:
            self.build(values.shape)
        changed = ops.mean(ops.cast(ops.not_equal(values, self.previous_values), self.dtype))
        self.total.assign_add(changed * self.has_previous)
        self.count.assign_add(self.has_previous)
        self.has_previous.assign(1.0)
        self.previous_values.assign(values)

    def result(self) -> Any:
        return ops.divide_no_nan(self.total, self.count)

    def reset_state(self) -> None:
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "values_dtype": self.values_dtype}
