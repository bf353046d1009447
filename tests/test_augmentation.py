"""The image augmentation layers: RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
RandomContrast, RandomBrightness and RandomCrop.

- identity at inference, random (per image, seeded) in training and on a plain call;
- outputs equal to Keras' for factor ranges that fix the draws (``(f, f)``), every
  ``fill_mode`` and ``interpolation``: to 1e-12 in float64 where TensorFlow's float32
  kernel is exact (dyadic zooms and shifts, integer pixels), and the measured float32
  rounding otherwise;
- RandomFlip: each output is a flip of its image, and the flipped fraction is ½ within 5
  binomial standard errors;
- the backward pass against finite differences (float64) for fixed draws, and against
  TensorFlow's gradient where TensorFlow's gradient is the adjoint;
- configs equal to Keras', ``.keras`` files cross-loading, ``fit`` with the layers inside,
  and the errors for bad arguments.
"""

from __future__ import annotations

import json
import os
import sys
import types
import zipfile

import numpy as np
import pytest

import minired as mr
from comparisons.sampling import binomial_z
from minired.gradcheck import numerical_gradient, relative_error
from minired.layers.preprocessing.random_rotation import rotation_transforms

LAYERS = {
    "RandomFlip": {},
    "RandomRotation": {"factor": 0.2},
    "RandomZoom": {"height_factor": 0.2},
    "RandomTranslation": {"height_factor": 0.2, "width_factor": 0.1},
    "RandomContrast": {"factor": 0.5},
    "RandomBrightness": {"factor": 0.2},
    "RandomCrop": {"height": 2, "width": 2},
}
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def pixels(shape, dtype="float64", seed=0) -> np.ndarray:
    """Integer pixel values in [0, 255]: exact in float32, as TensorFlow's kernel reads them."""
    return np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)


def in_precision(keras_env, dtype: str):
    return keras_env.precision(dtype)


def keras_output(keras, name: str, kwargs: dict, x: np.ndarray) -> np.ndarray:
    return np.asarray(getattr(keras.layers, name)(**kwargs)(x, training=True))


def frozen_forward(layer, x: np.ndarray) -> np.ndarray:
    """``layer.forward(x, training=True)`` with the generator rewound: the same draws at
    every call (so finite differences see one fixed transform)."""
    layer.generator.state[1] = 0
    return layer.forward(x, training=True)


# -- inference, training, plain calls -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LAYERS))
def test_identity_at_inference_for_a_batch_and_a_single_image(name):
    layer = getattr(mr.layers, name)(**LAYERS[name], seed=1)
    x = pixels((3, 5, 6, 2), "float32")
    np.testing.assert_array_equal(layer(x, training=False), x)
    np.testing.assert_array_equal(layer(x[0], training=False), x[0])
    assert layer.backward(np.ones_like(x)) is not None
    model = mr.Sequential([mr.Input((5, 6, 2)), getattr(mr.layers, name)(**LAYERS[name])])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert layer(x.astype("uint8"), training=False).dtype == np.float32     # as Keras: floats


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_training_changes_images_with_new_draws_each_call_and_seeds_repeat(name):
    x = pixels((8, 6, 6, 1), "float32", seed=2)
    layer = getattr(mr.layers, name)(**LAYERS[name], seed=3)
    first, second = layer(x, training=True), layer(x, training=True)
    assert not np.array_equal(first, x)
    assert not np.array_equal(first, second)          # the generator moved on
    again = getattr(mr.layers, name)(**LAYERS[name], seed=3)(x, training=True)
    np.testing.assert_array_equal(again, first)       # same seed, same draws
    single = getattr(mr.layers, name)(**LAYERS[name], seed=3)(x[0], training=True)
    assert single.shape == first.shape[1:]


def test_a_plain_call_augments_as_in_keras():
    # Keras' BaseImagePreprocessingLayer.call(data, training=True): outside a model, a call
    # without `training` augments.
    x = pixels((2, 4, 4, 1), "float32")
    layer = mr.layers.RandomTranslation((0.25, 0.25), (0.25, 0.25), fill_mode="constant")
    assert not np.array_equal(layer(x), x)
    assert np.array_equal(layer(x, training=False), x)


