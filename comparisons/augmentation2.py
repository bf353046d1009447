"""Augmentation, Keras 3's newer image layers beside Keras: the colour ones (RandomGrayscale,
RandomHue, RandomSaturation, RandomColorDegeneration, RandomSharpness, RandomInvert,
RandomPosterization, Solarization, RandomColorJitter, AutoContrast, Equalization),
RandomShear, RandomErasing, RandomGaussianBlur, RandomPerspective, MixUp, CutMix, Pipeline and
RandAugment.

TensorFlow's random draws cannot be reproduced, but Keras' layers take their random
transformation as an argument (``transform_images(images, transformation)``): each case
hands the same transformation to both libraries and compares the images, and δx against
TensorFlow's tape where TensorFlow has a gradient. RandomHue, RandomSaturation (TensorFlow
registers no gradient for ``HSVToRGB``) and RandomPosterization (a cast to uint8) have none:
their cases compare outputs only (minired's δx is 0). The draws themselves are compared
statistically: each library's ``get_random_transformation`` against its distribution.

Keras' RandomHue computes in float32 whatever the dtype unless ``value_range = (0, 1)``
(its ``_transform_value_range`` keeps its default dtype), and minired does the same, so
even the float64 case agrees to rounding.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case
from comparisons.sampling import binomial_z, sample_zs, uniform

SHAPE = (3, 5, 4, 3)


def pixels(dtype: str, value_range=(0, 255), seed: int = 0) -> np.ndarray:
    """Integer pixels in [0, 255], scaled to ``value_range``."""
    p = np.random.default_rng(seed).integers(0, 256, SHAPE).astype(dtype)
    low, high = value_range
    return (p / 255 * (high - low) + low).astype(dtype)


def column(values, dtype: str, shape=(-1,)) -> np.ndarray:
    return np.asarray(values).astype(dtype).reshape(shape)


def as_tensors(transformation):
    if isinstance(transformation, dict):
        return {key: tf.constant(value) for key, value in transformation.items()}
    return tf.constant(transformation)


def transformed_pairs(dtype: str, name: str, settings: list, gradient: bool) -> list:
    """For each ``(kwargs, transformation)``: the images (and δx, TensorFlow's tape of
    ``Σ a ⊙ δa``, when ``gradient``) of both libraries for the same transformation."""
    pairs = []
    with precision(dtype):
        for kwargs, transformation in settings:
            x = pixels(dtype, kwargs.get("value_range", (0, 255)))
            upstream = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
            tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(tensor)
                out = getattr(keras.layers, name)(**kwargs).transform_images(
                    tensor, as_tensors(transformation), training=True)
                total = tf.reduce_sum(out * upstream)
            layer = getattr(mr.layers, name)(**kwargs)
            ours, state = layer._apply(x, transformation)
            pairs.append((f"{kwargs} outputs", ours, np.asarray(out)))
            if gradient:
                pairs.append((f"{kwargs} δx", layer._augment_backward(upstream, state),
                              tape.gradient(total, tensor).numpy()))
    return pairs


@case("augmentation2", "grayscale")
def grayscale(dtype):
    """RandomGrayscale: images 0 and 2 of 3 turned gray; outputs and δx."""
    return Outcome(transformed_pairs(dtype, "RandomGrayscale", [
        ({}, np.array([True, False, True]).reshape(3, 1, 1, 1))], gradient=True))


@case("augmentation2", "hue")
def hue(dtype):
    """RandomHue by 0.1, -0.25, 0.45 of the wheel; by ±0.5 in value_range (-1, 1); and in
    (0, 1) (no rescaling: the only float64 computation). No gradient in TensorFlow."""
    return Outcome(transformed_pairs(dtype, "RandomHue", [
        ({"factor": 0.5}, {"factor": column([0.1, -0.25, 0.45], dtype)}),
        ({"factor": 1.0, "value_range": (-1, 1)}, {"factor": column([0.5, -0.5, 0.0], dtype)}),
        ({"factor": 1.0, "value_range": (0, 1)}, {"factor": column([0.3, -0.15, 0.05], dtype)}),
    ], gradient=False))


@case("augmentation2", "saturation")
def saturation(dtype):
    """RandomSaturation by k = 0.3, 1.7, 0, and k = 3, 0.5, 1000 with S cut at 1. No
    gradient in TensorFlow."""
    return Outcome(transformed_pairs(dtype, "RandomSaturation", [
        ({"factor": 0.5}, {"factor": column([0.3, 1.7, 0.0], dtype)}),
        ({"factor": 0.5, "value_range": (0, 1)}, {"factor": column([3.0, 0.5, 1e3], dtype)}),
    ], gradient=False))


@case("augmentation2", "color_degeneration")
def color_degeneration(dtype):
    """RandomColorDegeneration by 0.3, -0.8 (clipped) and 1 (gray): outputs and δx."""
    return Outcome(transformed_pairs(dtype, "RandomColorDegeneration", [
        ({"factor": 0.5}, {"factor": column([0.3, -0.8, 1.0], dtype, (3, 1, 1, 1))})],
        gradient=True))


@case("augmentation2", "sharpness")
def sharpness(dtype):
    """RandomSharpness with k = 0 (blurred), 1.8 (sharpened, clipped), 1: outputs and δx."""
    return Outcome(transformed_pairs(dtype, "RandomSharpness", [
        ({"factor": 0.5}, {"factor": column([0.0, 0.9, 0.5], dtype)}),
        ({"factor": 0.5, "value_range": (0, 1)}, {"factor": column([1.0, 0.25, 0.75], dtype)}),
    ], gradient=True))


@case("augmentation2", "invert")
def invert(dtype):
    """RandomInvert of some images, in (0, 255) and (0, 1): outputs and δx."""
    return Outcome(transformed_pairs(dtype, "RandomInvert", [
        ({}, {"apply_inversion": np.array([True, False, True])}),
        ({"value_range": (0, 1)}, {"apply_inversion": np.array([False, True, True])}),
    ], gradient=True))


@case("augmentation2", "posterization")
def posterization(dtype):
    """RandomPosterization to 1, 4 and 8 bits, and 7, 5, 2 bits in (0, 1). No gradient."""
    return Outcome(transformed_pairs(dtype, "RandomPosterization", [
        ({"factor": 8}, {"shift_factor": np.array([7, 4, 0], dtype="uint8")}),
        ({"factor": 8, "value_range": (0, 1)},
         {"shift_factor": np.array([1, 3, 6], dtype="uint8")}),
    ], gradient=False))


@case("augmentation2", "solarization")
def solarization(dtype):
    """Solarization with additions and thresholds (some clipped), in (0, 255) and (-1, 1):
    outputs and δx."""
    return Outcome(transformed_pairs(dtype, "Solarization", [
        ({}, {"additions": column([0, 30, 200], dtype, (3, 1, 1, 1)),
              "thresholds": column([128, 0, 300], dtype, (3, 1, 1, 1))}),
        ({"value_range": (-1, 1)}, {"additions": column([10, 0, 50], dtype, (3, 1, 1, 1)),
                                    "thresholds": column([100, 200, 64], dtype, (3, 1, 1, 1))}),
    ], gradient=True))


@case("augmentation2", "draws", kind="statistical")
def draws(dtype):
    """Each library's draws (its own get_random_transformation) against their law, in
    standard errors: the gray fraction (0.3), the inverted fraction (E[p] = 0.4), the hue
    sign (½) and magnitude (U[0.2, 0.6]), the sharpness factor (U[0.1, 0.4])."""
    n = 20_000
    images = np.zeros((n, 1, 1, 3), dtype)
    pairs = []
    with precision(dtype):
        for label, module in (("minired", mr), ("keras", keras)):
            def draw(name, module=module, **kwargs):
                layer = getattr(module.layers, name)(**kwargs, seed=3)
                return layer.get_random_transformation(images)
            gray = np.asarray(draw("RandomGrayscale", factor=0.3))
            inverted = np.asarray(draw("RandomInvert", factor=(0.2, 0.6))["apply_inversion"])
            shift = np.asarray(draw("RandomHue", factor=(0.2, 0.6))["factor"])
            sharp = np.asarray(draw("RandomSharpness", factor=(0.1, 0.4))["factor"])
            pairs += [(f"{label}: gray fraction", binomial_z(gray, 0.3), 0.0),
                      (f"{label}: inverted fraction", binomial_z(inverted, 0.4), 0.0),
                      (f"{label}: hue sign", binomial_z(shift < 0, 0.5), 0.0)]
            pairs += [(f"{label}: hue magnitude {s}", z, 0.0)
                      for s, z in sample_zs(2 * np.abs(shift), uniform(0.2, 0.6))]
            pairs += [(f"{label}: sharpness {s}", z, 0.0)
                      for s, z in sample_zs(sharp, uniform(0.1, 0.4))]
    return Outcome(pairs)


def shear_pairs(dtype: str, shear: list) -> list:
    """RandomShear by the same ``(N, 2)`` shears in both libraries, for every fill mode
    but "wrap" (TensorFlow's kernel wraps wrongly: see augmentation/wrap) and both
    interpolations."""
    x = pixels(dtype)
    pairs = []
    with precision(dtype):
        for fill_mode in ("reflect", "constant", "nearest"):
            for interpolation in ("bilinear", "nearest"):
                kwargs = {"x_factor": 1.0, "y_factor": 1.0, "fill_mode": fill_mode,
                          "interpolation": interpolation, "fill_value": 3.0}
                transformation = {"shear_factor": np.array(shear, dtype)}
                theirs = keras.layers.RandomShear(**kwargs).transform_images(
                    tf.constant(x), as_tensors(transformation), training=True)
                ours = mr.layers.RandomShear(**kwargs).transform_images(x, transformation)
                pairs.append((f"{fill_mode} {interpolation}", ours, np.asarray(theirs)))
    return pairs


@case("augmentation2", "shear_exact")
def shear_exact(dtype):
    """RandomShear by dyadic factors (3/16, -5/16...): TensorFlow's float32 coordinates are
    exact, and no nearest read falls half-way (TensorFlow rounds ties away from zero)."""
    return Outcome(shear_pairs(dtype, [[0.1875, -0.3125], [-0.5625, 0.0625], [0.0, 0.9375]]))


@case("augmentation2", "shear", precisions=("float32",))
def shear(dtype):
    """RandomShear by 0.35, -0.7, 0.9...: TensorFlow's float32 coordinates, float32 only."""
    return Outcome(shear_pairs(dtype, [[0.35, 0.2], [-0.7, 0.15], [0.1, -0.9]]))


@case("augmentation2", "color_jitter")
def color_jitter(dtype):
    """RandomColorJitter with fixed draws (brightness +10 %, contrast 1.3, saturation
    k = 0.43, hue 0): outputs; and δx for brightness and contrast (clipped) alone."""
    x = pixels(dtype)
    upstream = np.random.default_rng(2).standard_normal(x.shape).astype(dtype)
    pairs = []
    with precision(dtype):
        fixed = {"brightness_factor": (0.1, 0.1), "contrast_factor": (-0.3, 0.3),
                 "saturation_factor": (0.3, 0.3), "hue_factor": (0.0, 0.0)}
        theirs = keras.layers.RandomColorJitter(**fixed)(tf.constant(x), training=True)
        ours = mr.layers.RandomColorJitter(**fixed)(x, training=True)
        pairs.append(("four steps outputs", ours, np.asarray(theirs)))
        kwargs = {"brightness_factor": (0.3, 0.3), "contrast_factor": (-0.4, 0.4)}
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = keras.layers.RandomColorJitter(**kwargs)(tensor, training=True)
            total = tf.reduce_sum(out * upstream)
        layer = mr.layers.RandomColorJitter(**kwargs)
        ours = layer(x, training=True)
        pairs += [("brightness, contrast outputs", ours, np.asarray(out)),
                  ("brightness, contrast δx", layer.backward(upstream),
                   tape.gradient(total, tensor).numpy())]
    return Outcome(pairs)


@case("augmentation2", "auto_contrast")
def auto_contrast(dtype):
    """AutoContrast (at inference too) on images with ties at the extremes, in (0, 255) and
    (-1, 1): outputs and δx (images without a constant channel: TensorFlow's δx is NaN there,
    see AutoContrast)."""
    pairs = []
    with precision(dtype):
        for value_range in ((0, 255), (-1, 1)):
            x = pixels(dtype, value_range, seed=3)
            x[0, 0, 0, 0] = x[0, 1, 1, 0] = x[0, ..., 0].max()
            upstream = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)
            tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(tensor)
                out = keras.layers.AutoContrast(value_range=value_range)(tensor,
                                                                          training=False)
                total = tf.reduce_sum(out * upstream)
            layer = mr.layers.AutoContrast(value_range=value_range)
            ours = layer(x, training=False)
            pairs += [(f"{value_range} outputs", ours, np.asarray(out)),
                      (f"{value_range} δx", layer.backward(upstream),
                       tape.gradient(total, tensor).numpy())]
    return Outcome(pairs)


