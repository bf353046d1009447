"""Callbacks, preprocessing layers, utils, two initializers and Embedding beside Keras.

- ``callbacks``: fits of the same model with the same weights in both libraries, with
  ``LearningRateScheduler`` (the rates and History), ``CSVLogger`` (the file's numbers)
  and ``TerminateOnNaN`` (a diverging run: the epoch it stops at and the ``inf`` loss).
- ``preprocessing``: ``Normalization`` adapted on the same data (its weights and outputs,
  every axis setting), inside a model trained for 5 epochs, and ``Rescaling``.
- ``utils``: ``to_categorical``, ``normalize``, ``pad_sequences`` and ``split_dataset``
  (whose tf.data datasets are read back into arrays), value for value.
- ``initializers``: ``Identity`` value for value; ``Orthogonal`` by what every draw
  satisfies (its Gram matrix ``WᵀW = gain²·I``) and, statistically, by the sign
  correction that makes it uniformly (Haar) distributed.
- ``layers``: ``Embedding`` (outputs, loss and ∂L/∂W with indices read several times),
  ``LayerNormalization`` (outputs, δx, ∂L/∂γ and ∂L/∂β for three settings).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import tempfile
from pathlib import Path

import numpy as np

from comparisons.data import N_FEATURES, blobs, one_hot, regression
from comparisons.keras_env import keras, mr, precision
from comparisons.mirror import optimizer_to_keras, to_keras
from comparisons.registry import Outcome, case
from comparisons.sampling import mean_z
from comparisons.training import classifier, compare_fit, fit_blobs

# -- callbacks -----------------------------------------------------------------------------------

def halve_from_epoch_2(epoch, lr):
    """The schedule of the scheduler cases: keep the rate for two epochs, then halve it."""
    return lr if epoch < 2 else lr * 0.5


@case("callbacks", "learning_rate_scheduler", kind="training")
def learning_rate_scheduler(dtype):
    """LearningRateScheduler over 5 epochs: the rates set, History's learning_rate, losses."""
    return fit_blobs(dtype, lambda: mr.optimizers.SGD(learning_rate=0.2, momentum=0.5),
                     validation_split=0.25,
                     make_callbacks=lambda m: [m.LearningRateScheduler(halve_from_epoch_2)])


