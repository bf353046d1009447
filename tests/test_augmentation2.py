"""Keras 3's newer image augmentation layers: the colour ones (RandomGrayscale, RandomHue,
RandomSaturation, RandomColorDegeneration, RandomSharpness, RandomInvert,
RandomPosterization, Solarization, RandomColorJitter, AutoContrast, Equalization), RandomShear,
RandomErasing, RandomGaussianBlur, RandomPerspective, MixUp, CutMix, and the containers
Pipeline and RandAugment.

- identity at inference, random (per image, seeded) in training;
- Keras' two steps: the same transformation handed to Keras' ``transform_images`` and to
  minired's gives the same images (float64 to 1e-12, float32 to a few ulps), and so does a
  public training call whose factor range fixes the draws;
- the backward pass against TensorFlow's tape and against finite differences (float64),
  and δx = 0 where TensorFlow has no gradient (HSVToRGB, the cast to uint8);
- the draws' statistics (5 standard errors), configs equal to Keras', ``.keras`` files
  cross-loading, and the errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from comparisons.sampling import binomial_z, mean_z, sample_zs, uniform
from minired.gradcheck import numerical_gradient, relative_error
from minired.layers.preprocessing.color_space import hsv_to_rgb, rgb_to_hsv

LAYERS = {
    "RandomGrayscale": {},
    "RandomHue": {"factor": 0.5},
    "RandomSaturation": {"factor": 0.5},
    "RandomColorDegeneration": {"factor": 0.5},
    "RandomSharpness": {"factor": 0.5},
    "RandomInvert": {},
    "RandomPosterization": {"factor": (2, 6)},
    "Solarization": {"addition_factor": 0.2, "threshold_factor": 0.8},
    "RandomShear": {"x_factor": 0.3, "y_factor": 0.2},
    "RandomColorJitter": {"brightness_factor": 0.2, "hue_factor": 0.2},
    "RandomErasing": {},
    "RandomGaussianBlur": {},
    "RandAugment": {"num_ops": 3},
    "MixUp": {},
    "CutMix": {},
    "RandomPerspective": {"scale": 0.5},
}


@pytest.fixture
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def pixels(shape, dtype="float64", seed=0, value_range=(0, 255)) -> np.ndarray:
    """Integer pixel values in [0, 255], scaled to ``value_range`` (dyadic ranges keep
    them exact in float32)."""
    p = np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)
    low, high = value_range
    return (p / 255 * (high - low) + low).astype(dtype)


def col(values, dtype, shape=(-1,)):
    return np.asarray(values).astype(dtype).reshape(shape)


#: (layer, kwargs, the transformation of a batch of 3 in a dtype): Keras' keys and shapes.
TRANSFORM_CASES = [
    ("RandomGrayscale", {}, lambda d: np.array([True, False, True]).reshape(3, 1, 1, 1)),
    ("RandomHue", {"factor": 0.5}, lambda d: {"factor": col([0.1, -0.25, 0.45], d)}),
    ("RandomHue", {"factor": 1.0, "value_range": (-1, 1)},
     lambda d: {"factor": col([0.5, -0.5, 0.0], d)}),
    ("RandomHue", {"factor": 1.0, "value_range": (0, 1)},            # no rescaling: float64
     lambda d: {"factor": col([0.3, -0.15, 0.05], d)}),
    ("RandomSaturation", {"factor": 0.5}, lambda d: {"factor": col([0.3, 1.7, 0.0], d)}),
    ("RandomSaturation", {"factor": 0.5, "value_range": (0, 1)},
     lambda d: {"factor": col([3.0, 0.5, 1e3], d)}),                  # S·k cut at 1
    ("RandomColorDegeneration", {"factor": 0.5},
     lambda d: {"factor": col([0.3, -0.8, 1.0], d, (3, 1, 1, 1))}),    # -0.8: clipped
    ("RandomSharpness", {"factor": 0.5}, lambda d: {"factor": col([0.0, 0.9, 0.5], d)}),
    ("RandomSharpness", {"factor": 0.5, "value_range": (0, 1)},
     lambda d: {"factor": col([1.0, 0.25, 0.75], d)}),
    ("RandomInvert", {}, lambda d: {"apply_inversion": np.array([True, False, True])}),
    ("RandomInvert", {"value_range": (0, 1)},
     lambda d: {"apply_inversion": np.array([False, True, True])}),
    ("RandomPosterization", {"factor": 8},
     lambda d: {"shift_factor": np.array([7, 4, 0], dtype="uint8")}),
    ("RandomPosterization", {"factor": 8, "value_range": (0, 1)},
     lambda d: {"shift_factor": np.array([1, 3, 6], dtype="uint8")}),
    ("Solarization", {},
     lambda d: {"additions": col([0, 30, 200], d, (3, 1, 1, 1)),
                "thresholds": col([128, 0, 300], d, (3, 1, 1, 1))}),
    ("Solarization", {"value_range": (-1, 1)},
     lambda d: {"additions": col([10, 0, 50], d, (3, 1, 1, 1)),
                "thresholds": col([100, 200, 64], d, (3, 1, 1, 1))}),
]
CASE_IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(TRANSFORM_CASES)]


def as_tensors(tf, transformation):
    if isinstance(transformation, dict):
        return {key: tf.constant(value) for key, value in transformation.items()}
    return tf.constant(transformation)


def keras_transform(keras_env, name, kwargs, x, transformation):
    tf = keras_env.tf
    layer = getattr(keras_env.keras.layers, name)(**kwargs)
    return layer.transform_images(tf.constant(x), as_tensors(tf, transformation),
                                  training=True)


# -- inference, training ---------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LAYERS))
def test_identity_at_inference_and_new_seeded_draws_in_training(name):
    x = pixels((8, 5, 4, 3), "float32", seed=1)
    layer = getattr(mr.layers, name)(**LAYERS[name], seed=3)
    np.testing.assert_array_equal(layer(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    model = mr.Sequential([mr.Input((5, 4, 3)), getattr(mr.layers, name)(**LAYERS[name])])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    first, second = layer(x, training=True), layer(x, training=True)
    assert first.dtype == np.float32
    assert not np.array_equal(first, x) and not np.array_equal(first, second)
    again = getattr(mr.layers, name)(**LAYERS[name], seed=3)(x, training=True)
    np.testing.assert_array_equal(again, first)
    single = getattr(mr.layers, name)(**LAYERS[name], seed=3)(x[0], training=True)
    assert single.shape == x.shape[1:]


# -- value for value against Keras -----------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs,make", TRANSFORM_CASES, ids=CASE_IDS)
def test_the_same_transformation_gives_keras_images(keras_env, name, kwargs, make, dtype):
    x = pixels((3, 5, 4, 3), dtype, seed=2, value_range=kwargs.get("value_range", (0, 255)))
    transformation = make(dtype)
    with keras_env.precision(dtype):
        theirs = np.asarray(keras_transform(keras_env, name, kwargs, x, transformation))
        ours = getattr(mr.layers, name)(**kwargs).transform_images(x, transformation)
    assert ours.dtype == np.dtype(dtype)
    # float32: TensorFlow's tensordot/depthwise sums in another order: a few ulps
    assert relative_error(ours, theirs) < (1e-12 if dtype == "float64" else 1e-6)


#: Public training calls whose factor ranges fix the draws in both libraries.
FIXED_CALLS = [
    ("RandomGrayscale", {"factor": 1.0}),
    ("RandomGrayscale", {"factor": 0.0}),
    ("RandomSaturation", {"factor": (0.2, 0.2)}),
    ("RandomColorDegeneration", {"factor": (0.4, 0.4)}),
    ("RandomSharpness", {"factor": (0.8, 0.8)}),
    ("RandomInvert", {"factor": (1.0, 1.0)}),
    ("RandomPosterization", {"factor": (3, 3)}),
    ("Solarization", {}),                            # thresholds 0: every pixel inverted
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", FIXED_CALLS)
def test_fixed_draws_equal_keras_through_the_call(keras_env, name, kwargs, dtype):
    x = pixels((3, 5, 4, 3), dtype, seed=4)
    with keras_env.precision(dtype):
        theirs = np.asarray(getattr(keras_env.keras.layers, name)(**kwargs)(
            keras_env.tf.constant(x), training=True))
        ours = getattr(mr.layers, name)(**kwargs)(x, training=True)
    assert relative_error(ours, theirs) < (1e-12 if dtype == "float64" else 1e-6)


def test_one_channel_images_stay_as_in_keras(keras_env):
    x = pixels((2, 3, 3, 1), seed=5)
    for name, kwargs in (("RandomGrayscale", {"factor": 1.0}),
                         ("RandomColorDegeneration", {"factor": (0.7, 0.7)})):
        theirs = getattr(keras_env.keras.layers, name)(**kwargs)(x, training=True)
        np.testing.assert_array_equal(getattr(mr.layers, name)(**kwargs)(x, training=True),
                                      np.asarray(theirs))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_hsv_conversions_equal_tensorflow(keras_env, dtype):
    # tensors, not NumPy arrays: TensorFlow 2.21's eager fast path converts a float64 array
    # handed to tf.image.rgb_to_hsv after a float32 call as float32 (seen while writing this)
    tf = keras_env.tf
    x = pixels((2, 6, 5, 3), dtype, seed=6) / 255
    x[0, 0, :4] = [[0.5, 0.5, 0.2], [0, 0, 0], [0.3, 0.7, 0.7], [0.2, 0.2, 0.2]]   # ties
    hsv = rgb_to_hsv(x)
    np.testing.assert_array_equal(hsv, tf.image.rgb_to_hsv(tf.constant(x)).numpy())
    np.testing.assert_array_equal(hsv_to_rgb(hsv), tf.image.hsv_to_rgb(tf.constant(hsv)).numpy())
    assert relative_error(hsv_to_rgb(hsv), x) < (1e-15 if dtype == "float64" else 1e-6)


# -- backward --------------------------------------------------------------------------------

GRADIENT_CASES = [case for case in TRANSFORM_CASES if case[0] in (
    "RandomGrayscale", "RandomColorDegeneration", "RandomSharpness", "RandomInvert",
    "Solarization")]
NO_GRADIENT_CASES = [case for case in TRANSFORM_CASES if case[0] in (
    "RandomHue", "RandomSaturation", "RandomPosterization")]


def ours_forward_backward(name, kwargs, x, transformation, upstream):
    layer = getattr(mr.layers, name)(**kwargs)
    outputs, state = layer._apply(x, transformation)
    return outputs, layer._augment_backward(upstream, state)


@pytest.mark.parametrize("name,kwargs,make", GRADIENT_CASES,
                         ids=[c[0] + str(i) for i, c in enumerate(GRADIENT_CASES)])
def test_backward_equals_tensorflow(keras_env, name, kwargs, make):
    tf = keras_env.tf
    x = pixels((3, 5, 4, 3), seed=7, value_range=kwargs.get("value_range", (0, 255)))
    upstream = np.random.default_rng(8).standard_normal(x.shape)
    transformation = make("float64")
    with keras_env.precision("float64"):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            layer = getattr(keras_env.keras.layers, name)(**kwargs)
            out = layer.transform_images(tensor, as_tensors(tf, transformation), training=True)
            total = tf.reduce_sum(out * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        _, ours = ours_forward_backward(name, kwargs, x, transformation, upstream)
    assert relative_error(ours, theirs) < 1e-12


@pytest.mark.parametrize("name,kwargs,make", NO_GRADIENT_CASES,
                         ids=[c[0] + str(i) for i, c in enumerate(NO_GRADIENT_CASES)])
def test_no_gradient_where_tensorflow_has_none(keras_env, name, kwargs, make):
    tf = keras_env.tf
    x = pixels((3, 5, 4, 3), seed=9, value_range=kwargs.get("value_range", (0, 255)))
    transformation = make("float32")
    tensor = tf.constant(x.astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        layer = getattr(keras_env.keras.layers, name)(**kwargs)
        total = tf.reduce_sum(layer.transform_images(tensor, as_tensors(tf, transformation),
                                                     training=True))
    assert tape.gradient(total, tensor) is None
    _, ours = ours_forward_backward(name, kwargs, x.astype("float32"), transformation,
                                    np.ones(x.shape, "float32"))
    np.testing.assert_array_equal(ours, np.zeros(x.shape))


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("name,kwargs", [
    ("RandomGrayscale", {"factor": 0.5}),
    ("RandomColorDegeneration", {"factor": 0.9, "value_range": (0, 1)}),
    ("RandomSharpness", {"factor": 1.0, "value_range": (0, 1)}),
    ("RandomInvert", {"value_range": (0, 1)}),
    ("Solarization", {"addition_factor": 0.3, "threshold_factor": 0.9, "value_range": (0, 1)}),
    ("Solarization", {"threshold_factor": 0.9, "value_range": (-2, 3)}),
])
def test_backward_matches_finite_differences(float64, name, kwargs, single):
    rng = np.random.default_rng(10)
    x = rng.uniform(0.1, 0.9, (1, 4, 5, 3) if single else (6, 4, 5, 3))
    x = x[0] if single else x
    layer = getattr(mr.layers, name)(**kwargs, seed=11)
    outputs = layer(x, training=True)
    transformation = layer.transformation
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer.backward(upstream)
    numeric = numerical_gradient(
        lambda: float(np.sum(layer.transform_images(x, transformation) * upstream)), x)
    assert analytic.shape == x.shape
    assert relative_error(analytic, numeric) < 1e-7


# -- the draws -------------------------------------------------------------------------------

N = 20_000


def draws(name, kwargs, seed=12):
    layer = getattr(mr.layers, name)(**kwargs, seed=seed)
    return layer.get_random_transformation(np.zeros((N, 1, 1, 3), "float32"))


def test_grayscale_and_invert_fractions():
    assert abs(binomial_z(draws("RandomGrayscale", {"factor": 0.3}), 0.3)) < 5
    # p ~ U[0.2, 0.6), t ~ U[0, 1): inverted with probability E[p] = 0.4
    inverted = draws("RandomInvert", {"factor": (0.2, 0.6)})["apply_inversion"]
    assert abs(binomial_z(inverted, 0.4)) < 5


def test_hue_sign_is_fair_and_magnitude_uniform():
    shift = draws("RandomHue", {"factor": (0.2, 0.6)})["factor"]
    assert abs(binomial_z(shift < 0, 0.5)) < 5
    for label, z in sample_zs(2 * np.abs(shift), uniform(0.2, 0.6)):
        assert abs(z) < 5, label


@pytest.mark.parametrize("name,kwargs,low,high,read", [
    ("RandomColorDegeneration", {"factor": 0.7}, -0.7, 0.7, lambda t: t["factor"]),
    ("RandomSharpness", {"factor": (0.1, 0.4)}, 0.1, 0.4, lambda t: t["factor"]),
    ("RandomSaturation", {"factor": (-0.5, 0.8)}, -0.5, 0.8,      # u = k/(1 + k) (ε aside)
     lambda t: t["factor"] / (1 + t["factor"])),
    ("Solarization", {"addition_factor": (0.1, 0.2)}, 0.1, 0.2 * 255,
     lambda t: t["additions"]),
    ("Solarization", {"threshold_factor": 0.5}, 0.0, 0.5 * 255, lambda t: t["thresholds"]),
])
def test_factors_are_uniform(name, kwargs, low, high, read):
    for label, z in sample_zs(read(draws(name, kwargs)), uniform(low, high)):
        assert abs(z) < 5, label


def test_posterization_bits_are_uniform_below_the_upper_end():
    bits = 8 - draws("RandomPosterization", {"factor": (2, 6)})["shift_factor"].astype(int)
    assert set(np.unique(bits)) == {2, 3, 4, 5}               # randint excludes 6
    for b in range(2, 6):
        assert abs(binomial_z(bits == b, 0.25)) < 5
    fixed = draws("RandomPosterization", {"factor": (4, 4)})["shift_factor"]
    assert np.all(fixed == 4)


# -- configs, files, errors ------------------------------------------------------------------

CONFIG_CASES = [
    ("RandomGrayscale", {}), ("RandomGrayscale", {"factor": 0.2}),
    ("RandomHue", {"factor": 0.3}), ("RandomHue", {"factor": (0.6, 0.1), "value_range": (0, 1),
                                                   "seed": 2}),
    ("RandomSaturation", {"factor": 0.4}), ("RandomSaturation", {"factor": (-0.2, 0.5),
                                                                 "value_range": (1, 0)}),
    ("RandomColorDegeneration", {"factor": 0.4}),
    ("RandomSharpness", {"factor": (0.2, 0.7), "value_range": (0, 1)}),
    ("RandomInvert", {}), ("RandomInvert", {"factor": 0.3, "value_range": (1, 0), "seed": 3}),
    ("RandomPosterization", {"factor": 4}), ("RandomPosterization", {"factor": (2, 5)}),
    ("Solarization", {}), ("Solarization", {"addition_factor": (0.4, 0.1),
                                            "threshold_factor": 0.5, "value_range": (1, -1)}),
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


def color_model(module):
    layers = module.layers
    return module.Sequential([
        module.Input((6, 6, 3)),
        layers.RandomGrayscale(0.2), layers.RandomHue(0.1), layers.RandomSaturation(0.3),
        layers.RandomColorDegeneration(0.2), layers.RandomSharpness(0.3),
        layers.RandomInvert(0.1), layers.RandomPosterization(6), layers.Solarization(),
        layers.Flatten(), layers.Dense(2, activation="softmax"),
    ])


def round_trip(build, tmp_path, keras):
    """``build(mr)`` saved by minired as m.keras, loaded by Keras (the same layer classes,
    the same predictions), saved by Keras as k.keras and loaded back by minired (the same
    predictions again); returns the three models."""
    x = pixels((4, 6, 6, 3), "float32", seed=13)
    mr.utils.set_random_seed(0)
    model = build(mr)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    assert [type(layer).__name__ for layer in keras_model.layers] == [
        type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    keras_model.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    return model, keras_model, back


def test_keras_files_cross_load(tmp_path, keras_env):
    _, keras_model, back = round_trip(color_model, tmp_path, keras_env.keras)
    for ours, theirs in zip(back.layers, keras_model.layers, strict=True):
        assert ours.get_config().keys() == theirs.get_config().keys()


def test_a_model_with_colour_augmentation_trains():
    mr.utils.set_random_seed(1)
    x = pixels((32, 6, 6, 3), "float32", seed=14)
    y = (x.mean(axis=(1, 2, 3)) > 127).astype("int32")
    model = color_model(mr)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x / 255, y, epochs=2, batch_size=8, verbose=0)
    assert all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("make,error,message", [
    (lambda: mr.layers.RandomGrayscale(1.5), ValueError, "factor"),
    (lambda: mr.layers.RandomHue(-0.2), ValueError, "factor"),
    (lambda: mr.layers.RandomHue(0.2, value_range=(0, 1, 2)), ValueError, "value_range"),
    (lambda: mr.layers.RandomSaturation(1.5), ValueError, "factor"),
    (lambda: mr.layers.RandomSaturation(0.5, value_range=5), ValueError, "value_range"),
    (lambda: mr.layers.RandomColorDegeneration((0.1, 0.2, 0.3)), ValueError, "factor"),
    (lambda: mr.layers.RandomSharpness(2.0), ValueError, "factor"),
    (lambda: mr.layers.RandomInvert("all"), ValueError, "factor"),
    (lambda: mr.layers.RandomPosterization(9), ValueError, "factor"),
    (lambda: mr.layers.Solarization(addition_factor=1.5), ValueError, "addition_factor"),
    (lambda: mr.layers.Solarization(threshold_factor=(0.1, -0.2)), ValueError,
     "threshold_factor"),
    (lambda: mr.layers.RandomHue(0.1)(np.zeros((1, 2, 2, 4)), training=True), ValueError,
     "3 channels"),
    (lambda: mr.layers.RandomGrayscale()(np.zeros((1, 2, 2, 2)), training=True), ValueError,
     "1 or 3 channels"),
    (lambda: mr.layers.RandomInvert()(np.zeros((2, 2)), training=True), ValueError, "rank 3"),
])
def test_bad_arguments_and_inputs_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


# -- RandomShear -----------------------------------------------------------------------------

#: Shears whose coordinates TensorFlow's float32 kernel computes exactly (dyadic) and,
#: with nearest interpolation, that never land half-way between two pixels (TensorFlow
#: rounds ties away from zero, image_transform as Keras' NumPy backend: ⌊x + ½⌋).
SHEAR_EXACT = [[0.1875, -0.3125], [-0.5625, 0.0625], [0.0, 0.9375]]
SHEAR_ROUNDED = [[0.35, 0.2], [-0.7, 0.15], [0.1, -0.9]]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("shear", [SHEAR_EXACT, SHEAR_ROUNDED], ids=["exact", "rounded"])
def test_shear_equals_keras(keras_env, shear, interpolation, fill_mode, dtype):
    # "wrap": TensorFlow's kernel wraps wrongly (see test_augmentation.py's wrap test)
    tf = keras_env.tf
    x = pixels((3, 5, 5, 2), dtype, seed=15)
    kwargs = {"x_factor": 1.0, "y_factor": 1.0, "fill_mode": fill_mode,
              "interpolation": interpolation, "fill_value": 3.0}
    transformation = {"shear_factor": np.array(shear, dtype)}
    with keras_env.precision(dtype):
        theirs = keras_env.keras.layers.RandomShear(**kwargs).transform_images(
            tf.constant(x), as_tensors(tf, transformation), training=True)
        ours = mr.layers.RandomShear(**kwargs).transform_images(x, transformation)
    exact = shear is SHEAR_EXACT and dtype == "float64"
    # otherwise TensorFlow's float32 coordinates: measured 1.8e-7 of the largest pixel
    assert relative_error(ours, np.asarray(theirs)) < (1e-12 if exact else 1e-6)


def test_shear_by_whole_pixels_backward_equals_tensorflow(keras_env):
    # TensorFlow's gradient warps δa by the inverse shear: for a shear by whole pixels that
    # is the adjoint, minired's δx.
    tf = keras_env.tf
    x = pixels((2, 5, 6, 2), seed=16)
    upstream = np.random.default_rng(17).standard_normal(x.shape)
    kwargs = {"x_factor": 1.0, "y_factor": 1.0, "fill_mode": "constant",
              "interpolation": "nearest"}
    transformation = {"shear_factor": np.array([[1.0, 0.0], [0.0, -1.0]])}
    with keras_env.precision("float64"):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = keras_env.keras.layers.RandomShear(**kwargs).transform_images(
                tensor, as_tensors(tf, transformation), training=True)
            total = tf.reduce_sum(out * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        layer = mr.layers.RandomShear(**kwargs)
        sampling = mr.layers.preprocessing.image_transform.sampling_plan(
            mr.layers.preprocessing.random_shear.shear_transforms(
                transformation["shear_factor"]), (5, 6), "nearest", "constant", np.float64)
        layer.cache = (False, sampling)
        ours = layer.backward(upstream)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
def test_shear_backward_matches_finite_differences(float64, fill_mode):
    rng = np.random.default_rng(18)
    x = rng.uniform(0.1, 0.9, (3, 5, 6, 2))
    layer = mr.layers.RandomShear(0.6, 0.4, fill_mode=fill_mode, fill_value=2.0, seed=19)
    outputs = layer(x, training=True)
    transformation = layer.transformation
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer.backward(upstream)
    numeric = numerical_gradient(
        lambda: float(np.sum(layer.transform_images(x, transformation) * upstream)), x)
    assert relative_error(analytic, numeric) < 1e-7


def test_shear_draws():
    shear = mr.layers.RandomShear((0.1, 0.5), (0.2, 0.3), seed=20).get_random_transformation(
        np.zeros((N, 1, 1, 1), "float32"))["shear_factor"]
    assert np.all(np.sign(shear[:, 0]) == np.sign(shear[:, 1]))     # one sign per image
    assert abs(binomial_z(shear[:, 0] < 0, 0.5)) < 5
    for column_, (low, high) in ((0, (0.1, 0.5)), (1, (0.2, 0.3))):
        for label, z in sample_zs(np.abs(shear[:, column_]), uniform(low, high)):
            assert abs(z) < 5, label


@pytest.mark.parametrize("kwargs", [{}, {"x_factor": (0.5, 0.1), "y_factor": (0.3, 0.3),
                                     "interpolation": "nearest", "fill_mode": "constant",
                                     "fill_value": 1.0, "seed": 4}])
def test_shear_config_equals_keras(keras_env, kwargs):
    ours = mr.layers.RandomShear(**kwargs, name="s")
    theirs = keras_env.keras.layers.RandomShear(**kwargs, name="s")
    assert ours.get_config() == theirs.get_config()
    assert mr.layers.RandomShear.from_config(theirs.get_config()).get_config() == \
        ours.get_config()
    assert keras_env.keras.layers.RandomShear.from_config(ours.get_config()).get_config() == \
        theirs.get_config()


def test_a_single_shear_factor_does_not_reload_as_in_keras(keras_env):
    # Keras stores x_factor=0.2 as (-0.2, 0.2), which its own constructor refuses (factors
    # are in [0, 1]): neither library reloads the config (a Keras 3.15 bug, kept).
    ours = mr.layers.RandomShear(x_factor=0.2, name="s")
    theirs = keras_env.keras.layers.RandomShear(x_factor=0.2, name="s")
    assert ours.get_config() == theirs.get_config()
    with pytest.raises(ValueError, match="x_factor"):
        mr.layers.RandomShear.from_config(ours.get_config())
    with pytest.raises(TypeError, match="RandomShear"):           # its wrapped ValueError
        keras_env.keras.layers.RandomShear.from_config(theirs.get_config())


def test_shear_errors_are_keras():
    with pytest.raises(ValueError, match="x_factor"):
        mr.layers.RandomShear(x_factor=-0.1)
    with pytest.raises(ValueError, match="y_factor"):
        mr.layers.RandomShear(y_factor=(0.1, 0.2, 0.3))
    with pytest.raises(NotImplementedError, match="fill_mode"):
        mr.layers.RandomShear(fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation"):
        mr.layers.RandomShear(interpolation="bicubic")


# -- RandomColorJitter -----------------------------------------------------------------------

JITTER_FIXED = {"brightness_factor": (0.1, 0.1), "contrast_factor": (-0.3, 0.3),
                "saturation_factor": (0.3, 0.3), "hue_factor": (0.0, 0.0)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kwargs", [JITTER_FIXED,
                                    {"brightness_factor": (-0.2, -0.2), "value_range": (0, 1),
                                     "contrast_factor": (-0.5, 0.5)}])
def test_jitter_with_fixed_draws_equals_keras(keras_env, kwargs, dtype):
    x = pixels((3, 5, 4, 3), dtype, seed=21, value_range=kwargs.get("value_range", (0, 255)))
    with keras_env.precision(dtype):
        theirs = keras_env.keras.layers.RandomColorJitter(**kwargs)(
            keras_env.tf.constant(x), training=True)
        ours = mr.layers.RandomColorJitter(**kwargs)(x, training=True)
    assert ours.dtype == np.dtype(dtype)
    assert relative_error(ours, np.asarray(theirs)) < (1e-12 if dtype == "float64" else 1e-6)


def test_jitter_hue_step_equals_keras_steps_for_the_same_draws(keras_env):
    # Keras' jitter draws inside transform_images: its steps (its random_brightness and
    # random_hue layers) are handed the transformations minired drew.
    tf = keras_env.tf
    x = pixels((4, 5, 4, 3), seed=22)
    kwargs = {"brightness_factor": 0.3, "hue_factor": 0.4}
    layer = mr.layers.RandomColorJitter(**kwargs, seed=23)
    ours = layer(x, training=True)
    shift = layer.cache[1][0][1][0]                        # the brightness step's d_n
    keras_layer = keras_env.keras.layers.RandomColorJitter(**kwargs)
    with keras_env.precision("float64"):
        theirs = keras_layer.random_brightness.transform_images(
            tf.constant(x), {"rgb_delta": tf.constant(shift)})
        theirs = keras_layer.random_hue.transform_images(
            theirs, {"factor": tf.constant(layer.random_hue.transformation["factor"])})
    # Keras' RandomHue computes in float32 (see RandomHue): so does minired's
    assert relative_error(ours, np.asarray(theirs)) < 1e-12


def test_jitter_backward_equals_tensorflow(keras_env):
    tf = keras_env.tf
    x = pixels((3, 5, 4, 3), seed=24)
    upstream = np.random.default_rng(25).standard_normal(x.shape)
    kwargs = {"brightness_factor": (0.3, 0.3), "contrast_factor": (-0.4, 0.4)}   # clipped
    with keras_env.precision("float64"):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = keras_env.keras.layers.RandomColorJitter(**kwargs)(tensor, training=True)
            total = tf.reduce_sum(out * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        layer = mr.layers.RandomColorJitter(**kwargs)
        layer(x, training=True)
        ours = layer.backward(upstream)
    assert relative_error(ours, theirs) < 1e-12
    # with a saturation step TensorFlow has no gradient, and minired's δx is 0
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        out = keras_env.keras.layers.RandomColorJitter(saturation_factor=0.2, **kwargs)(
            tensor, training=True)
    assert tape.gradient(tf.reduce_sum(out), tensor) is None
    layer = mr.layers.RandomColorJitter(saturation_factor=0.2, **kwargs)
    layer(x, training=True)
    np.testing.assert_array_equal(layer.backward(upstream), np.zeros(x.shape))


def test_jitter_backward_matches_finite_differences(float64):
    rng = np.random.default_rng(26)
    x = rng.uniform(0.1, 0.9, (3, 4, 5, 3))
    layer = mr.layers.RandomColorJitter((0, 1), brightness_factor=0.2, contrast_factor=0.6,
                                        seed=27)
    outputs = layer(x, training=True)
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer.backward(upstream)

    def loss() -> float:
        layer.generator.state[1] = 0                         # the same draws every call
        return float(np.sum(layer.forward(x, training=True) * upstream))

    layer.generator.state[1] = 0
    layer.forward(x, training=True)
    assert relative_error(layer.backward(upstream), analytic) == 0
    assert relative_error(analytic, numerical_gradient(loss, x)) < 1e-7


@pytest.mark.parametrize("kwargs", [{}, {"value_range": (0, 1), "brightness_factor": 0.2,
                                         "contrast_factor": (0.1, 0.5), "hue_factor": 0.3,
                                         "saturation_factor": 0.4, "seed": 2}])
def test_jitter_config_equals_keras(keras_env, kwargs):
    ours = mr.layers.RandomColorJitter(**kwargs, name="j")
    theirs = keras_env.keras.layers.RandomColorJitter(**kwargs, name="j")
    assert ours.get_config() == theirs.get_config()
    assert mr.layers.RandomColorJitter.from_config(theirs.get_config()).get_config() == \
        ours.get_config()
    assert keras_env.keras.layers.RandomColorJitter.from_config(
        ours.get_config()).get_config() == theirs.get_config()


# -- AutoContrast ----------------------------------------------------------------------------

def contrast_images(dtype, value_range=(0, 255)):
    """Pixels with ties at the extremes, and a constant channel in image 1."""
    x = pixels((3, 5, 4, 3), dtype, seed=28, value_range=value_range)
    x[0, 0, 0, 0] = x[0, 1, 1, 0] = x[0, ..., 0].max()
    x[2, 2, 2, 1] = x[2, 3, 3, 1] = x[2, ..., 1].min()
    x[1, ..., 2] = x[1, 0, 0, 2]
    return x


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("value_range", [(0, 255), (-1, 1)])
def test_auto_contrast_equals_keras_also_at_inference(keras_env, value_range, dtype):
    x = contrast_images(dtype, value_range)
    with keras_env.precision(dtype):
        layer = keras_env.keras.layers.AutoContrast(value_range=value_range)
        ours = mr.layers.AutoContrast(value_range=value_range)
        for training in (True, False):
            theirs = np.asarray(layer(keras_env.tf.constant(x), training=training))
            assert relative_error(ours(x, training=training), theirs) < (
                1e-12 if dtype == "float64" else 1e-6)
        model = mr.Sequential([mr.Input((5, 4, 3)), ours])
        np.testing.assert_array_equal(model.predict(x, verbose=0), ours(x))
        np.testing.assert_array_equal(ours(x)[1, ..., 2], x[1, ..., 2])   # constant: kept


@pytest.mark.parametrize("value_range", [(0, 255), (-1, 1)])
def test_auto_contrast_backward_equals_tensorflow(keras_env, value_range):
    tf = keras_env.tf
    x = contrast_images("float64", value_range)
    upstream = np.random.default_rng(29).standard_normal(x.shape)
    with keras_env.precision("float64"):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = keras_env.keras.layers.AutoContrast(value_range=value_range)(tensor)
            total = tf.reduce_sum(out * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        layer = mr.layers.AutoContrast(value_range=value_range)
        layer(x)
        ours = layer.backward(upstream)
    constant = np.zeros(x.shape, bool)
    constant[1, ..., 2] = True
    # TensorFlow: NaN for the constant channel (0·∞ in the branch `where` discards);
    # minired: δa, the derivative of the unchanged channel it returns
    assert np.all(np.isnan(theirs[constant]))
    np.testing.assert_array_equal(ours[constant], upstream[constant])
    assert relative_error(ours[~constant], theirs[~constant]) < 1e-12


def test_auto_contrast_backward_matches_finite_differences(float64):
    rng = np.random.default_rng(30)
    x = rng.uniform(0.1, 0.9, (2, 4, 5, 3))                 # no ties: differentiable
    x[1, ..., 0] = 0.5                                      # a constant channel
    upstream = rng.standard_normal(x.shape)
    layer = mr.layers.AutoContrast(value_range=(0, 1))
    layer(x)
    analytic = layer.backward(upstream)
    x_free = x.copy()

    def loss() -> float:
        # a finite difference of one pixel of the constant channel breaks its constancy:
        # judge that channel apart (δx = δa, as the identity it is)
        return float(np.sum(layer.transform_images(x_free, None) * upstream))

    numeric = numerical_gradient(loss, x_free)
    free = np.ones(x.shape, bool)
    free[1, ..., 0] = False
    assert relative_error(analytic[free], numeric[free]) < 1e-7
    np.testing.assert_array_equal(analytic[~free], upstream[~free])


def test_auto_contrast_config_equals_keras(keras_env):
    for kwargs in ({}, {"value_range": (1, 0)}):
        ours = mr.layers.AutoContrast(**kwargs, name="a")
        theirs = keras_env.keras.layers.AutoContrast(**kwargs, name="a")
        assert ours.get_config() == theirs.get_config()
        assert mr.layers.AutoContrast.from_config(theirs.get_config()).get_config() == \
            ours.get_config()
    with pytest.raises(ValueError, match="value_range"):
        mr.layers.AutoContrast(value_range=(0, 1, 2))
    for name in ("AutoContrast", "Equalization"):          # nothing random: no seed
        with pytest.raises(ValueError, match="seed"):
            getattr(keras_env.keras.layers, name)(seed=1)
        with pytest.raises(ValueError, match="seed"):
            getattr(mr.layers, name)(seed=1)


# -- Equalization ----------------------------------------------------------------------------

def equalization_images(dtype, value_range=(0, 255)):
    """Pixels with a channel constant over the whole batch (channel 2: returned as is)."""
    x = pixels((3, 5, 4, 3), dtype, seed=31, value_range=value_range)
    x[..., 2] = x[0, 0, 0, 2]
    return x


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kwargs", [{}, {"bins": 16}, {"value_range": (-1, 1), "bins": 64}])
def test_equalization_equals_keras(keras_env, kwargs, dtype):
    x = equalization_images(dtype, kwargs.get("value_range", (0, 255)))
    with keras_env.precision(dtype):
        theirs = np.asarray(keras_env.keras.layers.Equalization(**kwargs)(
            keras_env.tf.constant(x), training=True))
        layer = mr.layers.Equalization(**kwargs)
        ours = layer(x, training=True)
        np.testing.assert_array_equal(layer(x, training=False), x)
    assert ours.dtype == np.dtype(dtype)
    assert relative_error(ours, theirs) < (1e-12 if dtype == "float64" else 1e-6)
    # the constant channel comes back through Keras' scaling to [0, 255] and back: exact for
    # the default range; for (-1, 1) rounded at 127.5 (an ulp there is 2/255 of 7.6e-6)
    np.testing.assert_allclose(ours[..., 2], x[..., 2], rtol=0,
                               atol=1e-12 if dtype == "float64" else 1.2e-7)
    # the batch is equalized as a whole: one image alone gives another result
    single = mr.layers.Equalization(**kwargs)(x[:1], training=True)
    assert not np.array_equal(single[..., :2], ours[:1, ..., :2])


def test_equalization_gradient_is_tensorflows(keras_env):
    # none through the lookup (an integer index), δa through the channel kept as it was
    tf = keras_env.tf
    x = equalization_images("float64", (-1, 1))
    upstream = np.random.default_rng(32).standard_normal(x.shape)
    with keras_env.precision("float64"):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = keras_env.keras.layers.Equalization(value_range=(-1, 1))(tensor,
                                                                            training=True)
            total = tf.reduce_sum(out * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        layer = mr.layers.Equalization(value_range=(-1, 1))
        layer(x, training=True)
        ours = layer.backward(upstream)
    assert np.all(ours[..., :2] == 0)
    assert relative_error(ours, theirs) < 1e-12


def test_equalization_config_and_errors(keras_env):
    for kwargs in ({}, {"value_range": (1, 0), "bins": 32}):
        ours = mr.layers.Equalization(**kwargs, name="e")
        theirs = keras_env.keras.layers.Equalization(**kwargs, name="e")
        assert ours.get_config() == theirs.get_config()
        assert mr.layers.Equalization.from_config(theirs.get_config()).get_config() == \
            ours.get_config()
    with pytest.raises(ValueError, match="bins"):
        mr.layers.Equalization(bins=0)
    with pytest.raises(ValueError, match="value_range"):
        mr.layers.Equalization(value_range=5)


# -- RandomErasing and RandomGaussianBlur ----------------------------------------------------

def erasing_transformation(dtype, channels=3):
    masks = np.zeros((3, 5, 4, channels), bool)
    masks[0, 1:3, 0:2] = masks[1, 2:5, 1:4] = masks[2, 0:1, 3:4] = True
    fill = np.random.default_rng(33).uniform(0, 255, (3, 5, 4, channels)).astype(dtype)
    return {"apply_erasing": np.array([True, True, False]), "batch_masks": masks,
            "fill_value": fill}


def blur_transformation(dtype):
    return {"should_apply_blur": np.array([True, False, True]),
            "blur_factor": np.array([0.7, 1.3], dtype)}


BLUR_CASES = [{}, {"kernel_size": 5, "value_range": (20, 200)}, {"kernel_size": (3, 5)}]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_erasing_and_blur_equal_keras_for_the_same_transformation(keras_env, dtype):
    x = pixels((3, 5, 4, 3), dtype, seed=34)
    cases = [("RandomErasing", {}, erasing_transformation(dtype))] + [
        ("RandomGaussianBlur", kwargs, blur_transformation(dtype)) for kwargs in BLUR_CASES]
    with keras_env.precision(dtype):
        for name, kwargs, transformation in cases:
            theirs = keras_transform(keras_env, name, kwargs, x, transformation)
            ours = getattr(mr.layers, name)(**kwargs).transform_images(x, transformation)
            # float32: TensorFlow's depthwise sums and exp, an ulp apart
            assert relative_error(ours, np.asarray(theirs)) < (
                1e-12 if dtype == "float64" else 1e-6), (name, kwargs)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fill_value", [7.0, (10, 300, -5)])
def test_erasing_with_a_fixed_fill_through_the_call(keras_env, fill_value, dtype):
    # factor (1, 1) erases every image; the rectangle is drawn, so it is read from Keras'
    # output and minired's fill of that rectangle must equal Keras' image
    x = pixels((16, 6, 5, 3), dtype, seed=35) * 0 + 100
    with keras_env.precision(dtype):
        theirs = np.asarray(keras_env.keras.layers.RandomErasing(
            factor=(1.0, 1.0), fill_value=fill_value)(keras_env.tf.constant(x)))
        masks = theirs != x
        transformation = {"apply_erasing": np.ones(16, bool), "batch_masks": masks,
                          "fill_value": np.clip(np.broadcast_to(np.asarray(
                              fill_value, dtype), x.shape), 0, 255)}
        ours = mr.layers.RandomErasing(fill_value=fill_value).transform_images(
            x, transformation)
    np.testing.assert_array_equal(ours, theirs)
    assert masks.any(axis=(1, 2, 3)).all()                # every image erased somewhere
    rows, cols = masks.any(axis=(2, 3)), masks.any(axis=(1, 3))
    # rectangles: the erased pixels are exactly the product of their rows and columns
    np.testing.assert_array_equal(masks[..., 0], rows[:, :, None] & cols[:, None, :])


@pytest.mark.parametrize("name,kwargs,make", [
    ("RandomErasing", {}, erasing_transformation),
    *[("RandomGaussianBlur", kwargs, blur_transformation) for kwargs in BLUR_CASES]])
def test_erasing_and_blur_backward_equal_tensorflow(keras_env, name, kwargs, make):
    tf = keras_env.tf
    x = pixels((3, 5, 4, 3), seed=36)
    upstream = np.random.default_rng(37).standard_normal(x.shape)
    transformation = make("float64")
    with keras_env.precision("float64"):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = getattr(keras_env.keras.layers, name)(**kwargs).transform_images(
                tensor, as_tensors(tf, transformation), training=True)
            total = tf.reduce_sum(out * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        _, ours = ours_forward_backward(name, kwargs, x, transformation, upstream)
    assert relative_error(ours, theirs) < 1e-12


@pytest.mark.parametrize("name,kwargs", [
    ("RandomErasing", {"factor": 0.8, "value_range": (0, 1)}),
    ("RandomGaussianBlur", {"factor": 0.8, "value_range": (0, 1)}),
    ("RandomGaussianBlur", {"kernel_size": (5, 3), "sigma": (0.5, 1.0), "value_range": (0, 1)}),
])
def test_erasing_and_blur_backward_match_finite_differences(float64, name, kwargs):
    rng = np.random.default_rng(38)
    x = rng.uniform(0.1, 0.9, (4, 5, 6, 3))
    layer = getattr(mr.layers, name)(**kwargs, seed=39)
    outputs = layer(x, training=True)
    transformation = layer.transformation
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer.backward(upstream)
    numeric = numerical_gradient(
        lambda: float(np.sum(layer.transform_images(x, transformation) * upstream)), x)
    assert relative_error(analytic, numeric) < 1e-7


def test_erasing_draws():
    layer = mr.layers.RandomErasing(factor=(0.2, 0.6), scale=(0.1, 0.5), seed=40)
    n = 4000
    t = layer.get_random_transformation(np.zeros((n, 10, 10, 1), "float32"))
    assert abs(binomial_z(t["apply_erasing"], 0.4)) < 5
    noise = t["fill_value"].ravel()
    # N(0, 1)·255 clipped to [0, 255]: half of it at 0; P(0 < v < 255) = Φ(1) - ½
    assert abs(binomial_z(noise == 0, 0.5)) < 5
    assert abs(binomial_z((noise > 0) & (noise < 255), 0.3413447460685429)) < 5
    # each rectangle side: the rows (columns) of the mask, against ceil-ish counts of
    # sqrt(U[0.1, 0.5))·10: its mean over the images
    rows = t["batch_masks"][..., 0].any(axis=2).sum(axis=1)
    assert rows.min() >= 3 and rows.max() <= 8           # sqrt(0.1)·10 = 3.2, sqrt(0.5)·10 = 7.1


def test_blur_draws():
    layer = mr.layers.RandomGaussianBlur(factor=(0.2, 0.6), sigma=(0.3, 0.9), seed=41)
    applied, sigmas = [], []
    for _ in range(400):
        t = layer.get_random_transformation(np.zeros((50, 1, 1, 1), "float32"))
        applied.append(t["should_apply_blur"])
        sigmas.append(t["blur_factor"])
    assert abs(binomial_z(np.concatenate(applied), 0.4)) < 5
    for label, z in sample_zs(np.ravel(sigmas) - 1e-6, uniform(0.3, 0.9)):
        assert abs(z) < 5, label


@pytest.mark.parametrize("name,kwargs", [
    ("RandomErasing", {}), ("RandomErasing", {"factor": 0.5, "scale": 0.3, "fill_value": 2.0,
                                              "value_range": (0, 1), "seed": 1}),
    ("RandomErasing", {"fill_value": [1, 2, 3]}),
    ("RandomGaussianBlur", {}), ("RandomGaussianBlur", {"factor": (0.2, 0.4),
                                                        "kernel_size": (3, 5), "sigma": 0.5,
                                                        "value_range": (1, 0), "seed": 2}),
])
def test_erasing_and_blur_configs_equal_keras(keras_env, name, kwargs):
    ours = getattr(mr.layers, name)(**kwargs, name="l")
    theirs = getattr(keras_env.keras.layers, name)(**kwargs, name="l")
    assert ours.get_config() == theirs.get_config()
    assert getattr(mr.layers, name).from_config(theirs.get_config()).get_config() == \
        ours.get_config()
    assert getattr(keras_env.keras.layers, name).from_config(
        ours.get_config()).get_config() == theirs.get_config()


@pytest.mark.parametrize("make,message", [
    (lambda: mr.layers.RandomErasing(factor=1.5), "factor"),
    (lambda: mr.layers.RandomErasing(scale=(0.1, 0.2, 0.3)), "scale"),
    (lambda: mr.layers.RandomErasing(fill_value=(1, 2)), "fill_value"),
    (lambda: mr.layers.RandomGaussianBlur(kernel_size=4), "kernel_size"),
    (lambda: mr.layers.RandomGaussianBlur(kernel_size=(3, 3, 3)), "kernel_size"),
    (lambda: mr.layers.RandomGaussianBlur(sigma=2.0), "sigma"),
])
def test_erasing_and_blur_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# -- Pipeline --------------------------------------------------------------------------------

def fixed_pipeline(module):
    layers = module.layers
    return layers.Pipeline([layers.RandomGrayscale(1.0, name="g"),
                            layers.RandomSharpness((0.8, 0.8), name="s"),
                            layers.RandomBrightness((0.1, 0.1), name="b")], name="p")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pipeline_equals_keras_and_backpropagates_as_tensorflow(keras_env, dtype):
    tf = keras_env.tf
    x = pixels((3, 5, 4, 3), dtype, seed=42)
    upstream = np.random.default_rng(43).standard_normal(x.shape).astype(dtype)
    with keras_env.precision(dtype):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = fixed_pipeline(keras_env.keras)(tensor)        # training=True: Keras' default
            total = tf.reduce_sum(out * upstream)
        theirs = tape.gradient(total, tensor).numpy()
        pipeline = fixed_pipeline(mr)
        ours = pipeline(x)
        grad = pipeline.backward(upstream)
        np.testing.assert_array_equal(pipeline(x, training=False), x)
    bound = 1e-12 if dtype == "float64" else 1e-6        # float32: the sharpening's sums
    assert relative_error(ours, np.asarray(out)) < bound
    assert relative_error(grad, theirs) < bound


def test_pipeline_config_equals_keras_and_loads_both_ways(keras_env):
    keras = keras_env.keras
    ours, theirs = fixed_pipeline(mr), fixed_pipeline(keras)
    # as JSON: minired serializes the factor tuples as the lists a file holds
    assert as_json(ours.get_config()) == as_json(theirs.get_config())
    again = mr.layers.Pipeline.from_config(theirs.get_config())
    assert [type(layer).__name__ for layer in again.layers] == [
        "RandomGrayscale", "RandomSharpness", "RandomBrightness"]
    assert again.get_config() == ours.get_config()
    assert as_json(keras.layers.Pipeline.from_config(ours.get_config()).get_config()) == \
        as_json(theirs.get_config())


def as_json(config: dict) -> dict:
    import json

    return json.loads(json.dumps(config))


def test_pipeline_errors():
    with pytest.raises(TypeError, match="layers"):
        mr.layers.Pipeline("RandomFlip")
    flip = mr.layers.RandomFlip()
    with pytest.raises(ValueError, match="once"):
        mr.layers.Pipeline([flip, flip])
    with pytest.raises(ValueError, match="layers"):
        mr.layers.Pipeline.from_config({"name": "p"})


def all_new_layers(module):
    layers = module.layers
    return module.Sequential([
        module.Input((6, 6, 3)),
        layers.Pipeline([layers.RandomGrayscale(0.2), layers.RandomHue(0.1)]),
        layers.RandomSaturation(0.3), layers.RandomColorDegeneration(0.2),
        layers.RandomSharpness(0.3), layers.RandomInvert(0.1), layers.RandomPosterization(6),
        layers.Solarization(), layers.RandomShear((0.0, 0.2), (0.1, 0.1)),
        layers.RandomColorJitter(brightness_factor=0.1, saturation_factor=(0.4, 0.6)),
        layers.AutoContrast(), layers.RandomErasing(),
        layers.RandomGaussianBlur(), layers.RandAugment(num_ops=3), layers.MixUp(),
        layers.CutMix(), layers.RandomPerspective(),
        layers.Flatten(), layers.Dense(2, activation="softmax"),
    ])


def test_every_new_layer_cross_loads(tmp_path, keras_env):
    # every new layer but Equalization (see below) in one model, both ways: the same
    # classes, configs and build configs; predict (the identity but for AutoContrast, which
    # applies at inference) the same
    import json
    import zipfile

    round_trip(all_new_layers, tmp_path, keras_env.keras)

    def saved(path):
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))["config"]["layers"][1:]

    for ours, theirs in zip(saved(tmp_path / "m.keras"), saved(tmp_path / "k.keras"),
                            strict=True):
        assert ours["class_name"] == theirs["class_name"]
        assert ours["build_config"] == theirs["build_config"], ours["class_name"]
        theirs["config"].pop("name"), ours["config"].pop("name")
        if ours["class_name"] == "Pipeline":
            for layer in ours["config"]["layers"] + theirs["config"]["layers"]:
                layer["config"].pop("name")
        assert ours["config"] == theirs["config"], ours["class_name"]


def test_keras_cannot_reload_equalization_but_minired_can(tmp_path, keras_env):
    # Keras 3.15's Equalization.compute_output_spec returns its input tensor itself, so a
    # functional graph through it is "part of a cycle": Keras cannot load its own .keras
    # file of a model with one (the Sequential builds, the reload fails). minired loads it.
    keras = keras_env.keras
    theirs = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Equalization(bins=64),
                               keras.layers.Flatten()])
    theirs.save(tmp_path / "k.keras")
    with pytest.raises(ValueError, match="cycle"):
        keras.saving.load_model(tmp_path / "k.keras")
    model = mr.models.load_model(tmp_path / "k.keras")
    assert model.layers[0].get_config() == theirs.layers[0].get_config()
    x = pixels((2, 4, 4, 3), "float32", seed=44)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x.reshape(2, -1))


# -- RandAugment -----------------------------------------------------------------------------

#: The operations whose transformation minired's layer takes from Keras' (the other four,
#: RandomTranslation, RandomRotation, RandomBrightness and RandomContrast, predate the
#: two-step interface and are compared in test_augmentation.py).
TRANSFORMABLE = ("random_shear", "random_color_degeneration", "random_sharpness",
                 "random_posterization", "solarization", "auto_contrast", "equalization")


def keras_transformation_as_numpy(value):
    if isinstance(value, dict):
        return {key: np.asarray(v) for key, v in value.items() if key != "input_shape"}
    return None if value is None else np.asarray(value)


@pytest.mark.parametrize("picks", [("random_shear", "solarization"),
                                   ("random_sharpness", "random_sharpness"),
                                   ("random_color_degeneration", "auto_contrast"),
                                   ("random_posterization", "equalization")])
def test_rand_augment_applies_the_picked_operations_as_keras(keras_env, picks):
    # Keras draws one transformation per operation and applies the picked ones in turn
    # (a repeated one twice with the same parameters): handed Keras' draws, minired's
    # operations give Keras' images
    from minired.layers.preprocessing.rand_augment import AUGMENT_LAYERS

    # float32: Keras' RandAugment fails in float64 on TensorFlow (a float32 draw times a
    # float64 tensor inside one of its operations)
    tf = keras_env.tf
    x = pixels((3, 6, 6, 3), "float32", seed=45)
    with keras_env.precision("float32"):
        theirs_layer = keras_env.keras.layers.RandAugment(factor=(0.25, 0.625))
        transformation = theirs_layer.get_random_transformation(tf.constant(x))
        transformation["layer_idxes"] = tf.constant([AUGMENT_LAYERS.index(p) for p in picks])
        theirs = np.asarray(theirs_layer.transform_images(tf.constant(x), transformation))
        ours_layer = mr.layers.RandAugment(factor=(0.25, 0.625))
        ours = x
        for name in picks:
            value = keras_transformation_as_numpy(transformation["transforms"][name])
            ours = getattr(ours_layer, name).transform_images(ours, value)
    assert ours.dtype == np.float32
    assert relative_error(ours, theirs) < 1e-6          # float32: an ulp or two


def test_rand_augment_operations_are_keras(keras_env):
    from minired.layers.preprocessing.rand_augment import AUGMENT_LAYERS

    kwargs = {"value_range": (0, 1), "factor": 0.3, "interpolation": "nearest", "seed": 5}
    ours = mr.layers.RandAugment(**kwargs, name="r")
    theirs = keras_env.keras.layers.RandAugment(**kwargs, name="r")
    assert ours.get_config() == theirs.get_config()
    for name in AUGMENT_LAYERS:
        a, b = getattr(ours, name).get_config(), getattr(theirs, name).get_config()
        a.pop("name"), b.pop("name")
        assert as_json(a) == as_json(b), name
    assert mr.layers.RandAugment.from_config(theirs.get_config()).get_config() == \
        ours.get_config()


def test_rand_augment_picks_uniformly_and_repeats_draws():
    layer = mr.layers.RandAugment(num_ops=3, seed=46)
    x = pixels((1, 4, 4, 3), "float32", seed=47)
    picks = []
    for _ in range(1500):
        layer(x, training=True)
        picks += layer.last_operations
    picks = np.array(picks)
    for name in set(picks):
        assert abs(binomial_z(picks == name, 1 / 11)) < 5, name
    assert len(set(picks)) == 11
    # a repeated operation: applied twice with the same parameters
    layer = mr.layers.RandAugment(num_ops=2, seed=5, value_range=(0, 1))      # solarization ×2
    x = np.random.default_rng(48).uniform(0.1, 0.9, (2, 5, 6, 3))
    out = layer(x, training=True)
    assert layer.last_operations == ["solarization", "solarization"]
    t = layer.solarization.transformation
    twice = layer.solarization.transform_images(layer.solarization.transform_images(x, t), t)
    np.testing.assert_array_equal(out, twice.astype("float32"))


@pytest.mark.parametrize("seed,expected", [
    (3, ["random_shear", "random_rotation"]), (6, ["random_contrast", "random_brightness"]),
    (7, ["random_sharpness", "auto_contrast"]), (11, ["random_translation", "random_contrast"]),
])
def test_rand_augment_backward_matches_finite_differences(float64, seed, expected):
    rng = np.random.default_rng(49)
    x = rng.uniform(0.1, 0.9, (2, 5, 6, 3))
    layer = mr.layers.RandAugment(num_ops=2, seed=seed, value_range=(0, 1))
    start = layer.generator.state.copy()

    def forward():
        layer.generator.state[:] = start          # the same picks and draws at every call
        return layer.forward(x, training=True)

    outputs = forward()
    assert layer.last_operations == expected
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer.backward(upstream)
    numeric = numerical_gradient(lambda: float(np.sum(forward() * upstream)), x)
    assert relative_error(analytic, numeric) < 1e-7


def test_rand_augment_errors():
    with pytest.raises(ValueError, match="factor"):
        mr.layers.RandAugment(factor=1.5)
    with pytest.raises(ValueError, match="num_ops"):
        mr.layers.RandAugment(num_ops=-1)


# -- MixUp and CutMix ------------------------------------------------------------------------

def mix_transformations(dtype):
    masks = np.zeros((3, 5, 4, 3), bool)
    masks[0, 1:4, 0:2] = masks[1, 0:2, 1:4] = True
    return [("MixUp", {}, {"mix_weight": np.array([0.9, 0.3, 0.05], dtype),
                          "permutation_order": np.array([2, 0, 1])}),
            ("MixUp", {}, {"mix_weight": np.array([0.6, 0.2, 0.7], dtype),
                          "permutation_order": np.array([0, 2, 1])}),
            ("CutMix", {}, {"permutation_order": np.array([1, 2, 0]), "batch_masks": masks,
                            "mix_weight": np.array([0.7, 0.5, 1.0], dtype)})]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mix_up_and_cut_mix_equal_keras_and_backpropagate_as_tensorflow(keras_env, dtype):
    tf = keras_env.tf
    x = pixels((3, 5, 4, 3), dtype, seed=50)
    upstream = np.random.default_rng(51).standard_normal(x.shape).astype(dtype)
    with keras_env.precision(dtype):
        for name, kwargs, transformation in mix_transformations(dtype):
            tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(tensor)
                out = getattr(keras_env.keras.layers, name)(**kwargs).transform_images(
                    tensor, as_tensors(tf, transformation), training=True)
                total = tf.reduce_sum(out * upstream)
            theirs = tape.gradient(total, tensor).numpy()
            ours, grad = ours_forward_backward(name, kwargs, x, transformation, upstream)
            bound = 1e-12 if dtype == "float64" else 1e-6
            assert relative_error(ours, np.asarray(out)) < bound
            assert relative_error(grad, theirs) < bound


def test_mix_up_and_cut_mix_backward_match_finite_differences(float64):
    rng = np.random.default_rng(52)
    x = rng.uniform(0.1, 0.9, (5, 6, 7, 2))
    for layer in (mr.layers.MixUp(alpha=0.7, seed=53), mr.layers.CutMix(seed=54)):
        outputs = layer(x, training=True)
        transformation = layer.transformation
        upstream = rng.standard_normal(outputs.shape)
        analytic = layer.backward(upstream)
        numeric = numerical_gradient(
            lambda layer=layer, t=transformation, u=upstream: float(
                np.sum(layer.transform_images(x, t) * u)), x)
        assert relative_error(analytic, numeric) < 1e-7


def test_mix_up_and_cut_mix_draws():
    n = 20_000
    images = np.zeros((n, 8, 8, 1), "float32")
    t = mr.layers.MixUp(alpha=0.4, seed=55).get_random_transformation(images)
    np.testing.assert_array_equal(np.sort(t["permutation_order"]), np.arange(n))
    a = 0.4                                   # Beta(a, a): mean ½, variance 1/(4(2a + 1))
    assert abs(mean_z(t["mix_weight"], 0.5, 1 / (4 * (2 * a + 1)))) < 5
    t = mr.layers.CutMix(factor=(0.5, 0.5), seed=56).get_random_transformation(images)
    np.testing.assert_array_equal(np.sort(t["permutation_order"]), np.arange(n))
    a = 0.5 + 1e-6                            # the box's area is 1 - λ, λ ~ Beta(a, a)
    assert abs(mean_z(t["mix_weight"], 0.5, 1 / (4 * (2 * a + 1)))) < 5
    masks = t["batch_masks"][..., 0]
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    np.testing.assert_array_equal(masks, rows[:, :, None] & cols[:, None, :])   # rectangles


def test_cut_mix_leaves_a_single_image_as_keras(keras_env):
    x = pixels((5, 4, 3), "float32", seed=57)
    np.testing.assert_array_equal(mr.layers.CutMix()(x, training=True), x)
    np.testing.assert_array_equal(np.asarray(keras_env.keras.layers.CutMix()(x)), x)


@pytest.mark.parametrize("name,kwargs", [("MixUp", {}), ("MixUp", {"alpha": 0.5, "seed": 3}),
                                         ("CutMix", {}), ("CutMix", {"factor": (0.2, 0.6)})])
def test_mix_up_and_cut_mix_configs_equal_keras(keras_env, name, kwargs):
    ours = getattr(mr.layers, name)(**kwargs, name="m")
    theirs = getattr(keras_env.keras.layers, name)(**kwargs, name="m")
    assert ours.get_config() == theirs.get_config()
    assert getattr(mr.layers, name).from_config(theirs.get_config()).get_config() == \
        ours.get_config()
    assert getattr(keras_env.keras.layers, name).from_config(
        ours.get_config()).get_config() == theirs.get_config()


def test_mix_up_and_cut_mix_errors():
    with pytest.raises(ValueError, match="alpha"):
        mr.layers.MixUp(alpha=0)
    with pytest.raises(ValueError, match="factor"):
        mr.layers.CutMix(factor=1.5)


# -- RandomPerspective -----------------------------------------------------------------------

def perspective_transformation(keras_env, x, kwargs):
    """Keras' own draws (two images warped, one kept)."""
    layer = keras_env.keras.layers.RandomPerspective(**kwargs)
    t = layer.get_random_transformation(keras_env.tf.constant(x))
    t["apply_perspective"] = keras_env.tf.constant([True, True, False])
    return layer, t, {k: np.asarray(v) for k, v in t.items() if k != "input_shape"}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_perspective_equals_keras_for_its_draws(keras_env, interpolation, dtype):
    x = pixels((3, 7, 6, 3), dtype, seed=58)
    kwargs = {"scale": 0.6, "interpolation": interpolation, "fill_value": 3.0}
    with keras_env.precision(dtype):
        layer, t, ours_t = perspective_transformation(keras_env, x, kwargs)
        theirs = np.asarray(layer.transform_images(keras_env.tf.constant(x), t))
        ours = mr.layers.RandomPerspective(**kwargs).transform_images(x, ours_t)
    # Keras solves the homography and samples in float32 whatever the dtype: measured
    # 6.6e-7 of the largest pixel (bilinear); the nearest reads are the same pixels
    assert relative_error(ours, theirs) < (1e-12 if interpolation == "nearest" else 2e-6)