@case("augmentation2", "equalization")
def equalization(dtype):
    """Equalization (the histograms of the whole batch) with 256, 16 and 64 bins, a channel
    constant over the batch (kept); δx (δa through the kept channel only)."""
    pairs = []
    with precision(dtype):
        for kwargs in ({}, {"bins": 16}, {"value_range": (-1, 1), "bins": 64}):
            x = pixels(dtype, kwargs.get("value_range", (0, 255)), seed=5)
            x[..., 2] = x[0, 0, 0, 2]
            upstream = np.random.default_rng(6).standard_normal(x.shape).astype(dtype)
            tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(tensor)
                out = keras.layers.Equalization(**kwargs)(tensor, training=True)
                total = tf.reduce_sum(out * upstream)
            layer = mr.layers.Equalization(**kwargs)
            ours = layer(x, training=True)
            pairs += [(f"{kwargs} outputs", ours, np.asarray(out)),
                      (f"{kwargs} δx", layer.backward(upstream),
                       tape.gradient(total, tensor).numpy())]
    return Outcome(pairs)


@case("augmentation2", "erasing")
def erasing(dtype):
    """RandomErasing of three rectangles (two images erased) with a noise fill: outputs and
    δx."""
    masks = np.zeros(SHAPE, bool)
    masks[0, 1:3, 0:2] = masks[1, 2:5, 1:4] = masks[2, 0:1, 3:4] = True
    fill = np.random.default_rng(7).uniform(0, 255, SHAPE).astype(dtype)
    return Outcome(transformed_pairs(dtype, "RandomErasing", [
        ({}, {"apply_erasing": np.array([True, True, False]), "batch_masks": masks,
              "fill_value": fill})], gradient=True))


