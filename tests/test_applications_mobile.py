"""minired.applications, part 2: MobileNet, MobileNetV2, MobileNetV3, Xception, InceptionV3
and InceptionResNetV2 vs Keras.

Every function is built in both libraries at the smallest size it accepts (32×32 for the
MobileNets, 71 for Xception, 75 for the Inceptions): the same layer names, the same number of
parameters, the same model config (every layer, argument and call, as Keras writes it), and
with Keras' weights copied in, the same predictions. One small model trains one step in both
(the same loss, the same weights after). The graph pieces that are not plain layers (Keras'
``x + 3.0`` operations, InceptionResNetV2's ``CustomScaleLayer``) are checked against finite
differences in float64 and pass through ``.keras`` files both ways. ``weights="imagenet"``
reads Keras' cache only.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import minired as mr
from minired import applications as mra
from minired.applications import inception_resnet_v2, keras_ops, mobilenet_v3
from minired.gradcheck import check_layer, check_model
from minired.saving import serialization_lib

keras = pytest.importorskip("keras")
from comparisons import keras_env  # noqa: E402  (quiet TensorFlow start-up)

ka = keras_env.keras.applications

# One model per function, with the arguments that exercise its variants, and its input side.
FORWARD = [
    ("MobileNet", 32, {"alpha": 0.25, "include_top": True, "classes": 5}),
    ("MobileNetV2", 32, {"alpha": 0.35, "include_top": False, "pooling": "avg"}),
    ("MobileNetV3Small", 32, {"alpha": 0.75, "include_top": True, "classes": 4,
                              "classifier_activation": None}),
    ("MobileNetV3Large", 32, {"minimalistic": True, "include_top": False, "pooling": "max"}),
    ("Xception", 71, {"include_top": False, "pooling": "avg"}),
    ("InceptionV3", 75, {"include_top": True, "classes": 3}),
    ("InceptionResNetV2", 75, {"include_top": False, "pooling": "max"}),
]
MODULES = {"MobileNet": "mobilenet", "MobileNetV2": "mobilenet_v2",
           "MobileNetV3Small": "mobilenet_v3", "MobileNetV3Large": "mobilenet_v3",
           "Xception": "xception", "InceptionV3": "inception_v3",
           "InceptionResNetV2": "inception_resnet_v2"}


def both(name: str, side: int, **kwargs):
    """The Keras and the minired model ``name`` built with the same arguments, after each
    library's clear_session (so the automatic names of unnamed layers start afresh)."""
    kwargs.setdefault("weights", None)
    kwargs.setdefault("input_shape", (side, side, 3))
    keras.backend.clear_session(free_memory=False)     # (no garbage collection: it takes
    mr.backend.clear_session(free_memory=False)        # longer than building the model)
    return getattr(ka, name)(**kwargs), getattr(mra, name)(**kwargs)


