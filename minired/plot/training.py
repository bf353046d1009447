"""``history``: the training curves, one panel per quantity, training against validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minired.plot.canvas import panel_axes, rows_of
from minired.trainers.trainer import should_validate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def history(history: Any, early_stopping: Any = None, validation_freq: int | list[int] = 1,
            axes: Sequence[Axes] | None = None) -> Figure:
    """Plot the loss and each metric per epoch: training against validation (``val_*``).

    One panel per quantity (``loss`` first, then ``accuracy``...), epochs counted from 1 as
    ``fit`` prints them. Validation loss going up while the training loss goes down is
    overfitting: the moment to stop.

    To mark where :class:`~minired.callbacks.EarlyStopping` stopped training (red dashes)
    and its best epoch (green dots: the weights it restored with
    ``restore_best_weights=True``), pass the callback itself: the History does not know
    which callbacks ``fit`` ran.

    Args:
        history: what ``fit`` returns (a ``History``), or a dict of per-epoch lists such as
            ``history.history``.
        early_stopping: the ``EarlyStopping`` callback given to ``fit``, to mark its epochs.
        validation_freq: the ``validation_freq`` given to ``fit``, if it was not 1: it says
            which epochs the ``val_*`` values belong to.
        axes: one Axes per quantity to draw into; None makes a new figure.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> stop = mr.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
        >>> h = model.fit(x, y, epochs=20, validation_split=0.25, callbacks=[stop], verbose=0)
        >>> fig = mr.plot.history(h, early_stopping=stop)
        >>> [ax.get_title() for ax in fig.axes]
        ['loss', 'accuracy']
    """
    logs = _per_epoch_lists(history)
    train_length = max(len(values) for key, values in logs.items() if not key.startswith("val_"))
    epochs = _epoch_numbers(history, train_length)
    curves = {}                                 # quantity -> [(epochs, values, label, colour)]
    for name in _quantities(logs):
        curves[name] = []
        if name in logs:
            curves[name].append((epochs[:len(logs[name])], logs[name], "training", "tab:blue"))
        if f"val_{name}" in logs:
            values = logs[f"val_{name}"]
            curves[name].append((_validation_epochs(epochs, values, validation_freq, name),
                                 values, "validation", "tab:orange"))
    marks = _early_stopping_marks(early_stopping)

    panels = panel_axes("history", rows_of(len(curves), min(len(curves), 3)), axes)
    from matplotlib.ticker import MaxNLocator  # matplotlib is there: we have axes
    for ax, (name, lines) in zip(panels, curves.items(), strict=True):
        for x, values, label, color in lines:
            ax.plot(x, values, "o-", markersize=3, label=label, color=color)
        for epoch, label, style in marks:
            ax.axvline(epoch, label=label, **style)
        ax.set(title=name, xlabel="epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # whole epochs only
        ax.grid(alpha=0.3)

    legend = {}                                 # label -> line, one entry over all panels
    for ax in panels:
        handles, labels = ax.get_legend_handles_labels()
        legend.update(zip(labels, handles, strict=True))
    figure = panels[0].figure
    if axes is None:                            # our figure: one legend below the panels
        figure.legend(legend.values(), legend.keys(), loc="outside lower center",
                      ncols=len(legend), fontsize="small")
    else:
        panels[0].legend(legend.values(), legend.keys(), fontsize="small")
    return figure


def _per_epoch_lists(history: Any) -> dict[str, np.ndarray]:
    """``{name: values}`` from a History (its ``.history``) or a dict, as float arrays."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError("history: `history` must be what fit returns (a History) or a dict of "
                        "per-epoch lists such as history.history, got "
                        f"{type(history).__name__}.")
    arrays = {}
    for name, values in logs.items():
        try:
            arrays[name] = np.asarray(values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(f"history: {name!r} must be a list of numbers, one per epoch, got "
                            f"{values!r}.") from None
    if not any(len(values) for values in arrays.values()):
        raise ValueError("history: there is nothing to draw: the history has no epochs. "
                         "Train with fit first.")
    if all(name.startswith("val_") for name in arrays):
        raise ValueError("history: the history has only validation values "
                         f"({sorted(arrays)}); give the training ones too.")
    return arrays


def _quantities(logs: Mapping[str, Any]) -> list[str]:
    """The quantities to draw, ``val_`` removed: ``loss`` first, then in the logs' order."""
    names = list(dict.fromkeys(name.removeprefix("val_") for name in logs))
    return sorted(names, key=lambda name: name != "loss")


def _epoch_numbers(history: Any, length: int) -> np.ndarray:
    """Epoch numbers counted from 1: the History's own epochs when it has them for every
    value (fit started at ``initial_epoch``), else 1, 2, 3..."""
    epoch = getattr(history, "epoch", None)
    if epoch is not None and len(epoch) == length:
        return np.asarray(epoch) + 1
    return np.arange(1, length + 1)


def _validation_epochs(epochs: np.ndarray, values: np.ndarray,
                       validation_freq: int | list[int], name: str) -> np.ndarray:
    """The epochs that have a ``val_`` value: all of them, or those ``validation_freq`` picks."""
    if len(values) == len(epochs):
        return epochs
    validated = np.array([e for e in epochs if should_validate(e - 1, validation_freq)])
    if len(validated) != len(values):
        raise ValueError(
            f"history: 'val_{name}' has {len(values)} values for {len(epochs)} epochs, and "
            f"validation_freq={validation_freq!r} gives {len(validated)}. Pass the "
            "validation_freq you gave fit.")
    return validated


def _early_stopping_marks(early_stopping: Any) -> list[tuple[int, str, dict]]:
    """``(epoch from 1, legend label, line style)`` for the stop and the best epoch."""
    if early_stopping is None:
        return []
    if not hasattr(early_stopping, "stopped_epoch") or not hasattr(early_stopping, "best_epoch"):
        raise TypeError("history: `early_stopping` must be the EarlyStopping callback you "
                        f"passed to fit, got {type(early_stopping).__name__}.")
    marks = []
    if getattr(early_stopping, "best", None) is not None:     # it saw at least one epoch
        best = early_stopping.best_epoch + 1
        restored = " (weights restored)" if early_stopping.restore_best_weights else ""
        marks.append((best, f"best: epoch {best}{restored}",
                      {"color": "tab:green", "linestyle": ":", "linewidth": 2}))
    if early_stopping.stopped_epoch > 0:                      # 0 means it did not stop
        stopped = early_stopping.stopped_epoch + 1
        marks.append((stopped, f"stopped: epoch {stopped}",
                      {"color": "tab:red", "linestyle": "--"}))
    return marks
