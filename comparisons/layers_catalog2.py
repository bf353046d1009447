"""More of Keras' layers beside Keras (area ``layers``): normalizations, spatial and alpha
dropout, and the TimeDistributed wrapper.

- ``group_normalization``, ``unit_normalization``, ``rms_normalization``: each layer alone
  in a one-layer ``Sequential`` and its Keras twin (:func:`comparisons.vision.layer_pairs`):
  the output, ``δx`` and every weight's gradient for a random ``δŷ``, for each setting (``γ``
  and ``β`` drawn away from 1 and 0 where the layer has initializers for them).
- ``spatial_dropout1d``, ``spatial_dropout3d``, ``alpha_dropout``: at inference (the
  identity); ``*_statistics``: each library's draws judged against the distribution, in
  standard errors (the fraction of dropped channels; AlphaDropout's mean 0 and variance 1).
- ``time_distributed_dense``, ``time_distributed_conv2d``: the wrapper alone, as above;
  ``time_distributed_dropout``: a TimeDistributed(Dropout) in training with minired's
  mask handed to Keras (the training flag reaches the wrapped layer);
  ``time_distributed_fit``, ``normalization_fit``: models fitted 4 epochs in both libraries.
"""

from __future__ import annotations

import numpy as np

from comparisons.data import random_data
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.layers_catalog import layer_case
from comparisons.registry import Outcome, case
from comparisons.sampling import binomial_z, mean_z, variance_z
from comparisons.training import compare_fit
from comparisons.vision import layer_pairs, vjp_pairs

N = 6                      # samples of the model cases


def spread(seed: int) -> dict:
    """``γ ~ N(1, 0.5²)`` and ``β ~ N(0, 0.5²)``: weights away from the identity map."""
    return {"gamma_initializer": mr.initializers.RandomNormal(1.0, 0.5, seed=seed),
            "beta_initializer": mr.initializers.RandomNormal(0.0, 0.5, seed=seed + 1)}


def settings_case(name: str, doc: str, settings, training: bool = False) -> None:
    """Register ``layers/<name>``: :func:`layer_pairs` of each ``(label, make_layer,
    input_shape)`` of ``settings()``."""

    def compare(dtype: str) -> Outcome:
        pairs = []
        with precision(dtype):
            for i, (label, make_layer, input_shape) in enumerate(settings()):
                # data seeds from 10: vjp_pairs draws δŷ with seed 5, and δŷ = x (the same
                # draw) is the direction a normalization is blind to (δx = x̂ ε/(σ² + ε))
                pairs += layer_pairs(make_layer, input_shape, dtype, label,
                                     training=training, seed=10 + i)
        return Outcome(pairs, notes=f"{len(settings())} settings")

    compare.__doc__ = doc
    case("layers", name)(compare)


# -- normalizations ------------------------------------------------------------------------------

def group_settings():
    return [(f"GroupNormalization({kwargs})",
             lambda k=kwargs, i=i: mr.layers.GroupNormalization(**k, **spread(i)), shape)
            for i, (kwargs, shape) in enumerate([
                ({"groups": 2}, (4, 6)),
                ({"groups": 3, "epsilon": 1e-5}, (3, 3, 6)),
                ({"groups": -1}, (5, 4)),
                ({"groups": 1, "center": False}, (5, 4)),
                ({"groups": 2, "axis": 1}, (4, 5)),
                ({"groups": 2, "axis": -2, "scale": False}, (3, 4, 2))])]


settings_case("group_normalization", "GroupNormalization: 2, 3, C (-1) and 1 groups, axis -1, "
              "1 and -2, with and without γ or β.", group_settings)
layer_case("unit_normalization", "UnitNormalization over axis -1, 1 and [1, 2].",
           "UnitNormalization", [{}, {"axis": 1}, {"axis": [1, 2]}], (4, 5))
layer_case("rms_normalization", "RMSNormalization over axis -1 and [-2, -1], ε 1e-6 and 1e-3.",
           "RMSNormalization", [{}, {"axis": [-2, -1], "epsilon": 1e-3}], (4, 5))


# -- dropouts -------------------------------------------------------------------------------------

layer_case("spatial_dropout1d", "SpatialDropout1D(0.4) at inference: the identity.",
           "SpatialDropout1D", [{"rate": 0.4, "seed": 1}], (5, 3))
