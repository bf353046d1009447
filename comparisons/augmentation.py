"""Augmentation: the random image layers (RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomContrast, RandomBrightness, RandomCrop) beside Keras.

TensorFlow's random draws cannot be reproduced, so the cases fix them: a factor range
``(f, f)`` draws ``f`` every time (``RandomContrast((-f, f))`` draws ``1 + f``), and the
output of one training call is compared. RandomFlip is judged by the flips Keras made (read
from its output) and statistically (the flipped fraction against ½, in binomial standard
errors, for both libraries).

Where the numbers come from:

- TensorFlow's ``ImageProjectiveTransformV3`` computes the coordinates and the bilinear
  weights in **float32** whatever the image dtype. With dyadic zooms and shifts (0.5, 1.25,
  2.75 pixels...) and integer pixels that arithmetic is exact, so the ``*_exact`` cases hold
  in float64 too; a rotation by 36°, a zoom by 1.2 are float32-accurate only, so those cases
  run in float32.
- Keras' RandomRotation does not run in float64 on TensorFlow (a float64 angle times a
  float32 π/180): its cases are float32 only.
- ``fill_mode="wrap"``: TensorFlow's kernel sends a coordinate just past the last pixel to the
  first one (5.0000001 of 6 columns becomes 0), so wrap is compared with Keras' NumPy
  backend (``np.pad(mode="wrap")``, which minired follows) instead.
- RandomCrop: on larger images Keras' output is one window (its corner is TensorFlow's
  draw); on smaller ones Keras' fallback slices and resizes (``tf.image.resize``, float32
  inside TensorFlow: exact for dyadic scales).
- The gradients: TensorFlow differentiates RandomContrast, RandomBrightness (through the
  clip) and RandomCrop's resize exactly; for the geometric layers it warps ``δa`` by the
  inverse transform, which is the adjoint (minired's ``δx``) when the transform moves whole
  pixels (a 90° turn).
"""

from __future__ import annotations

import os
import sys
import types

import numpy as np

from comparisons.keras_env import keras, mr, precision, tf
from comparisons.mirror import to_keras
from comparisons.registry import Outcome, case
from comparisons.sampling import binomial_z, impossible_z
from minired.layers.preprocessing import image_transform

FILL_MODES = ("reflect", "constant", "nearest")          # "wrap": see augmentation/wrap
INTERPOLATIONS = ("bilinear", "nearest")
SHAPE = (2, 8, 8, 3)


def pixels(dtype: str, shape: tuple = SHAPE, seed: int = 0) -> np.ndarray:
    """Integer pixels in [0, 255], exact in float32 (TensorFlow reads them as float32)."""
    return np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)


def affine_pairs(dtype: str, name: str, settings: list[dict]) -> list:
    """One training call of Keras' layer and of minired's, for each setting × fill mode ×
    interpolation."""
    x = pixels(dtype)
    pairs = []
    with precision(dtype):
        for kwargs in settings:
            for fill_mode in FILL_MODES:
                for interpolation in INTERPOLATIONS:
                    args = {**kwargs, "fill_mode": fill_mode, "interpolation": interpolation,
                            "fill_value": 3.0}
                    theirs = getattr(keras.layers, name)(**args)(x, training=True)
                    ours = getattr(mr.layers, name)(**args)(x, training=True)
                    pairs.append((f"{kwargs} {fill_mode} {interpolation}", ours,
                                  np.asarray(theirs)))
    return pairs


@case("augmentation", "zoom_exact")
def zoom_exact(dtype):
    """RandomZoom by dyadic factors (0.5; 1.5 × 0.75), every fill mode and interpolation."""
    return Outcome(affine_pairs(dtype, "RandomZoom", [
        {"height_factor": (-0.5, -0.5)},
        {"height_factor": (0.5, 0.5), "width_factor": (-0.25, -0.25)}]))


@case("augmentation", "translation_exact")
def translation_exact(dtype):
    """RandomTranslation by dyadic shifts (2 and -1 pixels; -2.75 and 4), every mode."""
    return Outcome(affine_pairs(dtype, "RandomTranslation", [
        {"height_factor": (0.25, 0.25), "width_factor": (-0.125, -0.125)},
        {"height_factor": (-0.34375, -0.34375), "width_factor": (0.5, 0.5)}]))


@case("augmentation", "zoom", precisions=("float32",))
def zoom(dtype):
    """RandomZoom by 1.2 and by (0.9, 1.3): TensorFlow's float32 coordinates, float32 only."""
    return Outcome(affine_pairs(dtype, "RandomZoom", [
        {"height_factor": (0.2, 0.2)},
        {"height_factor": (-0.1, -0.1), "width_factor": (0.3, 0.3)}]))


@case("augmentation", "translation", precisions=("float32",))
def translation(dtype):
    """RandomTranslation by 0.1 of the size (0.8 pixel): float32 coordinates, float32 only."""
    return Outcome(affine_pairs(dtype, "RandomTranslation", [
        {"height_factor": (0.1, 0.1), "width_factor": (0.1, 0.1)}]))


