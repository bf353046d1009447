"""Several outputs: losses, loss weights, sample weights and logs, side by side with Keras.

Each test builds the same two-output graph in minired and in Keras (TensorFlow), copies the
weights across, trains or evaluates both with the same arguments and compares every logged
number and every final weight in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

pytest.importorskip("keras")
from comparisons.keras_env import keras, precision  # noqa: E402

TOLERANCE = 1e-12


def two_outputs(lib, names=("probs", "value")):
    """x → Dense(tanh) → (softmax head, linear head); the heads are named ``names``."""
    inputs = lib.Input((4,), name="x")
    hidden = lib.layers.Dense(6, activation="tanh", name="hidden")(inputs)
    probs = lib.layers.Dense(3, activation="softmax", name=names[0])(hidden)
    value = lib.layers.Dense(1, name=names[1])(hidden)
    return lib.Model(inputs, [probs, value])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4))
    y_probs = np.eye(3)[rng.integers(0, 3, 20)]
    y_value = rng.normal(size=(20, 1))
    weights = rng.uniform(0.5, 2.0, size=20)
    return x, y_probs, y_value, weights


def twins(compile_args: dict, keras_compile_args: dict | None = None):
    ours, theirs = two_outputs(mr), two_outputs(keras)
    ours.set_weights(theirs.get_weights())
    ours.compile(optimizer=mr.optimizers.SGD(0.1), **compile_args)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), **(keras_compile_args or compile_args))
    return ours, theirs


def assert_same_history(ours: dict, theirs: dict) -> None:
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=TOLERANCE, atol=0, err_msg=key)


def assert_same_weights(ours, theirs) -> None:
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("sample_weight", ["none", "one", "list"])
def test_fit_with_loss_weights_and_sample_weights_matches_keras(data, sample_weight):
    """Batches of 8, 8 and 4; the per-output losses are Keras' unweighted batch means."""
    x, y_probs, y_value, weights = data
    chosen = {"none": None, "one": weights, "list": [weights, None]}[sample_weight]
    y = [y_probs, y_value]
    with precision("float64"):
        ours, theirs = twins({"loss": ["categorical_crossentropy", "mse"],
                              "loss_weights": [1.0, 0.5], "metrics": [["accuracy"], []]})
        kwargs = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0,
                  "sample_weight": chosen,
                  "validation_data": (x[:6], [y_probs[:6], y_value[:6]])}
        history_ours = ours.fit(x, y, **kwargs).history
        history_theirs = theirs.fit(x, y, **kwargs).history
    assert sorted(history_ours) == ["loss", "probs_accuracy", "probs_loss", "val_loss",
                                    "val_probs_accuracy", "val_probs_loss", "val_value_loss",
                                    "value_loss"]
    assert_same_history(history_ours, history_theirs)
    assert_same_weights(ours, theirs)


def test_sample_weights_by_output_name_are_the_list_in_output_order(data):
    """(Keras 3.15 fails with a KeyError on this for a list-output model, so minired is
    checked against its own list form.)"""
    x, y_probs, y_value, weights = data
    losses = []
    for sample_weight in ({"value": weights}, [None, weights]):
        mr.utils.set_random_seed(0)
        model = two_outputs(mr)
        model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
        losses.append(model.fit(x, [y_probs, y_value], sample_weight=sample_weight, epochs=2,
                                verbose=0).history)
    assert losses[0] == losses[1]


def test_losses_and_weights_by_output_name_and_a_dict_of_targets(data):
    x, y_probs, y_value, _ = data
    args = {"loss": {"value": "mse", "probs": "categorical_crossentropy"},
            "loss_weights": {"probs": 2.0, "value": 0.25}}
    with precision("float64"):
        ours, theirs = twins(args)
        y = {"probs": y_probs, "value": y_value}
        history_ours = ours.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
        history_theirs = theirs.fit(x, y, epochs=2, batch_size=8, shuffle=False,
                                    verbose=0).history
        assert_same_history(history_ours, history_theirs)
        assert_same_weights(ours, theirs)
        np.testing.assert_allclose(ours.evaluate(x, y, verbose=0),
                                   theirs.evaluate(x, y, verbose=0), rtol=TOLERANCE)


def test_evaluate_lists_loss_then_output_losses_then_metrics_as_keras(data):
    x, y_probs, y_value, _ = data
    with precision("float64"):
        ours, theirs = twins({"loss": ["categorical_crossentropy", "mse"],
                              "metrics": [["accuracy"], []]})
        ours_values = ours.evaluate(x, [y_probs, y_value], verbose=0)
        theirs_values = theirs.evaluate(x, [y_probs, y_value], verbose=0)
        assert len(ours_values) == len(theirs_values) == 4
        np.testing.assert_allclose(ours_values, theirs_values, rtol=TOLERANCE)
        assert ours.evaluate(x, [y_probs, y_value], verbose=0, return_dict=True).keys() == {
            "loss", "probs_loss", "value_loss", "probs_accuracy"}