layer_case("spatial_dropout3d", "SpatialDropout3D(0.4) at inference: the identity.",
           "SpatialDropout3D", [{"rate": 0.4, "seed": 1}], (2, 3, 2, 3))
layer_case("alpha_dropout", "AlphaDropout(0.3) at inference: the identity.",
           "AlphaDropout", [{"rate": 0.3, "seed": 1}], (5,))


@case("layers", "spatial_dropout_statistics", kind="statistical")
def spatial_dropout_statistics(dtype):
    """SpatialDropout1D and 3D(0.3): the fraction of dropped channels of both libraries, each
    channel dropped whole."""
    pairs = []
    with precision(dtype):
        for name, shape in (("SpatialDropout1D", (400, 3, 50)),
                            ("SpatialDropout3D", (400, 2, 1, 2, 50))):
            x = np.ones(shape, dtype=dtype)
            for library in (mr, keras):
                a = np.asarray(getattr(library.layers, name)(0.3, seed=2)(x, training=True))
                channels = a.reshape(400, -1, 50)
                label = f"{library.__name__} {name}"
                pairs.append((f"{label}: dropped channels z",
                              np.array(binomial_z(channels[:, 0] == 0, 0.3)), 0.0))
                split = float(np.sum(channels != channels[:, :1]))   # 0 for whole channels
                pairs.append((f"{label}: values differing within a channel", np.array(split),
                              0.0))
    return Outcome(pairs, notes="20,000 channels each, rate 0.3")


@case("layers", "alpha_dropout_statistics", kind="statistical")
def alpha_dropout_statistics(dtype):
    """AlphaDropout(0.2) on x ~ N(0, 1): both libraries' outputs keep mean 0 and variance 1,
    and drop a fraction 0.2 to A α' + B."""
    from minired.layers.regularization.alpha_dropout import ALPHA, SCALE

    rate = 0.2
    alpha_p = -ALPHA * SCALE
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    c = rate * alpha_p                      # E[x'], x' = x k + α'(1 − k)
    fourth = a**4 * ((1 - rate) * (3 + 6 * c**2 + c**4) + rate * (alpha_p * (1 - rate))**4)
    x = np.random.default_rng(0).standard_normal((400, 50)).astype(dtype)
    pairs = []
    with precision(dtype):
        for library in (mr, keras):
            out = np.asarray(library.layers.AlphaDropout(rate, seed=3)(x, training=True),
                             dtype=np.float64)
            name = library.__name__
            pairs.append((f"{name}: dropped fraction z",
                          np.array(binomial_z(np.isclose(out, a * alpha_p + b, atol=1e-6),
                                              rate)), 0.0))
            pairs.append((f"{name}: mean z", np.array(mean_z(out, 0.0, 1.0)), 0.0))
            pairs.append((f"{name}: variance z", np.array(variance_z(out, 1.0, fourth)), 0.0))
    return Outcome(pairs, notes="20,000 values each, rate 0.2")


# -- TimeDistributed ------------------------------------------------------------------------------

def time_distributed_dense_settings():
    return [
        ("TimeDistributed(Dense(3, tanh))",
         lambda: mr.layers.TimeDistributed(mr.layers.Dense(3, activation="tanh")), (4, 5)),
        ("TimeDistributed(Dense(2)) on (N, 3, 2, 4)",
         lambda: mr.layers.TimeDistributed(mr.layers.Dense(2, use_bias=False)), (3, 2, 4)),
        ("TimeDistributed(LayerNormalization())",
         lambda: mr.layers.TimeDistributed(mr.layers.LayerNormalization(**spread(3))), (4, 5)),
    ]


def time_distributed_conv_settings():
    return [
        ("TimeDistributed(Conv2D(3, 3, same, relu))",
         lambda: mr.layers.TimeDistributed(mr.layers.Conv2D(3, 3, padding="same",
                                                            activation="relu")),
         (3, 5, 5, 2)),
        ("TimeDistributed(Conv2D(2, 2, strides 2))",
         lambda: mr.layers.TimeDistributed(mr.layers.Conv2D(2, 2, strides=2)), (2, 6, 6, 1)),
        ("TimeDistributed(MaxPooling2D())",
         lambda: mr.layers.TimeDistributed(mr.layers.MaxPooling2D()), (2, 4, 4, 2)),
    ]


settings_case("time_distributed_dense", "TimeDistributed(Dense) on (N, T, F) and (N, T, S, F), "
              "and TimeDistributed(LayerNormalization).", time_distributed_dense_settings)
