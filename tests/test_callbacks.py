"""Tests for minired.callbacks and minired.utils.progbar.

Most tests drive the callbacks with scripted ``val_loss`` sequences through a tiny
fake model. The ``test_keras_*`` tests then run the *real* Keras callbacks on the
same scripts and demand identical results (stopping epoch, weights, learning rates,
printed text): that is the parity check.
"""

from __future__ import annotations

import inspect
import re
import types
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minired.callbacks as mr_callbacks
from minired import config
from minired.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    MonitorCallback,
    ProgbarLogger,
    ReduceLROnPlateau,
)
from minired.callbacks.callback_list import pythonify_logs
from minired.utils import progbar as progbar_module
from minired.utils.progbar import Progbar

# ---------------------------------------------------------------------------------------
# A fake model and a fake fit loop
# ---------------------------------------------------------------------------------------


class FakeMetric:
    def __init__(self, name: str, direction: str) -> None:
        self.name = name
        self._direction = direction


class FakeOptimizer:
    """Stores the learning rate exactly as given, so tests see the callback's own rounding."""

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate
        self.iterations = 0


class FakeModel:
    """What callbacks touch: stop_training, get/set_weights, optimizer, metrics, history."""

    def __init__(self, learning_rate: float = 0.5, optimizer=None, metrics=None) -> None:
        self.stop_training = False
        self.weights = [np.zeros(2), np.zeros(1)]
        self.optimizer = optimizer if optimizer is not None else FakeOptimizer(learning_rate)
        if metrics is None:
            metrics = [
                FakeMetric("loss", "down"),
                FakeMetric("accuracy", "up"),
                FakeMetric("mean_squared_error", "down"),
            ]
        self.metrics = metrics

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.weights = [np.array(w) for w in weights]

    def weights_epoch(self) -> float:
        """The weights written at epoch e are all e: tells which epoch they come from."""
        return float(self.weights[0][0])


def simulate_fit(module, callbacks, model, values, monitor="val_loss", trace=None):
    """Run a fake fit of ``len(values)`` epochs; ``values[e]`` is the monitored value or None.

    Args:
        module: ``minired.callbacks`` or ``keras.callbacks`` (whose CallbackList to use).
        trace: optional function called after each epoch end, its results collected.

    Returns:
        (number of epochs run, the History, the collected trace).
    """
    callback_list = module.CallbackList(
        list(callbacks), add_history=True, model=model, verbose=0, epochs=len(values), steps=1
    )
    model.stop_training = False
    traced = []
    callback_list.on_train_begin()
    epochs_run = 0
    for epoch, value in enumerate(values):
        callback_list.on_epoch_begin(epoch)
        model.set_weights([np.full(2, float(epoch)), np.full(1, float(epoch))])  # "training"
        callback_list.on_epoch_end(epoch, {} if value is None else {monitor: value})
        epochs_run += 1
        if trace is not None:
            traced.append(trace())
        if model.stop_training:
            break
    callback_list.on_train_end()
    return epochs_run, model.history, traced


def run_early_stopping(values, monitor="val_loss", **kwargs):
    stop = EarlyStopping(monitor=monitor, **kwargs)
    model = FakeModel()
    epochs_run, _, waits = simulate_fit(
        mr_callbacks, [stop], model, values, monitor, trace=lambda: stop.wait
    )
    return stop, model, epochs_run, waits


def run_reduce_lr(values, learning_rate=0.5, monitor="val_loss", **kwargs):
    reduce_lr = ReduceLROnPlateau(monitor=monitor, **kwargs)
    model = FakeModel(learning_rate)
    _, history, _ = simulate_fit(mr_callbacks, [reduce_lr], model, values, monitor)
    return reduce_lr, model, history.history["learning_rate"]


# ---------------------------------------------------------------------------------------
# EarlyStopping
# ---------------------------------------------------------------------------------------


def test_early_stopping_patience_0_and_1_both_stop_at_first_non_improving_epoch():
    for patience in (0, 1):
        stop, _, epochs_run, waits = run_early_stopping([1.0, 0.9, 0.95, 0.8], patience=patience)
        assert (stop.stopped_epoch, epochs_run) == (2, 3)
        assert waits == [0, 0, 1]
        assert (stop.best, stop.best_epoch) == (0.9, 1)


def test_early_stopping_counts_wait_before_the_improvement_test():
    stop, model, epochs_run, waits = run_early_stopping([1.0, 0.9, 0.95, 0.96, 0.5], patience=2)
    assert waits == [0, 0, 1, 2]
    assert stop.stopped_epoch == 3 and epochs_run == 4 and model.stop_training


