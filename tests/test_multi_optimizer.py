"""MultiOptimizer and OptimizerMap against real Keras: the same lookups, errors, steps and fit.

Each variable is updated by the optimizer the map gives it, which runs its own (tested)
rule on its own variables, so the weights agree with Keras as each optimizer does: bit for
bit for SGD and Adam, to a few ulps for Muon's matrix products.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from optimizer_twins import data, twin_models

import minired as mr
from minired import optimizers as mo
from minired.optimizers import MultiOptimizer, OptimizerMap
from minired.optimizers.variable_paths import keras_paths, path_of, remember_paths

VARIABLES = {"kernel": (6, 4), "bias": (4,), "k2": (4, 3), "b2": (3,)}



# --- OptimizerMap ---------------------------------------------------------------------------
def lookups(o):
    """The names a map of library ``o`` gives to a few paths (Keras' docstring example)."""
    optimizer_map = o.OptimizerMap(default_optimizer=o.RMSprop(name="rmsprop"))
    optimizer_map["encoder/layer_0/dense"] = o.Adam(name="adam")
    optimizer_map["encoder/.*"] = o.SGD(name="sgd")
    optimizer_map["decoder"] = o.Adam(name="adam2")
    paths = ["decoder", "encoder/layer_0/dense", "encoder/layer_0/attention/query",
             "decoder/layer_0/dense", "encoder"]
    return [optimizer_map[p].name for p in paths], len(optimizer_map), list(optimizer_map)


def test_lookups_equal_keras(keras):
    assert lookups(mo) == lookups(keras.optimizers) == (
        ["adam2", "adam", "sgd", "rmsprop", "rmsprop"], 3,
        ["encoder/layer_0/dense", "encoder/.*", "decoder"])


def map_errors(o):
    """The exception type each misuse raises in library ``o``."""
    found = []

    def attempt(action):
        try:
            action()
            found.append(None)
        except Exception as error:   # noqa: BLE001 (the type is what is compared)
            found.append(type(error).__name__)

    sgd = o.SGD()
    optimizer_map = o.OptimizerMap(sgd, {"a.*": o.Adam(), "ab": o.SGD()})
    attempt(lambda: o.OptimizerMap("sgd"))
    attempt(lambda: o.OptimizerMap(sgd, [("a", sgd)]))
    attempt(lambda: optimizer_map["abc"])                         # one match
    attempt(lambda: optimizer_map.__getitem__("ab"))              # exact key wins
    attempt(lambda: o.OptimizerMap(sgd, {"a.*": sgd, ".b": sgd})["ab"])   # two matches
    attempt(lambda: optimizer_map.__setitem__("a.*", sgd))        # duplicated key
    attempt(lambda: optimizer_map.__setitem__(3, sgd))
    attempt(lambda: optimizer_map.__setitem__("z", "adam"))
    attempt(lambda: optimizer_map.__setitem__("y", o.MultiOptimizer(o.OptimizerMap(sgd))))
    attempt(lambda: optimizer_map.__setitem__("x", o.LossScaleOptimizer(o.SGD())))
    return found


def test_map_errors_equal_keras(keras):
    assert map_errors(mo) == map_errors(keras.optimizers) == [
        "TypeError", "TypeError", None, None, "ValueError", "ValueError", "ValueError",
        "ValueError", "ValueError", "ValueError"]


def test_map_messages():
    with pytest.raises(ValueError, match="Multiple optimizers assigned to variable ab"):
        OptimizerMap(mo.SGD(), {"a.*": mo.SGD(), ".b": mo.SGD()})["ab"]
    with pytest.raises(ValueError, match="already exists"):
        OptimizerMap(mo.SGD(), {"a": mo.SGD()})["a"] = mo.SGD()


# --- steps ----------------------------------------------------------------------------------
def make_multi(o):
    return o.MultiOptimizer(o.OptimizerMap(
        o.SGD(0.1, momentum=0.9), {"b.*": o.Adam(0.01), "k2": o.Muon(0.02)}))


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_steps_match_keras(keras, floatx_of, floatx):
    floatx_of(floatx)
    rng = np.random.default_rng(0)
    w0 = [rng.normal(size=s).astype(floatx) for s in VARIABLES.values()]
    ours = [mr.Variable(w.copy(), name=n) for w, n in zip(w0, VARIABLES, strict=True)]
    theirs = [keras.Variable(w.copy(), name=n) for w, n in zip(w0, VARIABLES, strict=True)]
    ours_opt, keras_opt = make_multi(mo), make_multi(keras.optimizers)
    for _ in range(5):
        grads = [rng.normal(size=s).astype(floatx) for s in VARIABLES.values()]
        ours_opt.apply_gradients(zip(grads, ours, strict=True))
        keras_opt.apply_gradients(zip(grads, theirs, strict=True))
    for name, w, v in zip(VARIABLES, ours, theirs, strict=True):
        if name == "k2":    # Muon: matrix products, a few ulps (tests/test_muon.py)
            ulp = np.finfo(floatx).eps * np.abs(v.numpy()).max()
            np.testing.assert_allclose(np.asarray(w), v.numpy(), rtol=0, atol=4 * ulp)
        else:
            np.testing.assert_array_equal(np.asarray(w), v.numpy())
    assert ([name_stem(o.name) for o in ours_opt.optimizers]
            == [name_stem(o.name) for o in keras_opt.optimizers] == ["adam", "muon", "sgd"])
    assert int(ours_opt.iterations) == int(keras_opt.iterations.numpy()) == 5
    assert [int(o.iterations) for o in ours_opt.optimizers] == [5, 5, 5]
    assert [np.shape(a) for a in ours_opt.variables] == [tuple(b.shape)
                                                         for b in keras_opt.variables]
    for a, b in zip(ours_opt.variables, keras_opt.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), b.numpy())


