"""Masking: padded time steps skipped by the layers, the loss and the metrics, as in Keras.

Each case builds the same model in both libraries (minired's weights copied into Keras),
trains it three epochs with SGD and momentum on padded sequences (no shuffling), and
compares the History (loss and metrics) and the final weights:

- ``embedding_mask_zero_pooling``: ``Embedding(mask_zero=True)`` → ``GlobalAveragePooling1D``
  (the mean over the real steps) → ``Dense`` (sigmoid), binary cross-entropy and accuracy;
- ``masking_timestep_loss``: ``Masking`` → two per-time-step ``Dense`` layers, the MSE loss
  and the MAE metric of the real steps only (Keras' ``apply_mask``: weight ``total/valid``
  for a real step, 0 for a padded one), with per-sample weights;
- ``embedding_tagger``: ``Embedding(mask_zero=True)`` → ``Dense`` (softmax) per time step,
  sparse cross-entropy from the softmax's logits and accuracy, both masked;
- ``embedding_softmax_scores``: ``Embedding(mask_zero=True)`` → a score per step → ``Softmax``
  over the steps, which reads the mask (-1e9 at the padded steps before the softmax, 0
  after), then the MSE of those weights;
- ``embedding_masked_merges``: two padded sequences, each through its
  ``Embedding(mask_zero=True)``, merged by ``Maximum``, ``Minimum`` and ``Multiply``, which
  read the masks (a masked value never wins a maximum or minimum, counts as 1 in a product),
  then a per-step ``Dense``; MSE and MAE over the steps real in either sequence;
- ``embedding_batch_normalization``: ``Embedding(mask_zero=True)`` → ``BatchNormalization``,
  whose batch statistics in ``fit`` count the real steps only → per-step ``Dense`` → masked
  mean → ``Dense``; MSE.
"""

from __future__ import annotations

import warnings

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case

#: padded sequences of word ids: 0 is the padding
IDS = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2], [5, 0, 0, 0, 0], [9, 9, 6, 0, 0],
                [1, 2, 0, 0, 0], [4, 4, 4, 4, 0], [6, 1, 0, 0, 0], [8, 3, 5, 7, 0]])


def _trained(model, twin, x, y, optimizer: str, loss: str, metrics: list[str],
             sample_weight=None) -> Outcome:
    """Copy the weights, compile both alike, fit three epochs; History and weights."""
    twin.set_weights(model.get_weights())
    model.compile(optimizer=mr.optimizers.SGD(0.3, momentum=0.9), loss=loss, metrics=metrics)
    twin.compile(optimizer=keras.optimizers.SGD(0.3, momentum=0.9), loss=loss,
                 metrics=metrics)
    kwargs = {"epochs": 3, "batch_size": 3, "shuffle": False, "verbose": 0,
              "sample_weight": sample_weight}
    ours, theirs = model.fit(x, y, **kwargs).history, twin.fit(x, y, **kwargs).history
    pairs = [(f"history/{key}", np.array(ours[key]), np.array(theirs[key])) for key in ours]
    pairs += [(f"weight_{i}", w, k) for i, (w, k) in enumerate(
        zip(model.get_weights(), twin.get_weights(), strict=True))]
    return Outcome(pairs)


def _pooled(lib):
    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
    pooled = lib.layers.GlobalAveragePooling1D()(hidden)
    return lib.Model(inputs, lib.layers.Dense(1, activation="sigmoid")(pooled))


