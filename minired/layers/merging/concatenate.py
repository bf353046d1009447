"""Concatenate: a list of inputs side by side along one axis."""

from __future__ import annotations

import numpy as np

from minired.layers.merging.base_merge import Merge


class Concatenate(Merge):
    """Join a list of inputs along ``axis`` (the last one by default).

    The inputs must have the same rank and the same sizes on every other axis (no
    broadcasting). Forward, for ``x₁ (N, d₁)``, ``x₂ (N, d₂)``, … and ``axis=-1``::

        a = [x₁ | x₂ | … | xₙ]          shape (N, d₁ + d₂ + … + dₙ)

    Backward: each input gets back the slice of ``δa`` it filled::

        δxᵢ = δa[…, d₁ + … + dᵢ₋₁ : d₁ + … + dᵢ]

    Args:
        axis: the axis to join along (negative values count from the end).
        name: layer name.
        **kwargs: the other arguments of :class:`~minired.layers.Layer`.

    Example:
        >>> layer = Concatenate()
        >>> layer.build([(None, 2), (None, 1)])
        >>> layer.forward([np.array([[1.0, 2.0]]), np.array([[3.0]])])
        array([[1., 2., 3.]])
        >>> layer.backward(np.array([[10.0, 20.0, 30.0]]))
        [array([[10., 20.]]), array([[30.]])]
    """

    def __init__(self, axis: int = -1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def _check_shapes(self, input_shape) -> list[tuple]:
        """Keras' rule: the same rank, and the same sizes except along ``axis`` (an unknown
        size, ``None``, matches any)."""
        shapes = self._shape_list(input_shape)
        mismatch = ValueError(
            f"{self._label()}: a `Concatenate` layer requires inputs with matching shapes "
            f"except for the concatenation axis ({self.axis}). Received: input_shape={shapes}."
        )
        ranks = {len(shape) for shape in shapes}
        if len(ranks) != 1:
            raise mismatch
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"{self._label()}: `axis` must lie in [{-rank}, {rank}) for inputs "
                             f"of rank {rank}, got axis={self.axis}.")
        for axis in range(rank):
            sizes = {shape[axis] for shape in shapes} - {None}
            if axis != self.axis % rank and len(sizes) > 1:
                raise mismatch
        return shapes

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        """The first input's shape, with the sizes along ``axis`` added up (``None`` if one
        of them is unknown)."""
        shapes = self._shape_list(input_shape)
        output_shape = list(shapes[0])
        for shape in shapes[1:]:
            if output_shape[self.axis] is None or shape[self.axis] is None:
                output_shape[self.axis] = None
                break
            output_shape[self.axis] += shape[self.axis]
        return tuple(output_shape)

    def forward(self, inputs: list[np.ndarray], training: bool = False) -> np.ndarray:
        xs = self._check_inputs(inputs)
        self.cache = [x.shape[self.axis] for x in xs]        # dᵢ: where δa is cut
        return np.concatenate(xs, axis=self.axis)            # a = [x₁ | x₂ | … | xₙ]

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        ends = np.cumsum(self.cache)[:-1]                     # d₁, d₁ + d₂, …
        return [part.copy() for part in np.split(grad_outputs, ends, axis=self.axis)]

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs: list, axis: int = -1, **kwargs):
    """Join a list of inputs along ``axis``: ``Concatenate(axis=axis, **kwargs)(inputs)``
    (Keras' functional interface).

    Args:
        inputs: the list of inputs.
        axis: the axis to join along.
        **kwargs: arguments of :class:`Concatenate` (``name``...).
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