# -- RandomFlip -----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_flip_outputs_a_flip_of_each_image_half_of_the_time(mode):
    n = 4000
    x = pixels((n, 3, 4, 2), "float32", seed=4)
    layer = mr.layers.RandomFlip(mode, seed=5)
    out = layer(x, training=True)
    flipped = {"horizontal": x[:, :, ::-1], "vertical": x[:, ::-1],
               "horizontal_and_vertical": x[:, ::-1, ::-1]}[mode]
    kept = np.all(out == x, axis=(1, 2, 3))
    turned = np.all(out == flipped, axis=(1, 2, 3))
    assert np.all(kept | turned)
    np.testing.assert_array_equal(turned, layer.flips)
    # the flipped fraction against ½, in binomial standard errors (a 5-sigma bound)
    assert abs(binomial_z(layer.flips, 0.5)) < 5
    np.testing.assert_array_equal(layer.backward(out), x)     # δx = flip(δa): flips back


def test_flip_equals_keras_for_the_same_flips(keras_env):
    # TensorFlow's draws cannot be reproduced: Keras' flips are read from its output, and
    # then minired's flip of the same images must be the same array.
    keras = keras_env.keras
    x = pixels((64, 3, 4, 2), "float32", seed=6)
    for mode in ("horizontal", "vertical", "horizontal_and_vertical"):
        theirs = keras_output(keras, "RandomFlip", {"mode": mode, "seed": 1}, x)
        flipped = mr.layers.RandomFlip(mode)._flip(x, np.ones((64, 1, 1, 1), bool))
        turned = np.all(theirs == flipped, axis=(1, 2, 3))
        assert np.all(turned | np.all(theirs == x, axis=(1, 2, 3)))
        ours = mr.layers.RandomFlip(mode)._flip(x, turned[:, None, None, None])
        np.testing.assert_array_equal(ours, theirs)


# -- the affine layers against Keras --------------------------------------------------------------

#: Draws whose coordinates TensorFlow's float32 kernel computes exactly (dyadic zooms and
#: shifts): minired in float64 must then give Keras' output to rounding (1e-12).
EXACT_CASES = [
    ("RandomZoom", {"height_factor": (-0.5, -0.5)}),
    ("RandomZoom", {"height_factor": (0.5, 0.5), "width_factor": (-0.25, -0.25)}),
    ("RandomTranslation", {"height_factor": (0.25, 0.25), "width_factor": (-0.125, -0.125)}),
    ("RandomTranslation", {"height_factor": (-0.34375, -0.34375), "width_factor": (0.5, 0.5)}),
]
#: Draws with rounding: TensorFlow computes the coordinates and weights in float32 whatever
#: the image dtype, so even Keras' float64 output is only float32-accurate.
ROUNDED_CASES = [
    ("RandomZoom", {"height_factor": (0.2, 0.2)}),
    ("RandomZoom", {"height_factor": (-0.1, -0.1), "width_factor": (0.3, 0.3)}),
    ("RandomTranslation", {"height_factor": (0.1, 0.1), "width_factor": (0.1, 0.1)}),
    ("RandomRotation", {"factor": (0.1, 0.1)}),
    ("RandomRotation", {"factor": (-0.3, -0.3)}),
]


def _modes(name: str):
    """Every fill_mode but "wrap" (TensorFlow's kernel wraps wrongly, see the wrap test)
    and every interpolation."""
    return [(f, i) for f in FILL_MODES if f != "wrap" for i in INTERPOLATIONS]


@pytest.mark.parametrize("name,kwargs", EXACT_CASES)
def test_dyadic_zooms_and_shifts_equal_keras_in_float64(keras_env, name, kwargs):
    keras = keras_env.keras
    x = pixels((2, 8, 8, 3), seed=7)
    with in_precision(keras_env, "float64"):
        for fill_mode, interpolation in _modes(name):
            args = {**kwargs, "fill_mode": fill_mode, "interpolation": interpolation,
                    "fill_value": 3.0}
            theirs = keras_output(keras, name, args, x)
            ours = getattr(mr.layers, name)(**args)(x, training=True)
            assert ours.dtype == np.float64
            assert relative_error(ours, theirs) < 1e-12, (fill_mode, interpolation)
            single = getattr(mr.layers, name)(**args)(x[0], training=True)
            np.testing.assert_array_equal(single, ours[0])