def read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    """The header and the numbers of a CSVLogger file (``NA`` read as NaN)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[math.nan if v == "NA" else float(v) for v in row]
                              for row in rows[1:]])


@case("callbacks", "csv_logger", kind="training")
def csv_logger(dtype):
    """CSVLogger after a scheduler: the same header (sorted keys, NA val_ columns) and numbers."""
    folder = Path(tempfile.mkdtemp())

    def make(module):
        name = "ours" if module is mr.callbacks else "theirs"
        return [module.LearningRateScheduler(halve_from_epoch_2),
                module.CSVLogger(str(folder / f"{name}.csv"))]

    def after(model, keras_model, ours, theirs):
        header, values = read_csv(folder / "ours.csv")
        keras_header, keras_values = read_csv(folder / "theirs.csv")
        same_header = [float(header == keras_header)], [1.0]
        na, keras_na = np.isnan(values), np.isnan(keras_values)
        return [(f"CSV header {header}", *same_header),
                ("CSV cells holding NA", na.astype(float), keras_na.astype(float)),
                ("CSV numbers", np.where(na, 0.0, values), np.where(keras_na, 0.0, keras_values))]

    return fit_blobs(dtype, lambda: mr.optimizers.Adam(learning_rate=0.01),
                     make_callbacks=make, after=after)


@case("callbacks", "terminate_on_nan", kind="training")
def terminate_on_nan(dtype):
    """TerminateOnNaN on a run SGD(3.0) makes diverge: stops in epoch 1 with loss inf."""
    with precision(dtype):
        x, y = regression(64, dtype)
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((N_FEATURES,)), mr.layers.Dense(8, activation="relu"),
                               mr.layers.Dense(2)])
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=3.0), loss="mse")
        twin = to_keras(model)
        fit = {"batch_size": 8, "epochs": 3, "shuffle": False, "verbose": 0}
        # Both print "Batch 5: Invalid loss, terminating training"; the report needs neither.
        with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
            ours = model.fit(x, 100 * y, callbacks=[mr.callbacks.TerminateOnNaN()], **fit)
            theirs = twin.fit(x, 100 * y, callbacks=[keras.callbacks.TerminateOnNaN()], **fit)
    # Keras also applied the broken update (its weights are NaN); minired skipped it, so
    # the weights are not compared.
    return Outcome([("History.epoch", np.array(ours.epoch), np.array(theirs.epoch)),
                    ("History loss", np.array(ours.history["loss"]),
                     np.array(theirs.history["loss"]))],
                   notes=f"loss {ours.history['loss']} vs {theirs.history['loss']}")


# -- preprocessing -------------------------------------------------------------------------------

AXES = {"last": -1, "none": None, "two": (1, 2), "middle": 1}


def _normalization_adapt_case(name: str, axis, invert: bool) -> None:
    def compare(dtype):
        rng = np.random.default_rng(0)
        data = rng.normal(3.0, 2.0, size=(64, 3, 4)).astype(dtype)
        x = rng.normal(3.0, 2.0, size=(8, 3, 4)).astype(dtype)
        with precision(dtype):
            ours = mr.layers.Normalization(axis=axis, invert=invert)
            theirs = keras.layers.Normalization(axis=axis, invert=invert)
            ours.adapt(data)
            theirs.adapt(data)
            pairs = [(f"weight {i}", w, np.asarray(v)) for i, (w, v) in
                     enumerate(zip(ours.get_weights(), theirs.get_weights(), strict=True))]
            pairs.append(("outputs", ours(x), np.asarray(theirs(x))))
        return Outcome(pairs)

    compare.__doc__ = (f"Normalization(axis={axis!r}, invert={invert}) adapted on (64, 3, 4): "
                       "mean, variance, count and outputs.")
    case("preprocessing", name)(compare)


for _name, _axis in AXES.items():
    _normalization_adapt_case(f"normalization_adapt_axis_{_name}", _axis, False)
_normalization_adapt_case("normalization_invert", -1, True)


@case("preprocessing", "normalization_given_stats")
def normalization_given_stats(dtype):
    """Normalization(mean=..., variance=...): Python floats go through float32, as in Keras."""
    x = np.random.default_rng(1).normal(size=(8, 4)).astype(dtype)
    kwargs = {"mean": [0.1, 0.2, -0.3, 4.0], "variance": [1.0, 2.0, 0.3, 0.0]}
    with precision(dtype):
        ours = mr.layers.Normalization(**kwargs)(x)
        theirs = np.asarray(keras.layers.Normalization(**kwargs)(x))
    return Outcome([("outputs", ours, theirs)])


@case("preprocessing", "rescaling")
def rescaling(dtype):
    """Rescaling(1/127.5, offset=-1) on uint8 pixels, and on floats."""
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, size=(8, 5, 5)).astype(np.uint8)
    x = rng.normal(size=(8, 5)).astype(dtype)
    with precision(dtype):
        pairs = []
        for label, inputs in (("uint8 pixels", pixels), ("floats", x)):
            ours = mr.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
            theirs = np.asarray(keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs))
            pairs.append((label, ours, theirs))
    return Outcome(pairs)


@case("preprocessing", "normalization_in_model", kind="training")
def normalization_in_model(dtype):
    """Normalization adapted on the data, then Dense layers: 5 epochs of Adam, History, weights."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x = x * np.array([1.0, 10.0, 100.0, 0.1], dtype=dtype) + 5   # features of unequal scale
        y = one_hot(labels, dtype)
        mr.utils.set_random_seed(0)
        norm = mr.layers.Normalization()
        norm.adapt(x)
        dense = classifier()           # its Dense layers, seeded, placed after the normalization
        model = mr.Sequential([mr.Input((N_FEATURES,)), norm, *dense.layers])
        model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        keras_norm = keras.layers.Normalization()
        keras_norm.adapt(x)
        twin = keras.Sequential([keras.Input((N_FEATURES,)), keras_norm,
                                 keras.layers.Dense(8, activation="relu", name="hidden"),
                                 keras.layers.Dense(3, activation="softmax", name="output")])
        twin.set_weights(model.get_weights())
        twin.compile(optimizer=optimizer_to_keras(model.optimizer),
                     loss="categorical_crossentropy", metrics=["accuracy"])
        return compare_fit(model, x, y, keras_model=twin, batch_size=16)