def random_weights(model, seed: int = 0) -> list:
    """Keras' initial weights with every 1-D weight (biases, BN γ, β, moving mean and
    variance) drawn in [0.5, 1.5], so biases and BatchNormalization matter."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) if w.ndim == 1 else w
            for w in model.get_weights()]


def images(side: int, n: int = 2, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, side, side, 3)).astype("float32")


def assert_same_predictions(expected: np.ndarray, got: np.ndarray) -> None:
    """float32 agreement to 1e-5 of the output's scale (the elementwise gap is float32
    rounding of different summation orders, amplified by depth)."""
    assert got.shape == expected.shape and got.dtype == expected.dtype
    scale = max(1.0, float(np.abs(expected).max()))
    assert np.abs(got - expected).max() <= 1e-5 * scale


def serialized(model, library) -> dict:
    """The model as its library writes it in a ``.keras`` file (JSON round trip)."""
    import json

    if library is keras:
        return json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    return json.loads(json.dumps(serialization_lib.serialize_keras_object(model)))


# -- the architectures ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODULES))
def test_signature_is_keras(name):
    """The same arguments, in the same order, with the same defaults."""
    import inspect

    def parameters(function):
        return [(p.name, p.default, p.kind) for p in
                inspect.signature(function).parameters.values()]

    assert parameters(getattr(mra, name)) == parameters(getattr(ka, name))


@pytest.mark.parametrize(("name", "side", "kwargs"), FORWARD, ids=[n for n, _, _ in FORWARD])
def test_forward_matches_keras_with_keras_weights(name, side, kwargs):
    k, m = both(name, side, **kwargs)
    assert [layer.name for layer in m.layers] == [layer.name for layer in k.layers]
    assert m.count_params() == k.count_params()
    assert m.name == k.name
    # every layer, argument, automatic name and call as Keras writes them in a file
    assert serialized(m, mr) == serialized(k, keras)
    k.set_weights(random_weights(k))
    m.set_weights(k.get_weights())
    pixels = images(side)
    module = MODULES[name]
    x_keras = getattr(ka, module).preprocess_input(pixels.copy())
    x_ours = getattr(mra, module).preprocess_input(pixels.copy())
    np.testing.assert_array_equal(x_ours, x_keras)
    expected = np.asarray(k(x_keras, training=False))
    assert_same_predictions(expected, m.predict(x_ours, verbose=0))


@pytest.mark.parametrize(("name", "kwargs"), [
    ("MobileNet", {"alpha": 0.5, "depth_multiplier": 2, "input_shape": (40, 48, 3)}),
    ("MobileNetV2", {"alpha": 1.3, "input_shape": (33, 33, 3)}),
    ("MobileNetV3Large", {"alpha": 1.25, "include_preprocessing": False, "dropout_rate": 0.0,
                          "input_shape": (40, 40, 3)}),
])
def test_variants_have_keras_structure(name, kwargs):
    """Width and depth multipliers, a wider top (alpha > 1), no preprocessing or dropout:
    the same parameters and config as Keras (the models are not run)."""
    k, m = both(name, 0, include_top=False, **kwargs)
    assert m.count_params() == k.count_params()
    assert m.name == k.name
    assert serialized(m, mr) == serialized(k, keras)


def test_input_tensor_is_keras():
    """MobileNetV2 given ``input_tensor`` (96 is a pretrained size) is named as in Keras,
    the layers before it stay in the model, and a mismatching ``input_shape`` is refused."""
    for library in (keras, mr):
        library.backend.clear_session(free_memory=False)
    k = ka.MobileNetV2(weights=None, include_top=False, input_tensor=keras.Input((96, 96, 3)))
    m = mra.MobileNetV2(weights=None, include_top=False, input_tensor=mr.Input((96, 96, 3)))
    assert m.name == k.name and m.output.shape == tuple(k.output.shape)
    inputs = mr.Input((40, 40, 3))
    cropped = mr.layers.Cropping2D(4)(inputs)
    model = mra.MobileNetV3Small(weights=None, include_top=False, input_tensor=cropped)
    assert model.inputs[0] is inputs and model.output.shape == (None, 1, 1, 576)
    with pytest.raises(ValueError) as expected:
        ka.MobileNetV2(weights=None, input_tensor=keras.Input((96, 96, 3)),
                       input_shape=(64, 64, 3))
    with pytest.raises(ValueError) as got:
        mra.MobileNetV2(weights=None, input_tensor=mr.Input((96, 96, 3)),
                        input_shape=(64, 64, 3))
    assert str(got.value) == str(expected.value)


def test_one_training_step_matches_keras():
    """MobileNetV3Small (BatchNormalization in training mode: batch statistics, moving
    averages; hard-swish, squeeze-and-excite, Keras' operations) trained two steps with SGD
    in both, in float64: the same losses and the same weights after.

    (float64: in float32 the batch statistics of 4 images, down to 1×1 maps, amplify the
    rounding of different summation orders to ~1e-5 of the loss.)"""
    with keras_env.precision("float64"):
        k, m = both("MobileNetV3Small", 32, alpha=0.75, classes=3, dropout_rate=0.0)
        k.set_weights(random_weights(k, seed=5))
        m.set_weights(k.get_weights())
        x = images(32, n=8, seed=2).astype("float64")
        y = np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]]
        k.compile(optimizer=keras.optimizers.SGD(0.01), loss="categorical_crossentropy")
        m.compile(optimizer=mr.optimizers.SGD(0.01), loss="categorical_crossentropy")
        history_k = k.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        history_m = m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        np.testing.assert_allclose(history_m.history["loss"], history_k.history["loss"],
                                   rtol=1e-10)
        for got, expected in zip(m.get_weights(), k.get_weights(), strict=True):
            scale = max(1.0, float(np.abs(expected).max()))
            assert np.abs(got - expected).max() <= 1e-10 * scale


# -- the graph pieces that are not plain layers ----------------------------------------------
def test_keras_operations_and_scale_layer_gradients_float64():
    """``relu6(z + 3) * (1/6)`` (Keras' two operations), an operation on two tensors and
    ``x + scale · r``, in a small model: every weight's gradient against finite
    differences, in float64."""
    mr.config.set_floatx("float64")
    try:
        mr.backend.clear_session(free_memory=False)
        inputs = mr.Input((4, 4, 2))
        z = mr.layers.Conv2D(3, 1)(inputs)
        gate = mobilenet_v3._hard_sigmoid(mr.layers.Conv2D(3, 1)(z))
        r = mr.layers.Conv2D(3, 1)(keras_ops.Multiply()(z, gate))
        a = inception_resnet_v2.CustomScaleLayer(0.17)([z, r])
        a = keras_ops.Add()(a, keras_ops.Multiply()(z, 0.5))
        outputs = mr.layers.Dense(2, activation="softmax")(mr.layers.Flatten()(a))
        model = mr.Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        # z + 3 stays inside (0, 6) for these small weights: relu6 is smooth there
        x = np.random.default_rng(0).normal(0, 0.5, (3, 4, 4, 2))
        y = np.eye(2)[[0, 1, 1]]
        results = check_model(model, x, y)
        assert len(results) == 8
        assert max(result.relative_error for result in results) < 1e-6
        layer = inception_resnet_v2.CustomScaleLayer(0.3)
        results = check_layer(layer, [np.random.default_rng(1).normal(size=(2, 3, 3, 4))
                                      for _ in range(2)])
        assert max(result.relative_error for result in results) < 1e-6
    finally:
        mr.config.set_floatx("float32")


def test_keras_operations_are_graph_nodes_not_layers():
    """As in Keras: in the graph and the config, not in ``model.layers``; called on a
    tensor and a number, or on two tensors (broadcast as NumPy)."""
    mr.backend.clear_session(free_memory=False)
    inputs = mr.Input((3, 4))
    shifted = keras_ops.Add()(inputs, 3.0)
    outputs = keras_ops.Multiply()(shifted, mr.layers.Dense(1)(inputs))
    outputs = keras_ops.Add()(0.5, outputs)
    model = mr.Model(inputs, outputs)
    assert [layer.name for layer in model.layers] == ["input_layer", "dense"]
    assert [entry["name"] for entry in model.get_config()["layers"]] == [
        "input_layer", "add", "dense", "multiply", "add_1"]
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    dense = model.get_layer("dense")
    expected = 0.5 + (x + 3.0) * (x @ dense.kernel + dense.bias)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
    assert outputs.shape == (None, 3, 4)


def test_keras_files_pass_both_ways(tmp_path):
    """MobileNetV3Small (Keras' ``add``/``multiply`` operations) and an Inception-ResNet
    block (``CustomScaleLayer``): minired's ``.keras`` file loads in Keras and Keras' file
    loads in minired, with the same predictions."""
    keras.backend.clear_session(free_memory=False)
    mr.backend.clear_session(free_memory=False)
    m = mra.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), classes=3, alpha=0.75)
    inputs = mr.Input((5, 5, 8))
    block = inception_resnet_v2.inception_resnet_block(inputs, 0.17, "block35", 1)
    m_block = mr.Model(inputs, block)
    x_block = np.random.default_rng(3).normal(size=(2, 5, 5, 8)).astype("float32")
    for model, x in ((m, images(32)), (m_block, x_block)):
        model.set_weights(random_weights(model))
        path = str(tmp_path / f"{model.name}.keras")
        model.save(path)                                         # minired → Keras
        k = keras.saving.load_model(path)
        assert [layer.name for layer in k.layers] == [layer.name for layer in model.layers]
        expected = model.predict(x, verbose=0)
        assert_same_predictions(expected, np.asarray(k(x, training=False)))
        k.save(path)                                             # Keras → minired
        back = mr.saving.load_model(path)
        assert serialized(back, mr) == serialized(k, keras)
        assert_same_predictions(expected, back.predict(x, verbose=0))


# -- weights -------------------------------------------------------------------------------
def test_imagenet_reads_keras_cache_file(monkeypatch, tmp_path):
    """MobileNet's file (no hash in Keras) placed in a Keras cache, written as Keras'
    pretrained files are (legacy HDF5, matched layer by layer): ``weights="imagenet"``
    loads it, and the path of the file loads it too."""
    from keras.src.legacy.saving import legacy_h5_format

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kwargs = {"alpha": 0.25, "include_top": False, "input_shape": (128, 128, 3)}
    k, _ = both("MobileNet", 0, **kwargs)
    k.set_weights(random_weights(k, seed=7))
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / "mobilenet_2_5_128_tf_no_top.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, k)
    x = images(128, n=1) / 127.5 - 1
    expected = np.asarray(k(x, training=False))
    for weights in ("imagenet", str(path)):
        m = mra.MobileNet(weights=weights, **kwargs)
        assert_same_predictions(expected, m.predict(x, verbose=0))


def keras_file(module_name: str, fname: str) -> tuple[str, str | None]:
    """The URL and md5 (None: Keras checks none) Keras' module ``module_name`` uses for
    its pretrained file ``fname``, read from the module itself."""
    import importlib
    import inspect
    import re

    module = importlib.import_module(f"keras.src.applications.{module_name}")
    source = inspect.getsource(module)
    if module_name == "inception_resnet_v2":     # fname built in two lines, hashes in order
        top, notop = re.findall(r'file_hash="([0-9a-f]+)"', source)
        return module.BASE_WEIGHT_URL + fname, notop if "notop" in fname else top
    if module_name == "mobilenet_v3":
        key = fname.removeprefix("weights_mobilenet_v3_").removesuffix(".h5")
        top = key.endswith("_no_top_v2")
        return (module.BASE_WEIGHT_PATH + fname,
                module.WEIGHTS_HASHES[key.removesuffix("_no_top_v2")][int(top)])
    call = re.search(re.escape(fname) + r'",\s*(\w+),\s*cache_subdir="models",\s*'
                     r'file_hash="([0-9a-f]+)"', source)
    if call is None:                  # MobileNet, MobileNetV2: built names, no hash
        return module.BASE_WEIGHT_PATH + fname, None
    return getattr(module, call.group(1)), call.group(2)


@pytest.mark.parametrize(("name", "kwargs", "fname"), [
    ("MobileNetV2", {"alpha": 0.35, "include_top": False, "input_shape": (96, 96, 3)},
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"),
    ("MobileNetV3Small", {"minimalistic": True, "include_top": False},
     "weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5"),
    ("MobileNetV3Large", {"alpha": 0.75},
     "weights_mobilenet_v3_large_224_0.75_float.h5"),
    ("Xception", {"include_top": False}, "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("InceptionV3", {"include_top": False},
     "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("InceptionResNetV2", {"include_top": False},
     "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
])
# Keras' own warning, expected: MobileNetV3 without an input_shape loads the 224 weights
@pytest.mark.filterwarnings("ignore:`input_shape` is undefined or non-square:UserWarning")
def test_imagenet_asks_keras_file_and_never_downloads(name, kwargs, fname, monkeypatch,
                                                       tmp_path):
    """A missing file raises FileNotFoundError naming Keras' file, URL and cache folder;
    a file with the wrong content fails Keras' md5 (where Keras checks one) or is refused
    as not HDF5."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    origin, file_hash = keras_file(MODULES[name], fname)
    mr.backend.clear_session(free_memory=False)
    with pytest.raises(FileNotFoundError) as error:
        getattr(mra, name)(**kwargs)
    message = str(error.value)
    assert fname in message and origin in message and str(tmp_path / "models") in message
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / fname).write_bytes(b"not the file")
    with pytest.raises(ValueError, match=file_hash or "HDF5"):
        getattr(mra, name)(**kwargs)


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "kwargs"), [
    ("MobileNet", {"weights": "no-such-file.h5"}),
    ("MobileNet", {"weights": "imagenet", "classes": 10}),
    ("MobileNet", {"weights": "imagenet", "include_top": False, "depth_multiplier": 2}),
    ("MobileNet", {"weights": "imagenet", "include_top": False, "alpha": 0.3}),
    ("MobileNetV2", {"weights": "random"}),
    ("MobileNetV2", {"weights": "imagenet", "classes": 10}),
    ("MobileNetV2", {"weights": "imagenet", "include_top": False, "alpha": 0.6}),
    ("MobileNetV2", {"weights": None, "include_top": False, "input_shape": (16, 16, 3)}),
    ("MobileNetV3Small", {"weights": "random"}),
    ("MobileNetV3Large", {"weights": "imagenet", "classes": 10}),
    ("MobileNetV3Large", {"weights": "imagenet", "alpha": 0.5}),
    ("MobileNetV3Small", {"weights": "imagenet", "minimalistic": True, "alpha": 0.75}),
    ("MobileNetV3Small", {"weights": None, "input_shape": (16, 40, 3)}),
    ("Xception", {"weights": "random"}),
    ("Xception", {"weights": "imagenet", "classes": 10}),
    ("Xception", {"weights": None, "include_top": False, "input_shape": (70, 70, 3)}),
    ("InceptionV3", {"weights": "random"}),
    ("InceptionV3", {"weights": "imagenet", "classes": 10}),
    ("InceptionResNetV2", {"weights": "random"}),
    ("InceptionResNetV2", {"weights": "imagenet", "classes": 10}),
    ("InceptionResNetV2", {"weights": "imagenet", "input_shape": (75, 75, 3)}),
    ("InceptionResNetV2", {"weights": None, "include_top": False,
                           "input_shape": (74, 80, 3)}),
])
def test_errors_are_keras(name, kwargs, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ValueError) as expected:
        getattr(ka, name)(**kwargs)
    with pytest.raises(ValueError) as got:
        getattr(mra, name)(**kwargs)
    assert str(got.value) == str(expected.value)


