"""The shared optimizer options Keras 3 has: EMA of the weights, gradient accumulation and
loss scaling (``loss_scale_factor``, ``LossScaleOptimizer``), and ``SwapEMAWeights``.

First the rules read without Keras (what a step does, in small numbers), then the same steps,
fits and files run in both libraries and compared.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minired as mr
from minired import optimizers as mo
from minired.optimizers import variable_groups

SHAPES = [(3, 2), (2,)]


def problem(steps: int = 5, dtype: str = "float32", seed: int = 0):
    """Starting weights and ``steps`` rounds of gradients."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return weights, grads


def run(optimizer, weights, grads) -> list[np.ndarray]:
    variables = [w.copy() for w in weights]
    for round_grads in grads:
        optimizer.apply_gradients(zip(round_grads, variables, strict=True))
    return variables


# -- the rules, without Keras ----------------------------------------------------------------

def test_ema_starts_as_the_weights_then_averages_them():
    w = np.array([1.0, 2.0])
    opt = mo.SGD(learning_rate=0.5, use_ema=True, ema_momentum=0.75)
    opt.apply([np.array([1.0, 1.0])], [w])                 # w = [0.5, 1.5]
    average = opt._model_variables_moving_average[0]
    np.testing.assert_array_equal(average, [0.5, 1.5])     # m = 0 at the first step: a copy
    opt.apply([np.array([1.0, 1.0])], [w])                 # w = [0, 1]
    np.testing.assert_array_equal(average, [0.75 * 0.5 + 0.25 * 0.0, 0.75 * 1.5 + 0.25 * 1.0])
    np.testing.assert_array_equal(w, [0.0, 1.0])           # the weights are not touched
    opt.finalize_variable_values([w])                      # fit's last act
    np.testing.assert_array_equal(w, average)


def test_ema_overwrite_frequency_copies_every_k_steps():
    w = np.array([0.0])
    opt = mo.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    opt.apply([np.array([-1.0])], [w])     # w = 1, avg = 1 (copy); step 1 of 2: kept
    assert w[0] == 1.0
    opt.apply([np.array([-1.0])], [w])     # w = 2, avg = 0.5·1 + 0.5·2 = 1.5; step 2: w <- avg
    assert w[0] == 1.5
    opt.apply([np.array([-1.0])], [w])     # w = 2.5, avg = 0.5·1.5 + 0.5·2.5 = 2
    assert w[0] == 2.5


def test_gradient_accumulation_updates_every_k_calls_with_the_mean():
    w = np.array([0.0, 0.0])
    opt = mo.SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    opt.apply([np.array([1.0, 2.0])], [w])
    opt.apply([np.array([2.0, 4.0])], [w])
    np.testing.assert_array_equal(w, [0.0, 0.0])           # nothing moves yet
    np.testing.assert_array_equal(opt._accumulated_gradients[0], [3.0, 6.0])
    assert int(opt.iterations) == 0 and int(opt._iterations) == 2
    opt.apply([np.array([6.0, 0.0])], [w])                 # the 3rd call: mean [3, 2]
    np.testing.assert_array_equal(w, [-3.0, -2.0])
    np.testing.assert_array_equal(opt._accumulated_gradients[0], [0.0, 0.0])
    assert int(opt.iterations) == 1 and int(opt._iterations) == 3


def test_loss_scale_factor_divides_the_gradients():
    w = np.array([1.0])
    opt = mo.SGD(learning_rate=1.0, loss_scale_factor=4.0)
    assert opt.scale_loss(0.5) == 2.0
    opt.apply([np.array([2.0])], [w])                      # g = 2 / 4
    assert w[0] == 0.5
    assert mo.SGD().scale_loss(0.5) == 0.5


def test_variables_order_averages_then_sums_then_slots():
    weights, grads = problem(1)
    opt = mo.Adam(use_ema=True, gradient_accumulation_steps=2)
    variables = run(opt, weights, grads)
    state = opt.variables
    assert [np.shape(v) for v in state] == [(), (), (3, 2), (2,), (3, 2), (2,),
                                            (3, 2), (3, 2), (2,), (2,)]
    assert state[2] is opt._model_variables_moving_average[0]
    assert state[4] is opt._accumulated_gradients[0]
    np.testing.assert_array_equal(state[2], variables[0])   # no update yet: EMA copies w


