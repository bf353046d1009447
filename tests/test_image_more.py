"""Keras 3's image pieces added last: ``ops.image.elastic_transform`` and
RandomElasticTransform, AugMix, ContrastLimitedAdaptiveHistogramEqualization (CLAHE) and
MaxNumBoundingBoxes.

- the elastic transform against Keras for the **same noise** (TensorFlow's
  ``stateless_normal`` and minired's ``draw_noise`` both replaced by one fixed array), its
  outputs and its gradient (TensorFlow's tape), and by finite differences (float64);
- RandomElasticTransform and AugMix in Keras' two steps: the same transformation gives
  Keras' images and δx; a training call whose draws are fixed gives Keras' images; the
  draws' statistics (5 standard errors);
- CLAHE (deterministic, applied at inference too): bit for bit Keras', no gradient;
- MaxNumBoundingBoxes: Keras' boxes and labels, cut or padded;
- configs equal to Keras' both ways, ``.keras`` files cross-loading, and the errors.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import minired as mr
import minired.ops.image_elastic as image_elastic
from comparisons.sampling import binomial_z, mean_z, sample_zs, uniform
from minired.autodiff.tape import GradientTape
from minired.gradcheck import numerical_gradient, relative_error


@pytest.fixture
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def pixels(shape, dtype="float64", seed=0, value_range=(0, 255)) -> np.ndarray:
    """Integer pixel values in [0, 255], scaled to ``value_range``."""
    p = np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)
    low, high = value_range
    return (p / 255 * (high - low) + low).astype(dtype)


def fixed_noise(monkeypatch, keras_env, noise: np.ndarray) -> None:
    """Both libraries draw ``noise`` as their standard normal field (TensorFlow draws it
    twice, from one seed: the same array both times)."""
    tf = keras_env.tf
    monkeypatch.setattr(tf.random, "stateless_normal",
                        lambda shape, **kwargs: tf.constant(noise))
    monkeypatch.setattr(image_elastic, "draw_noise", lambda shape, dtype, seed: noise)


# -- ops.image.elastic_transform -------------------------------------------------------------

ELASTIC_SETTINGS = [(interpolation, fill_mode) for interpolation in ("bilinear", "nearest")
                    for fill_mode in ("reflect", "constant", "nearest", "wrap")]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("interpolation,fill_mode", ELASTIC_SETTINGS)
def test_elastic_transform_equals_keras_for_the_same_noise(keras_env, monkeypatch, dtype,
                                                           interpolation, fill_mode):
    tf = keras_env.tf
    rng = np.random.default_rng(1)
    x = pixels((2, 9, 11, 3), dtype, seed=2)
    noise = rng.standard_normal((2, 9, 11)).astype(dtype)
    upstream = rng.standard_normal(x.shape).astype(dtype)
    fixed_noise(monkeypatch, keras_env, noise)
    kwargs = {"alpha": 3.0, "sigma": 1.5, "interpolation": interpolation,
              "fill_mode": fill_mode, "fill_value": 7.0, "seed": 1}
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        theirs = keras_env.keras.ops.image.elastic_transform(tensor, **kwargs)
        total = tf.reduce_sum(theirs * upstream)
    with GradientTape() as our_tape:
        watched = our_tape.watch(x)
        ours = mr.ops.image.elastic_transform(watched, **kwargs)
        our_total = mr.ops.sum(ours * upstream)
    grad = our_tape.gradient(our_total, watched)
    assert np.asarray(ours).dtype == np.dtype(dtype)
    # float32: TensorFlow sums the 4 corners in another order: an ulp or two
    tolerance = 1e-13 if dtype == "float64" else 1e-6
    assert relative_error(ours, theirs.numpy()) < tolerance
    assert relative_error(grad, tape.gradient(total, tensor).numpy()) < tolerance


def test_elastic_transform_of_one_image_and_its_seeds():
    x = pixels((7, 8, 2), seed=3)
    same = mr.ops.image.elastic_transform(x, seed=4)
    assert same.shape == x.shape
    np.testing.assert_array_equal(mr.ops.image.elastic_transform(x, seed=4), same)
    generator = mr.random.SeedGenerator(5)
    first = mr.ops.image.elastic_transform(x, sigma=1.0, seed=generator)
    assert not np.array_equal(first, mr.ops.image.elastic_transform(x, sigma=1.0,
                                                                     seed=generator))
    np.testing.assert_array_equal(mr.ops.image.elastic_transform(x, alpha=0.0), x)


def test_elastic_fields_are_one_blurred_draw_for_both_directions(float64):
    # TensorFlow draws both fields from one seed: every pixel moves along the diagonal, by
    # d = G_σ ⋆ (σ·u) (σ = 1: a 7-tap Gaussian; nearest-neighbour reads show the move)
    noise = np.random.default_rng(6).standard_normal((1, 6, 6))
    d = image_elastic.displacement(noise, 1.0)
    kernel = np.exp(-0.5 * np.arange(-3.0, 4.0) ** 2)
    kernel = np.outer(kernel, kernel) / kernel.sum() ** 2
    padded = np.pad(noise[0], 3)
    expected = np.array([[np.sum(kernel * padded[i:i + 7, j:j + 7]) for j in range(6)]
                         for i in range(6)])
    assert relative_error(d[0], expected) < 1e-14
    plan = image_elastic.elastic_sampling(noise, 2.0, 1.0, "nearest", "nearest")
    rows, cols = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    move = np.round(2.0 * d[0]).astype(int)                   # the same move down and right
    np.testing.assert_array_equal(plan.rows[0, 0], np.clip(rows + move, 0, 5))
    np.testing.assert_array_equal(plan.cols[0, 0], np.clip(cols + move, 0, 5))
    assert np.any(move != 0)


@pytest.mark.parametrize("fill_mode", ["reflect", "constant"])
def test_elastic_transform_gradient_matches_finite_differences(float64, fill_mode):
    rng = np.random.default_rng(7)
    x = rng.uniform(0.0, 1.0, (2, 5, 6, 2))
    upstream = rng.standard_normal(x.shape)

    def loss():
        out = mr.ops.image.elastic_transform(x, alpha=4.0, sigma=1.0, fill_mode=fill_mode,
                                             fill_value=0.5, seed=8)
        return float(np.sum(np.asarray(out) * upstream))

    with GradientTape() as tape:
        watched = tape.watch(x.copy())
        total = mr.ops.sum(mr.ops.image.elastic_transform(
            watched, alpha=4.0, sigma=1.0, fill_mode=fill_mode, fill_value=0.5,
            seed=8) * upstream)
    assert relative_error(tape.gradient(total, watched), numerical_gradient(loss, x)) < 1e-8


@pytest.mark.parametrize("kwargs,error,message", [
    ({"interpolation": "cubic"}, ValueError, "interpolation"),
    ({"fill_mode": "mirror"}, ValueError, "fill_mode"),
    ({"data_format": "channels_first"}, ValueError, "channels_last"),
])
def test_elastic_transform_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        mr.ops.image.elastic_transform(np.zeros((4, 4, 1)), **kwargs)
    with pytest.raises(ValueError, match="rank"):
        mr.ops.image.elastic_transform(np.zeros((4, 4)))
    with pytest.raises(TypeError, match="floating point"):
        mr.ops.image.elastic_transform(np.zeros((4, 4, 1), dtype="int32"))


# -- RandomElasticTransform ------------------------------------------------------------------

ELASTIC_LAYER_CASES = [
    {},
    {"interpolation": "nearest", "fill_mode": "constant", "fill_value": 9.0},
    {"fill_mode": "wrap", "value_range": (20, 230)},          # clipped
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kwargs", ELASTIC_LAYER_CASES)
def test_elastic_layer_equals_keras_for_the_same_transformation(keras_env, monkeypatch,
                                                                 dtype, kwargs):
    tf = keras_env.tf
    rng = np.random.default_rng(9)
    x = pixels((3, 30, 32, 2), dtype, seed=10)          # σ = 30·0.05·0.7 ≥ 1: blurred
    fixed_noise(monkeypatch, keras_env, rng.standard_normal((3, 30, 32)).astype(dtype))
    upstream = rng.standard_normal(x.shape).astype(dtype)
    apply, factor = np.array([True, False, True]), np.asarray(0.7, dtype)
    with keras_env.precision(dtype):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            theirs = keras_env.keras.layers.RandomElasticTransform(**kwargs).transform_images(
                tensor, {"apply_transform": tf.constant(apply),
                         "distortion_factor": tf.constant(factor), "seed": 1})
            total = tf.reduce_sum(theirs * upstream)
        layer = mr.layers.RandomElasticTransform(**kwargs)
        ours, state = layer._apply(x, {"apply_transform": apply, "distortion_factor": factor,
                                       "seed": 1})
    assert ours.dtype == np.dtype(dtype)
    # float32: the 7 × 7 blur of the field sums in another order than TensorFlow's, so a
    # read position (up to 32) can move by an ulp, ~4e-6 pixel, and the bilinear read by
    # that times the step between neighbours (up to 255): ~1e-6 of the range
    tolerance = 1e-13 if dtype == "float64" else 1e-5
    assert relative_error(ours, theirs.numpy()) < tolerance
    assert relative_error(layer._augment_backward(upstream, state),
                          tape.gradient(total, tensor).numpy()) < tolerance
    low, high = kwargs.get("value_range", (0, 255))
    np.testing.assert_array_equal(ours[1], np.clip(x[1], low, high))   # not applied: clipped


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_elastic_layer_with_fixed_draws_equals_keras_through_the_call(keras_env, monkeypatch,
                                                                      dtype):
    # factor (1, 1): every image deformed; scale (0.6, 0.6): one distortion
    x = pixels((2, 10, 10, 3), dtype, seed=11)
    fixed_noise(monkeypatch, keras_env,
                np.random.default_rng(12).standard_normal((2, 10, 10)).astype(dtype))
    kwargs = {"factor": (1.0, 1.0), "scale": (0.6, 0.6)}
    with keras_env.precision(dtype):
        theirs = keras_env.keras.layers.RandomElasticTransform(**kwargs)(x, training=True)
        ours = mr.layers.RandomElasticTransform(**kwargs)(x, training=True)
    assert relative_error(ours, np.asarray(theirs)) < (1e-13 if dtype == "float64" else 1e-6)
    assert not np.allclose(ours, x)


def test_elastic_layer_inference_seeds_and_zero_factors():
    x = pixels((4, 9, 8, 3), "float32", seed=13)
    layer = mr.layers.RandomElasticTransform(seed=14)
    np.testing.assert_array_equal(layer(x, training=False), x)
    model = mr.Sequential([mr.Input((9, 8, 3)), mr.layers.RandomElasticTransform()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    first, second = layer(x, training=True), layer(x, training=True)
    assert first.dtype == np.float32 and not np.array_equal(first, second)
    np.testing.assert_array_equal(mr.layers.RandomElasticTransform(seed=14)(x, training=True),
                                  first)
    assert mr.layers.RandomElasticTransform(seed=14)(x[0], training=True).shape == x.shape[1:]
    for kwargs in ({"factor": 0.0}, {"scale": 0.0}):        # Keras: no transformation at all
        layer = mr.layers.RandomElasticTransform(**kwargs)
        assert layer.get_random_transformation(x) is None
        np.testing.assert_array_equal(layer(x, training=True), x)
        np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


@pytest.mark.parametrize("single", [False, True])
def test_elastic_layer_backward_matches_finite_differences(float64, single):
    rng = np.random.default_rng(15)
    x = rng.uniform(0.1, 0.9, (1, 8, 9, 2) if single else (4, 8, 9, 2))
    x = x[0] if single else x
    layer = mr.layers.RandomElasticTransform(factor=(0.5, 1.0), value_range=(0.2, 0.8),
                                             fill_mode="constant", fill_value=0.5, seed=16)
    outputs = layer(x, training=True)
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer.backward(upstream)
    noise_state = layer.generator.state - [0, 1]        # the state the noise was drawn with

    def loss():
        generator = mr.random.SeedGenerator(0)
        generator.state[...] = noise_state
        transformation = {**layer.transformation, "seed": generator}
        return float(np.sum(layer.transform_images(x, transformation) * upstream))

    assert relative_error(analytic, numerical_gradient(loss, x)) < 1e-7


N = 20_000


def test_elastic_layer_draws():
    layer = mr.layers.RandomElasticTransform(factor=(0.2, 0.6), scale=(0.3, 0.9), seed=17)
    t = layer.get_random_transformation(np.zeros((N, 1, 1, 1), "float32"))
    assert abs(binomial_z(t["apply_transform"], 0.4)) < 5        # E[U[0.2, 0.6)] = 0.4
    factors = [layer.get_random_transformation(np.zeros((1, 1, 1, 1)))["distortion_factor"]
               for _ in range(2000)]
    for statistic, z in sample_zs(np.array(factors), uniform(0.3, 0.9)):
        assert abs(z) < 5, statistic


# -- AugMix ----------------------------------------------------------------------------------

#: Chains of operations with Keras' two steps in minired (an empty chain: the images).
AUG_MIX_CHAINS = [["solarization", "random_shear", "equalization"],
                  ["auto_contrast", "random_color_degeneration"],
                  ["random_sharpness", "random_posterization", "solarization"], []]


def keras_transformation_as_numpy(value):
    if isinstance(value, dict):
        return {key: np.asarray(v) for key, v in value.items() if key != "input_shape"}
    return None if value is None else np.asarray(value)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("value_range", [(0, 255), (0, 1)])
def test_aug_mix_equals_keras_for_the_same_transformation(keras_env, dtype, value_range):
    tf = keras_env.tf
    x = pixels((3, 6, 7, 3), dtype, seed=18, value_range=value_range)
    upstream = np.random.default_rng(19).standard_normal(x.shape).astype(dtype)
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    with keras_env.precision(dtype):
        theirs_layer = keras_env.keras.layers.AugMix(value_range, num_chains=4,
                                                     factor=(0.2, 0.6))
        tensor = tf.constant(x)
        chains = [[{"layer_name": name, "transformation":
                    getattr(theirs_layer, name).get_random_transformation(tensor)}
                   for name in chain] for chain in AUG_MIX_CHAINS]
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            theirs = theirs_layer.transform_images(tensor, {
                "chain_mixing_weights": tf.constant(weights.astype(dtype)),
                "weight_sample": tf.constant(np.asarray(0.35, dtype)),
                "chain_transforms": chains}, training=True)
            total = tf.reduce_sum(theirs * upstream)
        layer = mr.layers.AugMix(value_range, num_chains=4, factor=(0.2, 0.6))
        ours, state = layer._apply(x, {
            "chain_mixing_weights": weights, "weight_sample": 0.35,
            "chain_transforms": [[{**step, "transformation": keras_transformation_as_numpy(
                step["transformation"])} for step in chain] for chain in chains]})
    assert ours.dtype == np.dtype(dtype)
    tolerance = 1e-12 if dtype == "float64" else 1e-6        # float32: an ulp or two
    assert relative_error(ours, theirs.numpy()) < tolerance
    assert relative_error(layer._augment_backward(upstream, state),
                          tape.gradient(total, tensor).numpy()) < tolerance


def test_aug_mix_inference_seeds_and_records():
    x = pixels((3, 6, 6, 3), "float32", seed=20)
    layer = mr.layers.AugMix(seed=21)
    np.testing.assert_array_equal(layer(x, training=False), x)
    first = layer(x, training=True)
    assert first.dtype == np.float32 and not np.array_equal(first, x)
    again = mr.layers.AugMix(seed=21)
    np.testing.assert_array_equal(again(x, training=True), first)
    t = again.transformation
    assert len(t["chain_transforms"]) == 3 and abs(float(np.sum(
        t["chain_mixing_weights"])) - 1) < 1e-6
    assert all(step["layer_name"] in mr.layers.preprocessing.aug_mix.AUGMENT_LAYERS_ALL
               for chain in t["chain_transforms"] for step in chain)
    # chain depth 0: m·x + (1 - m)·x·Σw = x
    np.testing.assert_allclose(mr.layers.AugMix(chain_depth=0)(x, training=True), x,
                               rtol=1e-6)
    assert mr.layers.AugMix(seed=21)(x[0], training=True).shape == x.shape[1:]


@pytest.mark.parametrize("seed", [22, 23, 24])
def test_aug_mix_backward_matches_finite_differences(float64, seed):
    # the same draws for every evaluation: the generator's state put back each time
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 0.9, (3, 5, 6, 3))
    layer = mr.layers.AugMix(value_range=(0, 1), factor=(0.1, 0.5), seed=seed)
    layer.build(x.shape)
    start = layer.generator.state.copy()
    outputs, state = layer._augment(x)
    upstream = rng.standard_normal(outputs.shape)
    analytic = layer._augment_backward(upstream, state)

    def loss():
        layer.generator.state[...] = start
        return float(np.sum(layer._augment(x)[0] * upstream))

    assert relative_error(analytic, numerical_gradient(loss, x)) < 1e-7


def test_aug_mix_draws():
    layer = mr.layers.AugMix(num_chains=3, seed=25)
    weights, mixing = zip(*(layer._mixing_weights() for _ in range(4000)), strict=True)
    weights = np.array(weights)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    for i in range(3):                 # Dirichlet(1, 1, 1): mean 1/3, variance 1/18
        assert abs(mean_z(weights[:, i], 1 / 3, 1 / 18)) < 5
    for statistic, z in sample_zs(np.array(mixing), uniform(0.0, 1.0)):   # Beta(1, 1)
        assert abs(z) < 5, statistic
    names = [*layer.augment_layers, None]
    counts = dict.fromkeys(names, 0)
    x = np.zeros((1, 2, 2, 3), "float32")
    for _ in range(300):
        layer(x, training=True)
        steps = sum(len(chain) for chain in layer.transformation["chain_transforms"])
        counts[None] += 9 - steps
        for chain in layer.transformation["chain_transforms"]:
            for step in chain:
                counts[step["layer_name"]] += 1
    for name, count in counts.items():                   # each of the 12 choices: 1/12
        assert abs(binomial_z(np.arange(2700) < count, 1 / 12)) < 5, name


# -- ContrastLimitedAdaptiveHistogramEqualization --------------------------------------------

CLAHE_CASES = [
    {"tile_grid_size": (3, 4)},                               # padded by mirroring
    {"tile_grid_size": (2, 2), "clip_limit": 0.0},            # no clipping
    {"tile_grid_size": (4, 3), "clip_limit": 2.0, "value_range": (0, 1)},
    {"tile_grid_size": (1, 1)},
    {"value_range": (-1, 1), "tile_grid_size": (2, 3)},
    {},                                                       # 8 × 8 tiles of 1 or 2 pixels
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8"])
@pytest.mark.parametrize("kwargs", CLAHE_CASES)
def test_clahe_equals_keras_bit_for_bit(keras_env, dtype, kwargs):
    floating = dtype.startswith("float")
    value_range = kwargs.get("value_range", (0, 255)) if floating else (0, 255)
    kwargs = {**kwargs, "value_range": value_range}
    with keras_env.precision(dtype if floating else "float32"):
        for shape in ((2, 10, 12, 3), (9, 7, 1)):
            x = pixels(shape, dtype, seed=26, value_range=value_range)
            theirs = np.asarray(keras_env.keras.layers.ContrastLimitedAdaptiveHistogramEqualization(
                **kwargs)(x, training=False))
            ours = mr.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)(x)
            assert ours.dtype == theirs.dtype
            np.testing.assert_array_equal(ours, theirs)


def test_clahe_has_no_gradient_as_tensorflow(keras_env):
    tf = keras_env.tf
    x = pixels((2, 6, 6, 3), "float32", seed=27)
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        total = tf.reduce_sum(keras_env.keras.layers.ContrastLimitedAdaptiveHistogramEqualization(
            tile_grid_size=(2, 2))(tensor))
    assert tape.gradient(total, tensor) is None
    layer = mr.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))
    layer(x, training=True)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.zeros_like(x))


def test_clahe_flattens_a_two_level_tile():
    x = np.array([[[[10.], [10.], [20.], [20.]]]], dtype="float32")
    layer = mr.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(1, 1))
    # counts 2 and 2 cut at L = 4·4/256 = 1/16, the excess 4 - 1/8 spread over the 256 bins
    # (r each): F_v = (v + 1)·r + L·(1[v ≥ 10] + 1[v ≥ 20]), F_0 = r; a much flatter table
    r = (4 - 1 / 8) / 256
    low, high = (10 * r + 1 / 16) / (4 - r), (20 * r + 1 / 8) / (4 - r)
    np.testing.assert_allclose(layer(x, training=False)[0, 0, :, 0],
                               np.array([low, low, high, high]) * 255, rtol=1e-6)
    unclipped = mr.layers.ContrastLimitedAdaptiveHistogramEqualization(
        clip_limit=0.0, tile_grid_size=(1, 1))
    # F_10 = 2, F_20 = 4, F_0 = 0: T = F·255/4
    np.testing.assert_array_equal(unclipped(x)[0, 0, :, 0], [127.5, 127.5, 255, 255])


# -- MaxNumBoundingBoxes ---------------------------------------------------------------------

@pytest.mark.parametrize("max_number,fill_value", [(5, -1), (2, -1), (3, 0)])
def test_max_num_bounding_boxes_equals_keras(keras_env, max_number, fill_value):
    rng = np.random.default_rng(28)
    images = rng.integers(0, 255, (2, 8, 8, 3)).astype("float32")
    boxes = rng.uniform(0, 8, (2, 3, 4)).astype("float32")
    labels = np.array([[1, 2, 3], [4, 5, 6]])
    data = {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}}
    kwargs = {"max_number": max_number, "fill_value": fill_value, "bounding_box_format": "xyxy"}
    theirs = keras_env.keras.layers.MaxNumBoundingBoxes(**kwargs)(
        {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}})
    ours = mr.layers.MaxNumBoundingBoxes(**kwargs)(data)
    for key in ("boxes", "labels"):
        expected = np.asarray(theirs["bounding_boxes"][key])
        assert ours["bounding_boxes"][key].dtype == expected.dtype
        np.testing.assert_array_equal(ours["bounding_boxes"][key], expected)
    np.testing.assert_array_equal(ours["images"], images)
    single = mr.layers.MaxNumBoundingBoxes(**kwargs)(
        {"images": images[0], "bounding_boxes": {"boxes": boxes[0], "labels": labels[0]}})
    np.testing.assert_array_equal(single["bounding_boxes"]["boxes"],
                                  ours["bounding_boxes"]["boxes"][0])
    assert data["bounding_boxes"]["boxes"] is boxes          # the input dict is left as it was


def test_max_num_bounding_boxes_on_images_is_the_identity():
    x = pixels((2, 4, 4, 3), "float32", seed=29)
    layer = mr.layers.MaxNumBoundingBoxes(4)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_max_num_bounding_boxes_errors():
    layer = mr.layers.MaxNumBoundingBoxes(3)
    boxes = {"boxes": np.zeros((1, 2, 4)), "labels": np.zeros((1, 2))}
    with pytest.raises(ValueError, match="bounding_box_format"):
        layer({"images": np.zeros((1, 4, 4, 3)), "bounding_boxes": boxes})
    layer = mr.layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")
    with pytest.raises(ValueError, match="'boxes' and 'labels'"):
        layer({"images": np.zeros((1, 4, 4, 3)), "bounding_boxes": {"boxes": boxes["boxes"]}})
    with pytest.raises(ValueError, match="rank 2 or 3"):
        layer({"images": np.zeros((1, 4, 4, 3)),
               "bounding_boxes": {"boxes": np.zeros((1, 2, 3)), "labels": np.zeros((1, 2))}})
    with pytest.raises(ValueError, match="ragged"):
        layer({"images": np.zeros((2, 4, 4, 3)),
               "bounding_boxes": {"boxes": [[[0, 0, 1, 1]], []], "labels": [[1], []]}})


# -- configs, files, errors ------------------------------------------------------------------

CONFIG_CASES = [
    ("RandomElasticTransform", {}),
    ("RandomElasticTransform", {"factor": (0.2, 0.7), "scale": 0.5, "interpolation": "nearest",
                                "fill_mode": "constant", "fill_value": 3.0,
                                "value_range": (0, 1), "seed": 4}),
    ("AugMix", {}),
    ("AugMix", {"value_range": (0, 1), "num_chains": 2, "chain_depth": 4, "factor": 0.6,
                "alpha": 0.5, "all_ops": False, "interpolation": "nearest", "seed": 3}),
    ("ContrastLimitedAdaptiveHistogramEqualization", {}),
    ("ContrastLimitedAdaptiveHistogramEqualization",
     {"value_range": (0, 1), "clip_limit": 2.0, "tile_grid_size": (4, 2)}),
    ("MaxNumBoundingBoxes", {"max_number": 5}),
    ("MaxNumBoundingBoxes", {"max_number": 5, "fill_value": 0, "bounding_box_format": "yxyx"}),
]


@pytest.mark.parametrize("name,kwargs", CONFIG_CASES)
def test_configs_equal_keras_and_load_both_ways(keras_env, name, kwargs):
    keras = keras_env.keras
    ours = getattr(mr.layers, name)(**kwargs, name="img")
    theirs = getattr(keras.layers, name)(**kwargs, name="img")
    assert ours.get_config() == theirs.get_config()
    assert getattr(mr.layers, name).from_config(theirs.get_config()).get_config() == \
        ours.get_config()
    assert getattr(keras.layers, name).from_config(ours.get_config()).get_config() == \
        theirs.get_config()


def test_aug_mix_operations_are_keras(keras_env):
    kwargs = {"value_range": (0, 1), "factor": 0.4, "interpolation": "nearest", "seed": 5}
    ours, theirs = mr.layers.AugMix(**kwargs), keras_env.keras.layers.AugMix(**kwargs)
    for name in mr.layers.preprocessing.aug_mix.AUGMENT_LAYERS_ALL:
        a, b = getattr(ours, name).get_config(), getattr(theirs, name).get_config()
        a.pop("name"), b.pop("name")
        assert a == b, name


def test_keras_files_cross_load(tmp_path, keras_env):
    keras = keras_env.keras

    def build(module):
        layers = module.layers
        return module.Sequential([
            module.Input((6, 6, 3)), layers.RandomElasticTransform(scale=0.5),
            layers.AugMix(num_chains=2), layers.MaxNumBoundingBoxes(4),
            layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 3)),
            layers.Flatten(), layers.Dense(2, activation="softmax")])

    x = pixels((4, 6, 6, 3), "float32", seed=30)
    mr.utils.set_random_seed(0)
    model = build(mr)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    # at inference only CLAHE changes the images; then the same Dense
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    keras_model.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    for ours, theirs in zip(back.layers, keras_model.layers, strict=True):
        assert ours.get_config() == theirs.get_config()

    def saved(path):
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))["config"]["layers"][1:]

    for ours, theirs in zip(saved(tmp_path / "m.keras"), saved(tmp_path / "k.keras"),
                            strict=True):
        assert ours["class_name"] == theirs["class_name"]
        assert ours["build_config"] == theirs["build_config"], ours["class_name"]


def test_a_model_with_the_new_layers_trains():
    rng = np.random.default_rng(32)
    x = rng.uniform(0, 255, (8, 8, 8, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 8)]
    layers = mr.layers
    model = mr.Sequential([
        mr.Input((8, 8, 3)), layers.RandomElasticTransform(scale=0.5, seed=1),
        layers.AugMix(num_chains=2, seed=2), layers.MaxNumBoundingBoxes(3),
        layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2)),
        layers.Rescaling(1 / 255), layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.predict(x, verbose=0).shape == (8, 2)


@pytest.mark.parametrize("make,error,message", [
    (lambda: mr.layers.RandomElasticTransform(factor=1.5), ValueError, "factor"),
    (lambda: mr.layers.RandomElasticTransform(scale=(0.2, 0.3, 0.4)), ValueError, "scale"),
    (lambda: mr.layers.RandomElasticTransform(interpolation="cubic"), NotImplementedError,
     "interpolation"),
    (lambda: mr.layers.RandomElasticTransform(fill_mode="edge"), NotImplementedError,
     "fill_mode"),
    (lambda: mr.layers.RandomElasticTransform(value_range=5), ValueError, "value_range"),
    (lambda: mr.layers.AugMix(num_chains=-1), ValueError, "num_chains"),
    (lambda: mr.layers.AugMix(alpha=0.0), ValueError, "alpha"),
    (lambda: mr.layers.AugMix(factor=2.0), ValueError, "factor"),
    (lambda: mr.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 2)),
     ValueError, "tile_grid_size"),
    (lambda: mr.layers.ContrastLimitedAdaptiveHistogramEqualization(seed=1), ValueError,
     "seed"),
    (lambda: mr.layers.ContrastLimitedAdaptiveHistogramEqualization(clip_limit="4"),
     TypeError, "clip_limit"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_mirror_passes_the_constructor_but_not_the_call_as_in_keras(keras_env):
    x = pixels((1, 6, 6, 3), "float32", seed=31)
    with pytest.raises(ValueError, match="fill_mode"):
        keras_env.keras.layers.RandomElasticTransform(fill_mode="mirror")(x, training=True)
    with pytest.raises(ValueError, match="fill_mode"):
        mr.layers.RandomElasticTransform(fill_mode="mirror")(x, training=True)
