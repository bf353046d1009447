"""The activation catalog: every function beyond lesson 3's six, and the activation layers.

Three kinds of case, each in float64 and float32:

- ``activations/<f>``: ``f(z)`` and the vector-Jacobian product ``f.backward(z, a, δa)``
  against ``keras.activations.<f>`` and ``tf.GradientTape`` on the same ``z`` and ``δa``
  (``z`` spans ±10, with the kinks of the piecewise functions planted in it);
- ``activations/dense_<f>``: a hidden ``Dense(6, activation=f)`` under a linear output, MSE:
  the loss and every weight's gradient;
- ``activations/layer_<Layer>``: ``Dense, <Layer>, Dense`` with MSE (``Softmax`` also under a
  cross-entropy, whose logits path both libraries take): predictions, loss and gradients,
  PReLU's ``α`` included.
"""

from __future__ import annotations

import numpy as np

from comparisons.common import keras, keras_loss_and_gradients, mr, tf, twins
from comparisons.data import random_data, targets
from comparisons.keras_env import precision
from comparisons.registry import Outcome, case

N, FEATURES, HIDDEN = 12, 4, 6

#: (case name, activation name, keyword arguments): every function, and each argument.
FUNCTIONS = [
    ("relu_negative_slope", "relu", {"negative_slope": 0.1}),
    ("relu_max_value", "relu", {"max_value": 2.5}),
    ("relu_max_value_6", "relu", {"max_value": 6.0}),
    ("relu_threshold", "relu", {"threshold": 0.3}),
    ("relu_all_arguments", "relu", {"negative_slope": 0.25, "max_value": 4.0, "threshold": 0.7}),
    ("leaky_relu", "leaky_relu", {}),
    ("leaky_relu_0.3", "leaky_relu", {"negative_slope": 0.3}),
    ("relu6", "relu6", {}),
    ("elu", "elu", {}),
    ("elu_alpha", "elu", {"alpha": 0.5}),
    ("selu", "selu", {}),
    ("softplus", "softplus", {}),
    ("softsign", "softsign", {}),
    ("silu", "silu", {}),
    ("swish", "swish", {}),
    ("gelu", "gelu", {}),
    ("gelu_approximate", "gelu", {"approximate": True}),
    ("hard_sigmoid", "hard_sigmoid", {}),
    ("hard_silu", "hard_silu", {}),
    ("hard_swish", "hard_swish", {}),
    ("exponential", "exponential", {}),
    ("mish", "mish", {}),
    # Keras 3's newer activations (mr.activations.NEWER_ACTIVATIONS)
    ("celu", "celu", {}),
    ("celu_alpha", "celu", {"alpha": 0.3}),
    ("glu", "glu", {}),
    ("glu_axis_0", "glu", {"axis": 0}),
    ("hard_shrink", "hard_shrink", {}),
    ("hard_shrink_threshold", "hard_shrink", {"threshold": 3.0}),
    ("hard_tanh", "hard_tanh", {}),
    ("log_sigmoid", "log_sigmoid", {}),
    ("soft_shrink", "soft_shrink", {}),
    ("soft_shrink_threshold", "soft_shrink", {"threshold": 0.3}),
    ("sparse_plus", "sparse_plus", {}),
    ("sparse_sigmoid", "sparse_sigmoid", {}),
    ("squareplus", "squareplus", {}),
    ("squareplus_b", "squareplus", {"b": 0.3}),
    ("tanh_shrink", "tanh_shrink", {}),
    ("threshold", "threshold", {"threshold": 0.3, "default_value": -2.0}),
]


def inputs(dtype: str) -> np.ndarray:
    """``z`` of shape (32, 8): 4 × standard normal, clipped to ±10, and two first rows of
    kinks and saturation points (0, ±0.3, ±0.5, ±1, ±3, 6, the thresholds and caps used above,
    ±10)."""
    z = np.clip(4 * random_data(dtype, n=32, features=8), -10, 10)
    z[0] = [0.0, -3.0, 3.0, 6.0, 0.3, 2.5, -10.0, 10.0]
    z[1] = [-1.0, 1.0, -0.5, 0.5, -0.3, 0.0, 1e-3, -2.5]
    return z.astype(dtype)


