"""Dtype policies: the global policy set, not floatx, as a script does with
``keras.config.set_dtype_policy(dtype)`` (or ``keras.mixed_precision.set_global_policy``).

floatx stays float32 (Keras' default) in both libraries: the policy alone makes the layers
compute and keep their weights in ``dtype``, while the losses, the metrics and the learning
rate stay in float32, as in Keras. In the float64 run the layers are float64 and the loss
float32, a mix that :func:`comparisons.keras_env.precision` (floatx and policy together)
never makes.

- ``global_policy_fit``: the same MSE regression (same weights, same float64 data, which
  both round to the float32 ``Input``) fitted 3 epochs in both: the first batch's
  gradients, the final weights and the predictions, all in the policy's dtype. The History, float32
  numbers in both libraries whatever the policy, is compared in
  ``tests/test_dtype_policies.py`` (to float32 rounding).
- ``global_policy_keras_files``: a model built under the policy, saved as ``.keras`` by
  each library and loaded by the other (under the same policy): the predictions, and
  whether every layer's config ``dtype`` entry is the one Keras writes.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from comparisons.common import keras_loss_and_gradients
from comparisons.data import random_data, targets
from comparisons.keras_env import keras, mr
from comparisons.registry import Outcome, case


@contextlib.contextmanager
def global_policy(dtype: str) -> Iterator[None]:
    """Both libraries with floatx float32 and the global dtype policy ``dtype``; restored."""
    previous = (mr.config.floatx(), keras.config.floatx(), keras.config.dtype_policy())
    mr.config.set_floatx("float32")
    keras.config.set_floatx("float32")
    mr.config.set_dtype_policy(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        # set_floatx sets minired's policy back to following floatx (silently, from a
        # policy of that same dtype).
        mr.config.set_dtype_policy(previous[0])
        mr.config.set_floatx(previous[0])
        keras.config.set_floatx(previous[1])
        keras.config.set_dtype_policy(previous[2])


def regression_twins(dtype: str):
    """``Input(4) -> Dense(8, tanh) -> Dense(3)``, MSE and SGD with momentum, built under the
    global policy ``dtype`` in both libraries, with minired's (seeded) weights."""
    models = []
    for lib in (mr, keras):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(8, activation="tanh"),
                                lib.layers.Dense(3)])
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                      loss="mse")
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    return models


@case("dtype_policies", "global_policy_fit", kind="training")
def global_policy_fit(dtype):
    """The global policy alone (floatx float32): gradients, weights after fit, predictions."""
    with global_policy(dtype):
        mr.utils.set_random_seed(0)
        ours, theirs = regression_twins(dtype)
        x, y = random_data("float64", 48), targets("real", 48, 3, "float64")
        grads = ours.loss_and_gradients(x[:16], y[:16])[1]
        keras_grads = keras_loss_and_gradients(theirs, x[:16], y[:16])[1]
        pairs = [(f"∂L/∂w {i} (first batch)", g, k)
                 for i, (g, k) in enumerate(zip(grads, keras_grads, strict=True))]
        for model in (ours, theirs):
            model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        pairs += [(f"final weight {i}", w, v)
                  for i, (w, v) in enumerate(zip(ours.get_weights(), theirs.get_weights(),
                                                 strict=True))]
        pairs.append(("predictions", ours.predict(x, verbose=0), theirs.predict(x, verbose=0)))
        dtypes = {str(np.asarray(a).dtype) for _, a, _ in pairs} | \
            {str(np.asarray(b).dtype) for _, _, b in pairs}
        # Every array compared is in the policy's dtype in both libraries.
        pairs.append((f"arrays in {dtype} ({sorted(dtypes)})", [float(dtypes == {dtype})],
                      [1.0]))
        return Outcome(pairs, notes="floatx float32, global policy " + dtype)


@case("dtype_policies", "global_policy_keras_files")
def global_policy_keras_files(dtype):
    """A model built under the global policy, saved by each library and loaded by the other."""
    with global_policy(dtype), tempfile.TemporaryDirectory() as directory:
        mr.utils.set_random_seed(0)
        ours, theirs = regression_twins(dtype)
        x = random_data("float64", 8)
        ours.save(Path(directory) / "minired.keras")
        theirs.save(Path(directory) / "keras.keras")
        in_keras = keras.saving.load_model(Path(directory) / "minired.keras", compile=False)
        in_minired = mr.saving.load_model(Path(directory) / "keras.keras", compile=False)
        entries = [[layer.get_config()["dtype"] for layer in model.layers]
                   for model in (ours, theirs, in_keras, in_minired)]
        same = all(entry == entries[1] for entry in entries)
        expected = theirs.predict(x, verbose=0)
        return Outcome([
            ("Keras predicts from minired's file", in_keras.predict(x, verbose=0), expected),
            ("minired predicts from Keras' file", in_minired.predict(x, verbose=0), expected),
            ("config dtype entries as Keras writes them", [float(same)], [1.0]),
        ])
