"""Saturation: huge logits, where a clipped-probability cross-entropy is badly wrong.

With logits of size ~100 the softmax rounds to exactly 0 and 1. A cross-entropy computed
from those probabilities must clip them to ``[ε, 1-ε]`` and is capped at ``-log ε ≈ 16.1``
per sample, with zero gradient. Keras on TensorFlow (and minired) compute the loss from the
logits instead: the true, unbounded value and the gradient ``p - y``. Each case checks that
minired equals Keras, and its note shows how far the clipped formula is from both.
"""

from __future__ import annotations

import numpy as np

from comparisons.common import gradient_pairs, mr, twins
from comparisons.data import random_data, targets
from comparisons.keras_env import precision
from comparisons.registry import Outcome, case


def _saturated_case(name: str, activation: str, loss: str, target_kind: str, outputs: int,
                    dropout_after: bool = False):
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            layers = [mr.layers.Dense(outputs, activation=activation)]
            if dropout_after:  # inactive at inference: the logits pass through it in Keras
                layers.append(mr.layers.Dropout(0.5))
            model, keras_model = twins(layers, loss)
            weights = [w * 200 for w in model.get_weights()]       # logits of size ~100s
            model.set_weights(weights)
            keras_model.set_weights(weights)
            x = random_data(dtype, n=16, features=4)
            y = targets(target_kind, 16, outputs, dtype)
            pairs = gradient_pairs(model, keras_model, x, y)
            clipped = mr.losses.get(loss)(y, model.predict(x, verbose=0))  # probability path
            evaluated = keras_model.evaluate(x, y, verbose=0)
            pairs.append(("evaluate", np.array(model.evaluate(x, y, verbose=0)),
                          np.array(evaluated)))
        note = (f"logits path {evaluated:.4g} (minired and Keras) vs clipped probabilities "
                f"{clipped:.4g}")
        return Outcome(pairs, notes=note)

    compare.__doc__ = f"{activation} output with logits ×200 and {loss}: the logits path."
    if dropout_after:
        compare.__doc__ += " A Dropout after it is the identity at inference."
    case("saturation", name)(compare)


_saturated_case("softmax_cce", "softmax", "categorical_crossentropy", "onehot", 3)
_saturated_case("softmax_sparse_cce", "softmax", "sparse_categorical_crossentropy", "sparse", 3)
_saturated_case("sigmoid_bce", "sigmoid", "binary_crossentropy", "binary", 1)
_saturated_case("softmax_dropout_cce", "softmax", "categorical_crossentropy", "onehot", 3,
                dropout_after=True)
