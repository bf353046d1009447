"""MaxNumBoundingBoxes: give every image the same number of bounding boxes (cut or pad)."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.pooling.windows import standardize_data_format

#: The keys of a ``bounding_boxes`` dict the layer reads (Keras' ``compute_output_shape``
#: refuses others).
BOX_KEYS = ("boxes", "labels")


def densify_bounding_boxes(bounding_boxes, owner: str) -> dict:
    """Keras' ``densify_bounding_boxes`` for dense inputs: ``{"boxes", "labels"}`` as
    arrays, the boxes in float32 (ragged lists are refused: pad them first)."""
    if not isinstance(bounding_boxes, dict) or any(k not in bounding_boxes for k in BOX_KEYS):
        raise ValueError("Expected `bounding_boxes` agurment to be a dict with keys 'boxes' "
                         f"and 'labels'. Received: bounding_boxes={bounding_boxes!r}")
    try:
        boxes = np.asarray(bounding_boxes["boxes"], dtype=np.float32)
        labels = np.asarray(bounding_boxes["labels"])
    except ValueError as error:
        raise ValueError(f"{owner}: `bounding_boxes` must hold rectangular arrays (minired "
                         "has no ragged tensors): give every image as many boxes, padded "
                         f"with -1 ({error}).") from None
    if boxes.ndim not in (2, 3) or boxes.shape[-1] != 4:
        raise ValueError("Expected `bounding_boxes['boxes']` to have rank 2 or 3, with shape "
                         "(num_boxes, 4) or (batch_size, num_boxes, 4). Received: "
                         f"bounding_boxes['boxes'].shape={boxes.shape}")
    if labels.ndim not in (boxes.ndim - 1, boxes.ndim):
        raise ValueError(f"Found bounding_boxes['boxes'].shape={boxes.shape} and expected "
                         f"bounding_boxes['labels'] to have rank {boxes.ndim - 1} or "
                         f"{boxes.ndim}, but received: bounding_boxes['labels'].shape="
                         f"{labels.shape}")
    return {**bounding_boxes, "boxes": boxes, "labels": labels}


class MaxNumBoundingBoxes(Layer):
    """Cut or pad the bounding boxes of each image to exactly ``max_number`` (so that a
    batch of images with different numbers of boxes stacks into one array).

    For a dict ``{"images", "bounding_boxes": {"boxes": (N, B, 4), "labels": (N, B)}, ...}``
    (or one image, ``(B, 4)`` and ``(B,)``), the first ``max_number`` boxes and labels are
    kept and, when ``B < max_number``, ``fill_value`` rows are added::

        boxes'[n, i] = boxes[n, i]  (i < B)        fill_value  (B ≤ i < max_number)

    The images, labels and segmentation masks pass unchanged; as Keras, a
    ``bounding_box_format`` must be given to call the layer on bounding boxes. On an array
    of images alone the layer is the identity (``δx = δa``).

    Args:
        max_number: the number of boxes of every image.
        fill_value: the padding of the boxes and labels (default -1); as Keras, it is not
            written in the config, so a reloaded layer pads with -1.
        bounding_box_format: the boxes' format (``"xyxy"``, ``"yxyx"``, ``"xywh"``...);
            the layer only moves whole boxes, so it does not read it.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> layer = MaxNumBoundingBoxes(max_number=3, bounding_box_format="xyxy")
        >>> out = layer({"images": np.zeros((1, 8, 8, 3)),
        ...              "bounding_boxes": {"boxes": np.array([[[0, 0, 4, 4]]]),
        ...                                 "labels": np.array([[1]])}})
        >>> out["bounding_boxes"]["boxes"][0]
        array([[ 0.,  0.,  4.,  4.],
               [-1., -1., -1., -1.],
               [-1., -1., -1., -1.]], dtype=float32)
        >>> out["bounding_boxes"]["labels"]
        array([[ 1, -1, -1]])
    """

    def __init__(self, max_number, fill_value=-1, bounding_box_format: str | None = None,
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        self.bounding_box_format = bounding_box_format
        self.data_format = standardize_data_format(data_format, "MaxNumBoundingBoxes")

    def __call__(self, inputs, *args, **kwargs):
        if not isinstance(inputs, dict):
            return super().__call__(inputs, *args, **kwargs)
        if "images" not in inputs:
            raise ValueError("MaxNumBoundingBoxes: a dict input needs an 'images' key, got "
                             f"the keys {sorted(inputs)}.")
        outputs = dict(inputs)
        if "bounding_boxes" in inputs:
            if not self.bounding_box_format:
                raise ValueError("You passed an input with a 'bounding_boxes' key, but you "
                                 "didn't specify a bounding box format. Pass a "
                                 "`bounding_box_format` argument to your MaxNumBoundingBoxes "
                                 "layer, e.g. `bounding_box_format='xyxy'`.")
            batched = np.ndim(inputs["images"]) == 4
            boxes = densify_bounding_boxes(inputs["bounding_boxes"], "MaxNumBoundingBoxes")
            if not batched:
                boxes = {**boxes, "boxes": boxes["boxes"][None], "labels": boxes["labels"][None]}
            boxes = self.transform_bounding_boxes(boxes)
            if not batched:
                boxes = {**boxes, "boxes": boxes["boxes"][0], "labels": boxes["labels"][0]}
            outputs["bounding_boxes"] = boxes
        return outputs

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation=None,
                                 training: bool = True) -> dict:
        """``boxes (N, B, 4)`` and ``labels (N, B)`` cut or padded to ``max_number``."""
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        pad = max(self.max_number - boxes.shape[1], 0)
        boxes = np.pad(boxes[:, :self.max_number], ((0, 0), (0, pad), (0, 0)),
                       constant_values=self.fill_value)
        labels = np.pad(labels[:, :self.max_number], ((0, 0), (0, pad)),
                        constant_values=self.fill_value)
        return {**bounding_boxes, "boxes": boxes.reshape(-1, self.max_number, 4),
                "labels": labels.reshape(-1, self.max_number)}

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return inputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    _keras_build_config = True      # Keras writes the built input shape

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``
        (``bounding_box_format`` when given), ``max_number`` (not ``fill_value``)."""
        config = {**super().get_config(), "data_format": self.data_format}
        config.pop("fill_value", None)
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        else:
            config.pop("bounding_box_format", None)
        return {**config, "max_number": self.max_number}
