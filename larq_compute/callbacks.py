"""Training callbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

__all__ = ["HyperparameterScheduler"]


class HyperparameterScheduler(keras.callbacks.Callback):
    """Set an optimizer hyperparameter from a schedule at the start of every epoch or step.

    ``schedule(index) -> value`` gets the epoch index (``update_freq="epoch"``) or the global
    step (``update_freq="step"``). Typical use: decay Bop's ``gamma``::

        HyperparameterScheduler(lambda epoch: 1e-3 * 0.9**epoch, "gamma", bop_optimizer)

    The current value is added to the epoch logs under ``log_name`` (default: the
    hyperparameter's name).
    """

    def __init__(
        self,
        schedule: Callable[[int], float],
        hyperparameter: str,
        optimizer: keras.optimizers.Optimizer,
        update_freq: str = "epoch",
        verbose: int = 0,
        log_name: str | None = None,
    ) -> None:
        super().__init__()
        if update_freq not in ("epoch", "step"):
            raise ValueError(f"HyperparameterScheduler `update_freq` must be 'epoch' or 'step', got {update_freq!r}.")
        if not hasattr(optimizer, hyperparameter):
            raise ValueError(
                f"HyperparameterScheduler: optimizer '{optimizer.name}' has no hyperparameter "
                f"{hyperparameter!r}."
            )
        self.schedule = schedule
        self.hyperparameter = hyperparameter
        self.optimizer = optimizer
        self.update_freq = update_freq
        self.verbose = verbose
        self.log_name = log_name or hyperparameter
        self._step = 0

    def _set(self, index: int) -> float:
        value = float(self.schedule(index))
        setattr(self.optimizer, self.hyperparameter, value)
        return value

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.update_freq == "epoch":
            value = self._set(epoch)
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.hyperparameter} = {value:g}.")

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.update_freq == "step":
            self._set(self._step)
            self._step += 1

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs[self.log_name] = float(keras.ops.convert_to_numpy(getattr(self.optimizer, self.hyperparameter)))