@pytest.mark.parametrize("kwargs, message", [
    ({"gradient_accumulation_steps": 1}, "`gradient_accumulation_steps` must be an integer >= 2"),
    ({"gradient_accumulation_steps": 2.5}, "`gradient_accumulation_steps` must be an integer"),
    ({"use_ema": True, "ema_momentum": 1.5}, r"`ema_momentum` must be a number in \[0, 1\]"),
    ({"use_ema": True, "ema_overwrite_frequency": 0.5},
     "`ema_overwrite_frequency` must be an integer >= 1 or None"),
])
def test_bad_arguments_are_value_errors_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=rf"^Adam: {message}"):
        mo.Adam(**kwargs)


def test_loss_scale_factor_must_be_a_number():
    with pytest.raises(TypeError, match="`loss_scale_factor` must be a number or None"):
        mo.SGD(loss_scale_factor="8")


def test_config_round_trip_keeps_the_options():
    opt = mo.Adam(use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=5,
                  loss_scale_factor=2.0, gradient_accumulation_steps=4)
    config = opt.get_config()
    assert {k: config[k] for k in ("use_ema", "ema_momentum", "ema_overwrite_frequency",
                                   "loss_scale_factor", "gradient_accumulation_steps")} == {
        "use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 5,
        "loss_scale_factor": 2.0, "gradient_accumulation_steps": 4}
    assert mo.Adam.from_config(config).get_config() == config


@pytest.mark.parametrize("make_copy", [copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))])
def test_a_copy_goes_on_as_the_original(make_copy):
    weights, grads = problem(5)
    opt = mo.Adam(learning_rate=0.1, use_ema=True, gradient_accumulation_steps=2)
    variables = run(opt, weights, grads[:3])
    twin, twin_variables = make_copy((opt, variables))
    for g in grads[3:]:
        opt.apply(g, variables)
        twin.apply(g, twin_variables)
    for a, b in zip(opt.variables + variables, twin.variables + twin_variables, strict=True):
        np.testing.assert_array_equal(a, b)


def test_grouped_small_variables_give_the_same_numbers(monkeypatch):
    """The lead's variable groups (small variables updated together) with EMA and
    accumulation on: the same weights and state as each variable on its own."""
    weights, grads = problem(6)

    def make():
        return mo.Adam(learning_rate=0.1, use_ema=True, ema_overwrite_frequency=2,
                       gradient_accumulation_steps=2)

    grouped = make()
    ours = run(grouped, weights, grads)
    assert grouped._groups
    monkeypatch.setattr(variable_groups, "GROUP_BYTES", 0)
    alone = make()
    expected = run(alone, weights, grads)
    assert not alone._groups
    for a, b in zip(ours + grouped.variables, expected + alone.variables, strict=True):
        np.testing.assert_array_equal(a, b)


def test_loss_scale_optimizer_skips_overflow_and_grows():
    w = np.array([1.0], dtype="float32")
    opt = mo.LossScaleOptimizer(mo.SGD(learning_rate=1.0), initial_scale=4.0,
                                dynamic_growth_steps=2)
    assert opt.scale_loss(1.0) == 4.0                       # before build: initial_scale
    opt.apply([np.array([2.0], "float32")], [w])            # g = 2/4
    assert (w[0], float(opt.dynamic_scale), int(opt.step_counter)) == (0.5, 4.0, 1)
    opt.apply([np.array([4.0], "float32")], [w])            # g = 1; 2nd good step: s doubles
    assert (w[0], float(opt.dynamic_scale), int(opt.step_counter)) == (-0.5, 8.0, 0)
    opt.apply([np.array([np.nan], "float32")], [w])         # skipped; s halves
    assert (w[0], float(opt.dynamic_scale), int(opt.step_counter)) == (-0.5, 4.0, 0)
    assert int(opt.iterations) == 2                         # the inner optimizer's
    assert opt.scale_loss(1.0) == 4.0
    assert [np.shape(v) for v in opt.variables] == [()] * 6


