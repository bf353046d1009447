"""Average: the element-wise mean of a list of inputs."""

from __future__ import annotations

import numpy as np

from minired.layers.merging.base_merge import Merge, unbroadcast


class Average(Merge):
    """Element-wise mean of a list of inputs.

    Forward, as Keras computes it (the sum first, then one division)::

        a = (x₁ + x₂ + … + xₙ) / n

    Backward::

        δxᵢ = δa / n                   (summed over the axes xᵢ was stretched along)

    Args:
        name: layer name.
        **kwargs: the other arguments of :class:`~minired.layers.Layer`.

    Example:
        >>> layer = Average()
        >>> layer.build([(None, 2), (None, 2)])
        >>> layer.forward([np.array([[1.0, 2.0]]), np.array([[3.0, 6.0]])])
        array([[2., 4.]])
        >>> layer.backward(np.array([[1.0, -1.0]]))
        [array([[ 0.5, -0.5]]), array([[ 0.5, -0.5]])]
    """

    def forward(self, inputs: list[np.ndarray], training: bool = False) -> np.ndarray:
        xs = self._same_rank(inputs)
        total = xs[0]
        for x in xs[1:]:
            total = total + x                                # x₁ + x₂ + …
        self.cache = [np.shape(x) for x in inputs]           # backward needs only the shapes
        return total / len(xs)                               # a = (x₁ + … + xₙ) / n

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        grad_each = grad_outputs / len(self.cache)                            # δa / n
        return [unbroadcast(grad_each, shape) for shape in self.cache]        # δxᵢ = δa / n


def average(inputs: list, **kwargs):
    """Average a list of inputs: ``Average(**kwargs)(inputs)`` (Keras' functional interface).

    Args:
        inputs: the list of inputs.
        **kwargs: arguments of :class:`Average` (``name``...).
    """
    return Average(**kwargs)(inputs)
