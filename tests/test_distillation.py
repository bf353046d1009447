"""Knowledge distillation (``mr.distillation``) against hand-written NumPy, finite
differences and Keras' ``keras.distillation``."""

from __future__ import annotations

import contextlib
import json
import os
import warnings

import numpy as np
import pytest

import minired as mr
from minired.autodiff import GradientTape
from minired.distillation import (
    DistillationLoss,
    Distiller,
    FeatureDistillation,
    LogitsDistillation,
)
from minired.gradcheck import numerical_gradient, relative_error


# -- the formulas, written out ----------------------------------------------------------------
def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def logits(seed: int, shape=(5, 4)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


def test_hinton_loss_is_t_squared_times_the_kl_of_the_softened_softmaxes(float64):
    z_t, z_s, t = logits(0), logits(1), 2.5
    p, q = softmax(z_t / t), softmax(z_s / t)
    expected = t**2 * np.mean(np.sum(p * np.log(p / q), axis=-1))
    got = LogitsDistillation(t, loss=mr.losses.KLDivergence()).compute_loss(z_t, z_s)
    assert abs(float(got) - expected) < 1e-14


def test_default_kl_divergence_name_is_keras_function_on_the_scaled_logits(float64):
    """Keras' quirk, kept: the name gives the *function* kl_divergence, so no softmax and
    no T² (the logits are clipped to [ε, 1] as if they were probabilities)."""
    z_t, z_s, t = logits(0), logits(1), 3.0
    a, b = np.clip(z_t / t, 1e-7, 1), np.clip(z_s / t, 1e-7, 1)
    expected = np.mean(np.sum(a * np.log(a / b), axis=-1))
    assert abs(float(LogitsDistillation().compute_loss(z_t, z_s)) - expected) < 1e-14


def test_feature_distillation_is_the_mean_of_the_loss_values(float64):
    h_t, h_s = logits(2, (3, 2, 4)), logits(3, (3, 2, 4))
    assert abs(float(FeatureDistillation().compute_loss(h_t, h_s))
               - np.mean((h_t - h_s) ** 2)) < 1e-14
    # a skipped output (None) counts 0; the others add
    both = FeatureDistillation(loss=["mae", None]).compute_loss([h_t, h_t], [h_s, h_t])
    assert abs(float(both) - np.mean(np.abs(h_t - h_s))) < 1e-14


# -- gradients: the tape against finite differences (float64) --------------------------------
DISTILLATION_LOSSES = {
    "logits_kl_object": lambda: LogitsDistillation(2.0, loss=mr.losses.KLDivergence()),
    "logits_default": lambda: LogitsDistillation(),
    "logits_mse": lambda: LogitsDistillation(4.0, loss="mse"),
    "logits_crossentropy_object": lambda: LogitsDistillation(
        3.0, loss=mr.losses.CategoricalCrossentropy(from_logits=True)),
    "feature_mse": lambda: FeatureDistillation(),
    "feature_cosine": lambda: FeatureDistillation(loss="cosine_similarity"),
    "feature_two_outputs": lambda: FeatureDistillation(loss=["mae", "mse"]),
}


@pytest.mark.parametrize("name", sorted(DISTILLATION_LOSSES))
def test_distillation_loss_gradient_matches_finite_differences(float64, name):
    distill = DISTILLATION_LOSSES[name]()
    two = name == "feature_two_outputs"
    # logits of moderate size so the default loss's clip keeps most entries inside [ε, 1]
    teacher = [logits(0) * 0.8, logits(4)] if two else logits(0) * 0.8 + 0.5
    student = [logits(1) * 0.8, logits(5)] if two else logits(1) * 0.8 + 0.5
    for index, s in enumerate(student if two else [student]):
        with GradientTape() as tape:
            watched = tape.watch(s)
            given = ([watched, student[1]] if index == 0 else [student[0], watched]) if two \
                else watched
            loss = distill.compute_loss(teacher, given)
        analytic = tape.gradient(loss, watched)
        numeric = numerical_gradient(
            lambda: float(distill.compute_loss(teacher, student)), s)
        assert np.any(analytic != 0)
        assert relative_error(analytic, numeric) < 1e-7, name


def small_distiller(student_loss_weight=0.4):
    rng = np.random.default_rng(0)
    teacher = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4, activation="tanh", name="t1"),
                             mr.layers.Dense(3, name="t2")])
    student = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4, activation="tanh", name="s1"),
                             mr.layers.Dense(3, name="s2")])
    for model in (teacher, student):
        model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    distiller = Distiller(teacher, student,
                          [LogitsDistillation(2.0, loss=mr.losses.KLDivergence()),
                           FeatureDistillation(teacher_layer_name="t1", student_layer_name="s1")],
                          [0.7, 1.3], student_loss_weight=student_loss_weight)
    distiller.compile(optimizer="sgd",
                      loss=mr.losses.SparseCategoricalCrossentropy(from_logits=True))
    return distiller, rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)


