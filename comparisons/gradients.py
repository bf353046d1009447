"""Gradients: ``model.loss_and_gradients`` against ``tf.GradientTape`` on the Keras twin.

Every loss (with and without ``from_logits``, label smoothing, sample weights), every
activation and every regularizer, on kernel and bias.
"""

from __future__ import annotations

import warnings

import numpy as np

from comparisons.common import gradient_pairs, keras, mr, tf, twins
from comparisons.data import probabilities, random_data, sample_weights, targets
from comparisons.keras_env import precision
from comparisons.registry import Outcome, case

N, FEATURES, HIDDEN = 12, 4, 6


def model_gradient_case(name: str, doc: str, output, loss, target_kind: str,
                        hidden: str = "tanh", regularizers: dict | None = None,
                        weighted: bool = False, outputs: int = 3) -> None:
    """Register a case: a 2-layer model, the same batch, gradients of the total loss."""

    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            layers = [mr.layers.Dense(HIDDEN, activation=hidden, **(regularizers or {})),
                      *output(outputs)]
            model, keras_model = twins(layers, loss() if callable(loss) else loss)
            x = random_data(dtype, N, FEATURES)
            y = targets(target_kind, N, outputs, dtype)
            sample_weight = sample_weights(N, dtype) if weighted else None
            with warnings.catch_warnings():  # the from_logits=True-on-softmax warning is expected
                warnings.simplefilter("ignore", UserWarning)
                return Outcome(gradient_pairs(model, keras_model, x, y, sample_weight))

    compare.__doc__ = doc
    case("gradients", name)(compare)


def dense(activation):
    return lambda outputs: [mr.layers.Dense(outputs, activation=activation)]


# -- every loss ------------------------------------------------------------------------------
model_gradient_case("mse", "MSE on a linear output.", dense(None), "mse", "real")
model_gradient_case("mse_sample_weight", "MSE with sample weights (divides by N, not Σw).",
                    dense(None), "mse", "real", weighted=True)
model_gradient_case("cce_softmax", "Softmax + categorical CE: Keras reads the logits.",
                    dense("softmax"), "categorical_crossentropy", "onehot")
model_gradient_case("cce_from_logits", "Linear output + CE(from_logits=True).",
                    dense(None), lambda: mr.losses.CategoricalCrossentropy(from_logits=True),
                    "onehot")
model_gradient_case("cce_softmax_from_logits",
                    "Softmax output + CE(from_logits=True): both use the real logits.",
                    dense("softmax"),
                    lambda: mr.losses.CategoricalCrossentropy(from_logits=True), "onehot")
model_gradient_case("cce_label_smoothing", "Categorical CE with label_smoothing=0.1.",
                    dense("softmax"),
                    lambda: mr.losses.CategoricalCrossentropy(label_smoothing=0.1), "onehot")
model_gradient_case("cce_sample_weight", "Categorical CE with sample weights.",
                    dense("softmax"), "categorical_crossentropy", "onehot", weighted=True)
model_gradient_case("cce_activation_layer", "Dense + Activation('softmax') + CE.",
                    lambda o: [mr.layers.Dense(o), mr.layers.Activation("softmax")],
                    "categorical_crossentropy", "onehot")
model_gradient_case("sparse_cce_softmax", "Softmax + sparse categorical CE.",
                    dense("softmax"), "sparse_categorical_crossentropy", "sparse")
model_gradient_case("sparse_cce_from_logits", "Linear + sparse CE(from_logits=True).",
                    dense(None),
                    lambda: mr.losses.SparseCategoricalCrossentropy(from_logits=True), "sparse")
model_gradient_case("sparse_cce_sample_weight", "Sparse CE with sample weights.",
                    dense("softmax"), "sparse_categorical_crossentropy", "sparse",
                    weighted=True)
model_gradient_case("bce_sigmoid", "Sigmoid + binary CE: Keras reads the logits.",
                    dense("sigmoid"), "binary_crossentropy", "binary", outputs=1)
model_gradient_case("bce_multilabel", "Three sigmoid outputs + binary CE (mean over outputs).",
                    dense("sigmoid"), "binary_crossentropy", "binary")
model_gradient_case("bce_from_logits", "Linear + BCE(from_logits=True).", dense(None),
                    lambda: mr.losses.BinaryCrossentropy(from_logits=True), "binary", outputs=1)
model_gradient_case("bce_label_smoothing", "Binary CE with label_smoothing=0.2.",
                    dense("sigmoid"),
                    lambda: mr.losses.BinaryCrossentropy(label_smoothing=0.2), "binary")
model_gradient_case("bce_sample_weight", "Binary CE with sample weights.", dense("sigmoid"),
                    "binary_crossentropy", "binary", outputs=1, weighted=True)

