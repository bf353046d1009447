"""Saving: a model trained in one library, saved, loaded in the other, trained on.

Each case trains the same model (same weights, data and optimizer) N epochs in one library,
saves it as ``.keras``, loads the file in the other library and trains M more epochs. The
reference is Keras training N + M epochs without stopping. Losses of every epoch and the
final weights are compared: a file must carry the weights **and** the optimizer's state
(its step count, moments, velocities...) in Keras' order, or the second half drifts at once.

- ``mr_to_keras_*``: minired trains and saves, ``keras.saving.load_model`` continues.
- ``keras_to_mr_*``: Keras trains and saves, ``mr.models.load_model`` continues.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from comparisons.common import twins
from comparisons.data import random_data, targets
from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case

_N, _M = 3, 3
_OPTIMIZERS = {
    "sgd_momentum": ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "rmsprop_centered": ("RMSprop", {"learning_rate": 0.01, "centered": True,
                                     "momentum": 0.5}),
    "adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "nadam": ("Nadam", {"learning_rate": 0.01}),
    "adamw": ("AdamW", {"learning_rate": 0.01}),
}


def _fit(model, x, y, epochs: int) -> list[float]:
    return model.fit(x, y, epochs=epochs, batch_size=8, shuffle=False,
                     verbose=0).history["loss"]


def _saving_case(name: str, optimizer: str, arguments: dict, direction: str):
    def compare(dtype: str) -> Outcome:
        with precision(dtype), tempfile.TemporaryDirectory() as directory:
            layers = [mr.layers.Dense(8, activation="tanh"),
                      mr.layers.Dense(3, activation="softmax")]
            model, reference = twins(layers, "categorical_crossentropy",
                                     optimizer=getattr(mr.optimizers, optimizer)(**arguments))
            reference.compile(optimizer=getattr(keras.optimizers, optimizer)(**arguments),
                              loss="categorical_crossentropy")
            x = random_data(dtype, n=32, features=4)
            y = targets("onehot", 32, 3, dtype)
            path = os.path.join(directory, "model.keras")
            if direction == "mr_to_keras":
                first = _fit(model, x, y, _N)
                model.save(path)
                continued = keras.saving.load_model(path)
            else:
                other = keras.models.clone_model(reference)
                other.set_weights(reference.get_weights())
                other.compile(optimizer=getattr(keras.optimizers, optimizer)(**arguments),
                              loss="categorical_crossentropy")
                first = _fit(other, x, y, _N)
                other.save(path)
                continued = mr.models.load_model(path)
            second = _fit(continued, x, y, _M)
            whole = _fit(reference, x, y, _N + _M)
        pairs = [("losses", np.array(first + second), np.array(whole))]
        pairs += [(f"weight {i}", np.asarray(a), np.asarray(b)) for i, (a, b) in enumerate(
            zip(continued.get_weights(), reference.get_weights(), strict=True))]
        # "minired": the run that stopped and went on in the other library; "keras": the
        # uninterrupted Keras run it must equal.
        return Outcome(pairs, curves={"minired": first + second, "keras": whole},
                       notes=f"{_N} epochs, save, load in the other library, {_M} more")

    source, target = ("minired", "Keras") if direction == "mr_to_keras" else ("Keras",
                                                                              "minired")
    compare.__doc__ = (f"{optimizer}: {_N} epochs in {source}, saved, {_M} more in {target}, "
                       "against Keras without stopping.")
    case("saving", f"{direction}_{name}", kind="training")(compare)


for _name, (_optimizer, _arguments) in _OPTIMIZERS.items():
    for _direction in ("mr_to_keras", "keras_to_mr"):
        _saving_case(_name, _optimizer, _arguments, _direction)
