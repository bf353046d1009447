"""Keras' legacy HDF5 whole-model file (``model.save("model.h5")``), minired/saving/legacy_h5.py.

The same three models (a Sequential, a functional model with a shared layer, a Conv2D +
BatchNormalization model with a Sequential inside) are built in both libraries: files pass
both ways and the predictions must agree; the JSON minired writes must be the JSON Keras
writes. Keras 2 files are written here by hand, in Keras 2's layout, and read by both.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

import minired as mr
from minired.saving import legacy_h5

h5py = pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


@pytest.fixture(autouse=True)
def _quiet_legacy_warning():
    """Every .h5 save warns, as Keras does; the warning has its own test."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are saving your model as an HDF5")
        yield


def build(lib, kind: str):
    """``(model, one sample's shape)`` in ``lib`` (minired or keras), with fixed names."""
    layers = lib.layers
    if kind == "sequential":
        return lib.Sequential([lib.Input((4,)), layers.Dense(3, activation="relu"),
                               layers.Dense(2, activation="softmax")]), (4,)
    if kind == "shared":
        inputs = lib.Input((4,), name="x")
        shared = layers.Dense(4, activation="tanh", name="shared")
        a = shared(inputs)
        b = shared(a)
        joined = layers.Concatenate(name="cat")([a, b])
        return lib.Model(inputs, layers.Dense(1, name="out")(joined), name="net"), (4,)
    inputs = lib.Input((6, 6, 2), name="image")
    z = layers.BatchNormalization(name="bn")(layers.Conv2D(3, 3, name="conv")(inputs))
    inner = lib.Sequential([lib.Input((48,)), layers.Dense(2, name="head")], name="inner")
    return lib.Model(inputs, inner(layers.Flatten(name="flat")(z)), name="cnn"), (6, 6, 2)


KINDS = ["sequential", "shared", "conv_bn"]


def randomize(model, seed: int = 0) -> None:
    """Weights away from their initial values (variances positive for BatchNormalization)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") if w.ndim > 1
                       else (np.abs(rng.normal(size=w.shape)) + 0.5).astype("float32")
                       for w in model.get_weights()])


def compile_and_step(lib, model, shape) -> tuple[np.ndarray, np.ndarray]:
    """Compile with objects and names, take one training step; return data to predict."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, *shape)).astype("float32")
    y = rng.normal(size=(8, *model.output_shape[1:])).astype("float32")
    # named: both libraries number "adam", "adam_1"... by how many were made before
    model.compile(optimizer=lib.optimizers.Adam(0.01, name="adam"),
                  loss=lib.losses.MeanSquaredError(),
                  metrics=[lib.metrics.MeanSquaredError(), "mae"])
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return x, y


@pytest.mark.parametrize("kind", KINDS)
def test_an_h5_file_round_trips_in_minired(tmp_path, kind):
    model, shape = build(mr, kind)
    randomize(model)
    x, _ = compile_and_step(mr, model, shape)
    model.save(tmp_path / "model.h5")
    loaded = mr.models.load_model(tmp_path / "model.h5")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_compile_config() == model.get_compile_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 1
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


@pytest.mark.parametrize("kind", KINDS)
def test_keras_loads_minired_h5_files(tmp_path, keras_env, kind):
    keras = keras_env.keras
    model, shape = build(mr, kind)
    randomize(model)
    x, _ = compile_and_step(mr, model, shape)
    model.save(tmp_path / "model.h5")
    theirs = keras.saving.load_model(tmp_path / "model.h5")
    np.testing.assert_allclose(np.asarray(theirs(x)), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    assert type(theirs.optimizer).__name__ == "Adam"
    assert int(theirs.optimizer.iterations) == 1          # what Keras restores of the state
    assert [type(m).__name__ for m in theirs._compile_config.config["metrics"]] == [
        "MeanSquaredError", "MeanAbsoluteError"]                 # "mae", as Keras reads it


@pytest.mark.parametrize("kind", KINDS)
def test_minired_loads_keras_h5_files(tmp_path, keras_env, kind):
    keras = keras_env.keras
    theirs, shape = build(keras, kind)
    randomize(theirs)
    x, _ = compile_and_step(keras, theirs, shape)
    theirs.save(tmp_path / "keras.h5")
    mine = mr.saving.load_model(tmp_path / "keras.h5")
    np.testing.assert_allclose(mine.predict(x, verbose=0), np.asarray(theirs(x)),
                               rtol=1e-5, atol=1e-5)
    config = mine.get_compile_config()
    assert (config["loss"]["class_name"], config["loss"]["module"]) == (
        "MeanSquaredError", "keras.losses")
    assert config["metrics"][0]["module"] == "keras.metrics"   # not the loss of that name
    assert config["metrics"][1] == "mae"
    assert config["optimizer"]["class_name"] == "Adam"
    # Keras 3.15 keeps `iterations` and the learning rate, not the moments: minired too
    assert mine.optimizer.iterations == int(theirs.optimizer.iterations) == 1
    assert not mine.optimizer.built


def test_the_h5_configs_are_the_ones_keras_writes(tmp_path, keras_env):
    keras = keras_env.keras
    files = {}
    for lib, name in ((mr, "mine.h5"), (keras, "theirs.h5")):
        model, shape = build(lib, "shared")
        compile_and_step(lib, model, shape)
        model.save(tmp_path / name)
        with h5py.File(tmp_path / name, "r") as f:
            files[name] = {key: json.loads(f.attrs[key])
                           for key in ("model_config", "training_config")}
            files[name]["weights"] = [list(f["model_weights"].attrs["layer_names"]),
                                      list(f["model_weights/shared"].attrs["weight_names"]),
                                      list(f["optimizer_weights"].attrs["weight_names"])]
    assert files["mine.h5"] == files["theirs.h5"]


def keras2_dense(name: str, units: int, activation: str, **extra) -> dict:
    """A Dense layer as Keras 2 (tf.keras 2.x) wrote it: no module, dtype as a string."""
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", **extra, "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}}