@case("augmentation", "rotation", precisions=("float32",))
def rotation(dtype):
    """RandomRotation by 36° and -108°, every fill mode and interpolation (float32 only:
    Keras' layer fails in float64 on TensorFlow)."""
    return Outcome(affine_pairs(dtype, "RandomRotation", [
        {"factor": (0.1, 0.1)}, {"factor": (-0.3, -0.3)}]))


def keras_numpy_image():
    """Keras' NumPy backend's ``image`` module, imported without the backend package (whose
    ``__init__`` needs JAX): its ``affine_transform`` is NumPy and SciPy."""
    name = "keras.src.backend.numpy"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(os.path.dirname(keras.__file__), "src", "backend",
                                         "numpy")]
        sys.modules[name] = package
    from keras.src.backend.numpy import image

    return image


@case("augmentation", "wrap")
def wrap(dtype):
    """fill_mode="wrap" (and the others) against Keras' NumPy backend's affine_transform:
    a dyadic zoom-and-shift, both interpolations."""
    image = keras_numpy_image()
    x = pixels(dtype, (2, 7, 6, 3))
    transform = np.array([[1.5, 0, -1.25, 0, 0.75, 0.5, 0, 0],
                          [0.5, 0, 2.0, 0, 1.25, -2.25, 0, 0]])
    pairs = []
    for fill_mode in ("wrap", *FILL_MODES):
        for interpolation in INTERPOLATIONS:
            theirs = image.affine_transform(x, transform, interpolation=interpolation,
                                            fill_mode=fill_mode, fill_value=3.0)
            plan = image_transform.sampling_plan(transform, (7, 6), interpolation, fill_mode,
                                                 np.dtype(dtype))
            ours = image_transform.resample(x, plan, 3.0)
            pairs.append((f"{fill_mode} {interpolation}", ours, theirs))
    return Outcome(pairs)


@case("augmentation", "rotation_90_gradient")
def rotation_90_gradient(dtype):
    """A 90° turn of square images: output and δx against TensorFlow's gradient (whole
    pixels, so its inverse warp is the adjoint)."""
    x = pixels(dtype, (2, 5, 5, 2))
    upstream = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    args = {"factor": (0.25, 0.25), "fill_mode": "constant", "interpolation": "nearest"}
    with precision("float32"):         # Keras' RandomRotation runs only with float32 angles
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = keras.layers.RandomRotation(**args, dtype=dtype)(tensor, training=True)
            total = tf.reduce_sum(out * upstream)
        grad = tape.gradient(total, tensor)
    with precision(dtype):
        layer = mr.layers.RandomRotation(**args)
        ours = layer(x, training=True)
        grad_ours = layer.backward(upstream)
    return Outcome([("outputs", ours, np.asarray(out)), ("δx", grad_ours, np.asarray(grad))])


def color_pairs(dtype: str, name: str, settings: list[dict]) -> list:
    """Output and δx (TensorFlow's tape of ``Σ a ⊙ δa``) of one training call per setting."""
    x = pixels(dtype, (3, 5, 4, 2))
    upstream = np.random.default_rng(2).standard_normal(x.shape).astype(dtype)
    pairs = []
    with precision(dtype):
        for kwargs in settings:
            tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(tensor)
                out = getattr(keras.layers, name)(**kwargs)(tensor, training=True)
                total = tf.reduce_sum(out * upstream)
            grad = tape.gradient(total, tensor)
            layer = getattr(mr.layers, name)(**kwargs)
            ours = layer(x, training=True)
            pairs += [(f"{kwargs} outputs", ours, np.asarray(out)),
                      (f"{kwargs} δx", layer.backward(upstream), np.asarray(grad))]
    return pairs


@case("augmentation", "contrast")
def contrast(dtype):
    """RandomContrast with c = 1.5 (clipped at 0 and 255), 1.3 and 1: outputs and δx."""
    return Outcome(color_pairs(dtype, "RandomContrast", [
        {"factor": (-0.5, 0.5)}, {"factor": (-0.3, 0.3)},
        {"factor": (0.0, 0.0), "value_range": (-1, 300)}]))


@case("augmentation", "brightness")
def brightness(dtype):
    """RandomBrightness by +10 % and -25 % of the range (clipped): outputs and δx."""
    return Outcome(color_pairs(dtype, "RandomBrightness", [
        {"factor": (0.1, 0.1)}, {"factor": (-0.25, -0.25), "value_range": (20, 0.0)}]))


@case("augmentation", "flip")
def flip(dtype):
    """RandomFlip, each mode: minired's flip of the images Keras flipped equals Keras'."""
    x = pixels(dtype, (64, 3, 4, 2))
    pairs = []
    with precision(dtype):
        for mode in ("horizontal", "vertical", "horizontal_and_vertical"):
            theirs = np.asarray(keras.layers.RandomFlip(mode, seed=1)(x, training=True))
            layer = mr.layers.RandomFlip(mode)
            turned = np.all(theirs == layer._flip(x, np.ones((64, 1, 1, 1), bool)),
                            axis=(1, 2, 3))
            ours = layer._flip(x, turned[:, None, None, None])
            pairs.append((mode, ours, theirs))
    return Outcome(pairs)


