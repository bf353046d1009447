"""minired.applications, part 1: imagenet_utils, VGG, ResNet, ResNetV2 and DenseNet vs Keras.

Every model is built in both libraries at 32×32 (the smallest size they accept): the same
layer names, the same number of parameters, and with Keras' weights copied in, the same
predictions. Weights written by Keras (``.weights.h5``, legacy ``.h5``) and ``.keras`` files
pass both ways. ``weights="imagenet"`` must ask the cache for Keras' exact file name, URL
and hash (checked by intercepting both libraries' ``get_file``; nothing is downloaded).
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import minired as mr
from minired import applications as mra
from minired.applications import imagenet_utils, model_parts

keras = pytest.importorskip("keras")
from comparisons import keras_env  # noqa: E402  (quiet TensorFlow start-up)

ka = keras_env.keras.applications
SMALL = (32, 32, 3)

VARIANTS = ["VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2",
            "ResNet101V2", "ResNet152V2", "DenseNet121", "DenseNet169", "DenseNet201"]
# One variant per family, built both ways, whose predictions are compared.
FORWARD = [("VGG16", {"include_top": True, "classes": 5}),
           ("VGG19", {"include_top": False, "pooling": "max"}),
           ("ResNet50", {"include_top": False, "pooling": "avg"}),
           ("ResNet50V2", {"include_top": True, "classes": 4, "classifier_activation": None}),
           ("DenseNet121", {"include_top": False})]


def both(name: str, **kwargs):
    """The Keras and the minired model ``name`` built with the same arguments, after each
    library's clear_session (so the automatic names of unnamed layers start afresh)."""
    kwargs.setdefault("weights", None)
    kwargs.setdefault("input_shape", SMALL)
    keras.backend.clear_session()
    mr.backend.clear_session()
    return getattr(ka, name)(**kwargs), getattr(mra, name)(**kwargs)


def random_weights(model, seed: int = 0) -> list:
    """Keras' initial weights with every 1-D weight (biases, BN γ, β, moving mean and
    variance) drawn in [0.5, 1.5], so biases and BatchNormalization matter."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) if w.ndim == 1 else w
            for w in model.get_weights()]


def images(n: int = 2, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, *SMALL)).astype("float32")


def assert_same_predictions(expected: np.ndarray, got: np.ndarray) -> None:
    """float32 agreement to 1e-5 of the output's scale (outputs of deep stacks reach ~30;
    the elementwise gap is float32 rounding of different summation orders)."""
    assert got.shape == expected.shape and got.dtype == expected.dtype
    scale = max(1.0, float(np.abs(expected).max()))
    assert np.abs(got - expected).max() <= 1e-5 * scale


# -- preprocess_input, decode_predictions -------------------------------------------------------
@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
def test_preprocess_input_is_keras_bit_for_bit(mode, dtype):
    for shape in [(2, 4, 5, 3), (4, 5, 3)]:
        x = np.random.default_rng(0).uniform(0, 255, shape).astype(dtype)
        expected = keras.applications.imagenet_utils.preprocess_input(x.copy(), mode=mode)
        got = imagenet_utils.preprocess_input(x.copy(), mode=mode)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
        # Keras writes over a float input; so does minired
        if dtype != "uint8":
            y = x.copy()
            imagenet_utils.preprocess_input(y, mode=mode)
            assert not np.array_equal(y, x)


@pytest.mark.parametrize("module", ["vgg16", "vgg19", "resnet", "resnet50", "resnet_v2",
                                    "densenet", "imagenet_utils"])
def test_family_preprocess_input_is_keras(module):
    x = images(1)
    expected = getattr(ka, module).preprocess_input(x.copy())
    np.testing.assert_array_equal(getattr(mra, module).preprocess_input(x.copy()), expected)
    assert callable(getattr(mra, module).decode_predictions)


def test_preprocess_input_errors_are_keras():
    x = images(1)
    for kwargs in [{"mode": "bgr"}, {"data_format": "nhwc"}]:
        with pytest.raises(ValueError) as expected:
            keras.applications.imagenet_utils.preprocess_input(x.copy(), **kwargs)
        with pytest.raises(ValueError) as got:
            imagenet_utils.preprocess_input(x.copy(), **kwargs)
        assert str(got.value) == str(expected.value)
    with pytest.raises(TypeError, match="symbolic"):
        imagenet_utils.preprocess_input(mr.Input(SMALL))


def test_decode_predictions_is_keras(monkeypatch):
    """The class index, set by hand in both modules (the real file is Keras' download)."""
    import keras.src.applications.imagenet_utils as keras_utils

    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    monkeypatch.setattr(keras_utils, "CLASS_INDEX", index)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", index)
    preds = np.random.default_rng(0).random((3, 1000)).astype("float32")
    expected = keras_utils.decode_predictions(preds, top=4)
    got = mra.resnet50.decode_predictions(preds, top=4)
    assert got == expected and got[0][0][0] == f"n{int(preds[0].argmax()):08d}"


def test_decode_predictions_reads_keras_cache_and_never_downloads(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    with pytest.raises(FileNotFoundError, match="imagenet_class_index.json") as error:
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))
    assert str(tmp_path / "models") in str(error.value)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "imagenet_class_index.json").write_text("{}")
    with pytest.raises(ValueError, match="c2c37ea517e94d9795004a39431a14cb"):
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))   # Keras' md5 is checked


