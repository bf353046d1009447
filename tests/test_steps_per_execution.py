"""compile(steps_per_execution=n): the same numbers, the batch callbacks once per n batches.

Keras runs ``n`` steps per execution and calls ``on_*_batch_begin`` with the first step of
the run and ``on_*_batch_end`` with ``first + n - 1``, even for a shorter last run; the
logs a callback sees are those after the run. The callback below is written once and run
in both libraries.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

pytest.importorskip("keras")
from comparisons.keras_env import keras, precision  # noqa: E402


def recorder(lib):
    class Record(lib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_train_batch_begin(self, batch, logs=None):
            self.events.append(("train_begin", batch))

        def on_train_batch_end(self, batch, logs=None):
            steps = int(np.asarray(self.model.optimizer.iterations))
            self.events.append(("train_end", batch, steps, round(float(logs["loss"]), 9)))

        def on_test_batch_end(self, batch, logs=None):
            self.events.append(("test_end", batch, round(float(logs["loss"]), 9)))

        def on_predict_batch_end(self, batch, logs=None):
            self.events.append(("predict_end", batch, logs["outputs"].shape))

    return Record()


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    return x, x @ np.array([[1.0], [-2.0], [0.5]])


def twins(steps_per_execution: int):
    ours = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    ours.set_weights(theirs.get_weights())
    for model, lib in ((ours, mr), (theirs, keras)):
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse", metrics=["mae"],
                      steps_per_execution=steps_per_execution)
    return ours, theirs


@pytest.mark.parametrize("steps_per_execution", [1, 3, 4, 12])
def test_fit_evaluate_predict_call_the_callbacks_as_keras(data, steps_per_execution):
    """10 batches of 4 per epoch: in runs of 3 the last run holds one batch and ends at 11;
    in runs of 12, one run per epoch."""
    x, y = data
    with precision("float64"):
        ours, theirs = twins(steps_per_execution)
        events = []
        for model, lib in ((ours, mr), (theirs, keras)):
            record = recorder(lib)
            history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                                validation_data=(x[:10], y[:10]), callbacks=[record])
            model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[record])
            model.predict(x, batch_size=4, verbose=0, callbacks=[record])
            events.append((record.events, history.history))
    (ours_events, ours_history), (keras_events, keras_history) = events
    assert ours_events == keras_events
    assert sorted(ours_history) == sorted(keras_history)
    for key, values in keras_history.items():
        np.testing.assert_allclose(ours_history[key], values, rtol=1e-12, err_msg=key)
    ends = [e[1] for e in ours_events if e[0] == "train_end"]
    runs = -(-10 // steps_per_execution)
    assert ends[:runs] == [steps_per_execution * (i + 1) - 1 for i in range(runs)]


def test_a_callback_stopping_the_training_is_heard_after_the_run(data):
    """``model.stop_training`` set in ``on_train_batch_end`` stops after the whole run, as
    in Keras: with runs of 4, the first run's 4 steps are taken."""
    x, y = data
    taken = []
    for lib in (mr, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=4)

        class Stop(lib.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                self.model.stop_training = True

        model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[Stop()])
        taken.append(int(np.asarray(model.optimizer.iterations)))
    assert taken == [4, 4]


def test_the_compile_config_carries_steps_per_execution_both_ways(tmp_path):
    ours, theirs = twins(5)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    assert keras.models.load_model(tmp_path / "ours.keras").steps_per_execution == 5
    assert mr.models.load_model(tmp_path / "theirs.keras").steps_per_execution == 5
