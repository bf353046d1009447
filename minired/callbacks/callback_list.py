"""``CallbackList``: call every callback's hook, in order, with one shared logs dict."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
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


#: The training batch hooks and the older names their defaults call (as in Keras).
_BATCH_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _flatten(callbacks: Any) -> list[Callback]:
    """Flatten nested lists/tuples of callbacks into one list (a single callback is allowed)."""
    if isinstance(callbacks, (list, tuple)):
        return [cb for item in callbacks for cb in _flatten(item)]
    return [callbacks]


def _hook(name: str) -> Callable[..., None]:
    """Make the CallbackList method ``name``: it calls ``name`` on every callback.

    The method has the signature of :class:`Callback`'s hook of that name: ``(logs)``,
    ``(epoch, logs)`` or ``(batch, logs)``.
    """
    if "batch" in name:
        def method(self: CallbackList, batch: int, logs: dict | None = None) -> None:
            self._call(name, batch, logs=logs)
    elif "epoch" in name:
        def method(self: CallbackList, epoch: int, logs: dict | None = None) -> None:
            self._call(name, epoch, logs=logs)
    else:
        def method(self: CallbackList, logs: dict | None = None) -> None:
            self._call(name, logs=logs)
    method.__name__ = name
    method.__qualname__ = f"CallbackList.{name}"
    method.__doc__ = f"Call ``{name}`` on every callback, in order (see :meth:`_call`)."
    return method


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

    def implements(self, hook: str) -> bool:
        """Whether some callback does something in ``hook``: overrides it (or, for a training
        batch hook, its older alias ``on_batch_*``, which the default calls), or was given
        it as a function (a :class:`~minired.callbacks.LambdaCallback`).

        ``fit`` asks once per run, and skips the batch hooks, and the logs it would build
        for them at every step, when no callback implements them.

        Example:
            >>> CallbackList([], add_history=True).implements("on_train_batch_end")
            False
        """
        names = (hook, _BATCH_ALIASES[hook]) if hook in _BATCH_ALIASES else (hook,)
        return any(getattr(getattr(callback, name), "__func__", None) is not getattr(Callback,
                                                                                     name)
                   for callback in self.callbacks for name in names)

    def _call(self, hook: str, *args: Any, logs: dict | None = None) -> None:
        """Call ``hook`` on every callback, in order, all sharing one new logs dict.

        As in Keras, the batch hooks get ``logs`` by keyword and the others positionally,
        so overrides with other parameter names behave alike. ``on_train_begin``,
        ``on_test_begin`` and ``on_predict_begin`` open a block that the matching ``*_end``
        closes (validation opens a test block inside the train one); an end without its
        begin is an error.
        """
        opens = hook in ("on_train_begin", "on_test_begin", "on_predict_begin")
        closes = hook in ("on_train_end", "on_test_end", "on_predict_end")
        if opens:
            self._in_begin_end_block_count += 1
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            if "batch" in hook:
                getattr(callback, hook)(*args, logs=logs)
            else:
                getattr(callback, hook)(*args, logs)
        if closes:
            self._in_begin_end_block_count -= 1
            if self._in_begin_end_block_count < 0:
                raise ValueError(
                    "CallbackList: an `on_*_end` hook was called without its `on_*_begin` "
                    "(on_train_end needs on_train_begin, on_test_end on_test_begin, ...)."
                )

    # Every hook of Callback, each one a `_call` of its own name (made by `_hook`).
    on_train_begin = _hook("on_train_begin")
    on_train_end = _hook("on_train_end")
    on_epoch_begin = _hook("on_epoch_begin")
    on_epoch_end = _hook("on_epoch_end")
    on_train_batch_begin = _hook("on_train_batch_begin")
    on_train_batch_end = _hook("on_train_batch_end")
    on_batch_begin = _hook("on_batch_begin")
    on_batch_end = _hook("on_batch_end")
    on_test_begin = _hook("on_test_begin")
    on_test_end = _hook("on_test_end")
    on_test_batch_begin = _hook("on_test_batch_begin")
    on_test_batch_end = _hook("on_test_batch_end")
    on_predict_begin = _hook("on_predict_begin")
    on_predict_end = _hook("on_predict_end")
    on_predict_batch_begin = _hook("on_predict_batch_begin")
    on_predict_batch_end = _hook("on_predict_batch_end")