def test_early_stopping_never_stops_at_epoch_0():
    stop, _, epochs_run, _ = run_early_stopping([1.0], patience=0, baseline=0.5)
    assert stop.stopped_epoch == 0 and epochs_run == 1 and stop.wait == 1


def test_early_stopping_baseline_never_stops_an_improving_run():
    stop, _, epochs_run, waits = run_early_stopping(
        [1.0, 0.9, 0.8, 0.7, 0.6], patience=2, baseline=0.5
    )
    assert epochs_run == 5 and stop.stopped_epoch == 0
    assert waits == [1, 2, 3, 4, 5]  # improvements that miss the baseline do not reset wait


def test_early_stopping_baseline_stops_on_first_plateau_once_patience_is_used_up():
    stop, _, _, waits = run_early_stopping([1.0, 0.9, 0.9], patience=2, baseline=0.5)
    assert waits == [1, 2, 3] and stop.stopped_epoch == 2


def test_early_stopping_beating_the_baseline_resets_wait():
    _, _, _, waits = run_early_stopping([1.0, 0.4, 0.45], patience=2, baseline=0.5)
    assert waits == [1, 0, 1]


def test_early_stopping_min_delta_is_absolute_and_strict():
    for min_delta in (0.1, -0.1):
        stop, _, _, _ = run_early_stopping([1.0, 0.95, 0.85], patience=1, min_delta=min_delta)
        assert stop.stopped_epoch == 1  # 0.95 is not 0.1 below 1.0
    stop, _, epochs_run, _ = run_early_stopping([1.0, 0.85, 0.7], patience=1, min_delta=0.1)
    assert epochs_run == 3 and stop.stopped_epoch == 0


def test_early_stopping_start_from_epoch_ignores_warm_up_epochs():
    stop, _, epochs_run, waits = run_early_stopping(
        [1.0, 2.0, 3.0, 2.5, 2.6], patience=0, start_from_epoch=2
    )
    assert waits == [0, 0, 0, 0, 1]
    assert (stop.stopped_epoch, stop.best_epoch, epochs_run) == (4, 3, 5)


def test_early_stopping_auto_mode_maximizes_accuracy():
    stop, _, _, _ = run_early_stopping([0.5, 0.6, 0.55], monitor="val_accuracy")
    assert stop.monitor_op.__name__ == "greater_as_keras"
    assert (stop.stopped_epoch, stop.best, stop.best_epoch) == (2, 0.6, 1)


def test_early_stopping_auto_mode_minimizes_a_down_metric_and_loss():
    stop, _, _, _ = run_early_stopping([0.5, 0.6], monitor="val_mean_squared_error")
    assert stop.monitor_op.__name__ == "less_as_keras" and stop.stopped_epoch == 1
    stop, _, _, _ = run_early_stopping([0.5, 0.6], monitor="loss")
    assert stop.monitor_op.__name__ == "less_as_keras" and stop.min_delta == 0


def test_early_stopping_explicit_mode_max_needs_no_metric():
    stop = EarlyStopping(monitor="val_custom", mode="max")
    model = FakeModel(metrics=[])
    simulate_fit(mr_callbacks, [stop], model, [0.1, 0.3, 0.2], "val_custom")
    assert (stop.stopped_epoch, stop.best) == (2, 0.3)


def test_early_stopping_restores_best_weights_at_train_end_even_without_stopping():
    stop, model, epochs_run, _ = run_early_stopping(
        [1.0, 0.5, 0.7, 0.8], patience=10, restore_best_weights=True
    )
    assert epochs_run == 4 and stop.stopped_epoch == 0
    assert model.weights_epoch() == 1.0


def test_early_stopping_restores_best_weights_when_stopping():
    _, model, _, _ = run_early_stopping([1.0, 0.5, 0.7, 0.8], patience=2, restore_best_weights=True)
    assert model.weights_epoch() == 1.0


def test_early_stopping_without_restore_keeps_last_weights():
    _, model, _, _ = run_early_stopping([1.0, 0.5, 0.7, 0.8], patience=10)
    assert model.weights_epoch() == 3.0


def test_early_stopping_restores_first_monitored_epoch_if_baseline_never_beaten():
    # The first monitored epoch is snapshotted before the improvement test.
    stop, model, _, _ = run_early_stopping(
        [3.0, 2.0, 1.0, 1.5, 1.6],
        patience=2,
        baseline=0.5,
        restore_best_weights=True,
        start_from_epoch=1,
    )
    assert stop.stopped_epoch == 3 and stop.best_epoch == 2
    assert model.weights_epoch() == 2.0