def test_utilities_are_keras():
    from keras.src.applications import imagenet_utils as keras_utils

    for args in [(None, 224, 32, "channels_last", True), (None, 224, 32, "channels_last", False),
                 ((64, 48, 3), 224, 32, "channels_last", False, "imagenet"),
                 ((64, 64, 1), 224, 32, "channels_last", False, None),
                 (None, 299, 75, "channels_first", True, "imagenet")]:
        assert imagenet_utils.obtain_input_shape(*args) == keras_utils.obtain_input_shape(*args)
    for shape in [(224, 224, 3), (7, 7, 8), (None, None, 3)]:
        for kernel in [3, (5, 5)]:
            assert (imagenet_utils.correct_pad(mr.Input(shape), kernel)
                    == keras_utils.correct_pad(keras.Input(shape), kernel))
    for bad in [((16, 16, 3), 224, 32, "channels_last", False),
                ((64, 64), 224, 32, "channels_last", False),
                ((64, 64, 1), 224, 32, "channels_last", False, "imagenet"),
                ((64, 64, 3), 224, 32, "channels_last", True, "imagenet"),
                ((None, 64, 3), 224, 32, "channels_last", True)]:
        with pytest.raises(ValueError) as expected:
            keras_utils.obtain_input_shape(*bad)
        with pytest.raises(ValueError) as got:
            imagenet_utils.obtain_input_shape(*bad)
        assert str(got.value) == str(expected.value)
    imagenet_utils.validate_activation(None, "imagenet")
    imagenet_utils.validate_activation("softmax", "imagenet")
    for bad in ["sigmoid", "relu"]:
        with pytest.raises(ValueError) as expected:
            keras_utils.validate_activation(bad, "imagenet")
        with pytest.raises(ValueError) as got:
            imagenet_utils.validate_activation(bad, "imagenet")
        # the same text, up to the function's address
        assert (re.sub(" at 0x[0-9a-f]+", "", str(got.value))
                == re.sub(" at 0x[0-9a-f]+", "", str(expected.value)))


# -- the architectures ---------------------------------------------------------------------
@pytest.mark.parametrize(("name", "kwargs"), FORWARD, ids=[n for n, _ in FORWARD])
def test_forward_matches_keras_with_keras_weights(name, kwargs):
    k, m = both(name, **kwargs)
    assert [layer.name for layer in m.layers] == [layer.name for layer in k.layers]
    assert m.count_params() == k.count_params()
    assert m.name == k.name
    k.set_weights(random_weights(k))
    m.set_weights(k.get_weights())
    x = images()
    expected = np.asarray(k(x, training=False))
    assert_same_predictions(expected, m.predict(x, verbose=0))


#: count_params() of Keras 3.15.1's models without the top at 32×32 (built in Keras once;
#: the five models of FORWARD are compared with Keras itself above).
KERAS_NOTOP_PARAMS = {
    "VGG16": 14714688, "VGG19": 20024384, "ResNet50": 23587712, "ResNet101": 42658176,
    "ResNet152": 58370944, "ResNet50V2": 23564800, "ResNet101V2": 42626560,
    "ResNet152V2": 58331648, "DenseNet121": 7037504, "DenseNet169": 12642880,
    "DenseNet201": 18321984,
}


