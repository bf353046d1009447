"""Dropout: the same mask gives the same numbers, and the masks are drawn alike.

Keras draws its masks with TensorFlow's Philox generator, which NumPy cannot reproduce, so
Dropout is compared in two ways:

- **same mask** (``same_mask``, ``scaling``): minired draws a mask; on the Keras side a tiny
  layer, :class:`GivenMaskDropout`, applies that mask exactly as TensorFlow's
  ``stateless_dropout`` does (``where(keep, x · 1/(1-rate), 0)``, the scale converted to the
  input's dtype). Outputs and gradients must then agree like any other layer's. The Keras
  layer computes its scale from ``rate`` itself: only the 0/1 mask crosses over.
- **statistics** (``keep_rate``, kind ``"statistical"``): each library's own Dropout layer
  on 200,000 inputs keeps a fraction ``1 - rate`` of them, up to sampling noise. Each
  statistic is reported in binomial standard errors, ``z = (p̂ - p) / sqrt(p(1-p)/n)``
  (:func:`comparisons.sampling.binomial_z`), and passes when ``|z| < 5``.
"""

from __future__ import annotations

import numpy as np

from comparisons.common import keras_loss_and_gradients
from comparisons.data import classification_batch, random_data
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.mirror import loss_to_keras, to_keras
from comparisons.registry import Outcome, case
from comparisons.sampling import binomial_z, difference_z, impossible_z


class GivenMaskDropout(keras.layers.Layer):
    """Keras layer: TensorFlow's dropout arithmetic with a mask set from outside.

    ``stateless_dropout`` computes ``where(uniform >= rate, x * scale, 0)`` with
    ``scale = convert_to_tensor(1 / (1 - rate), x.dtype)``; here ``uniform >= rate`` is
    replaced by ``self.mask`` (assign it before each call). Identity when not training.
    """

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.mask = None

    def call(self, inputs, training=False):
        if not training:
            return inputs
        scale = tf.convert_to_tensor(1 / (1 - self.rate), dtype=inputs.dtype)
        keep = tf.cast(self.mask, "bool")
        return tf.where(keep, inputs * scale, tf.zeros((), dtype=inputs.dtype))


def with_given_masks(model: mr.Sequential):
    """The Keras twin of ``model`` with every Dropout replaced by a :class:`GivenMaskDropout`.

    Returns ``(keras_model, pairs)`` where ``pairs`` lists ``(minired Dropout, Keras layer)``.
    """
    twin = to_keras(model)
    layers, pairs = [], []
    for ours, theirs in zip(model.layers, twin.layers, strict=True):
        if isinstance(ours, mr.layers.Dropout):
            theirs = GivenMaskDropout(ours.rate, name=f"{ours.name}_given_mask")
            pairs.append((ours, theirs))
        layers.append(theirs)
    keras_model = keras.Sequential([keras.Input(shape=tuple(model.input_shape[1:])), *layers])
    keras_model.compile(loss=loss_to_keras(model.loss))
    return keras_model, pairs


