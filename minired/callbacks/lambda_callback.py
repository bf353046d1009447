"""``LambdaCallback``: a callback made of plain functions, one per hook."""

from __future__ import annotations

from collections.abc import Callable

from minired.callbacks.callback import Callback

#: Every hook a function may be given for (the public ``on_*`` methods of Callback).
HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class LambdaCallback(Callback):
    """A callback whose hooks are the functions you pass; the others do nothing.

    Each function takes the arguments of the hook it replaces: ``on_epoch_begin`` and
    ``on_epoch_end`` get ``(epoch, logs)``, ``on_train_begin`` and ``on_train_end`` get
    ``(logs)``, the batch hooks get ``(batch, logs)``. Batch hooks are called with
    ``logs`` **by keyword**, so name that parameter ``logs``.

    Args:
        on_epoch_begin: called at the start of every epoch.
        on_epoch_end: called at the end of every epoch.
        on_train_begin: called once, at the start of ``fit``.
        on_train_end: called once, at the end of ``fit``.
        on_train_batch_begin: called before every training batch.
        on_train_batch_end: called after every training batch.
        **kwargs: any other hook of :class:`Callback` by name, e.g.
            ``on_batch_end=...`` or ``on_test_end=...``. An unknown name is an error
            (Keras stores it silently as an attribute, so a typo is never called).

    Example:
        >>> losses = []
        >>> record = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
        >>> record.on_epoch_end(0, {"loss": 0.5})
        >>> losses
        [0.5]
    """

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        on_train_batch_begin: Callable | None = None,
        on_train_batch_end: Callable | None = None,
        **kwargs: Callable,
    ) -> None:
        super().__init__()
        unknown = sorted(set(kwargs) - set(HOOKS))
        if unknown:
            raise ValueError(
                f"LambdaCallback: unknown hook(s) {unknown}; the hooks are {list(HOOKS)}.")
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)   # the instance attribute hides the method