@case("masking", "embedding_mask_zero_pooling", kind="training")
def embedding_mask_zero_pooling(dtype):
    """Embedding(mask_zero=True) → GlobalAveragePooling1D (masked mean) → Dense."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        y = np.array([[1.0], [0.0], [1.0], [0.0], [1.0], [1.0], [0.0], [0.0]])
        return _trained(_pooled(mr), _pooled(keras), IDS, y, "sgd", "binary_crossentropy",
                        ["accuracy"])


def _per_step(lib):
    return lib.Sequential([lib.Input((5, 3)), lib.layers.Masking(),
                           lib.layers.Dense(4, activation="tanh"), lib.layers.Dense(2)])


@case("masking", "masking_timestep_loss", kind="training")
def masking_timestep_loss(dtype):
    """Masking → per-step Dense layers; MSE and MAE over the real steps, sample weights."""
    with precision(dtype):
        mr.utils.set_random_seed(1)
        rng = np.random.default_rng(1)
        x = (rng.normal(size=(*IDS.shape, 3)) * (IDS != 0)[..., None]).astype(dtype)
        y = rng.normal(size=(*IDS.shape, 2)).astype(dtype)
        weights = rng.uniform(0.5, 2.0, size=(len(IDS), 1)).astype(dtype)
        return _trained(_per_step(mr), _per_step(keras), x, y, "sgd", "mse", ["mae"],
                        sample_weight=weights)


def _tagger(lib):
    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
    return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(hidden))


@case("masking", "embedding_tagger", kind="training")
def embedding_tagger(dtype):
    """Embedding(mask_zero=True) → per-step softmax; masked sparse cross-entropy, accuracy."""
    with precision(dtype):
        mr.utils.set_random_seed(2)
        labels = np.random.default_rng(2).integers(0, 3, size=IDS.shape)
        return _trained(_tagger(mr), _tagger(keras), IDS, labels, "sgd",
                        "sparse_categorical_crossentropy", ["accuracy"])


def _scores(lib):
    """Embedding(mask_zero=True) → Dense(1, tanh) → a sum over the last axis (a layer that
    passes the mask on) → Softmax over the 5 steps (reads the mask) → Reshape (drops it)."""

    class SumLast(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, x):
            return lib.ops.sum(x, axis=-1)

    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
    scores = SumLast()(lib.layers.Dense(1, activation="tanh")(hidden))   # tanh: a bias
    weights = lib.layers.Softmax()(scores)                  # gradient (softmax is shift-free)
    return lib.Model(inputs, lib.layers.Reshape((5, 1))(weights))


@case("masking", "embedding_softmax_scores", kind="training")
def embedding_softmax_scores(dtype):
    """Embedding(mask_zero=True) → scores → Softmax reading the mask; MSE and MAE."""
    with precision(dtype), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not support masking")  # Reshape
        mr.utils.set_random_seed(3)
        y = np.random.default_rng(3).random((*IDS.shape, 1)).astype(dtype)
        return _trained(_scores(mr), _scores(keras), IDS, y, "sgd", "mse", ["mae"])


def _merged(lib):
    """Two masked sequences → Maximum, Minimum (read the masks) → Multiply (reads the OR of
    them) → a per-step Dense."""
    first, second = lib.Input((5,), dtype="int32"), lib.Input((5,), dtype="int32")
    a = lib.layers.Embedding(10, 3, mask_zero=True)(first)
    b = lib.layers.Embedding(10, 3, mask_zero=True)(second)
    high = lib.layers.Maximum()([a, lib.layers.Dense(3)(b)])
    low = lib.layers.Minimum()([a, b])
    merged = lib.layers.Multiply()([high, lib.layers.Dense(3)(low)])
    return lib.Model([first, second], lib.layers.Dense(2)(merged))


@case("masking", "embedding_masked_merges", kind="training")
def embedding_masked_merges(dtype):
    """Embedding(mask_zero=True) ×2 → Maximum, Minimum, Multiply reading the masks; MSE."""
    with precision(dtype):
        mr.utils.set_random_seed(4)
        second = IDS[::-1].copy()
        second[:, 0] = 0                       # a step padded in both sequences
        y = np.random.default_rng(4).normal(size=(*IDS.shape, 2)).astype(dtype)
        return _trained(_merged(mr), _merged(keras), [IDS, second], y, "sgd", "mse", ["mae"])


def _normalized(lib):
    """Embedding(mask_zero=True) → BatchNormalization (masked moments in fit) → Dense per
    step → masked mean → Dense."""
    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 3, mask_zero=True,
                                  embeddings_initializer="random_normal")(inputs)
    steps = lib.layers.Dense(4, activation="tanh")(lib.layers.BatchNormalization()(hidden))
    return lib.Model(inputs, lib.layers.Dense(1)(lib.layers.GlobalAveragePooling1D()(steps)))


@case("masking", "embedding_batch_normalization", kind="training")
def embedding_batch_normalization(dtype):
    """Embedding(mask_zero=True) → BatchNormalization over the real steps → ...; MSE."""
    with precision(dtype):
        mr.utils.set_random_seed(5)
        y = np.random.default_rng(5).normal(size=(len(IDS), 1)).astype(dtype)
        return _trained(_normalized(mr), _normalized(keras), IDS, y, "sgd", "mse", ["mae"])