def test_block_type_and_classifier_errors_are_keras():
    from keras.src.applications import inception_resnet_v2 as keras_irv2

    with pytest.raises(ValueError) as expected:
        keras_irv2.inception_resnet_block(keras.Input((8, 8, 4)), 0.1, "block9", 1)
    with pytest.raises(ValueError) as got:
        inception_resnet_v2.inception_resnet_block(mr.Input((8, 8, 4)), 0.1, "block9", 1)
    assert str(got.value) == str(expected.value)
    with pytest.raises(ValueError, match="classifier_activation"):
        mra.MobileNet(weights="imagenet", classifier_activation="relu")


def test_submodules_are_keras():
    """``preprocess_input`` of each submodule is Keras' (MobileNetV3's returns its input:
    the model rescales itself); ``decode_predictions`` is imagenet_utils'."""
    x = images(4, n=1)
    for module in sorted(set(MODULES.values())):
        expected = getattr(ka, module).preprocess_input(x.copy())
        np.testing.assert_array_equal(getattr(mra, module).preprocess_input(x.copy()),
                                      expected)
        with pytest.raises(ValueError) as error_k:
            getattr(ka, module).decode_predictions(np.zeros((1, 10)))
        with pytest.raises(ValueError) as error_m:
            getattr(mra, module).decode_predictions(np.zeros((1, 10)))
        assert str(error_m.value) == str(error_k.value)
