"""``ProgbarLogger``: the progress display of ``fit``, ``evaluate`` and ``predict``."""

from __future__ import annotations

from typing import Any

from minired.callbacks.callback import Callback
from minired.utils.progbar import Progbar, print_msg


class ProgbarLogger(Callback):
    """Print a progress bar per epoch (``fit``) or per run (``evaluate``, ``predict``).

    It reads ``params["verbose"]`` (0, 1, 2 or ``"auto"`` = 1), ``params["epochs"]``
    and ``params["steps"]`` (batches per epoch; None if unknown). With ``verbose=1``
    it prints ``"Epoch 3/5"`` (only when ``epochs > 1``) and a live bar; with
    ``verbose=2`` one line per epoch. Inside ``fit`` the validation run is silent:
    its ``val_*`` results appear on the epoch line.

    Metric values are shown as the logs give them (they already are running means),
    never re-averaged by the bar.

    Example:
        >>> logger = ProgbarLogger()
        >>> logger.set_params({"verbose": 2, "epochs": 1, "steps": 2})
        >>> logger.on_train_begin()
        >>> logger.on_epoch_begin(0)
        >>> logger.on_epoch_end(0, {"loss": 0.5})  # doctest: +ELLIPSIS
        2/2 - 0s - ...s/step - loss: 0.5000
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose: int = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        verbose = params["verbose"]
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params["epochs"]
        self.target = params["steps"]

    # -- fit -------------------------------------------------------------------------------

    def on_train_begin(self, logs: dict | None = None) -> None:
        # From now on this logger belongs to a fit: validation runs stay silent. (Keras never
        # resets this flag; fit creates a new ProgbarLogger each call.)
        self._called_in_fit = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update_progbar(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._finalize_progbar(logs)

    # -- evaluate --------------------------------------------------------------------------

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    # -- predict ---------------------------------------------------------------------------

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update_progbar(batch, None)  # the batch outputs are not metrics: show none

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._finalize_progbar(logs)

    # -- helpers ---------------------------------------------------------------------------

    def _reset_progbar(self) -> None:
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self) -> None:
        if self.progbar is None:
            # The bar shows the values as given (Keras asks for it with stateless_metrics=set()).
            self.progbar = Progbar(target=self.target, verbose=self.verbose,
                                   stateless_metrics=set(), unit_name="step")

    def _update_progbar(self, batch: int, logs: dict | None = None) -> None:
        self._maybe_init_progbar()
        self.seen = batch + 1  # batches are 0-based, the bar counts from 1
        # verbose=2 draws nothing until the end, so skip the per-batch work entirely.
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs: dict | None) -> None:
        if self.target is None:
            # Unknown length: the first epoch taught us how many steps there are.
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)
