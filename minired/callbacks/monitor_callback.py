"""``MonitorCallback``: the base of callbacks that watch one metric and track its best value.

EarlyStopping and ReduceLROnPlateau share its logic: pick a direction (``mode``),
then call a value an *improvement* when it beats the best so far by more than
``min_delta``. The comparison is Keras' ``ops.less``/``ops.greater``, which compares two
Python floats in float32 (:func:`minired.keras_numerics.less_as_keras`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from minired import keras_numerics
from minired.callbacks.callback import Callback

_MODES = ("auto", "min", "max")


def _model_metrics(model: Any) -> list[Any]:
    """The model's metric objects, with containers (objects holding ``.metrics``) opened up.

    ``model.metrics`` is ``[loss_tracker, CompileMetrics(...)]`` in Keras and in minired,
    and the metrics inside the container are searched (a model of your own may list its
    metrics directly: both layouts are read)."""
    found = []
    for metric in getattr(model, "metrics", None) or []:
        inner = getattr(metric, "metrics", None)
        found.extend(inner if isinstance(inner, (list, tuple)) else [metric])
    return found


class MonitorCallback(Callback):
    """Base class for callbacks that monitor a quantity and detect improvements.

    Not meant to be used directly: subclass it and call :meth:`_is_improvement`.

    Args:
        monitor: the log key to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        mode: ``"min"`` (lower is better), ``"max"`` (higher is better) or ``"auto"``:
            ``"loss"``/``"val_loss"`` are minimized; otherwise the model's metric of that
            name decides through its ``_direction`` (``"up"``: maximize, else minimize),
            and a ValueError is raised if there is none. An unknown mode falls back to
            ``"auto"`` with a warning, as in Keras.
        baseline: initial "best" value, or None to take the first value seen.
        min_delta: an improvement must beat the best by more than ``abs(min_delta)``.

    Example:
        >>> cb = MonitorCallback(monitor="val_loss", min_delta=0.1)
        >>> cb._set_monitor_op()
        >>> cb._is_improvement(0.85, 1.0), cb._is_improvement(0.95, 1.0)
        (True, False)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        baseline: float | None = None,
        min_delta: float = 0,
    ) -> None:
        super().__init__()
        if mode not in _MODES:
            warnings.warn(
                f"{type(self).__name__}: unknown `mode` {mode!r}, expected one of {_MODES}; "
                "falling back to 'auto' (Keras does the same).",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op: Callable[[Any, Any], bool] | None = None

    def _set_monitor_op(self) -> None:
        """Choose "less" or "greater" and give ``min_delta`` the matching sign.

        Called lazily, at the first epoch end, because the model's metrics only exist
        once it has been compiled and built.
        """
        less, greater = keras_numerics.less_as_keras, keras_numerics.greater_as_keras
        if self.mode == "min":
            self.monitor_op = less
        elif self.mode == "max":
            self.monitor_op = greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = less
            for metric in _model_metrics(self.model):
                if metric.name == metric_name and hasattr(metric, "_direction"):
                    self.monitor_op = greater if metric._direction == "up" else less
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__}: got monitor={self.monitor!r} with mode='auto', "
                    f"but cannot tell whether {metric_name!r} should be minimized or "
                    f"maximized: it is not 'loss' and no metric of the model named "
                    f"{metric_name!r} has a direction. Pass mode='min' or mode='max'."
                )
        # Stored signed, so that one test serves both directions:
        # min: current + |d| < best;  max: current - |d| > best.
        if self.monitor_op is less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value: Any, reference_value: Any) -> bool:
        """True if ``monitor_value`` beats ``reference_value`` by more than ``min_delta``.

        Anything beats a missing reference (None). The test is strict: equal is not better.
        """
        if reference_value is None:
            return True
        return self.monitor_op(monitor_value - self.min_delta, reference_value)