settings_case("time_distributed_conv2d", "TimeDistributed(Conv2D) and (MaxPooling2D) on "
              "videos (N, T, H, W, C).", time_distributed_conv_settings)


class GivenMaskDropout(keras.layers.Layer):
    """Keras layer: TensorFlow's dropout arithmetic on ``(N, T, F)`` with a mask set from
    outside (``where(keep, x · 1/(1-rate), 0)``, as ``comparisons.dropout`` does)."""

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.mask = None

    def call(self, inputs, training=False):
        if not training:
            return inputs
        scale = tf.convert_to_tensor(1 / (1 - self.rate), dtype=inputs.dtype)
        return tf.where(tf.cast(self.mask, "bool"), inputs * scale,
                        tf.zeros((), dtype=inputs.dtype))


@case("layers", "time_distributed_dropout")
def time_distributed_dropout(dtype):
    """Dense → TimeDistributed(Dropout(0.4)) → Dense in training, minired's mask (drawn for
    the N·T slices) handed to Keras: the output, δx and every gradient."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((4, 5)), mr.layers.Dense(6, activation="tanh"),
                               mr.layers.TimeDistributed(mr.layers.Dropout(0.4, seed=1)),
                               mr.layers.Dense(2)])
        dropout = GivenMaskDropout(0.4)
        keras_model = keras.Sequential([keras.Input((4, 5)),
                                        keras.layers.Dense(6, activation="tanh"), dropout,
                                        keras.layers.Dense(2)])
        keras_model.set_weights(model.get_weights())
        x = random_data(dtype, N, (4, 5), 0)

        def give_mask():            # (N·T, 6) → (N, T, 6): row n·T + t is step t of n
            dropout.mask = tf.constant(model.layers[1].layer.mask.reshape(N, 4, 6))

        pairs = vjp_pairs(model, keras_model, x, training=True, before_keras=give_mask)
        kept = float(model.layers[1].layer.mask.mean())
    return Outcome(pairs, notes=f"kept fraction {kept:.3f}")


def video_model(lib):
    """TimeDistributed(Conv2D) → TimeDistributed(Flatten) → TimeDistributed(Dense) → LSTM."""
    frames = lib.Input((3, 5, 5, 1))
    h = lib.layers.TimeDistributed(lib.layers.Conv2D(2, 3, activation="relu"))(frames)
    h = lib.layers.TimeDistributed(lib.layers.Flatten())(h)
    h = lib.layers.TimeDistributed(lib.layers.Dense(4, activation="tanh"))(h)
    return lib.Model(frames, lib.layers.Dense(2)(lib.layers.LSTM(3)(h)))


@case("layers", "time_distributed_fit", kind="training")
def time_distributed_fit(dtype):
    """TimeDistributed(Conv2D → Flatten → Dense) over 3 frames, then an LSTM: fitted 4 epochs
    with Adam, batches of 4."""
    with precision(dtype):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((8, 3, 5, 5, 1)).astype(dtype)
        y = rng.standard_normal((8, 2)).astype(dtype)
        keras_model = video_model(keras)
        model = video_model(mr)
        model.set_weights(keras_model.get_weights())
        model.compile(mr.optimizers.Adam(0.01), "mse")
        keras_model.compile(keras.optimizers.Adam(0.01), "mse")
        return compare_fit(model, x, y, keras_model=keras_model, epochs=4, batch_size=4)


@case("layers", "normalization_fit", kind="training")
def normalization_fit(dtype):
    """Dense → GroupNormalization(3) → Dense → RMSNormalization → UnitNormalization → Dense
    fitted 4 epochs with SGD, batches of 4."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([
            mr.Input((4, 6)), mr.layers.Dense(6, activation="tanh"),
            mr.layers.GroupNormalization(groups=3, **spread(5)), mr.layers.Dense(4),
            mr.layers.RMSNormalization(), mr.layers.UnitNormalization(),
            mr.layers.Flatten(), mr.layers.Dense(1)])
        model.compile(mr.optimizers.SGD(0.1), "mse")
        rng = np.random.default_rng(2)
        x = rng.standard_normal((8, 4, 6)).astype(dtype)
        y = rng.standard_normal((8, 1)).astype(dtype)
        return compare_fit(model, x, y, epochs=4, batch_size=4)
