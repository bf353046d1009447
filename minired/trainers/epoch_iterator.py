"""The batches of each epoch: slices of arrays, or batches read from a data source.

``fit`` accepts arrays (cut into batches here) or a source that makes its own batches: a
Python generator or iterator, a :class:`~minired.utils.PyDataset` (``len`` and
``[index]``), or a ``tf.data.Dataset`` (read as NumPy; minired never imports TensorFlow).
A source yields ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` per batch.

``fit(shuffle=True)`` (the default) draws a new order each epoch, as Keras: of the samples
of arrays, and of the batch indices of a PyDataset (the samples inside a batch stay as
``__getitem__`` made them). A generator or a dataset is read as it comes.

Keras' rules for how many batches an epoch has:

- without ``steps_per_epoch``: one pass over the data (a generator continues where it
  stopped; one that yields nothing more ends the training with Keras' "ran out of data"
  warning);
- with ``steps_per_epoch``: that many batches, read from one iterator that continues from
  epoch to epoch and restarts (reshuffled) when a re-readable source is used up.

``compile(steps_per_execution=n)`` groups the batches in runs of ``n`` (:func:`executions`):
the batch callbacks then see one call per run, as in Keras.
"""

from __future__ import annotations

import collections.abc
import warnings
from collections.abc import Iterator

import numpy as np

from minired import config
from minired.trainers import data_adapter
from minired.trainers.data_adapter import num_samples, take

RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset "
           "or generator can generate at least `steps_per_epoch * epochs` batches. You may "
           "need to use the `.repeat()` function when building your dataset.")


def is_data_source(x) -> bool:
    """Whether ``x`` makes its own batches (a generator, a PyDataset, a tf.data.Dataset)
    rather than being arrays to cut into batches."""
    if isinstance(x, np.ndarray | list | tuple | dict) or hasattr(x, "__array__"):
        return False
    return (isinstance(x, collections.abc.Iterator) or hasattr(x, "as_numpy_iterator")
            or (hasattr(x, "__getitem__") and hasattr(x, "__len__")))