@pytest.mark.parametrize("name,kwargs", ROUNDED_CASES)
def test_other_draws_equal_keras_to_float32_rounding(keras_env, name, kwargs):
    keras = keras_env.keras
    x = pixels((2, 8, 7, 3), "float32", seed=8)
    with in_precision(keras_env, "float32"):
        for fill_mode, interpolation in _modes(name):
            args = {**kwargs, "fill_mode": fill_mode, "interpolation": interpolation,
                    "fill_value": 3.0}
            theirs = keras_output(keras, name, args, x)
            ours = getattr(mr.layers, name)(**args)(x, training=True)
            assert ours.dtype == np.float32
            # float32: both compute coordinates and weights in float32, in a different
            # order; measured at most 7e-7 of the largest pixel (a few ulps).
            assert relative_error(ours, theirs) < 2e-6, (fill_mode, interpolation)


def test_rotation_in_float64_against_keras(keras_env):
    # Keras' RandomRotation fails in float64 on TensorFlow (it multiplies the float64 angle
    # by a float32 π/180); with dtype="float64" under a float32 floatx it runs, its angles
    # and matrix in float32. minired's angle and matrix are float64: measured 2e-7.
    keras = keras_env.keras
    x = pixels((2, 8, 8, 3), seed=9)
    for fill_mode, interpolation in _modes("RandomRotation"):
        args = {"factor": (0.1, 0.1), "fill_mode": fill_mode, "interpolation": interpolation}
        theirs = np.asarray(keras.layers.RandomRotation(**args, dtype="float64")(
            x, training=True))
        with in_precision(keras_env, "float64"):
            ours = mr.layers.RandomRotation(**args)(x, training=True)
        if interpolation == "bilinear":      # float32 angle against float64 (see above)
            assert relative_error(ours, theirs) < 1e-6
        else:
            np.testing.assert_array_equal(ours, theirs)


def test_rotation_matrix_equals_keras(keras_env):
    keras, tf = keras_env.keras, keras_env.tf
    degrees = np.array([36.0, -108.0, 90.0, 7.5], dtype="float32")
    layer = keras.layers.RandomRotation(0.1)
    n = len(degrees)
    zeros, ones = tf.zeros(n), tf.ones(n)
    theirs = layer._compute_affine_matrix(0.5, 0.5, tf.constant(degrees), zeros, zeros, ones,
                                          zeros, zeros, 7, 6)
    ours = rotation_transforms(degrees, 7, 6)
    assert ours.dtype == np.float32
    assert relative_error(ours, np.asarray(theirs)) < 1e-6      # float32 cos/sin: an ulp


def keras_numpy_image():
    """Keras' NumPy backend's ``image`` module (its ``affine_transform`` on SciPy), imported
    without the backend package, whose ``__init__`` needs JAX."""
    import keras

    name = "keras.src.backend.numpy"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(os.path.dirname(keras.__file__), "src", "backend",
                                         "numpy")]
        sys.modules[name] = package
    from keras.src.backend.numpy import image

    return image


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_every_fill_mode_equals_keras_numpy_backend(keras_env, interpolation):
    # TensorFlow's "wrap" maps a coordinate just past the last pixel to the first one
    # (5.0000001 of 6 columns becomes -0.9999999, clamped to 0), so it differs from
    # Keras' NumPy backend (np.pad(mode="wrap")), which minired follows. The NumPy backend
    # rounds its result to float32 (SciPy on float32 images): exact for dyadic transforms,
    # 5e-8 otherwise.
    image = keras_numpy_image()
    x = pixels((2, 7, 6, 3), seed=10)
    transforms = [np.array([[1.5, 0, -1.25, 0, 0.75, 0.5, 0, 0]] * 2),
                  rotation_transforms(np.array([36.0, -70.0]), 7, 6)]
    for fill_mode in FILL_MODES:
        for transform, bound in zip(transforms, (1e-15, 1e-7), strict=True):
            theirs = image.affine_transform(x, transform, interpolation=interpolation,
                                            fill_mode=fill_mode, fill_value=3.0)
            plan = mr.layers.preprocessing.image_transform.sampling_plan(
                transform, (7, 6), interpolation, fill_mode, np.float64)
            ours = mr.layers.preprocessing.image_transform.resample(x, plan, 3.0)
            assert relative_error(ours, theirs) < bound, (fill_mode, transform)


