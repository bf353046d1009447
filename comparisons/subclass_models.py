"""Subclassed models, two more ways Keras allows: several outputs from ``call``, and the
"functional init" (``super().__init__(inputs, outputs)`` in a ``Model`` subclass).

Each model is written once against a library namespace ``lib`` (``minired`` or ``keras``)
and built in both; minired's seeded weights are copied into Keras' twin, both are compiled
alike and fitted 5 epochs on 30 blob samples (batches of 8, the last of 6). Compared: the
History (keys and values), every final weight, then ``evaluate`` and ``predict`` (see
:func:`comparisons.extending.fit_pairs`).

- ``tuple_outputs_training``: ``call`` returns ``(softmax head, linear head)``; the losses,
  loss weights and metrics are lists, and Keras logs ``categorical_crossentropy_loss``,
  ``mse_loss``, ``accuracy``, ``mae`` (a tuple's outputs have no names);
- ``dict_outputs_training``: ``call`` returns ``{"value": ..., "probs": ...}``; the
  arguments are dicts, the logs ``probs_loss``, ``value_mae``...;
- ``functional_init_training``: a subclass whose ``__init__`` builds its graph, trained
  with Adam and a validation split.
"""

from __future__ import annotations

import numpy as np

from comparisons.data import blobs, one_hot
from comparisons.extending import fit_pairs
from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case

N = 30


def two_heads(lib, kind: str):
    """x → Dense(tanh) → a softmax head and a linear head, as a tuple or a dict."""

    class TwoHeads(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = lib.layers.Dense(6, activation="tanh")
            self.probs = lib.layers.Dense(3, activation="softmax")
            self.value = lib.layers.Dense(1)

        def call(self, inputs):
            hidden = self.hidden(inputs)
            if kind == "dict":
                return {"value": self.value(hidden), "probs": self.probs(hidden)}
            return self.probs(hidden), self.value(hidden)

    return TwoHeads()


def functional_subclass(lib):
    """A subclass of Model whose ``__init__`` builds its graph and calls
    ``super().__init__(inputs=..., outputs=...)``."""

    class Regressor(lib.Model):
        def __init__(self, units=6, **kwargs):
            inputs = lib.Input((4,))
            hidden = lib.layers.Dense(units, activation="tanh")(inputs)
            super().__init__(inputs=inputs, outputs=lib.layers.Dense(1)(hidden), **kwargs)
            self.units = units

    return Regressor()


def twins(build, x, compile_arguments, optimizer=lambda lib: lib.optimizers.SGD(
        0.05, momentum=0.9)) -> tuple:
    """The compiled minired model and its Keras twin with minired's (seeded) weights;
    ``build``, ``compile_arguments`` and ``optimizer`` take the library."""
    mr.utils.set_random_seed(0)
    model, keras_model = build(mr), build(keras)
    model(x[:1])
    keras_model(x[:1])
    keras_model.set_weights(model.get_weights())
    for compiled, lib in ((model, mr), (keras_model, keras)):
        compiled.compile(optimizer=optimizer(lib), **compile_arguments(lib))
    return model, keras_model


def data(dtype: str, kind: str) -> tuple:
    x, labels = blobs(N, dtype)
    probs, value = one_hot(labels, dtype), (x[:, :1] - x[:, 1:2]).astype(dtype)
    return x, ({"probs": probs, "value": value} if kind == "dict" else (probs, value))


def evaluated_and_predicted(x, y):
    """``after`` for :func:`fit_pairs`: evaluate's dict and each output of predict."""
    def after(model, keras_model) -> list:
        ours = model.evaluate(x, y, verbose=0, return_dict=True)
        theirs = keras_model.evaluate(x, y, verbose=0, return_dict=True)
        pairs = [(f"evaluate {key}", np.array(ours[key]), np.array(theirs.get(key, np.nan)))
                 for key in sorted(ours)]
        predicted = model.predict(x, verbose=0)
        keras_predicted = keras_model.predict(x, verbose=0)
        if isinstance(predicted, dict):
            keys = list(predicted)
            predicted = [predicted[k] for k in keys]
            keras_predicted = [keras_predicted[k] for k in keys]
        elif not isinstance(predicted, tuple | list):
            predicted, keras_predicted = [predicted], [keras_predicted]
        pairs += [(f"predict output {i}", p, np.asarray(q))
                  for i, (p, q) in enumerate(zip(predicted, keras_predicted, strict=True))]
        return pairs
    return after


def outputs_case(dtype: str, kind: str) -> Outcome:
    def compile_arguments(lib) -> dict:
        if kind == "dict":
            return {"loss": {"probs": "categorical_crossentropy", "value": "mse"},
                    "loss_weights": {"probs": 1.0, "value": 0.5},
                    "metrics": {"probs": ["accuracy"], "value": ["mae"]}}
        return {"loss": ["categorical_crossentropy", "mse"], "loss_weights": [1.0, 0.5],
                "metrics": [["accuracy"], ["mae"]]}

    with precision(dtype):
        x, y = data(dtype, kind)
        model, keras_model = twins(lambda lib: two_heads(lib, kind), x, compile_arguments)
        return fit_pairs(model, keras_model, x, y, after=evaluated_and_predicted(x, y))


@case("subclass_models", "tuple_outputs_training", kind="training")
def tuple_outputs_training(dtype: str) -> Outcome:
    """call() returns a tuple of two outputs: lists of losses, loss weights and metrics
    (5 epochs of fit: History, final weights, evaluate, predict)."""
    return outputs_case(dtype, "tuple")


@case("subclass_models", "dict_outputs_training", kind="training")
def dict_outputs_training(dtype: str) -> Outcome:
    """call() returns a dict of two outputs: dicts of losses, loss weights and metrics
    (5 epochs of fit: History, final weights, evaluate, predict)."""
    return outputs_case(dtype, "dict")


@case("subclass_models", "functional_init_training", kind="training")
def functional_init_training(dtype: str) -> Outcome:
    """A Model subclass whose __init__ calls super().__init__(inputs, outputs), trained with
    Adam and a validation split (5 epochs of fit: History, final weights, predict)."""
    with precision(dtype):
        x, _ = blobs(N, dtype)
        y = (x[:, :1] - x[:, 1:2]).astype(dtype)
        model, keras_model = twins(functional_subclass, x,
                                   lambda lib: {"loss": "mse", "metrics": ["mae"]},
                                   optimizer=lambda lib: lib.optimizers.Adam(0.05))
        return fit_pairs(model, keras_model, x, y, validation_split=0.2,
                         after=evaluated_and_predicted(x, y))
