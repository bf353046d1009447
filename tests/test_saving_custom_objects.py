"""Your own classes and functions in saved models, checked against real Keras.

What keras-io's guides "Serialization and saving" and "Customizing saving and serialization"
do: save a model with a layer or a loss of yours (registered or not), load it with
``custom_objects``, clone it, subclass a built-in layer, and take over a layer's part of the
file with ``save_own_variables`` / ``save_assets``. Each test builds the same model in both
libraries and compares what they write, or loads one library's file in the other.
"""

import os
import zipfile

import h5py
import numpy as np
import pytest

import minired as mr


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    import keras

    return keras


def custom_classes(library):
    """An unregistered layer with an argument, and an unregistered loss: the same for both."""

    class CustomLayer(library.layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    def my_loss(y_true, y_pred):
        return library.ops.mean(library.ops.square(y_true - y_pred), axis=-1)

    return CustomLayer, my_loss


def custom_model(library, seed: int = 0):
    CustomLayer, my_loss = custom_classes(library)
    inputs = library.Input((4,))
    model = library.Model(inputs, library.layers.Dense(2)(CustomLayer(0.5)(inputs)))
    model.compile(optimizer="sgd", loss=my_loss)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model, {"CustomLayer": CustomLayer, "my_loss": my_loss}


def test_unregistered_classes_and_functions_are_written_as_keras_writes_them(keras):
    written = {}
    for library in (mr, keras):
        model, _ = custom_model(library)
        written[library] = library.saving.serialize_keras_object(model)
    for key in ("module", "class_name", "registered_name"):
        assert written[mr]["config"]["layers"][1][key] == written[keras]["config"]["layers"][1][
            key]
    assert written[mr]["config"]["layers"][1]["registered_name"] == "CustomLayer"
    assert written[mr]["config"]["layers"][1]["config"]["factor"] == 0.5
    # a function: {"module": "builtins", "class_name": "function", "config": "my_loss", ...}
    assert written[mr]["compile_config"]["loss"] == written[keras]["compile_config"]["loss"]


def test_a_class_defined_in_main_is_written_with_module_none(keras):
    modules = []
    for library in (mr, keras):
        @library.saving.register_keras_serializable(package="MainTests")
        class Identity(library.layers.Layer):
            def call(self, x):
                return x

        Identity.__module__ = "__main__"        # as in a script or a notebook
        modules.append(library.saving.serialize_keras_object(Identity())["module"])
        del library.saving.get_custom_objects()["MainTests>Identity"]
    assert modules == [None, None]


def test_a_file_with_unregistered_objects_loads_with_custom_objects_both_ways(tmp_path, keras):
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    for writer, reader in ((mr, keras), (keras, mr)):
        model, _ = custom_model(writer)
        path = tmp_path / f"{writer.__name__}.keras"
        model.save(path)
        _, custom_objects = custom_model(reader)
        loaded = reader.models.load_model(path, custom_objects=custom_objects)
        np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                                   np.asarray(model.predict(x, verbose=0)), rtol=1e-6)
    with pytest.raises(ValueError, match=r"custom_objects=\{'CustomLayer'"):
        mr.models.load_model(tmp_path / "keras.keras")      # loading stays closed


def test_get_config_and_clone_model_of_a_model_with_an_unregistered_layer():
    model, custom_objects = custom_model(mr)
    copy = mr.Model.from_config(model.get_config(), custom_objects=custom_objects)
    assert type(copy.layers[1]) is custom_objects["CustomLayer"]
    clone = mr.models.clone_model(model)
    assert type(clone.layers[1]) is custom_objects["CustomLayer"]
    assert clone.layers[1].factor == 0.5


def test_a_subclass_of_dense_rebuilds_from_its_config(keras):
    """Keras' Dense writes kernel_constraint...; a subclass of it must read them back."""
    for library in (mr, keras):
        class MyDense(library.layers.Dense):
            pass

        layer = MyDense.from_config(MyDense(3).get_config())
        assert layer.units == 3


