"""Resizing: images to ``height × width``, as ``tf.image.resize`` (bilinear or nearest)."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer

INTERPOLATIONS = ("bilinear", "nearest")


def resize_matrix(n_in: int, n_out: int, interpolation: str) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix ``R`` of a 1-D resize, TensorFlow's half-pixel rule
    (``tf.image.resize``, no antialiasing; ``s = n_in / n_out`` and the positions in
    float32, as TensorFlow computes them)::

        bilinear:  p = (i + ½)·s - ½,  lo = max(⌊p⌋, 0), hi = min(⌈p⌉, n_in - 1),
                   f = p - ⌊p⌋:        R[i, lo] += 1 - f,  R[i, hi] += f
        nearest:   R[i, min(⌊(i + ½)·s⌋, n_in - 1)] = 1

    Example:
        >>> resize_matrix(2, 4, "bilinear")
        array([[1.  , 0.  ],
               [0.75, 0.25],
               [0.25, 0.75],
               [0.  , 1.  ]], dtype=float32)
    """
    scale = np.float32(n_in / n_out)
    i = np.arange(n_out, dtype=np.float32)
    matrix = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    if interpolation == "nearest":
        nearest = np.minimum(np.floor((i + np.float32(0.5)) * scale), n_in - 1)
        matrix[rows, np.maximum(nearest, 0).astype(np.int64)] = 1
        return matrix
    position = (i + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(position)
    fraction = position - floor
    low = np.maximum(floor, 0).astype(np.int64)
    high = np.minimum(np.ceil(position), n_in - 1).astype(np.int64)
    np.add.at(matrix, (rows, low), 1 - fraction)
    np.add.at(matrix, (rows, high), fraction)
    return matrix


def resize_images(images: np.ndarray, size: tuple[int, int], interpolation: str
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Resize ``(N, H, W, C)`` images to ``size``: ``a = R_y · x · R_xᵀ`` per image and
    channel (the resize is separable). Returns ``a`` and ``(R_y, R_x)`` for the backward."""
    r_y = resize_matrix(images.shape[1], size[0], interpolation).astype(images.dtype)
    r_x = resize_matrix(images.shape[2], size[1], interpolation).astype(images.dtype)
    return np.einsum("yh,nhwc,xw->nyxc", r_y, images, r_x, optimize=True), (r_y, r_x)


def resize_adjoint(grad_outputs: np.ndarray, matrices: tuple[np.ndarray, np.ndarray]
                   ) -> np.ndarray:
    """The backward of :func:`resize_images`, the adjoint of the linear map:
    ``δx = R_yᵀ · δa · R_x`` (each output gradient goes back to the pixels it read, with
    the weights it read them with)."""
    r_y, r_x = matrices
    return np.einsum("yh,nyxc,xw->nhwc", r_y, grad_outputs, r_x, optimize=True)


def aspect_crop_window(height: int, width: int, target: tuple[int, int]) -> tuple:
    """Keras' centred window with the target's aspect ratio: ``(top, left, rows, cols)``."""
    crop_height = max(min(height, int(float(width * target[0]) / target[1])), 1)
    crop_width = max(min(width, int(float(height * target[1]) / target[0])), 1)
    return (int(float(height - crop_height) / 2), int(float(width - crop_width) / 2),
            crop_height, crop_width)


def as_batch(images: np.ndarray, owner: str) -> tuple[np.ndarray, bool]:
    """``(N, H, W, C)`` images (a single ``(H, W, C)`` image gets a batch axis of 1)."""
    if images.ndim not in (3, 4):
        raise ValueError(f"{owner}: expected images of shape (batch, height, width, channels) "
                         f"or (height, width, channels), got shape {images.shape}.")
    return (images[None], True) if images.ndim == 3 else (images, False)


def check_size(owner: str, height, width) -> None:
    for argument, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{owner}: `{argument}` must be a positive int, got {value!r}.")


def check_data_format(owner: str, data_format) -> str:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{owner}: only data_format='channels_last' is implemented in "
                         f"minired, got {data_format!r}.")
    return "channels_last"


class Resizing(Layer):
    """Resize images to ``height × width``, as Keras' layer (``tf.image.resize``).

    Forward, for images ``x`` of shape ``(N, H, W, C)``: optionally crop (or pad with
    ``fill_value``) to the target's aspect ratio, centred, then resize each axis with the
    matrix of :func:`resize_matrix`::

        a[n, :, :, c] = R_y · x[n, :, :, c] · R_xᵀ        (R_y: height × H, R_x: width × W)

    Backward: the resize is linear in ``x``, so ``δx`` is its adjoint, ``R_yᵀ · δa · R_x``;
    a crop puts ``δx`` back in its window (0 elsewhere), a pad keeps the image's part.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        crop_to_aspect_ratio: crop the largest centred window of the target's aspect
            ratio first (no distortion).
        pad_to_aspect_ratio: pad (with ``fill_value``) to the target's aspect ratio first.
        fill_mode: ``"constant"`` (the only one, as Keras on TensorFlow).
        fill_value: the padding value.
        antialias: must be False (TensorFlow's antialiasing kernel is not implemented).
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([[0.0, 4.0]]).reshape(1, 1, 2, 1)
        >>> Resizing(1, 4)(x)[0, 0, :, 0]
        array([0., 1., 3., 4.], dtype=float32)
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, antialias: bool = False,
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        check_size("Resizing", height, width)
        if interpolation not in INTERPOLATIONS:
            raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                             f"{INTERPOLATIONS}. Received: interpolation={interpolation}")
        if fill_mode != "constant":
            raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is "
                             f"supported. Received: fill_mode={fill_mode}")
        if pad_to_aspect_ratio and crop_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can "
                             "be `True`.")
        if antialias:
            raise ValueError("Resizing: `antialias=True` is not implemented in minired "
                             "(TensorFlow's antialiasing kernels); use antialias=False.")
        self.height, self.width = int(height), int(width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.data_format = check_data_format("Resizing", data_format)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        return (*input_shape[:-3], self.height, self.width, input_shape[-1])

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x, single = as_batch(np.asarray(inputs).astype(self._float_dtype(), copy=False),
                             "Resizing")
        shape, window, pads = x.shape, None, None
        if self.crop_to_aspect_ratio:
            window = aspect_crop_window(x.shape[1], x.shape[2], (self.height, self.width))
            top, left, rows, cols = window
            x = x[:, top:top + rows, left:left + cols]
        elif self.pad_to_aspect_ratio:
            pads = self._aspect_pads(x.shape[1], x.shape[2])
            x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=self.fill_value)
        outputs, matrices = resize_images(x, (self.height, self.width), self.interpolation)
        self.cache = (shape, window, pads, matrices, single)
        return outputs[0] if single else outputs

    def _aspect_pads(self, height: int, width: int) -> tuple:
        """Keras' padding: the same number of rows (or columns) on both sides."""
        pad_height = max(height, int(float(width * self.height) / self.width))
        pad_width = max(width, int(float(height * self.width) / self.height))
        top, left = int(float(pad_height - height) / 2), int(float(pad_width - width) / 2)
        return (top, top), (left, left)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        shape, window, pads, matrices, single = self.cache
        grad = grad_outputs[None] if single else grad_outputs
        grad = resize_adjoint(grad, matrices)
        if window is not None:
            top, left, rows, cols = window
            full = np.zeros(shape, dtype=grad.dtype)
            full[:, top:top + rows, left:left + cols] = grad
            grad = full
        elif pads is not None:
            (top, _), (left, _) = pads
            grad = grad[:, top:top + shape[1], left:left + shape[2]]
        return grad[0] if single else grad

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``height``,
        ``width``, ``interpolation``, ``crop_to_aspect_ratio``, ``pad_to_aspect_ratio``,
        ``fill_mode``, ``fill_value``, ``antialias``."""
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}
