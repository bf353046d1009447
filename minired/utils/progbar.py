"""A text progress bar that prints exactly what ``keras.utils.Progbar`` prints.

Two display modes:

* ``verbose=1``: one live line, redrawn in place::

      3/10 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.5000 - loss: 0.6931

  (with ANSI colour codes: bold counter, green done part, grey remaining part).
* ``verbose=2``: a single summary line when the bar is finalized::

      10/10 - 0s - 3ms/step - accuracy: 0.5000 - loss: 0.6931

``verbose=0`` prints nothing. The reference is ``keras/src/utils/progbar.py``.
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

# ANSI escape codes, as Keras writes them around parts of the bar.
_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_GREY = "\x1b[37m"
_RESET = "\x1b[0m"
_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")
_BAR_CHAR = "━"


def print_msg(message: str, line_break: bool = True) -> None:
    """Write ``message`` to ``sys.stdout`` and flush, like Keras' ``io_utils.print_msg``.

    Args:
        message: the text to print.
        line_break: append ``"\\n"`` when True.

    Example:
        >>> print_msg("Epoch 1/5")
        Epoch 1/5
    """
    text = f"{message}\n" if line_break else str(message)
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        # A console that cannot show "━" gets the "=" bar of Keras 2, as in Keras 3.
        encoding = sys.stdout.encoding or "utf-8"
        text = text.replace(_BAR_CHAR, "=").encode(encoding, errors="ignore").decode(encoding)
        sys.stdout.write(text)
    sys.stdout.flush()


def _has_dynamic_display() -> bool:
    """Return whether the bar is redrawn in place (``"\\b...\\r"``) or printed line by line.

    This is Keras' rule, copied as is. Note the ``"posix" in sys.modules`` term: the
    ``posix`` module is loaded by every Python on Linux and macOS, so there the display
    is *always* dynamic, even when stdout is a pipe or a file. Only elsewhere (Windows)
    does a non-TTY stdout get one line per update.
    """
    return (
        (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
        or "ipykernel" in sys.modules
        or "posix" in sys.modules
        or "PYCHARM_HOSTED" in os.environ
    )


def _visible_length(text: str) -> int:
    """Length of ``text`` on screen: ANSI colour codes take no room."""
    return len(_ANSI_CODE.sub("", text))


def _format_time_per_unit(seconds: float, unit_name: str) -> str:
    """Format a duration per step, e.g. ``" 2ms/step"`` (leading space included, as in Keras)."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1000.0:.0f}ms/{unit_name}"
    return f" {seconds * 1000000.0:.0f}us/{unit_name}"