# -- RandomContrast and RandomBrightness against Keras --------------------------------------------

COLOR_CASES = [
    ("RandomContrast", {"factor": (-0.5, 0.5)}),                  # c = 1.5: some clipped
    ("RandomContrast", {"factor": (-0.3, 0.3), "value_range": (0, 255)}),
    ("RandomContrast", {"factor": (0.0, 0.0), "value_range": (-1, 300)}),
    ("RandomBrightness", {"factor": (0.1, 0.1)}),
    ("RandomBrightness", {"factor": (-0.25, -0.25), "value_range": (20, 0.0)}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", COLOR_CASES)
def test_contrast_and_brightness_equal_keras(keras_env, name, kwargs, dtype):
    keras = keras_env.keras
    x = pixels((3, 5, 4, 2), dtype, seed=11)
    with in_precision(keras_env, dtype):
        theirs = keras_output(keras, name, kwargs, x)
        ours = getattr(mr.layers, name)(**kwargs)(x, training=True)
    assert ours.dtype == np.dtype(dtype)
    assert relative_error(ours, theirs) < (1e-12 if dtype == "float64" else 1e-6)


def test_contrast_reads_a_single_factor_as_keras_does():
    # Keras' bounds for RandomContrast's factor are [0, 1], so 0.2 becomes (0, 0.2) and the
    # contrast is drawn in [1, 1.2]: it is never lowered.
    layer = mr.layers.RandomContrast(0.2, seed=0)
    assert layer.factor == (0, 0.2)
    layer(pixels((500, 2, 2, 1), "float32"), training=True)
    contrast = layer.cache[1][0].ravel()
    assert contrast.min() >= 1.0 and contrast.max() < 1.2


# -- backward -------------------------------------------------------------------------------------

GRAD_CASES = [
    ("RandomFlip", {"mode": "horizontal"}),
    ("RandomFlip", {"mode": "vertical"}),
    ("RandomFlip", {"mode": "horizontal_and_vertical"}),
    *[("RandomRotation", {"factor": 0.15, "fill_mode": f, "interpolation": i})
      for f in FILL_MODES for i in INTERPOLATIONS],
    *[("RandomZoom", {"height_factor": 0.3, "width_factor": (-0.3, 0.5), "fill_mode": f})
      for f in FILL_MODES],
    *[("RandomTranslation", {"height_factor": 0.3, "width_factor": 0.3, "fill_mode": f,
                             "fill_value": 2.0})
      for f in FILL_MODES],
    ("RandomContrast", {"factor": (0.0, 0.9), "value_range": (0, 1)}),
    ("RandomBrightness", {"factor": 0.3, "value_range": (0, 1)}),
    ("RandomCrop", {"height": 3, "width": 4}),                  # a random window
    ("RandomCrop", {"height": 7, "width": 4}),                  # Keras' fallback: resized
]


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("name,kwargs", GRAD_CASES)
def test_backward_matches_finite_differences(float64, name, kwargs, single):
    rng = np.random.default_rng(12)
    x = rng.uniform(0.1, 0.9, (1, 5, 6, 2) if single else (3, 5, 6, 2))
    x = x[0] if single else x
    layer = getattr(mr.layers, name)(**kwargs, seed=13)
    outputs = frozen_forward(layer, x)
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer.backward(upstream)
    numeric = numerical_gradient(lambda: float(np.sum(frozen_forward(layer, x) * upstream)),
                                 x)
    assert analytic.shape == x.shape
    assert relative_error(analytic, numeric) < 1e-7


def test_backward_of_a_whole_pixel_rotation_equals_tensorflow(keras_env):
    # TensorFlow's gradient of ImageProjectiveTransformV3 warps δa by the inverse
    # transform; for a transform that moves whole pixels (a 90° turn of a square image,
    # exact in float32) that is the adjoint, minired's δx.
    keras, tf = keras_env.keras, keras_env.tf
    x = pixels((2, 5, 5, 2), "float32", seed=14)
    upstream = np.random.default_rng(15).standard_normal(x.shape).astype("float32")
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        out = keras.layers.RandomRotation((0.25, 0.25), fill_mode="constant",
                                          interpolation="nearest")(tensor, training=True)
        total = tf.reduce_sum(out * upstream)
    theirs = tape.gradient(total, tensor).numpy()
    layer = mr.layers.RandomRotation((0.25, 0.25), fill_mode="constant",
                                     interpolation="nearest")
    layer(x, training=True)
    np.testing.assert_array_equal(layer.backward(upstream), theirs)


@pytest.mark.parametrize("name,kwargs", [("RandomContrast", {"factor": (-0.5, 0.5)}),
                                         ("RandomBrightness", {"factor": (0.2, 0.2)})])
def test_color_backward_equals_tensorflow(keras_env, float64, name, kwargs):
    keras, tf = keras_env.keras, keras_env.tf
    x = pixels((2, 4, 3, 2), seed=16)
    x[0, 0, 0, 0] = 255 - 51                  # exactly at the clip edge after +0.2·255
    upstream = np.random.default_rng(17).standard_normal(x.shape)
    with in_precision(keras_env, "float64"):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            total = tf.reduce_sum(getattr(keras.layers, name)(**kwargs)(tensor, training=True)
                                  * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        layer = getattr(mr.layers, name)(**kwargs)
        layer(x, training=True)
        ours = layer.backward(upstream)
    assert relative_error(ours, theirs) < 1e-12


# -- configs, files, training ---------------------------------------------------------------------

CONFIG_CASES = [
    ("RandomFlip", {}),
    ("RandomFlip", {"mode": "vertical", "seed": 3}),
    ("RandomRotation", {"factor": 0.1}),
    ("RandomRotation", {"factor": (-0.2, 0.3), "fill_mode": "constant", "fill_value": 1.0,
                        "interpolation": "nearest", "seed": 2}),
    ("RandomZoom", {"height_factor": 0.1}),
    ("RandomZoom", {"height_factor": (0.2, -0.3), "width_factor": 0.4, "fill_mode": "wrap"}),
    ("RandomTranslation", {"height_factor": 0.1, "width_factor": (-0.2, 0.1)}),
    ("RandomContrast", {"factor": 0.2}),
    ("RandomContrast", {"factor": (0.1, 0.4), "value_range": (0, 1), "seed": 4}),
    ("RandomBrightness", {"factor": 0.2}),
    ("RandomBrightness", {"factor": (-0.1, 0.3), "value_range": (1, 0)}),
    ("RandomCrop", {"height": 3, "width": 4, "seed": 5}),
]


@pytest.mark.parametrize("name,kwargs", CONFIG_CASES)
def test_config_equals_keras_and_loads_both_ways(keras_env, name, kwargs):
    keras = keras_env.keras
    ours = getattr(mr.layers, name)(**kwargs, name="aug")
    theirs = getattr(keras.layers, name)(**kwargs, name="aug")
    assert ours.get_config() == theirs.get_config()
    again = getattr(mr.layers, name).from_config(theirs.get_config())
    assert again.get_config() == ours.get_config()
    back = getattr(keras.layers, name).from_config(ours.get_config())
    assert back.get_config() == theirs.get_config()


def keras_io_model(module):
    """keras-io's augmentation block in front of a tiny classifier."""
    layers = module.layers
    return module.Sequential([
        module.Input((8, 8, 1)),
        layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.1),
        layers.RandomTranslation(0.1, 0.1), layers.RandomContrast(0.2),
        layers.RandomBrightness(0.1, value_range=(0, 1)),
        layers.Flatten(), layers.Dense(2, activation="softmax"),
    ])


def as_json(config: dict) -> dict:
    return json.loads(json.dumps(config))


def saved_layers(path) -> list[dict]:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))["config"]["layers"][1:]   # no Input


