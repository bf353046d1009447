"""BackupAndRestore: resume a ``fit`` that was interrupted, as Keras does."""

from __future__ import annotations

import json
import os
import shutil

from minired.callbacks.callback import Callback


class BackupAndRestore(Callback):
    """Back up the training state during ``fit``; the next ``fit`` resumes from it.

    At every epoch end (or every ``save_freq`` batches) the weights and the optimizer
    state go to ``backup_dir/latest.weights.h5`` and the epoch count to
    ``backup_dir/training_metadata.json`` (both written atomically). When ``fit`` starts
    and a backup exists, it is loaded and training continues from the epoch after it: a
    run killed at epoch 7 of 10 and started again trains epochs 8 to 10, with the same
    numbers as if it had never stopped (the optimizer's moments and step count included).
    When ``fit`` ends normally the backup is deleted (``delete_checkpoint=True``).

    Args:
        backup_dir: the directory for the backup (not shared with other runs).
        save_freq: ``"epoch"``, or an int: back up every that many batches.
        double_checkpoint: keep the previous backup too (``*.bkp``), used if the latest
            one cannot be read.
        delete_checkpoint: delete the backup when training ends.

    Example:
        >>> backup = BackupAndRestore(backup_dir="/tmp/backup")
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(
                save_freq, bool)):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             "value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"

    def on_train_begin(self, logs: dict | None = None) -> None:
        try:
            self._load_model()
        except (OSError, ValueError):
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            self._load_model()

    def _load_model(self) -> None:
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             "before you call `fit()` (give it an Input, or call build()).")
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                metadata = json.loads(f.read())
            self._current_epoch = int(metadata["epoch"])
            self.model._initial_epoch = self._current_epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model()

    def _save_model(self) -> None:
        from minired.saving.saving_lib import atomic_write

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for latest, previous in ((self._weights_path, self._prev_weights_path),
                                     (self._training_metadata_path,
                                      self._prev_training_metadata_path)):
                if os.path.exists(latest):
                    shutil.copyfile(latest, previous)
        self.model.save_weights(self._weights_path, overwrite=True)
        atomic_write(self._training_metadata_path, json.dumps(
            {"epoch": self._current_epoch, "batch": self._last_batch_seen}).encode())

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        # batch <= the last one seen: a new epoch started
        seen = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
