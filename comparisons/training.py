"""Training: ``fit`` in minired and in Keras, from the same weights, records the same History.

Every case builds a small minired model, compiles it, and lets :func:`~comparisons.mirror.to_keras`
make the Keras twin (same layers, weights, loss, optimizer and metrics). Both then ``fit``
the same fixed data with ``shuffle=False`` (Keras' shuffle order cannot be reproduced), and
:func:`compare_fit` compares every History entry epoch by epoch (and which epochs logged
it), every final weight, and what each case adds (callback state, evaluate, predict).
Callback cases (EarlyStopping, ReduceLROnPlateau) give Keras its own callbacks, with the
same arguments as minired's.

The data are small (about 100 samples, 4 features) so that Keras' tf.function tracing
dominates the run time and each case stays around a second.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from comparisons.data import N_CLASSES, N_FEATURES, blobs, one_hot, regression
from comparisons.keras_env import keras, mr, precision
from comparisons.mirror import to_keras
from comparisons.registry import Outcome, case

EPOCHS = 5


# -- model -----------------------------------------------------------------------------------

def classifier(output_units: int = N_CLASSES, output_activation: str = "softmax",
               **hidden_kwargs) -> mr.Sequential:
    """``Input(4) -> Dense(8, relu) -> Dense(output_units, output_activation)``, seeded."""
    mr.utils.set_random_seed(0)
    return mr.Sequential([
        mr.Input((N_FEATURES,)),
        mr.layers.Dense(8, activation="relu", name="hidden", **hidden_kwargs),
        mr.layers.Dense(output_units, activation=output_activation, name="output"),
    ])


# -- the comparison --------------------------------------------------------------------------

def epoch_log_keys(callbacks_module):
    """A callback of ``callbacks_module`` that records the keys of every epoch's logs.

    History keeps one list per key, so a key logged at epochs 1 and 3 and one logged at
    epochs 2 and 4 look alike there; this record says which epochs logged what.
    """

    class EpochLogKeys(callbacks_module.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.keys: dict[int, list[str]] = {}

        def on_epoch_end(self, epoch, logs=None) -> None:
            self.keys[epoch] = sorted(logs or {})

    return EpochLogKeys()


def compare_fit(model: mr.Model, x, y, make_callbacks: Callable | None = None,
                after: Callable | None = None, keras_model=None, **fit_kwargs) -> Outcome:
    """Fit ``model`` and its Keras twin alike; compare History, final weights and ``after``.

    Compared: the epochs run (``History.epoch``), the History keys, every History list
    value by value, the epochs at which each key was logged (``val_*`` only on the epochs
    that validated), and every final weight.

    Args:
        model: a compiled minired model (built in the current precision).
        x, y: the training data (arrays, or a list or dict of them for several inputs or
            outputs).
        make_callbacks: ``make_callbacks(callbacks_module) -> list``, called once with
            ``mr.callbacks`` and once with ``keras.callbacks``.
        after: ``after(model, keras_model, ours_callbacks, keras_callbacks) -> pairs``,
            extra comparisons made once both have trained.
        keras_model: the compiled Keras twin; by default ``to_keras(model)``.
        fit_kwargs: passed to both ``fit`` calls (``shuffle=False, verbose=0`` are added).
    """
    keras_model = to_keras(model) if keras_model is None else keras_model
    ours_callbacks = make_callbacks(mr.callbacks) if make_callbacks else []
    keras_callbacks = make_callbacks(keras.callbacks) if make_callbacks else []
    pairs, curves = fit_history_pairs(model, keras_model, x, y, ours_callbacks,
                                      keras_callbacks, **fit_kwargs)
    layer_names = [layer.name for layer in model.unique_layers for _ in layer.weights]
    for i, (w, v) in enumerate(zip(model.get_weights(), keras_model.get_weights(),
                                   strict=True)):
        pairs.append((f"final weight {i} ({layer_names[i]})", w, v))
    if after is not None:
        pairs += after(model, keras_model, ours_callbacks, keras_callbacks)
    return Outcome(pairs, curves=curves)


def fit_history_pairs(model, keras_model, x, y, ours_callbacks=(), keras_callbacks=(),
                      **fit_kwargs) -> tuple[list, dict]:
    """Fit both alike (``shuffle=False, verbose=0`` added to ``fit_kwargs``) and compare
    what ``fit`` reports: the epochs run, the History keys, every History list value by
    value, and the epochs at which each key was logged. Returns ``(pairs, loss curves)``."""
    # After the case's callbacks, so it sees what they write into the logs.
    ours_keys, theirs_keys = epoch_log_keys(mr.callbacks), epoch_log_keys(keras.callbacks)
    fit_kwargs = {"epochs": EPOCHS, "shuffle": False, "verbose": 0, **fit_kwargs}
    ours_history = model.fit(x, y, callbacks=[*ours_callbacks, ours_keys], **fit_kwargs)
    theirs_history = keras_model.fit(x, y, callbacks=[*keras_callbacks, theirs_keys],
                                     **fit_kwargs)
    ours, theirs = ours_history.history, theirs_history.history

    pairs = [("History.epoch (epochs run)", np.array(ours_history.epoch),
              np.array(theirs_history.epoch))]
    if sorted(ours) != sorted(theirs):
        # A missing or extra History key is a failure in itself (relative difference 1).
        pairs.append((f"History keys {sorted(ours)} vs {sorted(theirs)}", [1.0], [0.0]))
    for key in sorted(set(ours) & set(theirs)):
        pairs.append((f"history {key}", np.array(ours[key]), np.array(theirs[key])))
        pairs.append((f"epochs logging {key}",
                      np.array([e for e, keys in ours_keys.keys.items() if key in keys]),
                      np.array([e for e, keys in theirs_keys.keys.items() if key in keys])))
    return pairs, {"minired": list(ours["loss"]), "keras": list(theirs["loss"])}


def fit_blobs(dtype: str, make_optimizer: Callable, loss: str = "categorical_crossentropy",
              sparse: bool = False, hidden_kwargs: dict | None = None, after=None,
              **fit_kwargs) -> Outcome:
    """Most cases: :func:`classifier` (``hidden_kwargs`` go to its hidden layer) fitted on 96
    blob samples in batches of 16, with ``make_optimizer()``, ``loss`` and accuracy; the
    labels one-hot, or integers if ``sparse``. The rest as in :func:`compare_fit`."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        model = classifier(**(hidden_kwargs or {}))
        model.compile(optimizer=make_optimizer(), loss=loss, metrics=["accuracy"])
        y = labels if sparse else one_hot(labels, dtype)
        return compare_fit(model, x, y, after=after, batch_size=16, **fit_kwargs)