def test_early_stopping_compares_in_float32_like_keras():
    # 0.3 - 1e-9 rounds to the same float32 as 0.3: not an improvement, so it stops.
    stop, _, _, _ = run_early_stopping([0.3, 0.3 - 1e-9], patience=0)
    assert stop.stopped_epoch == 1 and stop.best == 0.3


def test_early_stopping_instance_is_reset_between_fits():
    stop = EarlyStopping(patience=0)
    model = FakeModel()
    simulate_fit(mr_callbacks, [stop], model, [1.0, 2.0])
    assert stop.stopped_epoch == 1
    epochs_run, _, _ = simulate_fit(mr_callbacks, [stop], model, [5.0, 4.0, 3.0])
    assert epochs_run == 3 and stop.stopped_epoch == 0 and stop.best == 3.0


def test_early_stopping_verbose_messages(capsys):
    run_early_stopping([1.0, 0.5, 0.7], patience=1, verbose=1, restore_best_weights=True)
    assert capsys.readouterr().out == (
        "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    )


def test_early_stopping_missing_monitor_warns_and_is_not_counted():
    with pytest.warns(UserWarning, match=r"`val_loss` which is not available.*loss"):
        stop = EarlyStopping(patience=0)
        model = FakeModel()
        callback_list = CallbackList([stop], model=model)
        callback_list.on_train_begin()
        callback_list.on_epoch_end(0, {"loss": 1.0})
    assert stop.wait == 0 and stop.best is None


def test_monitor_auto_mode_unknown_metric_raises():
    stop = EarlyStopping(monitor="val_f1")
    stop.set_model(FakeModel())
    with pytest.raises(ValueError, match=r"monitor='val_f1'.*mode='min' or mode='max'"):
        stop.on_epoch_end(0, {"val_f1": 0.5})


def test_monitor_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match=r"unknown `mode` 'maximum'.*'auto'"):
        stop = EarlyStopping(mode="maximum")
    assert stop.mode == "auto"


def test_monitor_callback_opens_metric_containers():
    container = types.SimpleNamespace(name="compile_metrics", metrics=[FakeMetric("auc", "up")])
    monitor = MonitorCallback(monitor="val_auc")
    monitor.set_model(FakeModel(metrics=[FakeMetric("loss", "down"), container]))
    monitor._set_monitor_op()
    assert monitor._is_improvement(0.8, 0.7) and not monitor._is_improvement(0.7, 0.7)


# ---------------------------------------------------------------------------------------
# ReduceLROnPlateau
# ---------------------------------------------------------------------------------------


def test_reduce_lr_sequence_from_keras_parity_notes():
    _, model, lrs = run_reduce_lr([1.0] * 5, learning_rate=0.5, factor=0.5, patience=1)
    assert lrs == [0.5, 0.5, 0.25, 0.125, 0.0625]  # logged before each epoch's reduction
    assert model.optimizer.learning_rate == 0.03125


def test_reduce_lr_waits_for_patience_and_resets_on_improvement():
    reduce_lr, _, lrs = run_reduce_lr(
        [1.0, 0.9, 0.95, 0.96, 0.97], learning_rate=0.5, factor=0.5, patience=2
    )
    assert lrs == [0.5, 0.5, 0.5, 0.5, 0.25]
    assert reduce_lr.wait == 1


def test_reduce_lr_cooldown_skips_counting():
    reduce_lr, _, lrs = run_reduce_lr([1.0] * 7, factor=0.5, patience=1, cooldown=2)
    assert lrs == [0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625]
    assert reduce_lr.cooldown_counter == 1  # reduced at epoch 5, one cooldown epoch spent


def test_reduce_lr_min_lr_is_a_floor_compared_in_float32():
    _, model, lrs = run_reduce_lr([1.0] * 4, learning_rate=0.1, factor=0.1, patience=1, min_lr=0.01)
    floor = float(np.float32(0.01))  # max(0.1 * 0.1, 0.01), stored as float32
    assert lrs == [0.1, 0.1, floor, floor]
    assert model.optimizer.learning_rate == floor


def test_reduce_lr_stores_the_new_rate_in_floatx():
    _, model, _ = run_reduce_lr(
        [1.0, 1.0], learning_rate=float(np.float32(0.1)), factor=0.1, patience=1
    )
    assert model.optimizer.learning_rate == float(np.float32(float(np.float32(0.1)) * 0.1))
    config.set_floatx("float64")
    try:
        _, model, _ = run_reduce_lr([1.0, 1.0], learning_rate=0.1, factor=0.1, patience=1)
        assert model.optimizer.learning_rate == 0.1 * 0.1
    finally:
        config.set_floatx("float32")


