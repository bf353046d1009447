"""compile(weighted_metrics=...): metrics that take the sample weights, side by side with Keras.

Keras updates the metrics of ``metrics`` without weights and those of ``weighted_metrics``
with the batch's ``sample_weight`` (or the weights ``class_weight`` makes); a weighted
metric named like a metric of ``metrics`` is logged as ``weighted_<name>``. Each test runs
the same model and data in both libraries (float64, same weights) and compares every logged
number.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

pytest.importorskip("keras")
from comparisons.keras_env import keras, precision  # noqa: E402

TOLERANCE = 1e-12        # float64, the same formulas on both sides: roundings only


def small_model(lib, outputs: int = 1):
    inputs = lib.Input((4,), name="x")
    hidden = lib.layers.Dense(5, activation="tanh", name="hidden")(inputs)
    heads = [lib.layers.Dense(3, activation="softmax", name="probs")(hidden),
             lib.layers.Dense(1, name="value")(hidden)][:outputs]
    return lib.Model(inputs, heads if outputs > 1 else heads[0])


def twins(outputs: int = 1, **compile_args):
    ours, theirs = small_model(mr, outputs), small_model(keras, outputs)
    ours.set_weights(theirs.get_weights())
    ours.compile(optimizer=mr.optimizers.SGD(0.1), **compile_args)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), **compile_args)
    return ours, theirs


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(21, 4))
    labels = rng.integers(0, 3, 21)
    return x, np.eye(3)[labels], labels, rng.normal(size=(21, 1)), rng.uniform(0.1, 3.0, 21)


def assert_same_logs(ours: dict, theirs: dict) -> None:
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=TOLERANCE, atol=0, err_msg=key)


def test_weighted_and_plain_metrics_of_the_same_name_match_keras(data):
    """``mae`` unweighted, ``weighted_mae`` weighted: fit (with weighted validation data)
    and evaluate give Keras' numbers, and the two differ (the weights matter)."""
    x, y, _, _, weights = data
    with precision("float64"):
        ours, theirs = twins(loss="categorical_crossentropy", metrics=["mae"],
                             weighted_metrics=["mae", "accuracy"])
        kwargs = {"epochs": 2, "batch_size": 8, "shuffle": False, "verbose": 0,
                  "sample_weight": weights, "validation_data": (x[:7], y[:7], weights[:7])}
        history = ours.fit(x, y, **kwargs).history
        assert_same_logs(history, theirs.fit(x, y, **kwargs).history)
        evaluated = ours.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
        assert_same_logs(evaluated, theirs.evaluate(x, y, sample_weight=weights, verbose=0,
                                                    return_dict=True))
    assert sorted(history) == ["accuracy", "loss", "mae", "val_accuracy", "val_loss",
                               "val_mae", "val_weighted_mae", "weighted_mae"]
    assert evaluated["mae"] != pytest.approx(evaluated["weighted_mae"], rel=1e-3)
    assert ours.metrics_names == theirs.metrics_names == ["loss", "compile_metrics"]


def test_class_weight_reaches_the_weighted_metrics_only(data):
    x, _, labels, _, _ = data
    class_weight = {0: 0.2, 1: 1.0, 2: 5.0}
    with precision("float64"):
        ours, theirs = twins(loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                             weighted_metrics=["accuracy"])
        kwargs = {"epochs": 2, "batch_size": 8, "shuffle": False, "verbose": 0,
                  "class_weight": class_weight}
        history = ours.fit(x, labels, **kwargs).history
        assert_same_logs(history, theirs.fit(x, labels, **kwargs).history)
    assert sorted(history) == ["accuracy", "loss", "weighted_accuracy"]


def test_weighted_metrics_alone_and_without_weights_match_keras(data):
    """Without sample weights a weighted metric is the plain one; given alone, it keeps its
    name and ``model.metrics`` still holds the ``compile_metrics`` container."""
    x, y, _, _, _ = data
    with precision("float64"):
        ours, theirs = twins(loss="categorical_crossentropy", weighted_metrics=["accuracy"])
        result = ours.evaluate(x, y, verbose=0, return_dict=True)
        assert_same_logs(result, theirs.evaluate(x, y, verbose=0, return_dict=True))
        assert ours.evaluate(x, y, verbose=0) == pytest.approx(
            theirs.evaluate(x, y, verbose=0), rel=TOLERANCE)
    assert sorted(result) == ["accuracy", "loss"]
    assert ours.metrics_names == ["loss", "compile_metrics"]


@pytest.mark.parametrize("sample_weight", ["one", "list"])
def test_two_outputs_with_weighted_metrics_by_output_name(data, sample_weight):
    x, y, _, y_value, weights = data
    chosen = weights if sample_weight == "one" else [weights, weights[::-1].copy()]
    with precision("float64"):
        ours, theirs = twins(outputs=2, loss=["categorical_crossentropy", "mse"],
                             metrics={"value": ["mae"]},
                             weighted_metrics={"probs": ["accuracy"], "value": ["mae"]})
        kwargs = {"epochs": 2, "batch_size": 8, "shuffle": False, "verbose": 0,
                  "sample_weight": chosen}
        history = ours.fit(x, [y, y_value], **kwargs).history
        assert_same_logs(history, theirs.fit(x, [y, y_value], **kwargs).history)
    assert "value_weighted_mae" in history and "probs_accuracy" in history


def test_the_compile_config_carries_weighted_metrics_both_ways(tmp_path, data):
    x, y, _, _, weights = data
    with precision("float64"):
        ours, theirs = twins(loss="categorical_crossentropy", metrics=["mae"],
                             weighted_metrics=["mae"])
        ours.save(tmp_path / "ours.keras")
        theirs.save(tmp_path / "theirs.keras")
        loaded_by_keras = keras.models.load_model(tmp_path / "ours.keras")
        loaded_by_us = mr.models.load_model(tmp_path / "theirs.keras")
        expected = theirs.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
        for model in (loaded_by_keras, loaded_by_us):
            assert_same_logs(model.evaluate(x, y, sample_weight=weights, verbose=0,
                                            return_dict=True), expected)
    assert ours.get_compile_config()["weighted_metrics"] == ["mae"]


def test_weighted_metrics_must_be_a_list(data):
    with pytest.raises(TypeError, match="`weighted_metrics` must be a list"):
        small_model(mr).compile(loss="mse", weighted_metrics="mae")
    with pytest.raises(ValueError, match="`weighted_metrics` must be a list with one entry"):
        small_model(mr, outputs=2).compile(loss="mse", weighted_metrics=[["mae"]])