def test_distiller_gradient_matches_finite_differences(float64):
    """∂L/∂w of L = α L_S + (1 - α) Σ w_k D_k, through the output and the hidden layer."""
    distiller, x, y = small_distiller()
    weights = distiller.trainable_weights
    assert len(weights) == 4                          # the student's only: teacher frozen
    with GradientTape() as tape:
        loss = distiller.compute_loss(x, y, distiller(x, training=True))
    analytic = tape.gradient(loss, weights)
    for w, a in zip(weights, analytic, strict=True):
        numeric = numerical_gradient(lambda: float(distiller.compute_loss(x, y)), w)
        assert relative_error(a, numeric) < 1e-7


def test_fit_takes_the_sgd_step_of_that_gradient(float64):
    distiller, x, y = small_distiller()
    weights = distiller.trainable_weights
    before = [w.copy() for w in weights]
    teacher_before = [w.copy() for w in distiller.teacher.get_weights()]
    with GradientTape() as tape:
        loss = distiller.compute_loss(x, y, distiller(x, training=True))
    grads = tape.gradient(loss, weights)
    history = distiller.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    assert abs(history.history["loss"][0] - float(loss)) < 1e-14
    lr = 0.01                       # "sgd"'s rate (a float64 variable in float64 mode)
    for w, w0, g in zip(weights, before, grads, strict=True):
        np.testing.assert_allclose(w, w0 - lr * g, rtol=0, atol=1e-14)
    for w, w0 in zip(distiller.teacher.get_weights(), teacher_before, strict=True):
        np.testing.assert_array_equal(w, w0)


# -- against Keras ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


@contextlib.contextmanager
def precision(keras, dtype: str):
    saved = (keras.config.floatx(), keras.config.dtype_policy(), mr.config.floatx())
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    mr.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(saved[0])
        keras.config.set_dtype_policy(saved[1])
        mr.config.set_floatx(saved[2])


TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def close(ours, theirs, dtype: str, what: str) -> None:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, what
    scale = max(np.max(np.abs(theirs), initial=0.0), 1e-30)
    assert np.max(np.abs(ours - theirs), initial=0.0) / scale <= TOLERANCE[dtype], what


def sequential_pair(lib):
    teacher = lib.Sequential([lib.Input((4,)), lib.layers.Dense(6, activation="relu", name="t1"),
                              lib.layers.Dense(3, name="t2")])
    student = lib.Sequential([lib.Input((4,)), lib.layers.Dense(6, activation="tanh", name="s1"),
                              lib.layers.Dense(3, name="s2")])
    return teacher, student


def subclassed_pair(lib):
    class Net(lib.Model):
        def __init__(self, activation, **kwargs):
            super().__init__(**kwargs)
            self.hidden = lib.layers.Dense(6, activation=activation)
            self.out = lib.layers.Dense(3)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    teacher, student = Net("relu"), Net("tanh")
    for model in (teacher, student):
        model(np.zeros((1, 4), dtype=lib.config.floatx()))
    return teacher, student