@case("augmentation2", "gaussian_blur")
def gaussian_blur(dtype):
    """RandomGaussianBlur of images 0 and 2 with σ = (0.7, 1.3), kernels 3×3, 5×5 (clipped
    to (20, 200)) and Keras' (3, 5): outputs and δx."""
    transformation = {"should_apply_blur": np.array([True, False, True]),
                      "blur_factor": np.array([0.7, 1.3], dtype)}
    return Outcome(transformed_pairs(dtype, "RandomGaussianBlur", [
        ({}, transformation), ({"kernel_size": 5, "value_range": (20, 200)}, transformation),
        ({"kernel_size": (3, 5)}, transformation)], gradient=True))


@case("augmentation2", "pipeline")
def pipeline(dtype):
    """Pipeline([RandomGrayscale(1), RandomSharpness((0.8, 0.8)), RandomBrightness((0.1,
    0.1))]) called as Keras' default (training=True): outputs and δx."""
    x = pixels(dtype)
    upstream = np.random.default_rng(8).standard_normal(x.shape).astype(dtype)

    def make(module):
        layers = module.layers
        return layers.Pipeline([layers.RandomGrayscale(1.0),
                                layers.RandomSharpness((0.8, 0.8)),
                                layers.RandomBrightness((0.1, 0.1))])

    with precision(dtype):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = make(keras)(tensor)
            total = tf.reduce_sum(out * upstream)
        layer = make(mr)
        ours = layer(x)
        return Outcome([("outputs", ours, np.asarray(out)),
                        ("δx", layer.backward(upstream), tape.gradient(total, tensor).numpy())])


