"""The rest of Keras' optimizers (Adamax, Adadelta, Ftrl, Lion, Lamb, Adafactor) and the
CosineDecayRestarts schedule, against real Keras.

Each optimizer runs many steps on random float32 and float64 weights and gradients next to
``keras.optimizers.<Name>`` with the same settings, and must land on the same weights and the
same state, bit for bit where the arithmetic is elementwise (as Adam in
``tests/test_optimizers.py``). Three places cannot be bit for bit, each for a named reason,
and get a bound of a few units in the last place (ulp) of the array's largest value:

- a sum over a whole array (Lamb's norms, Adafactor's means, ``clipnorm``'s norm): TensorFlow
  adds the elements in another order than NumPy;
- Ftrl's ``n^p`` on arrays: TensorFlow's ``pow`` kernel is Eigen's vectorised one, one ulp
  off the correctly rounded value on about a quarter of the elements (measured: 27% in
  float32, 17% in float64, for p = 0.5), where NumPy's is closer;
- the schedule's float32 ``cos``, as for CosineDecay in ``tests/test_optimizers.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired import optimizers as mo
from minired.optimizers import schedules

STEPS = 12
SHAPES = [(20, 10), (10,), (3, 4, 5), ()]

NEW_CLASSES = (mo.Adamax, mo.Adadelta, mo.Ftrl, mo.Lion, mo.Lamb, mo.Adafactor)

#: name -> how many ulp of the largest value the result may be off, and why (see the module
#: docstring); 0 means bit for bit.
ULPS = {
    "Adamax": 0, "Adadelta": 0, "Lion": 0,
    "Lamb": 4,        # ||w|| and ||u|| are sums over the variable
    "Adafactor": 4,   # rms(w), rms(u) and the row/column means are sums
    "Ftrl": 8,        # TensorFlow's array pow; the error enters z, which sums it over steps
}
CLIPNORM_ULPS = 4     # ||g|| is a sum (tests/test_optimizers.py uses the same bound)

KERAS_CASES = [
    ("Adamax", {"learning_rate": 0.01}),
    ("Adamax", {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3,
                "weight_decay": 0.1}),
    ("Adamax", {"learning_rate": 0.05, "clipnorm": 1.0}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 0.5, "rho": 0.7, "epsilon": 1e-4, "clipvalue": 0.5}),
    ("Adadelta", {"learning_rate": 1.0, "weight_decay": 0.2, "global_clipnorm": 2.0}),
    ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.7, "beta_2": 0.9, "weight_decay": 0.3}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 1.0, "clipnorm": 1.0}),
    ("Lamb", {"learning_rate": 0.01}),
    ("Lamb", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-3,
              "weight_decay": 0.1}),
    ("Lamb", {"learning_rate": 0.02, "clipnorm": 0.5}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.3,
              "initial_accumulator_value": 0.3, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.1, "l2_shrinkage_regularization_strength": 0.05,
              "beta": 0.2}),
    ("Ftrl", {"learning_rate": 0.2, "l1_regularization_strength": 0.5, "weight_decay": 0.1,
              "clipnorm": 2.0}),
    ("Adafactor", {"learning_rate": 0.01}),
    ("Adafactor", {"learning_rate": 0.5, "beta_2_decay": -0.6, "epsilon_1": 1e-20,
                   "epsilon_2": 0.01, "clip_threshold": 0.5, "relative_step": False,
                   "weight_decay": 0.1}),
    ("Adafactor", {"learning_rate": 0.05, "clipnorm": 1.0}),
    # A schedule drives each step size (the optimizer sees schedule(iterations)).
    ("Adamax", {"learning_rate": ("CosineDecayRestarts", (0.05, 3),
                                  {"t_mul": 1.5, "m_mul": 0.8, "alpha": 0.1})}),
    ("Lion", {"learning_rate": ("CosineDecayRestarts", (0.01, 2), {})}),
    ("Ftrl", {"learning_rate": ("CosineDecayRestarts", (0.2, 3), {"m_mul": 0.5}),
              "beta": 0.1}),
    ("Adafactor", {"learning_rate": ("CosineDecayRestarts", (0.5, 4), {"t_mul": 1.0})}),
]



def make_problem(dtype: str, seed: int = 1):
    """Starting weights and STEPS rounds of gradients (a kernel, a bias, a 3-d and a 0-d
    variable)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return weights, grads