def keras2_input(name: str) -> dict:
    return {"class_name": "InputLayer", "config": {
        "batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
        "name": name}}


KERAS2_CONFIGS = {
    "sequential": {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        keras2_input("dense_input"), keras2_dense("dense", 3, "relu", batch_input_shape=[None, 4]),
        keras2_dense("dense_1", 2, "softmax")]}},
    "functional": {"class_name": "Functional", "config": {"name": "model", "layers": [
        {**keras2_input("input_1"), "name": "input_1", "inbound_nodes": []},
        {**keras2_dense("dense", 3, "relu"), "name": "dense",
         "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {**keras2_dense("dense_1", 2, "softmax"), "name": "dense_1",
         "inbound_nodes": [[["dense", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}},
}


def write_keras2_file(path, kind: str, weights: list[np.ndarray]) -> None:
    """A Keras 2 ``model.save("x.h5")`` file: weights named ``dense/kernel:0``, the compile
    arguments with a Keras 2 optimizer config, and the optimizer's step counter."""
    training = {"loss": "categorical_crossentropy", "metrics": ["accuracy"],
                "weighted_metrics": None, "loss_weights": None,
                "optimizer_config": {"class_name": "Adam", "config": {
                    "name": "Adam", "learning_rate": 0.01, "decay": 0.0, "beta_1": 0.9,
                    "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.4.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(KERAS2_CONFIGS[kind]).encode("utf8")
        f.attrs["training_config"] = json.dumps(training).encode("utf8")
        group = f.create_group("model_weights")
        names = ["dense", "dense_1"] if kind == "sequential" else ["input_1", "dense", "dense_1"]
        group.attrs["layer_names"] = [name.encode("utf8") for name in names]
        if kind == "functional":
            group.create_group("input_1").attrs["weight_names"] = []
        for i, name in enumerate(["dense", "dense_1"]):
            layer_group = group.create_group(name)
            weight_names = [f"{name}/kernel:0", f"{name}/bias:0"]
            layer_group.attrs["weight_names"] = [w.encode("utf8") for w in weight_names]
            layer_group[weight_names[0]] = weights[2 * i]
            layer_group[weight_names[1]] = weights[2 * i + 1]
        optimizer = f.create_group("optimizer_weights")
        optimizer.attrs["weight_names"] = [b"Adam/iter:0"]
        optimizer["Adam/iter:0"] = np.int64(7)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_keras2_file_loads_as_keras_loads_it(tmp_path, keras_env, kind):
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=s).astype("float32") for s in [(4, 3), (3,), (3, 2), (2,)]]
    write_keras2_file(tmp_path / "old.h5", kind, weights)
    x = rng.normal(size=(5, 4)).astype("float32")
    theirs = keras_env.keras.saving.load_model(tmp_path / "old.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # `decay` and `input_shape`: warned as Keras does
        mine = mr.saving.load_model(tmp_path / "old.h5")
    np.testing.assert_allclose(mine.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    assert [w.shape for w in mine.get_weights()] == [w.shape for w in weights]
    assert mine.optimizer.iterations == int(theirs.optimizer.iterations) == 7
    assert mine.get_compile_config()["loss"] == "categorical_crossentropy"


def test_a_lambda_layer_in_an_h5_file_is_refused(tmp_path, keras_env):
    keras = keras_env.keras
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    model.save(tmp_path / "lambda.h5")
    with pytest.raises(ValueError, match="a Lambda layer: Python code stored in a model file"):
        mr.models.load_model(tmp_path / "lambda.h5", safe_mode=False)


def test_a_registered_layer_round_trips_and_an_unknown_one_is_named(tmp_path):
    @mr.saving.register_keras_serializable(package="h5test")
    class Twice(mr.layers.Layer):
        def call(self, inputs):
            return 2 * inputs

    inputs = mr.Input((3,))
    model = mr.Model(inputs, mr.layers.Dense(2)(Twice(name="twice")(inputs)))
    model.save(tmp_path / "custom.h5")
    with h5py.File(tmp_path / "custom.h5", "r") as f:
        classes = [layer["class_name"]
                   for layer in json.loads(f.attrs["model_config"])["config"]["layers"]]
    assert classes == ["InputLayer", "h5test>Twice", "Dense"]        # Keras' legacy name
    with pytest.warns(UserWarning, match=r"was \*not\* compiled"):     # as Keras warns
        loaded = mr.models.load_model(tmp_path / "custom.h5")
    x = np.ones((2, 3), dtype="float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with h5py.File(tmp_path / "custom.h5", "r+") as f:     # a class nobody registered
        f.attrs["model_config"] = f.attrs["model_config"].replace("h5test>Twice", "Nowhere")
    with pytest.raises(ValueError, match="Unknown class 'Nowhere'"):
        mr.models.load_model(tmp_path / "custom.h5")


def test_saving_warns_as_keras_and_is_atomic(tmp_path, monkeypatch):
    model, _ = build(mr, "sequential")
    path = tmp_path / "model.h5"
    with pytest.warns(UserWarning, match="This file format is considered legacy"):
        model.save(path)
    before = path.read_bytes()

    def broken(group, model):
        raise OSError("disk full")

    monkeypatch.setattr(legacy_h5, "_write_weights", broken)
    randomize(model)
    with pytest.raises(OSError, match="disk full"):
        mr.saving.save_model(model, path)
    assert path.read_bytes() == before                 # the old file, whole
    assert os.listdir(tmp_path) == ["model.h5"]        # and no temporary file left


def replace_weight(path, layer_index: int, weight_index: int, value) -> None:
    """Put ``value`` (an array or an h5py link) in place of one weight of the file."""
    with h5py.File(path, "r+") as f:
        weights = f["model_weights"]
        layer = weights[weights.attrs["layer_names"][layer_index]]
        name = layer.attrs["weight_names"][weight_index]
        del layer[name]
        layer[name] = value


def test_a_damaged_or_hostile_file_is_refused(tmp_path):
    model, _ = build(mr, "sequential")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="not a valid HDF5 file"):
        mr.models.load_model(tmp_path / "text.h5")
    model.save(tmp_path / "model.h5")
    replace_weight(tmp_path / "model.h5", 0, 0, h5py.ExternalLink("/etc/passwd", "/x"))
    with pytest.raises(ValueError, match="is a link; refused"):       # outside the file
        mr.models.load_model(tmp_path / "model.h5")
    model.save(tmp_path / "model.h5")
    replace_weight(tmp_path / "model.h5", 1, 1, np.zeros(5, dtype="float32"))
    with pytest.raises(ValueError, match=r"Received saved weight with shape \(5,\)"):
        mr.models.load_model(tmp_path / "model.h5")


def test_model_checkpoint_saves_the_best_model_as_h5(tmp_path, monkeypatch):
    """keras-io "Timeseries classification from scratch": ModelCheckpoint("best_model.h5",
    save_best_only=True), then load_model("best_model.h5")."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model, _ = build(mr, "sequential")
    model.compile(optimizer=mr.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    checkpoint = mr.callbacks.ModelCheckpoint("best_model.h5", save_best_only=True,
                                              monitor="val_loss")
    history = model.fit(x[:30], y[:30], epochs=6, batch_size=10, verbose=0,
                        validation_data=(x[30:], y[30:]), callbacks=[checkpoint])
    best = mr.models.load_model("best_model.h5")
    val_loss = best.evaluate(x[30:], y[30:], verbose=0)[0]
    np.testing.assert_allclose(val_loss, min(history.history["val_loss"]), rtol=1e-6)
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        mr.callbacks.ModelCheckpoint("best_model.h5", save_weights_only=True)
