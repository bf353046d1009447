"""CSVLogger, LearningRateScheduler, LambdaCallback and TerminateOnNaN, beside Keras.

Each callback is first driven by hand (scripted logs, a fake model), then inside ``fit``
next to the Keras twin of the same model with the same weights: same files, same learning
rates, same hook calls, same History.
"""

from __future__ import annotations

import math
import types
import warnings

import numpy as np
import pytest

import minired as mr
from minired.callbacks import CSVLogger, LambdaCallback, LearningRateScheduler, TerminateOnNaN


class FakeModel:
    def __init__(self, learning_rate: float = 0.5) -> None:
        self.stop_training = False
        self.optimizer = mr.optimizers.SGD(learning_rate=learning_rate)


def drive(callback, epochs_logs: list[dict], model=None):
    """on_train_begin, then on_epoch_begin/on_epoch_end per entry, then on_train_end."""
    callback.set_model(model or FakeModel())
    callback.on_train_begin()
    for epoch, logs in enumerate(epochs_logs):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, dict(logs))
    callback.on_train_end()


# -- CSVLogger ----------------------------------------------------------------------------------

def test_csv_logger_format(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), [{"loss": 0.5, "accuracy": 0.25, "val_loss": 0.75},
                            {"loss": 1 / 3, "val_loss": 0.1}])
    assert path.read_bytes() == (b"epoch,accuracy,loss,val_loss\r\n"
                                 b"0,0.25,0.5,0.75\r\n"
                                 b"1,NA,0.3333333333333333,0.1\r\n")


def test_csv_logger_adds_val_columns_when_the_first_epoch_has_none(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path, separator=";"), [{"loss": 0.5, "lr": [1, 2]}])
    assert path.read_text().splitlines() == [
        "epoch;loss;lr;val_loss;val_lr", '0;0.5;"""[1, 2]""";NA;NA']


def test_csv_logger_append_writes_the_header_once(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path, append=True), [{"loss": 0.5, "val_loss": 0.5}])
    drive(CSVLogger(path, append=True), [{"loss": 0.25, "val_loss": 0.5}])
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,0.5,0.5", "0,0.25,0.5"]
    drive(CSVLogger(path), [{"loss": 1.0, "val_loss": 0.5}])          # overwrite
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,1.0,0.5"]


# -- LearningRateScheduler ----------------------------------------------------------------------

def test_scheduler_sets_the_rate_each_epoch_and_logs_it():
    seen, logs = [], []
    scheduler = LearningRateScheduler(lambda epoch, lr: seen.append((epoch, lr)) or lr / 2)
    model = FakeModel(0.5)
    scheduler.set_model(model)
    for epoch in range(3):
        scheduler.on_epoch_begin(epoch)
        epoch_logs = {"loss": 1.0}
        scheduler.on_epoch_end(epoch, epoch_logs)
        logs.append(epoch_logs["learning_rate"])
    assert seen == [(0, 0.5), (1, 0.25), (2, 0.125)]
    assert logs == [0.25, 0.125, 0.0625]


def test_scheduler_rounds_the_rate_to_floatx():
    scheduler = LearningRateScheduler(lambda epoch: 0.1)       # one argument: the old API
    model = FakeModel()
    scheduler.set_model(model)
    scheduler.on_epoch_begin(0)
    assert model.optimizer.learning_rate == float(np.float32(0.1))


def test_scheduler_verbose_message(capsys):
    scheduler = LearningRateScheduler(lambda epoch, lr: 0.25, verbose=1)
    scheduler.set_model(FakeModel())
    scheduler.on_epoch_begin(2)
    assert capsys.readouterr().out == (
        "\nEpoch 3: LearningRateScheduler setting learning rate to 0.25.\n")


def test_scheduler_refuses_an_int_and_keeps_the_schedules_own_errors():
    scheduler = LearningRateScheduler(lambda epoch, lr: 1)
    scheduler.set_model(FakeModel())
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        scheduler.on_epoch_begin(0)

    def broken(epoch, lr):
        return None + lr                                        # a TypeError inside

    scheduler = LearningRateScheduler(broken)
    scheduler.set_model(FakeModel())
    with pytest.raises(TypeError, match="unsupported operand"):  # not "missing argument"
        scheduler.on_epoch_begin(0)