# -- cases -----------------------------------------------------------------------------------

@case("training", "sgd_momentum_categorical", kind="training")
def sgd_momentum_categorical(dtype):
    """SGD+momentum, softmax + categorical_crossentropy (logits path), loss and accuracy."""
    return fit_blobs(dtype, lambda: mr.optimizers.SGD(learning_rate=0.05, momentum=0.9))


@case("training", "adam_sparse_categorical", kind="training")
def adam_sparse_categorical(dtype):
    """Adam with integer labels and sparse_categorical_crossentropy."""
    return fit_blobs(dtype, lambda: mr.optimizers.Adam(learning_rate=0.02),
                     "sparse_categorical_crossentropy", sparse=True)


@case("training", "rmsprop_binary", kind="training")
def rmsprop_binary(dtype):
    """RMSprop, sigmoid output + binary_crossentropy, binary accuracy (threshold 0.5)."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        model = classifier(output_units=1, output_activation="sigmoid")
        model.compile(optimizer=mr.optimizers.RMSprop(learning_rate=0.01),
                      loss="binary_crossentropy", metrics=["accuracy"])
        y = (labels == 0).astype(dtype).reshape(-1, 1)
        return compare_fit(model, x, y, batch_size=16)


@case("training", "mse_regression", kind="training")
def mse_regression(dtype):
    """Linear output and mean squared error, two regression targets."""
    with precision(dtype):
        x, y = regression(96, dtype)
        model = classifier(output_units=2, output_activation="linear")
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.02), loss="mse")
        return compare_fit(model, x, y, batch_size=16)


@case("training", "regularized", kind="training")
def regularized(dtype):
    """L2 kernel and L1 bias penalties: the History loss includes them, unscaled."""
    return fit_blobs(dtype, lambda: mr.optimizers.SGD(learning_rate=0.1),
                     hidden_kwargs={"kernel_regularizer": mr.regularizers.L2(0.02),
                                    "bias_regularizer": mr.regularizers.L1(0.01)})


@case("training", "activity_regularized", kind="training")
def activity_regularized(dtype):
    """An L1L2 activity penalty on the hidden layer's outputs: the History loss includes
    ``r(a)/N`` of every batch, and the gradient ``r'(a)/N`` reaches the weights below."""
    return fit_blobs(dtype, lambda: mr.optimizers.Adam(learning_rate=0.02),
                     hidden_kwargs={"activity_regularizer": mr.regularizers.L1L2(l1=0.01,
                                                                                  l2=0.05)})


