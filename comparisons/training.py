"""Training: ``fit`` in minired and in Keras, from the same weights, records the same History.

Every case builds a small minired model, compiles it, and lets :func:`~comparisons.mirror.to_keras`
make the Keras twin (same layers, weights, loss, optimizer and metrics). Both then ``fit``
the same fixed data with ``shuffle=False`` (Keras' shuffle order cannot be reproduced), and
:func:`compare_fit` compares every History entry epoch by epoch and every final weight.

The data are small (about 100 samples, 4 features) so that Keras' tf.function tracing
dominates the run time and each case stays around a second.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.mirror import to_keras
from comparisons.registry import Outcome, case

EPOCHS = 5
N_FEATURES = 4
N_CLASSES = 3


# -- data ------------------------------------------------------------------------------------

CENTRES = np.random.default_rng(0).normal(size=(N_CLASSES, N_FEATURES))


def blobs(n: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points in 4-D around three overlapping centres; returns ``(x, integer labels)``.

    Different seeds draw different samples of the same three classes.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, size=n)
    x = CENTRES[labels] + 0.9 * rng.normal(size=(n, N_FEATURES))
    return x.astype(dtype), labels


def one_hot(labels: np.ndarray, dtype: str) -> np.ndarray:
    return np.eye(N_CLASSES, dtype=dtype)[labels]


def regression(n: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``y = x·A + noise`` with two targets."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES))
    y = x @ rng.normal(size=(N_FEATURES, 2)) + 0.1 * rng.normal(size=(n, 2))
    return x.astype(dtype), y.astype(dtype)


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

def compare_fit(model: mr.Sequential, x, y, make_callbacks: Callable | None = None,
                after: Callable | None = None, **fit_kwargs) -> Outcome:
    """Fit ``model`` and its Keras twin alike; compare History, final weights and ``after``.

    Args:
        model: a compiled minired model (built in the current precision).
        x, y: the training data.
        make_callbacks: ``make_callbacks(callbacks_module) -> list``, called once with
            ``mr.callbacks`` and once with ``keras.callbacks``.
        after: ``after(model, keras_model, ours_callbacks, keras_callbacks) -> pairs``,
            extra comparisons made once both have trained.
        fit_kwargs: passed to both ``fit`` calls (``shuffle=False, verbose=0`` are added).
    """
    keras_model = to_keras(model)
    ours_callbacks = make_callbacks(mr.callbacks) if make_callbacks else []
    keras_callbacks = make_callbacks(keras.callbacks) if make_callbacks else []
    fit_kwargs = {"epochs": EPOCHS, "shuffle": False, "verbose": 0, **fit_kwargs}
    ours = model.fit(x, y, callbacks=ours_callbacks, **fit_kwargs).history
    theirs = keras_model.fit(x, y, callbacks=keras_callbacks, **fit_kwargs).history

    pairs = []
    if sorted(ours) != sorted(theirs):
        # A missing or extra History key is a failure in itself (relative difference 1).
        pairs.append((f"History keys {sorted(ours)} vs {sorted(theirs)}", [1.0], [0.0]))
    for key in sorted(set(ours) & set(theirs)):
        pairs.append((f"history {key}", np.array(ours[key]), np.array(theirs[key])))
    layer_names = [layer.name for layer in model.layers for _ in layer.weights]
    for i, (w, v) in enumerate(zip(model.get_weights(), keras_model.get_weights(),
                                   strict=True)):
        pairs.append((f"final weight {i} ({layer_names[i]})", w, v))
    if after is not None:
        pairs += after(model, keras_model, ours_callbacks, keras_callbacks)
    return Outcome(pairs, curves={"minired": list(ours["loss"]), "keras": list(theirs["loss"])})


# -- cases -----------------------------------------------------------------------------------

@case("training", "sgd_momentum_categorical", kind="training")
def sgd_momentum_categorical(dtype):
    """SGD+momentum, softmax + categorical_crossentropy (logits path), loss and accuracy."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        model = classifier()
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, one_hot(labels, dtype), batch_size=16)