class EpochIterator:
    """Hand out ``(step, (x, y, sample_weight))`` for each batch of an epoch.

    Args:
        x, y, sample_weight: checked arrays (``y`` and ``sample_weight`` may be None), or
            ``x`` a data source and the other two None.
        batch_size: samples per batch, for arrays.
        steps_per_epoch: batches per epoch, or None for one pass over the data.
        shuffle: draw a new order each epoch: of the samples of arrays, of the batches
            of a PyDataset (a generator or a dataset is never shuffled, as in Keras).
        shuffler: the NumPy generator that draws it.
        class_weight: ``{class: weight}`` for the batches of a data source; ``fit`` turns it
            into each batch's sample weights (see ``Trainer._checked_batch``).
        reuse_batches: gather each batch of arrays into the array of the previous batch of
            its size (:class:`~minired.trainers.data_adapter.BatchBuffers`): ``fit``'s
            training batches, each used for one step only.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size: int = 32,
                 steps_per_epoch: int | None = None, shuffle: bool = False,
                 shuffler: np.random.Generator | None = None,
                 reuse_batches: bool = False, class_weight: dict | None = None) -> None:
        cap = config.max_steps_per_epoch()      # Keras' debugging cap (mr.config)
        if cap and (not steps_per_epoch or cap < steps_per_epoch):
            warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
            steps_per_epoch = cap
        self.source = x if is_data_source(x) else None
        self.arrays = (x, y, sample_weight)
        self.batch_size = batch_size
        self.steps_per_epoch = steps_per_epoch
        self.shuffle = shuffle
        self.shuffler = shuffler
        self.class_weight = class_weight
        self.ran_out = False                   # a generator had no more batches
        self._take = data_adapter.BatchBuffers().take if reuse_batches else take
        self._iterator: Iterator | None = None
        self._seen = 0                         # batches read in the current pass
        if self.source is not None and isinstance(self.source, collections.abc.Iterator):
            self._iterator = self.source        # a generator is read once, across epochs

    @property
    def steps(self) -> int | None:
        """Batches per epoch, when known in advance (None for a generator without
        ``steps_per_epoch``: the progress bar learns it during the first epoch)."""
        if self.steps_per_epoch is not None:
            return self.steps_per_epoch
        return self._batches_per_pass()

    def enumerate_epoch(self) -> Iterator[tuple[int, tuple]]:
        """The batches of one epoch, as ``(step, (x, y, sample_weight))``."""
        if self._iterator is None or (self.steps_per_epoch is None and not self._reads_once):
            self._iterator, self._seen = self._new_pass(), 0    # a new pass over the data
        step = 0
        while self.steps_per_epoch is None or step < self.steps_per_epoch:
            try:
                batch = next(self._iterator)
            except StopIteration:
                if self._reads_once:
                    # a generator is used up: Keras warns and the training stops
                    if step == 0 or self.steps_per_epoch is not None:
                        warnings.warn(RAN_OUT, UserWarning, stacklevel=4)
                        self.ran_out = True
                else:
                    # used up in the middle of an epoch: warn, and restart next epoch
                    if self.steps_per_epoch is not None:
                        warnings.warn(RAN_OUT, UserWarning, stacklevel=4)
                    self._iterator = None
                break
            self._seen += 1
            yield step, batch if self.source is None else unpack(batch)
            step += 1
        known = self._batches_per_pass()
        if self.steps_per_epoch is not None and known is not None and self._seen >= known:
            self._iterator = None                # used up exactly: restart next epoch
        if self.source is not None and hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()

    def _batches_per_pass(self) -> int | None:
        if self.source is None:
            return data_adapter.num_batches(num_samples(self.arrays[0]), self.batch_size)
        try:
            return len(self.source)
        except TypeError:
            return None

    @property
    def _reads_once(self) -> bool:
        return self.source is not None and isinstance(self.source, collections.abc.Iterator)

    def _new_pass(self) -> Iterator[tuple]:
        """One pass over the data, each batch as ``(x, y, sample_weight)``."""
        if self.source is None:
            x, y, sample_weight = self.arrays
            n = num_samples(x)
            if self.shuffle:         # a new order: each batch gathers its samples
                batches = data_adapter.batch_indices(self.shuffler.permutation(n),
                                                     self.batch_size)
            else:                    # in order: each batch is a slice, a view of the data
                batches = data_adapter.batch_ranges(n, self.batch_size)
            return ((self._take(x, b), self._take(y, b), self._take(sample_weight, b))
                    for b in batches)
        if hasattr(self.source, "as_numpy_iterator"):                 # tf.data.Dataset
            return iter(self.source.as_numpy_iterator())
        source = self.source                                          # a PyDataset
        # Keras shuffles the order of the batches, each pass (its TensorFlow backend also
        # reads batches 0 and 1 once before training, to learn their shapes: not needed here).
        order = self.shuffler.permutation(len(source)) if self.shuffle else range(len(source))
        return (source[int(i)] for i in order)


def executions(steps: Iterator[tuple[int, tuple]], steps_per_execution: int
               ) -> Iterator[tuple[int, int, list]]:
    """The ``(step, batch)`` pairs in runs of ``steps_per_execution``, as Keras runs them:
    ``(first step, first step + n - 1, [batches])``; the callbacks see ``on_*_batch_begin``
    with the first step and ``on_*_batch_end`` with the second. As in Keras, a shorter last
    run still ends at ``first + n - 1`` (10 batches in runs of 3 end at steps 2, 5, 8, 11).

    Example:
        >>> [(b, e, len(run)) for b, e, run in executions(enumerate("abcde"), 2)]
        [(0, 1, 2), (2, 3, 2), (4, 5, 1)]
    """
    run: list = []
    first = 0
    for step, batch in steps:
        if not run:
            first = step
        run.append(batch)
        if len(run) == steps_per_execution:
            yield first, first + steps_per_execution - 1, run
            run = []
    if run:
        yield first, first + steps_per_execution - 1, run


def unpack(batch) -> tuple:
    """``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` as ``(x, y, sample_weight)``."""
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError("Each batch of the data must be x, (x, y) or (x, y, sample_weight)"
                             f", got a tuple of {len(batch)} items.")
        return (*batch, *(None,) * (3 - len(batch)))
    return batch, None, None
