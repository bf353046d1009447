"""``CallbackList``: call every callback's hook, in order, with one shared logs dict."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from minired.callbacks.callback import Callback
from minired.callbacks.history import History
from minired.callbacks.progbar_logger import ProgbarLogger


def pythonify_logs(logs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return a new logs dict: keys sorted, nested dicts flattened, numbers made Python floats.

    This is what every callback receives. Sorting is why Keras prints ``accuracy``
    before ``loss``; values that are not numbers (e.g. ``predict``'s batch outputs)
    are kept as they are.

    Example:
        >>> pythonify_logs({"val": {"val_loss": 0.25}, "loss": 0.5, "accuracy": 1})
        {'accuracy': 1.0, 'loss': 0.5, 'val_loss': 0.25}
    """
    result: dict[str, Any] = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, Mapping):
            result.update(pythonify_logs(value))
            continue
        # Not a number (None, an array of outputs, ...): keep it as it is.
        with contextlib.suppress(TypeError, ValueError, OverflowError):
            value = float(value)
        result[key] = value
    return result


def _flatten(callbacks: Any) -> list[Callback]:
    """Flatten nested lists/tuples of callbacks into one list (a single callback is allowed)."""
    if isinstance(callbacks, (list, tuple)):
        return [cb for item in callbacks for cb in _flatten(item)]
    return [callbacks]


class CallbackList(Callback):
    """Hold a list of callbacks and call each hook on all of them, in order.

    The order is: your callbacks as given, then History (if added), then
    ProgbarLogger (if added). Each hook call builds one logs dict (see
    :func:`pythonify_logs`) and hands the *same* dict to every callback, so what one
    callback writes into it (ReduceLROnPlateau's ``"learning_rate"``) is seen by the
    callbacks after it: History records it and the progress bar prints it.

    Args:
        callbacks: a list of Callback instances (may be None or nested).
        add_history: add a History if the list has none (``fit`` does).
        add_progbar: add a ProgbarLogger if the list has none (when ``verbose != 0``).
        model: the model; each callback gets it via ``set_model``, and the History
            becomes ``model.history``.
        **params: run parameters passed to every callback via ``set_params`` if any are
            given. ProgbarLogger needs ``verbose``, ``epochs`` and ``steps``.

    Example:
        >>> from types import SimpleNamespace
        >>> model = SimpleNamespace()
        >>> cbs = CallbackList([], add_history=True, model=model, verbose=0, epochs=1, steps=1)
        >>> cbs.on_train_begin()
        >>> cbs.on_epoch_end(0, {"loss": 0.5})
        >>> cbs.on_train_end()
        >>> model.history.history
        {'loss': [0.5]}
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | Callback | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        self.callbacks: list[Callback] = _flatten(callbacks) if callbacks else []
        # How many on_*_begin are open (validation opens a test block inside the train one).
        self._in_begin_end_block_count = 0
        self._add_default_callbacks(add_history, add_progbar)
        self.set_model(model)
        self.set_params(params)

    def _add_default_callbacks(self, add_history: bool, add_progbar: bool) -> None:
        """Append History, then ProgbarLogger, unless the user already passed one."""
        self._history: History | None = None
        self._progbar: ProgbarLogger | None = None
        for callback in self.callbacks:
            if isinstance(callback, ProgbarLogger):
                self._progbar = callback
            elif isinstance(callback, History):
                self._history = callback
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model: Any) -> None:
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def _on_begin(self) -> None:
        self._in_begin_end_block_count += 1

    def _on_end(self) -> None:
        self._in_begin_end_block_count -= 1
        if self._in_begin_end_block_count < 0:
            raise ValueError(
                "CallbackList: an `on_*_end` hook was called without its `on_*_begin` "
                "(on_train_end needs on_train_begin, on_test_end on_test_begin, ...)."
            )

    # Keras passes `logs` positionally to the begin/end hooks and as `logs=` to the
    # batch hooks; we do the same, so overrides with other parameter names behave alike.

    # -- fit -------------------------------------------------------------------------------

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._on_begin()
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_train_end(logs)
        self._on_end()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs=logs)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs=logs)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs=logs)

    # -- evaluate --------------------------------------------------------------------------

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._on_begin()
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_test_begin(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_test_end(logs)
        self._on_end()

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_test_batch_begin(batch, logs=logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_test_batch_end(batch, logs=logs)

    # -- predict ---------------------------------------------------------------------------

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._on_begin()
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_predict_begin(logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_predict_end(logs)
        self._on_end()

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_predict_batch_begin(batch, logs=logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_predict_batch_end(batch, logs=logs)