def test_reduce_lr_mode_max_and_min_delta():
    _, _, lrs = run_reduce_lr(
        [0.5, 0.55, 0.56], monitor="val_accuracy", factor=0.5, patience=1, min_delta=0.02
    )
    assert lrs == [0.5, 0.5, 0.5]  # 0.55 beats 0.5 by > 0.02; 0.56 does not beat 0.55


def test_reduce_lr_verbose_message(capsys):
    run_reduce_lr([1.0, 1.0], factor=0.5, patience=1, verbose=1)
    expected = "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.25.\n"
    assert capsys.readouterr().out == expected


def test_reduce_lr_logs_learning_rate_even_without_monitor():
    reduce_lr = ReduceLROnPlateau()
    reduce_lr.set_model(FakeModel(0.5))
    logs = {"loss": 1.0}
    with pytest.warns(UserWarning, match="`val_loss` which is not available"):
        reduce_lr.on_epoch_end(0, logs)
    assert logs == {"loss": 1.0, "learning_rate": 0.5}


def test_reduce_lr_rejects_factor_of_one_or_more():
    with pytest.raises(ValueError, match=r"`factor` must be < 1.0.*got factor=1.5"):
        ReduceLROnPlateau(factor=1.5)
    with pytest.raises(ValueError, match="factor=1.0"):
        ReduceLROnPlateau(factor=1.0)


# ---------------------------------------------------------------------------------------
# History and CallbackList
# ---------------------------------------------------------------------------------------


class Recorder(Callback):
    """Logs (name, hook, copy of logs) into a shared list."""

    def __init__(self, name: str, journal: list) -> None:
        super().__init__()
        self.name = name
        self.journal = journal

    def on_epoch_end(self, epoch, logs=None):
        self.journal.append((self.name, "on_epoch_end", dict(logs)))

    def on_train_batch_end(self, batch, logs=None):
        self.journal.append((self.name, "on_train_batch_end", dict(logs)))


def test_history_records_every_epoch():
    model = FakeModel()
    callback_list = CallbackList(add_history=True, model=model)
    callback_list.on_train_begin()
    callback_list.on_epoch_end(3, {"loss": np.float32(0.5), "val_loss": 0.75})
    callback_list.on_epoch_end(4, {"loss": 0.25, "val_loss": 0.5})
    callback_list.on_train_end()
    history = model.history
    assert isinstance(history, History)
    assert history.history == {"loss": [0.5, 0.25], "val_loss": [0.75, 0.5]}
    assert history.epoch == [3, 4]
    assert type(history.history["loss"][0]) is float
    assert history.params is None  # no params given: set_params is not called


def test_history_passed_twice_keeps_appending_but_resets_epochs():
    history = History()
    model = FakeModel()
    simulate_fit(mr_callbacks, [history], model, [1.0, 2.0])
    simulate_fit(mr_callbacks, [history], model, [3.0])
    assert history.history == {"val_loss": [1.0, 2.0, 3.0]}
    assert history.epoch == [0]
    assert model.history is history


def test_callback_list_order_user_then_history_then_progbar():
    journal: list = []
    first, second = Recorder("first", journal), Recorder("second", journal)
    callback_list = CallbackList(
        [first, [second]], add_history=True, add_progbar=True, verbose=0, epochs=1, steps=1
    )
    kinds = [type(cb) for cb in callback_list.callbacks]
    assert kinds == [Recorder, Recorder, History, ProgbarLogger]
    assert callback_list.callbacks[:2] == [first, second]
    callback_list.on_train_batch_end(0, {"loss": 1.0})
    assert [entry[0] for entry in journal] == ["first", "second"]
    # (ProgbarLogger reads the params but, as in Keras, does not keep them in .params.)
    assert all(
        cb.params == {"verbose": 0, "epochs": 1, "steps": 1} for cb in callback_list.callbacks[:3]
    )


@pytest.mark.parametrize("verbose", ["auto", 0, 2])
def test_fit_gives_the_callbacks_verbose_as_the_caller_wrote_it(verbose, capsys):
    # Keras puts fit's `verbose` in the callbacks' params untouched: "auto" stays "auto"
    # (the progress bar reads it as 1).
    import minired as mr

    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"),
                        verbose=verbose)
    assert history.params == {"verbose": verbose, "epochs": 1, "steps": 1}
    assert ("1/1" in capsys.readouterr().out) == (verbose != 0)


def test_a_verbose_keras_does_not_know_is_refused():
    import minired as mr

    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="`verbose` must be 'auto', 0, 1 or 2, got 3"):
        model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), verbose=3)


