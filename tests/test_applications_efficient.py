"""EfficientNet, EfficientNetV2, ConvNeXt and NASNet (minired.applications, part 3) against
Keras: layer names, parameter counts, predictions with Keras' weights, a training step,
``.keras`` files both ways, the pretrained-weights files, the argument checks, and float64
gradient checks of the blocks and of ConvNeXt's two layers of its own.

The models are built at 32×32 (the smallest size the builders accept) with the smallest
variant of each family; the larger variants only have their parameter counts checked.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.applications import convnext, efficientnet, efficientnet_v2, nasnet
from minired.gradcheck import check_layer, compare, numerical_gradient

SHAPE = (32, 32, 3)


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def fresh_names(keras) -> None:
    """Both libraries' automatic names start again ("rescaling", "activation"...)."""
    keras.backend.clear_session()
    mr.backend.clear_session()


def randomize_keras(model, seed: int = 0) -> None:
    """Statistics and factors far from their starting values, so every weight matters:
    BatchNormalization's four arrays, LayerScale's γ (1e-6 at first)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for variable in layer.weights:
            name, shape = variable.path.split("/")[-1], tuple(variable.shape)
            if name in ("gamma", "moving_variance") or (name == "variable" and "scale" in
                                                         variable.path):
                variable.assign(rng.uniform(0.5, 1.5, shape).astype(variable.dtype))
            elif name in ("beta", "moving_mean"):
                variable.assign(rng.normal(0.0, 0.2, shape).astype(variable.dtype))


def images(n: int = 2, seed: int = 1, shape=SHAPE, dtype="float32") -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, *shape)).astype(dtype)


# -- the smallest variant of each family against Keras ---------------------------------------

#: EfficientNetB0 is compared in test_imagenet_weights_and_preprocessing_as_in_keras.
SMALLEST = [("efficientnet_v2", "EfficientNetV2B0"), ("convnext", "ConvNeXtTiny"),
            ("nasnet", "NASNetMobile")]


@pytest.mark.parametrize(("module", "function"), SMALLEST)
def test_names_counts_and_predictions_equal_keras(keras_env, module, function):
    keras = keras_env.keras
    kwargs = {"weights": None, "input_shape": SHAPE, "classes": 10,
              "classifier_activation": None}
    fresh_names(keras)
    theirs = getattr(keras.applications, function)(**kwargs)
    ours = getattr(getattr(mr.applications, module), function)(**kwargs)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    randomize_keras(theirs)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    x = images()
    expected = np.asarray(theirs(x, training=False))
    # float32: the same formulas summed in other orders; relative to the largest logit
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=0,
                               atol=1e-5 * np.abs(expected).max())


#: Keras 3.15.1's count_params() at include_top=False (the top only adds C·1000 + 1000),
#: recorded by building each model in Keras. The variants left out take seconds to build
#: (B7 64M weights, V2-M/L 53M/118M, ConvNeXt Base/Large/XLarge 88M-348M, NASNetLarge 85M);
#: comparisons/applications_efficient.py and the measurement above checked them too.
KERAS_COUNTS = {
    "EfficientNetB1": 6575239, "EfficientNetB2": 7768569, "EfficientNetB3": 10783535,
    "EfficientNetB4": 17673823, "EfficientNetB5": 28513527,
    "EfficientNetV2B1": 6931124, "EfficientNetV2B2": 8769374, "EfficientNetV2B3": 12930622,
    "EfficientNetV2S": 20331360, "ConvNeXtSmall": 49454688,
}


@pytest.mark.parametrize("function", sorted(KERAS_COUNTS))
def test_larger_variants_have_keras_parameter_counts(function):
    model = getattr(mr.applications, function)(weights=None, include_top=False,
                                              input_shape=SHAPE)
    assert model.count_params() == KERAS_COUNTS[function]


def test_variants_scale_as_keras_does():
    """Width and depth multipliers: B3's first stage has 40 filters, 2 blocks (ceil 1.4)."""
    model = mr.applications.EfficientNetB3(weights=None, include_top=False,
                                           input_shape=SHAPE)
    names = [layer.name for layer in model.layers]
    assert model.get_layer("stem_conv").filters == 40
    assert "block1b_project_conv" in names and "block1c_project_conv" not in names
    assert model.get_layer("top_conv").filters == 1536


# -- training: one fit step's loss, and the next, as in Keras ---------------------------------