# -- utils ---------------------------------------------------------------------------------------

@case("utils", "to_categorical")
def to_categorical(dtype):
    """to_categorical on labels of shape (N,), (N, 1) and (N, T): the same one-hot values."""
    rng = np.random.default_rng(3)
    pairs = []
    for shape in ((10,), (10, 1), (4, 6)):
        labels = rng.integers(0, 5, size=shape)
        pairs.append((f"labels {shape}", mr.utils.to_categorical(labels, 6),
                      keras.utils.to_categorical(labels, 6)))
    return Outcome(pairs)


@case("utils", "normalize")
def normalize(dtype):
    """normalize with orders 1, 2 and inf along the last and a middle axis (zero rows kept)."""
    x = np.random.default_rng(4).normal(size=(4, 3, 5)).astype(dtype)
    x[0, 0] = 0
    pairs = [(f"order {order}, axis {axis}", mr.utils.normalize(x, axis, order),
              keras.utils.normalize(x, axis, order))
             for order in (1, 2, np.inf) for axis in (-1, 1)]
    return Outcome(pairs)


@case("utils", "pad_sequences")
def pad_sequences(dtype):
    """pad_sequences with every padding/truncating choice, maxlen shorter than the longest."""
    rng = np.random.default_rng(5)
    sequences = [rng.normal(size=n).astype(dtype) * 10 for n in (0, 2, 5, 7)]
    pairs = []
    for padding in ("pre", "post"):
        for truncating in ("pre", "post"):
            args = {"maxlen": 5, "padding": padding, "truncating": truncating,
                    "dtype": dtype, "value": -1.0}
            pairs.append((f"padding={padding}, truncating={truncating}",
                          mr.utils.pad_sequences(sequences, **args),
                          keras.utils.pad_sequences(sequences, **args)))
    return Outcome(pairs)


@case("utils", "split_dataset")
def split_dataset(dtype):
    """split_dataset((x, y), 0.7, shuffle=True, seed=7): Python's shuffle, the same rows."""
    x, labels = blobs(20, dtype)
    ours = mr.utils.split_dataset((x, labels), left_size=0.7, shuffle=True, seed=7)
    theirs = keras.utils.split_dataset((x, labels), left_size=0.7, shuffle=True, seed=7)
    pairs = []
    for side, our_side, their_side in zip(("left", "right"), ours, theirs, strict=True):
        samples = list(their_side.as_numpy_iterator())
        for name, a, b in zip(("x", "y"), our_side, zip(*samples, strict=True), strict=True):
            pairs.append((f"{side} {name}", a, np.stack(b)))
    return Outcome(pairs)


# -- initializers --------------------------------------------------------------------------------

@case("initializers", "identity")
def identity(dtype):
    """Identity(gain=1.5) on square, wide and tall shapes: value for value."""
    with precision(dtype):
        return Outcome([(f"{shape}", mr.initializers.Identity(1.5)(shape),
                         np.asarray(keras.initializers.Identity(1.5)(shape)))
                        for shape in ((4, 4), (3, 6), (6, 3))])