def name_stem(name: str) -> str:
    """``"sgd_3"`` -> ``"sgd"``: each library numbers repeated names on its own."""
    stem, _, number = name.rpartition("_")
    return stem if stem and number.isdigit() else name


def test_a_function_chooses_by_the_array_itself():
    w, b = np.ones((2, 2)), np.ones(2)
    sgd, other = mo.SGD(0.5), mo.SGD(1.0)
    opt = MultiOptimizer(lambda v: sgd if v is w else other)
    opt.apply_gradients([(np.ones((2, 2)), w), (np.ones(2), b)])
    np.testing.assert_array_equal(w, 0.5)
    np.testing.assert_array_equal(b, 0.0)
    assert opt.optimizers == [sgd, other]
    opt.apply([np.ones((2, 2)), np.ones(2)])         # the built variables
    np.testing.assert_array_equal(w, 0.0)


def test_errors():
    sgd = mo.SGD()
    with pytest.raises(ValueError, match="must already be built"):
        MultiOptimizer(OptimizerMap(sgd)).apply([np.ones(2)])
    opt = MultiOptimizer(OptimizerMap(sgd))
    w = mr.Variable(np.ones(2), name="w")
    opt.apply([np.ones(2)], [w])
    with pytest.raises(ValueError, match="one-to-one"):
        opt.apply([np.ones(2), np.ones(2)], [w, w])
    with pytest.raises(ValueError, match="not an Optimizer"):
        MultiOptimizer(lambda v: "adam").build([w])
    with pytest.raises(ValueError, match="MultiOptimizer cannot be used inside"):
        MultiOptimizer(lambda v: MultiOptimizer(OptimizerMap(sgd))).build([w])
    with pytest.raises(ValueError, match="LossScaleOptimizer cannot be used inside"):
        MultiOptimizer(lambda v: mo.LossScaleOptimizer(mo.SGD())).build([w])
    with pytest.raises(ValueError, match="no path"):
        MultiOptimizer(OptimizerMap(sgd)).build([np.ones(2)])


def test_learning_rate_is_refused_as_in_keras(keras):
    for o in (mo, keras.optimizers):
        opt = o.MultiOptimizer(o.OptimizerMap(o.SGD()))
        with pytest.raises(AttributeError, match="cannot be accessed on a MultiOptimizer"):
            opt.learning_rate    # noqa: B018
        with pytest.raises(AttributeError, match="cannot be set on a MultiOptimizer"):
            opt.learning_rate = 0.1


def test_loss_scale_factor_goes_to_every_optimizer():
    sgd, adam = mo.SGD(loss_scale_factor=4.0), mo.Adam()
    opt = MultiOptimizer(OptimizerMap(sgd, {"a": adam}), loss_scale_factor=2.0)
    assert (sgd.loss_scale_factor, adam.loss_scale_factor) == (2.0, 2.0)
    opt.loss_scale_factor = None
    assert (sgd.loss_scale_factor, adam.loss_scale_factor) == (None, None)


