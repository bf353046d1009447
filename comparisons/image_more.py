"""Image pieces beside Keras: ``ops.image.elastic_transform``, RandomElasticTransform, AugMix,
ContrastLimitedAdaptiveHistogramEqualization (CLAHE), MaxNumBoundingBoxes and
``utils.bounding_boxes``.

The elastic transform draws a normal noise field that NumPy cannot reproduce from
TensorFlow's seed, so its cases hand **both** libraries one fixed field (TensorFlow's
``stateless_normal`` and minired's ``draw_noise`` replaced for the case) and compare the
images and δx (TensorFlow's tape of ``Σ a ⊙ δa``). The random layers take their draws as
an argument (``transform_images(images, transformation)``): each case hands the same
transformation to both. CLAHE draws nothing (its case compares the layers' calls) and has no
gradient in TensorFlow; MaxNumBoundingBoxes moves boxes, not pixels. The draws are compared
statistically: each library's ``get_random_transformation`` against its law.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

import numpy as np

import minired.ops.image_elastic as image_elastic
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case
from comparisons.sampling import binomial_z, sample_zs, uniform
from minired.utils.bounding_boxes import SUPPORTED_FORMATS


def pixels(shape: tuple, dtype: str, value_range=(0, 255), seed: int = 0) -> np.ndarray:
    """Integer pixels in [0, 255], scaled to ``value_range``."""
    p = np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)
    low, high = value_range
    return (p / 255 * (high - low) + low).astype(dtype)


@contextlib.contextmanager
def fixed_noise(noise: np.ndarray) -> Iterator[None]:
    """Both libraries draw ``noise`` as their standard normal field."""
    with mock.patch.object(tf.random, "stateless_normal",
                           lambda shape, **kwargs: tf.constant(noise)), \
            mock.patch.object(image_elastic, "draw_noise", lambda shape, dtype, seed: noise):
        yield


def with_gradient(label: str, x: np.ndarray, upstream: np.ndarray, theirs_fn, ours_fn) -> list:
    """``theirs_fn(tensor)`` on TensorFlow's tape and ``ours_fn(x) -> (a, δx)``: the outputs
    and δx of both, as labelled pairs."""
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        out = theirs_fn(tensor)
        total = tf.reduce_sum(out * upstream)
    ours, grad = ours_fn(x)
    return [(f"{label} outputs", ours, np.asarray(out)),
            (f"{label} δx", grad, tape.gradient(total, tensor).numpy())]


@case("image_more", "elastic_transform")
def elastic_transform(dtype):
    """ops.image.elastic_transform (α = 3, σ = 1.5), every interpolation and fill mode, for
    one noise field: outputs and δx."""
    rng = np.random.default_rng(1)
    x = pixels((2, 9, 11, 3), dtype, seed=2)
    noise = rng.standard_normal((2, 9, 11)).astype(dtype)
    upstream = rng.standard_normal(x.shape).astype(dtype)
    pairs = []
    with precision(dtype), fixed_noise(noise):
        for interpolation in ("bilinear", "nearest"):
            for fill_mode in ("reflect", "constant", "nearest", "wrap"):
                kwargs = {"alpha": 3.0, "sigma": 1.5, "interpolation": interpolation,
                          "fill_mode": fill_mode, "fill_value": 7.0, "seed": 1}

                def ours(x, kwargs=kwargs):
                    with mr.autodiff.GradientTape() as tape:
                        watched = tape.watch(x)
                        total = mr.ops.sum(mr.ops.image.elastic_transform(watched, **kwargs)
                                           * upstream)
                    return (np.asarray(mr.ops.image.elastic_transform(x, **kwargs)),
                            tape.gradient(total, watched))

                pairs += with_gradient(
                    f"{interpolation}/{fill_mode}", x, upstream,
                    lambda t, kwargs=kwargs: keras.ops.image.elastic_transform(t, **kwargs),
                    ours)
    return Outcome(pairs)


@case("image_more", "random_elastic_transform")
def random_elastic_transform(dtype):
    """RandomElasticTransform of images 0 and 2 of 3 (distortion 0.7), for one noise field:
    default, nearest/constant, and a clipping value_range; outputs and δx."""
    rng = np.random.default_rng(3)
    x = pixels((3, 30, 32, 2), dtype, seed=4)   # σ = 30·0.05·0.7 ≥ 1: a 7-tap blur
    noise = rng.standard_normal((3, 30, 32)).astype(dtype)
    upstream = rng.standard_normal(x.shape).astype(dtype)
    apply, factor = np.array([True, False, True]), np.asarray(0.7, dtype)
    pairs = []
    with precision(dtype), fixed_noise(noise):
        for kwargs in ({}, {"interpolation": "nearest", "fill_mode": "constant",
                            "fill_value": 9.0}, {"fill_mode": "wrap", "value_range": (20, 230)}):
            def theirs(t, kwargs=kwargs):
                return keras.layers.RandomElasticTransform(**kwargs).transform_images(
                    t, {"apply_transform": tf.constant(apply),
                        "distortion_factor": tf.constant(factor), "seed": 1})

            def ours(x, kwargs=kwargs):
                layer = mr.layers.RandomElasticTransform(**kwargs)
                out, state = layer._apply(x, {"apply_transform": apply,
                                              "distortion_factor": factor, "seed": 1})
                return out, layer._augment_backward(upstream, state)

            pairs += with_gradient(str(kwargs), x, upstream, theirs, ours)
    return Outcome(pairs)


#: AugMix chains of operations with Keras' two steps in minired (an empty chain: the images).
AUG_MIX_CHAINS = [["solarization", "random_shear", "equalization"],
                  ["auto_contrast", "random_color_degeneration"],
                  ["random_sharpness", "random_posterization", "solarization"], []]


def as_numpy(value):
    if isinstance(value, dict):
        return {key: np.asarray(v) for key, v in value.items() if key != "input_shape"}
    return None if value is None else np.asarray(value)


@case("image_more", "aug_mix")
def aug_mix(dtype):
    """AugMix of 4 chains (weights 0.1…0.4, m = 0.35) of Keras' drawn operations, in value
    ranges (0, 255) and (0, 1): outputs and δx."""
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    pairs = []
    with precision(dtype):
        for value_range in ((0, 255), (0, 1)):
            x = pixels((3, 6, 7, 3), dtype, value_range, seed=5)
            upstream = np.random.default_rng(6).standard_normal(x.shape).astype(dtype)
            theirs_layer = keras.layers.AugMix(value_range, num_chains=4, factor=(0.2, 0.6))
            chains = [[{"layer_name": name, "transformation": getattr(
                theirs_layer, name).get_random_transformation(tf.constant(x))}
                for name in chain] for chain in AUG_MIX_CHAINS]

            def theirs(t, layer=theirs_layer, chains=chains):
                return layer.transform_images(t, {
                    "chain_mixing_weights": tf.constant(weights.astype(dtype)),
                    "weight_sample": tf.constant(np.asarray(0.35, dtype)),
                    "chain_transforms": chains}, training=True)

            def ours(x, chains=chains, value_range=value_range, upstream=upstream):
                layer = mr.layers.AugMix(value_range, num_chains=4, factor=(0.2, 0.6))
                out, state = layer._apply(x, {
                    "chain_mixing_weights": weights, "weight_sample": 0.35,
                    "chain_transforms": [[{**step, "transformation": as_numpy(
                        step["transformation"])} for step in chain] for chain in chains]})
                return out, layer._augment_backward(upstream, state)

            pairs += with_gradient(f"value_range={value_range}", x, upstream, theirs, ours)
    return Outcome(pairs)


@case("image_more", "clahe")
def clahe(dtype):
    """ContrastLimitedAdaptiveHistogramEqualization at inference: tiles padded by
    mirroring, no clipping, value ranges (0, 1) and (-1, 1), 1 × 1 and 8 × 8 grids."""
    pairs = []
    with precision(dtype):
        for kwargs in ({"tile_grid_size": (3, 4)}, {"tile_grid_size": (2, 2), "clip_limit": 0.0},
                       {"tile_grid_size": (4, 3), "clip_limit": 2.0, "value_range": (0, 1)},
                       {"tile_grid_size": (1, 1)}, {"value_range": (-1, 1),
                                                    "tile_grid_size": (2, 3)}, {}):
            x = pixels((2, 10, 12, 3), dtype, kwargs.get("value_range", (0, 255)), seed=7)
            theirs = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)(
                x, training=False)
            ours = mr.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)(x)
            pairs.append((str(kwargs), ours, np.asarray(theirs)))
    return Outcome(pairs)


@case("image_more", "max_num_bounding_boxes")
def max_num_bounding_boxes(dtype):
    """MaxNumBoundingBoxes: 3 boxes per image padded to 5 (fill -1), cut to 2, padded with
    0; the boxes and labels."""
    rng = np.random.default_rng(8)
    images = pixels((2, 8, 8, 3), dtype, seed=9)
    boxes = rng.uniform(0, 8, (2, 3, 4)).astype("float32")
    labels = np.array([[1, 2, 3], [4, 5, 6]])
    pairs = []
    with precision(dtype):
        for max_number, fill_value in ((5, -1), (2, -1), (3, 0)):
            kwargs = {"max_number": max_number, "fill_value": fill_value,
                      "bounding_box_format": "xyxy"}
            theirs = keras.layers.MaxNumBoundingBoxes(**kwargs)(
                {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}})
            ours = mr.layers.MaxNumBoundingBoxes(**kwargs)(
                {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}})
            for key in ("boxes", "labels"):
                pairs.append((f"{max_number}, {fill_value}: {key}",
                              ours["bounding_boxes"][key],
                              np.asarray(theirs["bounding_boxes"][key])))
    return Outcome(pairs)


@case("image_more", "draws", kind="statistical")
def draws(dtype):
    """Each library's draws against their law, in standard errors: RandomElasticTransform's
    applied fraction (E[U[0.2, 0.6)] = 0.4) and distortion (U[0.3, 0.9])."""
    n = 20_000
    pairs = []
    with precision(dtype):
        for label, module in (("minired", mr), ("keras", keras)):
            layer = module.layers.RandomElasticTransform(factor=(0.2, 0.6), scale=(0.3, 0.9),
                                                         seed=3)
            applied = np.asarray(layer.get_random_transformation(
                np.zeros((n, 1, 1, 1), dtype))["apply_transform"])
            factors = np.array([float(layer.get_random_transformation(
                np.zeros((1, 1, 1, 1), dtype))["distortion_factor"]) for _ in range(500)])
            pairs.append((f"{label}: applied fraction", binomial_z(applied, 0.4), 0.0))
            pairs += [(f"{label}: distortion {s}", z, 0.0)
                      for s, z in sample_zs(factors, uniform(0.3, 0.9))]
    return Outcome(pairs)


def corner_boxes(shape: tuple, seed: int) -> np.ndarray:
    """Random ``[x1, y1, x2, y2]`` boxes (``x2 > x1``, ``y2 > y1``) in a 40 × 60 image."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 60, (*shape, 2)), axis=-1)
    y = np.sort(rng.uniform(0, 40, (*shape, 2)), axis=-1)
    return np.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], axis=-1)