def build(name: str, kwargs: dict, module, schedule_module):
    args = dict(kwargs)
    if isinstance(args["learning_rate"], tuple):
        schedule_name, schedule_args, schedule_kwargs = args["learning_rate"]
        args["learning_rate"] = getattr(schedule_module, schedule_name)(*schedule_args,
                                                                        **schedule_kwargs)
    return getattr(module, name)(**args)


def assert_close_in_ulps(ours, theirs, ulps: int) -> None:
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    if ulps == 0 or theirs.dtype.kind != "f":   # the step counter is an int64
        np.testing.assert_array_equal(ours, theirs)   # bit for bit
    else:
        ulp = np.finfo(theirs.dtype).eps * np.abs(theirs).max()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=ulps * ulp)


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", KERAS_CASES)
def test_matches_keras(keras, floatx_of, floatx, name, kwargs):
    floatx_of(floatx)
    w0, grads = make_problem(floatx)
    keras_vars = [keras.Variable(w.copy()) for w in w0]
    keras_opt = build(name, kwargs, keras.optimizers, keras.optimizers.schedules)
    ours = [w.copy() for w in w0]
    opt = build(name, kwargs, mo, schedules)
    for gs in grads:
        keras_opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs],
                                      keras_vars, strict=True))
        opt.apply_gradients(zip(gs, ours, strict=True))
    ulps = ULPS[name]
    if ulps == 0 and ("clipnorm" in kwargs or "global_clipnorm" in kwargs):
        ulps = CLIPNORM_ULPS
    for v, k in zip(ours, keras_vars, strict=True):
        assert_close_in_ulps(v, np.asarray(k.numpy()), ulps)
    # The state too, in Keras' order: what a .keras file holds.
    assert len(opt.variables) == len(keras_opt.variables)
    for v, k in zip(opt.variables, keras_opt.variables, strict=True):
        assert_close_in_ulps(np.asarray(v), np.asarray(k.numpy()), ulps)


def test_each_optimizer_moves_the_weights_differently():
    # Guards the comparison above against an optimizer that does nothing, or another's rule.
    w0, grads = make_problem("float64")
    finals = []
    for cls in NEW_CLASSES:
        ours = [w.copy() for w in w0]
        opt = cls(learning_rate=0.1)
        for gs in grads:
            opt.apply_gradients(zip(gs, ours, strict=True))
        assert not np.allclose(ours[0], w0[0])
        finals.append(ours[0])
    for i in range(len(finals)):
        for j in range(i):
            assert not np.allclose(finals[i], finals[j])


# --- the update rules on numbers worked out by hand -----------------------------------------
def step_once(opt, w, g):
    w = np.array(w, dtype="float64")
    opt.apply_gradients([(np.array(g, dtype="float64"), w)])
    return w


def test_adamax_first_step_is_lr_times_sign():
    # m = 0.5·g, u = |g|, 1 - b1^1 = 0.5: the step is lr·g/|g| (eps=0 to make it exact)
    w = step_once(mo.Adamax(0.5, beta_1=0.5, epsilon=0.0), [1.0, 1.0], [4.0, -0.25])
    np.testing.assert_allclose(w, [0.5, 1.5], rtol=1e-15)


def test_adamax_norm_is_a_running_maximum():
    opt = mo.Adamax(0.1, beta_2=0.5)
    w = np.zeros(1)
    for g in (8.0, 1.0, 1.0):
        opt.apply_gradients([(np.array([g]), w)])
    np.testing.assert_array_equal(opt._norms[0], [2.0])    # max(0.5·max(0.5·8, 1), 1)