def test_callback_list_does_not_duplicate_user_history_or_progbar():
    history, progbar = History(), ProgbarLogger()
    callback_list = CallbackList([progbar, history], add_history=True, add_progbar=True)
    assert callback_list.callbacks == [progbar, history]


def test_callback_list_shares_one_logs_dict():
    journal: list = []
    model = FakeModel(0.5)
    before, after = Recorder("before", journal), Recorder("after", journal)
    reduce_lr = ReduceLROnPlateau(patience=1)
    simulate_fit(mr_callbacks, [before, reduce_lr, after], model, [1.0])
    assert journal == [
        ("before", "on_epoch_end", {"val_loss": 1.0}),
        ("after", "on_epoch_end", {"val_loss": 1.0, "learning_rate": 0.5}),
    ]
    assert model.history.history == {"val_loss": [1.0], "learning_rate": [0.5]}


def test_pythonify_logs_sorts_flattens_and_converts():
    logs = {
        "val": {"val_loss": np.float64(0.5)},
        "loss": np.array(0.25),
        "outputs": None,
        "accuracy": 1,
    }
    assert pythonify_logs(logs) == {"accuracy": 1.0, "loss": 0.25, "outputs": None, "val_loss": 0.5}
    assert list(pythonify_logs(logs)) == ["accuracy", "loss", "outputs", "val_loss"]
    outputs = np.zeros((2, 3))
    assert pythonify_logs({"outputs": outputs})["outputs"] is outputs


HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


def test_callback_list_calls_every_hook_as_keras_does():
    """Every hook reaches every callback: batch hooks with ``logs=`` by keyword, the others
    positionally (as Keras), all callbacks sharing one dict."""
    calls = []

    class Spy(Callback):
        pass

    def spy(name):
        def hook(self, *args, **kwargs):
            calls.append((self, name, args, kwargs))
        return hook

    for name in HOOKS:
        setattr(Spy, name, spy(name))
    first, second = Spy(), Spy()
    callback_list = CallbackList([first, second])
    assert len(HOOKS) == 16
    for name in HOOKS:
        # The same signature as Callback's hook: (logs), (epoch, logs) or (batch, logs).
        assert (inspect.signature(getattr(CallbackList, name)).parameters.keys()
                == inspect.signature(getattr(Callback, name)).parameters.keys())
        calls.clear()
        index = () if name.endswith(("train_begin", "train_end", "test_begin", "test_end",
                                     "predict_begin", "predict_end")) else (7,)
        if name.endswith("_end") and not index:
            getattr(callback_list, name.replace("_end", "_begin"))()
            calls.clear()
        getattr(callback_list, name)(*index, {"loss": np.float32(0.5)})
        assert [(cb, hook) for cb, hook, _, _ in calls] == [(first, name), (second, name)]
        for _, _, args, kwargs in calls:
            if "batch" in name:
                assert args == index and kwargs == {"logs": {"loss": 0.5}}
            else:
                assert args == (*index, {"loss": 0.5}) and kwargs == {}
        logs = [kwargs.get("logs", args[-1]) for _, _, args, kwargs in calls]
        assert logs[0] is logs[1]


def test_callback_list_counts_nested_blocks():
    callback_list = CallbackList()
    callback_list.on_train_begin()
    callback_list.on_test_begin()       # validation inside fit
    callback_list.on_test_end()
    callback_list.on_train_end()
    with pytest.raises(ValueError, match="without its `on_\\*_begin`"):
        callback_list.on_predict_end()


def test_callback_list_end_without_begin_raises():
    with pytest.raises(ValueError, match="without its `on_\\*_begin`"):
        CallbackList().on_test_end()


def test_default_train_batch_hooks_call_batch_aliases():
    calls = []

    class Old(Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, logs))

    callback_list = CallbackList([Old()])
    callback_list.on_train_batch_begin(0)
    callback_list.on_train_batch_end(0, {"loss": 1})
    assert calls == [("begin", 0), ("end", 0, {"loss": 1.0})]


def test_callback_model_is_read_only():
    callback = Callback()
    callback.set_model("model")
    assert callback.model == "model"
    with pytest.raises(AttributeError):
        callback.model = "other"


