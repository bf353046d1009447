"""Keras 3's scikit-learn wrappers: the same estimator fitted by minired and by Keras.

Both model functions build the same network with the same initial weights, compiled with
SGD, and ``fit`` trains it without shuffling, so every number must agree.

- ``sklearn_classifier``: ``SKLearnClassifier`` on iris (``y`` one-hot encoded by the
  wrapper): the loss of each epoch and ``decision_function``; ``predict`` and ``score``
  must be equal.
- ``sklearn_regressor``: ``SKLearnRegressor`` on ``make_regression``: the loss per epoch,
  ``predict`` (1-D, as ``y``) and R².
- ``sklearn_transformer``: ``SKLearnTransformer`` after a ``StandardScaler`` in a
  ``Pipeline``: ``fit_transform``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
from sklearn.datasets import load_iris, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case

FIT = {"epochs": 8, "batch_size": 16, "shuffle": False, "verbose": 0}


@contextlib.contextmanager
def quiet(dtype: str) -> Iterator[None]:
    """Both libraries in ``dtype``, without predict's progress bars (the wrappers' predict
    uses the default ``verbose``, as in Keras)."""
    with precision(dtype):
        mr.config.disable_interactive_logging()
        keras.config.disable_interactive_logging()
        try:
            yield
        finally:
            mr.config.enable_interactive_logging()
            keras.config.enable_interactive_logging()


def make_build(lib, activation, loss, lr, units: int = 5):
    """``model(X, y)`` for ``lib``: ``X -> units (relu) -> y.shape[1]``, seeded weights."""

    def build(X, y):
        model = lib.Sequential([lib.Input((X.shape[1],)),
                                lib.layers.Dense(units, activation="relu"),
                                lib.layers.Dense(y.shape[1], activation=activation)])
        rng = np.random.default_rng(0)
        model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(w.dtype)
                           for w in model.get_weights()])
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=lr), loss=loss)
        return model

    return build


def fitted(name: str, X, y, **build_args):
    """The wrapper ``name`` fitted on ``(X, y)`` in minired and in Keras."""
    return [getattr(lib.wrappers, name)(model=make_build(lib, **build_args), fit_kwargs=FIT)
            .fit(X, y) for lib in (mr, keras)]


def losses(ours, theirs) -> tuple[str, list, list]:
    return ("loss per epoch", ours.history_.history["loss"], theirs.history_.history["loss"])


@case("wrappers", "sklearn_classifier", kind="training")
def sklearn_classifier(dtype):
    """SKLearnClassifier on iris, 8 epochs of SGD: losses and decision_function agree,
    predict and score are equal."""
    X, y = load_iris(return_X_y=True)
    X, y = X[::2], y[::2]
    with quiet(dtype):
        ours, theirs = fitted("SKLearnClassifier", X, y, activation="softmax",
                              loss="categorical_crossentropy", lr=0.1)
        assert np.array_equal(ours.predict(X), theirs.predict(X))
        accuracy = ours.score(X, y)
        assert accuracy == theirs.score(X, y)
        pairs = [losses(ours, theirs),
                 ("decision_function", ours.decision_function(X),
                  theirs.decision_function(X))]
    curves = {"minired": pairs[0][1], "keras": pairs[0][2]}
    return Outcome(pairs, curves=curves, notes=f"accuracy {accuracy:.3f} in both")


@case("wrappers", "sklearn_regressor", kind="training")
def sklearn_regressor(dtype):
    """SKLearnRegressor on make_regression, 8 epochs of SGD: losses, predict and R² agree."""
    X, y = make_regression(n_samples=60, n_features=3, noise=1.0, random_state=0)
    y = y / 100
    with quiet(dtype):
        ours, theirs = fitted("SKLearnRegressor", X, y, activation=None, loss="mse", lr=0.05)
        pairs = [losses(ours, theirs),
                 ("predict", ours.predict(X), theirs.predict(X)),
                 ("R²", np.array(ours.score(X, y)), np.array(theirs.score(X, y)))]
    return Outcome(pairs, curves={"minired": pairs[0][1], "keras": pairs[0][2]})


@case("wrappers", "sklearn_transformer", kind="training")
def sklearn_transformer(dtype):
    """StandardScaler then SKLearnTransformer in a Pipeline: fit_transform agrees."""
    X, y = make_regression(n_samples=40, n_features=4, random_state=1)
    with quiet(dtype):
        outputs = [make_pipeline(StandardScaler(), lib.wrappers.SKLearnTransformer(
            model=make_build(lib, activation=None, loss="mse", lr=0.01), fit_kwargs=FIT))
            .fit_transform(X, y / 100) for lib in (mr, keras)]
    return Outcome([("fit_transform", outputs[0], outputs[1])])
