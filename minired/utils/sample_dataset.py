"""SampleDataset: what the ``*_dataset_from_*`` utilities return, a PyDataset of samples
read on demand and grouped into batches.

Keras returns a ``tf.data.Dataset``; minired returns this :class:`~minired.utils.PyDataset`,
which ``fit``, ``evaluate`` and ``predict`` read batch by batch, and which a ``for`` loop
walks as it walks Keras' dataset::

    for x, y in dataset:          # one batch at a time (one sample if batch_size=None)
        ...

It has no ``tf.data`` methods (``map``, ``prefetch``, ``batch``, ``take``...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from minired.utils.py_dataset import PyDataset


def encode_labels(labels, label_mode: str | None, num_classes: int) -> np.ndarray | None:
    """Integer labels as Keras' ``labels_to_dataset`` encodes them.

    ``"int"``: ``int32`` of shape ``(N,)``; ``"binary"``: ``float32`` of shape ``(N, 1)``;
    ``"categorical"``: one-hot ``float32`` of shape ``(N, num_classes)``, where a label
    outside ``0 .. num_classes - 1`` gives a row of zeros (as ``tf.one_hot``).

    Example:
        >>> encode_labels([0, 2], "categorical", 3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    if label_mode is None or labels is None:
        return None
    labels = np.asarray(labels, dtype=np.int32)
    if label_mode == "binary":
        return labels.astype(np.float32)[:, None]
    if label_mode == "categorical":
        return (labels[:, None] == np.arange(num_classes)).astype(np.float32)
    return labels


class SampleDataset(PyDataset):
    """Samples ``0 .. N - 1`` made on demand, in batches of ``batch_size``: item ``i`` is
    batch ``i`` as ``(x, y)`` (``x`` alone without labels); the last batch may be smaller.
    With ``batch_size=None`` item ``i`` is sample ``i``, unbatched.

    ``load(indices)`` makes the inputs of the samples ``indices`` (stacked on axis 0);
    ``labels[indices]`` are their labels. With ``shuffle=True`` a new order of all the
    samples is drawn (from ``seed``) after each pass, at :meth:`on_epoch_end`; the first
    pass follows ``order``.

    Args:
        load: a function from an array of sample indices to the batch of their inputs.
        num_samples: ``N``.
        labels: an array of ``N`` encoded labels, or ``None``.
        batch_size: samples per batch, or ``None`` for single samples.
        order: the order of the first pass (default ``0 .. N - 1``).
        shuffle: draw a new order after each pass.
        seed: the seed of that draw.

    Example:
        >>> ds = SampleDataset(lambda i: i * 10, 5, labels=np.arange(5), batch_size=2)
        >>> len(ds), ds[2]
        (3, (array([40]), array([4])))
        >>> [x.tolist() for x, y in ds]
        [[0, 10], [20, 30], [40]]
    """

    def __init__(self, load: Callable[[np.ndarray], np.ndarray], num_samples: int,
                 labels: np.ndarray | None = None, batch_size: int | None = 32,
                 order: np.ndarray | None = None, shuffle: bool = False,
                 seed: int | None = None) -> None:
        super().__init__()
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, int | np.integer)
                                       or batch_size < 1):
            raise ValueError("`batch_size` must be a positive int or None. "
                             f"Received: batch_size={batch_size!r}")
        self._load = load
        self.num_samples = int(num_samples)
        self.labels = labels
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._order = np.arange(self.num_samples) if order is None else np.asarray(order)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_samples
        return -(-self.num_samples // self.batch_size)          # ceil(N / batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"Index {index} is out of range for a dataset of {len(self)} "
                             f"{'samples' if self.batch_size is None else 'batches'}.")
        if self.batch_size is None:
            samples = self._order[index:index + 1]
        else:
            samples = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self._load(samples)
        y = None if self.labels is None else self.labels[samples]
        if self.batch_size is None:
            x = x[0]
            y = None if y is None else y[0]
        return x if y is None else (x, y)

    def __iter__(self) -> Iterator:
        """One pass over the batches; the next pass is reshuffled (when ``shuffle``)."""
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        """With ``shuffle=True``: a new order of all the samples for the next pass."""
        if self.shuffle:
            self._order = self._rng.permutation(self._order)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__}: {self.num_samples} samples, batch_size="
                f"{self.batch_size}, {len(self)} items>")