@case("augmentation2", "rand_augment", precisions=("float32",))
def rand_augment(dtype):
    """RandAugment: Keras' draws for every operation, the picks set to pairs of the
    operations with the two-step interface (a repeated one included); minired's operations
    handed the same draws, applied in turn (float32 only: Keras' RandAugment fails in
    float64 on TensorFlow)."""
    from minired.layers.preprocessing.rand_augment import AUGMENT_LAYERS

    x = pixels(dtype, seed=9)
    pairs = []
    with precision(dtype):
        for picks in (("random_shear", "solarization"), ("random_sharpness", "random_sharpness"),
                      ("random_color_degeneration", "auto_contrast"),
                      ("random_posterization", "equalization")):
            theirs_layer = keras.layers.RandAugment(factor=(0.25, 0.625))
            transformation = theirs_layer.get_random_transformation(tf.constant(x))
            transformation["layer_idxes"] = tf.constant([AUGMENT_LAYERS.index(p)
                                                         for p in picks])
            theirs = theirs_layer.transform_images(tf.constant(x), transformation)
            ours_layer = mr.layers.RandAugment(factor=(0.25, 0.625))
            ours = x
            for name in picks:
                value = transformation["transforms"][name]
                if isinstance(value, dict):
                    value = {k: np.asarray(v) for k, v in value.items() if k != "input_shape"}
                ours = getattr(ours_layer, name).transform_images(ours, value)
            pairs.append((" + ".join(picks), ours, np.asarray(theirs)))
    return Outcome(pairs)


