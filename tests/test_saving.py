"""Saving and loading: configs as Keras writes them, .keras archives both ways, clone_model.

The Keras tests build the same model in both libraries (``comparisons.mirror.to_keras``) and
compare the JSON, then pass files across: minired saves, Keras loads and keeps training (and
the other way round), and the losses must agree with minired's own run.

Keys Keras writes that minired has no concept of are written by minired with Keras' default
value (``kernel_constraint``, ``quantization_config``, an optimizer's ``use_ema``..., the
dtype policy); the only key left out of the comparison is ``shared_object_id``, Keras'
note that two objects in the file are the same Python object.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import minired as mr


@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def strip(config):
    """A config without Keras' object-sharing ids."""
    if isinstance(config, dict):
        return {k: strip(v) for k, v in config.items() if k != "shared_object_id"}
    if isinstance(config, list):
        return [strip(v) for v in config]
    return config


def unname_sequential_inputs(config):
    """The mirror gives a Sequential's Input in Keras its own automatic name: drop it."""
    if isinstance(config, dict):
        if config.get("class_name") == "Sequential":
            config["config"]["layers"][0]["config"].pop("name")
        return {k: unname_sequential_inputs(v) for k, v in config.items()}
    if isinstance(config, list):
        return [unname_sequential_inputs(v) for v in config]
    return config


def data(n: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    return x, y


def graph_model():
    inputs = mr.Input((4,), name="x")
    hidden = mr.layers.Dense(8, activation="relu", kernel_regularizer="l2", name="h")(inputs)
    dropped = mr.layers.Dropout(0.5, seed=3)(hidden)
    probabilities = mr.layers.Dense(3, activation="softmax")(dropped)
    inner = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2)], name="inner")
    joined = mr.layers.Concatenate()([probabilities, hidden])
    return mr.Model(inputs, [probabilities, joined, inner(probabilities)])


def small_model(optimizer="adam"):
    inputs = mr.Input((4,))
    hidden = mr.layers.Dense(8, activation="relu")(inputs)
    model = mr.Model(inputs, mr.layers.Dense(3, activation="softmax")(hidden))
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_losses(model, x, y, epochs=2):
    return model.fit(x, y, epochs=epochs, batch_size=8, shuffle=False,
                     verbose=0).history["loss"]


# -- configs ----------------------------------------------------------------------------------
def test_a_sequential_config_round_trips():
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(5, activation="tanh"),
                           mr.layers.Dropout(0.2), mr.layers.Dense(2)], name="stack")
    again = mr.Sequential.from_config(model.get_config())
    assert type(again) is mr.Sequential and again.name == "stack"
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in model.layers]
    assert [w.shape for w in again.get_weights()] == [w.shape for w in model.get_weights()]
    assert again.get_config() == model.get_config()


def test_a_functional_config_round_trips_with_shared_and_nested_layers():
    model = graph_model()
    again = mr.Model.from_config(model.get_config())
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    assert again.get_config() == model.get_config()
    again.set_weights(model.get_weights())
    x, _ = data(5)
    for a, b in zip(model.predict(x, verbose=0), again.predict(x, verbose=0), strict=True):
        np.testing.assert_array_equal(a, b)


def test_to_json_and_model_from_json():
    model = graph_model()
    again = mr.models.model_from_json(model.to_json())
    assert again.to_json() == model.to_json()


@pytest.mark.parametrize("build", ["sequential", "graph"])
def test_the_json_is_keras_json(keras_env, build):
    from comparisons.mirror import to_keras

    model = graph_model() if build == "graph" else mr.Sequential(
        [mr.Input((4,)), mr.layers.Dense(2), mr.layers.Flatten(), mr.layers.Activation("tanh")])
    keras_model = to_keras(model)
    mine, theirs = json.loads(model.to_json()), json.loads(keras_model.to_json())
    assert unname_sequential_inputs(strip(mine)) == unname_sequential_inputs(strip(theirs))
    # and each reads the other's
    assert keras_env.keras.models.model_from_json(model.to_json()).count_params() == (
        model.count_params())
    back = mr.models.model_from_json(keras_model.to_json())
    assert strip(json.loads(back.to_json())) == strip(json.loads(keras_model.to_json()))


