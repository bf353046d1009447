"""Losses: a small model trained 5 epochs with each loss of Keras' catalog, in both libraries.

Every case compiles a minired model with one loss (by its Keras name where the defaults are
used), lets ``to_keras`` build the twin, fits both on the same fixed data and compares
History and final weights (:func:`comparisons.training.compare_fit`). A loss's value and
gradient enter every step, so a wrong formula, epsilon or gradient shows in the weights.
``Huber(delta)`` and ``CosineSimilarity(axis)`` do not record their argument in
``get_config()`` (in Keras neither), so those twins are compiled with the Keras loss given
explicitly.

TensorFlow and Keras are imported when a case runs, not when this module is imported, so
registering these cases costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from comparisons.registry import Outcome, case

N = 96
BATCH_SIZE = 16


def fit_with_loss(dtype: str, loss, target: Callable, units: int, activation: str,
                  make_optimizer: Callable, keras_loss: Callable | None = None,
                  weighted: bool = False) -> Outcome:
    """``Input(4) -> Dense(8, relu) -> Dense(units, activation)`` trained with ``loss``.

    Args:
        dtype: the precision of both libraries.
        loss: the minired loss (a name or a Loss).
        target: ``target(x, labels, dtype) -> y`` from the blob inputs and their classes.
        units, activation: the output layer.
        make_optimizer: ``make_optimizer(mr) -> optimizer``.
        keras_loss: ``keras_loss(keras) -> Keras loss``, when ``to_keras`` cannot translate
            the loss from its config.
        weighted: whether to pass per-sample weights to both ``fit`` calls.
    """
    from comparisons.data import blobs
    from comparisons.keras_env import keras, mr, precision
    from comparisons.mirror import optimizer_to_keras, to_keras
    from comparisons.training import classifier, compare_fit

    with precision(dtype):
        x, labels = blobs(N, dtype)
        model = classifier(output_units=units, output_activation=activation)
        model.compile(optimizer=make_optimizer(mr), loss=loss)
        keras_model = to_keras(model)
        if keras_loss is not None:
            keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                                loss=keras_loss(keras))
        extra = {}
        if weighted:
            extra["sample_weight"] = np.random.default_rng(5).uniform(0.2, 2.0, N).astype(dtype)
        return compare_fit(model, x, target(x, labels, dtype), keras_model=keras_model,
                           batch_size=BATCH_SIZE, **extra)


# -- targets ----------------------------------------------------------------------------------

def real(x, labels, dtype):
    """Two real targets, a noisy linear function of the inputs."""
    rng = np.random.default_rng(4)
    y = x @ rng.normal(size=(x.shape[1], 2)) + 0.1 * rng.normal(size=(len(x), 2))
    return y.astype(dtype)


def positive(x, labels, dtype):
    """Two targets in [0, ~5] (MSLE's, and MAPE's away from 0)."""
    return (np.abs(real(x, labels, dtype)) + 0.5).astype(dtype)


def one_hot(x, labels, dtype):
    return np.eye(3, dtype=dtype)[labels]


def soft(x, labels, dtype):
    """Probability vectors: one-hot smoothed towards uniform (KL divergence's targets)."""
    return (0.8 * np.eye(3)[labels] + 0.2 / 3).astype(dtype)


def binary(x, labels, dtype):
    """One 0/1 target: is the sample of class 0?"""
    return (labels == 0).astype(dtype).reshape(-1, 1)


def signed(x, labels, dtype):
    """One -1/1 target."""
    return (2 * binary(x, labels, dtype) - 1).astype(dtype)


def sgd(rate: float) -> Callable:
    return lambda mr: mr.optimizers.SGD(learning_rate=rate)


def adam(rate: float) -> Callable:
    return lambda mr: mr.optimizers.Adam(learning_rate=rate)


# -- cases --------------------------------------------------------------------------------------

@case("losses", "mae", kind="training")
def mae(dtype):
    """compile(loss="mae"): linear output, two real targets, gradient sign(ŷ - y)/D."""
    return fit_with_loss(dtype, "mae", real, 2, "linear", sgd(0.05))


@case("losses", "mae_sample_weight", kind="training")
def mae_sample_weight(dtype):
    """MAE with per-sample weights in fit (divided by N, not Σw)."""
    return fit_with_loss(dtype, "mean_absolute_error", real, 2, "linear", sgd(0.05),
                         weighted=True)


@case("losses", "mape", kind="training")
def mape(dtype):
    """compile(loss="mape"): 100·|y - ŷ| / max(|y|, ε), positive targets, Adam."""
    return fit_with_loss(dtype, "mape", positive, 2, "linear", adam(0.01))


@case("losses", "msle", kind="training")
def msle(dtype):
    """compile(loss="msle"): log(max(ŷ, ε) + 1), ε rounded to float32 as Keras does."""
    return fit_with_loss(dtype, "msle", positive, 2, "linear", adam(0.01))


@case("losses", "huber", kind="training")
def huber(dtype):
    """Huber(delta=0.5): quadratic and linear regions both visited."""
    from comparisons.keras_env import mr

    return fit_with_loss(dtype, mr.losses.Huber(delta=0.5), real, 2, "linear", sgd(0.05),
                         keras_loss=lambda keras: keras.losses.Huber(delta=0.5))


@case("losses", "log_cosh", kind="training")
def log_cosh(dtype):
    """compile(loss="log_cosh"): x + softplus(-2x) - float32(log 2), gradient tanh(x)/D."""
    return fit_with_loss(dtype, "log_cosh", real, 2, "linear", sgd(0.05))


@case("losses", "poisson", kind="training")
def poisson(dtype):
    """compile(loss="poisson") on a sigmoid output (a positive rate) with 0/1 counts."""
    return fit_with_loss(dtype, "poisson", one_hot, 3, "sigmoid", sgd(0.1))


@case("losses", "kld", kind="training")
def kld(dtype):
    """compile(loss="kld"): softmax output, smoothed targets; no logits shortcut here."""
    return fit_with_loss(dtype, "kld", soft, 3, "softmax", sgd(0.1))


@case("losses", "cosine_similarity", kind="training")
def cosine_similarity(dtype):
    """compile(loss="cosine_similarity"): the direction of two real targets."""
    return fit_with_loss(dtype, "cosine_similarity", real, 2, "linear", sgd(0.1))


@case("losses", "hinge", kind="training")
def hinge(dtype):
    """compile(loss="hinge") on a tanh output, 0/1 labels converted to -1/1."""
    return fit_with_loss(dtype, "hinge", binary, 1, "tanh", sgd(0.05))


@case("losses", "squared_hinge", kind="training")
def squared_hinge(dtype):
    """compile(loss="squared_hinge") on a linear output, -1/1 labels."""
    return fit_with_loss(dtype, "squared_hinge", signed, 1, "linear", sgd(0.05))


@case("losses", "categorical_hinge", kind="training")
def categorical_hinge(dtype):
    """compile(loss="categorical_hinge"): linear output, one-hot labels, three classes."""
    return fit_with_loss(dtype, "categorical_hinge", one_hot, 3, "linear", sgd(0.05))


@case("losses", "binary_focal_sigmoid", kind="training")
def binary_focal_sigmoid(dtype):
    """compile(loss="binary_focal_crossentropy") on a sigmoid: Keras reads its logits for
    the cross-entropy, and the focal factor uses the probability."""
    return fit_with_loss(dtype, "binary_focal_crossentropy", binary, 1, "sigmoid", sgd(0.2))


@case("losses", "binary_focal_from_logits", kind="training")
def binary_focal_from_logits(dtype):
    """BinaryFocalCrossentropy(from_logits, class balancing α=0.4, γ=1.5), linear output."""
    from comparisons.keras_env import mr

    loss = mr.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5,
                                             from_logits=True)
    return fit_with_loss(dtype, loss, binary, 1, "linear", sgd(0.2))


