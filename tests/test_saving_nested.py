"""``.keras`` files of models whose own layers hold layers and models, as Keras writes them.

Keras names a sublayer's group in ``model.weights.h5`` after the attribute that holds it
(``transformer_block/att/...``), a Sequential or functional Model inside a layer after its
``layers`` (``ffn/layers/dense/vars``), and the layers of a list or dict after their class
(``blocks/dense``, ``blocks/dense_1``); see ``minired.saving.saving_lib._keras_children``.
The user's classes are written once, against ``lib`` (``comparisons.saving``), so the same
source runs in both libraries.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile

import numpy as np
import pytest

import minired as mr
from minired import layers


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


@pytest.fixture
def nested(keras_env):
    """``comparisons.saving``: the user's classes written against ``lib``, and the models."""
    from comparisons import saving

    return saving


def h5_layout(path) -> list[tuple[str, tuple]]:
    """Every group ``.../vars`` of a ``.keras`` file's weights, with the shapes it holds."""
    import h5py

    with zipfile.ZipFile(path) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as f:
        found = []
        f.visititems(lambda name, item: found.append((name, tuple(
            item[key].shape for key in sorted(item, key=int)))) if name.endswith("vars")
            and name != "optimizer/vars" else None)
    return sorted(found)


def layer_configs(path) -> list[dict]:
    """The layers' configs and build configs in a ``.keras`` file, without the names
    (generated from counters that differ between the libraries)."""
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    found = []
    for layer in config["config"]["layers"]:
        inner = {k: v for k, v in layer["config"].items() if k != "name"}
        if isinstance(inner.get("dtype"), dict):
            inner["dtype"] = {k: v for k, v in inner["dtype"].items()
                              if k != "shared_object_id"}   # Keras' id of a shared object
        found.append({"class_name": layer["class_name"], "config": inner,
                      "build_config": layer.get("build_config")})
    return found


def save_both(build, nested, tmp_path, dtype="float64"):
    """``build(lib, components)`` in each library with the same weights, each saved."""
    with nested.precision(dtype):
        model, reference = nested.twin_nested(build, dtype)
        model.save(tmp_path / "minired.keras")
        reference.save(tmp_path / "keras.keras")
    return model, reference


# -- the layout: the same paths and configs as Keras ---------------------------------------

TRANSFORMER_LAYOUT = [       # what Keras 3 writes for keras-io's model (checked against it)
    ("layers/dense/vars", ((8, 20), (20,))),
    ("layers/dense_1/vars", ((20, 2), (2,))),
    ("layers/dropout/vars", ()),
    ("layers/dropout_1/vars", ()),
    ("layers/global_average_pooling1d/vars", ()),
    ("layers/input_layer/vars", ()),
    ("layers/token_and_position_embedding/pos_emb/vars", ((6, 8),)),
    ("layers/token_and_position_embedding/token_emb/vars", ((20, 8),)),
    ("layers/token_and_position_embedding/vars", ()),
    ("layers/transformer_block/att/_dropout_layer/vars", ()),
    ("layers/transformer_block/att/_softmax/vars", ()),
    ("layers/transformer_block/att/key_dense/vars", ((8, 2, 8), (2, 8))),
    ("layers/transformer_block/att/output_dense/vars", ((2, 8, 8), (8,))),
    ("layers/transformer_block/att/query_dense/vars", ((8, 2, 8), (2, 8))),
    ("layers/transformer_block/att/value_dense/vars", ((8, 2, 8), (2, 8))),
    ("layers/transformer_block/att/vars", ()),
    ("layers/transformer_block/dropout1/vars", ()),
    ("layers/transformer_block/dropout2/vars", ()),
    ("layers/transformer_block/ffn/layers/dense/vars", ((8, 8), (8,))),
    ("layers/transformer_block/ffn/layers/dense_1/vars", ((8, 8), (8,))),
    ("layers/transformer_block/ffn/vars", ()),
    ("layers/transformer_block/layernorm1/vars", ((8,), (8,))),
    ("layers/transformer_block/layernorm2/vars", ((8,), (8,))),
    ("layers/transformer_block/vars", ()),
    ("vars", ()),
]


def test_transformer_file_has_keras_paths(nested, tmp_path):
    model, _ = save_both(nested.transformer_classifier, nested, tmp_path)
    assert h5_layout(tmp_path / "minired.keras") == TRANSFORMER_LAYOUT
    assert h5_layout(tmp_path / "keras.keras") == TRANSFORMER_LAYOUT


@pytest.mark.parametrize("build", ["transformer_classifier", "outer_model"])
def test_paths_shapes_and_configs_equal_keras(nested, tmp_path, build):
    save_both(getattr(nested, build), nested, tmp_path)
    mine, theirs = tmp_path / "minired.keras", tmp_path / "keras.keras"
    assert h5_layout(mine) == h5_layout(theirs)
    assert layer_configs(mine) == layer_configs(theirs)