@case("augmentation2", "rand_augment_picks", kind="statistical", precisions=("float32",))
def rand_augment_picks(dtype):
    """RandAugment's picks, each library: every operation's share against 1/11 (float32:
    Keras' RandAugment fails in float64 on TensorFlow)."""
    from minired.layers.preprocessing.rand_augment import AUGMENT_LAYERS

    pairs = []
    with precision(dtype):
        layer = mr.layers.RandAugment(num_ops=3, seed=1)
        x = pixels(dtype)[:1, :4, :4]
        ours = []
        for _ in range(1000):
            layer(x, training=True)
            ours += layer.last_operations
        keras_layer = keras.layers.RandAugment(num_ops=3000, seed=1)
        theirs = np.asarray(keras_layer.get_random_transformation(tf.constant(x))[
            "layer_idxes"])
        for k, name in enumerate(AUGMENT_LAYERS):
            pairs += [(f"minired: {name}", binomial_z(np.array(ours) == name, 1 / 11), 0.0),
                      (f"keras: {name}", binomial_z(theirs == k, 1 / 11), 0.0)]
    return Outcome(pairs)


@case("augmentation2", "mix_up_cut_mix")
def mix_up_cut_mix(dtype):
    """MixUp (two permutations and weights) and CutMix (two rectangles pasted): outputs and
    δx (each image's gradient gathers what its mixes read)."""
    masks = np.zeros(SHAPE, bool)
    masks[0, 1:4, 0:2] = masks[1, 0:2, 1:4] = True
    pairs = transformed_pairs(dtype, "MixUp", [
        ({}, {"mix_weight": column([0.9, 0.3, 0.05], dtype),
              "permutation_order": np.array([2, 0, 1])}),
        ({}, {"mix_weight": column([0.6, 0.2, 0.7], dtype),
              "permutation_order": np.array([0, 2, 1])})], gradient=True)
    pairs += transformed_pairs(dtype, "CutMix", [
        ({}, {"permutation_order": np.array([1, 2, 0]), "batch_masks": masks,
              "mix_weight": column([0.7, 0.5, 1.0], dtype)})], gradient=True)
    return Outcome(pairs)


@case("augmentation2", "perspective", precisions=("float32",))
def perspective(dtype):
    """RandomPerspective with Keras' own draws (scale 0.6, two images warped), both
    interpolations: Keras solves the homography and samples in float32 whatever the dtype
    (measured 6.6e-7 of the largest pixel, bilinear), so float32 only."""
    x = pixels(dtype, seed=10)
    pairs = []
    with precision(dtype):
        for interpolation in ("bilinear", "nearest"):
            kwargs = {"scale": 0.6, "interpolation": interpolation, "fill_value": 3.0}
            layer = keras.layers.RandomPerspective(**kwargs)
            t = layer.get_random_transformation(tf.constant(x))
            t["apply_perspective"] = tf.constant([True, True, False])
            theirs = layer.transform_images(tf.constant(x), t)
            ours = mr.layers.RandomPerspective(**kwargs).transform_images(
                x, {k: np.asarray(v) for k, v in t.items() if k != "input_shape"})
            pairs.append((interpolation, ours, np.asarray(theirs)))
    return Outcome(pairs)


@case("augmentation2", "perspective_exact")
def perspective_exact(dtype):
    """RandomPerspective by a dyadic warp (x/2, 2y), which TensorFlow's float32 solves and
    samples exactly; two images warped, one kept."""
    x = pixels(dtype, seed=10)
    with precision(dtype):
        corners = np.array([[[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [3.0, 4.0]]] * 3, dtype)
        t = {"apply_perspective": np.array([True, True, False]), "start_points": corners,
             "end_points": corners * np.array([[1.0, 1.0], [2.0, 1.0], [1.0, 0.5],
                                               [2.0, 0.5]], dtype)}
        theirs = keras.layers.RandomPerspective(fill_value=3.0).transform_images(
            tf.constant(x), as_tensors(t))
        ours = mr.layers.RandomPerspective(fill_value=3.0).transform_images(x, t)
    return Outcome([("dyadic", ours, np.asarray(theirs))])
