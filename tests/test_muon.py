"""Muon against real Keras: the same steps, the same choice of AdamW variables, the same fit.

The Muon step multiplies matrices and takes a norm: sums, which TensorFlow adds in another
order than NumPy, so weights agree to a few units in the last place (ulp) of the largest
value, in float32 and float64; the AdamW variables agree bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from optimizer_twins import data, twin_models

import minired as mr
from minired import optimizers as mo
from minired.optimizers import Muon
from minired.optimizers.variable_paths import keras_paths, remember_paths

#: name -> shape: two Muon matrices (a wide and a tall one), and AdamW variables: a bias, an
#: embedding table (by its name), a 3-d kernel and a scalar.
VARIABLES = {"kernel": (6, 4), "tall": (7, 3), "bias": (4,), "embedding": (5, 3),
             "k3": (3, 4, 5), "s": ()}
STEPS = 6
ULPS = 4     # matrix products and the Frobenius norm are sums (see the module docstring)



def assert_close_in_ulps(ours, theirs, ulps: int) -> None:
    ulp = np.finfo(theirs.dtype).eps * np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ulps * ulp)


CASES = [
    {"learning_rate": 0.1},
    {"learning_rate": 0.05, "nesterov": False, "rms_rate": None, "adam_lr_ratio": 0.1,
     "momentum": 0.9, "weight_decay": 0.1, "adam_weight_decay": None,
     "exclude_layers": ["tall"]},
    {"learning_rate": 0.02, "ns_steps": 3, "exclude_embeddings": False, "adam_beta_1": 0.8,
     "adam_beta_2": 0.95, "epsilon": 1e-3, "muon_a": 3.0, "muon_b": -3.2, "muon_c": 1.2},
]


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", CASES)
def test_steps_match_keras(keras, floatx_of, floatx, kwargs):
    floatx_of(floatx)
    rng = np.random.default_rng(0)
    w0 = [rng.normal(size=s).astype(floatx) for s in VARIABLES.values()]
    # Named variables: Keras' path is the name, and minired's Variable has the same path.
    ours = [mr.Variable(w.copy(), name=n) for w, n in zip(w0, VARIABLES, strict=True)]
    theirs = [keras.Variable(w.copy(), name=n) for w, n in zip(w0, VARIABLES, strict=True)]
    ours_opt, keras_opt = Muon(**kwargs), keras.optimizers.Muon(**kwargs)
    for _ in range(STEPS):
        grads = [rng.normal(size=s).astype(floatx) for s in VARIABLES.values()]
        ours_opt.apply_gradients(zip(grads, ours, strict=True))
        keras_opt.apply_gradients(zip(grads, theirs, strict=True))
    assert ours_opt._uses_adamw == [keras_opt._should_use_adamw(v) for v in theirs]
    for w, v in zip(ours, theirs, strict=True):
        assert w.dtype == floatx
        assert_close_in_ulps(np.asarray(w), v.numpy(), ULPS)
    assert [np.shape(a) for a in ours_opt.variables] == [tuple(b.shape)
                                                         for b in keras_opt.variables]
    for a, b in zip(ours_opt.variables, keras_opt.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), b.numpy())   # m and v: elementwise


def test_which_variables_take_the_adamw_step():
    opt = Muon(exclude_layers=["out.*kernel"])
    variables = [mr.Variable(np.zeros((3, 2)), name=n)
                 for n in ("kernel", "embedding_table", "output_kernel")]
    variables += [np.zeros((3, 2)), np.zeros(3), np.zeros((2, 2, 2))]
    opt.build(variables)
    assert opt._uses_adamw == [False, True, True, False, True, True]
    assert [v.shape for v in opt.variables[2:]] == [
        (3, 2), (3, 2), (3, 2), (3, 2), (3, 2), (3, 2), (3,), (3,), (2, 2, 2), (2, 2, 2)]


def test_each_kind_of_variable_decays_at_its_own_rate():
    """A zero gradient moves neither step, so only the decay w <- w - w·wd·lr is left."""
    kernel, bias = np.full((2, 3), 2.0), np.full(3, 2.0)
    opt = Muon(learning_rate=0.1, weight_decay=0.5, adam_weight_decay=0.25)
    opt.apply_gradients([(np.zeros((2, 3)), kernel), (np.zeros(3), bias)])
    lr = float(np.float32(0.1))            # the learning rate is stored in float32
    np.testing.assert_array_equal(kernel, 2.0 - 2.0 * 0.5 * lr)
    np.testing.assert_array_equal(bias, 2.0 - 2.0 * 0.25 * lr)
    opt = Muon(learning_rate=0.1, weight_decay=None, adam_weight_decay=None)
    opt.apply_gradients([(np.zeros((2, 3)), kernel), (np.zeros(3), bias)])
    np.testing.assert_array_equal(kernel, 2.0 - 2.0 * 0.5 * lr)   # no decay the second time


@pytest.mark.parametrize("shape", [(8, 5), (5, 8), (4, 6, 3)])
def test_newton_schulz_evens_out_the_singular_values(shape):
    """X keeps G's singular vectors (X = U·S'·Vᵀ) and brings every singular value into the
    quintic's band around 1 (it does not converge to exactly 1, by design)."""
    rng = np.random.default_rng(3)
    g = rng.normal(size=shape) * np.logspace(-1, 1, shape[-1])   # very unequal directions
    x = Muon().zeropower_via_newtonschulz5(g, steps=5)
    assert x.shape == g.shape and x.dtype == g.dtype
    singular = np.linalg.svd(x, compute_uv=False)
    assert singular.min() > 0.6 and singular.max() < 1.2      # g's spread over 100x
    u = np.linalg.svd(g, full_matrices=False)[0]
    in_g_columns = u @ np.swapaxes(u, -1, -2) @ x                # the part in G's column space
    np.testing.assert_allclose(in_g_columns, x, atol=1e-12)