def test_the_compile_config_is_keras_compile_config(keras_env):
    keras = keras_env.keras
    model = small_model(mr.optimizers.Adam(0.01, name="adam"))   # names: no session counters
    keras_model = keras.Model.from_config(model.get_config())
    keras_model.compile(optimizer=keras.optimizers.Adam(0.01, name="adam"),
                        loss="categorical_crossentropy", metrics=["accuracy"])
    mine, theirs = model.get_compile_config(), keras_model.get_compile_config()
    assert strip(mine) == strip(json.loads(json.dumps(theirs)))


def test_clone_model_has_new_weights_and_the_same_architecture():
    model = graph_model()
    clone = mr.models.clone_model(model)
    assert clone.get_config() == model.get_config()
    assert not any(np.array_equal(a, b) for a, b in zip(
        clone.get_weights(), model.get_weights(), strict=True) if a.ndim == 2)
    assert all(a is not b for a, b in zip(clone.weights, model.weights, strict=True))


def test_clone_model_with_a_clone_function_and_input_tensors():
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3), mr.layers.Dropout(0.5)])
    names = []

    def clone(layer):
        names.append(layer.name)
        return layer.__class__.from_config({**layer.get_config(),
                                            "name": f"copy_of_{layer.name}"})

    inputs = mr.Input((4,))
    copy = mr.models.clone_model(model, input_tensors=inputs, clone_function=clone)
    assert names == [layer.name for layer in model.layers]
    assert [layer.name for layer in copy.layers] == [f"copy_of_{n}" for n in names]
    graph = graph_model()
    copy = mr.models.clone_model(graph, clone_function=lambda layer: layer)   # shares layers
    assert copy.layers[1] is graph.layers[1]



def test_clone_model_of_a_compiled_model_is_compiled_as_by_keras(keras_env):
    """Keras' clone_model compiles the clone from the original's compile config: a new
    optimizer of the same class and settings, the same loss and metrics, new metric objects;
    so the clone trains at once. Both libraries, the same compile config."""
    keras = keras_env.keras
    configs = {}
    for library in (mr, keras):
        model = library.Sequential([library.Input((4,)), library.layers.Dense(3)])
        model.compile(optimizer=library.optimizers.Adam(0.01), loss="mse",
                      metrics=["mae", library.metrics.MeanSquaredError(name="m2")])
        clone = library.models.clone_model(model)
        assert clone.compiled and clone.optimizer is not model.optimizer
        assert type(clone.optimizer) is type(model.optimizer)
        assert float(np.asarray(clone.optimizer.learning_rate)) == pytest.approx(0.01)
        history = clone.fit(np.ones((8, 4)), np.ones((8, 3)), epochs=1, verbose=0)
        assert sorted(history.history) == ["loss", "m2", "mae"]
        configs[library] = clone.get_compile_config()
        uncompiled = library.Sequential([library.Input((4,)), library.layers.Dense(3)])
        assert not library.models.clone_model(uncompiled).compiled
    assert configs[mr]["loss"] == configs[keras]["loss"]
    assert configs[mr]["metrics"][0] == configs[keras]["metrics"][0]


def test_clone_model_compiled_with_your_own_loss_function():
    """A loss function of yours, unregistered, which the clone's compile config names: the
    clone finds it among the model's compile arguments (Keras raises "Could not locate
    function"; a deliberate difference, see the README)."""
    def my_loss(y_true, y_pred):
        return mr.ops.mean(mr.ops.square(y_true - y_pred), axis=-1)

    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=my_loss)
    clone = mr.models.clone_model(model)
    assert clone.compiled
    x, y = np.ones((4, 4), "float32"), np.zeros((4, 3), "float32")
    clone.set_weights(model.get_weights())
    assert clone.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))

# -- archives ---------------------------------------------------------------------------------
def test_the_archive_is_keras_layout(tmp_path):
    model = small_model()
    x, y = data()
    fit_losses(model, x, y, epochs=1)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert zf.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        assert config["class_name"] == "Functional"
        assert config["compile_config"]["loss"] == "categorical_crossentropy"
        import io

        import h5py

        with h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as f:
            assert f["layers/dense/vars/0"].shape == (4, 8)
            assert f["layers/dense_1/vars"].attrs["name"] == model.layers[2].name
            assert f["optimizer/vars/0"][()] == 4              # iterations
            assert f["optimizer/vars/2"].shape == (4, 8)       # m of the first kernel
            assert len(f["optimizer/vars"]) == 2 + 2 * 4


