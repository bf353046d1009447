"""``LearningRateScheduler``: set the learning rate at the start of every epoch."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from minired.callbacks.callback import Callback
from minired.utils.progbar import print_msg


def _call_schedule(schedule: Callable, epoch: int, learning_rate: float):
    """``schedule(epoch, lr)``, or ``schedule(epoch)`` for a function of the epoch only.

    Keras calls ``schedule(epoch, lr)`` and retries with ``schedule(epoch)`` on *any*
    ``TypeError``, so a ``TypeError`` raised inside a two-argument schedule turns into a
    confusing "missing argument" error. minired reads the signature instead and lets
    the schedule's own errors through; only a callable without a signature gets Keras'
    retry.
    """
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):   # no signature (some built-ins): Keras' way
        try:
            return schedule(epoch, learning_rate)
        except TypeError:
            return schedule(epoch)
    try:
        signature.bind(epoch, learning_rate)
    except TypeError:
        return schedule(epoch)
    return schedule(epoch, learning_rate)


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate to ``schedule(epoch, lr)`` at each epoch start.

    At ``on_epoch_begin(epoch)`` (0-based ``epoch``)::

        lr_new = schedule(epoch, lr)     lr: the current rate, as a Python float
        optimizer.learning_rate = lr_new     (stored in floatx, as Keras' variable)

    and at ``on_epoch_end`` it writes the rate the epoch used into
    ``logs["learning_rate"]``, so History records it. A schedule of one argument,
    ``schedule(epoch)``, is accepted too. This is per *epoch*; for a rate that changes
    every *step*, give the optimizer a ``LearningRateSchedule`` instead.

    Args:
        schedule: a function ``(epoch, lr) -> float`` (or ``(epoch) -> float``); it must
            return a float (Python, ``np.float32`` or ``np.float64``), not an int.
        verbose: 1 prints ``Epoch <e>: LearningRateScheduler setting learning rate to
            <lr>.`` at each epoch start.

    Example:
        >>> def halve_after_two(epoch, lr):
        ...     return lr if epoch < 2 else lr * 0.5
        >>> scheduler = LearningRateScheduler(halve_after_two)
        >>> # model.fit(x, y, epochs=5, callbacks=[scheduler])
    """

    def __init__(self, schedule: Callable, verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        learning_rate = _call_schedule(self.schedule, epoch, float(optimizer.learning_rate))
        if not isinstance(learning_rate, float | np.float32 | np.float64):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {learning_rate}")
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate "
                      f"to {learning_rate}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # Into the dict the CallbackList shares with History (see ReduceLROnPlateau).
        logs = logs or {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
