"""The small model and data the optimizer tests train in minired and in Keras alike."""

from __future__ import annotations

import numpy as np

import minired as mr
from minired import optimizers as mo


def twin_models(keras, make):
    """``net``: Dense(5, tanh) ``hidden`` -> Dense(3, softmax) ``out`` on 4 features, in both
    libraries with the same weights, compiled with ``make(optimizers module)`` and
    categorical cross-entropy."""
    mr.utils.set_random_seed(0)
    ours = mr.Sequential([mr.Input((4,)), mr.layers.Dense(5, activation="tanh", name="hidden"),
                          mr.layers.Dense(3, activation="softmax", name="out")], name="net")
    theirs = keras.Sequential([keras.Input((4,)),
                               keras.layers.Dense(5, activation="tanh", name="hidden"),
                               keras.layers.Dense(3, activation="softmax", name="out")],
                              name="net")
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer=make(mo), loss="categorical_crossentropy")
    theirs.compile(optimizer=make(keras.optimizers), loss="categorical_crossentropy")
    return ours, theirs


def data(n: int = 16):
    """``n`` samples of 4 normal features and one-hot labels of 3 classes (float32)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    return x, y