def test_loss_scale_optimizer_refuses_shared_arguments():
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        mo.LossScaleOptimizer(mo.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        mo.LossScaleOptimizer(mo.SGD(), dynamic=False)
    assert mo.LossScaleOptimizer(mo.SGD(loss_scale_factor=2.0)).inner_optimizer \
        .loss_scale_factor is None


def test_swap_ema_weights_needs_use_ema():
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    with pytest.raises(ValueError, match="SwapEMAWeights must be used when `use_ema=True`"):
        model.fit(x, y, validation_data=(x, y), verbose=0,
                  callbacks=[mr.callbacks.SwapEMAWeights()])


# -- against Keras ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


#: float32 results agree with TensorFlow to the last bit here; 1e-6 leaves room for one ulp.
TOLERANCE = {"float32": 1e-6, "float64": 1e-12}

STEP_CONFIGS = [
    ("SGD", {"momentum": 0.9, "use_ema": True, "ema_momentum": 0.8}),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": 3, "weight_decay": 0.01}),
    ("Adam", {"gradient_accumulation_steps": 3, "clipnorm": 1.0}),
    ("Nadam", {"gradient_accumulation_steps": 2, "use_ema": True, "ema_overwrite_frequency": 2}),
    ("RMSprop", {"loss_scale_factor": 3.0, "use_ema": True}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", STEP_CONFIGS, ids=[f"{n}{k}" for n, k in STEP_CONFIGS])
def test_steps_match_keras(keras, name, kwargs, dtype):
    """Weights, EMA weights, every optimizer variable (Keras' order) and iterations."""
    with keras.precision(dtype):
        weights, grads = problem(7, dtype)
        ours = getattr(mo, name)(learning_rate=0.05, **kwargs)
        theirs = getattr(keras.keras.optimizers, name)(learning_rate=0.05, **kwargs)
        mine = [w.copy() for w in weights]
        keras_weights = [keras.keras.Variable(w) for w in weights]
        for round_grads in grads:
            ours.apply_gradients(zip(round_grads, mine, strict=True))
            theirs.apply_gradients(zip(round_grads, keras_weights, strict=True))
            assert int(ours.iterations) == int(theirs.iterations)
            for a, b in zip(mine, keras_weights, strict=True):
                np.testing.assert_allclose(a, b.numpy(), rtol=TOLERANCE[dtype], atol=1e-12)
            assert len(ours.variables) == len(theirs.variables)
            for a, b in zip(ours.variables, theirs.variables, strict=True):
                assert np.asarray(a).dtype == b.numpy().dtype
                np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=TOLERANCE[dtype],
                                           atol=1e-12, err_msg=b.name)
        if kwargs.get("use_ema"):
            for a, b in zip(ours._model_variables_moving_average,
                            theirs._model_variables_moving_average, strict=True):
                np.testing.assert_allclose(a, b.numpy(), rtol=TOLERANCE[dtype], atol=1e-12)


def test_loss_scale_optimizer_matches_keras(keras):
    weights, grads = problem(6)
    grads[3][0][0, 0] = np.inf      # one overflowing step: skipped, the scale halves
    ours = mo.LossScaleOptimizer(mo.Adam(0.1, name="inner"), initial_scale=8.0,
                                 dynamic_growth_steps=2)
    theirs = keras.keras.optimizers.LossScaleOptimizer(keras.keras.optimizers.Adam(0.1,
                                                                                   name="inner"),
                                                       initial_scale=8.0,
                                                       dynamic_growth_steps=2)
    mine = run(ours, weights, grads)
    keras_weights = [keras.keras.Variable(w) for w in weights]
    for g in grads:
        theirs.apply_gradients(zip(g, keras_weights, strict=True))
    for a, b in zip(mine, keras_weights, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-6)
    assert [np.asarray(v).dtype for v in ours.variables] == \
        [v.numpy().dtype for v in theirs.variables]
    for a, b in zip(ours.variables, theirs.variables, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-6)
    assert ours.get_config()["inner_optimizer"]["config"] == \
        theirs.get_config()["inner_optimizer"]["config"]


def data(dtype: str):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 3)).astype(dtype)
    y = rng.normal(size=(24, 2)).astype(dtype)
    weights = [(0.5 * rng.normal(size=(3, 2))).astype(dtype), np.zeros(2, dtype)]
    return x, y, weights


def fit_both(keras, make, callbacks=lambda c: [], epochs=3, dtype="float32"):
    """The same fit in both libraries; returns [(model, history dict), ...] (minired first)."""
    x, y, weights = data(dtype)
    results = []
    with keras.precision(dtype):
        for lib in (mr, keras.keras):
            model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
            model.set_weights(weights)
            model.compile(optimizer=make(lib.optimizers), loss="mse")
            history = model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0,
                                validation_data=(x[:8], y[:8]),
                                callbacks=callbacks(lib.callbacks))
            results.append((model, history.history))
    return results


