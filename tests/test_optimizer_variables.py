"""An optimizer's state as Keras' Variables: ``learning_rate``, ``iterations``, ``variables``.

In Keras 3 a float learning rate and the step counter are 0-d Variables, and scripts use them
as such (``optimizer.learning_rate.assign(0.01)``, ``int(optimizer.iterations)``, the
keras-io guide "Writing your own callbacks"). Each test runs the same code on minired and on
Keras and compares what comes out.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minired as mr

SHAPES = [(3, 2), (2,)]

# Every optimizer and the options that change its list of variables.
CONFIGS = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adagrad", {}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),
    ("AdamW", {}),
    ("Nadam", {}),   # Keras adds a scalar after the slots: Nadam's running product Π
]


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


def problem(steps: int = 2) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Starting float32 weights and ``steps`` rounds of gradients."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(steps)]
    return weights, grads


def train_both(keras, ours, theirs, steps: int = 2) -> tuple[list, list]:
    """Run ``steps`` updates of the same gradients with both optimizers; return the weights."""
    weights, grads = problem(steps)
    mine = [w.copy() for w in weights]
    keras_weights = [keras.Variable(w) for w in weights]
    for round_grads in grads:
        ours.apply_gradients(zip(round_grads, mine, strict=True))
        theirs.apply_gradients(zip(round_grads, keras_weights, strict=True))
    return mine, [w.numpy() for w in keras_weights]


def layout(optimizer) -> list[tuple[tuple, str]]:
    return [(tuple(v.shape), str(v.dtype)) for v in optimizer.variables]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}{k}" for n, k in CONFIGS])
def test_variables_are_keras_list(keras, name, kwargs):
    ours = getattr(mr.optimizers, name)(learning_rate=0.01, **kwargs)
    theirs = getattr(keras.optimizers, name)(learning_rate=0.01, **kwargs)
    assert layout(ours) == layout(theirs) == [((), "int64"), ((), "float32")]   # not built
    train_both(keras, ours, theirs)
    # Count, order (Adam: m₀, v₀, m₁, v₁: the shapes tell), shapes, dtypes and values.
    assert layout(ours) == layout(theirs)
    assert ours.variables[0] is ours.iterations and ours.variables[1] is ours.learning_rate
    for mine, keras_variable in zip(ours.variables, theirs.variables, strict=True):
        np.testing.assert_allclose(np.asarray(mine), keras_variable.numpy(), rtol=1e-6)


def test_learning_rate_is_a_floatx_variable(keras):
    ours, theirs = mr.optimizers.SGD(0.1), keras.optimizers.SGD(0.1)
    lr = ours.learning_rate
    assert isinstance(lr, mr.Variable) and not lr.trainable
    assert (lr.shape, lr.dtype, lr.name) == ((), np.float32, theirs.learning_rate.name)
    assert float(lr) == float(theirs.learning_rate) == float(np.float32(0.1))
    assert lr.numpy() == theirs.learning_rate.numpy()
    np.testing.assert_array_equal(mr.ops.convert_to_numpy(lr),
                                  keras.ops.convert_to_numpy(theirs.learning_rate))
    # assign, and the setter, write into the same float32 Variable (an int is fine).
    for value in (0.01, np.float64(0.3), 1):
        lr.assign(value)
        theirs.learning_rate.assign(value)
        assert float(lr) == float(theirs.learning_rate)
    ours.learning_rate = 0.3
    theirs.learning_rate = 0.3
    assert ours.learning_rate is lr and float(lr) == float(theirs.learning_rate)
    with pytest.raises(TypeError, match="learning_rate"):   # one number, not an array of them
        ours.learning_rate = np.array([0.1, 0.2])
    # The next step uses the assigned rate.
    mine, keras_weights = train_both(keras, ours, theirs, steps=1)
    for w, keras_w in zip(mine, keras_weights, strict=True):
        np.testing.assert_array_equal(w, keras_w)


def test_iterations_is_an_int64_variable_counting_the_steps(keras):
    ours, theirs = mr.optimizers.Adam(0.1), keras.optimizers.Adam(0.1)
    iterations = ours.iterations
    assert isinstance(iterations, mr.Variable) and not iterations.trainable
    assert (iterations.shape, iterations.dtype) == ((), np.int64)
    assert iterations.name == theirs.iterations.name == "iteration"
    train_both(keras, ours, theirs, steps=3)
    assert ours.iterations is iterations
    assert int(iterations) == int(theirs.iterations) == 3
    assert iterations.numpy() == theirs.iterations.numpy()
    with pytest.raises(AttributeError):   # a read-only property, as in Keras
        ours.iterations = 0
    # Moved by hand, the counter drives Adam's bias correction (t = iterations + 1) as Keras'.
    ours, theirs = mr.optimizers.Adam(0.1), keras.optimizers.Adam(0.1)
    ours.iterations.assign(100)
    theirs.iterations.assign(100)
    mine, keras_weights = train_both(keras, ours, theirs, steps=1)
    assert int(ours.iterations) == int(theirs.iterations) == 101
    for w, keras_w in zip(mine, keras_weights, strict=True):
        np.testing.assert_allclose(w, keras_w, rtol=1e-6)


def test_apply_gradients_returns_the_iterations_variable():
    opt = mr.optimizers.SGD(0.1)
    w = np.ones(2, dtype="float32")
    returned = opt.apply_gradients([(np.ones(2, dtype="float32"), w)])
    assert isinstance(returned, mr.Variable) and returned is opt.iterations


def test_a_schedule_or_a_function_is_not_a_variable(keras):
    def both(make):
        return make(mr.optimizers), make(keras.optimizers)

    ours, theirs = both(lambda o: o.SGD(o.schedules.ExponentialDecay(0.1, 1, 0.5)))
    train_both(keras, ours, theirs)
    assert not isinstance(ours.learning_rate, mr.Variable)
    assert float(ours.learning_rate) == float(theirs.learning_rate) == float(np.float32(0.025))
    assert layout(ours) == layout(theirs) == [((), "int64")]
    for optimizer in (ours, theirs):
        with pytest.raises(TypeError, match="LearningRateSchedule"):
            optimizer.learning_rate = 0.1
    ours, theirs = both(lambda o: o.SGD(lambda: 0.25))
    assert ours.learning_rate == theirs.learning_rate == 0.25
    assert layout(ours) == layout(theirs) == [((), "int64")]


def test_the_custom_scheduler_of_the_keras_io_callbacks_guide(keras):
    """keras-io "Writing your own callbacks": the schedule gets the learning-rate Variable
    and may hand it back unchanged; the callback sets it and prints ``float(np.array(lr))``."""
    schedule_table = [(1, 0.05), (2, 0.01)]

    def lr_schedule(epoch, lr):
        for start, rate in schedule_table:
            if epoch == start:
                return rate
        return lr

    def fit(library):
        printed = []

        class CustomLearningRateScheduler(library.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                lr = self.model.optimizer.learning_rate
                scheduled_lr = lr_schedule(epoch, lr)
                self.model.optimizer.learning_rate = scheduled_lr
                printed.append(float(np.array(scheduled_lr)))

        model = library.Sequential([library.Input((2,)), library.layers.Dense(1)])
        model.compile(optimizer=library.optimizers.SGD(learning_rate=0.1), loss="mse")
        variable = model.optimizer.learning_rate
        model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0,
                  callbacks=[CustomLearningRateScheduler()])
        assert model.optimizer.learning_rate is variable
        return printed, model.optimizer.learning_rate.numpy(), int(model.optimizer.iterations)

    assert fit(mr) == fit(keras)


@pytest.mark.parametrize(
    "callback",
    [lambda cb: cb.LearningRateScheduler(lambda epoch, lr: lr * 0.5),
     lambda cb: cb.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9)],
    ids=["LearningRateScheduler", "ReduceLROnPlateau"])
def test_the_learning_rate_callbacks_assign_the_variable(keras, callback):
    def fit(library):
        model = library.Sequential([library.Input((2,)), library.layers.Dense(1)])
        model.compile(optimizer=library.optimizers.SGD(learning_rate=0.1), loss="mse")
        variable = model.optimizer.learning_rate
        history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0,
                            callbacks=[callback(library.callbacks)])
        assert model.optimizer.learning_rate is variable
        return float(variable), history.history["learning_rate"]

    assert fit(mr) == fit(keras)


@pytest.mark.parametrize("copy_it", [copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))],
                         ids=["deepcopy", "pickle"])
def test_a_copied_optimizer_has_its_own_named_variables(copy_it):
    opt = mr.optimizers.Nadam(0.1)
    w = np.ones(2, dtype="float32")
    opt.apply_gradients([(np.ones(2, dtype="float32"), w)])
    clone = copy_it(opt)
    for mine, theirs in zip(opt.variables, clone.variables, strict=True):
        assert theirs is not mine and type(theirs) is type(mine)
        np.testing.assert_array_equal(theirs, mine)
    for attribute in ("iterations", "learning_rate"):
        original, copied = getattr(opt, attribute), getattr(clone, attribute)
        assert (copied.name, copied.trainable) == (original.name, False)
    clone.learning_rate.assign(0.5)
    clone.apply_gradients([(np.ones(2, dtype="float32"), clone._trainable_variables[0])])
    assert (float(opt.learning_rate), int(opt.iterations)) == (np.float32(0.1), 1)
    assert (float(clone.learning_rate), int(clone.iterations)) == (0.5, 2)


def test_a_saved_optimizer_loads_into_its_variables(tmp_path):
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.1), loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, batch_size=2, verbose=0)
    model.optimizer.learning_rate.assign(0.02)
    model.save(tmp_path / "m.keras")
    loaded = mr.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.optimizer.iterations, mr.Variable)
    assert isinstance(loaded.optimizer.learning_rate, mr.Variable)
    assert int(loaded.optimizer.iterations) == 6
    assert float(loaded.optimizer.learning_rate) == float(np.float32(0.02))
    for mine, theirs in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(mine, theirs)
