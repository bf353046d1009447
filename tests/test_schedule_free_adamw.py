"""ScheduleFreeAdamW against real Keras: the same steps bit for bit, the same fit, the same files.

Keras' update is elementwise, so minired's must land on exactly the same weights and state
after every step, in float32 and float64. ``fit`` runs Keras' step in a tf.function, whose
fused kernels round a few values one ulp apart: there the bound is a few float32 ulps.
"""

from __future__ import annotations

import numpy as np
import pytest
from optimizer_twins import data, twin_models

import minired as mr
from minired import optimizers as mo
from minired.optimizers import ScheduleFreeAdamW

SHAPES = [(20, 10), (10,), (3, 4, 5), ()]
STEPS = 8



CASES = [
    {"learning_rate": 0.1},
    {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3, "warmup_steps": 3,
     "weight_decay": 0.1},
    {"learning_rate": 0.02, "clipnorm": 1.0},
]


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", CASES)
def test_steps_match_keras_bit_for_bit(keras, floatx_of, floatx, kwargs):
    floatx_of(floatx)
    rng = np.random.default_rng(0)
    w0 = [rng.normal(size=s).astype(floatx) for s in SHAPES]
    ours = [w.copy() for w in w0]
    theirs = [keras.Variable(w.copy()) for w in w0]
    ours_opt, keras_opt = ScheduleFreeAdamW(**kwargs), keras.optimizers.ScheduleFreeAdamW(**kwargs)
    for _ in range(STEPS):
        grads = [rng.normal(size=s).astype(floatx) for s in SHAPES]
        ours_opt.apply_gradients(zip(grads, ours, strict=True))
        keras_opt.apply_gradients(zip(grads, theirs, strict=True))
    ulps = 4 if "clipnorm" in kwargs else 0    # ||g|| is a sum: TensorFlow adds in another order
    for w, v in zip(ours, theirs, strict=True):
        assert w.dtype == floatx
        assert_close_in_ulps(w, v.numpy(), ulps)
    assert len(ours_opt.variables) == len(keras_opt.variables) == 2 + 2 * len(SHAPES)
    for a, b in zip(ours_opt.variables, keras_opt.variables, strict=True):
        assert_close_in_ulps(np.asarray(a), b.numpy(), ulps)


def assert_close_in_ulps(ours, theirs, ulps: int) -> None:
    """Equal bit for bit (``ulps = 0``), or within ``ulps`` units in the last place of the
    array's largest value."""
    if ulps == 0 or theirs.dtype.kind != "f":
        np.testing.assert_array_equal(ours, theirs)
    else:
        ulp = np.finfo(theirs.dtype).eps * np.abs(theirs).max()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=ulps * ulp)


def test_first_step_puts_the_weights_on_z():
    """At t = 1 the average x is z itself, so y = z = w - lr·g/(|g| + eps)."""
    w = np.array([1.0, -2.0], dtype="float32")
    opt = ScheduleFreeAdamW(learning_rate=0.1, epsilon=0.0)
    opt.apply_gradients([(np.array([3.0, -0.5], dtype="float32"), w)])
    np.testing.assert_allclose(w, [0.9, -1.9], rtol=1e-6)
    np.testing.assert_array_equal(opt._momentums[0], w)


def test_z_starts_at_the_weights_and_v_at_zero():
    w = np.array([[1.0, 2.0]], dtype="float32")
    opt = ScheduleFreeAdamW()
    opt.build([w])
    np.testing.assert_array_equal(opt._momentums[0], w)
    assert opt._momentums[0] is not w
    np.testing.assert_array_equal(opt._velocities[0], 0)


def test_warmup_grows_the_learning_rate_linearly():
    """With warmup_steps=4 the first z step is a quarter of the step without warmup."""
    steps = []
    for warmup in (0, 4):
        w = np.zeros(3)
        opt = ScheduleFreeAdamW(learning_rate=0.1, warmup_steps=warmup)
        opt.apply_gradients([(np.ones(3), w)])
        steps.append(opt._momentums[0].copy())
    np.testing.assert_allclose(steps[1], steps[0] / 4, rtol=1e-12)


