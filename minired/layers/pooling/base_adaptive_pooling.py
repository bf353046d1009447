"""What the adaptive poolings share: ``output_size``, the shapes and the bins of each axis."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.pooling.windows import check_rank, standardize_data_format
from minired.ops.nn_extras import adaptive_pool_bins


class BaseAdaptivePooling(Layer):
    """Pool each spatial axis of ``(N, *spatial, C)`` inputs to ``output_size`` positions,
    whatever its length: output ``i`` of an axis of length ``L`` reduces the bin of inputs
    ``start_i … start_i + size_i − 1`` (Keras' bins, :func:`~minired.ops.nn_extras.
    adaptive_pool_bins`: ``start_i = ⌊i L/out⌋``, ``size_i = ⌈(i+1) L/out⌉ − start_i``).

    As Keras, the axes are pooled one after the other (rows, then columns, then the third
    axis), each a 1-D pooling of the previous result; the backward runs them in reverse.
    Subclasses set ``spatial`` and write ``_pool_axis``/``_unpool_axis``.
    """

    #: Number of spatial axes (1, 2 or 3).
    spatial = 2

    def __init__(self, output_size, data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        owner = type(self).__name__
        if isinstance(output_size, int | np.integer) and not isinstance(output_size, bool):
            output_size = (int(output_size),) * self.spatial
        elif isinstance(output_size, list | tuple) and len(output_size) == self.spatial:
            output_size = tuple(output_size)
        else:
            raise TypeError(f"{owner}: `output_size` must be an int or a tuple of "
                            f"{self.spatial} ints, got {output_size!r}.")
        for size in output_size:
            if isinstance(size, bool) or not isinstance(size, int | np.integer) or size <= 0:
                raise ValueError(f"{owner}: each entry of `output_size` must be a positive "
                                 f"int, got output_size={output_size!r}.")
        self.output_size = tuple(int(size) for size in output_size)
        self.data_format = standardize_data_format(data_format, owner)

    def build(self, input_shape: tuple) -> None:
        self._check_call_shape(input_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, self.spatial)
        if any(size is None for size in input_shape[1:-1]):
            raise ValueError(f"{type(self).__name__} {self.name!r}: the spatial sizes must be "
                             f"known, got input shape {tuple(input_shape)}.")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self.output_size, input_shape[-1])

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = self._as_float(inputs)
        self._check_call_shape(x.shape)
        caches = []
        for axis, out in enumerate(self.output_size, start=1):    # rows, columns, depth...
            starts, sizes = adaptive_pool_bins(x.shape[axis], out)
            x, cache = self._pool_axis(x, axis, starts, sizes)
            caches.append(cache)
        self.cache = caches
        return x

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        grad = grad_outputs
        for axis in range(self.spatial, 0, -1):                  # the last axis pooled first
            grad = self._unpool_axis(grad, axis, self.cache[axis - 1])
        return grad

    def _as_float(self, inputs) -> np.ndarray:
        """The inputs in the layer's float dtype (integer images too)."""
        return np.asarray(inputs).astype(self._float_dtype(), copy=False)

    _keras_build_config = False      # Keras builds these layers at construction (no build)

    def _pool_axis(self, x: np.ndarray, axis: int, starts: np.ndarray,
                   sizes: np.ndarray) -> tuple[np.ndarray, object]:
        raise NotImplementedError

    def _unpool_axis(self, grad: np.ndarray, axis: int, cache) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        """Keras' adaptive pooling config."""
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


def bin_gather_index(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``(out, max size)`` input positions of each bin, the last one repeated to fill the
    shorter bins (a repeat changes neither a maximum nor which position first reached it).

    Example:
        >>> bin_gather_index(np.array([0, 1, 3]), np.array([2, 3, 2]))
        array([[0, 1, 1],
               [1, 2, 3],
               [3, 4, 4]])
    """
    offsets = np.arange(sizes.max())
    return starts[:, None] + np.minimum(offsets[None, :], sizes[:, None] - 1)
