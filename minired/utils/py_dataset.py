"""PyDataset: batches computed on demand, the way ``keras.utils.PyDataset`` gives them."""

from __future__ import annotations


class PyDataset:
    """Base class for data given batch by batch: subclass it and define ``__len__`` (the
    number of batches) and ``__getitem__(index)`` (batch ``index``: ``(x, y)`` or
    ``(x, y, sample_weight)``, or ``x`` alone for a model trained through ``add_loss``).
    ``fit`` asks for each batch ``0 .. len - 1`` once per epoch, in a new order each epoch
    (as Keras; ``shuffle=False`` keeps them in order, as ``evaluate`` and ``predict`` do),
    then calls :meth:`on_epoch_end` (a place to shuffle the samples between batches).

    minired runs in one process, so ``workers``, ``use_multiprocessing`` and
    ``max_queue_size`` are accepted (as Keras does) and only stored.

    Example:
        >>> class Squares(PyDataset):
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, index):
        ...         x = np.arange(4.0).reshape(4, 1) + 4 * index
        ...         return x, x ** 2
        >>> len(Squares()), Squares()[1][1][:, 0].tolist()
        (2, [16.0, 25.0, 36.0, 49.0])
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index).")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__().")

    @property
    def num_batches(self) -> int | None:
        return len(self)

    def on_epoch_end(self) -> None:
        """Called after each epoch: a place to reshuffle."""
