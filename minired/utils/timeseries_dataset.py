"""``timeseries_dataset_from_array``: sliding windows over a time series, in batches."""

from __future__ import annotations

import numpy as np

from minired.utils.directory_index import check_format
from minired.utils.sample_dataset import SampleDataset


def _as_array(values) -> np.ndarray:
    """An array (or array-like) with its dtype kept; a Python list or tuple as TensorFlow
    converts Python numbers (floats to float32, ints to int32)."""
    array = np.asarray(values)
    if not isinstance(values, list | tuple):
        return array
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64:
        return array.astype(np.int32)
    return array


def timeseries_dataset_from_array(data, targets, sequence_length: int,
                                  sequence_stride: int = 1, sampling_rate: int = 1,
                                  batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None,
                                  format: str = "tf") -> SampleDataset:
    """Creates a dataset of sliding windows over a timeseries provided as array.

    Axis 0 of ``data`` is time. Only the steps ``start_index .. end_index - 1`` are used
    (``s = data[start_index:end_index]``). Window ``k`` starts at ``p_k = k ·
    sequence_stride`` and takes every ``sampling_rate``-th step::

        x_k = s[p_k], s[p_k + r], ..., s[p_k + (sequence_length - 1) · r]      (r: rate)
        y_k = targets[start_index:end_index][p_k]       (the target of the window's start)

    for ``p_k < N = end_index − start_index − (sequence_length − 1) · r`` (and below
    ``len(targets)``): the windows that fit. Keras' numbers, argument checks and order.

    ``shuffle=True`` permutes the window starts with ``np.random.RandomState(seed)``, as
    Keras does first; Keras then also mixes them with ``tf.data``'s shuffle buffer
    (``batch_size · 8`` windows), which NumPy cannot reproduce: minired instead draws a new
    order of all the windows after each pass over the dataset. Returns a
    :class:`~minired.utils.PyDataset` (Keras: a ``tf.data.Dataset``) whose item ``i`` is
    batch ``i``, ``(x, y)``, or ``x`` when ``targets`` is ``None``; ``format`` (``"tf"`` or
    ``"grain"`` in Keras) changes nothing.

    Args:
        data: an array of time steps, time on axis 0 (its dtype is kept).
        targets: ``targets[i]`` is the target of the window starting at step ``i``; or
            ``None`` (the dataset then yields inputs only).
        sequence_length: the steps in a window.
        sequence_stride: the steps between the starts of two windows.
        sampling_rate: the steps between two entries of a window.
        batch_size: windows per batch, or ``None`` for single windows.
        shuffle: shuffle the windows.
        seed: the shuffle's seed (``None``: drawn from ``np.random``).
        start_index, end_index: use the steps ``start_index .. end_index - 1`` only.
        format: ``"tf"`` or ``"grain"`` (accepted for Keras' scripts; minired's dataset
            either way).

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10) * 100,
        ...                                    sequence_length=3, sequence_stride=2,
        ...                                    batch_size=2)
        >>> len(ds), ds[0][0].tolist(), ds[0][1].tolist()
        (2, [[0, 1, 2], [2, 3, 4]], [0, 200])
    """
    data = _as_array(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= len(data):
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length "
                             f"{len(data)}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= len(data):
            raise ValueError("`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length "
                             f"{len(data)}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: "
                             f"end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: "
                         f"sampling_rate={sampling_rate}")
    if sampling_rate >= len(data):
        raise ValueError("`sampling_rate` must be lower than the length of the data. "
                         f"Received: sampling_rate={sampling_rate}, for data of length "
                         f"{len(data)}")
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: "
                         f"sequence_stride={sequence_stride}")
    if sequence_stride >= len(data):
        raise ValueError("`sequence_stride` must be lower than the length of the data. "
                         f"Received: sequence_stride={sequence_stride}, for data of length "
                         f"{len(data)}")
    check_format(format)

    start_index = 0 if start_index is None else start_index
    end_index = len(data) if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = _as_array(targets)
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)

    steps = data[start_index:end_index]
    offsets = np.arange(sequence_length) * sampling_rate

    def windows(samples: np.ndarray) -> np.ndarray:
        """The windows of the samples ``samples``: one gather, ``(n, sequence_length, ...)``."""
        return steps[starts[samples][:, None] + offsets]

    labels = None
    if targets is not None:
        targets = targets[start_index:end_index]
        if len(starts) and starts.max() >= len(targets):
            # Keras fails the same way, while iterating (tf.gather out of range)
            raise ValueError(f"`targets` is too short: the window starting at step "
                             f"{start_index + starts.max()} has no target (targets["
                             f"{start_index}:{end_index}] has {len(targets)} entries).")
        labels = targets[starts]
    return SampleDataset(windows, len(starts), labels=labels, batch_size=batch_size,
                         shuffle=shuffle, seed=seed)
