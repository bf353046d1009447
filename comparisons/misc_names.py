"""Keras' remaining top-level names whose numbers can be compared: rematerialisation,
``device`` and the one-device distributions.

Rematerialisation recomputes activations during backward instead of storing them, and on
one CPU a distribution lays every array out whole on ``cpu:0``: neither may change a number.
Each case trains the same model in both libraries under the feature and compares every
History value and every final weight.

- ``remat_scope_training``: the classifier built and fitted inside ``RematScope("full")``
  (Keras fits it eagerly: on TensorFlow its rematerialised layers cannot run in a graph);
- ``remat_layer_training``: a layer of your own whose ``call`` goes through ``remat(f)``,
  ``f(x) = tanh(x·s) + x`` with a trainable scale ``s``, between two Dense layers;
- ``device_data_parallel_training``: the classifier fitted inside ``device("cpu:0")`` and
  ``distribution.DataParallel().scope()``.
"""

from __future__ import annotations

from comparisons.data import N_FEATURES, blobs, one_hot
from comparisons.keras_env import keras, mr, precision
from comparisons.mirror import optimizer_to_keras, to_keras
from comparisons.registry import Outcome, case
from comparisons.training import classifier, fit_history_pairs


def _final_weights(model, keras_model) -> list:
    return [(f"final weight {i}", w, v) for i, (w, v) in
            enumerate(zip(model.get_weights(), keras_model.get_weights(), strict=True))]


def _fit_pair(model, keras_model, x, y) -> Outcome:
    pairs, curves = fit_history_pairs(model, keras_model, x, y, batch_size=16)
    return Outcome(pairs + _final_weights(model, keras_model), curves=curves)


@case("misc_names", "remat_scope_training", kind="training")
def remat_scope_training(dtype):
    """A classifier made and fitted inside RematScope("full"): History and weights."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        y = one_hot(labels, dtype)
        with mr.RematScope(mode="full"):
            model = classifier()
            model.compile(optimizer=mr.optimizers.SGD(0.1, momentum=0.9),
                          loss="categorical_crossentropy", metrics=["accuracy"])
        with keras.RematScope(mode="full"):
            keras_model = to_keras(model)
        # On TensorFlow, Keras' rematerialised calls (tf.recompute_grad with keyword
        # arguments) run only eagerly: compiled (graph) fit and predict raise ValueError.
        keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                            loss="categorical_crossentropy", metrics=["accuracy"],
                            run_eagerly=True)
        with mr.RematScope(mode="full"), keras.RematScope(mode="full"):
            return _fit_pair(model, keras_model, x, y)


def _remat_model(lib):
    """``Dense(6, tanh) -> RematScale -> Dense(3, softmax)``; ``RematScale`` calls
    ``lib.remat(f)`` with ``f(x) = tanh(x·s) + x``."""

    class RematScale(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.rematerialised = lib.remat(self.inner)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                         name="scale")

        def inner(self, x):
            return lib.ops.tanh(x * self.scale) + x

        def call(self, inputs):
            return self.rematerialised(inputs)

    inputs = lib.Input((N_FEATURES,))
    h = lib.layers.Dense(6, activation="tanh", name="hidden")(inputs)
    h = RematScale(name="remat_scale")(h)
    return lib.Model(inputs, lib.layers.Dense(3, activation="softmax", name="output")(h))


@case("misc_names", "remat_layer_training", kind="training")
def remat_layer_training(dtype):
    """A layer whose call goes through remat(f), trained: History and weights."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        y = one_hot(labels, dtype)
        mr.utils.set_random_seed(0)
        model, keras_model = _remat_model(mr), _remat_model(keras)
        keras_model.set_weights(model.get_weights())
        model.compile(optimizer=mr.optimizers.Adam(0.02), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                            loss="categorical_crossentropy", metrics=["accuracy"])
        return _fit_pair(model, keras_model, x, y)


@case("misc_names", "device_data_parallel_training", kind="training")
def device_data_parallel_training(dtype):
    """A classifier fitted inside device("cpu:0") and DataParallel().scope()."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        y = one_hot(labels, dtype)
        model = classifier()
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        keras_model = to_keras(model)
        with mr.device("cpu:0"), mr.distribution.DataParallel().scope(), \
                keras.device("cpu:0"), keras.distribution.DataParallel().scope():
            return _fit_pair(model, keras_model, x, y)