@pytest.mark.parametrize("optimizer", [
    lambda o: o.Adam(0.01), lambda o: o.SGD(0.1, momentum=0.9, nesterov=True),
    lambda o: o.RMSprop(0.01, momentum=0.5, centered=True), lambda o: o.Adagrad(0.1),
    lambda o: o.Nadam(0.01), lambda o: o.AdamW(0.01), lambda o: o.Adam(0.01, amsgrad=True),
    lambda o: o.SGD(o.schedules.ExponentialDecay(0.1, 2, 0.5))])
def test_loading_continues_training_bit_for_bit(tmp_path, optimizer):
    x, y = data()
    mr.utils.set_random_seed(1)
    model = small_model(optimizer(mr.optimizers))
    fit_losses(model, x, y)
    model.save(tmp_path / "m.keras")
    loaded = mr.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert fit_losses(loaded, x, y) == fit_losses(model, x, y)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["Adam", "SGD", "RMSprop", "Adagrad", "Nadam", "AdamW"])
def test_keras_continues_a_minired_file_and_minired_a_keras_file(tmp_path, keras_env, optimizer):
    keras = keras_env.keras
    x, y = data()
    arguments = {"SGD": {"learning_rate": 0.1, "momentum": 0.9}}.get(optimizer,
                                                                     {"learning_rate": 0.01})
    model = small_model(getattr(mr.optimizers, optimizer)(**arguments))
    fit_losses(model, x, y)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    assert int(keras_model.optimizer.iterations) == model.optimizer.iterations
    np.testing.assert_allclose(fit_losses(keras_model, x, y), fit_losses(model, x, y),
                               rtol=0, atol=1e-6)
    keras_model.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(fit_losses(back, x, y), fit_losses(keras_model, x, y),
                               rtol=0, atol=1e-6)