@case("initializers", "orthogonal_gram")
def orthogonal_gram(dtype):
    """Orthogonal(gain=1.5): WᵀW (tall) or WWᵀ (wide) = 2.25·I for Dense and conv shapes."""
    pairs = []
    with precision(dtype):
        for shape in ((64, 32), (32, 64), (3, 3, 8, 16)):
            rows = math.prod(shape[:-1])

            def gram(w, rows=rows, shape=shape):
                flat = np.asarray(w, np.float64).reshape(rows, shape[-1])
                return flat.T @ flat if rows >= shape[-1] else flat @ flat.T

            pairs.append((f"Gram matrix of {shape}",
                          gram(mr.initializers.Orthogonal(1.5, seed=1)(shape)),
                          gram(keras.initializers.Orthogonal(1.5, seed=1)(shape))))
    return Outcome(pairs)


@case("initializers", "orthogonal_haar", kind="statistical")
def orthogonal_haar(dtype):
    """Orthogonal's sign correction: W[0, 0] of 512 (64, 32) draws has mean 0, variance 1/64."""
    seeds = range(1, 513)
    with precision(dtype):
        ours = np.array([mr.initializers.Orthogonal(seed=s)((64, 32))[0, 0] for s in seeds])
        theirs = np.array([np.asarray(keras.initializers.Orthogonal(seed=s)((64, 32)))[0, 0]
                           for s in seeds])
    zs = [("minired mean of W[0, 0], z", mean_z(ours, 0.0, 1 / 64)),
          ("Keras mean of W[0, 0], z", mean_z(theirs, 0.0, 1 / 64))]
    return Outcome([(label, np.array(z), np.array(0.0)) for label, z in zs],
                   notes=f"means {ours.mean():.4f} and {theirs.mean():.4f}, "
                         f"standard error {1 / 8 / 512**0.5:.4f}")


# -- layers --------------------------------------------------------------------------------------

@case("layers", "embedding")
def embedding(dtype):
    """Embedding -> GlobalAveragePooling1D -> Dense on indices read several times per batch:
    outputs, loss and ∂L/∂W (the scatter-add of the rows) against tf.GradientTape."""
    from comparisons.common import tf

    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 10, size=(12, 6)), rng.normal(size=(12, 1)).astype(dtype)
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((6,), dtype="int32"), mr.layers.Embedding(10, 4),
                               mr.layers.GlobalAveragePooling1D(), mr.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        twin = keras.Sequential([keras.Input((6,), dtype="int32"), keras.layers.Embedding(10, 4),
                                 keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
        twin.set_weights(model.get_weights())
        loss, grads = model.loss_and_gradients(x, y)
        with tf.GradientTape() as tape:
            keras_loss = tf.reduce_mean(keras.losses.mean_squared_error(y, twin(x)))
        # ∂L/∂W of an Embedding comes as tf.IndexedSlices (one row per read): made dense.
        keras_grads = [tf.convert_to_tensor(g).numpy()
                       for g in tape.gradient(keras_loss, twin.trainable_variables)]
        return Outcome([("outputs", model.predict(x, verbose=0), twin.predict(x, verbose=0)),
                        ("loss", np.array(loss), keras_loss.numpy()),
                        *[(f"∂L/∂{name}", g, kg) for name, g, kg in zip(
                            ("embeddings", "kernel", "bias"), grads, keras_grads, strict=True)]])


@case("layers", "layer_normalization")
def layer_normalization(dtype):
    """LayerNormalization alone (last axis, epsilon=1e-6 as the keras-io transformers; two
    axes; no β) on sequences (N, T, C): outputs, δx and ∂L/∂γ, ∂L/∂β for a random δŷ."""
    from comparisons.vision import layer_pairs

    settings = [("axis=-1, epsilon=1e-6", lambda: mr.layers.LayerNormalization(epsilon=1e-6)),
                ("axis=[1, 2]", lambda: mr.layers.LayerNormalization(axis=[1, 2])),
                ("center=False", lambda: mr.layers.LayerNormalization(center=False))]
    pairs = []
    with precision(dtype):
        for i, (label, make_layer) in enumerate(settings):
            pairs += layer_pairs(make_layer, (5, 4), dtype, label, seed=i)
    return Outcome(pairs, notes=f"{len(settings)} settings")
