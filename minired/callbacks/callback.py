"""The ``Callback`` base class: hooks that ``fit``, ``evaluate`` and ``predict`` call."""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class for callbacks: override the hooks you need, the others do nothing.

    ``fit`` calls, in this order::

        on_train_begin
          on_epoch_begin(epoch)
            on_train_batch_begin(batch) / on_train_batch_end(batch, logs)   # each batch
            on_test_begin ... on_test_end(logs)                             # validation
          on_epoch_end(epoch, logs)          # logs: {"loss": ..., "val_loss": ..., ...}
        on_train_end(logs)

    ``evaluate`` calls the ``on_test_*`` hooks and ``predict`` the ``on_predict_*`` hooks.
    ``epoch`` and ``batch`` are 0-based. ``logs`` is a dict of Python floats.

    Attributes:
        model: the model being trained (set by ``set_model``; read-only).
        params: dict with the keys ``"verbose"``, ``"epochs"`` and ``"steps"``.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(f"epoch {epoch}: loss {logs['loss']:.3f}")
        >>> PrintLoss().on_epoch_end(0, {"loss": 0.25})
        epoch 0: loss 0.250
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] | None = None
        self._model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        """Store the run parameters (``verbose``, ``epochs``, ``steps``)."""
        self.params = params

    def set_model(self, model: Any) -> None:
        """Store the model these hooks will see as ``self.model``."""
        self._model = model

    @property
    def model(self) -> Any:
        """The model being trained, evaluated or used for prediction."""
        return self._model

    # -- batch aliases: the default train-batch hooks forward to these (older Keras names) --

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Alias kept for compatibility: called by the default ``on_train_batch_begin``."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Alias kept for compatibility: called by the default ``on_train_batch_end``."""

    # -- fit -------------------------------------------------------------------------------

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once at the start of ``fit``."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once at the end of ``fit``, with the logs of the last epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of each epoch (0-based ``epoch``)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of each epoch with its metrics, validation ones prefixed ``val_``."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each training batch."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each training batch with the running metrics of the epoch so far."""
        self.on_batch_end(batch, logs=logs)

    # -- evaluate (and validation inside fit) ----------------------------------------------

    def on_test_begin(self, logs: dict | None = None) -> None:
        """Called at the start of ``evaluate`` and of each validation run in ``fit``."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """Called at the end of ``evaluate`` and of each validation run, with its metrics."""

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each evaluation batch with the running metrics so far."""

    # -- predict ---------------------------------------------------------------------------

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """Called at the end of ``predict``."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each prediction batch; ``logs["outputs"]`` holds the batch outputs."""