@case("training", "validation_split", kind="training")
def validation_split(dtype):
    """validation_split=0.25 holds out the last quarter; val_* use end-of-epoch weights."""
    return fit_blobs(dtype, lambda: mr.optimizers.Adam(learning_rate=0.02),
                     validation_split=0.25)


def fit_with_validation_data(dtype: str, **fit_kwargs) -> Outcome:
    """SGD+momentum with integer labels, validated on 40 other samples."""
    x_val, val_labels = blobs(40, dtype, seed=1)
    return fit_blobs(dtype, lambda: mr.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                     "sparse_categorical_crossentropy", sparse=True,
                     validation_data=(x_val, val_labels), **fit_kwargs)


@case("training", "validation_data", kind="training")
def validation_data(dtype):
    """validation_data=(x_val, y_val): val_loss and val_accuracy every epoch."""
    return fit_with_validation_data(dtype)


@case("training", "validation_freq", kind="training")
def validation_freq(dtype):
    """validation_freq=2 over 6 epochs: val_* logged at epochs 2, 4, 6 only (0-based 1, 3, 5)."""
    # Six epochs: validating at epochs 1, 3, 5 (1-based) instead would also give three val_
    # entries, so the case must see *which* epochs logged them (compare_fit does).
    return fit_with_validation_data(dtype, epochs=6, validation_freq=2)


@case("training", "validation_freq_list", kind="training")
def validation_freq_list(dtype):
    """validation_freq=[1, 2, 5]: a list names the epochs to validate, counted from 1."""
    return fit_with_validation_data(dtype, epochs=6, validation_freq=[1, 2, 5])


@case("training", "evaluate_predict", kind="training")
def evaluate_predict(dtype):
    """After fit, evaluate (loss, accuracy) and predict agree on unseen data."""
    x_test, test_labels = blobs(50, dtype, seed=2)
    y_test = one_hot(test_labels, dtype)

    def after(model, keras_model, *_):
        ours = model.evaluate(x_test, y_test, batch_size=16, verbose=0)
        theirs = keras_model.evaluate(x_test, y_test, batch_size=16, verbose=0)
        return [("evaluate [loss, accuracy]", np.array(ours), np.array(theirs)),
                ("predict", model.predict(x_test, batch_size=16, verbose=0),
                 keras_model.predict(x_test, batch_size=16, verbose=0))]

    return fit_blobs(dtype, lambda: mr.optimizers.Adam(learning_rate=0.02), after=after)


@case("training", "partial_last_batch", kind="training")
def partial_last_batch(dtype):
    """N=100, batch 32: the last batch of 4 is kept and weighted by its size in the epoch mean."""
    with precision(dtype):
        x, labels = blobs(100, dtype)
        x_val, val_labels = blobs(37, dtype, seed=1)
        model = classifier()
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, one_hot(labels, dtype), batch_size=32,
                           validation_data=(x_val, one_hot(val_labels, dtype)))


@case("training", "class_weight", kind="training")
def class_weight(dtype):
    """class_weight scales each sample's loss, still divided by the batch size."""
    return fit_blobs(dtype, lambda: mr.optimizers.SGD(learning_rate=0.05),
                     class_weight={0: 0.5, 1: 2.0, 2: 1.0})