@case("dropout", "same_mask", kind="step")
def same_mask(dtype):
    """With minired's masks given to Keras: same training forward, loss and gradients."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([
            mr.Input((6,)),
            mr.layers.Dense(16, activation="relu", name="hidden"),
            mr.layers.Dropout(0.3, seed=1, name="dropout"),
            mr.layers.Dense(8, activation="tanh", name="middle"),
            mr.layers.Dropout(0.5, noise_shape=(1, 8), seed=2,    # one mask for the batch
                              name="feature_dropout"),
            mr.layers.Dense(3, activation="softmax", name="output"),
        ])
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        keras_model, dropouts = with_given_masks(model)
        x, y = classification_batch(dtype, n=32, features=6, classes=3)

        def give_masks():
            for ours, theirs in dropouts:
                theirs.mask = tf.constant(ours.mask)

        pairs = []
        ours = model(x, training=True)                 # draws fresh masks
        give_masks()
        pairs.append(("training forward", ours, keras_model(x, training=True).numpy()))
        pairs.append(("inference forward", model(x, training=False),
                      keras_model(x, training=False).numpy()))

        loss, grads = model.loss_and_gradients(x, y, training=True)   # new masks again
        give_masks()
        keras_loss, keras_grads = keras_loss_and_gradients(keras_model, x, y, training=True)
        pairs.append(("loss", np.array(loss), np.array(keras_loss)))
        names = [f"{layer.name}/{'kernel' if w.ndim == 2 else 'bias'}"
                 for layer in model.layers for w in layer.weights]
        for name, g, k in zip(names, grads, keras_grads, strict=True):
            pairs.append((f"∂L/∂{name}", g, k))
        kept = [float(ours.mask.mean()) for ours, _ in dropouts]
    return Outcome(pairs, notes=f"kept fractions of the masks: {np.round(kept, 3).tolist()}")


@case("dropout", "scaling", kind="step")
def scaling(dtype):
    """Kept values are x·(1/(1-rate)) in the dtype, dropped ones 0; identity at inference."""
    rate, shape = 0.3, (200, 100)    # 1/0.7 is inexact: the scale's rounding is tested too
    with precision(dtype):
        x = random_data(dtype, n=shape[0], features=shape[1:])
        ours_layer = mr.layers.Dropout(rate, seed=0)
        keras_layer = keras.layers.Dropout(rate, seed=0)
        # Kept entries of a ones input *are* the scale: one value in each library.
        ours_scale = np.unique(ours_layer(np.ones(shape, dtype), training=True))
        keras_scale = np.unique(keras_layer(np.ones(shape, dtype), training=True).numpy())
        pairs = [("{0, scale} on a ones input", ours_scale, keras_scale)]
        scale = keras_scale[-1]

        ours = ours_layer(x, training=True)
        keep = ours_layer.mask.astype(bool)
        theirs = keras_layer(x, training=True).numpy()
        keras_keep = theirs != 0
        pairs += [
            ("minired kept values vs x·scale", ours[keep], x[keep] * scale),
            ("minired dropped values vs 0", ours[~keep], np.zeros_like(ours[~keep])),
            ("Keras kept values vs x·scale", theirs[keras_keep], x[keras_keep] * scale),
            ("minired backward: δ·scale·mask vs δ·scale on kept, 0 elsewhere",
             ours_layer.backward(x), np.where(keep, x * scale, 0).astype(dtype)),
            ("training=False output (identity)", ours_layer(x, training=False),
             keras_layer(x, training=False).numpy()),
            ("training=False output vs x", ours_layer(x, training=False), x),
        ]
    return Outcome(pairs)


@case("dropout", "keep_rate", kind="statistical")
def keep_rate(dtype):
    """Each library keeps 1-rate of 200k inputs (|z| < 5), and draws a new mask every call."""
    shape = (400, 500)
    pairs = []
    with precision(dtype):
        ones = np.ones(shape, dtype)
        for rate in (0.1, 0.5, 0.8):
            p = 1 - rate
            layers = {"minired": mr.layers.Dropout(rate, seed=3),
                      "Keras": keras.layers.Dropout(rate, seed=3)}
            masks = {}
            for name, layer in layers.items():
                first = np.asarray(layer(ones, training=True)) != 0
                second = np.asarray(layer(ones, training=True)) != 0
                masks[name] = first
                pairs.append((f"{name} rate {rate}: kept fraction, z", binomial_z(first, p), 0.0))
                # Two independent masks agree at a position with probability p² + (1-p)².
                pairs.append((f"{name} rate {rate}: agreement of two calls' masks, z",
                              binomial_z(first == second, p**2 + (1 - p) ** 2), 0.0))
            # minired's kept fraction against Keras' (two independent estimates).
            z_difference = difference_z(binomial_z(masks["minired"], p),
                                        binomial_z(masks["Keras"], p))
            pairs.append((f"rate {rate}: minired - Keras kept fraction, z", z_difference, 0.0))
        # noise_shape=(None, 1): whole rows kept or dropped together, 1-rate of the rows.
        rows = (200_000, 2)
        for name, layer in {"minired": mr.layers.Dropout(0.5, noise_shape=(None, 1), seed=4),
                            "Keras": keras.layers.Dropout(0.5, noise_shape=(None, 1),
                                                          seed=4)}.items():
            kept = np.asarray(layer(np.ones(rows, dtype), training=True)) != 0
            pairs.append((f"{name} noise_shape (None, 1): kept rows, z",
                          binomial_z(kept[:, 0], 0.5), 0.0))
            pairs.append((f"{name} noise_shape (None, 1): rows split (none allowed)",
                          impossible_z(int(np.sum(kept[:, 0] != kept[:, 1]))), 0.0))
    return Outcome([(label, np.array(z), np.array(zero)) for label, z, zero in pairs])