# ---------------------------------------------------------------------------------------
# Progbar and ProgbarLogger
# ---------------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeClock:
    """Stands in for the ``time`` module: ``time()`` returns ``now``, set by the test."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(progbar_module, "time", fake)
    return fake


def screen(text: str) -> str:
    """What a terminal shows for the *last* redraw of each line: colours and \\b removed."""
    return ANSI.sub("", text).replace("\b", "")


def run_bar_script(bar_class, clock, verbose, dynamic=True, target=10, **kwargs):
    """Drive a Progbar with a fixed script of (time, step, values) updates."""
    clock.now = 100.0
    bar = bar_class(target=target, verbose=verbose, **kwargs)
    bar._dynamic_display = dynamic
    # Step 3 is skipped: the bar jumps from step 2 to step 4.
    for now, current, loss in [(100.5, 1, 0.7), (100.52, 2, 0.5), (101.5, 4, 0.4)]:
        clock.now = now
        bar.update(current, [("loss", loss), ("neg", -0.5)])
    clock.now = 105.0
    # Without a target the last update must say it is final; with one, 10 >= target does.
    finalize = True if target is None else None
    bar.update(10, [("loss", 0.25), ("neg", -0.5)], finalize=finalize)
    return bar


def test_progbar_verbose_1_draws_live_bar_with_eta(clock, capsys):
    run_bar_script(Progbar, clock, verbose=1)
    out = capsys.readouterr().out
    # Step 2 came 0.02 s after step 1 (< interval=0.05): not drawn. Each redraw starts with
    # backspaces over the previous line and a carriage return.
    redraws = screen(out).split("\r")
    assert redraws == [
        "",
        " 1/10 ━━━━━━━━━━━━━━━━━━━━ 4s 500ms/step - loss: 0.7000 - neg: -0.5000",
        # The values averaged over the steps, as Keras' bar does by default: (0.7 + 0.5 +
        # 2 · 0.4) / 4 (step 4 stands for steps 3 and 4). The first step is left out of the
        # time per step: (101.5 - 100.5) / 3, and ETA 6 * 0.333 s.
        " 4/10 ━━━━━━━━━━━━━━━━━━━━ 2s 333ms/step - loss: 0.5000 - neg: -0.5000",
        # Final: elapsed time, the last values as given, and a newline. Padded to the
        # previous width so no stale characters remain.
        "10/10 ━━━━━━━━━━━━━━━━━━━━ 5s 500ms/step - loss: 0.2500 - neg: -0.5000\n",
    ]
    width_1 = len(redraws[1])
    assert out.count("\b") == 2 * width_1
    # The colours: bold counter, green done part (2 of 20 at step 1), grey rest.
    assert "\x1b[1m 1/10\x1b[0m \x1b[32m━━\x1b[0m\x1b[37m" + "━" * 18 + "\x1b[0m" in out


def test_progbar_verbose_2_prints_one_line_at_the_end(clock, capsys):
    run_bar_script(Progbar, clock, verbose=2)
    # Keras' verbose=2 tests `avg > 1e-3` without abs(): negatives print in e-notation.
    assert capsys.readouterr().out == (
        "10/10 - 5s - 500ms/step - loss: 0.2500 - neg: -5.0000e-01\n"
    )


def test_progbar_verbose_0_is_silent(clock, capsys):
    run_bar_script(Progbar, clock, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_without_dynamic_display_prints_line_per_update(clock, capsys):
    run_bar_script(Progbar, clock, verbose=1, dynamic=False)
    lines = screen(capsys.readouterr().out).split("\n")
    assert lines[0] == "" and len(lines) == 5 and lines[-1] == ""
    assert lines[3].startswith("10/10")


def test_progbar_unknown_target(clock, capsys):
    run_bar_script(Progbar, clock, verbose=1, target=None)
    redraws = screen(capsys.readouterr().out).split("\r")
    assert redraws[2] == "      4/Unknown 2s 333ms/step - loss: 0.5000 - neg: -0.5000"


def test_progbar_shows_arrays_and_numpy_scalars_by_their_mean(clock, capsys):
    clock.now = 100.0
    bar = Progbar(target=1, verbose=2)
    bar.update(1, [("a", np.array([0.25, 0.75])), ("b", np.float32(0.125))])
    assert capsys.readouterr().out.endswith(" - a: 0.5000 - b: 0.1250\n")


def drive_logger(module, verbose, clock, epochs=2, steps=3):
    """A fit (with silent validation), then an evaluate and a predict, through CallbackLists."""
    clock.now = 100.0
    fit = module.CallbackList(add_progbar=True, verbose=verbose, epochs=epochs, steps=steps)
    fit.on_train_begin()
    for epoch in range(epochs):
        fit.on_epoch_begin(epoch)
        for batch in range(steps):
            clock.now += 0.02
            fit.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1), "accuracy": 0.5})
        fit.on_test_begin()
        fit.on_test_batch_end(0, {"loss": 9.0})
        fit.on_test_end({"loss": 9.0})
        fit.on_epoch_end(
            epoch, {"loss": 0.4, "accuracy": 0.5, "val_loss": 0.3, "val_accuracy": 0.75}
        )
    fit.on_train_end()
    evaluate = module.CallbackList(add_progbar=True, verbose=verbose, epochs=1, steps=2)
    evaluate.on_test_begin()
    for batch in range(2):
        clock.now += 0.5
        evaluate.on_test_batch_end(batch, {"loss": 0.3})
    evaluate.on_test_end({"loss": 0.3})
    predict = module.CallbackList(add_progbar=True, verbose=verbose, epochs=1, steps=None)
    predict.on_predict_begin()
    for batch in range(2):
        clock.now += 0.5
        predict.on_predict_batch_end(batch, {"outputs": np.zeros((4, 1))})
    predict.on_predict_end()


def test_progbar_logger_verbose_2(clock, capsys):
    drive_logger(mr_callbacks, 2, clock)
    assert capsys.readouterr().out == (
        "Epoch 1/2\n"
        "3/3 - 0s - 20ms/step - accuracy: 0.5000 - loss: 0.4000 - val_accuracy: 0.7500"
        " - val_loss: 0.3000\n"
        "Epoch 2/2\n"
        "3/3 - 0s - 20ms/step - accuracy: 0.5000 - loss: 0.4000 - val_accuracy: 0.7500"
        " - val_loss: 0.3000\n"
        "2/2 - 1s - 500ms/step - loss: 0.3000\n"
        "2/2 - 1s - 500ms/step\n"
    )


def test_progbar_logger_verbose_1_shows_epochs_bars_and_metrics(clock, capsys):
    drive_logger(mr_callbacks, 1, clock)
    text = screen(capsys.readouterr().out)
    assert text.startswith("Epoch 1/2\n\r1/3 ━━━━━━━━━━━━━━━━━━━━ 0s 20ms/step - accuracy: 0.5000")
    assert (
        "\r3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 20ms/step - accuracy: 0.5000 - loss: 0.4000"
        " - val_accuracy: 0.7500 - val_loss: 0.3000\nEpoch 2/2\n" in text
    )
    assert "9.0000" not in text  # validation inside fit is silent
    assert text.endswith("\r2/2 ━━━━━━━━━━━━━━━━━━━━ 1s 500ms/step\n")


def test_progbar_logger_single_epoch_prints_no_epoch_header(clock, capsys):
    drive_logger(mr_callbacks, 2, clock, epochs=1)
    assert "Epoch" not in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# Parity with the real Keras callbacks
# ---------------------------------------------------------------------------------------


def _keras():
    return pytest.importorskip("keras")


def keras_model(learning_rate=0.5):
    keras = _keras()
    from keras.src.trainers.compile_utils import MetricsList

    # Keras searches metric directions inside the compiled-metrics container.
    metrics = [MetricsList([keras.metrics.Accuracy(), keras.metrics.MeanSquaredError()])]
    return FakeModel(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), metrics=metrics)


# Values chosen to produce ties, float32-level near-ties, subnormals (which TensorFlow
# compares as 0) and missing epochs.
monitored_values = st.one_of(
    st.sampled_from([0.0, 5e-45, 0.1, 0.2, 0.3, 0.3 - 1e-9, 0.3 + 1e-8, 0.35, 0.5, None]),
    st.floats(0.0, 1.0),
)
monitors = st.sampled_from(["val_loss", "loss", "val_accuracy", "val_mean_squared_error"])


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(monitored_values, min_size=1, max_size=8),
    monitor=monitors,
    mode=st.sampled_from(["auto", "min", "max"]),
    patience=st.integers(0, 3),
    min_delta=st.sampled_from([0, 0.05, -0.05, 1e-9]),
    baseline=st.sampled_from([None, 0.25, 0.6]),
    restore_best_weights=st.booleans(),
    start_from_epoch=st.integers(0, 2),
)
def test_keras_early_stopping_parity(values, monitor, **kwargs):
    keras = _keras()
    results = []
    for module, model in ((mr_callbacks, FakeModel()), (keras.callbacks, keras_model())):
        stop = module.EarlyStopping(monitor=monitor, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "metric not available" on None epochs
            epochs_run, history, waits = simulate_fit(
                module, [stop], model, values, monitor, trace=lambda s=stop: s.wait
            )
        results.append(
            (
                epochs_run,
                waits,
                stop.stopped_epoch,
                stop.best_epoch,
                stop.best,
                model.weights_epoch(),
                history.history,
                history.epoch,
            )
        )
    assert results[0] == results[1]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # from Keras' own convert_to_numpy
@pytest.mark.parametrize("floatx", ["float32", "float64"])
@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(monitored_values, min_size=1, max_size=8),
    monitor=monitors,
    learning_rate=st.sampled_from([0.5, 0.1, 0.01, 0.3]),
    factor=st.sampled_from([0.1, 0.5, 0.3]),
    patience=st.integers(0, 3),
    cooldown=st.integers(0, 2),
    # float32(0.1) > 0.1 but float32(0.01) < 0.01: both sides of Keras' float32 floor test.
    min_lr=st.sampled_from([0.0, 0.01, 0.04, 0.1]),
    min_delta=st.sampled_from([1e-4, 0, 0.05]),
)
def test_keras_reduce_lr_parity(floatx, values, monitor, learning_rate, **kwargs):
    keras = _keras()
    previous = keras.config.floatx()
    keras.config.set_floatx(floatx)
    config.set_floatx(floatx)
    try:
        results = []
        for module, model in (
            (mr_callbacks, FakeModel(learning_rate)),
            (keras.callbacks, keras_model(learning_rate)),
        ):
            if module is mr_callbacks:  # the optimizer holds its rate as floatx, as in Keras
                model.optimizer.learning_rate = float(np.asarray(learning_rate, floatx))
            reduce_lr = module.ReduceLROnPlateau(monitor=monitor, **kwargs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, history, trace = simulate_fit(
                    module,
                    [reduce_lr],
                    model,
                    values,
                    monitor,
                    trace=lambda r=reduce_lr: (r.wait, r.cooldown_counter, r.best),
                )
            results.append((history.history, trace, float(model.optimizer.learning_rate)))
        assert results[0] == results[1]
    finally:
        keras.config.set_floatx(previous)
        config.set_floatx("float32")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("verbose", [1, 2])
def test_keras_early_stopping_and_reduce_lr_messages_parity(verbose, capsys):
    keras = _keras()
    outputs = []
    # minired's optimizer holds its rate as float32, like Keras' variable.
    models = (FakeModel(float(np.float32(0.1))), keras_model(0.1))
    for module, model in zip((mr_callbacks, keras.callbacks), models, strict=True):
        callbacks = [
            module.ReduceLROnPlateau(factor=0.5, patience=1, verbose=verbose),
            module.EarlyStopping(patience=2, verbose=verbose, restore_best_weights=True),
        ]
        simulate_fit(module, callbacks, model, [1.0, 0.5, 0.7, 0.8, 0.9])
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert "reducing learning rate to 0.05000000074505806." in outputs[0]


def test_keras_monitor_errors_parity():
    keras = _keras()
    for module in (mr_callbacks, keras.callbacks):
        stop = module.EarlyStopping(monitor="val_f1")
        stop.set_model(FakeModel(metrics=[]))
        with pytest.raises(ValueError, match="val_f1"):
            stop.on_epoch_end(0, {"val_f1": 0.5})
        with pytest.raises(ValueError, match="factor"):
            module.ReduceLROnPlateau(factor=2.0)
        with pytest.warns(UserWarning):
            assert module.EarlyStopping(mode="up").mode == "auto"


@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize("dynamic", [True, False])
@pytest.mark.parametrize("target", [10, None])
def test_keras_progbar_parity(verbose, dynamic, target, clock, capsys, monkeypatch):
    _keras()
    from keras.src.utils import progbar as keras_progbar

    monkeypatch.setattr(keras_progbar, "time", clock)

    # As Keras' ProgbarLogger makes it (every value shown as given, none averaged), and
    # as a bar made with the defaults (every value averaged over the steps).
    for options in ({"stateless_metrics": set()}, {}):
        outputs = []
        for bar_class in (Progbar, keras_progbar.Progbar):
            run_bar_script(bar_class, clock, verbose, dynamic=dynamic, target=target,
                           **options)
            outputs.append(capsys.readouterr().out)
        assert outputs[0] == outputs[1]


@pytest.mark.parametrize("verbose", [1, 2])
def test_keras_progbar_logger_parity(verbose, clock, capsys, monkeypatch):
    keras = _keras()
    from keras.src.utils import progbar as keras_progbar

    monkeypatch.setattr(keras_progbar, "time", clock)
    outputs = []
    for module in (mr_callbacks, keras.callbacks):
        drive_logger(module, verbose, clock)
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    # And the dynamic-display rule itself.
    assert Progbar(3)._dynamic_display == keras_progbar.Progbar(3)._dynamic_display
