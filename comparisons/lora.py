"""LoRA (``enable_lora``) on Dense, EinsumDense and Embedding, in minired and Keras.

- ``forward``: the three layers with LoRA on and the same ``W``, ``b``, ``A``, ``B``: the
  outputs, the merged weight ``W + s A B`` (Keras' ``layer.kernel``) and what
  ``save_own_variables`` writes (the merged weight, then the bias).
- ``fine_tuning``: a small text classifier (Embedding, Dense, Dense) trained a few epochs
  without LoRA, then fine-tuned with LoRA on each layer on new targets for several epochs
  (Adam, ``fit``): the loss curves, the predictions and every weight (the frozen ``W`` must
  not move). float32 only: Keras keeps ``A`` and ``B`` in float32 under any floatx, and
  TensorFlow's float32 products for their gradients (``s ∂L/∂W' Bᵀ``, ``s Aᵀ ∂L/∂W'``) sum
  in another order than NumPy's for some shapes, so under float64 the two libraries agree
  to float32's precision (1e-8 to 1e-5 after Adam's normalization of tiny gradients), not
  to the 1e-10 a float64 case is held to. tests/test_lora.py trains under float64 too,
  with a bound at float32's level.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case


def _three_layers(lib) -> list:
    made = [(lib.layers.Dense(3, activation="tanh"), (None, 5)),
            (lib.layers.EinsumDense("abc,cde->abde", output_shape=(4, 2, 3), bias_axes="de"),
             (None, 4, 5)),
            (lib.layers.Embedding(7, 3), (None, 4))]
    for layer, shape in made:
        layer.build(shape)
        layer.enable_lora(2, lora_alpha=3)
    return [layer for layer, _ in made]


@case("lora", "forward", kind="step")
def forward(dtype):
    """Dense, EinsumDense and Embedding with LoRA: outputs, W + s A B and the saved store."""
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(6, 5)).astype(dtype), rng.normal(size=(2, 4, 5)).astype(dtype),
              rng.integers(0, 7, size=(3, 4))]
    pairs = []
    with precision(dtype):
        for ours, theirs, x in zip(_three_layers(mr), _three_layers(keras), inputs, strict=True):
            values = [rng.normal(size=tuple(w.shape)).astype(w.dtype) for w in theirs.weights]
            theirs.set_weights(values)              # B not zero: the product counts
            ours.set_weights(values)
            label = type(ours).__name__
            pairs.append((f"{label} outputs", ours(x), np.asarray(theirs(x))))
            name = ours.weights[0].name             # kernel or embeddings
            pairs.append((f"{label} {name} W + s A B", getattr(ours, name),
                          np.asarray(getattr(theirs, name))))
            stored_ours, stored_theirs = {}, {}
            ours.save_own_variables(stored_ours)
            theirs.save_own_variables(stored_theirs)
            assert list(stored_ours) == list(stored_theirs)
            pairs += [(f"{label} saved {key}", stored_ours[key], np.asarray(stored_theirs[key]))
                      for key in stored_ours]
    return Outcome(pairs, notes="A and B are float32 in both libraries, whatever floatx is")


def _classifier(lib):
    return lib.Sequential([lib.Input((6,), dtype="int32"), lib.layers.Embedding(20, 8),
                           lib.layers.Flatten(), lib.layers.Dense(8, activation="tanh"),
                           lib.layers.Dense(3, activation="softmax")])


def _data(seed: int):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 20, size=(48, 6))
    return x, (x[:, :3].sum(axis=1) + seed) % 3            # a rule the model can learn


def _enable_lora_alike(ours, theirs) -> None:
    """LoRA on every Embedding and Dense, with Keras' random A copied into minired."""
    for mine, keras_layer in zip(ours.layers, theirs.layers, strict=True):
        if hasattr(keras_layer, "enable_lora"):
            keras_layer.enable_lora(4, lora_alpha=8)
            mine.enable_lora(4, lora_alpha=8)
    ours.set_weights([np.asarray(w) for w in theirs.weights])


def _compile(ours, theirs, learning_rate: float) -> None:
    for model, lib in ((ours, mr), (theirs, keras)):
        model.compile(optimizer=lib.optimizers.Adam(learning_rate),
                      loss="sparse_categorical_crossentropy")


def _weight_pairs(ours, theirs) -> list:
    return [(f"{w.path} after", mine, np.asarray(w))
            for mine, w in zip(ours.weights, theirs.weights, strict=True)]


@case("lora", "fine_tuning", kind="training", precisions=("float32",))
def fine_tuning(dtype, epochs: int = 6):
    """Pre-train without LoRA, then fine-tune with LoRA on new targets: curves and weights."""
    with precision(dtype):
        ours, theirs = _classifier(mr), _classifier(keras)
        ours.set_weights([np.asarray(w) for w in theirs.weights])
        _compile(ours, theirs, 0.01)
        x, y = _data(0)
        for model in (ours, theirs):                      # pre-training: every weight
            model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        _enable_lora_alike(ours, theirs)
        frozen = [w for w in ours.weights if getattr(w, "name", "") in ("kernel", "embeddings")]
        pretrained = [np.array(w) for w in frozen]
        _compile(ours, theirs, 0.02)                       # (Keras: compile after freezing)
        x, y = _data(1)                                    # the new task
        h_ours = ours.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
        h_theirs = theirs.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
        assert len(frozen) == 3 and all(
            np.array_equal(w, p) for w, p in zip(frozen, pretrained, strict=True)), "W moved"
        pairs = [("loss per epoch", np.array(h_ours.history["loss"]),
                  np.array(h_theirs.history["loss"])),
                 ("predictions", ours.predict(x, verbose=0), theirs.predict(x, verbose=0))]
        return Outcome(pairs + _weight_pairs(ours, theirs),
                       curves={"minired": h_ours.history["loss"],
                               "keras": h_theirs.history["loss"]},
                       notes="only A, B and the biases train; W stays as pre-trained")