@case("augmentation", "flip_fraction", kind="statistical")
def flip_fraction(dtype):
    """RandomFlip's flipped fraction against ½ (z in binomial standard errors), each library,
    and the fraction of outputs that are neither the image nor its flip (none)."""
    n = 20_000
    x = pixels(dtype, (n, 2, 3, 1), seed=3)
    pairs = []
    with precision(dtype):
        theirs = np.asarray(keras.layers.RandomFlip("horizontal", seed=2)(x, training=True))
        layer = mr.layers.RandomFlip("horizontal", seed=2)
        ours = layer(x, training=True)
    for label, out in (("minired", ours), ("keras", theirs)):
        flipped = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
        kept = np.all(out == x, axis=(1, 2, 3))
        # images equal to their own flip count as both: only the others are judged
        differ = ~np.all(x == x[:, :, ::-1], axis=(1, 2, 3))
        pairs.append((f"{label}: flipped fraction", binomial_z(flipped[differ], 0.5), 0.0))
        pairs.append((f"{label}: neither kept nor flipped",
                       impossible_z(int(np.sum(~(flipped | kept)))), 0.0))
    return Outcome(pairs)


@case("augmentation", "keras_io_block")
def keras_io_block(dtype):
    """keras-io's block (RandomFlip, RandomRotation(0.1), RandomZoom(0.1)) through to_keras:
    the same configs, and predict is the identity in both."""
    x = pixels(dtype, (4, 8, 8, 3)) / 255
    with precision(dtype):
        model = mr.Sequential([mr.Input((8, 8, 3)), mr.layers.RandomFlip("horizontal"),
                               mr.layers.RandomRotation(0.1), mr.layers.RandomZoom(0.1)])
        twin = to_keras(model)
        same = all(ours.get_config() == theirs.get_config()
                   for ours, theirs in zip(model.layers, twin.layers, strict=True))
        return Outcome([("predict", model.predict(x, verbose=0), twin.predict(x, verbose=0)),
                        ("configs equal", np.float64(same), np.float64(1.0))])


def crop_pairs(dtype: str, settings: list[tuple]) -> list:
    """RandomCrop on images not larger than the crop (Keras' fallback: a centred slice,
    resized): outputs and δx against TensorFlow's tape, for each ``(image size, crop)``."""
    pairs = []
    with precision(dtype):
        for shape, size in settings:
            x = pixels(dtype, (2, *shape, 3), seed=4)
            tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(tensor)
                out = keras.layers.RandomCrop(*size)(tensor, training=True)
                # quarters: exact in TensorFlow's float32 gradient kernel
                upstream = np.random.default_rng(5).integers(-8, 9, out.shape) / 4
                upstream = upstream.astype(dtype)
                total = tf.reduce_sum(out * upstream)
            grad = tape.gradient(total, tensor)
            layer = mr.layers.RandomCrop(*size)
            ours = layer(x, training=True)
            pairs += [(f"{shape}->{size} outputs", ours, np.asarray(out)),
                      (f"{shape}->{size} δx", layer.backward(upstream), np.asarray(grad))]
    return pairs


@case("augmentation", "crop_resized_exact")
def crop_resized_exact(dtype):
    """RandomCrop's fallback with dyadic scales (4×4 → 8×8, 8×6 → 8×3, 7×3 → 6×4): exact."""
    return Outcome(crop_pairs(dtype, [((4, 4), (8, 8)), ((8, 6), (8, 3)), ((7, 3), (6, 4))]))


@case("augmentation", "crop_resized", precisions=("float32",))
def crop_resized(dtype):
    """RandomCrop's fallback with scales 2/3, 4/9, 3/5: TensorFlow's float32 resize."""
    return Outcome(crop_pairs(dtype, [((4, 4), (2, 6)), ((4, 6), (2, 9)), ((3, 7), (5, 2))]))


@case("augmentation", "crop_window")
def crop_window(dtype):
    """RandomCrop on larger images: Keras' output is one window of the batch; minired's crop
    at that corner (the corner is TensorFlow's draw) equals it."""
    x = pixels(dtype, (3, 9, 7, 2), seed=6)
    with precision(dtype):
        theirs = np.asarray(keras.layers.RandomCrop(4, 3)(x, training=True))
        corners = [(top, left) for top in range(6) for left in range(5)
                   if np.array_equal(x[:, top:top + 4, left:left + 3], theirs)]
        top, left = corners[0] if len(corners) == 1 else (-1, -1)
        ours = mr.layers.RandomCrop._window(x, (top, left, 4, 3))
    return Outcome([("window", ours, theirs)])