def test_outer_layout_names_every_kind_of_sublayer(nested, tmp_path):
    """A Sequential and a functional Model under ``layers``, a list and a dict by class,
    a layer of one's own by attribute, the wrappers' own sublayers, the private last."""
    save_both(nested.outer_model, nested, tmp_path)
    paths = dict(h5_layout(tmp_path / "minired.keras"))
    outer = "layers/outer"
    assert paths[f"{outer}/seq/layers/dense_1/vars"] == ((4, 3), (3,))
    assert paths[f"{outer}/func/layers/input_layer/vars"] == ()
    assert paths[f"{outer}/func/layers/dense/vars"] == ((3, 3), (3,))
    assert paths[f"{outer}/blocks/dense_1/vars"] == ((3, 3), (3,))
    assert f"{outer}/named/dense_1/vars" in paths and f"{outer}/named/a/vars" not in paths
    assert paths[f"{outer}/inner/vars"] == ((3,),) and f"{outer}/inner/d/vars" in paths
    assert paths[f"{outer}/bi/forward_layer/cell/vars"] == ((3, 8), (2, 8), (8,))
    assert paths[f"{outer}/bn/vars"] == ((3,),) * 4
    assert paths[f"{outer}/vars"] == ((3,),)
    assert f"{outer}/seq/vars" in paths and paths[f"{outer}/seq/vars"] == ()


# -- both directions: the other library loads the file and predicts the same ---------------

@pytest.mark.parametrize("build", ["transformer_classifier", "outer_model"])
def test_minired_file_loads_in_keras_and_keras_file_in_minired(nested, tmp_path, build):
    model, reference = save_both(getattr(nested, build), nested, tmp_path)
    x = (nested.transformer_data("float64")[0] if build == "transformer_classifier"
         else np.random.default_rng(3).normal(size=(7, 4)))
    keras = nested.keras
    with nested.precision("float64"):
        in_keras = keras.saving.load_model(
            tmp_path / "minired.keras",
            custom_objects=nested.custom_objects(nested.nested_components(keras)))
        in_mr = mr.models.load_model(
            tmp_path / "keras.keras",
            custom_objects=nested.custom_objects(nested.nested_components(mr)))
        expected = model.predict(x, verbose=0)
        np.testing.assert_allclose(np.asarray(reference.predict(x, verbose=0)), expected,
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.asarray(in_keras.predict(x, verbose=0)), expected,
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(in_mr.predict(x, verbose=0), expected,
                                   rtol=1e-12, atol=1e-14)
    for mine, theirs in zip(in_mr.get_weights(), in_keras.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, np.asarray(theirs))


def test_keras_trained_file_round_trips_through_minired(nested, tmp_path):
    """Keras trains (Adam) and saves; minired loads and saves again; Keras loads that file:
    the weights and the optimizer's variables come back bit for bit."""
    keras = nested.keras
    with nested.precision("float64"):
        _, reference = nested.twin_nested(nested.transformer_classifier, "float64")
        x, y = nested.transformer_data("float64")
        reference.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        reference.save(tmp_path / "keras.keras")
        in_mr = mr.models.load_model(
            tmp_path / "keras.keras",
            custom_objects=nested.custom_objects(nested.nested_components(mr)))
        in_mr.save(tmp_path / "again.keras")
        back = keras.saving.load_model(
            tmp_path / "again.keras",
            custom_objects=nested.custom_objects(nested.nested_components(keras)))
        np.testing.assert_allclose(in_mr.predict(x, verbose=0),
                                   np.asarray(reference.predict(x, verbose=0)), rtol=1e-12)
    for before, after in zip(reference.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))
    for before, after in zip(reference.optimizer.variables, back.optimizer.variables,
                             strict=True):
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))


def test_transformer_fit_equals_keras_float64(nested):
    """SGD (with Adam, Keras on TensorFlow updates the Embeddings per occurrence of an
    index, a deliberate difference: see the README)."""
    sgd = functools.partial(nested.transformer_classifier, optimizer="SGD", learning_rate=0.1)
    with nested.precision("float64"):
        model, reference = nested.twin_nested(sgd, "float64")
        x, y = nested.transformer_data("float64")
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
        expected = reference.fit(x, y, epochs=3, batch_size=8, shuffle=False,
                                 verbose=0).history
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-10)
    # atol: the key projection's bias gets only round-off (~1e-20; the softmax over the
    # keys does not depend on it), which rtol alone would judge against itself.
    for mine, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(mine, np.asarray(theirs), rtol=1e-10, atol=1e-14)