def test_keras_files_cross_load(tmp_path, keras_env):
    keras = keras_env.keras
    x = np.random.default_rng(18).uniform(0, 1, (4, 8, 8, 1)).astype("float32")
    mr.utils.set_random_seed(0)
    model = keras_io_model(mr)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    assert [type(layer).__name__ for layer in keras_model.layers] == [
        type(layer).__name__ for layer in model.layers]
    for ours, theirs in zip(model.layers, keras_model.layers, strict=True):
        # as JSON: a loaded Keras layer holds the lists the file stores for the tuples
        assert as_json(ours.get_config()) == as_json(theirs.get_config())
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    keras_model.save(tmp_path / "k.keras")
    # the same entries in config.json (Keras records each layer's built input shape)
    ours_json, theirs_json = (saved_layers(tmp_path / name) for name in ("m.keras", "k.keras"))
    for ours, theirs in zip(ours_json, theirs_json, strict=True):
        assert ours["build_config"] == theirs["build_config"]
        assert ours["module"] == theirs["module"] and ours["class_name"] == theirs["class_name"]
    back = mr.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_a_model_with_augmentation_trains_with_fit():
    mr.utils.set_random_seed(1)
    rng = np.random.default_rng(19)
    x = rng.uniform(0, 1, (64, 8, 8, 1)).astype("float32")
    y = (x[:, :, :4].mean(axis=(1, 2, 3)) > x[:, :, 4:].mean(axis=(1, 2, 3))).astype("int32")
    x[:, 0, 0, 0] += y                       # a mark that survives the flips and shifts
    model = keras_io_model(mr)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(),
                                                          strict=True))
    flip = model.layers[0]
    assert flip.flips is not None            # the last step of fit augmented
    model.predict(x, verbose=0)
    assert flip.flips is None                # predict did not


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,message", [
    (lambda: mr.layers.RandomFlip("diagonal"), "mode"),
    (lambda: mr.layers.RandomRotation(1.5), "factor"),
    (lambda: mr.layers.RandomRotation((0.1, 0.2, 0.3)), "factor"),
    (lambda: mr.layers.RandomRotation("big"), "factor"),
    (lambda: mr.layers.RandomRotation(0.1, fill_mode="mirror"), "fill_mode"),
    (lambda: mr.layers.RandomRotation(0.1, interpolation="bicubic"), "interpolation"),
    (lambda: mr.layers.RandomZoom(-1.0), "height_factor"),
    (lambda: mr.layers.RandomZoom(0.1, width_factor=(0.1, 2.0)), "width_factor"),
    (lambda: mr.layers.RandomTranslation(0.1, 1.5), "width_factor"),
    (lambda: mr.layers.RandomContrast(-0.1), "factor"),
    (lambda: mr.layers.RandomBrightness(0.1, value_range=(0, 1, 2)), "value_range"),
    (lambda: mr.layers.RandomFlip(data_format="channels_first"), "channels_last"),
    (lambda: mr.layers.RandomFlip(bounding_box_format="xyxy"), "bounding_box_format"),
    (lambda: mr.layers.RandomCrop(0, 3), "height"),
    (lambda: mr.layers.RandomCrop(3, 2.5), "width"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_are_refused():
    layer = mr.layers.RandomRotation(0.1)
    with pytest.raises(ValueError, match="rank 3"):
        layer(np.zeros((2, 4), dtype="float32"), training=True)
    with pytest.raises(TypeError, match="dict"):
        layer({"images": np.zeros((4, 4, 1))})


# -- RandomCrop -----------------------------------------------------------------------------------

def window_of(out: np.ndarray, x: np.ndarray) -> list[tuple[int, int]]:
    """The corners ``(top, left)`` whose window of ``x`` (every image) is ``out``."""
    rows, cols = out.shape[1:3]
    return [(top, left) for top in range(x.shape[1] - rows + 1)
            for left in range(x.shape[2] - cols + 1)
            if np.array_equal(x[:, top:top + rows, left:left + cols], out)]


def test_crop_takes_one_random_window_per_batch_like_keras(keras_env):
    keras = keras_env.keras
    x = pixels((3, 9, 7, 2), "float32", seed=20)
    theirs = np.asarray(keras.layers.RandomCrop(4, 3)(x, training=True))
    layer = mr.layers.RandomCrop(4, 3, seed=1)
    ours = layer(x, training=True)
    assert ours.shape == theirs.shape == (3, 4, 3, 2)
    assert len(window_of(theirs, x)) == 1 and len(window_of(ours, x)) == 1
    assert layer.compute_output_shape((None, 9, 7, 2)) == (None, 4, 3, 2)
    np.testing.assert_array_equal(layer(x, training=False), x)     # Keras: uncropped


def test_crop_corners_are_uniform():
    # each of the 4 tops and 3 lefts, in binomial standard errors against 1/4 and 1/3
    layer = mr.layers.RandomCrop(3, 4, seed=2)
    x = np.arange(6 * 6, dtype="float32").reshape(1, 6, 6, 1)
    corners = np.array([window_of(layer(x, training=True), x)[0] for _ in range(3000)])
    for axis, count in ((0, 4), (1, 3)):
        for value in range(count):
            assert abs(binomial_z(corners[:, axis] == value, 1 / count)) < 5


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape,size", [((4, 4), (8, 8)), ((8, 6), (8, 3)), ((7, 3), (6, 4)),
                                        ((4, 6), (2, 9)), ((3, 7), (5, 2)), ((4, 4), (2, 6))])