def test_newton_schulz_needs_a_matrix():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        Muon().zeropower_via_newtonschulz5(np.ones(3), 5)


def test_one_step_on_a_scaled_orthogonal_gradient():
    """All singular values of G equal: X is G's orthogonal matrix times p(p(...p(s)...)),
    the quintic p(s) = a·s + b·s³ + c·s⁵ applied ns_steps times to s = σ/(||G||_F + 1e-7)."""
    q = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))[0][:, :4]   # QᵀQ = I
    w = np.zeros((6, 4))
    opt = Muon(learning_rate=0.1, weight_decay=None)
    opt.apply_gradients([(3 * q, w)])
    # m = 0 + (g + 0·(μ-1)) = g;  G = g + μ·m = 1.95·g: 4 singular values 5.85, ||G||_F = 11.7
    s = 1.95 * 3 / (1.95 * 3 * 2 + 1e-7)
    for _ in range(5):
        s = 3.4445 * s - 4.7750 * s**3 + 2.0315 * s**5
    lr = float(np.float32(0.1))            # the learning rate is stored in float32
    np.testing.assert_allclose(w, -(lr * s * np.sqrt(6) * 0.2) * q, rtol=0, atol=1e-14)


# --- fit and paths --------------------------------------------------------------------------
def test_paths_are_keras_paths(keras):
    ours, theirs = twin_models(keras, lambda o: o.Muon())
    assert [p for _, p in keras_paths(ours)] == [v.path for v in theirs.weights]


def test_fit_matches_keras_with_an_excluded_layer(keras):
    x, y = data()
    make = lambda o: o.Muon(learning_rate=0.05, exclude_layers=["out"])   # noqa: E731
    ours, theirs = twin_models(keras, make)
    remember_paths(ours)
    h_ours = ours.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    h_theirs = theirs.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    assert ours.optimizer._uses_adamw == [False, True, True, True]
    # float32 through Keras' tf.function and its matmuls: a few ulps apart
    np.testing.assert_allclose(h_ours, h_theirs, rtol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_state_cross_loads_with_keras(tmp_path, keras):
    x, y = data()
    ours = twin_models(keras, lambda o: o.Muon(learning_rate=0.05))[0]
    ours.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    ours.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    theirs = keras_model.optimizer.variables
    # iterations, lr; kernel: m; bias: m, v; kernel: m; bias: m, v
    assert len(theirs) == len(ours.optimizer.variables) == 8
    for a, b in zip(ours.optimizer.variables, theirs, strict=True):
        np.testing.assert_array_equal(np.asarray(a), b.numpy())
    keras_model.save(tmp_path / "k.keras")
    back = mr.saving.load_model(tmp_path / "k.keras")
    assert back.optimizer.get_config() == ours.optimizer.get_config()
    for a, b in zip(back.optimizer.variables, ours.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_state_chosen_by_path_loads_and_training_goes_on(tmp_path, keras):
    """``fit`` and ``load_model`` write the model's paths down themselves: a file whose
    AdamW matrices were chosen by path loads with its state, and training goes on as in
    the model that was saved."""
    x, y = data()
    ours = twin_models(keras, lambda o: o.Muon(learning_rate=0.05, exclude_layers=["out"]))[0]
    ours.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert ours.optimizer._uses_adamw == [False, True, True, True]
    ours.save(tmp_path / "m.keras")
    back = mr.saving.load_model(tmp_path / "m.keras")
    assert back.optimizer.built
    for a, b in zip(back.optimizer.variables, ours.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a, b)
    ours.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    back.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(back.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# --- configuration, names -------------------------------------------------------------------
def test_get_config_and_name_equal_keras(keras):
    kwargs = {"name": "x", "exclude_layers": ["out"], "rms_rate": None, "ns_steps": 3}
    ours, theirs = Muon(**kwargs).get_config(), keras.optimizers.Muon(**kwargs).get_config()
    assert set(ours) <= set(theirs)
    assert {"adam_beta_1", "muon_a", "rms_rate", "exclude_layers", "weight_decay"} <= set(ours)
    assert ours == {key: theirs[key] for key in ours}
    assert Muon.from_config(ours).get_config() == ours
    assert Muon().name.startswith("muon") and keras.optimizers.Muon().name.startswith("muon")


def test_get_by_name_and_serialize(keras):
    assert type(keras.optimizers.get("muon")).__name__ == "Muon"
    assert type(mo.get("muon")) is Muon and type(mo.get("Muon")) is Muon
    opt = Muon(learning_rate=0.25, exclude_layers=["a"], name="o")
    again = mo.deserialize(mo.serialize(opt))
    assert type(again) is Muon and again.get_config() == opt.get_config()
    theirs = keras.optimizers.deserialize(mo.serialize(opt))
    assert theirs.get_config() == {**theirs.get_config(), **opt.get_config()}


def test_compile_by_name_and_fit():
    x, y = data()
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(6, activation="tanh"),
                           mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="muon", loss="categorical_crossentropy")
    losses = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert type(model.optimizer) is Muon and losses[-1] < losses[0]
    assert model.optimizer._uses_adamw == [False, True, False, True]