VARIANTS = {
    # (models, distillation losses, loss weights, student_loss_weight, student loss)
    "logits_kl": ("sequential", lambda D, lib: D.LogitsDistillation(
        2.5, loss=lib.losses.KLDivergence()), None, 0.3, "logits"),
    "logits_default": ("sequential", lambda D, lib: D.LogitsDistillation(), None, 0.5,
                       "logits"),
    "feature_and_logits": ("sequential", lambda D, lib: [
        D.LogitsDistillation(2.0, loss="mse"),
        D.FeatureDistillation(loss="mae", teacher_layer_name="t1", student_layer_name="s1")],
        [0.4, 0.9], 0.6, "logits"),
    "distillation_only": ("sequential", lambda D, lib: D.FeatureDistillation(), None, 0.0,
                          "logits"),
    "student_only_string_loss": ("sequential", lambda D, lib: D.LogitsDistillation(), None,
                                 1.0, "sparse_categorical_crossentropy"),
    "subclassed": ("subclassed", lambda D, lib: [
        D.LogitsDistillation(3.0, loss="KLDivergence"), D.FeatureDistillation("mse")],
        [1.0, 0.5], 0.5, "logits"),
}


def make_twins(keras, variant: str, dtype: str):
    """The same Distiller in minired and Keras, same weights, compiled alike."""
    models, losses, weights, alpha, student_loss = VARIANTS[variant]
    made = []
    rng = np.random.default_rng(1)
    shared = None
    for lib in (mr, keras):
        teacher, student = (sequential_pair if models == "sequential" else subclassed_pair)(lib)
        if shared is None:
            shared = [[rng.normal(scale=0.5, size=w.shape).astype(dtype)
                       for w in m.get_weights()] for m in (teacher, student)]
        teacher.set_weights(shared[0])
        student.set_weights(shared[1])
        distiller = lib.distillation.Distiller(teacher, student, losses(lib.distillation, lib),
                                               weights, student_loss_weight=alpha)
        loss = (lib.losses.SparseCategoricalCrossentropy(from_logits=True)
                if student_loss == "logits" else student_loss)
        distiller.compile(optimizer=lib.optimizers.SGD(0.1), loss=loss, metrics=["accuracy"])
        made.append(distiller)
    return made


def data(dtype: str):
    rng = np.random.default_rng(7)
    return rng.normal(size=(10, 4)).astype(dtype), rng.integers(0, 3, size=10)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fit_evaluate_predict_match_keras(keras, variant, dtype):
    with precision(keras, dtype):
        ours, theirs = make_twins(keras, variant, dtype)
        x, y = data(dtype)
        ours_eval = ours.evaluate(x, y, verbose=0)
        theirs_eval = theirs.evaluate(x, y, verbose=0)
        close(ours_eval, theirs_eval, dtype, "evaluate before fit")
        ours_history = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        theirs_history = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        assert sorted(ours_history.history) == sorted(theirs_history.history) == [
            "accuracy", "distillation_loss", "loss", "student_loss", "total_loss"]
        for key, values in theirs_history.history.items():
            close(ours_history.history[key], values, dtype, f"history {key}")
        for w, v in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            close(w, v, dtype, "weights after 6 steps")
        assert not ours.teacher.trainable and len(ours.trainable_weights) == 4
        close(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), dtype,
              "evaluate after fit")
        assert ours.metrics_names == [m.name for m in theirs.metrics]
        close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), dtype, "predict")
        close(ours(x), np.asarray(theirs(x)), dtype, "call")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_distillation_loss_values_match_keras(keras, dtype):
    with precision(keras, dtype):
        z_t = (logits(0, (6, 5)) * 2).astype(dtype)
        z_s = (logits(1, (6, 5)) * 2).astype(dtype)
        for make in (lambda lib: lib.distillation.LogitsDistillation(
                         4.0, loss=lib.losses.KLDivergence()),
                     lambda lib: lib.distillation.LogitsDistillation(),
                     lambda lib: lib.distillation.LogitsDistillation(
                         1.5, loss="categorical_crossentropy"),
                     lambda lib: lib.distillation.FeatureDistillation(loss="cosine_similarity"),
                     lambda lib: lib.distillation.FeatureDistillation(loss="huber")):
            ours = make(mr).compute_loss(z_t, z_s)
            theirs = make(keras).compute_loss(z_t, z_s)
            close(ours, np.asarray(theirs), dtype, repr(make(mr).loss))


