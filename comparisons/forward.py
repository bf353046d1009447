"""Forward values: every activation and layer gives the same outputs on the same inputs."""

from __future__ import annotations

import numpy as np

from comparisons.common import keras, mr, twins
from comparisons.data import random_data
from comparisons.keras_env import precision
from comparisons.mirror import to_keras
from comparisons.registry import Outcome, case


def _activation_case(name: str) -> None:
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            # Wide inputs (|z| up to ~15) reach the saturated ends of sigmoid, tanh, softmax.
            z = 5 * random_data(dtype, n=32, features=6)
            ours = mr.activations.get(name)(z)
            theirs = np.asarray(keras.activations.get(name)(keras.ops.convert_to_tensor(z)))
        return Outcome([(f"{name}(z)", ours, theirs)])

    compare.__name__ = f"activation_{name}"
    compare.__doc__ = f"keras.activations.{name} and mr.activations.{name} on the same z."
    case("forward", f"activation_{name}")(compare)


for _name in mr.activations.ALL_ACTIVATIONS:
    _activation_case(_name)


def _model_forward(layers_factory, doc: str, name: str) -> None:
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            model, keras_model = twins(layers_factory(), "mse")
            x = random_data(dtype, n=8, features=4)
            ours = model.predict(x, verbose=0)
            theirs = keras_model.predict(x, verbose=0)
        return Outcome([("predict(x)", ours, theirs)])

    compare.__doc__ = doc
    case("forward", name)(compare)


for _activation in mr.activations.ALL_ACTIVATIONS:
    _model_forward(lambda a=_activation: [mr.layers.Dense(5, activation=a)],
                   f"Dense(5, activation='{_activation}') on the same weights.",
                   f"dense_{_activation}")

_model_forward(lambda: [mr.layers.Dense(5, use_bias=False)],
               "Dense without bias.", "dense_no_bias")
_model_forward(lambda: [mr.layers.Dense(6), mr.layers.Activation("tanh"), mr.layers.Dense(2)],
               "Dense, Activation('tanh'), Dense.", "activation_layer")
_model_forward(lambda: [mr.layers.Dense(6, activation="relu"), mr.layers.Dropout(0.5),
                        mr.layers.Dense(3, activation="softmax")],
               "Dropout is the identity at inference (predict).", "dropout_inference")


@case("forward", "flatten")
def flatten(dtype: str) -> Outcome:
    """Flatten then Dense on (N, 3, 4) inputs."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((3, 4)), mr.layers.Flatten(), mr.layers.Dense(2)])
        model.compile(loss="mse")
        keras_model = to_keras(model)
        x = random_data(dtype, n=5, features=(3, 4))
        return Outcome([("predict(x)", model.predict(x, verbose=0),
                         keras_model.predict(x, verbose=0))])
