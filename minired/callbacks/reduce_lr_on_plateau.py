"""``ReduceLROnPlateau``: multiply the learning rate by ``factor`` when a metric stalls."""

from __future__ import annotations

import warnings

import numpy as np

from minired import config
from minired.callbacks.monitor_callback import MonitorCallback
from minired.utils.progbar import print_msg


class ReduceLROnPlateau(MonitorCallback):
    """Reduce the learning rate when the monitored metric has stopped improving.

    At each epoch end:

    1. Write the *current* learning rate into ``logs["learning_rate"]`` (before any
       change), so History records the rate each epoch was trained with.
    2. If cooling down after a reduction: count one cooldown epoch down, ``wait = 0``.
    3. On an improvement: remember it, ``wait = 0``.
    4. Otherwise, unless still cooling down: ``wait += 1``; once ``wait >= patience`` and
       ``lr > min_lr``, set ``lr = max(lr * factor, min_lr)``, start the cooldown and
       reset ``wait``.

    The learning rate lives in a ``floatx`` variable in Keras, so the new rate is
    computed in Python floats and then rounded to ``float32`` (by default) when stored.

    Args:
        monitor: log key to watch.
        factor: the new rate is ``lr * factor``; must be < 1.
        patience: epochs without improvement before reducing.
        verbose: 1 prints a message at each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see MonitorCallback).
        min_delta: improvements of at most ``abs(min_delta)`` do not count.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: lower bound on the learning rate.

    Example:
        >>> reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3)
        >>> # model.fit(x, y, validation_split=0.2, epochs=50, callbacks=[reduce_lr])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                "ReduceLROnPlateau: `factor` must be < 1.0 (the learning rate is multiplied "
                f"by it, so it has to shrink), got factor={factor}."
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        """Forget the best value and the counters (at the start of each fit)."""
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        """True while epochs of cooldown remain after a reduction."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        # Keras writes into the dict it was given: the CallbackList shares that dict with
        # History and the progress bar, which come later. (An empty dict is replaced by a
        # new one, as `logs or {}` does in Keras.)
        logs = logs or {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(logs.keys())}.",
                stacklevel=2,
            )
            return

        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0

        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_lr(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce_lr(self, epoch: int) -> bool:
        """Set ``lr = max(lr * factor, min_lr)``; return False if ``lr`` is already at the floor."""
        optimizer = self.model.optimizer
        old_lr = float(optimizer.learning_rate)
        # Keras compares with min_lr rounded to float32 (and, by NumPy's rules, old_lr too),
        # so a rate already stored as float32(min_lr) counts as at the floor.
        if not old_lr > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)  # Python float arithmetic
        # Stored the way Keras' floatx learning-rate variable stores it.
        optimizer.learning_rate = float(np.asarray(new_lr, dtype=config.floatx()))
        if self.verbose > 0:
            # Keras prints the unrounded Python float.
            print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True