def tiny_models(lib, keras_lib: bool):
    """Small members of each family (builders' own arguments), with no dropout."""
    if keras_lib:
        from keras.src.applications import convnext as k_convnext
        from keras.src.applications import efficientnet as k_efficientnet
        builders = k_efficientnet.EfficientNet, k_convnext.ConvNeXt
    else:
        builders = efficientnet.EfficientNet, convnext.ConvNeXt
    common = {"weights": None, "input_shape": SHAPE, "classes": 3}
    return [builders[0](0.1, 0.1, 32, dropout_rate=0.0, drop_connect_rate=0.0, **common),
            builders[1]([1, 1, 1, 1], [8, 8, 16, 16], **common)]


def test_two_fit_steps_give_keras_losses(keras_env):
    keras = keras_env.keras
    rng = np.random.default_rng(2)
    x, y = images(4, seed=3, dtype="float64"), np.eye(3)[rng.integers(0, 3, 4)]
    with keras_env.precision("float64"):
        fresh_names(keras)
        theirs = tiny_models(keras, True)
        ours = tiny_models(mr, False)
        for model, twin in zip(ours, theirs, strict=True):
            randomize_keras(twin)
            model.set_weights([np.asarray(w) for w in twin.get_weights()])
            model.compile(optimizer=mr.optimizers.SGD(0.05), loss="categorical_crossentropy")
            twin.compile(optimizer=keras.optimizers.SGD(0.05), loss="categorical_crossentropy",
                         run_eagerly=True)      # no tracing: these models are tiny
            kwargs = {"epochs": 2, "batch_size": 4, "shuffle": False, "verbose": 0}
            history = model.fit(x, y, **kwargs).history["loss"]
            expected = twin.fit(x, y, **kwargs).history["loss"]
            # float64: only roundings differ (BatchNormalization in training mode included)
            np.testing.assert_allclose(history, expected, rtol=1e-9)


# -- .keras files both ways ------------------------------------------------------------------

def test_keras_files_cross_load(keras_env, tmp_path):
    """A ConvNeXt with every layer of its own (LayerScale, StochasticDepth, the residual
    ``add`` operation, nested Sequential stem), a small EfficientNet and a small NASNet."""
    keras = keras_env.keras
    fresh_names(keras)
    models = [convnext.ConvNeXt([1, 1, 1, 1], [8, 8, 16, 16], drop_path_rate=0.3,
                                weights=None, input_shape=SHAPE, classes=3),
              efficientnet.EfficientNet(0.1, 0.1, 32, weights=None, input_shape=SHAPE,
                                        classes=3),
              nasnet.NASNet(SHAPE, penultimate_filters=96, num_blocks=1,
                            stem_block_filters=8, weights=None, classes=3)]
    x = images()
    for i, model in enumerate(models):
        model.save(tmp_path / f"ours{i}.keras")
        loaded = keras.models.load_model(tmp_path / f"ours{i}.keras")
        assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
        expected = model.predict(x, verbose=0)
        np.testing.assert_allclose(np.asarray(loaded(x, training=False)), expected,
                                   rtol=1e-5, atol=1e-6)
        loaded.save(tmp_path / f"theirs{i}.keras")
        back = mr.models.load_model(tmp_path / f"theirs{i}.keras")
        assert [layer.name for layer in back.layers] == [layer.name for layer in model.layers]
        np.testing.assert_allclose(back.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-7)


def test_convnext_layers_have_keras_configs(keras_env):
    from keras.src.applications import convnext as k_convnext

    for ours, theirs in [(convnext.LayerScale(1e-6, 8, name="s"),
                          k_convnext.LayerScale(1e-6, 8, name="s")),
                         (convnext.StochasticDepth(0.25, name="d"),
                          k_convnext.StochasticDepth(0.25, name="d"))]:
        assert ours.get_config() == theirs.get_config()
    layer = convnext.LayerScale(0.5, 3)
    layer.build((None, 3))
    assert layer.count_params() == 3


# -- pretrained weights: Keras' file names and hashes, read by topology -----------------------

WEIGHT_FILES = [
    (efficientnet.EfficientNetB0, {}, "efficientnetb0_notop.h5",
     "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
     "50bc09e76180e00e4465e1a485ddc09d"),
    (efficientnet_v2.EfficientNetV2S, {}, "efficientnetv2-s_notop.h5",
     "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
     "efficientnetv2-s_notop.h5", "af0682fb74e8c54910f2d4393339c070"),
    (convnext.ConvNeXtTiny, {}, "convnext_tiny_notop.h5",
     "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
     "convnext_tiny_notop.h5",
     "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    (nasnet.NASNetMobile, {}, "nasnet_mobile_no_top.h5",
     "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
     "NASNet-mobile-no-top.h5", "1ed92395b5b598bdda52abe5c0dbfd63"),
]