@case("training", "weighted_metrics", kind="training")
def weighted_metrics(dtype):
    """compile(metrics=["accuracy"], weighted_metrics=["accuracy", "mae"]): only the weighted
    metrics take the sample weights (here from class_weight); the weighted accuracy, named
    like a plain one, is logged as weighted_accuracy; the validation data carry their own
    sample weights."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x_val, val_labels = blobs(30, dtype, seed=1)
        val_weights = np.linspace(0.2, 3.0, 30).astype(dtype)
        model = classifier()
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.05),
                      loss="categorical_crossentropy", metrics=["accuracy"],
                      weighted_metrics=["accuracy", "mae"])
        return compare_fit(model, x, one_hot(labels, dtype), batch_size=16,
                           class_weight={0: 0.2, 1: 5.0, 2: 1.0},
                           validation_data=(x_val, one_hot(val_labels, dtype), val_weights))


@case("training", "steps_per_execution", kind="training")
def steps_per_execution(dtype):
    """compile(steps_per_execution=4) over 6 batches: the same training, the batch
    callbacks called after steps 3 and 7 (Keras' end of the short last run) with the logs
    of that moment, here recorded by a callback written once for both libraries."""

    def make_callbacks(callbacks):
        class BatchLogs(callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seen = []

            def on_train_batch_end(self, batch, logs=None):
                self.seen.append([batch, logs["loss"], logs["accuracy"]])

        return [BatchLogs()]

    def after(model, keras_model, ours, theirs):
        return [("on_train_batch_end (step, loss, accuracy)", np.array(ours[0].seen),
                 np.array(theirs[0].seen))]

    with precision(dtype):
        x, labels = blobs(96, dtype)
        model = classifier()
        model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.02),
                      loss="categorical_crossentropy", metrics=["accuracy"],
                      steps_per_execution=4)
        return compare_fit(model, x, one_hot(labels, dtype), batch_size=16,
                           make_callbacks=make_callbacks, after=after)


@case("training", "class_weight_validation_split", kind="training")
def class_weight_validation_split(dtype):
    """class_weight with validation_split: the class weights apply to the training part only;
    val_loss is unweighted."""
    return fit_blobs(dtype, lambda: mr.optimizers.SGD(learning_rate=0.05),
                     class_weight={0: 0.2, 1: 5.0, 2: 1.0}, validation_split=0.25)


@case("training", "shared_layer", kind="training")
def shared_layer(dtype):
    """One Dense (4 -> 4, tanh) used twice in a row: one set of weights, trained with the
    gradient summed over both calls."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        mr.utils.set_random_seed(0)
        shared = mr.layers.Dense(N_FEATURES, activation="tanh", name="shared")
        model = mr.Sequential([mr.Input((N_FEATURES,)), shared, shared,
                               mr.layers.Dense(N_CLASSES, activation="softmax", name="output")])
        model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.02),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, one_hot(labels, dtype), batch_size=16)


# -- callbacks -------------------------------------------------------------------------------
# One run for every callback case: SGD with a large step (0.3, momentum 0.9) on 64 samples.
# Its val_loss improves for the first epochs, then climbs with ups and downs, so the callbacks
# have improvements, small gains and plateaus to react to. minired draws the starting weights
# in each precision, so float64 and float32 follow different runs: the settings below were
# chosen so that each argument changes the outcome in both (the docstrings say how).

def overshooting_fit(dtype: str, make_callbacks: Callable, after: Callable,
                     epochs: int) -> Outcome:
    """:func:`compare_fit` of the overshooting run, with validation data, for ``epochs``."""
    with precision(dtype):
        x, labels = blobs(64, dtype)
        x_val, val_labels = blobs(64, dtype, seed=3)
        model = classifier()
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.3, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, one_hot(labels, dtype), make_callbacks, after,
                           epochs=epochs, batch_size=16,
                           validation_data=(x_val, one_hot(val_labels, dtype)))


