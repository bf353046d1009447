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

import logging
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from minired import config

# ANSI escape codes, as Keras writes them around parts of the bar.
_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_GREY = "\x1b[37m"
_RESET = "\x1b[0m"
_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")
_BAR_CHAR = "━"


def print_msg(message: str, line_break: bool = True) -> None:
    """Write ``message`` to ``sys.stdout`` and flush, like Keras' ``io_utils.print_msg``;
    after ``mr.config.disable_interactive_logging()``, log it at INFO level to the
    ``"minired"`` logger instead (Keras logs it to ``absl.logging``).

    Args:
        message: the text to print.
        line_break: append ``"\\n"`` when True.

    Example:
        >>> print_msg("Epoch 1/5")
        Epoch 1/5
    """
    if not config.is_interactive_logging_enabled():
        logging.getLogger("minired").info(str(message))
        return
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
    """Display a progress bar with an ETA and the metric values.

    A value is either shown as given (a *stateful* metric, already a running mean) or
    averaged over the steps (a *stateless* one, the default): after the updates
    ``(current_k, v_k)``, the bar shows ``Σ_k v_k n_k / Σ_k n_k`` with ``n_k = current_k -
    current_{k-1}`` (at least 1), the steps each value stands for; the final update (as
    Keras') shows its own values. ``fit``'s logs are
    already running means over the epoch, so its ProgbarLogger asks for no averaging
    (``stateless_metrics=set()``), as Keras'.

    Args:
        target: total number of steps expected, or None if unknown.
        width: width of the bar, in characters.
        verbose: 0 (silent), 1 (live bar) or 2 (one line when finalized).
        interval: minimum number of seconds between two redraws with ``verbose=1``.
        stateful_metrics: names of the values shown as given; every other one is
            averaged.
        stateless_metrics: names of the values averaged; every other one is shown as
            given. Give at most one of the two.
        unit_name: name of one step in the time display (``"step"``, ``"sample"``).

    Example:
        >>> bar = Progbar(target=2, verbose=2, stateful_metrics=["acc"])
        >>> bar.update(1, [("loss", 0.5), ("acc", 0.5)])
        >>> bar.update(2, [("loss", 0.25), ("acc", 0.75)])  # doctest: +ELLIPSIS
        2/2 - 0s - ...s/step - loss: 0.2500 - acc: 0.7500
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name: str = "step",
    ) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. "
                "`stateful_metrics` is used to make metrics stateless by default (with an "
                "exclusion list), while `stateless_metrics` is used to make metrics "
                "stateful by default (with an exclusion list).")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = (None if stateless_metrics is not None
                                 else set(stateful_metrics or ()))
        self.stateless_metrics = (None if stateless_metrics is None
                                  else set(stateless_metrics))

        self._dynamic_display = _has_dynamic_display()
        self._seen_so_far = 0
        # name -> [Σ v n, Σ n], in the order first seen (a stateful value: [v, 1])
        self._values: dict[str, list] = {}
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
            values: ``(name, value)`` pairs to show.
            finalize: whether this is the last update; None means ``current >= target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target

        for name, value in values or []:
            self._record(name, value, current, finalize)
        self._seen_so_far = current
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

    def _is_stateless(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, name: str, value: Any, current: int, finalize: bool) -> None:
        """Add ``value`` to the running sums of ``name`` (Keras' bookkeeping, as is)."""
        if not self._is_stateless(name) or finalize:
            # shown as given; a stateless value on the final update too (Keras: its last
            # call may repeat the step of the one before, which would weigh it 0)
            self._values[name] = [value, 1]
            return
        steps = max(current - self._seen_so_far, 1)
        if name not in self._values:
            self._values[name] = [value * steps, steps]
        else:
            self._values[name][0] += value * steps
            self._values[name][1] += steps

    def _value(self, name: str) -> Any:
        """The value to print: ``Σ v n / Σ n``, an array (or a NumPy scalar) reduced to its
        mean first."""
        total, count = self._values[name]
        if not isinstance(total, float):
            total = np.mean(total)
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
        for name in self._values:
            value = self._value(name)
            shown = f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"
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
        for name in self._values:
            value = self._value(name)
            # Keras tests `avg > 1e-3` here, without abs(): negative values print as -1.0000e-01.
            shown = f"{value:.4f}" if value > 1e-3 else f"{value:.4e}"
            line += f" - {name}: {shown}"
        print_msg(line + "\n", line_break=False)