def _function_case(case_name: str, name: str, arguments: dict) -> None:
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            z = inputs(dtype)
            f = mr.activations.get(name)
            ours = f(z, **arguments)
            upstream = random_data(dtype, n=32, features=8, seed=5)[     # a's shape (glu halves)
                tuple(slice(0, size) for size in ours.shape)]
            grad = f.backward(z, ours, upstream, **arguments)
            variable = tf.Variable(z)
            with tf.GradientTape() as tape:
                theirs = keras.activations.get(name)(variable, **arguments)
            their_grad = tape.gradient(theirs, variable, output_gradients=tf.constant(upstream))
        return Outcome([(f"{name}(z)", ours, np.asarray(theirs)),
                        ("δz", grad, np.asarray(their_grad))])

    compare.__doc__ = f"activations.{name}({_arguments(arguments)}): values and δz (GradientTape)."
    case("activations", case_name)(compare)


def _arguments(arguments: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in arguments.items()) or "z"


for _case_name, _name, _arguments_of in FUNCTIONS:
    _function_case(_case_name, _name, _arguments_of)


def _dense_case(name: str) -> None:
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            model, keras_model = twins([mr.layers.Dense(HIDDEN, activation=name),
                                        mr.layers.Dense(3)], "mse")
            x = 2 * random_data(dtype, N, FEATURES)
            return Outcome(_pairs(model, keras_model, x, targets("real", N, 3, dtype)))

    compare.__doc__ = f"Hidden Dense(6, activation='{name}'), MSE: loss and gradients."
    case("activations", f"dense_{name}")(compare)


for _name in mr.activations.MORE_ACTIVATIONS:
    _dense_case(_name)
for _name in mr.activations.NEWER_ACTIVATIONS:
    # threshold: its two arguments have no defaults, so no name alone builds it; glu: Keras'
    # Dense says its output has `units` columns, not half, so a layer after it fails in Keras;
    # sparsemax: Keras 3.15's errs (keras-team/keras#23425), see _sparsemax_case below.
    if _name not in ("threshold", "glu", "sparsemax"):
        _dense_case(_name)


def _keras_sparsemax_fixed(x, axis: int = -1):
    """Keras' TensorFlow sparsemax (keras/src/backend/tensorflow/nn.py) with the fix of
    keras-team/keras pull request 23469: ``τ`` sums the sorted logits over the support, not
    their cumulative sums (Keras 3.15's output does not sum to 1, issue 23425)."""
    logits_sorted = tf.sort(x, direction="DESCENDING", axis=axis)
    logits_cumsum = tf.cumsum(logits_sorted, axis=axis)
    r = tf.range(1, tf.shape(x)[axis] + 1, dtype=x.dtype)
    r_shape = [1] * len(x.shape)
    r_shape[axis] = -1
    r = tf.reshape(r, r_shape)
    support = logits_sorted - (logits_cumsum - 1) / r > 0
    k = tf.reduce_sum(tf.cast(support, x.dtype), axis=axis, keepdims=True)
    sorted_in_support = tf.where(support, logits_sorted, tf.zeros_like(logits_sorted))
    tau = (tf.reduce_sum(sorted_in_support, axis=axis, keepdims=True) - 1) / k
    return tf.maximum(x - tau, 0.0)


def _sparsemax_case(case_name: str, arguments: dict, scale: float) -> None:
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            z = (scale * inputs(dtype)).astype(dtype)
            upstream = random_data(dtype, n=32, features=8, seed=5)
            f = mr.activations.sparsemax
            ours = f(z, **arguments)
            grad = f.backward(z, ours, upstream, **arguments)
            variable = tf.Variable(z)
            with tf.GradientTape() as tape:
                theirs = _keras_sparsemax_fixed(variable, **arguments)
            their_grad = tape.gradient(theirs, variable, output_gradients=tf.constant(upstream))
        return Outcome([("sparsemax(z)", ours, np.asarray(theirs)),
                        ("δz", grad, np.asarray(their_grad))],
                       notes="Keras' formula with the fix of keras-team/keras#23469.")

    compare.__doc__ = (f"activations.sparsemax({_arguments(arguments)}) on {scale} z: values and "
                       "δz against Keras' formula with its τ fixed (keras-team/keras#23469).")
    case("activations", case_name)(compare)


# z / 4 gives supports of several elements per row; axis 0 a support over 32 rows.
_sparsemax_case("sparsemax", {}, 0.25)
_sparsemax_case("sparsemax_axis_0", {"axis": 0}, 0.25)


def _pairs(model, keras_model, x, y) -> list:
    """Predictions, loss and every weight's gradient, labelled by layer and weight index."""
    loss, grads = model.loss_and_gradients(x, y)
    k_loss, k_grads = keras_loss_and_gradients(keras_model, x, y)
    labels = [f"{layer.name}/weight_{i}" for layer in model.unique_layers
              for i in range(len(layer.weights))]
    return [("predict(x)", model.predict(x, verbose=0), keras_model.predict(x, verbose=0)),
            ("loss", np.array(loss), np.array(k_loss)),
            *[(f"∂L/∂{label}", g, kg) for label, g, kg in zip(labels, grads, k_grads,
                                                               strict=True)]]