def test_crop_fallback_for_small_images_equals_keras(keras_env, shape, size, dtype):
    # Images not larger than the crop: Keras slices from the corner of a centred window
    # with the crop's aspect and resizes (TensorFlow's bilinear resize, whose float32
    # arithmetic is exact for the dyadic scales 1/2, 2, 1, 3/4... and float32-accurate for
    # 2/3 or 3/5 even in float64: measured 1.6e-7).
    keras = keras_env.keras
    x = pixels((2, *shape, 3), dtype, seed=21)
    with in_precision(keras_env, dtype):
        theirs = np.asarray(keras.layers.RandomCrop(*size)(x, training=True))
        ours = mr.layers.RandomCrop(*size)(x, training=True)
    scales = (min(size[0], shape[0]) / size[0], min(size[1], shape[1]) / size[1])
    dyadic = all(float(s * 4).is_integer() for s in scales)
    bound = 1e-12 if dyadic and dtype == "float64" else 1e-6
    assert ours.dtype == np.dtype(dtype)
    assert relative_error(ours, theirs) < bound


def test_crop_resize_backward_equals_tensorflow(keras_env):
    # TensorFlow's ResizeBilinearGrad is the adjoint of its resize: minired's δx, exactly
    # for a dyadic scale and δa in quarters (TensorFlow computes it in float32).
    keras, tf = keras_env.keras, keras_env.tf
    x = pixels((2, 4, 4, 2), seed=22)
    upstream = np.random.default_rng(23).integers(-8, 9, (2, 8, 8, 2)) / 4    # exact in float32
    with in_precision(keras_env, "float64"):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            total = tf.reduce_sum(keras.layers.RandomCrop(8, 8)(tensor, training=True)
                                  * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        layer = mr.layers.RandomCrop(8, 8)
        layer(x, training=True)
        ours = layer.backward(upstream)
    assert relative_error(ours, theirs) < 1e-12


def test_crop_draws_and_records_a_seed_when_none_is_given(keras_env):
    keras = keras_env.keras
    ours, theirs = mr.layers.RandomCrop(3, 3), keras.layers.RandomCrop(3, 3)
    assert isinstance(ours.get_config()["seed"], int)
    assert isinstance(theirs.get_config()["seed"], int)
    again = mr.layers.RandomCrop.from_config(ours.get_config())
    x = pixels((2, 6, 6, 1), "float32")
    np.testing.assert_array_equal(again(x, training=True), ours(x, training=True))


def test_a_model_called_directly_augments_as_keras_does():
    """keras-io's ``data_augmentation(images)``: a model called without ``training`` hands
    each layer the default of its own call, as Keras does: the augmentation layers augment
    (True), Dropout does not (False); ``predict`` and ``training=False`` give the images."""
    x = np.random.default_rng(0).normal(size=(16, 5, 4, 3)).astype("float32")
    augmentation = mr.Sequential([mr.Input((5, 4, 3)), mr.layers.RandomFlip("horizontal"),
                                  mr.layers.Dropout(0.5)])
    direct = augmentation(x)
    kept = [np.array_equal(a, image) for a, image in zip(direct, x, strict=True)]
    flipped = [np.array_equal(a, image[:, ::-1]) for a, image in zip(direct, x, strict=True)]
    assert all(k or f for k, f in zip(kept, flipped, strict=True))     # no dropout zeros
    assert 0 < sum(flipped) < len(x)
    np.testing.assert_array_equal(augmentation(x, training=False), x)
    np.testing.assert_array_equal(augmentation.predict(x, verbose=0), x)