def test_configs_match_keras(keras):
    for make in (lambda lib: lib.distillation.LogitsDistillation(),
                 lambda lib: lib.distillation.LogitsDistillation(2, loss=["mse", None]),
                 lambda lib: lib.distillation.LogitsDistillation(
                     4.0, loss=lib.losses.KLDivergence()),
                 lambda lib: lib.distillation.FeatureDistillation(
                     "mae", teacher_layer_name="t1", student_layer_name="s1")):
        ours = mr.saving.serialize_keras_object(make(mr))
        assert ours == keras.saving.serialize_keras_object(make(keras))
        again = mr.saving.deserialize_keras_object(json.loads(json.dumps(ours)))
        assert again.get_config() == make(mr).get_config()
    with precision(keras, "float32"):
        ours, theirs = make_twins(keras, "feature_and_logits", "float32")
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert sorted(ours_config) == sorted(theirs_config)
    for key in ("name", "trainable", "dtype", "distillation_losses",
                "distillation_loss_weights", "student_loss_weight"):
        assert ours_config[key] == theirs_config[key], key
    assert ours_config["teacher"]["class_name"] == "Sequential"
    ours_compiled, theirs_compiled = ours.get_compile_config(), theirs.get_compile_config()
    for compiled in (ours_compiled, theirs_compiled):
        compiled["optimizer"]["config"].pop("name")      # "sgd_3": a counter of each library
    assert ours_compiled == theirs_compiled
    rebuilt = Distiller.from_config(json.loads(json.dumps(ours_config)))
    assert rebuilt.student_loss_weight == 0.6 and not rebuilt.teacher.trainable
    assert isinstance(rebuilt.distillation_losses[1], FeatureDistillation)
    rebuilt.set_weights(ours.get_weights())
    x, _ = data("float32")
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), ours.predict(x, verbose=0))


def test_keras_files_cross_load(keras, tmp_path):
    """Both write the same .keras layout; each loads the other's. As in Keras, loading
    does not compile a Distiller (its compile is its own) and says so."""
    with precision(keras, "float32"):
        ours, theirs = make_twins(keras, "feature_and_logits", "float32")
        x, y = data("float32")
        ours.fit(x, y, epochs=1, verbose=0)
        theirs.fit(x, y, epochs=1, verbose=0)
        ours.save(tmp_path / "ours.keras")
        theirs.save(tmp_path / "theirs.keras")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            keras_reads_ours = keras.saving.load_model(tmp_path / "ours.keras")
            we_read_theirs = mr.saving.load_model(tmp_path / "theirs.keras")
            we_read_ours = mr.saving.load_model(tmp_path / "ours.keras")
        assert sum("`compile()` was not called" in str(w.message) for w in caught) == 3
        for loaded, source in ((keras_reads_ours, ours), (we_read_theirs, theirs),
                               (we_read_ours, ours)):
            for w, v in zip(loaded.get_weights(), source.get_weights(), strict=True):
                np.testing.assert_array_equal(np.asarray(w), np.asarray(v))
            assert loaded.student_loss_weight == 0.6
        assert not we_read_theirs.compiled and we_read_theirs.optimizer is None
        assert we_read_theirs.distillation_losses[1].loss is mr.losses.mean_absolute_error
        we_read_theirs.compile(loss="sparse_categorical_crossentropy")   # then it trains
        we_read_theirs.fit(x, y, epochs=1, verbose=0)