# -- LambdaCallback -----------------------------------------------------------------------------

def test_lambda_callback_replaces_only_the_hooks_given():
    calls = []
    callback = LambdaCallback(on_epoch_end=lambda epoch, logs: calls.append(("end", epoch)),
                              on_batch_end=lambda batch, logs: calls.append(("batch", batch)))
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(3, logs={})      # the default forwards to on_batch_end
    callback.on_epoch_end(0, {})
    assert calls == [("batch", 3), ("end", 0)]


def test_lambda_callback_refuses_unknown_hooks():
    with pytest.raises(ValueError, match="unknown hook"):
        LambdaCallback(on_epoch_ends=print)


# -- TerminateOnNaN -----------------------------------------------------------------------------

@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf])
def test_terminate_on_nan_stops_on_nan_and_inf(loss, capsys):
    model = types.SimpleNamespace(stop_training=False)
    callback = TerminateOnNaN()
    callback.set_model(model)
    callback.on_train_batch_end(0, logs={"loss": 1.0})
    assert not model.stop_training
    callback.on_train_batch_end(4, logs={"loss": loss})
    assert model.stop_training
    assert capsys.readouterr().out == "Batch 4: Invalid loss, terminating training\n"
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 4"):
        TerminateOnNaN(raise_error=True).on_train_batch_end(4, logs={"loss": loss})


def diverging(dtype: str = "float64"):
    """A regression model that SGD(3.0) blows up within the first epoch."""
    mr.config.set_floatx(dtype)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(dtype)
    y = (100 * rng.normal(size=(64, 2))).astype(dtype)
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                           mr.layers.Dense(2)])
    model.compile(optimizer=mr.optimizers.SGD(learning_rate=3.0), loss="mse")
    return model, x, y


def test_fit_raises_on_a_non_finite_loss_without_terminate_on_nan():
    model, x, y = diverging()
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="the loss became"):
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)


def test_fit_with_terminate_on_nan_stops_gracefully_with_finite_weights(capsys):
    model, x, y = diverging()
    ends = []
    with np.errstate(all="ignore"):
        history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                            validation_split=0.25,
                            callbacks=[TerminateOnNaN(),
                                       LambdaCallback(on_train_end=lambda logs: ends.append(1))])
    assert history.epoch == [0] and not np.isfinite(history.history["loss"][0])
    assert ends == [1]                                   # on_train_end still ran
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())   # no broken update
    assert len(history.history["val_loss"]) == 1         # validation ran, no error on it


# -- beside Keras ---------------------------------------------------------------------------------

keras_required = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def env():
    pytest.importorskip("keras")
    from comparisons import keras_env, mirror
    return keras_env, mirror


def twins(env, dtype: str, optimizer=lambda m: m.optimizers.SGD(learning_rate=0.1)):
    keras_env, mirror = env
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 4)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 48)]
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                           mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer(mr), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model, mirror.to_keras(model), x, y


FIT = {"batch_size": 16, "epochs": 4, "shuffle": False, "verbose": 0}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_scheduler_in_fit_matches_keras(env, dtype):
    keras_env, _ = env
    with keras_env.precision(dtype):
        model, twin, x, y = twins(env, dtype)

        def schedule(epoch, lr):
            return lr if epoch < 1 else lr * 0.5

        ours = model.fit(x, y, validation_split=0.25,
                         callbacks=[LearningRateScheduler(schedule)], **FIT).history
        theirs = twin.fit(x, y, validation_split=0.25,
                          callbacks=[keras_env.keras.callbacks.LearningRateScheduler(schedule)],
                          **FIT).history
    assert sorted(ours) == sorted(theirs)
    assert ours["learning_rate"] == theirs["learning_rate"]           # bit for bit
    # float32: the comparisons' 5-epoch training bound (1e-4 for weights, 1e-5 for the logged
    # means); float32 rounding compounds over the steps, which is all that differs here.
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=tolerance, atol=tolerance)
    for w, v in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, v, rtol=tolerance * 10, atol=tolerance * 10)