def keras_weight_files(name: str) -> dict:
    """``{file name: (URL, hash)}`` of Keras' pretrained files for ``name``'s family, read
    from Keras' own module (its constants, and its ``get_file(...)`` calls)."""
    import importlib
    import inspect
    import re

    family = {"VGG": "vgg16" if name == "VGG16" else "vgg19", "Res": "resnet",
              "Den": "densenet"}[name[:3]]
    module = importlib.import_module(f"keras.src.applications.{family}")
    if family == "resnet":
        return {f"{key}_weights_tf_dim_ordering_tf_kernels{top}.h5":
                (f"{module.BASE_WEIGHTS_PATH}{key}_weights_tf_dim_ordering_tf_kernels{top}.h5",
                 hashes[i])
                for key, hashes in module.WEIGHTS_HASHES.items()
                for i, top in enumerate(["", "_notop"])}
    calls = re.findall(r'get_file\(\s*"([^"]+)",\s*(\w+),\s*cache_subdir="models",\s*'
                       r'file_hash="([0-9a-f]+)"', inspect.getsource(module))
    assert len(calls) in (2, 6)
    return {fname: (getattr(module, origin), file_hash) for fname, origin, file_hash in calls}


@pytest.mark.parametrize("name", VARIANTS)
def test_imagenet_asks_keras_cache_for_keras_file(name, monkeypatch):
    """``weights="imagenet"`` asks get_file for Keras' file (name, URL, ``models`` folder,
    hash, as Keras' module spells them) and loads the path it returns. get_file is
    intercepted: nothing is read or downloaded."""
    calls, loaded = [], []

    def get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        return f"/cache/{fname}"

    monkeypatch.setattr(mr.utils, "get_file", get_file)
    monkeypatch.setattr(mr.Model, "load_weights", lambda model, path: loaded.append(path))
    mr.backend.clear_session()
    tops = [False, True] if name in ("ResNet50", "DenseNet121") else [False]
    for include_top in tops:
        model = getattr(mra, name)(include_top=include_top,
                                   **({} if include_top else {"input_shape": SMALL}))
        if not include_top:
            assert model.count_params() == KERAS_NOTOP_PARAMS[name]
    expected = keras_weight_files(name)
    for include_top, (fname, origin, kwargs) in zip(tops, calls, strict=True):
        top = "" if include_top else "_notop"
        assert fname == f"{name.lower()}_weights_tf_dim_ordering_tf_kernels{top}.h5"
        assert (origin, kwargs["file_hash"]) == expected[fname]
        assert kwargs["cache_subdir"] == "models"
    assert loaded == [f"/cache/{fname}" for fname, _, _ in calls]


def test_vgg_top_files_are_keras():
    """The files with VGG's 120M-parameter top, checked in the table (not built)."""
    for name in ("VGG16", "VGG19"):
        expected = keras_weight_files(name)
        for fname, file_hash in mra.vgg16.WEIGHTS[name.lower()]:
            assert expected[fname][1] == file_hash
            assert expected[fname][0] == (f"{model_parts.KERAS_APPLICATIONS_URL}"
                                          f"{name.lower()}/{fname}")


