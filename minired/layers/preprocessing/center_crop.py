"""CenterCrop: the central ``height × width`` window of the images."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.preprocessing.resizing import (
    as_batch,
    aspect_crop_window,
    check_data_format,
    check_size,
    resize_adjoint,
    resize_images,
)


class CenterCrop(Layer):
    """Crop the centre of the images to ``height × width``, in training and inference.

    Forward, for ``(N, H, W, C)`` images, as Keras:

    - ``H ≥ height`` and ``W ≥ width``: the window starting at
      ``top = ⌊(H - height)/2⌋``, ``left = ⌊(W - width)/2⌋``:
      ``a = x[:, top:top+height, left:left+width]``;
    - otherwise (Keras' ``smart_resize``): the largest centred window with the target's
      aspect ratio, resized bilinearly to ``height × width`` (``a = R_y · window · R_xᵀ``,
      see :class:`~minired.layers.preprocessing.resizing.Resizing`).

    Backward: ``δx`` is ``δa`` put back in the window (0 elsewhere); through a resize, first
    its adjoint ``R_yᵀ · δa · R_x``.

    Args:
        height, width: the output size.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> CenterCrop(2, 2)(x)[0, :, :, 0]
        array([[ 5.,  6.],
               [ 9., 10.]], dtype=float32)
    """

    def __init__(self, height: int, width: int, data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        check_size("CenterCrop", height, width)
        self.height, self.width = int(height), int(width)
        self.data_format = check_data_format("CenterCrop", data_format)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        if len(input_shape) not in (3, 4):
            raise ValueError("`input_shape` must be a non-nested tuple or list of rank-1 with "
                             "size 3 (unbatched) or 4 (batched). ")
        return (*input_shape[:-3], self.height, self.width, input_shape[-1])

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x, single = as_batch(np.asarray(inputs).astype(self._float_dtype(), copy=False),
                             "CenterCrop")
        rows, cols = x.shape[1:3]
        matrices = None
        if rows >= self.height and cols >= self.width:
            window = ((rows - self.height) // 2, (cols - self.width) // 2,
                      self.height, self.width)
        else:
            window = aspect_crop_window(rows, cols, (self.height, self.width))
        top, left, h, w = window
        outputs = x[:, top:top + h, left:left + w]
        if (h, w) != (self.height, self.width) or rows < self.height or cols < self.width:
            outputs, matrices = resize_images(outputs, (self.height, self.width), "bilinear")
        self.cache = (x.shape, window, matrices, single)
        return outputs[0] if single else outputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        shape, (top, left, h, w), matrices, single = self.cache
        grad = grad_outputs[None] if single else grad_outputs
        if matrices is not None:
            grad = resize_adjoint(grad, matrices)
        full = np.zeros(shape, dtype=grad.dtype)
        full[:, top:top + h, left:left + w] = grad
        return full[0] if single else full

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``height``,
        ``width``."""
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width}