# -- the losses added with Keras 3's catalog: focal, overlap, noise-robust, metric, CTC ------

def labels_of(x, labels, dtype):
    """The integer class of every sample (GCE's and Circle's targets)."""
    return labels.astype(dtype)


@case("losses", "categorical_focal_softmax", kind="training")
def categorical_focal_softmax(dtype):
    """compile(loss="categorical_focal_crossentropy") on a softmax: unlike the plain
    cross-entropy, Keras works on the probabilities here, not on the softmax's logits."""
    return fit_with_loss(dtype, "categorical_focal_crossentropy", one_hot, 3, "softmax",
                         sgd(0.5))


@case("losses", "categorical_focal_from_logits", kind="training")
def categorical_focal_from_logits(dtype):
    """CategoricalFocalCrossentropy(α per class, γ=1.5, label smoothing, from_logits),
    linear output, per-sample weights."""
    from comparisons.keras_env import mr

    loss = mr.losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5], gamma=1.5,
                                                  from_logits=True, label_smoothing=0.1)
    return fit_with_loss(dtype, loss, one_hot, 3, "linear", sgd(0.5), weighted=True)


@case("losses", "categorical_generalized_cross_entropy", kind="training")
def categorical_generalized_cross_entropy(dtype):
    """compile(loss=losses.categorical_generalized_cross_entropy) (no string name, as in
    Keras 3.15): softmax output, integer labels, (1 - p_c^q)/q with q = 0.5."""
    from comparisons.keras_env import mr

    return fit_with_loss(dtype, mr.losses.categorical_generalized_cross_entropy, labels_of,
                         3, "softmax", sgd(0.5))