FITS = {
    "ema_swap": (lambda o: o.Adam(0.05, use_ema=True, ema_momentum=0.6),
                 lambda c: [c.SwapEMAWeights()]),
    "ema_swap_on_epoch": (lambda o: o.SGD(0.1, use_ema=True, ema_momentum=0.5),
                          lambda c: [c.SwapEMAWeights(swap_on_epoch=True)]),
    "accumulation_loss_scale": (lambda o: o.SGD(0.1, momentum=0.5, loss_scale_factor=3.0,
                                                gradient_accumulation_steps=2),
                                lambda c: []),
    "loss_scale_optimizer": (lambda o: o.LossScaleOptimizer(o.RMSprop(0.01, use_ema=True),
                                                            dynamic_growth_steps=3),
                             lambda c: [c.SwapEMAWeights()]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", FITS)
def test_fit_matches_keras(keras, name, dtype):
    """History (loss before the update, unscaled; val_loss of the EMA weights when swapped)
    and the final weights (the EMA ones with use_ema)."""
    (ours, history), (theirs, keras_history) = fit_both(keras, *FITS[name], dtype=dtype)
    assert history.keys() == keras_history.keys()
    # several epochs of fit in float32: rounding of the forward/backward sums adds up
    tolerance = {"float32": 1e-5, "float64": 1e-12}[dtype]
    for key in history:
        np.testing.assert_allclose(history[key], keras_history[key], rtol=tolerance, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=1e-7)
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=tolerance, atol=1e-7)


def test_predict_leaves_the_ema_weights_in_the_model_as_keras(keras):
    """Keras' on_predict_end swaps back only when the EMA weights are not in the model:
    after predict the model holds the averages, and the averages the trained weights."""
    results = fit_both(keras, *FITS["ema_swap"], epochs=1)
    x, y, _ = data("float32")
    after = []
    for (model, _), callbacks in zip(results, (mr.callbacks, keras.keras.callbacks),
                                     strict=True):
        model.train_on_batch(x[:8], y[:8])      # weights and averages now differ
        optimizer = model.optimizer
        trained = [np.array(w) for w in model.get_weights()]
        averages = [np.array(a) for a in optimizer._model_variables_moving_average]
        assert not np.array_equal(trained[0], averages[0])
        model.predict(x, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
        now = [np.array(w) for w in model.get_weights()]
        swapped = [np.array(a) for a in optimizer._model_variables_moving_average]
        for w, a, w_now, a_now in zip(trained, averages, now, swapped, strict=True):
            # a swap by addition: exact up to the rounding of (w + a) - a
            np.testing.assert_allclose(w_now, a, rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(a_now, w, rtol=1e-6, atol=1e-6)
        after.append(now + swapped)
    for a, b in zip(*after, strict=True):
        np.testing.assert_array_equal(a, b)


def without_names(config):
    """``config`` without its ``name`` keys (at any depth): auto names differ by counter."""
    if isinstance(config, dict):
        return {k: without_names(v) for k, v in config.items() if k != "name"}
    return config


@pytest.mark.parametrize("make", [
    lambda o: o.Adam(0.05, use_ema=True, gradient_accumulation_steps=2),
    lambda o: o.LossScaleOptimizer(o.SGD(0.1, momentum=0.9, use_ema=True),
                                   dynamic_growth_steps=2),
], ids=["adam", "loss_scale_optimizer"])
def test_keras_files_cross_load(keras, make, tmp_path):
    """minired saves after a fit, Keras loads (config and every optimizer variable) and
    both go on training alike; and the other way round."""
    x, y, _ = data("float32")
    (ours, _), (theirs, _) = fit_both(keras, make, epochs=1)
    ours.save(tmp_path / "mr.keras")
    theirs.save(tmp_path / "k.keras")
    from_ours = keras.keras.saving.load_model(tmp_path / "mr.keras")
    from_keras = mr.saving.load_model(tmp_path / "k.keras")
    for loaded, original in ((from_ours, ours), (from_keras, theirs)):
        assert type(loaded.optimizer).__name__ == type(original.optimizer).__name__
        assert len(loaded.optimizer.variables) == len(original.optimizer.variables)
        for a, b in zip(loaded.optimizer.variables, original.optimizer.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert without_names(from_keras.optimizer.get_config()) == \
        without_names(theirs.optimizer.get_config())
    assert without_names(from_ours.optimizer.get_config()) == \
        without_names(ours.optimizer.get_config())
    # the loaded models go on training as the originals
    for model in (ours, theirs, from_ours, from_keras):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b, c, d in zip(ours.get_weights(), theirs.get_weights(), from_ours.get_weights(),
                          from_keras.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(np.asarray(c), np.asarray(b))   # Keras reloaded = Keras
        np.testing.assert_array_equal(np.asarray(d), a)               # minired reloaded = minired