def test_an_update_in_blocks_is_the_update_at_once(monkeypatch):
    from minired.optimizers import optimizer as optimizer_module

    rng = np.random.default_rng(1)
    w0, grads = rng.normal(size=5000), [rng.normal(size=5000) for _ in range(3)]
    results = []
    for block_bytes in (optimizer_module.BLOCK_BYTES, 800):
        monkeypatch.setattr(optimizer_module, "BLOCK_BYTES", block_bytes)
        w, opt = w0.copy(), ScheduleFreeAdamW(learning_rate=0.1)
        for g in grads:
            opt.apply([g], [w])
        results.append(w)
    np.testing.assert_array_equal(results[0], results[1])


# --- fit: what the weights mean -------------------------------------------------------------
def test_fit_and_evaluate_match_keras(keras):
    """fit trains at y and evaluate reads y, in both (Keras' trainer never swaps in x)."""
    x, y = data()
    ours, theirs = twin_models(keras, lambda o: o.ScheduleFreeAdamW(0.01))
    theirs.optimizer.build(theirs.trainable_variables)   # z from the weights (see the class)
    h_ours = ours.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    h_theirs = theirs.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    # float32 through Keras' tf.function: a few ulps apart
    np.testing.assert_allclose(h_ours, h_theirs, rtol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0),
                               rtol=1e-6)


def test_keras_fit_with_an_unbuilt_optimizer_starts_z_at_zero(keras):
    """The deliberate difference: Keras' TensorFlow fit loses build's copy of the weights
    into z, so its first step puts every weight at about ±lr. minired starts z at w."""
    x, y = data()
    ours, theirs = twin_models(keras, lambda o: o.ScheduleFreeAdamW(0.1))
    ours.fit(x[:4], y[:4], batch_size=4, shuffle=False, verbose=0)
    theirs.fit(x[:4], y[:4], batch_size=4, shuffle=False, verbose=0)
    # |w| = lr·|g|/(|g| + eps) after Keras' first step: 0.1, a little less for a tiny |g|
    kernel = np.abs(theirs.get_weights()[0])
    assert kernel.min() > 0.0999 and kernel.max() <= np.float32(0.1)
    assert np.abs(np.abs(ours.get_weights()[0]) - 0.1).max() > 0.1


# --- configuration, names, files ------------------------------------------------------------
def test_get_config_and_name_equal_keras(keras):
    ours = ScheduleFreeAdamW(name="x", warmup_steps=5).get_config()
    theirs = keras.optimizers.ScheduleFreeAdamW(name="x", warmup_steps=5).get_config()
    assert {"beta_1", "beta_2", "epsilon", "warmup_steps", "learning_rate"} <= set(ours)
    assert set(ours) <= set(theirs)
    assert ours == {key: theirs[key] for key in ours}
    assert ScheduleFreeAdamW.from_config(ours).get_config() == ours
    # Keras' snake_case of the class name (each library numbers repeats on its own)
    assert ScheduleFreeAdamW().name.startswith("schedule_free_adam_w")
    assert keras.optimizers.ScheduleFreeAdamW().name.startswith("schedule_free_adam_w")


def test_get_by_name_and_serialize(keras):
    assert type(keras.optimizers.get("schedulefreeadamw")).__name__ == "ScheduleFreeAdamW"
    assert type(mo.get("schedulefreeadamw")) is ScheduleFreeAdamW
    assert type(mo.get("ScheduleFreeAdamW")) is ScheduleFreeAdamW
    opt = ScheduleFreeAdamW(learning_rate=0.25, warmup_steps=2, name="o")
    again = mo.deserialize(mo.serialize(opt))
    assert type(again) is ScheduleFreeAdamW and again.get_config() == opt.get_config()
    theirs = keras.optimizers.deserialize(mo.serialize(opt))
    assert theirs.get_config() == {**theirs.get_config(), **opt.get_config()}


def test_state_cross_loads_with_keras(tmp_path, keras):
    x, y = data()
    model = twin_models(keras, lambda o: o.ScheduleFreeAdamW(0.01))[0]
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    theirs = keras_model.optimizer.variables
    assert len(theirs) == len(model.optimizer.variables) == 10
    for a, b in zip(model.optimizer.variables, theirs, strict=True):
        np.testing.assert_array_equal(np.asarray(a), b.numpy())
    keras_model.save(tmp_path / "k.keras")
    back = mr.saving.load_model(tmp_path / "k.keras")
    assert back.optimizer.get_config() == model.optimizer.get_config()
    for a, b in zip(back.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