def test_perspective_of_a_dyadic_warp_equals_keras_in_float64(keras_env):
    x = pixels((1, 5, 5, 2), seed=59)
    corners = np.array([[[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]]])
    t = {"apply_perspective": np.array([True]), "start_points": corners,
         "end_points": corners * np.array([[[1.0, 1.0], [2.0, 1.0], [1.0, 0.5], [2.0, 0.5]]])}
    with keras_env.precision("float64"):
        theirs = keras_env.keras.layers.RandomPerspective(fill_value=3.0).transform_images(
            keras_env.tf.constant(x), as_tensors(keras_env.tf, t))
        ours = mr.layers.RandomPerspective(fill_value=3.0).transform_images(x, t)
    assert relative_error(ours, np.asarray(theirs)) < 1e-12      # x/2, 2y: exact in float32


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_perspective_backward_matches_finite_differences(float64, interpolation):
    rng = np.random.default_rng(60)
    x = rng.uniform(0.1, 0.9, (4, 6, 5, 2))
    layer = mr.layers.RandomPerspective(factor=0.8, scale=0.7, interpolation=interpolation,
                                        fill_value=2.0, seed=61)
    outputs = layer(x, training=True)
    t = layer.transformation
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer.backward(upstream)
    numeric = numerical_gradient(
        lambda: float(np.sum(layer.transform_images(x, t) * upstream)), x)
    assert relative_error(analytic, numeric) < 1e-7


