"""What max and average pooling share: the arguments, the shapes and the padding."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.pooling.windows import (
    check_rank,
    output_size,
    pad_amounts,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)


class BasePooling(Layer):
    """A window of ``pool_size`` values, moved by ``strides`` along each spatial axis of
    inputs ``(N, *spatial, C)``, reduced to one value per window and channel.

    Output positions per axis: ``⌊(size - pool) / stride⌋ + 1`` with ``padding="valid"``,
    ``⌈size / stride⌉`` with ``padding="same"`` (see
    :func:`~minired.layers.pooling.windows.pad_amounts` for where the padding goes).
    Subclasses set ``spatial`` (1 or 2) and write ``forward``/``backward``.
    """

    #: Number of spatial axes (1 for the 1D layers, 2 for the 2D ones).
    spatial = 2

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        owner = type(self).__name__
        self.pool_size = standardize_tuple(pool_size, self.spatial, "pool_size", owner)
        self.strides = standardize_tuple(pool_size if strides is None else strides,
                                         self.spatial, "strides", owner)
        self.padding = standardize_padding(padding, owner)
        self.data_format = standardize_data_format(data_format, owner)

    def build(self, input_shape: tuple) -> None:
        self._check_call_shape(input_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, self.spatial)
        self.compute_output_shape(input_shape)          # raises if a window does not fit

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        spatial = input_shape[1:-1]
        out = tuple(output_size(n, p, s, self.padding)
                    for n, p, s in zip(spatial, self.pool_size, self.strides, strict=True))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: a window of pool_size={self.pool_size} "
                f"does not fit in inputs of shape {tuple(input_shape)} with padding="
                f"{self.padding!r} (the output would have {out} positions). Use a smaller "
                "pool_size or padding='same'.")
        return (input_shape[0], *out, input_shape[-1])

    def _pads(self, input_shape: tuple) -> list[tuple[int, int]]:
        """``(before, after)`` padding of each spatial axis for inputs of this shape."""
        return [pad_amounts(n, p, s, self.padding)
                for n, p, s in zip(input_shape[1:-1], self.pool_size, self.strides,
                                   strict=True)]

    def _as_float(self, inputs) -> np.ndarray:
        """The inputs in the layer's float dtype (integer images too)."""
        return np.asarray(inputs).astype(self._float_dtype(), copy=False)

    def _window_axes(self) -> tuple[int, ...]:
        """The trailing axes of a windows view, ``(-2, -1)`` in 2D."""
        return tuple(range(-self.spatial, 0))

    _keras_build_config = False      # Keras builds pooling layers at construction

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}

