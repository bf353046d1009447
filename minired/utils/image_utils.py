"""Images to arrays and back, as in ``keras.utils``: ``img_to_array``, ``array_to_img``,
``load_img``, ``save_img``.

Images travel as Pillow ``Image`` objects, as in Keras. minired's engine needs only NumPy,
so Pillow is imported inside the functions that need it; it comes with matplotlib
(``pip install "minired[plot]"``) or alone (``pip install pillow``).
"""

from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np

from minired import config

INSTALL_HINT = 'pip install "minired[plot]" (Pillow comes with matplotlib) or pip install pillow'

# Keras' names for Pillow's resampling filters.
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil_image(owner: str):
    """Pillow's ``Image`` module, or an ImportError that says what to install."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(f"{owner} needs Pillow, which is not installed: {INSTALL_HINT}."
                          ) from error
    return Image


def _data_format(data_format) -> str:
    """``None`` is ``config.image_data_format()``; otherwise one of the two layouts (Keras)."""
    if data_format is None:
        return config.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("The `data_format` argument must be one of "
                         "{'channels_first', 'channels_last'}. "
                         f"Received: data_format={data_format}")
    return data_format


def img_to_array(img, data_format: str | None = None, dtype=None) -> np.ndarray:
    """Turn an image into a 3-D array: ``(height, width, channels)``, values kept.

    A Pillow image (or any array-like) becomes ``np.asarray(img, dtype)``; a grayscale image
    of shape ``(H, W)`` gets a channel axis, ``(H, W, 1)``. With
    ``data_format="channels_first"`` the channels come first, ``(C, H, W)``. Pixel values
    are not rescaled: an 8-bit image gives values 0 to 255.

    Args:
        img: a Pillow ``Image`` (or an array of shape ``(H, W)`` or ``(H, W, C)``).
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` is
            ``config.image_data_format()`` (``"channels_last"``).
        dtype: the array's dtype; ``None`` is ``floatx`` (float32).

    Example:
        >>> img_to_array(np.array([[0, 255], [128, 64]], dtype="uint8")).shape
        (2, 2, 1)
    """
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=config.floatx() if dtype is None else dtype)
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1, *x.shape) if data_format == "channels_first" else (*x.shape, 1))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def array_to_img(x, data_format: str | None = None, scale: bool = True, dtype=None):
    """Turn a 3-D array into a Pillow image: 4 channels RGBA, 3 RGB, 1 grayscale.

    With ``scale=True`` the values are stretched onto 0..255 first,
    ``x ← 255 · (x − min x) / (max x − min x)`` (no division when ``max x = min x``); then
    they are cut to 8-bit integers (``astype("uint8")``, which truncates). A 1-channel
    array whose maximum exceeds 255 becomes a 32-bit integer image (Pillow mode ``"I"``).

    Args:
        x: an array of shape ``(H, W, C)`` (``(C, H, W)`` with ``"channels_first"``).
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` is
            ``config.image_data_format()``.
        scale: stretch the values onto 0..255.
        dtype: the dtype ``x`` is converted to first; ``None`` is ``floatx`` (float32).

    Example:
        >>> img = array_to_img(np.array([[[0.0], [0.5]], [[1.0], [0.25]]]))
        >>> img.mode, img.size, np.asarray(img).tolist()
        ('L', (2, 2), [[0, 127], [255, 63]])
    """
    data_format = _data_format(data_format)
    Image = _pil_image("array_to_img")
    x = np.asarray(x, dtype=config.floatx() if dtype is None else dtype)
    if x.ndim != 3:
        raise ValueError("Expected image array to have rank 3 (single image). "
                         f"Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def save_img(path, x, data_format: str | None = None, file_format: str | None = None,
             scale: bool = True, **kwargs) -> None:
    """Save an array as an image file: :func:`array_to_img`, then Pillow's ``save``.

    The format comes from the file's extension (``.png``, ``.jpg``...) unless
    ``file_format`` names it (needed when ``path`` is a file object). A 4-channel image
    saved as JPEG loses its alpha channel, with a warning, as in Keras.

    Args:
        path: a path or a file object.
        x: the image array, as for :func:`array_to_img`.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` is
            ``config.image_data_format()``.
        file_format: the format, e.g. ``"png"``; ``None`` reads it from ``path``.
        scale: stretch the values onto 0..255 (see :func:`array_to_img`).
        **kwargs: passed on to Pillow's ``Image.save``.

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> save_img(buffer, np.zeros((2, 3, 3)), file_format="png")
        >>> buffer.getvalue()[1:4]
        b'PNG'
    """
    data_format = _data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode: str = "rgb", target_size: tuple[int, int] | None = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False):
    """Read an image file into a Pillow image, converted and resized as asked.

    ``color_mode`` converts it: ``"rgb"`` (3 channels), ``"rgba"`` (4) or ``"grayscale"``
    (1; 16- and 32-bit grayscale images stay as they are). ``target_size=(height, width)``
    resizes it with Pillow's ``interpolation`` filter; with ``keep_aspect_ratio=True`` the
    largest centred crop of the target's proportions is resized instead, so nothing is
    stretched. :func:`img_to_array` then gives the array.

    Args:
        path: a path (``str``, ``bytes``, ``pathlib.Path``) or an ``io.BytesIO``.
        color_mode: ``"rgb"``, ``"rgba"`` or ``"grayscale"``.
        target_size: ``(height, width)``, or ``None`` to keep the image's size.
        interpolation: ``"nearest"``, ``"bilinear"``, ``"bicubic"``, ``"hamming"``,
            ``"box"`` or ``"lanczos"``.
        keep_aspect_ratio: crop to the target's proportions before resizing.

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> save_img(buffer, np.zeros((4, 6, 3)), file_format="png")
        >>> img = load_img(buffer, color_mode="grayscale", target_size=(2, 3))
        >>> img_to_array(img).shape
        (2, 3, 1)
    """
    Image = _pil_image("load_img")
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")

    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode in ("rgba", "rgb"):
        if img.mode != color_mode.upper():
            img = img.convert(color_mode.upper())
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if target_size is None:
        return img
    width_height = (target_size[1], target_size[0])
    if img.size == width_height:
        return img
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported "
                         f"methods are {', '.join(INTERPOLATIONS)}")
    resample = getattr(getattr(Image, "Resampling", Image), interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(width_height, resample)
    width, height = img.size
    target_width, target_height = width_height
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return img.resize(width_height, resample,
                      box=[left, top, left + crop_width, top + crop_height])
