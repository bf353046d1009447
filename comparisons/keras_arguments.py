"""The cross-entropies' ``axis`` and ``ignore_class`` arguments, trained as in Keras.

Each case builds the same small per-position classifier in both libraries (minired's
weights copied into Keras), trains it three epochs with SGD and momentum (no shuffling),
and compares the History (loss and a metric) and the final weights:

- ``sparse_ignore_class``: ``Dense`` (softmax) per position, labels with a "void" 255 that
  ``SparseCategoricalCrossentropy(ignore_class=255)`` leaves out (no loss, no gradient, not
  counted in the mean); Keras then reads the clipped probabilities, not the logits;
- ``categorical_channels_first``: the same classifier, its output permuted to
  ``(N, classes, positions)``, with ``CategoricalCrossentropy(axis=1, label_smoothing=0.1)``
  (Keras smooths with ``s / (size of the last axis)``);
- ``binary_channels_first``: ``Dense`` (sigmoid) per position, permuted, with
  ``BinaryCrossentropy(axis=1)``: the mean over the channels.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case

SHAPE = (8, 6, 3)          # samples, positions, features


def _data(dtype: str, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=SHAPE).astype(dtype)
    labels = rng.integers(0, classes, size=SHAPE[:2])
    return x, labels


def _classifier(lib, units: int, activation: str, channels_first: bool):
    layers = [lib.Input(SHAPE[1:]), lib.layers.Dense(units, activation=activation)]
    if channels_first:
        layers.append(lib.layers.Permute((2, 1)))
    return lib.Sequential(layers)


def _trained(units: int, activation: str, channels_first: bool, loss: dict, x, y,
             metric: str) -> Outcome:
    """Copy the weights, compile both alike, fit three epochs; History and weights."""
    model = _classifier(mr, units, activation, channels_first)
    twin = _classifier(keras, units, activation, channels_first)
    twin.set_weights(model.get_weights())
    name, kwargs = loss["class"], loss["kwargs"]
    model.compile(optimizer=mr.optimizers.SGD(0.3, momentum=0.9),
                  loss=getattr(mr.losses, name)(**kwargs), metrics=[metric])
    twin.compile(optimizer=keras.optimizers.SGD(0.3, momentum=0.9),
                 loss=getattr(keras.losses, name)(**kwargs), metrics=[metric])
    fit = {"epochs": 3, "batch_size": 3, "shuffle": False, "verbose": 0}
    ours, theirs = model.fit(x, y, **fit).history, twin.fit(x, y, **fit).history
    pairs = [(f"history/{key}", np.array(ours[key]), np.array(theirs[key])) for key in ours]
    pairs += [(f"weight_{i}", w, k) for i, (w, k) in enumerate(
        zip(model.get_weights(), twin.get_weights(), strict=True))]
    return Outcome(pairs, curves={"minired": ours["loss"], "keras": theirs["loss"]})


@case("keras_arguments", "sparse_ignore_class", kind="training")
def sparse_ignore_class(dtype):
    """Softmax per position; SparseCategoricalCrossentropy(ignore_class=255)."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        x, labels = _data(dtype, 4, 0)
        labels[np.random.default_rng(1).uniform(size=labels.shape) < 0.3] = 255
        loss = {"class": "SparseCategoricalCrossentropy", "kwargs": {"ignore_class": 255}}
        return _trained(4, "softmax", False, loss, x, labels, "sparse_categorical_accuracy")


@case("keras_arguments", "categorical_channels_first", kind="training")
def categorical_channels_first(dtype):
    """Softmax per position, permuted to channels first; CategoricalCrossentropy(axis=1)."""
    with precision(dtype):
        mr.utils.set_random_seed(1)
        x, labels = _data(dtype, 4, 2)
        y = np.moveaxis(np.eye(4, dtype=dtype)[labels], -1, 1)          # (N, 4, positions)
        loss = {"class": "CategoricalCrossentropy",
                "kwargs": {"axis": 1, "label_smoothing": 0.1}}
        return _trained(4, "softmax", True, loss, x, y, "categorical_accuracy")


@case("keras_arguments", "binary_channels_first", kind="training")
def binary_channels_first(dtype):
    """Sigmoid per position, permuted to channels first; BinaryCrossentropy(axis=1)."""
    with precision(dtype):
        mr.utils.set_random_seed(2)
        x, _ = _data(dtype, 2, 3)
        y = np.random.default_rng(4).integers(0, 2, size=(SHAPE[0], 2, SHAPE[1]))
        loss = {"class": "BinaryCrossentropy", "kwargs": {"axis": 1}}
        return _trained(2, "sigmoid", True, loss, x, y.astype(dtype), "binary_accuracy")
