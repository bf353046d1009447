"""Checks shared by the reshaping layers: amounts to crop or pad, and the input's rank."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.pooling.windows import check_rank


def non_negative_tuple(value, n: int, name: str, owner: str) -> tuple[int, ...]:
    """``value`` (an int, or ``n`` ints) as a tuple of ``n`` ints ``>= 0``, as Keras'
    ``standardize_tuple(..., allow_zero=True)``; else a ValueError naming ``name``.

    Example:
        >>> non_negative_tuple(2, 2, "cropping", "Cropping1D")
        (2, 2)
    """
    values = (value,) * n if isinstance(value, int | np.integer) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if (values is None or len(values) != n
            or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0
                       for v in values)):
        raise ValueError(f"{owner}: `{name}` must be an int >= 0 or a tuple of {n} ints >= 0, "
                         f"e.g. {(1,) * n!r}; got {name}={value!r}.")
    return tuple(int(v) for v in values)


def check_ndim(layer, input_shape, ndim: int, expected: str) -> None:
    """Refuse inputs whose rank is not ``ndim`` (Keras' ``InputSpec(ndim=...)``);
    ``expected`` describes the shape, e.g. ``"(batch, features)"``."""
    if len(input_shape) != ndim:
        raise ValueError(f"Input 0 of layer {layer.name!r} is incompatible with the layer: "
                         f"expected ndim={ndim}, found ndim={len(input_shape)}. Full shape "
                         f"received: {tuple(input_shape)}. {type(layer).__name__} takes "
                         f"inputs of shape {expected}.")


class RankCheckedLayer(Layer):
    """A layer taking ``(batch, *spatial axes, channels)`` inputs, ``_spatial`` axes of them
    (Keras' ``InputSpec(ndim=_spatial + 2)``): the rank is checked when the layer is built
    and at every call (:func:`~minired.layers.pooling.windows.check_rank`)."""

    _spatial = 1

    def build(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, self._spatial)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, self._spatial)