def test_lion_steps_by_lr_in_the_sign_of_the_interpolation():
    opt = mo.Lion(0.5, beta_1=0.5, beta_2=0.5)
    w = np.zeros(2)
    opt.apply_gradients([(np.array([1.0, -1.0]), w)])   # m = 0: sign(0.5·g)
    np.testing.assert_array_equal(w, [-0.5, 0.5])
    np.testing.assert_array_equal(opt._momentums[0], [0.5, -0.5])
    opt.apply_gradients([(np.array([-0.25, 0.0]), w)])  # sign(0.25 - 0.125), sign(-0.25)
    np.testing.assert_array_equal(w, [-1.0, 1.0])


def test_ftrl_l1_makes_weights_exactly_zero():
    opt = mo.Ftrl(0.5, initial_accumulator_value=0.0, l1_regularization_strength=1.0)
    w = step_once(opt, [0.0, 0.0], [3.0, 0.5])
    # n' = 9, z = 3, q = 3/0.5 = 6: w = (1 - 3)/6; |z| = 0.5 <= l1 gives exactly 0
    np.testing.assert_allclose(w, [-1 / 3, 0.0], rtol=1e-15)
    assert w[1] == 0.0


def test_lamb_step_has_the_norm_of_lr_times_the_weights():
    w0 = np.array([3.0, 4.0, 0.0])
    w = step_once(mo.Lamb(0.125), w0, [1.0, -2.0, 0.5])
    np.testing.assert_allclose(np.linalg.norm(w - w0), 0.125 * 5.0, rtol=1e-12)


def test_adafactor_factors_the_second_moment_of_a_matrix():
    opt = mo.Adafactor(0.1)
    w = np.ones((3, 2))
    g = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    opt.apply_gradients([(g, w)])
    r, c, v = opt._r[0], opt._c[0], opt._v[0]
    assert r.shape == (3,) and c.shape == (2,)
    b2 = 1 - 1.0 ** -0.8   # b2 = 0 at the first step: r and c are the means of g² + eps1
    np.testing.assert_allclose(r, (1 - b2) * np.mean(g**2 + 1e-30, axis=1), rtol=1e-15)
    np.testing.assert_allclose(c, np.mean(g**2, axis=0), rtol=1e-15)
    np.testing.assert_allclose(v, np.outer(r / r.mean(), c), rtol=1e-15)


# --- configuration, names, errors -----------------------------------------------------------
@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_get_config_equals_keras(keras, cls):
    ours = cls(name="x").get_config()
    theirs = getattr(keras.optimizers, cls.__name__)(name="x").get_config()
    assert set(ours) == set(theirs)     # the shared options (use_ema...) included
    assert ours == {key: theirs[key] for key in ours}
    assert cls.from_config(ours).get_config() == ours


def test_non_default_config_round_trips_through_keras(keras):
    opt = mo.Ftrl(0.1, learning_rate_power=-0.3, l1_regularization_strength=0.2, beta=0.5,
                  clipnorm=1.0, name="f")
    theirs = keras.optimizers.Ftrl.from_config(opt.get_config()).get_config()
    assert opt.get_config() == {key: theirs[key] for key in opt.get_config()}
    schedule = schedules.CosineDecayRestarts(0.1, 3, t_mul=1.5, m_mul=0.5, alpha=0.1)
    opt = mo.Lion(schedule, beta_2=0.95)
    again = mo.Lion.from_config(opt.get_config())
    assert type(again._learning_rate) is schedules.CosineDecayRestarts
    assert again.get_config() == opt.get_config()


def name_stem(name: str) -> str:
    """``"lion_3"`` -> ``"lion"``: each library numbers repeated names on its own."""
    stem, _, number = name.rpartition("_")
    return stem if stem and number.isdigit() else name


@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_default_name_is_keras_snake_case(keras, cls):
    theirs = getattr(keras.optimizers, cls.__name__)().name
    assert name_stem(cls().name) == name_stem(theirs) == cls.__name__.lower()