def compare_early_stopping(dtype: str, **kwargs) -> Outcome:
    """``EarlyStopping(monitor="val_loss", **kwargs)`` in both libraries, up to 20 epochs:
    History (so the epochs run), final (maybe restored) weights, and the callback's state:
    ``stopped_epoch``, ``best_epoch``, ``wait`` and ``best``."""

    def make_callbacks(callbacks):
        return [callbacks.EarlyStopping(monitor="val_loss", **kwargs)]

    def after(model, keras_model, ours, theirs):
        ours, theirs = ours[0], theirs[0]
        return [("stopped_epoch, best_epoch, wait",
                 np.array([ours.stopped_epoch, ours.best_epoch, ours.wait]),
                 np.array([theirs.stopped_epoch, theirs.best_epoch, theirs.wait])),
                ("best", np.array(ours.best, dtype=float), np.array(theirs.best, dtype=float))]

    return overshooting_fit(dtype, make_callbacks, after, epochs=20)


def compare_reduce_lr(dtype: str, epochs: int, **kwargs) -> Outcome:
    """``ReduceLROnPlateau(monitor="val_loss", factor=0.5, **kwargs)`` in both libraries:
    History (its ``learning_rate`` entry is the rate each epoch trained with), final weights,
    the optimizer's final rate and the callback's ``wait``, ``cooldown_counter``, ``best``."""

    def make_callbacks(callbacks):
        return [callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, **kwargs)]

    def after(model, keras_model, ours, theirs):
        ours, theirs = ours[0], theirs[0]
        return [("final learning rate", np.array(float(model.optimizer.learning_rate)),
                 np.array(float(keras_model.optimizer.learning_rate.numpy()))),
                ("wait, cooldown_counter", np.array([ours.wait, ours.cooldown_counter]),
                 np.array([theirs.wait, theirs.cooldown_counter])),
                ("best", np.array(ours.best, dtype=float), np.array(theirs.best, dtype=float))]

    return overshooting_fit(dtype, make_callbacks, after, epochs)


@case("training", "early_stopping", kind="training")
def early_stopping(dtype):
    """EarlyStopping(patience=1, restore_best_weights): same stop epoch, same restored weights."""
    return compare_early_stopping(dtype, patience=1, restore_best_weights=True)


@case("training", "early_stopping_min_delta", kind="training")
def early_stopping_min_delta(dtype):
    """EarlyStopping(min_delta=0.07, patience=2): gains of 0.06 and 0.04 do not count, so it
    stops at epoch 3 (not 4 in float64, 5 in float32) and restores epoch 1's weights."""
    return compare_early_stopping(dtype, patience=2, min_delta=0.07, restore_best_weights=True)


@case("training", "early_stopping_baseline", kind="training")
def early_stopping_baseline(dtype):
    """EarlyStopping(baseline=0.6, patience=3): improvements that miss the baseline do not
    reset wait, so it stops at the first worse epoch after the third (epoch 3 in float64,
    2 in float32; 5 and 6 without the baseline); no weights restored."""
    return compare_early_stopping(dtype, patience=3, baseline=0.6)


@case("training", "early_stopping_start_from_epoch", kind="training")
def early_stopping_start_from_epoch(dtype):
    """EarlyStopping(start_from_epoch=4): epochs 0-3 are not watched, so it stops at epoch 5
    (not 3 or 2) and restores epoch 4's weights, not those of a better, unwatched epoch."""
    return compare_early_stopping(dtype, patience=1, start_from_epoch=4,
                                  restore_best_weights=True)


@case("training", "reduce_lr_on_plateau", kind="training")
def reduce_lr_on_plateau(dtype):
    """ReduceLROnPlateau(factor=0.5, patience=1) halves the rate at the same epochs."""
    return compare_reduce_lr(dtype, epochs=8, patience=1)


@case("training", "reduce_lr_cooldown", kind="training")
def reduce_lr_cooldown(dtype):
    """ReduceLROnPlateau(cooldown=2): once the plateau starts the rate halves every other
    epoch (0.15, 0.15, 0.075, 0.075, ...), not every epoch. (cooldown=1 would change
    nothing, in Keras too: the counter runs out at the epoch it is checked.)"""
    return compare_reduce_lr(dtype, epochs=9, patience=1, cooldown=2)


@case("training", "reduce_lr_min_lr", kind="training")
def reduce_lr_min_lr(dtype):
    """ReduceLROnPlateau(min_lr=0.05): 0.3, 0.15, 0.075, then 0.05 for good (not 0.0375)."""
    return compare_reduce_lr(dtype, epochs=9, patience=1, min_lr=0.05)