# -- every activation (hidden layer) ---------------------------------------------------------
for _activation in mr.activations.ALL_ACTIVATIONS:
    model_gradient_case(f"hidden_{_activation}",
                        f"Hidden Dense with activation '{_activation}', MSE on top.",
                        dense(None), "mse", "real", hidden=_activation)

# -- every regularizer, on kernel and bias ----------------------------------------------------
_REGULARIZERS = {"l1": lambda: mr.regularizers.L1(0.01), "l2": lambda: mr.regularizers.L2(0.01),
                 "l1l2": lambda: mr.regularizers.L1L2(l1=0.01, l2=0.02)}
for _name, _make in _REGULARIZERS.items():
    for _target in ("kernel", "bias"):
        model_gradient_case(
            f"{_name}_{_target}", f"{_name.upper()} penalty on the {_target}: added unscaled.",
            dense("softmax"), "categorical_crossentropy", "onehot",
            regularizers={f"{_target}_regularizer": _make()})


# -- relu at exactly zero ------------------------------------------------------------------

@case("gradients", "relu_at_zero")
def relu_at_zero(dtype: str) -> Outcome:
    """relu'(0) = 0 as in TensorFlow: hidden units and a sample whose z is exactly 0."""
    with precision(dtype):
        model, keras_model = twins([mr.layers.Dense(HIDDEN, activation="relu", name="hidden"),
                                    mr.layers.Dense(3, name="output")], "mse")
        kernel, bias, *output = model.get_weights()
        kernel[:, :3] = 0       # units 0-2: z = x·0 + 0 = 0 for every sample
        bias[:] = 0             # (the default, made explicit)
        weights = [kernel, bias, *output]
        model.set_weights(weights)
        keras_model.set_weights(weights)
        x = random_data(dtype, N, FEATURES)
        x[0] = 0                # sample 0: z = 0 at every unit
        y = targets("real", N, 3, dtype)
        # With relu'(0) = 1, units 0-2 would pass δ back: ∂L/∂W[:, :3] = xᵀδ and ∂L/∂b ≠ 0.
        pairs = gradient_pairs(model, keras_model, x, y)
        z = x @ kernel + bias
    return Outcome(pairs, notes=f"{np.count_nonzero(z == 0)} of {z.size} hidden "
                                f"pre-activations are exactly 0")


# -- losses on bare probabilities (no logits to read: Keras clips and renormalises) ---------
def _probability_case(name: str, doc: str, make_loss, make_keras_loss, kind: str,
                      outputs: int = 4) -> None:
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            p = probabilities(kind, N, outputs, dtype)
            y = targets(kind, N, outputs, dtype)
            loss, grad = make_loss().value_and_gradient(y, p)
            p_tensor = tf.Variable(p)
            with tf.GradientTape() as tape:
                k_loss = make_keras_loss()(y, p_tensor)
            k_grad = tape.gradient(k_loss, p_tensor)
        return Outcome([("loss", np.array(loss), np.array(float(k_loss))),
                        ("∂L/∂p", grad, np.asarray(k_grad))])

    compare.__doc__ = doc
    case("gradients", name)(compare)


_probability_case("cce_probabilities", "CE on unnormalised probabilities: p/Σp, then clip.",
                  mr.losses.CategoricalCrossentropy, keras.losses.CategoricalCrossentropy,
                  "onehot")
_probability_case("sparse_cce_probabilities", "Sparse CE on probabilities: clip, log, renormalise.",
                  mr.losses.SparseCategoricalCrossentropy,
                  keras.losses.SparseCategoricalCrossentropy, "sparse")
_probability_case("bce_probabilities", "Binary CE on probabilities (clipped to [ε, 1-ε]).",
                  mr.losses.BinaryCrossentropy, keras.losses.BinaryCrossentropy, "binary")
_probability_case("mse_arrays", "MSE called on two arrays.", mr.losses.MeanSquaredError,
                  keras.losses.MeanSquaredError, "real")


# -- one layer called twice (shared weights) -------------------------------------------------
@case("gradients", "shared_layer")
def shared_layer(dtype: str) -> Outcome:
    """The same Dense (with an L2 penalty) twice in a row: one set of weights, the gradient
    summed over both calls, the penalty counted once."""
    with precision(dtype):
        shared = mr.layers.Dense(FEATURES, activation="tanh",
                                 kernel_regularizer=mr.regularizers.L2(0.01),
                                 bias_initializer="random_normal")
        model, keras_model = twins([shared, shared, *dense("softmax")(3)],
                                   "categorical_crossentropy")
        x = random_data(dtype, N, FEATURES)
        y = targets("onehot", N, 3, dtype)
        return Outcome(gradient_pairs(model, keras_model, x, y))