@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_get_by_name_and_serialize(keras, cls):
    name = cls.__name__.lower()
    if name in keras.src.optimizers.ALL_OBJECTS_DICT:
        assert type(mo.get(name)) is cls
        assert type(mo.get(cls.__name__)) is cls
    else:   # Lamb: Keras has no string name for it, and neither has minired
        with pytest.raises(ValueError):
            keras.optimizers.get(name)
        with pytest.raises(ValueError, match="optimizer"):
            mo.get(name)
    opt = cls(learning_rate=0.25, name="o")
    again = mo.deserialize(mo.serialize(opt))
    assert type(again) is cls and again.get_config() == opt.get_config()
    assert "{{" not in cls.__doc__ and "global_clipnorm: clip all gradients" in cls.__doc__


@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_a_step_allocates_no_array_the_size_of_a_variable(cls):
    import tracemalloc

    w = np.zeros(100_000)
    g = np.full(100_000, 0.5)
    opt = cls(learning_rate=0.01)
    opt.apply([g], [w])
    tracemalloc.start()
    try:
        opt.apply([g], [w])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < w.nbytes / 10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_an_update_in_blocks_is_the_update_at_once(monkeypatch, cls, dtype):
    """The elementwise updates run block by block (``cache_blocks``); the same numbers as
    on whole arrays, bit for bit, also for a variable that is not C-contiguous."""
    from minired.optimizers import optimizer as optimizer_module

    rng = np.random.default_rng(5)
    start = [rng.standard_normal(shape).astype(dtype) for shape in [(30, 70), (7,), (1000,)]]
    grads = [[rng.standard_normal(w.shape).astype(dtype) for w in start] for _ in range(3)]

    def run(block_bytes):
        monkeypatch.setattr(optimizer_module, "BLOCK_BYTES", block_bytes)
        weights = [w.copy() for w in start]
        weights[2] = np.zeros(2 * weights[2].size, dtype)[::2]   # every other element
        weights[2][...] = start[2]
        optimizer = cls(learning_rate=0.01)
        for step_grads in grads:
            optimizer.apply(step_grads, weights)
        return weights

    blocked, whole = run(256), run(10**12)
    for a, b in zip(blocked, whole, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(whole[0], start[0])


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: mo.Lion(beta_1=0.0), ValueError, "beta_1"),
        (lambda: mo.Lion(beta_1=1.5), ValueError, "beta_1"),
        (lambda: mo.Lion(beta_1="0.9"), TypeError, "beta_1"),
        (lambda: mo.Ftrl(learning_rate_power=0.5), ValueError, "learning_rate_power"),
        (lambda: mo.Ftrl(initial_accumulator_value=-1.0), ValueError,
         "initial_accumulator_value"),
        (lambda: mo.Ftrl(l1_regularization_strength=-1.0), ValueError,
         "l1_regularization_strength"),
        (lambda: mo.Ftrl(l2_regularization_strength=-1.0), ValueError,
         "l2_regularization_strength"),
        (lambda: mo.Ftrl(l2_shrinkage_regularization_strength=-1.0), ValueError,
         "l2_shrinkage_regularization_strength"),
        (lambda: mo.Ftrl(beta=None), TypeError, "beta"),
        (lambda: mo.Adamax(1), ValueError, "learning_rate"),
        (lambda: mo.Lamb(clip_norm=1.0), ValueError, "Did you mean `clipnorm`"),
        (lambda: schedules.CosineDecayRestarts(0.1, 0), ValueError, "first_decay_steps"),
        (lambda: schedules.CosineDecayRestarts(0.1, "3"), TypeError, "first_decay_steps"),
        (lambda: schedules.CosineDecayRestarts(1, 3), TypeError, "initial_learning_rate"),
    ],
)
def test_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_keras_raises_for_the_same_bad_arguments(keras):
    for make in (lambda o: o.Lion(beta_1=0.0), lambda o: o.Ftrl(learning_rate_power=0.5),
                 lambda o: o.Ftrl(l1_regularization_strength=-1.0),
                 lambda o: o.schedules.CosineDecayRestarts(0.1, 0)):
        with pytest.raises(ValueError):
            make(keras.optimizers)
        with pytest.raises(ValueError):
            make(mo)


