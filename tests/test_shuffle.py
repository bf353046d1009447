"""The batches ``fit`` trains on, observed: which samples, in which order, every epoch.

A second check of ``shuffle``, independent of ``test_model.py``'s (which sees only that the
weights end up different): a model that writes down every batch it trains and validates on.
The targets are the sample indices, so the record *is* the order (KERAS_PARITY §8.2, §8.3):

- ``shuffle=True``: every epoch is a permutation of all the training samples, each seen
  exactly once, in ``ceil(N / batch_size)`` batches with the last, smaller one kept; the
  order changes from epoch to epoch;
- ``shuffle=False``: the order is 0, 1, ..., N-1 in every epoch;
- ``validation_split``: the last fraction is held out *before* shuffling, so it never
  appears in a training batch, and it is evaluated in order.

Nothing here depends on which random generator minired draws its orders from.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

N, BATCH_SIZE, EPOCHS = 20, 6, 4       # batches of 6, 6, 6 and 2


class RecordingModel(mr.Sequential):
    """A Sequential that records the sample indices of every batch it trains or tests on.

    ``x[:, 0]``, ``y`` and the sample weight of sample ``i`` all hold ``i`` (the weight
    ``i + 1``), so each record also shows that they travel together.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.trained: list[dict[str, list[int]]] = []
        self.tested: list[list[int]] = []

    def train_step(self, x, y, sample_weight=None):
        self.trained.append({
            "x": np.asarray(x)[:, 0].astype(int).tolist(),
            "y": np.asarray(y[0])[:, 0].astype(int).tolist(),     # one array per output
            "weight": ([] if sample_weight is None
                       else (np.asarray(sample_weight) - 1).astype(int).tolist()),
        })
        return super().train_step(x, y, sample_weight)

    def test_step(self, x, y, sample_weight=None):
        self.tested.append(np.asarray(y[0])[:, 0].astype(int).tolist())
        return super().test_step(x, y, sample_weight)


def fit_recording(shuffle: bool, validation_split: float = 0.0,
                  sample_weight: bool = False) -> RecordingModel:
    """Fit a tiny regression on the indices for :data:`EPOCHS` epochs; return the model."""
    mr.utils.set_random_seed(0)
    model = RecordingModel([mr.Input((2,)), mr.layers.Dense(1)])
    model.compile(optimizer=mr.optimizers.SGD(learning_rate=1e-4), loss="mse")
    ids = np.arange(N, dtype="float64")
    x = np.stack([ids, np.zeros(N)], axis=1)
    model.fit(x, ids.reshape(-1, 1), batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=shuffle,
              validation_split=validation_split, verbose=0,
              sample_weight=ids + 1 if sample_weight else None)
    return model


def epochs_of(batches: list, n_train: int) -> list[list[list[int]]]:
    """The recorded training batches (their ``y``), grouped by epoch."""
    steps = -(-n_train // BATCH_SIZE)
    assert len(batches) == EPOCHS * steps
    ys = [batch["y"] for batch in batches]
    return [ys[i * steps:(i + 1) * steps] for i in range(EPOCHS)]


def test_shuffle_trains_on_a_new_permutation_of_all_samples_every_epoch():
    model = fit_recording(shuffle=True, sample_weight=True)
    orders = []
    for batches in epochs_of(model.trained, N):
        assert [len(b) for b in batches] == [6, 6, 6, 2]       # the last, smaller batch kept
        order = [i for batch in batches for i in batch]
        assert sorted(order) == list(range(N))                # every sample exactly once
        orders.append(tuple(order))
    assert len(set(orders)) == EPOCHS                         # a new order every epoch
    assert tuple(range(N)) not in orders                      # and shuffled at all
    for batch in model.trained:                               # x, y and weights move together
        assert batch["x"] == batch["y"] == batch["weight"]


def test_no_shuffle_trains_in_order_every_epoch():
    model = fit_recording(shuffle=False)
    for batches in epochs_of(model.trained, N):
        assert batches == [list(range(0, 6)), list(range(6, 12)), list(range(12, 18)),
                           [18, 19]]


@pytest.mark.parametrize("shuffle", [True, False])
def test_validation_split_holds_out_the_last_samples_before_shuffling(shuffle):
    model = fit_recording(shuffle=shuffle, validation_split=0.25)
    split = 15                                                # floor(20 · (1 - 0.25))
    orders = []
    for batches in epochs_of(model.trained, split):
        order = [i for batch in batches for i in batch]
        assert sorted(order) == list(range(split))            # only the first 15 train
        orders.append(tuple(order))
    assert len(set(orders)) == (EPOCHS if shuffle else 1)
    # Validation after every epoch, on the last 5 samples, in order (batches of 6: one).
    assert model.tested == [list(range(split, N))] * EPOCHS