# -- the layers (to_keras does not know them: the Keras twin is built here) -----------------

def _layer_case(case_name: str, doc: str, make_layer, make_keras_layer, loss: str = "mse",
                outputs: int = 3, tail: bool = True) -> None:
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            mr.utils.set_random_seed(0)
            hidden = mr.layers.Dense(HIDDEN)
            layers = [hidden, make_layer()]
            if tail:
                layers.append(mr.layers.Dense(outputs))
            model = mr.Sequential([mr.Input((FEATURES,)), *layers])
            model.compile(optimizer="sgd", loss=loss)
            keras_layers = [keras.layers.Dense(HIDDEN), make_keras_layer()]
            if tail:
                keras_layers.append(keras.layers.Dense(outputs))
            keras_model = keras.Sequential([keras.Input((FEATURES,)), *keras_layers])
            keras_model.compile(optimizer="sgd", loss=loss)
            weights = model.get_weights()
            if len(weights) > 4:            # PReLU: give α varied values, not its zeros
                weights[2] = np.linspace(-0.5, 1.5, weights[2].size).reshape(
                    weights[2].shape).astype(dtype)
                model.set_weights(weights)
            keras_model.set_weights(weights)
            x = 2 * random_data(dtype, N, FEATURES)
            kind = "onehot" if loss == "categorical_crossentropy" else "real"
            return Outcome(_pairs(model, keras_model, x, targets(kind, N, outputs, dtype)))

    compare.__doc__ = doc
    case("activations", case_name)(compare)


_layer_case("layer_ReLU", "Dense, ReLU(), Dense.", mr.layers.ReLU, keras.layers.ReLU)
_layer_case("layer_ReLU_arguments", "Dense, ReLU(max_value=1.5, negative_slope=0.2, "
            "threshold=0.1), Dense.",
            lambda: mr.layers.ReLU(max_value=1.5, negative_slope=0.2, threshold=0.1),
            lambda: keras.layers.ReLU(max_value=1.5, negative_slope=0.2, threshold=0.1))
_layer_case("layer_LeakyReLU", "Dense, LeakyReLU() (slope 0.3), Dense.", mr.layers.LeakyReLU,
            keras.layers.LeakyReLU)
_layer_case("layer_ELU", "Dense, ELU(alpha=0.7), Dense.", lambda: mr.layers.ELU(alpha=0.7),
            lambda: keras.layers.ELU(alpha=0.7))
_layer_case("layer_Softmax", "Dense, Softmax(), Dense (softmax's own Jacobian product).",
            mr.layers.Softmax, keras.layers.Softmax)
_layer_case("layer_Softmax_cce", "Dense(3), Softmax(), categorical CE: the logits path.",
            mr.layers.Softmax, keras.layers.Softmax, loss="categorical_crossentropy",
            tail=False, outputs=HIDDEN)
_layer_case("layer_PReLU", "Dense, PReLU (α varied), Dense: ∂L/∂α included.",
            mr.layers.PReLU, keras.layers.PReLU)
_layer_case("layer_PReLU_regularized", "Dense, PReLU(alpha_regularizer=L2(0.01)), Dense.",
            lambda: mr.layers.PReLU(alpha_regularizer=mr.regularizers.L2(0.01)),
            lambda: keras.layers.PReLU(alpha_regularizer=keras.regularizers.L2(0.01)))


@case("activations", "layer_PReLU_shared_axes")
def prelu_shared_axes(dtype: str) -> Outcome:
    """PReLU(shared_axes=[1]) on (N, 3, 4) inputs: one α per feature of the last axis."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((3, 4)), mr.layers.Dense(HIDDEN),
                               mr.layers.PReLU(shared_axes=[1]), mr.layers.Flatten(),
                               mr.layers.Dense(2)])
        model.compile(optimizer="sgd", loss="mse")
        keras_model = keras.Sequential([keras.Input((3, 4)), keras.layers.Dense(HIDDEN),
                                        keras.layers.PReLU(shared_axes=[1]),
                                        keras.layers.Flatten(), keras.layers.Dense(2)])
        keras_model.compile(optimizer="sgd", loss="mse")
        weights = model.get_weights()
        weights[2] = np.linspace(-0.5, 1.5, weights[2].size).reshape(weights[2].shape)
        weights[2] = weights[2].astype(dtype)
        model.set_weights(weights)
        keras_model.set_weights(weights)
        x = random_data(dtype, N, (3, 4))
        return Outcome(_pairs(model, keras_model, x, targets("real", N, 2, dtype)))
