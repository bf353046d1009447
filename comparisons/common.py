"""What several comparison areas share: twin models and Keras' gradients.

The data they feed both libraries live in :mod:`comparisons.data`.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, tf
from comparisons.mirror import to_keras


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
    names = [f"{layer.name}/{w}" for layer in model.unique_layers
             for w in (("kernel", "bias") if getattr(layer, "use_bias", False) else ("kernel",))
             if layer.weights]
    pairs += [(f"∂L/∂{name}", g, kg) for name, g, kg in zip(names, grads, k_grads, strict=True)]
    return pairs


__all__ = ["keras", "mr", "tf", "twins", "keras_loss_and_gradients", "gradient_pairs"]
