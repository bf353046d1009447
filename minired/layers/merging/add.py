"""Add: the element-wise sum of a list of inputs."""

from __future__ import annotations

import numpy as np

from minired.layers.merging.base_merge import Merge, unbroadcast


class Add(Merge):
    """Element-wise sum of a list of inputs.

    Forward, for inputs of the same shape (or shapes that broadcast, see
    :class:`~minired.layers.merging.base_merge.Merge`)::

        a = x₁ + x₂ + … + xₙ           summed left to right, as Keras does

    Backward: every input contributes to ``a`` with a factor 1, so each gets ``δa``::

        δxᵢ = δa                       (summed over the axes xᵢ was stretched along)

    Args:
        name: layer name.
        **kwargs: the other arguments of :class:`~minired.layers.Layer`.

    Example:
        >>> layer = Add()
        >>> layer.build([(None, 2), (None, 2)])
        >>> layer.forward([np.array([[1.0, 2.0]]), np.array([[10.0, 20.0]])])
        array([[11., 22.]])
        >>> layer.backward(np.array([[1.0, -1.0]]))
        [array([[ 1., -1.]]), array([[ 1., -1.]])]
    """

    def forward(self, inputs: list[np.ndarray], training: bool = False) -> np.ndarray:
        xs = self._same_rank(inputs)
        a = xs[0]
        for x in xs[1:]:
            a = a + x                                        # a = x₁ + x₂ + …
        self.cache = [np.shape(x) for x in inputs]           # backward needs only the shapes
        return a

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        return [unbroadcast(grad_outputs, shape) for shape in self.cache]     # δxᵢ = δa


def add(inputs: list, **kwargs):
    """Sum a list of inputs: ``Add(**kwargs)(inputs)`` (Keras' functional interface).

    Args:
        inputs: the list of inputs.
        **kwargs: arguments of :class:`Add` (``name``...).
    """
    return Add(**kwargs)(inputs)
