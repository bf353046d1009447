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


def user_layer_cases(name: str, what: str, layers_of, model_of, data_of,
                     learning_rate: float = 0.02) -> None:
    """Register ``ops/<name>_gradients`` and ``ops/<name>_training`` for a user's layer.

    ``layers_of(lib)`` writes the layer against ``lib`` (``mr`` or ``keras``), ``model_of(lib,
    parts)`` puts it in a model, ``data_of(dtype)`` gives ``(x, labels)``. The minired model
    is built from seed 0, its weights are copied to the Keras twin, both are compiled with
    Adam(``learning_rate``) and sparse categorical cross-entropy, then compared on predict,
    the loss and every ∂L/∂w (gradients), and after 5 epochs of fit (training).
    """
    parts = {"minired": layers_of(mr), "keras": layers_of(keras)}

    def twins():
        mr.utils.set_random_seed(0)
        model, keras_model = model_of(mr, parts["minired"]), model_of(keras, parts["keras"])
        keras_model.set_weights(model.get_weights())
        model.compile(optimizer=mr.optimizers.Adam(learning_rate=learning_rate),
                      loss="sparse_categorical_crossentropy")
        keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                            loss="sparse_categorical_crossentropy")
        return model, keras_model

    def gradients(dtype: str) -> Outcome:
        with precision(dtype):
            x, y = data_of(dtype)
            return Outcome(step_pairs(*twins(), x, y))

    def training(dtype: str) -> Outcome:
        with precision(dtype):
            x, y = data_of(dtype)
            return fit_pairs(*twins(), x, y)

    gradients.__doc__ = f"A layer with {what}: predict, loss and every ∂L/∂w."
    training.__doc__ = "The same layer trained 5 epochs (Adam): History and final weights."
    case("ops", f"{name}_gradients")(gradients)
    case("ops", f"{name}_training", kind="training")(training)


user_layer_cases("causal_topk_pooling", "triu, swapaxes, rms_normalization, pad, top_k, "
                 "log_sigmoid", components, pooled_model, sequence_data)


@case("ops", "ctc_decode", precisions=("float32",))
def ctc_decode(dtype: str) -> Outcome:
    """ops.ctc_decode on random logits (6 samples, 8 steps, 5 classes, blank 2): greedy, and
    beam search (width 6, top 4 paths). Float32 only: TensorFlow's beam search rounds its
    intermediate values through float32 even for float64 inputs (differences near 1e-8)."""
    rng = np.random.default_rng(8)
    logits = (2 * rng.normal(size=(6, 8, 5))).astype(dtype)
    lengths = np.array([8, 5, 8, 6, 4, 7])
    pairs = []
    for strategy, extra in (("greedy", {}), ("beam_search", {"beam_width": 6, "top_paths": 4})):
        ours = mr.ops.ctc_decode(logits, lengths, strategy=strategy, mask_index=2, **extra)
        theirs = keras.ops.ctc_decode(logits, lengths, strategy=strategy, mask_index=2, **extra)
        pairs += [(f"{strategy} paths", ours[0].astype("float64"),
                   np.asarray(theirs[0]).astype("float64")),
                  (f"{strategy} scores", ours[1], np.asarray(theirs[1]))]
    return Outcome(pairs)