def test_registering_a_name_again_replaces_it_as_in_keras(keras):
    for library in (mr, keras):
        for _ in range(2):        # a notebook cell run twice
            @library.saving.register_keras_serializable(package="RegisterTwice")
            class Twice(library.layers.Layer):
                def call(self, x):
                    return 2 * x

        assert library.saving.get_custom_objects()["RegisterTwice>Twice"] is Twice
        del library.saving.get_custom_objects()["RegisterTwice>Twice"]


def shifted_dense_model(library, extra: str | None = None):
    class ShiftedDense(library.layers.Dense):
        def build(self, input_shape):
            if extra == "before":
                self.extra = self.add_weight(shape=(self.units,), name="extra")
            super().build(input_shape)
            if extra == "after":
                self.extra = self.add_weight(shape=(self.units,), name="extra")

        def call(self, inputs):
            return super().call(inputs) + 1.0

    inputs = library.Input((2,))
    return library.Model(inputs, ShiftedDense(3)(inputs)), ShiftedDense


def test_a_subclass_of_dense_keeps_its_kernel_and_bias_in_keras_file_layout(tmp_path, keras):
    rng = np.random.default_rng(2)
    for writer, reader in ((mr, keras), (keras, mr)):
        model, _ = shifted_dense_model(writer)
        model.set_weights([rng.normal(size=w.shape).astype("float32")
                           for w in model.get_weights()])
        model.save_weights(tmp_path / "w.weights.h5")
        other, _ = shifted_dense_model(reader)
        other.load_weights(tmp_path / "w.weights.h5")
        for a, b in zip(other.layers[1].get_weights(), model.layers[1].get_weights(),
                        strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("extra", ["before", "after"])
def test_a_weight_added_to_a_dense_subclass_is_not_saved_as_in_keras(tmp_path, keras, extra):
    """Keras' Dense saves only its kernel and bias, and then cannot load the file back."""
    for library in (mr, keras):
        model, cls = shifted_dense_model(library, extra)
        path = tmp_path / f"{library.__name__}.keras"
        model.save(path)
        with zipfile.ZipFile(path) as zf, h5py.File(zf.open("model.weights.h5"), "r") as f:
            assert sorted(f["layers/shifted_dense/vars"]) == ["0", "1"]
        with pytest.raises(ValueError, match="expected 3 variables"):
            library.models.load_model(path, custom_objects={"ShiftedDense": cls})


def scaled_model(library):
    """The guide's layer keeping a plain array in the file with save/load_own_variables."""

    class Scaled(library.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.scale = np.ones(3, dtype="float32")

        def call(self, x):
            return x * self.scale

        def save_own_variables(self, store):
            store["scale"] = self.scale

        def load_own_variables(self, store):
            self.scale = np.array(store["scale"])

    inputs = library.Input((3,))
    return library.Model(inputs, Scaled()(inputs)), Scaled


def test_save_own_variables_and_load_own_variables_are_called_both_ways(tmp_path, keras):
    for writer, reader in ((mr, mr), (mr, keras), (keras, mr)):
        model, _ = scaled_model(writer)
        model.layers[1].scale = np.array([1.0, 2.0, 3.0], dtype="float32")
        path = tmp_path / f"{writer.__name__}.keras"
        model.save(path)
        _, cls = scaled_model(reader)
        loaded = reader.models.load_model(path, custom_objects={"Scaled": cls})
        np.testing.assert_array_equal(loaded.layers[1].scale, [1.0, 2.0, 3.0])


def vocabulary_model(library):
    """The guide's layer keeping a text file in the archive with save/load_assets."""

    class WithAssets(library.layers.Layer):
        def __init__(self, vocab=None, **kwargs):
            super().__init__(**kwargs)
            self.vocab = vocab

        def call(self, x):
            return x

        def get_config(self):
            return {**super().get_config(), "vocab": None}

        def save_assets(self, inner_path):
            with open(os.path.join(inner_path, "vocabulary.txt"), "w") as f:
                f.write(self.vocab)

        def load_assets(self, inner_path):
            with open(os.path.join(inner_path, "vocabulary.txt")) as f:
                self.vocab = f.read().replace("<unk>", "little")

    inputs = library.Input((3,))
    return library.Model(inputs, WithAssets("Mary had a <unk> lamb.")(inputs)), WithAssets


def test_save_assets_and_load_assets_are_called_both_ways(tmp_path, keras):
    for writer, reader in ((mr, mr), (mr, keras), (keras, mr)):
        model, _ = vocabulary_model(writer)
        path = tmp_path / f"{writer.__name__}.keras"
        model.save(path)
        assert "assets/layers/with_assets/vocabulary.txt" in zipfile.ZipFile(path).namelist()
        _, cls = vocabulary_model(reader)
        loaded = reader.models.load_model(path, custom_objects={"WithAssets": cls})
        assert loaded.layers[1].vocab == "Mary had a little lamb."


def test_an_asset_name_that_escapes_its_directory_is_refused(tmp_path):
    model, cls = vocabulary_model(mr)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf, zipfile.ZipFile(
            tmp_path / "evil.keras", "w") as out:
        for info in zf.infolist():
            out.writestr(info, zf.read(info))
        out.writestr("assets/layers/with_assets/../../../evil.txt", b"x")
    with pytest.raises(ValueError, match="not a plain relative path"):
        mr.models.load_model(tmp_path / "evil.keras", custom_objects={"WithAssets": cls})


def test_custom_object_scope_and_the_keras_utils_aliases(keras):
    CustomLayer, _ = custom_classes(mr)
    config = mr.utils.serialize_keras_object(CustomLayer(2.0))
    for scope in (mr.saving.custom_object_scope, mr.saving.CustomObjectScope,
                  mr.utils.custom_object_scope, mr.utils.CustomObjectScope):
        with scope({"CustomLayer": CustomLayer}):
            assert mr.utils.deserialize_keras_object(config).factor == 2.0
    with pytest.raises(ValueError, match="custom_objects"):
        mr.utils.deserialize_keras_object(config)       # the scope is over
    assert mr.utils.get_custom_objects() is mr.saving.get_custom_objects()
    assert mr.utils.register_keras_serializable is mr.saving.register_keras_serializable


@pytest.mark.parametrize("package, make", [
    ("regularizers", lambda lib: lib.regularizers.L1L2(l1=0.01, l2=0.02)),
    ("initializers", lambda lib: lib.initializers.RandomNormal(stddev=0.5, seed=3)),
    ("losses", lambda lib: lib.losses.Huber(delta=2.0)),
    ("optimizers", lambda lib: lib.optimizers.SGD(learning_rate=0.5, momentum=0.9, name="opt")),
])
def test_each_package_serializes_as_keras(keras, package, make):
    ours = getattr(mr, package).serialize(make(mr))
    theirs = getattr(keras, package).serialize(make(keras))
    assert ours == theirs
    again = getattr(mr, package).deserialize(theirs)
    assert getattr(mr, package).serialize(again) == ours


def test_layers_and_metrics_serialize_and_deserialize(keras):
    dense = mr.layers.deserialize(mr.layers.serialize(mr.layers.Dense(3, activation="relu")))
    assert (type(dense).__name__, dense.units) == ("Dense", 3)
    assert mr.layers.serialize(mr.layers.Dense(3))["class_name"] == keras.layers.serialize(
        keras.layers.Dense(3))["class_name"]
    with pytest.raises(ValueError, match="not a layer"):
        mr.layers.deserialize(mr.regularizers.serialize(mr.regularizers.L2(0.1)))
    metric = mr.metrics.deserialize(mr.metrics.serialize(mr.metrics.MeanAbsoluteError()))
    assert type(metric).__name__ == "MeanAbsoluteError"
    assert type(mr.losses.deserialize("MeanSquaredError")).__name__ == "MeanSquaredError"
    assert mr.losses.deserialize("mean_squared_error") is mr.losses.mean_squared_error