def test_perspective_draws():
    n = 20_000
    t = mr.layers.RandomPerspective(factor=(0.2, 0.6), scale=0.4, seed=62
                                    ).get_random_transformation(np.zeros((n, 5, 9, 1), "float32"))
    assert abs(binomial_z(t["apply_perspective"], 0.4)) < 5
    moves = (t["end_points"] - t["start_points"])[:, 3] / np.array([8.0, 4.0])  # the far corner
    for label, z in sample_zs(moves.ravel(), uniform(-0.2, 0.2)):
        assert abs(z) < 5, label
    np.testing.assert_array_equal(t["end_points"][:, 0], 0.0)     # the top-left corner stays


@pytest.mark.parametrize("kwargs", [{}, {"factor": (0.2, 0.5), "scale": 0.3,
                                         "interpolation": "nearest", "fill_value": 1.0,
                                         "seed": 3}])
def test_perspective_config_equals_keras(keras_env, kwargs):
    ours = mr.layers.RandomPerspective(**kwargs, name="p")
    theirs = keras_env.keras.layers.RandomPerspective(**kwargs, name="p")
    assert ours.get_config() == theirs.get_config()
    assert mr.layers.RandomPerspective.from_config(theirs.get_config()).get_config() == \
        ours.get_config()
    assert keras_env.keras.layers.RandomPerspective.from_config(
        ours.get_config()).get_config() == theirs.get_config()


def test_perspective_errors():
    with pytest.raises(ValueError, match="scale"):
        mr.layers.RandomPerspective(scale=1.5)
    with pytest.raises(ValueError, match="factor"):
        mr.layers.RandomPerspective(factor=-0.5)
    with pytest.raises(NotImplementedError, match="interpolation"):
        mr.layers.RandomPerspective(interpolation="bicubic")
