"""Ops: a user's layer built from the later ``keras.ops`` (``triu``, ``swapaxes``, ``pad``,
``top_k``, ``rms_normalization``, ``log_sigmoid``...), written once, run in both libraries.

The layer is a small causal self-attention followed by top-k pooling over time, the kind
of code a Keras user writes in ``call()``; minired differentiates it with its tape,
Keras with TensorFlow's. As in :mod:`comparisons.extending`, the model is built twice from
the same function (``components(lib)``, ``lib`` = minired or keras), minired's seeded
weights are copied to Keras, and both are compared on ``predict``, the loss and every
``∂L/∂w`` (step), then after 5 epochs of ``fit`` (training).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from comparisons.data import random_data
from comparisons.extending import fit_pairs, step_pairs
from comparisons.keras_env import keras, mr, precision
from comparisons.mirror import optimizer_to_keras
from comparisons.registry import Outcome, case

N, STEPS, FEATURES, UNITS, K = 30, 6, 4, 5, 2


def components(lib) -> SimpleNamespace:
    """The user's layer, written against ``lib`` (``mr`` or ``keras``)."""
    ops = lib.ops

    class CausalTopKPooling(lib.layers.Layer):
        """Causal dot-product attention over time, then the mean of the ``k`` largest values
        of each feature over time.

        ``s = q kᵀ/√d`` masked above the diagonal with ``triu`` (a step attends to itself
        and the past), ``h = rms_normalization(softmax(s) v)``, shifted one step with
        ``pad`` (a zero first step), then ``top_k`` over time (via ``swapaxes``) and
        ``log_sigmoid`` of the pooled features.
        """

        def __init__(self, units, k, **kwargs):
            super().__init__(**kwargs)
            self.units, self.k = units, k

        def build(self, input_shape):
            features = input_shape[-1]
            self.w = {name: self.add_weight(shape=(features, self.units),
                                            initializer="glorot_uniform", name=name)
                      for name in ("query", "key", "value")}
            self.scale = self.add_weight(shape=(self.units,), initializer="ones",
                                         name="scale")

        def call(self, inputs):
            q, k, v = (ops.matmul(inputs, self.w[name]) for name in ("query", "key", "value"))
            steps = ops.shape(inputs)[1]
            scores = ops.matmul(q, ops.swapaxes(k, 1, 2)) / float(np.sqrt(self.units))
            future = ops.triu(ops.ones((steps, steps)), k=1)
            scores = ops.where(future > 0, -1e9, scores)
            h = ops.matmul(ops.softmax(scores, axis=-1), v)
            h = ops.rms_normalization(h, scale=self.scale, epsilon=1e-3)
            h = ops.pad(h, ((0, 0), (1, 0), (0, 0)))           # a zero step in front
            top, _ = ops.top_k(ops.swapaxes(h, 1, 2), self.k)  # (batch, units, k)
            return ops.log_sigmoid(ops.mean(top, axis=-1))

        def get_config(self):
            return {**super().get_config(), "units": self.units, "k": self.k}

    return SimpleNamespace(CausalTopKPooling=CausalTopKPooling)


LIBRARIES = {"minired": components(mr), "keras": components(keras)}


def pooled_model(lib, c):
    """Sequences → the custom layer → a softmax over 3 classes."""
    return lib.Sequential([lib.Input((STEPS, FEATURES)),
                           c.CausalTopKPooling(UNITS, K, name="pooling"),
                           lib.layers.Dense(3, activation="softmax", name="head")])


def sequence_data(dtype: str):
    """Random sequences; the class is the arg-max of the first 3 features' time means."""
    x = random_data(dtype, N, (STEPS, FEATURES), seed=4)
    labels = np.argmax(x.mean(axis=1)[:, :3], axis=-1)
    return x, labels


def twins(dtype: str):
    """The compiled minired model and its Keras twin (minired's seeded weights)."""
    models = {}
    for name, lib in (("minired", mr), ("keras", keras)):
        if name == "minired":
            mr.utils.set_random_seed(0)
        models[name] = pooled_model(lib, LIBRARIES[name])
    model, keras_model = models["minired"], models["keras"]
    keras_model.set_weights(model.get_weights())
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.02),
                  loss="sparse_categorical_crossentropy")
    keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                        loss="sparse_categorical_crossentropy")
    return model, keras_model


@case("ops", "causal_topk_pooling_gradients")
def causal_topk_pooling_gradients(dtype: str) -> Outcome:
    """A layer with triu, swapaxes, rms_normalization, pad, top_k, log_sigmoid: predict,
    loss and every ∂L/∂w."""
    with precision(dtype):
        x, y = sequence_data(dtype)
        model, keras_model = twins(dtype)
        return Outcome(step_pairs(model, keras_model, x, y))


@case("ops", "causal_topk_pooling_training", kind="training")
def causal_topk_pooling_training(dtype: str) -> Outcome:
    """The same layer trained 5 epochs (Adam): History and final weights."""
    with precision(dtype):
        x, y = sequence_data(dtype)
        model, keras_model = twins(dtype)
        return fit_pairs(model, keras_model, x, y)