class AskedError(Exception):
    """Raised by the stand-in get_file: the arguments it was given."""


@pytest.mark.parametrize(("function", "kwargs", "fname", "origin", "file_hash"), WEIGHT_FILES,
                         ids=lambda v: getattr(v, "__name__", None))
def test_imagenet_asks_get_file_for_keras_file(monkeypatch, function, kwargs, fname, origin,
                                               file_hash):
    def get_file(*args, **kwargs):
        raise AskedError(args, kwargs)

    monkeypatch.setattr(mr.utils, "get_file", get_file)
    with pytest.raises(AskedError) as asked:
        function(include_top=False, input_shape=SHAPE if function is not
                 nasnet.NASNetMobile else None, weights="imagenet", **kwargs)
    assert asked.value.args == ((fname, origin), {"cache_subdir": "models",
                                                  "file_hash": file_hash})


def test_missing_imagenet_file_is_not_downloaded(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="efficientnetv2-b0_notop.h5"):
        efficientnet_v2.EfficientNetV2B0(include_top=False, input_shape=SHAPE)
    assert not list(tmp_path.rglob("*.h5"))


def test_imagenet_weights_and_preprocessing_as_in_keras(keras_env, monkeypatch, tmp_path):
    """Keras' legacy ``.h5`` weights file (the format of its pretrained files), read by
    both libraries with ``weights="imagenet"``: the same predictions, so the extra
    ``Rescaling`` (1/sqrt(std)) EfficientNet adds for these weights has Keras' numbers."""
    keras = keras_env.keras
    import h5py
    from keras.src.applications import efficientnet as k_efficientnet
    from keras.src.legacy.saving import legacy_h5_format

    fresh_names(keras)
    source = keras.applications.EfficientNetB0(weights=None, include_top=False,
                                               input_shape=SHAPE, pooling="avg")
    randomize_keras(source)
    source.get_layer("normalization").set_weights(      # what the pretrained file holds
        [np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]) ** 2, np.int64(0)])
    path = tmp_path / "efficientnetb0_notop.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    monkeypatch.setattr(mr.utils, "get_file", lambda *args, **kwargs: str(path))
    monkeypatch.setattr(k_efficientnet.file_utils, "get_file", lambda *a, **k: str(path))
    fresh_names(keras)
    theirs = keras.applications.EfficientNetB0(include_top=False, input_shape=SHAPE,
                                               pooling="avg")
    ours = efficientnet.EfficientNetB0(include_top=False, input_shape=SHAPE, pooling="avg")
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    x = images()
    expected = np.asarray(theirs(x, training=False))
    # float32: the same formulas summed in other orders; relative to the largest output
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=0,
                               atol=1e-5 * np.abs(expected).max())
    # a path: the file alone, without the extra Rescaling of weights="imagenet"
    by_path = efficientnet.EfficientNetB0(include_top=False, input_shape=SHAPE,
                                          pooling="avg", weights=str(path))
    fresh_names(keras)
    expected = np.asarray(keras.applications.EfficientNetB0(
        include_top=False, input_shape=SHAPE, pooling="avg", weights=str(path))(x))
    # float32, other summation orders (as above)
    np.testing.assert_allclose(by_path.predict(x, verbose=0), expected, rtol=0,
                               atol=1e-5 * np.abs(expected).max())


# -- arguments ---------------------------------------------------------------------------------

def test_input_tensor_and_submodules():
    inputs = mr.Input(SHAPE)
    model = efficientnet_v2.EfficientNetV2B0(weights=None, include_top=False,
                                             input_tensor=inputs, pooling="max")
    assert model.inputs[0] is inputs and model.output.shape == (None, 1280)
    with pytest.raises(TypeError, match="input_tensor"):
        efficientnet.EfficientNetB0(weights=None, input_tensor=np.zeros((1, *SHAPE)))
    x = images()
    for module in (efficientnet, efficientnet_v2, convnext):
        assert module.preprocess_input(x) is x
    np.testing.assert_allclose(nasnet.preprocess_input(x.copy()), x / 127.5 - 1, rtol=1e-6)
    for module in ("efficientnet", "efficientnet_v2", "convnext", "nasnet"):
        assert hasattr(getattr(mr.applications, module), "decode_predictions")


