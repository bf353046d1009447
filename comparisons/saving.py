"""Saving: a model trained in one library, saved, loaded in the other, trained on.

Each case trains the same model (same weights, data and optimizer) N epochs in one library,
saves it as ``.keras``, loads the file in the other library and trains M more epochs. The
reference is Keras training N + M epochs without stopping. Losses of every epoch and the
final weights are compared: a file must carry the weights **and** the optimizer's state
(its step count, moments, velocities...) in Keras' order, or the second half drifts at once.

- ``mr_to_keras_*``: minired trains and saves, ``keras.saving.load_model`` continues.
- ``keras_to_mr_*``: Keras trains and saves, ``mr.models.load_model`` continues.
- ``transformer_block_cross_load``: keras-io's "Text classification with Transformer"
  (layers of the user's own holding a MultiHeadAttention, a Sequential, LayerNormalizations
  and Embeddings), written once against ``lib`` (:func:`nested_components`), with the same
  weights in both, saved by each and loaded by the other (the files' paths are Keras',
  ``transformer_block/ffn/layers/dense/vars``..., see
  ``minired.saving.saving_lib._keras_children``); then trained by Keras, loaded and saved
  again by minired, and loaded by Keras: weights and Adam's variables come back.
"""

from __future__ import annotations

import os
import tempfile
from types import SimpleNamespace

import numpy as np

from comparisons.common import twins
from comparisons.data import random_data, targets
from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case

_N, _M = 3, 3
#: keras-io's transformer, small: vocabulary, sequence length, embedding, heads, FFN width.
VOCAB, MAXLEN, EMBED, HEADS, FF = 20, 6, 8, 2, 8
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


# -- layers of the user's own that hold layers, written once against ``lib`` ----------------

def nested_components(lib) -> SimpleNamespace:
    """The user's classes, for ``lib`` (``minired`` or ``keras``): keras-io's
    ``TransformerBlock`` and ``TokenAndPositionEmbedding`` (verbatim but for ``**kwargs``,
    passed to ``Layer``: without it Keras cannot load its own file of them, its config
    holding ``trainable`` and ``dtype`` that their ``__init__`` refuses), and
    ``Inner``/``Outer``, a layer holding every kind of thing Keras names in a file: a
    Sequential, a functional Model, a list and a dict of layers, a layer of its own,
    MultiHeadAttention, Bidirectional(LSTM), BatchNormalization, Dropout and ``add_weight``
    variables at two levels."""
    layers, ops = lib.layers, lib.ops

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
            super().__init__(**kwargs)
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = lib.Sequential([layers.Dense(ff_dim, activation="relu"),
                                       layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs, training=False):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output, training=training)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output, training=training)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    class Inner(layers.Layer):
        """A Dense and a weight of its own (made in ``build``)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = layers.Dense(3)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(3,), initializer="random_normal",
                                         name="scale")

        def call(self, x):
            return self.d(x) * self.scale

    class Outer(layers.Layer):
        """Every kind of sublayer Keras' walk names (see ``saving_lib._keras_children``)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seq = lib.Sequential([layers.Dense(4, activation="relu"), layers.Dense(3)])
            self.blocks = [layers.Dense(3), layers.Dense(3, activation="tanh")]
            self.named = {"b": layers.Dense(3), "a": layers.Dense(3)}
            self.inner = Inner()
            self.bn = layers.BatchNormalization()
            self.att = layers.MultiHeadAttention(num_heads=2, key_dim=2)
            self.bi = layers.Bidirectional(layers.LSTM(2))
            self.drop = layers.Dropout(0.0)
            inputs = lib.Input((3,))
            self.func = lib.Model(inputs, layers.Dense(3)(inputs))

        def build(self, input_shape):
            self.w = self.add_weight(shape=(3,), initializer="random_normal", name="w")

        def call(self, x, training=False):
            h = self.seq(x)
            for block in self.blocks:
                h = block(h)
            h = self.named["a"](h) + self.named["b"](h)
            h = self.bn(self.inner(h), training=training)
            sequence = ops.concatenate([ops.expand_dims(h, 1), ops.expand_dims(-h, 1)], axis=1)
            h = h + ops.mean(self.att(sequence, sequence), axis=1)
            h = h + ops.sum(self.bi(sequence), axis=-1, keepdims=True)
            return self.func(self.drop(h, training=training)) * self.w

    return SimpleNamespace(TransformerBlock=TransformerBlock,
                           TokenAndPositionEmbedding=TokenAndPositionEmbedding,
                           Inner=Inner, Outer=Outer)