ERRORS = {
    "teacher not a model": lambda lib, t, s: lib.distillation.Distiller(
        "teacher", s, lib.distillation.LogitsDistillation()),
    "student not a model": lambda lib, t, s: lib.distillation.Distiller(
        t, None, lib.distillation.LogitsDistillation()),
    "input shapes": lambda lib, t, s: lib.distillation.Distiller(
        t, lib.Sequential([lib.Input((5,)), lib.layers.Dense(3)]),
        lib.distillation.LogitsDistillation()),
    "output shapes": lambda lib, t, s: lib.distillation.Distiller(
        t, lib.Sequential([lib.Input((4,)), lib.layers.Dense(2)]),
        lib.distillation.LogitsDistillation()),
    "output ranks": lambda lib, t, s: lib.distillation.Distiller(
        t, lib.Sequential([lib.Input((4,)), lib.layers.Dense(3), lib.layers.Reshape((3, 1))]),
        lib.distillation.LogitsDistillation()),
    "weight too large": lambda lib, t, s: lib.distillation.Distiller(
        t, s, lib.distillation.LogitsDistillation(), student_loss_weight=1.5),
    "weight not a number": lambda lib, t, s: lib.distillation.Distiller(
        t, s, lib.distillation.LogitsDistillation(), student_loss_weight="0.5"),
    "no distillation losses": lambda lib, t, s: lib.distillation.Distiller(t, s, None),
    "weights count": lambda lib, t, s: lib.distillation.Distiller(
        t, s, [lib.distillation.LogitsDistillation()] * 2, distillation_loss_weights=[1.0]),
    "unknown teacher layer": lambda lib, t, s: lib.distillation.Distiller(
        t, s, lib.distillation.FeatureDistillation(teacher_layer_name="nope")),
    "unknown student layer": lambda lib, t, s: lib.distillation.Distiller(
        t, s, lib.distillation.FeatureDistillation(student_layer_name="nope")),
    "temperature zero": lambda lib, t, s: lib.distillation.LogitsDistillation(0),
    "temperature a string": lambda lib, t, s: lib.distillation.LogitsDistillation("3"),
    "logits loss None": lambda lib, t, s: lib.distillation.LogitsDistillation(loss=None),
    "feature losses None": lambda lib, t, s: lib.distillation.FeatureDistillation(
        loss=[None, None]),
    "unknown loss name": lambda lib, t, s: lib.distillation.FeatureDistillation(loss="nope"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_match_keras(keras, case):
    messages = []
    for lib in (mr, keras):
        teacher, student = sequential_pair(lib)
        with pytest.raises(ValueError) as error:
            ERRORS[case](lib, teacher, student)
        messages.append(str(error.value))
    ours, theirs = messages
    if case in ("teacher not a model", "student not a model"):
        assert ours.split(" must")[0] == theirs.split(" must")[0]   # mr.Model, not keras
    elif case.startswith("unknown"):
        assert "nope" in ours
    else:
        assert ours == theirs


def test_compile_and_subclassed_feature_errors_match_keras(keras):
    for lib in (mr, keras):
        teacher, student = sequential_pair(lib)
        distiller = lib.distillation.Distiller(teacher, student,
                                               lib.distillation.LogitsDistillation())
        with pytest.raises(ValueError, match="'loss' cannot be `None`."):
            distiller.compile(optimizer="sgd")
        with pytest.raises(ValueError, match="metrics must be a list or tuple"):
            distiller.compile(loss="mse", metrics="accuracy")
        teacher, student = subclassed_pair(lib)
        with pytest.raises(ValueError, match="The teacher and student model"):
            lib.distillation.Distiller(teacher, student, lib.distillation.FeatureDistillation(
                teacher_layer_name="a", student_layer_name="b"))
        with pytest.raises(ValueError):      # outputs nested differently
            lib.distillation.LogitsDistillation().validate_outputs(
                np.ones((2, 3)), {"output": np.ones((2, 3))})


def test_a_distillation_loss_of_yours_trains_the_student():
    class MeanGap(DistillationLoss):
        def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
            return mr.ops.mean(mr.ops.abs(teacher_outputs - student_outputs))

    teacher, student = sequential_pair(mr)
    distiller = Distiller(teacher, student, MeanGap(), student_loss_weight=0.0)
    distiller.compile(optimizer=mr.optimizers.SGD(0.5), loss="mse")
    x, _ = data("float32")
    gap = float(MeanGap().compute_loss(teacher.predict(x, verbose=0),
                                       student.predict(x, verbose=0)))
    history = distiller.fit(x, epochs=5, batch_size=10, verbose=0)     # no labels needed
    assert history.history["student_loss"] == [0.0] * 5
    assert history.history["distillation_loss"][0] == pytest.approx(gap, rel=1e-6)
    assert history.history["distillation_loss"][-1] < gap


def test_loss_and_gradients_gives_every_weight_the_teachers_zero(float64):
    distiller, x, y = small_distiller()
    loss, grads = distiller.loss_and_gradients(x, y)
    assert loss == pytest.approx(float(distiller.compute_loss(x, y)), abs=1e-14)
    assert [g.shape for g in grads] == [w.shape for w in distiller.get_weights()]
    assert all(not np.any(g) for g in grads[:4]) and all(np.any(g) for g in grads[4:])
    with GradientTape() as tape:
        expected = tape.gradient(distiller.compute_loss(x, y, distiller(x, training=True)),
                                 distiller.trainable_weights)
    for g, e in zip(grads[4:], expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=0)