BAD_ARGUMENTS = [
    ("EfficientNetB0", {"weights": "no/such/file.h5"}, "`weights` argument should be"),
    ("EfficientNetV2B0", {"classes": 10}, "`classes` should be 1000"),
    ("ConvNeXtTiny", {"classes": 10}, "`classes` should be 1000"),
    ("NASNetMobile", {"classes": 10}, "`classes` should be 1000"),
    ("EfficientNetB0", {"weights": None, "input_shape": (16, 16, 3)}, "at least 32x32"),
    ("ConvNeXtTiny", {"include_top": False, "input_shape": SHAPE, "name": "mine"},
     "does not match weights variant"),
    ("NASNetMobile", {"input_shape": (None, 64, 3), "include_top": False},
     "must be static"),
    ("EfficientNetV2B0", {"classifier_activation": "relu", "include_top": True},
     "Only `None` and `softmax`"),
]


@pytest.mark.parametrize(("function", "kwargs", "message"), BAD_ARGUMENTS)
def test_bad_arguments_are_refused_as_keras_does(keras_env, monkeypatch, function, kwargs,
                                                 message):
    keras = keras_env.keras
    monkeypatch.setattr(mr.utils, "get_file", lambda *a, **k: pytest.fail("asked for a file"))
    for lib in (keras.applications, mr.applications):
        with pytest.raises(ValueError, match=message):
            getattr(lib, function)(**kwargs)


def test_nasnet_filters_must_divide():
    with pytest.raises(ValueError, match="multiple of 24"):
        nasnet.NASNet(SHAPE, penultimate_filters=100, weights=None)


# -- float64 gradient checks -------------------------------------------------------------------

def test_layer_scale_and_stochastic_depth_backward(float64):
    x = np.random.default_rng(4).normal(size=(5, 3, 2, 4))
    scale = convnext.LayerScale(0.5, 4)
    scale.build((None, 3, 2, 4))
    scale.set_weights([np.array([0.3, -1.2, 2.0, 0.7])])
    depth = convnext.StochasticDepth(0.4)
    for layer, training in ((scale, False), (depth, True), (depth, False)):
        for result in check_layer(layer, x, training=training):
            assert result.relative_error < 1e-7, result
    out = depth(x, training=True)
    kept = np.all(out == x / 0.6, axis=(1, 2, 3))       # whole samples kept or dropped
    assert np.all(kept | np.all(out == 0, axis=(1, 2, 3)))


def randomize(model, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if isinstance(layer, mr.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape) if i in (0, 3)
                               else rng.normal(0.0, 0.5, w.shape)
                               for i, w in enumerate(weights)])
        elif weights:
            layer.set_weights([rng.normal(0.0, 0.5, w.shape) for w in weights])


BLOCKS = {
    "efficientnet block (SE, skip)": lambda x: efficientnet.block(
        x, filters_in=4, filters_out=4, expand_ratio=2, se_ratio=0.25, name="b_"),
    "efficientnet_v2 MBConv": lambda x: efficientnet_v2.MBConvBlock(
        4, 4, expand_ratio=2, se_ratio=0.25, name="m_")(x),
    "efficientnet_v2 Fused-MBConv": lambda x: efficientnet_v2.FusedMBConvBlock(
        4, 4, expand_ratio=1, name="f_")(x),
    "convnext block": lambda x: convnext.ConvNeXtBlock(4, name="c")(x),
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_blocks_backward_matches_finite_differences(float64, name):
    """δx and every trainable weight's gradient of ``Σ block(x) ⊙ δa``, BatchNormalization
    in inference mode, against central differences."""
    inputs = mr.Input((4, 4, 4))
    model = mr.Model(inputs, BLOCKS[name](inputs))
    randomize(model)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 4, 4, 4))
    upstream = rng.standard_normal(model.forward(x).shape)
    model.forward(x)
    model.zero_gradients()
    grad_x = model.backward(upstream)
    grads = [g.copy() for g in model.trainable_gradients]

    def f() -> float:
        return float(np.sum(model.forward(x) * upstream))

    results = [compare("x", grad_x, numerical_gradient(f, x))]
    results += [compare(f"weight {i}", g, numerical_gradient(f, w))
                for i, (w, g) in enumerate(zip(model.trainable_weights, grads, strict=True))]
    for result in results:
        assert result.relative_error < 1e-6, result