# -- weights and model files ---------------------------------------------------------------
@pytest.fixture(scope="module")
def densenet_pair(tmp_path_factory):
    """A small DenseNet (one conv block per dense block, 32×32, no top) in both libraries,
    Keras' random weights in both, and the files Keras writes from it. DenseNet121 and its
    siblings load their files through the same ``DenseNet`` function."""
    import h5py
    from keras.src.applications import densenet as keras_densenet
    from keras.src.legacy.saving import legacy_h5_format

    folder = tmp_path_factory.mktemp("densenet")
    keras.backend.clear_session()
    mr.backend.clear_session()
    kwargs = {"weights": None, "include_top": False, "input_shape": SMALL, "pooling": "avg"}
    k = keras_densenet.DenseNet([1, 1, 1, 1], **kwargs)
    m = mra.densenet.DenseNet([1, 1, 1, 1], **kwargs)
    k.set_weights(random_weights(k, seed=3))
    files = {"weights": str(folder / "k.weights.h5"), "legacy": str(folder / "k.h5"),
             "keras": str(folder / "k.keras")}
    k.save_weights(files["weights"])
    with h5py.File(files["legacy"], "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, k)
    k.save(files["keras"])
    return k, m, files, folder


def test_weights_written_by_keras_load(densenet_pair):
    k, _, files, _ = densenet_pair
    x = images()
    expected = np.asarray(k(x, training=False))
    for kind in ["weights", "legacy", "keras"]:
        m = mra.densenet.DenseNet([1, 1, 1, 1], weights=files[kind], include_top=False,
                                  pooling="avg", input_shape=SMALL)
        assert_same_predictions(expected, m.predict(x, verbose=0))


def test_keras_files_pass_both_ways(densenet_pair):
    k, m, files, folder = densenet_pair
    x = images()
    expected = np.asarray(k(x, training=False))
    loaded = mr.saving.load_model(files["keras"])               # Keras → minired
    assert_same_predictions(expected, loaded.predict(x, verbose=0))
    m.set_weights(k.get_weights())
    path = str(folder / "m.keras")
    m.save(path)                                                # minired → Keras
    back = keras.saving.load_model(path)
    assert [layer.name for layer in back.layers] == [layer.name for layer in k.layers]
    assert_same_predictions(expected, np.asarray(back(x, training=False)))


def test_input_tensor_keeps_the_layers_before_it():
    inputs = mr.Input((40, 40, 3))
    x = mr.layers.Cropping2D(4)(inputs)
    model = mra.ResNet50V2(weights=None, include_top=False, input_tensor=x, pooling="max")
    assert model.inputs[0] is inputs and model.output.shape == (None, 2048)
    assert model.layers[1].name == "cropping2d"
    with pytest.raises(TypeError, match="input_tensor"):
        mra.VGG16(weights=None, input_tensor=np.zeros((1, 32, 32, 3)))


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "kwargs"), [
    ("VGG16", {"weights": "no-such-file.h5"}),
    ("ResNet50", {"weights": "imagenet", "classes": 10}),
    ("DenseNet121", {"weights": "imagenet", "classes": 10}),
    ("DenseNet169", {"weights": "random"}),
    ("ResNet152V2", {"weights": None, "include_top": False, "input_shape": (16, 16, 3)}),
    ("VGG19", {"weights": None, "include_top": False, "input_shape": (64, 64)}),
    ("ResNet101", {"weights": "imagenet", "input_shape": (64, 64, 3)}),
    ("ResNet50", {"weights": "imagenet", "include_top": False, "input_shape": (64, 64, 1)}),
    ("VGG16", {"weights": None, "include_top": True, "input_shape": (None, None, 3)}),
])
def test_errors_are_keras(name, kwargs, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ValueError) as expected:
        getattr(ka, name)(**kwargs)
    with pytest.raises(ValueError) as got:
        getattr(mra, name)(**kwargs)
    assert str(got.value) == str(expected.value)


def test_missing_imagenet_file_names_keras_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        mra.ResNet50(include_top=False, input_shape=SMALL)
    message = str(error.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert str(tmp_path / "models") in message
    assert "storage.googleapis.com/tensorflow/keras-applications/resnet/" in message
    os.makedirs(tmp_path / "models")
    (tmp_path / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(
        b"not the file")
    with pytest.raises(ValueError, match="4d473c1dd8becc155b73f8504c6f6626"):
        mra.ResNet50(include_top=False, input_shape=SMALL)


def test_small_resnet_v2_keras_file_passes_both_ways(tmp_path):
    """A ResNetV2 with one stage of two blocks (Add, ZeroPadding2D, the unnamed 1×1 max
    pooling of the subsampling shortcut) saved by minired opens in Keras, and back."""
    from keras.src.applications import resnet as keras_resnet

    def stacks(lib):
        return lambda x: lib.stack_residual_blocks_v2(x, 8, 2, name="conv2")

    keras.backend.clear_session()
    mr.backend.clear_session()
    kwargs = {"weights": None, "include_top": True, "classes": 3, "input_shape": SMALL}
    k = keras_resnet.ResNet(stacks(keras_resnet), True, True, **kwargs)
    m = mra.resnet.ResNet(stacks(mra.resnet), True, True, **kwargs)
    assert [layer.name for layer in m.layers] == [layer.name for layer in k.layers]
    k.set_weights(random_weights(k, seed=4))
    m.set_weights(k.get_weights())
    x = images()
    expected = np.asarray(k(x, training=False))
    m.save(tmp_path / "m.keras")
    back = keras.saving.load_model(tmp_path / "m.keras")
    assert_same_predictions(expected, np.asarray(back(x, training=False)))
    back.save(tmp_path / "k.keras")
    again = mr.saving.load_model(tmp_path / "k.keras")
    assert_same_predictions(expected, again.predict(x, verbose=0))