@pytest.mark.filterwarnings("ignore:Gradients do not exist")  # Keras, for the lossless head
def test_one_loss_for_every_output_and_an_output_without_a_loss(data):
    x, y_probs, y_value, _ = data
    with precision("float64"):
        ours, theirs = twins({"loss": "mse"})
        assert_same_history(
            ours.fit(x, [y_probs, y_value], epochs=1, batch_size=8, verbose=0,
                     shuffle=False).history,
            theirs.fit(x, [y_probs, y_value], epochs=1, batch_size=8, verbose=0,
                       shuffle=False).history)
        ours, theirs = twins({"loss": [None, "mse"]})
        history = ours.fit(x, [y_probs, y_value], epochs=1, batch_size=8, verbose=0,
                           shuffle=False).history
        assert_same_history(history, theirs.fit(x, [y_probs, y_value], epochs=1, batch_size=8,
                                                verbose=0, shuffle=False).history)
        assert sorted(history) == ["loss"]
        assert_same_weights(ours, theirs)


def test_predict_returns_the_structure_of_the_outputs(data):
    x = data[0]
    inputs = mr.Input((4,), name="x")
    hidden = mr.layers.Dense(3)(inputs)
    model = mr.Model({"x": inputs}, {"b": mr.layers.Dense(1)(hidden), "a": hidden})
    predictions = model.predict({"x": x}, verbose=0)
    assert isinstance(predictions, dict) and sorted(predictions) == ["a", "b"]
    assert predictions["a"].shape == (20, 3) and predictions["b"].shape == (20, 1)
    listed = two_outputs(mr).predict(x, verbose=0)
    assert isinstance(listed, list) and [p.shape for p in listed] == [(20, 3), (20, 1)]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"loss": {"probs": "mse", "other": "mse"}}, r"`loss` has keys \['other'\] that name no "
                                                 r"output; the model's outputs are "
                                                 r"\['probs', 'value'\]"),
    ({"loss": ["mse"]}, r"`loss` must have one entry per output \(2: \['probs', 'value'\]\)"),
    ({"loss": "mse", "metrics": ["accuracy"]},
     r"the model has 2 outputs \['probs', 'value'\]: `metrics` must be a list with one entry"),
    ({"loss": "mse", "loss_weights": [1.0]}, r"`loss_weights` must have one entry per output"),
    ({"loss": [None, None]}, r"`loss` gives no output a loss"),
])
def test_compile_names_what_does_not_fit_the_outputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        two_outputs(mr).compile(optimizer="sgd", **kwargs)


def test_targets_and_weights_must_fit_the_outputs(data):
    x, y_probs, y_value, weights = data
    model = two_outputs(mr)
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    with pytest.raises(ValueError, match=r"`y` must give the targets of each of the 2 outputs "
                                         r"\['probs', 'value'\], as a list or a dict by "
                                         r"output name; got one ndarray"):
        model.fit(x, y_probs, verbose=0)
    with pytest.raises(ValueError, match=r"`y` is a dict, so its keys must name the model's "
                                         r"outputs"):
        model.fit(x, {"probs": y_probs}, verbose=0)
    with pytest.raises(ValueError, match=r"`y\['value'\]` does not fit the loss"):
        model.fit(x, [y_probs, y_probs], verbose=0)
    with pytest.raises(ValueError, match=r"`sample_weight\['value'\]` must have one weight per "
                                         r"sample"):
        model.fit(x, [y_probs, y_value], sample_weight=[weights, weights[:3]], verbose=0)
    with pytest.raises(ValueError, match=r"`class_weight` is only supported for models with a "
                                         r"single output"):
        model.fit(x, [y_probs, y_value], class_weight={0: 2.0}, verbose=0)


def test_weights_that_do_not_fit_a_sequence_output_are_refused_before_any_step():
    """Outputs (N, T, C): per-sample weights are (N, 1), per-step weights (N, T); (N,)
    is refused (Keras 3 broadcasts it against the time axis), before the first update."""
    rng = np.random.default_rng(0)
    inputs = mr.Input((5, 3))
    model = mr.Model(inputs, mr.layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 5, 2))
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"`sample_weight` must have shape \(4, 1\) \(one "
                                         r"weight per sample\) or \(4, 5\)"):
        model.fit(x, y, sample_weight=np.ones(4), verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    per_sample = model.evaluate(x, y, sample_weight=np.full((4, 1), 2.0), verbose=0)
    per_step = model.evaluate(x, y, sample_weight=np.full((4, 5), 2.0), verbose=0)
    assert per_sample == per_step == 2 * model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("loss", ["mse", {"value": "mse", "probs": "mse"}])
def test_output_losses_are_listed_in_the_order_keras_lists_them(data, loss):
    """A dict of outputs keeps its written order ("value" before "probs"), and a loss dict
    its own; ``evaluate`` lists the per-output losses in that order, as Keras does."""
    x, y_probs, y_value, _ = data

    def model(lib):
        inputs = lib.Input((4,), name="x")
        hidden = lib.layers.Dense(6, activation="tanh")(inputs)
        return lib.Model(inputs, {"value": lib.layers.Dense(1)(hidden),
                                  "probs": lib.layers.Dense(3, activation="softmax")(hidden)})

    with precision("float64"):
        ours, theirs = model(mr), model(keras)
        ours.set_weights(theirs.get_weights())
        ours.compile(optimizer="sgd", loss=loss)
        theirs.compile(optimizer="sgd", loss=loss)
        y = {"probs": y_probs, "value": y_value}
        np.testing.assert_allclose(ours.evaluate(x, y, verbose=0),
                                   theirs.evaluate(x, y, verbose=0), rtol=TOLERANCE)