# --- CosineDecayRestarts --------------------------------------------------------------------
RESTART_CASES = [
    ((0.1, 5), {}),
    ((0.1, 3), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
    ((0.05, 4), {"t_mul": 3.0, "m_mul": 0.7, "alpha": 0.2}),
    ((0.1, 7), {"t_mul": 1.5, "m_mul": 0.9, "name": "sgdr"}),
    ((np.float64(0.1), 7), {"t_mul": 1.5, "m_mul": 0.9, "alpha": 0.3}),   # computes in f64
]


@pytest.mark.parametrize("args, kwargs", RESTART_CASES)
def test_cosine_decay_restarts_matches_keras(keras, args, kwargs):
    ours = schedules.CosineDecayRestarts(*args, **kwargs)
    theirs = keras.optimizers.schedules.CosineDecayRestarts(*args, **kwargs)
    steps = np.arange(400)   # several restarts for each case
    expected = np.array([np.asarray(theirs(int(s))) for s in steps])
    got = np.array([ours(int(s)) for s in steps])
    assert got.dtype == expected.dtype
    # TensorFlow's float32 cos may differ from the correctly rounded one by an ulp (as for
    # CosineDecay in tests/test_optimizers.py); the period found (a floor) must be the same.
    np.testing.assert_allclose(got, expected, rtol=2e-7, atol=0)
    assert ours.get_config() == theirs.get_config()
    again = schedules.deserialize(schedules.serialize(ours))
    assert type(again) is schedules.CosineDecayRestarts
    assert again.get_config() == ours.get_config()


def test_cosine_decay_restarts_restarts():
    schedule = schedules.CosineDecayRestarts(1.0, 4, t_mul=2.0, m_mul=0.5)
    values = [float(schedule(s)) for s in range(13)]
    assert values[0] == 1.0 and values[4] == 0.5 and values[12] == 0.25   # periods 4, 8
    assert values[2] == pytest.approx(0.5, rel=1e-6)     # half way down the first period
    assert values[8] == pytest.approx(0.25, rel=1e-6)    # half way down the second


# --- .keras files with the optimizer state, both ways -----------------------------------------
def small_model(optimizer):
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(5, activation="tanh"),
                           mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    return model


def data(n: int = 16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    return x, y


SAVE_CASES = [
    lambda o: o.Adamax(0.01), lambda o: o.Adadelta(1.0), lambda o: o.Ftrl(0.1),
    lambda o: o.Lion(0.01), lambda o: o.Lamb(0.01), lambda o: o.Adafactor(0.01),
    lambda o: o.Adamax(o.schedules.CosineDecayRestarts(0.01, 2)),
]


@pytest.mark.parametrize("make", SAVE_CASES)
def test_state_saves_and_loads_in_minired(tmp_path, make):
    x, y = data()
    model = small_model(make(mo))
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = mr.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer) is type(model.optimizer)
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for m in (model, loaded):   # both go on alike
        m.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", SAVE_CASES)
def test_state_cross_loads_with_keras(tmp_path, keras, make):
    x, y = data()
    model = small_model(make(mo))
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    assert type(keras_model.optimizer).__name__ == type(model.optimizer).__name__
    theirs = keras_model.optimizer.variables
    assert len(theirs) == len(model.optimizer.variables)
    for a, b in zip(model.optimizer.variables, theirs, strict=True):
        assert np.asarray(a).shape == tuple(b.shape)
        np.testing.assert_array_equal(np.asarray(a), b.numpy())
    # Keras writes it back; minired reads the same state.
    keras_model.save(tmp_path / "k.keras")
    back = mr.saving.load_model(tmp_path / "k.keras")
    assert back.optimizer.get_config() == model.optimizer.get_config()
    for a, b in zip(back.optimizer.variables, model.optimizer.variables, strict=True):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
