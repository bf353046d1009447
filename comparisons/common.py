"""What several comparison areas share: data, twin models, and Keras' gradients."""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, tf
from comparisons.mirror import to_keras


def random_data(dtype: str, n: int = 16, features: int = 4, seed: int = 0) -> np.ndarray:
    """A fixed batch of standard-normal inputs in ``dtype``."""
    return np.random.default_rng(seed).standard_normal((n, features)).astype(dtype)


def targets(kind: str, n: int, outputs: int, dtype: str, seed: int = 1) -> np.ndarray:
    """Targets that fit a loss: one-hot, integer labels, binary or real values."""
    rng = np.random.default_rng(seed)
    if kind == "onehot":
        return np.eye(outputs, dtype=dtype)[rng.integers(0, outputs, n)]
    if kind == "sparse":
        return rng.integers(0, outputs, n)
    if kind == "binary":
        return rng.integers(0, 2, (n, outputs)).astype(dtype)
    return rng.standard_normal((n, outputs)).astype(dtype)


def twins(layers: list, loss, input_dim: int = 4, optimizer="sgd", metrics=None, seed: int = 0):
    """A compiled minired model and its Keras twin with the same weights.

    The weights are drawn by minired (seeded) and copied into Keras by ``to_keras``.
    """
    mr.utils.set_random_seed(seed)
    model = mr.Sequential([mr.Input((input_dim,)), *layers])
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model, to_keras(model)


def keras_loss_and_gradients(keras_model, x, y, sample_weight=None, training: bool = False):
    """Keras' total loss and ``∂L/∂w`` (in ``get_weights()`` order) from ``tf.GradientTape``.

    ``compute_loss`` is the loss ``fit`` minimises: data loss plus regularization penalties.
    """
    with tf.GradientTape() as tape:
        y_pred = keras_model(x, training=training)
        loss = keras_model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                        training=training)
    grads = tape.gradient(loss, keras_model.trainable_variables)
    return float(loss), [np.asarray(g) for g in grads]


def gradient_pairs(model, keras_model, x, y, sample_weight=None, training: bool = False):
    """``(label, minired, keras)`` triples for the loss and every weight's gradient."""
    loss, grads = model.loss_and_gradients(x, y, sample_weight=sample_weight, training=training)
    k_loss, k_grads = keras_loss_and_gradients(keras_model, x, y, sample_weight, training)
    pairs = [("loss", np.array(loss), np.array(k_loss))]
    names = [f"{layer.name}/{w}" for layer in model.layers
             for w in (("kernel", "bias") if getattr(layer, "use_bias", False) else ("kernel",))
             if layer.weights]
    pairs += [(f"∂L/∂{name}", g, kg) for name, g, kg in zip(names, grads, k_grads, strict=True)]
    return pairs


__all__ = ["keras", "mr", "tf", "random_data", "targets", "twins", "keras_loss_and_gradients",
           "gradient_pairs"]