def test_csv_logger_in_fit_writes_keras_file(env, tmp_path):
    keras_env, _ = env
    with keras_env.precision("float64"):
        model, twin, x, y = twins(env, "float64")
        schedule = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
        model.fit(x, y, callbacks=[schedule, CSVLogger(tmp_path / "ours.csv")], **FIT)
        twin.fit(x, y, callbacks=[keras_env.keras.callbacks.LearningRateScheduler(
            lambda epoch, lr: lr * 0.5), keras_env.keras.callbacks.CSVLogger(
            str(tmp_path / "theirs.csv"))], **FIT)
    ours = (tmp_path / "ours.csv").read_text().splitlines()
    theirs = (tmp_path / "theirs.csv").read_text().splitlines()
    assert ours[0] == theirs[0] == (
        "epoch,accuracy,learning_rate,loss,val_accuracy,val_learning_rate,val_loss")
    for row, twin_row in zip(ours[1:], theirs[1:], strict=True):
        for a, b in zip(row.split(","), twin_row.split(","), strict=True):
            if a == "NA" or b == "NA":
                assert a == b
            else:
                assert float(a) == pytest.approx(float(b), rel=1e-12)


def test_csv_logger_writes_the_same_bytes_as_keras(env, tmp_path):
    keras_env, _ = env
    logs = [{"loss": 0.1 + 0.2, "accuracy": np.float32(0.75), "val_loss": 1e-20,
             "sizes": np.array([1.5, 2.0]), "note": "a,b"}, {"loss": math.nan}]
    for module, name in ((mr.callbacks, "ours"), (keras_env.keras.callbacks, "theirs")):
        for append in (False, True):
            callback = module.CSVLogger(str(tmp_path / f"{name}.csv"), separator="\t",
                                        append=append)
            callback.set_model(FakeModel())
            callback.on_train_begin()
            for epoch, epoch_logs in enumerate(logs):
                callback.on_epoch_end(epoch, dict(epoch_logs))
            callback.on_train_end()
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "theirs.csv").read_bytes()


def hook_journal(module):
    calls = []
    hooks = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end")

    def recorder(name):
        if name in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end"):
            return lambda logs: calls.append((name, sorted(logs or {})))
        if "batch" in name:
            return lambda batch, logs: calls.append((name, batch))
        return lambda epoch, logs: calls.append((name, epoch, sorted(logs or {})))

    return calls, module.LambdaCallback(**{name: recorder(name) for name in hooks})


def test_lambda_callback_sees_the_same_calls_as_in_keras(env):
    keras_env, _ = env
    with keras_env.precision("float64"):
        model, twin, x, y = twins(env, "float64")
        ours, ours_callback = hook_journal(mr.callbacks)
        theirs, theirs_callback = hook_journal(keras_env.keras.callbacks)
        model.fit(x, y, validation_split=0.25, callbacks=[ours_callback], **FIT)
        twin.fit(x, y, validation_split=0.25, callbacks=[theirs_callback], **FIT)
    assert ours == theirs


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_terminate_on_nan_in_fit_matches_keras(env, dtype, capsys):
    keras_env, mirror = env
    with keras_env.precision(dtype):
        model, x, y = diverging(dtype)
        twin = mirror.to_keras(model)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                             callbacks=[TerminateOnNaN()])
            theirs = twin.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                              callbacks=[keras_env.keras.callbacks.TerminateOnNaN()])
    assert ours.epoch == theirs.epoch == [0]
    np.testing.assert_array_equal(ours.history["loss"], theirs.history["loss"])
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and printed[0] == printed[1]      # the same batch, the same text
    # Keras applied the broken update as well; minired skipped it.
    assert model.optimizer.iterations == int(twin.optimizer.iterations) - 1
