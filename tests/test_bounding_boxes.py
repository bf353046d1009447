"""``mr.utils.bounding_boxes`` against ``keras.utils.bounding_boxes``: every pair of formats,
clipping, the affine move of boxes, crop and pad, the anchor deltas both ways, IoU and CIoU
(every rank combination and the padding mask), and Keras' errors."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import relative_error
from minired.utils.bounding_boxes import SUPPORTED_FORMATS

boxes_utils = mr.utils.bounding_boxes


@pytest.fixture
def kb():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras.utils.bounding_boxes


def corner_boxes(shape, seed=0, size=(40.0, 60.0)) -> np.ndarray:
    """Random ``[x1, y1, x2, y2]`` boxes (``x2 > x1``, ``y2 > y1``) in a ``size`` image."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, size[1], (*shape, 2)), axis=-1)
    y = np.sort(rng.uniform(0, size[0], (*shape, 2)), axis=-1)
    return np.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], axis=-1)


def same(ours, theirs, rtol=0.0):
    """The same dtype, and values within ``rtol`` of the largest (0: bit for bit)."""
    theirs = np.asarray(theirs)
    assert np.asarray(ours).dtype == theirs.dtype
    if rtol == 0:
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert relative_error(ours, theirs) < rtol


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("source", SUPPORTED_FORMATS)
def test_convert_format_equals_keras_for_every_pair(kb, source, dtype):
    boxes = corner_boxes((2, 5), seed=1)
    for target in SUPPORTED_FORMATS:
        theirs = kb.convert_format(boxes, source, target, height=40, width=60, dtype=dtype)
        ours = boxes_utils.convert_format(boxes, source, target, height=40, width=60,
                                          dtype=dtype)
        same(ours, theirs)


def test_convert_format_of_a_dict_and_the_round_trip(kb):
    data = {"boxes": corner_boxes((3,), seed=2), "labels": np.array([1, 2, 3])}
    ours = boxes_utils.convert_format(data, "xyxy", "center_yxhw")
    same(ours["boxes"], kb.convert_format(dict(data), "xyxy", "center_yxhw")["boxes"])
    assert ours["labels"] is data["labels"]
    back = boxes_utils.convert_format(ours["boxes"], "center_yxhw", "xyxy", dtype="float64")
    np.testing.assert_allclose(back, data["boxes"], rtol=1e-6)


@pytest.mark.parametrize("bounding_box_format", ["xyxy", "rel_xyxy"])
def test_clip_to_image_size_equals_keras(kb, bounding_box_format):
    boxes = np.array([[[-10.0, -20, 150, 160], [50, 40, 70, 80], [130, 5, 140, 9]],
                      [[0.5, 0.2, 1.5, 0.9], [-1, -1, -0.5, 2], [0.1, 0.1, 0.2, 0.3]]])
    data = {"boxes": boxes, "labels": np.array([[0, 1, 2], [3, 4, 5]])}
    theirs = kb.clip_to_image_size(dict(data), height=100, width=120,
                                   bounding_box_format=bounding_box_format)
    ours = boxes_utils.clip_to_image_size(data, height=100, width=120,
                                          bounding_box_format=bounding_box_format)
    same(ours["boxes"], theirs["boxes"])
    same(ours["labels"], theirs["labels"])
    assert -1 in ours["labels"]                            # a box left without area


@pytest.mark.parametrize("dtype", ["float32"])    # Keras' own fails on float64 parameters
def test_affine_transform_equals_keras(kb, dtype):
    rng = np.random.default_rng(3)
    boxes = corner_boxes((3, 4), seed=4)
    params = [rng.uniform(-30, 30, 3), rng.uniform(-0.2, 0.2, 3), rng.uniform(-0.2, 0.2, 3),
              rng.uniform(0.7, 1.3, 3), rng.uniform(-20, 20, 3), rng.uniform(-20, 20, 3)]
    params = [p.astype(dtype) for p in params]
    for center in ({}, {"center_x": 0.3, "center_y": 0.6}):
        theirs = kb.affine_transform(boxes, *params, height=40, width=60, **center)
        ours = boxes_utils.affine_transform(boxes, *params, height=40, width=60, **center)
        # float32: TensorFlow's cos/tan/einsum round differently from NumPy's: an ulp or two
        same(ours, theirs, rtol=1e-6)


def test_crop_and_pad_equal_keras(kb):
    boxes = np.array([[10, 20, 50, 60], [70, 80, 100, 120]])
    same(boxes_utils.crop(boxes, top=10, left=20, height=40, width=30),
         kb.crop(boxes, top=10, left=20, height=40, width=30))
    batched = corner_boxes((2, 3), seed=5)
    same(boxes_utils.crop(batched, 5, 8, 20, 30), kb.crop(batched, 5, 8, 20, 30))
    same(boxes_utils.pad(batched, 5, 8), kb.pad(batched, 5, 8))


@pytest.mark.parametrize("encoding_format", ["center_yxhw", "center_xywh"])
@pytest.mark.parametrize("variance", [None, [0.1, 0.1, 0.2, 0.2]])
def test_deltas_equal_keras_both_ways(kb, encoding_format, variance):
    anchors = corner_boxes((6,), seed=6)
    boxes = corner_boxes((2, 6), seed=7)
    kwargs = {"variance": variance}
    theirs = kb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy",
                                     encoding_format=encoding_format, **kwargs)
    ours = boxes_utils.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy",
                                            encoding_format=encoding_format, **kwargs)
    same(ours, theirs, rtol=1e-6)                      # float32 log: an ulp or two
    decoded = boxes_utils.decode_deltas_to_boxes(anchors, ours, "xyxy", "xyxy",
                                                 encoded_format=encoding_format, **kwargs)
    same(decoded, kb.decode_deltas_to_boxes(anchors, ours, "xyxy", "xyxy",
                                            encoded_format=encoding_format, **kwargs),
         rtol=1e-6)
    np.testing.assert_allclose(decoded, boxes, rtol=1e-5)     # float32 exp(log(·))


