"""``EarlyStopping``: stop ``fit`` when a monitored metric stops improving."""

from __future__ import annotations

import warnings
from typing import Any

from minired.callbacks.monitor_callback import MonitorCallback
from minired.utils.progbar import print_msg


class EarlyStopping(MonitorCallback):
    """Stop training when the monitored metric has not improved for ``patience`` epochs.

    At each epoch end (Keras 3 order, which has consequences worth knowing):

    1. Epochs before ``start_from_epoch``, or without the monitored value, are skipped.
    2. ``wait += 1`` *before* the improvement test.
    3. On an improvement: remember the value, the epoch and (if asked) the weights, and
       reset ``wait`` to 0, unless a ``baseline`` is set and not beaten yet. Then return:
       an improving epoch never stops training.
    4. Otherwise stop if ``wait >= patience`` and ``epoch > 0``.

    So ``patience=0`` and ``patience=1`` both stop at the first epoch without
    improvement, and a never-reached baseline does not stop a run that keeps improving.
    With ``restore_best_weights=True`` the best weights are restored at the end of
    training *even if it ran to the last epoch without stopping*.

    Args:
        monitor: log key to watch.
        min_delta: improvements of at most ``abs(min_delta)`` do not count.
        patience: epochs without improvement before stopping (0 acts like 1).
        verbose: 1 prints a message when stopping and when restoring weights.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see MonitorCallback).
        baseline: a value to beat; until then ``wait`` keeps growing even on improvements.
        restore_best_weights: put back the weights of the best epoch at the end.
        start_from_epoch: number of warm-up epochs not monitored at all.

    Attributes:
        wait: epochs counted since the last improvement that reset it.
        best: best monitored value so far.
        best_epoch: epoch (0-based) of ``best``.
        stopped_epoch: epoch (0-based) at which training was stopped, 0 if it was not.

    Example:
        >>> stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
        >>> # model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[stop])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: list | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        # Reset, so one instance can serve several fit calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()

        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return  # nothing to monitor, or still warming up
        if self.restore_best_weights and self.best_weights is None:
            # The first monitored epoch is the best seen so far: snapshot it now, so that
            # there is something to restore even if no epoch counts as an improvement
            # (e.g. the baseline is never beaten).
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Restart the count only if we beat both the previous best and the baseline.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return

        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: dict | None) -> Any:
        """Return ``logs[monitor]``, or None with a warning listing the available keys."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs.keys())}",
                stacklevel=2,
            )
        return value
