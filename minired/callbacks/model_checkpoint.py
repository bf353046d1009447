"""ModelCheckpoint: save the model (or its weights) while it trains, as Keras does."""

from __future__ import annotations

import os
import warnings

from minired.callbacks.monitor_callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model at the end of every epoch (or every ``save_freq`` batches).

    The path may hold ``{epoch}`` (counted from 1) and any log key, formatted with
    Python's ``str.format``: ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``. Each save is
    atomic (see :mod:`minired.saving.saving_lib`): a crash never leaves half a file.

    Args:
        filepath: where to save: a ``.keras`` archive (or Keras' legacy ``.h5`` file, see
            :mod:`minired.saving.legacy_h5`), or ``.weights.h5`` with
            ``save_weights_only=True``.
        monitor: the log key that decides what "best" means (``save_best_only``).
        verbose: 1 prints Keras' messages ("Epoch 3: val_loss improved from ...").
        save_best_only: save only when ``monitor`` improves strictly on the best so far.
        save_weights_only: save the weights (``model.save_weights``), not the whole model.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see
            :class:`~minired.callbacks.MonitorCallback`).
        save_freq: ``"epoch"``, or an int: save every that many batches.
        initial_value_threshold: the "best" value to beat at first. As in Keras, the best
            value is kept across ``fit`` calls.

    Example:
        >>> checkpoint = ModelCheckpoint("best.keras", monitor="val_loss",
        ...                              save_best_only=True)
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq="epoch", initial_value_threshold=None) -> None:
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(
                save_freq, bool)):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the "
                             "filepath provided must end in `.weights.h5` (Keras weights "
                             f"format). Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith((".keras", ".h5")):
            raise ValueError("The filepath provided must end in `.keras` (Keras model "
                             f"format). Received: filepath={self.filepath}")

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        """Count batches (0-based, restarting each epoch) and say when ``save_freq`` is
        reached."""
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            seen = batch + 1                  # a new epoch started
        else:
            seen = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            self._say(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=3)
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            self._say(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        self._say(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise OSError("Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {filepath}")
        if not self._should_save_model(epoch, logs, filepath):
            return
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        self._say(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {error}") from None

    def _say(self, message: str) -> None:
        if self.verbose > 0:
            print(message)