# --- paths and fit --------------------------------------------------------------------------
def test_paths_are_keras_paths(keras):
    def functional(lib):
        inputs = lib.Input((3,))
        hidden = lib.layers.Dense(4, name="enc")(inputs)
        return lib.Model(inputs, lib.layers.Dense(2, name="head")(hidden))

    def nested(lib):
        inner = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="d")], name="inner")
        return lib.Sequential([lib.Input((3,)), inner, lib.layers.Dense(2, name="top")],
                              name="outer")

    for build in (functional, nested):
        ours, theirs = build(mr), build(keras)
        assert [p for _, p in keras_paths(ours)] == [v.path for v in theirs.weights]
    remember_paths(ours)
    assert path_of(ours.layers[-1].kernel) == "outer/top/kernel"
    assert path_of(np.ones(2)) is None


def by_path(o):
    return o.MultiOptimizer(o.OptimizerMap(o.SGD(0.1), {"net/out/.*": o.Adam(0.01)}))


def test_fit_matches_keras(keras):
    x, y = data()
    ours, theirs = twin_models(keras, by_path)
    remember_paths(ours)
    h_ours = ours.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    h_theirs = theirs.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    # float32 through Keras' tf.function: a few ulps apart
    np.testing.assert_allclose(h_ours, h_theirs, rtol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert [name_stem(o.name) for o in ours.optimizer.optimizers] == ["adam", "sgd"]
    assert [int(o.iterations) for o in ours.optimizer.optimizers] == [12, 12]


# --- configuration and files ----------------------------------------------------------------
def test_config_round_trips_through_keras(keras):
    opt = by_path(mo)
    config_ours = mo.serialize(opt)
    theirs = keras.optimizers.deserialize(copy.deepcopy(config_ours))   # Keras edits it
    assert type(theirs).__name__ == "MultiOptimizer"
    assert keras.optimizers.serialize(theirs) == config_ours
    again = mo.deserialize(keras.optimizers.serialize(theirs))
    assert type(again) is MultiOptimizer and mo.serialize(again) == config_ours
    assert [type(o).__name__ for o in again.optimizers] == ["Adam", "SGD"]


def test_files_cross_load_and_the_state_needs_the_paths(tmp_path, keras):
    """Keras reads minired's file (model, weights, the optimizer's config; Keras skips the
    state of its own MultiOptimizer files too); minired reads its own file with the state
    (``load_model`` writes the paths down) and Keras' files without it."""
    x, y = data()
    ours = twin_models(keras, by_path)[0]
    ours.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    ours.save(tmp_path / "m.keras")
    with pytest.warns(UserWarning):
        keras_model = keras.saving.load_model(tmp_path / "m.keras")
    assert type(keras_model.optimizer).__name__ == "MultiOptimizer"
    for a, b in zip(ours.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    keras_model.save(tmp_path / "k.keras")
    steps = [int(o.iterations) for o in ours.optimizer.optimizers]
    back = mr.saving.load_model(tmp_path / "m.keras")
    assert type(back.optimizer) is MultiOptimizer and back.optimizer.built
    assert [int(o.iterations) for o in back.optimizer.optimizers] == steps
    for a, b in zip(back.optimizer.variables, ours.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        back = mr.saving.load_model(tmp_path / "k.keras")      # Keras' file: no state
    assert type(back.optimizer) is MultiOptimizer
    assert [int(o.iterations) for o in back.optimizer.optimizers] == [0, 0]
    back.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert [int(o.iterations) for o in back.optimizer.optimizers] == steps


def test_an_optimizer_built_outside_fit_without_the_paths_says_how_to_give_them():
    """``fit`` writes the model's paths down; an OptimizerMap applied by hand to arrays whose
    paths nobody wrote down cannot look them up, and says so (no weight has moved)."""
    mr.utils.set_random_seed(0)
    weights = [np.ones((4, 3), "float32"), np.zeros(3, "float32")]
    before = [w.copy() for w in weights]
    with pytest.raises(ValueError, match="remember_paths"):
        by_path(mo).apply([np.ones_like(w) for w in weights], weights)
    for a, b in zip(weights, before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_ends_with_each_optimizers_moving_averages(keras):
    """fit's last act, finalize_variable_values, goes to each optimizer: the one with
    use_ema puts its averages into its own variables, as in Keras."""
    x, y = data()

    def make(o):
        return o.MultiOptimizer(o.OptimizerMap(
            o.SGD(0.1, use_ema=True, ema_momentum=0.5), {"net/out/.*": o.Adam(0.01)}))

    ours, theirs = twin_models(keras, make)
    remember_paths(ours)
    ours.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    theirs.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    sgd = ours.optimizer.optimizers[1]
    for w, average in zip(sgd._trainable_variables, sgd._model_variables_moving_average,
                          strict=True):
        np.testing.assert_array_equal(w, average)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)   # float32, Keras' tf.function
