"""Constraints: the same projections, and the same training with them, in minired and Keras.

- ``values``: each of Keras' four constraints (several axes and arguments) applied to the
  same random arrays by ``mr.constraints`` and ``keras.constraints``.
- ``maxnorm_dropout``: Srivastava et al.'s recipe, max-norm plus dropout with a large
  learning rate and momentum, trained step by step in both libraries. Keras' dropout masks
  come from TensorFlow's Philox generator, so minired's masks are handed to Keras
  (:class:`comparisons.dropout.GivenMaskDropout`); the weights are projected back into the
  ball ``‖W[:, j]‖ ≤ c`` after every step, and must agree after every step.
- ``conv_embedding``: a Conv2D (MaxNorm over each filter, NonNeg bias) trained with Adam
  and an Embedding (UnitNorm rows) trained with SGD, by ``fit``. (SGD for the Embedding:
  Keras' TensorFlow gradient of an Embedding is sparse, ``tf.IndexedSlices``, and its Adam
  then updates the moments of the looked-up rows only, which minired's dense Adam does
  not do, with or without a constraint.)
"""

from __future__ import annotations

import numpy as np

from comparisons.data import classification_batch
from comparisons.dropout import with_given_masks
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case

#: (description, factory taking a constraints module, shape of the array)
PROJECTIONS = [
    ("MaxNorm(1.5) on a (6, 4) kernel", lambda c: c.MaxNorm(1.5), (6, 4)),
    ("MaxNorm(0.5, axis=[0, 1, 2]) on a conv kernel", lambda c: c.MaxNorm(0.5, axis=[0, 1, 2]),
     (3, 3, 2, 4)),
    ("MinMaxNorm(0.5, 1.2, rate=0.7, axis=1)",
     lambda c: c.MinMaxNorm(min_value=0.5, max_value=1.2, rate=0.7, axis=1), (5, 6)),
    ("MinMaxNorm() defaults", lambda c: c.MinMaxNorm(), (8, 3)),
    ("NonNeg", lambda c: c.NonNeg(), (4, 5)),
    ("UnitNorm(axis=0)", lambda c: c.UnitNorm(), (7, 3)),
    ("UnitNorm(axis=[0, 1])", lambda c: c.UnitNorm(axis=[0, 1]), (2, 3, 4)),
]


@case("constraints", "values", kind="step")
def values(dtype):
    """The four constraints give the same projected arrays (norms spread around the bounds)."""
    rng = np.random.default_rng(0)
    pairs = []
    with precision(dtype):
        for label, make, shape in PROJECTIONS:
            w = (rng.normal(size=shape) * rng.uniform(0.1, 2.0)).astype(dtype)
            ours = make(mr.constraints)(w)
            theirs = np.asarray(make(keras.constraints)(tf.constant(w)))
            assert ours.dtype == theirs.dtype == np.dtype(dtype)
            pairs.append((label, ours, theirs))
    return Outcome(pairs)


@case("constraints", "maxnorm_dropout", kind="training")
def maxnorm_dropout(dtype, steps: int = 12):
    """Dense(MaxNorm(2)) + Dropout(0.5) trained with SGD(0.5, momentum 0.9): same weights
    after every step, and the constraint bites (column norms at the cap)."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([
            mr.Input((10,)),
            mr.layers.Dropout(0.2, seed=1, name="input_dropout"),
            mr.layers.Dense(32, activation="relu", name="hidden",
                            kernel_constraint=mr.constraints.MaxNorm(2.0)),
            mr.layers.Dropout(0.5, seed=2, name="dropout"),
            mr.layers.Dense(3, activation="softmax", name="output",
                            kernel_constraint=mr.constraints.MaxNorm(2.0)),
        ])
        model.compile(optimizer=mr.optimizers.SGD(0.5, momentum=0.9),
                      loss="categorical_crossentropy")
        keras_model, dropouts = with_given_masks(model)
        keras_model.compile(optimizer=keras.optimizers.SGD(0.5, momentum=0.9),
                            loss="categorical_crossentropy", run_eagerly=True)  # masks change
        x, y = classification_batch(dtype, n=64, features=10, classes=3)
        batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
        curves = {"minired": [], "keras": []}
        pairs = []
        for step in range(steps):
            xb, yb = batches[step % len(batches)]
            curves["minired"].append(float(model.train_on_batch(xb, yb)))
            for ours, theirs in dropouts:            # this step's masks, drawn by minired
                theirs.mask = tf.constant(ours.mask)
            curves["keras"].append(float(keras_model.train_on_batch(xb, yb)))
            for w, kw, name in zip(model.get_weights(), keras_model.get_weights(),
                                   ("hidden/kernel", "hidden/bias", "output/kernel",
                                    "output/bias"), strict=True):
                pairs.append((f"step {step + 1} {name}", w, kw))
        norms = np.linalg.norm(model.layers[1].kernel, axis=0)
        pairs.append(("losses", np.array(curves["minired"]), np.array(curves["keras"])))
    return Outcome(pairs, curves=curves,
                   notes=f"hidden columns at the cap 2: {int(np.sum(norms > 2 - 1e-4))}/32, "
                         f"largest norm {norms.max():.6f}")


@case("constraints", "conv_embedding", kind="training")
def conv_embedding(dtype):
    """Conv2D (MaxNorm per filter, NonNeg bias) with Adam, Embedding (UnitNorm rows) with
    SGD, trained by fit."""
    rng = np.random.default_rng(1)
    with precision(dtype):
        def conv(lib):
            c = lib.constraints
            return lib.Sequential([
                lib.Input((6, 6, 2)),
                lib.layers.Conv2D(3, 3, kernel_constraint=c.MaxNorm(0.3, axis=[0, 1, 2]),
                                  bias_constraint=c.NonNeg(), name="conv"),
                lib.layers.Flatten(),
                lib.layers.Dense(1, name="out"),
            ])

        def embed(lib):
            return lib.Sequential([
                lib.Input((5,), dtype="int32"),
                lib.layers.Embedding(12, 4, name="embedding",
                                     embeddings_constraint=lib.constraints.UnitNorm(axis=1)),
                lib.layers.GlobalAveragePooling1D(),
                lib.layers.Dense(1, name="out"),
            ])

        data = {"conv": (rng.normal(size=(16, 6, 6, 2)).astype(dtype),
                         rng.normal(size=(16, 1)).astype(dtype)),
                "embed": (rng.integers(0, 12, size=(16, 5)).astype("int32"),
                          rng.normal(size=(16, 1)).astype(dtype))}
        pairs, curves = [], {"minired": [], "keras": []}
        optimizers = {"conv": lambda lib: lib.optimizers.Adam(0.05),
                      "embed": lambda lib: lib.optimizers.SGD(0.5)}
        for name, build in (("conv", conv), ("embed", embed)):
            mr.utils.set_random_seed(0)
            ours, theirs = build(mr), build(keras)
            theirs.set_weights(ours.get_weights())
            x, y = data[name]
            histories = []
            for lib, model in ((mr, ours), (keras, theirs)):
                model.compile(optimizer=optimizers[name](lib), loss="mse")
                histories.append(model.fit(x, y, epochs=4, batch_size=4, shuffle=False,
                                           verbose=0).history["loss"])
            curves["minired"] += histories[0]
            curves["keras"] += histories[1]
            pairs.append((f"{name} losses", np.array(histories[0]), np.array(histories[1])))
            for i, (w, kw) in enumerate(zip(ours.get_weights(), theirs.get_weights(),
                                            strict=True)):
                pairs.append((f"{name} weight {i}", w, kw))
    return Outcome(pairs, curves=curves)
