"""``mr.config.set_max_epochs`` and ``set_max_steps_per_epoch``: Keras' debugging caps on
``fit``, ``evaluate`` and ``predict``, beside Keras (the batches each epoch sees, the losses,
the weights, the warnings)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minired as mr

RNG = np.random.default_rng(0)
X = RNG.normal(size=(10, 3))
Y = RNG.normal(size=(10, 1))


@pytest.fixture(autouse=True)
def _no_caps_after_the_test():
    """Whatever a test sets, the caps are off again afterwards (in both libraries)."""
    try:
        yield
    finally:
        mr.config.set_max_epochs(None)
        mr.config.set_max_steps_per_epoch(None)
        try:
            import keras
        except ImportError:
            return
        keras.config.set_max_epochs(None)
        keras.config.set_max_steps_per_epoch(None)


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


class BatchCounter:
    """Counts the batches of each epoch (a callback for either library)."""

    def __init__(self, base):
        class Counter(base):
            def __init__(self):
                super().__init__()
                self.per_epoch = []

            def on_epoch_begin(self, epoch, logs=None):
                self.per_epoch.append(0)

            def on_train_batch_end(self, batch, logs=None):
                self.per_epoch[-1] += 1

        self.callback = Counter()


def model_of(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
    model.compile(lib.optimizers.SGD(0.1), "mse")
    return model


def twins(keras_env):
    model, twin = model_of(mr), model_of(keras_env.keras)
    model.set_weights(twin.get_weights())
    return model, twin


def test_defaults_setters_and_errors(monkeypatch):
    assert mr.config.max_epochs() is None and mr.config.max_steps_per_epoch() is None
    mr.config.set_max_epochs(3)
    mr.config.set_max_steps_per_epoch(np.int64(4))
    assert mr.config.max_epochs() == 3 and mr.config.max_steps_per_epoch() == 4
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ValueError, match="`max_epochs`"):
            mr.config.set_max_epochs(bad)
        with pytest.raises(ValueError, match="`max_steps_per_epoch`"):
            mr.config.set_max_steps_per_epoch(bad)
    monkeypatch.setenv("KERAS_MAX_EPOCHS", "2")
    assert mr.config._cap_from_environment("KERAS_MAX_EPOCHS") == 2
    monkeypatch.delenv("KERAS_MAX_EPOCHS")
    assert mr.config._cap_from_environment("KERAS_MAX_EPOCHS") is None


@pytest.mark.parametrize("cap, epochs, expected", [(2, 5, 2), (5, 3, 3), (0, 3, 3)])
def test_fit_runs_at_most_max_epochs_as_keras(keras_env, cap, epochs, expected):
    with keras_env.precision("float64"):
        model, twin = twins(keras_env)
        mr.config.set_max_epochs(cap)
        keras_env.keras.config.set_max_epochs(cap)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ours = model.fit(X, Y, epochs=epochs, batch_size=4, shuffle=False, verbose=0)
        theirs = twin.fit(X, Y, epochs=epochs, batch_size=4, shuffle=False, verbose=0)
    assert ours.epoch == theirs.epoch == list(range(expected))
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    limiting = [str(w.message) for w in caught if "Limiting epochs" in str(w.message)]
    assert limiting == ([f"Limiting epochs to {cap}"] if expected < epochs else [])


@pytest.mark.parametrize("cap, steps_per_epoch", [(3, None), (2, 3), (4, 2)])
def test_fit_steps_per_epoch_capped_as_keras(keras_env, cap, steps_per_epoch):
    """10 batches of 1 sample; the cap acts as a steps_per_epoch: the epochs continue
    through the data, a short epoch where it runs out, then a new pass."""
    keras = keras_env.keras
    with keras_env.precision("float64"):
        model, twin = twins(keras_env)
        mr.config.set_max_steps_per_epoch(cap)
        keras.config.set_max_steps_per_epoch(cap)
        ours_count, theirs_count = BatchCounter(mr.callbacks.Callback), BatchCounter(
            keras.callbacks.Callback)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ours = model.fit(X, Y, epochs=5, batch_size=1, shuffle=False, verbose=0,
                             steps_per_epoch=steps_per_epoch, callbacks=[ours_count.callback])
        theirs = twin.fit(X, Y, epochs=5, batch_size=1, shuffle=False, verbose=0,
                          steps_per_epoch=steps_per_epoch, callbacks=[theirs_count.callback])
    assert ours_count.callback.per_epoch == theirs_count.callback.per_epoch
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-12)
    limited = cap < (steps_per_epoch or 10)
    assert any(str(w.message) == f"Limiting steps_per_epoch to {cap}" for w in caught) == limited


def test_evaluate_and_predict_are_capped_as_keras(keras_env):
    keras = keras_env.keras
    with keras_env.precision("float64"):
        model, twin = twins(keras_env)
        mr.config.set_max_steps_per_epoch(2)
        keras.config.set_max_steps_per_epoch(2)
        with pytest.warns(UserWarning, match="Limiting steps_per_epoch to 2"):
            ours = model.predict(X, batch_size=3, verbose=0)
        theirs = twin.predict(X, batch_size=3, verbose=0)
        assert ours.shape == theirs.shape == (6, 1)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        np.testing.assert_allclose(model.evaluate(X, Y, batch_size=3, verbose=0),
                                   twin.evaluate(X, Y, batch_size=3, verbose=0), rtol=1e-12)
        np.testing.assert_allclose(model.evaluate(X, Y, batch_size=3, verbose=0),
                                   model.evaluate(X[:6], Y[:6], verbose=0), rtol=1e-12)