@case("losses", "dice", kind="training")
def dice(dtype):
    """compile(loss="dice"): sigmoid outputs, one-hot masks, one loss per batch (axis=None)."""
    return fit_with_loss(dtype, "dice", one_hot, 3, "sigmoid", sgd(0.5))


@case("losses", "dice_sample_weight", kind="training")
def dice_sample_weight(dtype):
    """Dice (one loss per batch) with per-sample weights in fit: Keras broadcasts the one
    loss against the weights, L = ℓ Σw / N."""
    return fit_with_loss(dtype, "dice", one_hot, 3, "sigmoid", sgd(0.5), weighted=True)


@case("losses", "tversky_per_sample", kind="training")
def tversky_per_sample(dtype):
    """Tversky(α=0.3, β=0.7, axis=1): one loss per sample, per-sample weights."""
    from comparisons.keras_env import mr

    return fit_with_loss(dtype, mr.losses.Tversky(alpha=0.3, beta=0.7, axis=1), one_hot, 3,
                         "sigmoid", sgd(0.5), weighted=True)


@case("losses", "circle", kind="training")
def circle(dtype):
    """Circle(γ=4, m=0.25) on 3-D embeddings: every pair of the batch, losses 0 masked."""
    from comparisons.keras_env import mr

    return fit_with_loss(dtype, mr.losses.Circle(gamma=4.0, margin=0.25), labels_of, 3,
                         "linear", sgd(0.02))


@case("losses", "ctc", kind="training", precisions=("float32",))
def ctc(dtype):
    """compile(loss="ctc"): a Dense layer on 6 time steps scores 4 classes (0 the blank);
    labels of 1 to 3 symbols padded with 0. Float32 only: Keras (``tf.nn.ctc_loss``)
    computes CTC in float32 even in float64, so there it would measure TF's rounding."""
    from comparisons.keras_env import mr, precision
    from comparisons.training import compare_fit

    with precision(dtype):
        rng = np.random.default_rng(6)
        x = rng.normal(size=(32, 6, 5)).astype(dtype)
        lengths = rng.integers(1, 4, 32)
        y = rng.integers(1, 4, (32, 3)) * (np.arange(3)[None, :] < lengths[:, None])
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((6, 5)), mr.layers.Dense(4, name="scores")])
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1), loss="ctc")
        return compare_fit(model, x, y.astype(dtype), batch_size=8, epochs=3)
