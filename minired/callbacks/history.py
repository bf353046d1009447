"""``History``: the object ``fit`` returns, recording every epoch's logs."""

from __future__ import annotations

from minired.callbacks.callback import Callback


class History(Callback):
    """Record the logs of every epoch: ``history.history["loss"]`` is a list, one value per epoch.

    ``fit`` adds a fresh History to its callbacks (unless you pass one) and returns
    it; the model also keeps it as ``model.history``.

    As in Keras, ``on_train_begin`` resets ``epoch`` but *not* ``history``: a History
    instance you pass to several ``fit`` calls keeps appending to the same lists.

    Attributes:
        history: dict mapping each log name to the list of its per-epoch values.
        epoch: the epoch indices seen (0-based; they start at ``initial_epoch``).

    Example:
        >>> h = History()
        >>> h.set_model(type("Model", (), {})())
        >>> h.on_train_begin()
        >>> h.on_epoch_end(0, {"loss": 0.5})
        >>> h.on_epoch_end(1, {"loss": 0.25})
        >>> h.history, h.epoch
        ({'loss': [0.5, 0.25]}, [0, 1])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)
        # Point the model at this History after each epoch, so `model.history` is current.
        self.model.history = self