# -- what Keras tracks: dicts and nested lists of layers, a subclassed model's layers -------

class Holder(layers.Layer):
    """Layers in a dict and in a nested list (Keras tracks both)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.named = {"b": layers.Dense(2), "a": layers.Dense(2)}
        self.nested = [[layers.Dense(2), layers.Dense(2)], layers.Dense(2)]

    def call(self, x):
        h = self.named["a"](x) + self.named["b"](x)
        return self.nested[0][1](self.nested[0][0](self.nested[1](h)))


def test_layers_in_dicts_and_nested_lists_are_sublayers_and_are_saved(tmp_path):
    inputs = mr.Input((2,))
    holder = Holder()
    model = mr.Model(inputs, holder(inputs))
    order = [holder.named["b"], holder.named["a"], *holder.nested[0], holder.nested[1]]
    assert holder._tracked_layers == order           # Keras' order: as assigned, depth first
    assert len(model.trainable_weights) == 10
    model.save(tmp_path / "m.keras")
    paths = [p for p, _ in h5_layout(tmp_path / "m.keras")]
    assert [p for p in paths if p.startswith("layers/holder/") and p.count("/") > 3] == [
        "layers/holder/named/dense/vars", "layers/holder/named/dense_1/vars",
        "layers/holder/nested/container/dense/vars",
        "layers/holder/nested/container/dense_1/vars", "layers/holder/nested/dense/vars"]
    loaded = mr.models.load_model(tmp_path / "m.keras", custom_objects={"Holder": Holder})
    x = np.random.default_rng(0).normal(size=(3, 2)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # the dict's first value is named "dense": its kernel is the file's named/dense
    np.testing.assert_array_equal(loaded.layers[1].named["b"].kernel, holder.named["b"].kernel)


def _wrapped_subclassed_model(lib):
    """A layer holding a subclassed model with two Dense, ``d`` and ``proj``."""
    class Sub(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = lib.layers.Dense(3)
            self.proj = lib.layers.Dense(2)

        def call(self, x):
            return self.proj(self.d(x))

    class Wrap(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.sub = Sub()

        def call(self, x):
            return self.sub(x)

    inputs = lib.Input((4,))
    return lib.Model(inputs, Wrap()(inputs)), {"Sub": Sub, "Wrap": Wrap}


def test_a_subclassed_model_inside_a_layer_is_walked_as_keras(keras_env, tmp_path):
    """Keras walks a subclassed model's attributes and its ``layers`` property, sorted:
    ``d`` comes before ``layers``, ``proj`` after it, so ``proj`` is ``layers/dense_1``."""
    keras = keras_env.keras
    (model, mr_objects), (reference, keras_objects) = (_wrapped_subclassed_model(mr),
                                                       _wrapped_subclassed_model(keras))
    reference.set_weights(model.get_weights())
    model.save(tmp_path / "minired.keras")
    reference.save(tmp_path / "keras.keras")
    paths = h5_layout(tmp_path / "minired.keras")
    assert paths == h5_layout(tmp_path / "keras.keras")
    assert ("layers/wrap/sub/layers/dense_1/vars", ((3, 2), (2,))) in paths
    assert ("layers/wrap/sub/vars", ()) in paths
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    in_keras = keras.saving.load_model(tmp_path / "minired.keras", custom_objects=keras_objects)
    in_mr = mr.models.load_model(tmp_path / "keras.keras", custom_objects=mr_objects)
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(np.asarray(in_keras.predict(x, verbose=0)), expected, rtol=1e-6)
    np.testing.assert_allclose(in_mr.predict(x, verbose=0), expected, rtol=1e-6)


def test_a_model_and_a_layer_on_a_constant_inside_your_call_get_their_gradients(float64):
    """A Sequential called in ``call`` is one op on the tape (its weights get ∂L/∂w and its
    input δx), and so is a built-in layer called on a constant (an Embedding on
    ``ops.arange``): finite differences agree."""
    from minired.gradcheck import numerical_gradient, relative_error

    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.ffn = mr.Sequential([layers.Dense(3, activation="tanh"), layers.Dense(2)])
            self.positions = layers.Embedding(4, 2)

        def call(self, x):
            return self.ffn(x) + self.positions(mr.ops.arange(0, 4, 1))

    inputs = mr.Input((4, 2))
    model = mr.Model(inputs, Block()(inputs))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    _, grads = model.loss_and_gradients(x, y)
    assert len(grads) == len(model.trainable_weights) == 5
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        numeric = numerical_gradient(lambda: model.compute_loss(y=y, y_pred=model(x)), weight)
        assert np.abs(grad).max() > 0
        assert relative_error(grad, numeric) < 1e-7