def custom_objects(c: SimpleNamespace) -> dict:
    """``load_model``'s ``custom_objects`` for the classes of :func:`nested_components`."""
    return {name: getattr(c, name) for name in ("TransformerBlock",
                                                  "TokenAndPositionEmbedding", "Inner", "Outer")}


def transformer_classifier(lib, c: SimpleNamespace, rate: float = 0.0,
                           optimizer: str = "Adam", learning_rate: float = 0.01):
    """keras-io's classifier, small (Dropout ``rate`` 0 for training compared across the two
    libraries, whose random masks differ), compiled with Adam as there (``optimizer``: the
    class name of another; Keras on TensorFlow gives Adam one slice of the Embedding's
    gradient per occurrence of an index, minired their sum: see the README)."""
    layers = lib.layers
    inputs = layers.Input(shape=(MAXLEN,))
    x = c.TokenAndPositionEmbedding(MAXLEN, VOCAB, EMBED)(inputs)
    x = c.TransformerBlock(EMBED, HEADS, FF, rate)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(rate)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(rate)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = lib.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=getattr(lib.optimizers, optimizer)(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def outer_model(lib, c: SimpleNamespace):
    """A functional model around one ``Outer`` (4 features in, 3 out), compiled with SGD."""
    inputs = lib.Input((4,))
    model = lib.Model(inputs, c.Outer()(inputs))
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05), loss="mse")
    return model


def transformer_data(dtype: str, n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Token ids (as floats, as keras-io's ``Input(shape=(maxlen,))`` takes them) and labels."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, VOCAB, size=(n, MAXLEN)).astype(dtype)
    return x, (x[:, 0] > VOCAB / 2).astype(dtype)


def twin_nested(build, dtype: str, seed: int = 0):
    """``(minired model, Keras model)`` made by ``build(lib, components)`` with minired's
    (seeded) weights copied into Keras."""
    mr.utils.set_random_seed(seed)
    model = build(mr, nested_components(mr))
    reference = build(keras, nested_components(keras))
    reference.set_weights([np.asarray(w, dtype=dtype) for w in model.get_weights()])
    return model, reference


@case("saving", "transformer_block_cross_load")
def transformer_block_cross_load(dtype: str) -> Outcome:
    """keras-io's transformer: each library's file in the other; Keras-trained, round trip."""
    with precision(dtype), tempfile.TemporaryDirectory() as directory:
        model, reference = twin_nested(transformer_classifier, dtype)
        x, y = transformer_data(dtype)
        paths = {name: os.path.join(directory, f"{name}.keras")
                 for name in ("minired", "keras", "trained", "again")}
        model.save(paths["minired"])
        reference.save(paths["keras"])
        keras_objects = custom_objects(nested_components(keras))
        mr_objects = custom_objects(nested_components(mr))
        in_keras = keras.saving.load_model(paths["minired"], custom_objects=keras_objects)
        in_mr = mr.models.load_model(paths["keras"], custom_objects=mr_objects)
        pairs = [("minired's file in Keras: predict", model.predict(x, verbose=0),
                  np.asarray(in_keras.predict(x, verbose=0))),
                 ("Keras' file in minired: predict", in_mr.predict(x, verbose=0),
                  np.asarray(reference.predict(x, verbose=0)))]
        # Keras trains (Adam, 3 epochs) and saves; minired loads and saves; Keras loads.
        reference.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        reference.save(paths["trained"])
        trained = mr.models.load_model(paths["trained"], custom_objects=mr_objects)
        trained.save(paths["again"])
        back = keras.saving.load_model(paths["again"], custom_objects=keras_objects)
        pairs.append(("trained Keras file in minired: predict", trained.predict(x, verbose=0),
                      np.asarray(reference.predict(x, verbose=0))))
        pairs += [(f"round trip: weight {i}", np.asarray(a), np.asarray(b)) for i, (a, b) in
                  enumerate(zip(back.get_weights(), reference.get_weights(), strict=True))]
        pairs += [(f"round trip: optimizer variable {i}", np.asarray(a), np.asarray(b))
                  for i, (a, b) in enumerate(zip(back.optimizer.variables,
                                                 reference.optimizer.variables, strict=True))]
    return Outcome(pairs, notes="files both ways; Keras trains 3 epochs, minired loads and saves, "
                         "Keras loads (training in minired: see tests/test_saving_nested.py)")