@case("image_more", "bounding_boxes", precisions=("float32",))
def bounding_boxes(dtype):
    """keras.utils.bounding_boxes (in float32, their dtype whatever floatx is): every
    format to xyxy and back, clipping, the affine move, crop, pad, anchor deltas both ways,
    IoU (masked) and CIoU."""
    ours, theirs = mr.utils.bounding_boxes, keras.utils.bounding_boxes
    boxes = corner_boxes((2, 5), 10)
    pairs = []
    for source in SUPPORTED_FORMATS:
        converted = ours.convert_format(boxes, "xyxy", source, 40, 60)
        pairs.append((f"xyxy → {source}", converted,
                      theirs.convert_format(boxes, "xyxy", source, 40, 60)))
        pairs.append((f"{source} → xyxy", ours.convert_format(converted, source, "xyxy", 40, 60),
                      theirs.convert_format(converted, source, "xyxy", 40, 60)))
    data = {"boxes": boxes * 1.5 - 10, "labels": np.arange(10).reshape(2, 5)}
    clipped, their_clipped = (lib.clip_to_image_size(dict(data), 40, 60) for lib in (ours,
                                                                                     theirs))
    pairs += [("clip boxes", clipped["boxes"], their_clipped["boxes"]),
              ("clip labels", clipped["labels"], their_clipped["labels"])]
    rng = np.random.default_rng(11)
    params = [rng.uniform(*bounds, 2).astype("float32") for bounds in (
        (-30, 30), (-0.2, 0.2), (-0.2, 0.2), (0.7, 1.3), (-20, 20), (-20, 20))]
    pairs.append(("affine", ours.affine_transform(boxes, *params, 40, 60),
                  theirs.affine_transform(boxes, *params, 40, 60)))
    pairs.append(("crop", ours.crop(boxes, 5, 8, 20, 30), theirs.crop(boxes, 5, 8, 20, 30)))
    pairs.append(("pad", ours.pad(boxes, 5, 8), theirs.pad(boxes, 5, 8)))
    anchors = corner_boxes((5,), 12)
    deltas = ours.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=[.1, .1, .2, .2])
    pairs.append(("encode", deltas, theirs.encode_box_to_deltas(
        anchors, boxes, "xyxy", "xyxy", variance=[.1, .1, .2, .2])))
    pairs.append(("decode", ours.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy",
                                                        variance=[.1, .1, .2, .2]),
                  theirs.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy",
                                                variance=[.1, .1, .2, .2])))
    padded = boxes.copy()
    padded[:, 1] = -1
    others = corner_boxes((2, 4), 14)        # Keras' mask needs both batched (or neither)
    pairs.append(("iou", ours.compute_iou(padded, others, "xyxy", use_masking=True),
                  theirs.compute_iou(padded, others, "xyxy", use_masking=True)))
    pairs.append(("iou, one side batched", ours.compute_iou(boxes, anchors, "xyxy"),
                  theirs.compute_iou(boxes, anchors, "xyxy")))
    pairs.append(("ciou", ours.compute_ciou(boxes, corner_boxes((2, 5), 13), "xyxy"),
                  theirs.compute_ciou(boxes, corner_boxes((2, 5), 13), "xyxy")))
    return Outcome([(label, a, np.asarray(b)) for label, a, b in pairs])