def test_save_weights_and_load_weights(tmp_path):
    model = graph_model()
    model.save_weights(tmp_path / "w.weights.h5")
    other = mr.models.clone_model(model)
    other.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(other.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(tmp_path / "w.h5")


def test_the_keras_models_names_save_and_load(tmp_path):
    # keras.models.save_model / keras.models.load_model, as scripts call them
    model = graph_model()
    mr.models.save_model(model, tmp_path / "m.keras")
    loaded = mr.models.load_model(tmp_path / "m.keras")
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_weights_checks_every_shape_before_writing(tmp_path):
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3), mr.layers.Dense(2)])
    model.save_weights(tmp_path / "w.weights.h5")
    other = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3), mr.layers.Dense(5)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="shape"):
        other.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(other.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_custom_objects_and_registration(tmp_path):
    @mr.saving.register_keras_serializable(package="Tests")
    class Scale(mr.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def forward(self, inputs, training=False):
            return inputs * self.factor

        def backward(self, grad_outputs):
            return grad_outputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = mr.Sequential([mr.Input((4,)), Scale(3.0), mr.layers.Dense(2)])
    model.save(tmp_path / "s.keras")
    loaded = mr.models.load_model(tmp_path / "s.keras")
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].factor == 3.0
    del mr.saving.get_custom_objects()["Tests>Scale"]
    with pytest.raises(ValueError, match="Unknown class 'Scale'"):
        mr.models.load_model(tmp_path / "s.keras")
    loaded = mr.models.load_model(tmp_path / "s.keras", custom_objects={"Scale": Scale})
    assert loaded.layers[0].factor == 3.0


def test_compile_false_and_a_float64_model(tmp_path, float64):
    model = small_model()
    model.save(tmp_path / "m.keras")
    assert not mr.models.load_model(tmp_path / "m.keras", compile=False).compiled
    mr.config.set_floatx("float32")
    with pytest.raises(ValueError, match="set_floatx"):
        mr.models.load_model(tmp_path / "m.keras")


def test_a_model_with_integer_weights_saves_and_loads(tmp_path):
    """Normalization keeps an int64 ``count`` weight, as Keras does: it round-trips."""
    x = np.random.default_rng(0).normal(size=(20, 3))
    norm = mr.layers.Normalization()
    norm.adapt(x)
    inputs = mr.Input((3,))
    model = mr.Model(inputs, mr.layers.Dense(2)(norm(inputs)))
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "normalized.keras")
    loaded = mr.models.load_model(tmp_path / "normalized.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def _custom_block_classes(library, ops):
    """A layer written with call, holding Variables (one non-trainable), a Dense, a taped
    sublayer and a list of Dense layers: the same classes for minired and for Keras."""

    class Inner(library.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, inputs):
            return inputs * self.w

    class Block(library.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = library.layers.Dense(3)
            self.inner = Inner()
            self.stack = [library.layers.Dense(3), library.layers.Dense(2)]
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False)
            self.scale = self.add_weight(shape=(), initializer="ones")

        def call(self, inputs):
            h = self.inner(self.dense(inputs))
            for layer in self.stack:
                h = layer(h)
            return ops.tanh(h) * self.scale

    return Block


def test_a_custom_layer_s_weights_are_named_as_keras_names_them(tmp_path, keras_env):
    """Keras saves a layer written with call as its own Variables, then each sublayer under
    its attribute's name: weights written by one library load in the other."""
    keras = keras_env.keras
    models = {}
    for name, library, ops in (("mr", mr, mr.ops), ("keras", keras, keras.ops)):
        block = _custom_block_classes(library, ops)
        inputs = library.Input((4,))
        models[name] = library.Model(inputs, block()(inputs))
    rng = np.random.default_rng(0)
    models["mr"].set_weights([rng.normal(size=w.shape).astype("float32")
                              for w in models["mr"].get_weights()])
    models["mr"].save_weights(tmp_path / "m.weights.h5")
    models["keras"].load_weights(tmp_path / "m.weights.h5")
    x = rng.normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(models["keras"].predict(x, verbose=0),
                               models["mr"].predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    models["keras"].set_weights([w * 0.5 for w in models["keras"].get_weights()])
    models["keras"].save_weights(tmp_path / "k.weights.h5")
    models["mr"].load_weights(tmp_path / "k.weights.h5")
    for a, b in zip(models["mr"].get_weights(), models["keras"].get_weights(), strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))


def test_a_subclassed_model_is_not_saved_half_right(tmp_path):
    @mr.saving.register_keras_serializable(package="Tests")
    class Net(mr.Model):
        def __init__(self):
            super().__init__()
            self.dense = mr.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = Net()
    model(np.ones((1, 3)))
    with pytest.raises(ValueError, match="subclassed model .* not implemented"):
        model.save(tmp_path / "n.keras")
    with pytest.raises(ValueError, match="subclassed model .* not implemented"):
        model.save_weights(tmp_path / "n.weights.h5")
    assert not list(tmp_path.iterdir())
    del mr.saving.get_custom_objects()["Tests>Net"]


def test_a_custom_layer_without_get_config_saves_its_arguments(tmp_path, keras_env):
    """Keras' automatic config: the constructor's plain arguments, defaults included."""

    @mr.saving.register_keras_serializable(package="Tests")
    class Power(mr.layers.Layer):
        def __init__(self, exponent=2.0, offsets=(1, 2)):
            super().__init__()
            self.exponent, self.offsets = exponent, offsets

        def call(self, inputs):
            return inputs ** self.exponent + self.offsets[0]

    layer = Power(3.0)
    config = layer.get_config()
    assert config == {"exponent": 3.0, "offsets": (1, 2), "trainable": True,
                      "dtype": config["dtype"]}
    assert Power.from_config(config).exponent == 3.0

    keras = keras_env.keras

    @keras.saving.register_keras_serializable(package="Tests")
    class KerasPower(keras.layers.Layer):
        def __init__(self, exponent=2.0, offsets=(1, 2)):
            super().__init__()
            self.exponent, self.offsets = exponent, offsets

    keras_config = KerasPower(3.0).get_config()
    assert {k: v for k, v in keras_config.items() if k != "dtype"} == {
        k: v for k, v in config.items() if k != "dtype"}

    inputs = mr.Input((2,))
    model = mr.Model(inputs, Power(3.0)(inputs))
    model.save(tmp_path / "p.keras")
    loaded = mr.models.load_model(tmp_path / "p.keras")
    assert loaded.layers[1].exponent == 3.0
    del mr.saving.get_custom_objects()["Tests>Power"]