@case("training", "adam_sparse_categorical", kind="training")
def adam_sparse_categorical(dtype):
    """Adam with integer labels and sparse_categorical_crossentropy."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        model = classifier()
        model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.02),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, labels, batch_size=16)


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
    with precision(dtype):
        x, labels = blobs(96, dtype)
        model = classifier(kernel_regularizer=mr.regularizers.L2(0.02),
                           bias_regularizer=mr.regularizers.L1(0.01))
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, one_hot(labels, dtype), batch_size=16)


@case("training", "validation_split", kind="training")
def validation_split(dtype):
    """validation_split=0.25 holds out the last quarter; val_* use end-of-epoch weights."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        model = classifier()
        model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.02),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, one_hot(labels, dtype), batch_size=16,
                           validation_split=0.25)


@case("training", "validation_data", kind="training")
def validation_data(dtype):
    """validation_data=(x_val, y_val): val_loss and val_accuracy every epoch."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x_val, val_labels = blobs(40, dtype, seed=1)
        model = classifier()
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, labels, batch_size=16,
                           validation_data=(x_val, val_labels))


@case("training", "evaluate_predict", kind="training")
def evaluate_predict(dtype):
    """After fit, evaluate (loss, accuracy) and predict agree on unseen data."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x_test, test_labels = blobs(50, dtype, seed=2)
        y_test = one_hot(test_labels, dtype)
        model = classifier()
        model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.02),
                      loss="categorical_crossentropy", metrics=["accuracy"])

        def after(model, keras_model, *_):
            ours = model.evaluate(x_test, y_test, batch_size=16, verbose=0)
            theirs = keras_model.evaluate(x_test, y_test, batch_size=16, verbose=0)
            return [("evaluate [loss, accuracy]", np.array(ours), np.array(theirs)),
                    ("predict", model.predict(x_test, batch_size=16, verbose=0),
                     keras_model.predict(x_test, batch_size=16, verbose=0))]

        return compare_fit(model, x, one_hot(labels, dtype), after=after, batch_size=16)


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
    with precision(dtype):
        x, labels = blobs(96, dtype)
        model = classifier()
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.05),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, one_hot(labels, dtype), batch_size=16,
                           class_weight={0: 0.5, 1: 2.0, 2: 1.0})


@case("training", "early_stopping", kind="training")
def early_stopping(dtype):
    """EarlyStopping(patience=1, restore_best_weights): same stop epoch, same restored weights."""
    with precision(dtype):
        x, labels = blobs(64, dtype)
        x_val, val_labels = blobs(64, dtype, seed=3)
        model = classifier()
        # A large step makes val_loss turn up after a few epochs.
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.3, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])

        def make_callbacks(callbacks):
            return [callbacks.EarlyStopping(monitor="val_loss", patience=1,
                                            restore_best_weights=True)]

        def after(model, keras_model, ours, theirs):
            return [("epochs run, stopped_epoch, best_epoch",
                     np.array([len(model.history.epoch), ours[0].stopped_epoch,
                               ours[0].best_epoch]),
                     np.array([len(keras_model.history.epoch), theirs[0].stopped_epoch,
                               theirs[0].best_epoch]))]

        return compare_fit(model, x, one_hot(labels, dtype), make_callbacks, after,
                           epochs=20, batch_size=16,
                           validation_data=(x_val, one_hot(val_labels, dtype)))


@case("training", "reduce_lr_on_plateau", kind="training")
def reduce_lr_on_plateau(dtype):
    """ReduceLROnPlateau(factor=0.5, patience=1) halves the rate at the same epochs."""
    with precision(dtype):
        x, labels = blobs(64, dtype)
        x_val, val_labels = blobs(64, dtype, seed=3)
        model = classifier()
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.3, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])

        def make_callbacks(callbacks):
            return [callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)]

        return compare_fit(model, x, one_hot(labels, dtype), make_callbacks, epochs=8,
                           batch_size=16, validation_data=(x_val, one_hot(val_labels, dtype)))
