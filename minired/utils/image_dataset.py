"""``image_dataset_from_directory`` (images in class folders, in batches) and
``smart_resize`` (resize without distorting: crop to the target's aspect ratio first).

Images are read with Pillow (:func:`~minired.utils.load_img`) and resized with the
:class:`~minired.layers.Resizing` layer's matrices (TensorFlow's half-pixel rule,
``a = R_y · x · R_xᵀ``), so the pixels equal those of Keras' ``tf.image.resize``.
"""

from __future__ import annotations

import os

import numpy as np

from minired import config
from minired.layers.preprocessing.resizing import aspect_crop_window, resize_images, resize_matrix
from minired.utils.directory_index import (
    check_format,
    check_labels_args,
    check_validation_split_arg,
    datasets_for_subset,
    index_directory,
)
from minired.utils.image_utils import load_img
from minired.utils.sample_dataset import SampleDataset, encode_labels

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
#: Keras' choices; minired implements the first two.
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                  "gaussian", "mitchellcubic")
COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _check_interpolation(interpolation: str, owner: str) -> None:
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"{owner}: minired implements `interpolation` 'bilinear' and "
                         f"'nearest' only. Received: interpolation={interpolation!r}")


def _resize(images: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    """``tf.image.resize`` of ``(N, H, W, C)`` images: bilinear gives float32; nearest picks
    pixels and keeps the dtype."""
    if interpolation == "nearest":
        rows = resize_matrix(images.shape[1], size[0], "nearest").argmax(axis=1)
        cols = resize_matrix(images.shape[2], size[1], "nearest").argmax(axis=1)
        return images[:, rows][:, :, cols]
    return resize_images(images.astype(np.float32, copy=False), size, interpolation)[0]


def smart_resize(x, size: tuple[int, int], interpolation: str = "bilinear",
                 data_format: str = "channels_last") -> np.ndarray:
    """Resize images to a target size without aspect ratio distortion.

    1. Cut the largest centred window with the target's aspect ratio (Keras' integer
       arithmetic): for an image ``H × W`` and a target ``h × w``, the window is
       ``min(H, ⌊W·h/w⌋) × min(W, ⌊H·w/h⌋)`` (at least 1), starting at
       ``⌊(H − rows)/2⌋, ⌊(W − cols)/2⌋``.
    2. Resize it to ``h × w`` as ``tf.image.resize``: ``a = R_y · x · R_xᵀ`` per channel
       (bilinear gives float32; nearest keeps the dtype).

    Args:
        x: an image ``(height, width, channels)`` or a batch ``(batch, height, width,
            channels)`` (channels first with ``data_format="channels_first"``).
        size: ``(height, width)``, the target size.
        interpolation: ``"bilinear"`` or ``"nearest"`` (Keras also has ``"bicubic"`` and
            ``"lanczos3/5"``, not implemented in minired).
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> x = np.arange(8.0).reshape(2, 4, 1)            # 2 × 4: a 2 × 2 window is kept
        >>> smart_resize(x, (1, 1))[:, :, 0]
        array([[3.5]], dtype=float32)
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    _check_interpolation(interpolation, "smart_resize")
    images = np.asarray(x)
    if images.ndim not in (3, 4):
        raise ValueError("Expected an image array with shape `(height, width, channels)`, or "
                         "`(batch_size, height, width, channels)`, but got input with "
                         f"incorrect rank, of shape {images.shape}.")
    single = images.ndim == 3
    if single:
        images = images[None]
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    top, left, rows, cols = aspect_crop_window(images.shape[1], images.shape[2],
                                               (int(size[0]), int(size[1])))
    images = images[:, top:top + rows, left:left + cols]
    out = _resize(images, (int(size[0]), int(size[1])), interpolation)
    if data_format == "channels_first":
        out = out.transpose(0, 3, 1, 2)
    return out[0] if single else out


def _resize_with_pad(image: np.ndarray, size: tuple[int, int], interpolation: str
                     ) -> np.ndarray:
    """``tf.image.resize_with_pad``: shrink (or grow) to fit inside ``size`` keeping the
    aspect ratio, then centre on a canvas of zeros (TensorFlow's float32 arithmetic)."""
    height, width = (np.float32(n) for n in image.shape[:2])
    target_h, target_w = np.float32(size[0]), np.float32(size[1])
    ratio = max(width / target_w, height / target_h)
    new_h, new_w = height / ratio, width / ratio
    top = max(0, int(np.floor((target_h - new_h) / np.float32(2))))
    left = max(0, int(np.floor((target_w - new_w) / np.float32(2))))
    resized = _resize(image[None], (int(np.floor(new_h)), int(np.floor(new_w))),
                      interpolation)[0]
    out = np.zeros((size[0], size[1], image.shape[2]), dtype=resized.dtype)
    out[top:top + resized.shape[0], left:left + resized.shape[1]] = resized
    return out


def load_image(path: str, image_size: tuple[int, int], color_mode: str, interpolation: str,
               data_format: str, crop_to_aspect_ratio: bool = False,
               pad_to_aspect_ratio: bool = False) -> np.ndarray:
    """One image file as the dataset gives it: shape ``(*image_size, channels)`` (channels
    first with ``"channels_first"``), values 0..255; ``float32``, except that ``"nearest"``
    keeps the file's integers (``uint8``), as ``tf.image.resize`` does in Keras."""
    image = np.asarray(load_img(path, color_mode=color_mode))
    if image.ndim == 2:
        image = image[:, :, None]
    if crop_to_aspect_ratio:
        image = smart_resize(image, image_size, interpolation)
    elif pad_to_aspect_ratio:
        image = _resize_with_pad(image, image_size, interpolation)
    else:
        image = _resize(image[None], image_size, interpolation)[0]
    return image.transpose(2, 0, 1) if data_format == "channels_first" else image


def image_dataset_from_directory(directory, labels="inferred", label_mode: str | None = "int",
                                 class_names: list[str] | None = None,
                                 color_mode: str = "rgb", batch_size: int | None = 32,
                                 image_size: tuple[int, int] = (256, 256),
                                 shuffle: bool = True, seed: int | None = None,
                                 validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 follow_links: bool = False,
                                 crop_to_aspect_ratio: bool = False,
                                 pad_to_aspect_ratio: bool = False,
                                 data_format: str | None = None, format: str = "tf",
                                 verbose: bool = True):
    """Generates a dataset from image files in a directory.

    With ``labels="inferred"`` each sub-directory of ``directory`` is a class, in
    alphanumeric order (``class_a/`` → 0, ``class_b/`` → 1, ...), and its images (``.bmp``,
    ``.gif``, ``.jpeg``, ``.jpg``, ``.png``, found recursively) are that class. Each image is
    read with Pillow, converted by ``color_mode`` (1, 3 or 4 channels) and resized to
    ``image_size`` (by default stretched; ``crop_to_aspect_ratio``: as :func:`smart_resize`;
    ``pad_to_aspect_ratio``: fitted inside and padded with zeros). A batch is::

        x: float32 (batch, height, width, channels), values 0..255 (uint8 with
           interpolation="nearest", as Keras' dataset gives it)
        y: int32 (batch,)  |  float32 (batch, 1) for "binary"  |
           float32 (batch, num_classes) one-hot for "categorical"

    (``x`` alone when ``label_mode=None``). The images are read when their batch is asked
    for. The list of files, its shuffle (NumPy's ``RandomState(seed)``) and the
    ``validation_split`` cut (the last ``int(split · N)`` files of the shuffled list are the
    validation subset) are Keras'; ``dataset.class_names`` and ``dataset.file_paths`` are
    Keras' attributes. Keras mixes the training files once more with ``tf.data``'s shuffle
    buffer, which NumPy cannot reproduce: minired reads them in the order of ``file_paths``
    and draws a new order after each pass. Returns a :class:`~minired.utils.PyDataset`
    (Keras: a ``tf.data.Dataset``), or ``[training, validation]`` for ``subset="both"``.

    Args:
        directory: the folder with the images (one sub-folder per class when
            ``labels="inferred"``).
        labels: ``"inferred"``, ``None`` (no labels) or a list of integer labels, one per
            image file in the alphanumeric order of their paths.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` (exactly 2 classes) or
            ``None``.
        class_names: the sub-folders to use, in this order (``labels="inferred"`` only).
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        batch_size: images per batch, or ``None`` for single images.
        image_size: ``(height, width)`` (an int is a square).
        shuffle: shuffle the files (otherwise in alphanumeric order).
        seed: the shuffle's seed (needed with ``validation_split`` and ``shuffle``).
        validation_split: the fraction of the files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (with ``validation_split``).
        interpolation: ``"bilinear"`` or ``"nearest"`` (Keras' other choices are not
            implemented in minired).
        follow_links: walk into sub-folders that are symbolic links.
        crop_to_aspect_ratio: crop to the target's aspect ratio before resizing.
        pad_to_aspect_ratio: pad to the target's aspect ratio (after resizing to fit).
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` is
            ``config.image_data_format()``.
        format: ``"tf"`` or ``"grain"`` (accepted for Keras' scripts; minired's dataset
            either way).
        verbose: print how many files and classes were found.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ("cats", "dogs"):
        ...     (root / name).mkdir()
        ...     mr.utils.save_img(root / name / "1.png", np.zeros((4, 6, 3)))
        >>> ds = image_dataset_from_directory(root, image_size=(2, 3), shuffle=False)
        Found 2 files belonging to 2 classes.
        >>> x, y = ds[0]
        >>> ds.class_names, x.shape, y.tolist()
        (['cats', 'dogs'], (2, 2, 3, 3), [0, 1])
    """
    check_labels_args(labels, label_mode, class_names, "image")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in COLOR_MODES:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, list | tuple) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    image_size = (int(image_size[0]), int(image_size[1]))
    interpolation = interpolation.lower()
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    _check_interpolation(interpolation, "image_dataset_from_directory")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
                         "to `True`.")
    check_format(format)
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    image_paths, labels, class_names = index_directory(
        directory, labels, formats=ALLOWLIST_FORMATS, class_names=class_names,
        shuffle=shuffle, seed=seed, follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    num_classes = len(class_names) if class_names else 0

    def make(paths: list[str], subset_labels, subset_shuffle: bool) -> SampleDataset:
        def load(samples: np.ndarray) -> np.ndarray:
            return np.stack([load_image(paths[i], image_size, color_mode, interpolation,
                                        data_format, crop_to_aspect_ratio,
                                        pad_to_aspect_ratio) for i in samples])

        dataset = SampleDataset(load, len(paths),
                                labels=encode_labels(subset_labels, label_mode, num_classes),
                                batch_size=batch_size, shuffle=subset_shuffle, seed=seed)
        dataset.class_names = class_names
        dataset.file_paths = paths
        return dataset

    return datasets_for_subset(make, image_paths, labels, validation_split, subset, shuffle,
                               f"images found in directory {os.fspath(directory)}. "
                               f"Allowed formats: {ALLOWLIST_FORMATS}")
