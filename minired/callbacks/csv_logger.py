"""``CSVLogger``: write each epoch's logs as one row of a CSV file."""

from __future__ import annotations

import collections.abc
import csv
import os
from typing import Any

import numpy as np

from minired.callbacks.callback import Callback


def _csv_value(value: Any) -> Any:
    """How Keras writes one log value: strings and numbers as they are (the csv module
    writes a float with ``repr``, e.g. ``0.6931471824645996``), any other iterable as the
    text ``"[a, b, c]"``, double quotes included."""
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (
            isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Stream the logs of every epoch to a CSV file, one row per epoch.

    The file has Keras' exact format:

    - the header is ``epoch`` followed by the log keys of the first epoch, **sorted**
      (``accuracy,loss,val_accuracy,val_loss``); ``epoch`` is 0-based;
    - if the first epoch has no ``val_`` key, a ``val_<key>`` column is added for every
      key anyway, and filled with ``NA`` (Keras does this so that a later validation run
      has somewhere to go);
    - a key missing from an epoch's logs is written ``NA``;
    - floats are written as Python writes them (``repr``: the shortest text that reads
      back as the same float), lists and arrays as ``"[a, b]"``;
    - rows end with ``\\r\\n`` (the csv module's ``excel`` dialect).

    The file is opened at ``on_train_begin`` (truncated, or appended to with
    ``append=True``: then the header is written only if the file is empty), flushed after
    every row and closed at ``on_train_end``.

    Args:
        filename: path of the CSV file, e.g. ``"run/log.csv"``.
        separator: the string between fields (default ``","``).
        append: True appends to an existing file (to continue a run), False overwrites it.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> logger = CSVLogger(path)
        >>> logger.on_train_begin()
        >>> logger.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
        >>> logger.on_train_end()
        >>> print(open(path).read())
        epoch,loss,val_loss
        0,0.5,0.75
        <BLANKLINE>
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer: csv.DictWriter | None = None
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as f:
                    self.append_header = not f.readline()
            mode = "a"
        else:
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        # newline="": the csv module writes its own "\r\n" (no translation on any system).
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys],
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