def _format_eta(seconds: float) -> str:
    """Format the remaining time as ``h:mm:ss``, ``m:ss`` or ``Ns``."""
    # int() truncates, as Keras' "%d" does.
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int((seconds % 3600) // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """Display a progress bar with an ETA and running metric values.

    Metric values passed to :meth:`update` are either *averaged* over the steps
    seen so far (weighted by how many steps each update covers) or *stateful*,
    shown as given. By default every metric is averaged; pass ``stateful_metrics``
    (names shown as given) or ``stateless_metrics`` (the only names averaged), not both.

    Args:
        target: total number of steps expected, or None if unknown.
        width: width of the bar, in characters.
        verbose: 0 (silent), 1 (live bar) or 2 (one line when finalized).
        interval: minimum number of seconds between two redraws with ``verbose=1``.
        stateful_metrics: names of metrics to display as given, not averaged.
        stateless_metrics: names of the only metrics to average.
        unit_name: name of one step in the time display (``"step"``, ``"sample"``).

    Example:
        >>> bar = Progbar(target=2, verbose=2)
        >>> bar.update(1, [("loss", 0.5)])
        >>> bar.update(2, [("loss", 0.25)])  # doctest: +ELLIPSIS
        2/2 - 0s - ...s/step - loss: 0.2500
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        stateless_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
    ) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Progbar: pass at most one of `stateful_metrics` (names shown as given, all "
                "others averaged) or `stateless_metrics` (names averaged, all others shown "
                f"as given); got stateful_metrics={stateful_metrics!r} and "
                f"stateless_metrics={stateless_metrics!r}."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics is not None else None
        self.stateless_metrics = set(stateless_metrics) if stateless_metrics is not None else None
        if self.stateful_metrics is None and self.stateless_metrics is None:
            self.stateful_metrics = set()  # the default: average everything

        self._dynamic_display = _has_dynamic_display()
        self._seen_so_far = 0
        # name -> [weighted sum, total weight]; the displayed value is their ratio.
        self._values: dict[str, list[Any]] = {}
        self._values_order: list[str] = []  # names in the order first seen
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def update(
        self,
        current: int,
        values: Sequence[tuple[str, Any]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Record the metric values of the latest step(s) and redraw the bar.

        Args:
            current: number of steps done so far (1-based index of the current step).
            values: ``(name, value)`` pairs for the latest step.
            finalize: whether this is the last update; None means ``current >= target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target

        self._record_values(current, values or [], finalize)
        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)

        if self.verbose == 1:
            # Throttle redraws, but never skip the final one.
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw_live_bar(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            self._print_summary_line(current, now, time_per_unit)
        self._last_update = now

    def add(self, n: int, values: Sequence[tuple[str, Any]] | None = None) -> None:
        """Advance the bar by ``n`` steps: ``update(steps_seen + n, values)``."""
        self.update(self._seen_so_far + n, values)

    # -- bookkeeping ---------------------------------------------------------------------

    def _is_averaged(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record_values(
        self, current: int, values: Sequence[tuple[str, Any]], finalize: bool
    ) -> None:
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if not self._is_averaged(name) or finalize:
                # Shown as given. On the final update Keras also replaces a running
                # average by the value passed, which is the exact epoch result.
                self._values[name] = [value, 1]
                continue
            # This update covers `current - seen` steps; at least 1, so that a repeated
            # `current` (no target, then finalized at the same step) still counts.
            weight = max(current - self._seen_so_far, 1)
            if name not in self._values:
                self._values[name] = [value * weight, weight]
            else:
                self._values[name][0] += value * weight
                self._values[name][1] += weight
        self._seen_so_far = current

    def _average(self, name: str) -> Any:
        total, count = self._values[name]
        if not isinstance(total, float):
            total = np.mean(total)  # arrays (and NumPy float32) are reduced to a scalar
        return total / max(1, count)

    def _estimate_step_duration(self, current: int, now: float) -> float:
        """Seconds per step. The first step (often slow: setup, compilation) is left out
        of the estimate once later steps are available."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit

    # -- drawing -------------------------------------------------------------------------

    def _counter(self, current: int) -> str:
        """``" 3/10"``: the step count, right-aligned to the width of the target."""
        num_digits = int(math.log10(self.target)) + 1
        return f"{int(current):{num_digits}d}/{int(self.target)}"

    def _draw_live_bar(
        self, current: int, now: float, time_per_unit: float, finalize: bool
    ) -> None:
        # Dynamic display: erase the previous line with backspaces and return to its start.
        message = "\b" * self._prev_total_width + "\r" if self._dynamic_display else "\n"

        known_target = self.target is not None and self.target > 0
        if known_target:
            bar = f"{_BOLD}{self._counter(current)}{_RESET} "
            done = int(self.width * (float(current) / self.target))
            if done > 0:
                bar += f"{_GREEN}{_BAR_CHAR * done}{_RESET}"
            bar += f"{_GREY}{_BAR_CHAR * (self.width - done)}{_RESET}"
        else:
            bar = f"{int(current):7d}/Unknown"

        # While running: time left. When done (or without target): time elapsed.
        if known_target and not finalize:
            clock = _format_eta(time_per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {_BOLD}{clock}{_RESET}"
        info += _format_time_per_unit(time_per_unit, self.unit_name)
        for name in self._values_order:
            average = self._average(name)
            shown = f"{average:.4f}" if abs(average) > 1e-3 else f"{average:.4e}"
            info += f" - {name}: {shown}"

        # Pad with spaces if the previous line was longer, so no stale characters remain.
        total_width = _visible_length(bar + info)
        message += bar + info + " " * max(self._prev_total_width - total_width, 0)
        if finalize:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = total_width

    def _print_summary_line(self, current: int, now: float, time_per_unit: float) -> None:
        line = f"{self._counter(current)} - {now - self._start:.0f}s -"
        line += _format_time_per_unit(time_per_unit, self.unit_name)
        for name in self._values_order:
            average = self._average(name)
            # Keras tests `avg > 1e-3` here, without abs(): negative values print as -1.0000e-01.
            shown = f"{average:.4f}" if average > 1e-3 else f"{average:.4e}"
            line += f" - {name}: {shown}"
        print_msg(line + "\n", line_break=False)