def test_deltas_of_relative_boxes_and_of_levels(kb):
    anchors = {"p3": corner_boxes((4,), seed=8), "p4": corner_boxes((2,), seed=9)}
    deltas = {"p3": np.full((4, 4), 0.1, "float32"), "p4": np.full((2, 4), -0.2, "float32")}
    shape = (40, 60, 3)
    theirs = kb.decode_deltas_to_boxes(anchors, deltas, "xyxy", "rel_xyxy", image_shape=shape)
    ours = boxes_utils.decode_deltas_to_boxes(anchors, deltas, "xyxy", "rel_xyxy",
                                              image_shape=shape)
    for level in anchors:
        same(ours[level], theirs[level], rtol=1e-6)
    rel = boxes_utils.convert_format(anchors["p3"], "xyxy", "rel_xywh", 40, 60)
    same(boxes_utils.encode_box_to_deltas(anchors["p3"], rel, "xyxy", "rel_xywh",
                                          image_shape=shape),
         kb.encode_box_to_deltas(anchors["p3"], rel, "xyxy", "rel_xywh", image_shape=shape),
         rtol=1e-6)


@pytest.mark.parametrize("shapes", [((5,), (3,)), ((2, 5), (2, 3)), ((2, 5), (3,)),
                                    ((5,), (2, 3))])
@pytest.mark.parametrize("bounding_box_format", ["xyxy", "yxyx", "center_xywh"])
def test_compute_iou_equals_keras(kb, shapes, bounding_box_format):
    boxes1 = boxes_utils.convert_format(corner_boxes(shapes[0], seed=10), "xyxy",
                                        bounding_box_format)
    boxes2 = boxes_utils.convert_format(corner_boxes(shapes[1], seed=11), "xyxy",
                                        bounding_box_format)
    boxes2[..., 0, :] = boxes1[..., 0, :] if len(shapes[0]) == len(shapes[1]) else boxes2[
        ..., 0, :]                                               # one identical pair: IoU 1
    same(boxes_utils.compute_iou(boxes1, boxes2, bounding_box_format),
         kb.compute_iou(boxes1, boxes2, bounding_box_format), rtol=1e-6)


@pytest.mark.parametrize("batched", [False, True])
def test_compute_iou_masks_padding_boxes_as_keras(kb, batched):
    boxes1 = corner_boxes((2, 4) if batched else (4,), seed=12)
    boxes2 = corner_boxes((2, 3) if batched else (3,), seed=13)
    boxes1[..., 1, :] = -1                                      # padding boxes
    boxes2[..., 2, :] = -1
    theirs = kb.compute_iou(boxes1, boxes2, "xyxy", use_masking=True, mask_val=-5)
    ours = boxes_utils.compute_iou(boxes1, boxes2, "xyxy", use_masking=True, mask_val=-5)
    same(ours, theirs, rtol=1e-6)
    assert np.sum(ours == -5) == (2 if batched else 1) * (3 + 4 - 1)


@pytest.mark.parametrize("shape", [(5,), (2, 5)])
def test_compute_ciou_equals_keras(kb, shape):
    boxes1 = corner_boxes(shape, seed=14)
    boxes2 = corner_boxes(shape, seed=15)
    same(boxes_utils.compute_ciou(boxes1, boxes2, "xyxy"),
         kb.compute_ciou(boxes1, boxes2, "xyxy"), rtol=1e-5)    # float32 atan: a few ulps


@pytest.mark.parametrize("call,error,message", [
    (lambda: boxes_utils.convert_format(np.zeros((2, 3)), "xyxy", "xywh"), ValueError,
     "last dimension of 4"),
    (lambda: boxes_utils.convert_format(np.zeros((2, 4)), "xyxy", "polar"), ValueError,
     "Supported formats"),
    (lambda: boxes_utils.convert_format(np.zeros((2, 4)), "xyxy", "rel_xyxy"), ValueError,
     "height"),
    (lambda: boxes_utils.clip_to_image_size({"boxes": np.zeros((2, 4))}, 4, 4, "xywh"),
     NotImplementedError, "xyxy"),
    (lambda: boxes_utils.clip_to_image_size({"boxes": np.zeros((2, 4))}), ValueError,
     "height"),
    (lambda: boxes_utils.crop(np.zeros((2, 4)), 0, 0, 4, 4, "yxyx"), NotImplementedError,
     "xyxy"),
    (lambda: boxes_utils.encode_box_to_deltas(np.zeros((2, 4)), np.zeros((2, 4)), "xyxy",
                                              "xyxy", variance=[1, 1]), ValueError, "length 4"),
    (lambda: boxes_utils.decode_deltas_to_boxes(np.zeros((2, 4)), np.zeros((2, 4)), "xyxy",
                                                "xyxy", encoded_format="xyxy"), ValueError,
     "center_xywh"),
    (lambda: boxes_utils.compute_iou(np.zeros(4), np.zeros((2, 4)), "xyxy"), ValueError,
     "boxes1"),
    (lambda: boxes_utils.compute_iou(np.zeros((2, 4)), np.zeros((2, 4)), "rel_xyxy"),
     ValueError, "image_shape"),
])
def test_errors_are_keras(call, error, message):
    with pytest.raises(error, match=message):
        call()
