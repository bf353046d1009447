"""Hold back Ctrl-C while a group of arrays is written, so all of them change or none does.

Python turns Ctrl-C (the SIGINT signal) into a ``KeyboardInterrupt`` between any two
bytecodes. An optimizer step writes one weight array after another, so a Ctrl-C in the
middle of ``fit`` could leave the first layers updated and the last ones not: a model that
belongs to no step at all. :func:`defer_keyboard_interrupt` makes the writes one unit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


def defer_keyboard_interrupt() -> AbstractContextManager[None]:
    """Run the ``with`` block undisturbed by Ctrl-C; a Ctrl-C that came during it acts after it.

    While the block runs, SIGINT only sets a flag. When the block ends, a signal that arrived
    meanwhile acts exactly as it would have, one block later: by default, a
    ``KeyboardInterrupt``.

    The handler that holds the signal is installed for the block and removed after it (three
    calls into the signal module, about 8 microseconds), unless a
    :func:`deferring_handler` is already installed (``fit`` installs one for all its steps):
    then the block only counts itself in and out of it.

    Only the main thread receives signals and may change their handlers: anywhere else (or
    when the handler was not installed from Python) the block simply runs as it is.

    Example:
        >>> with defer_keyboard_interrupt():
        ...     w = np.zeros(3)
        ...     w += 1.0          # a Ctrl-C here would be raised only after the block
        >>> w
        array([1., 1., 1.])
    """
    if _installed is not None and threading.current_thread() is threading.main_thread():
        return _installed          # fit's handler: the block counts itself in and out
    return _deferred_with_own_handler()


@contextmanager
def _deferred_with_own_handler() -> Iterator[None]:
    """One deferred block that installs the handler for itself (outside ``fit``)."""
    with deferring_handler() as handler:
        if handler is None:        # not the main thread, or a handler not set from Python
            yield
            return
        with handler:
            yield


#: The handler :func:`deferring_handler` installed, while its block runs (main thread only).
_installed: _DeferringHandler | None = None


@contextmanager
def deferring_handler() -> Iterator[_DeferringHandler | None]:
    """Install, for the ``with`` block, the SIGINT handler that :func:`defer_keyboard_interrupt`
    needs, so the deferred blocks inside it need not install their own.

    A Ctrl-C outside a deferred block acts at once, as without this handler; inside one, when
    that block ends. The previous handler is put back at the end (always, even on an error).
    Yields the handler, or ``None`` where signals cannot be handled (see
    :func:`defer_keyboard_interrupt`): then nothing is installed.

    Example:
        >>> with deferring_handler():
        ...     for step in range(3):
        ...         with defer_keyboard_interrupt():   # no handler to install: ~1 µs
        ...             pass
    """
    global _installed
    previous = signal.getsignal(signal.SIGINT)
    if (threading.current_thread() is not threading.main_thread() or previous is None
            or isinstance(previous, _DeferringHandler)):
        yield previous if isinstance(previous, _DeferringHandler) else None
        return
    handler = _DeferringHandler(previous)
    signal.signal(signal.SIGINT, handler)
    _installed = handler
    try:
        yield handler
    finally:
        _installed = None
        signal.signal(signal.SIGINT, previous)


class _DeferringHandler:
    """The SIGINT handler of :func:`deferring_handler`: it holds a Ctrl-C while a deferred
    block runs and hands it to the handler it replaced when the block ends, or at once
    outside any block. Used in a ``with``, it is one deferred block."""

    def __init__(self, previous) -> None:
        self.previous = previous     # the handler to hand a Ctrl-C to
        self.depth = 0               # how many deferred blocks are running (nested)
        self.held: tuple | None = None

    def __call__(self, signum: int, frame) -> None:
        if self.depth:
            self.held = (signum, frame)          # acted on when the block ends
        else:
            self.hand_over(signum, frame)

    def hand_over(self, signum: int, frame) -> None:
        """Do what the previous handler does with the signal (by default, raise
        ``KeyboardInterrupt``)."""
        if callable(self.previous):
            self.previous(signum, frame)
        elif self.previous == signal.SIG_DFL:   # the system's default: stop the program
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.raise_signal(signal.SIGINT)
        # SIG_IGN: ignored, as it would have been

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(self, *exc_info) -> None:
        self.depth -= 1
        if not self.depth and self.held is not None:
            held, self.held = self.held, None
            self.hand_over(*held)                # Ctrl-C during the block: acts now
