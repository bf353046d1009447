"""Subtract: the difference of exactly two inputs."""

from __future__ import annotations

import numpy as np

from minired.layers.merging.base_merge import Merge, unbroadcast


class Subtract(Merge):
    """Element-wise difference of exactly two inputs, ``x₁ - x₂``.

    Forward::

        a = x₁ - x₂

    Backward::

        δx₁ = δa,   δx₂ = -δa          (summed over the axes xᵢ was stretched along)

    Args:
        name: layer name.
        **kwargs: the other arguments of :class:`~minired.layers.Layer`.

    Example:
        >>> layer = Subtract()
        >>> layer.build([(None, 2), (None, 2)])
        >>> layer.forward([np.array([[5.0, 7.0]]), np.array([[1.0, 2.0]])])
        array([[4., 5.]])
        >>> layer.backward(np.array([[1.0, 3.0]]))
        [array([[1., 3.]]), array([[-1., -3.]])]
    """

    def _check_shapes(self, input_shape) -> list[tuple]:
        shapes = super()._check_shapes(input_shape)
        if len(shapes) != 2:
            raise ValueError(
                f"{self._label()}: a `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: input_shape={shapes}."
            )
        return shapes

    def forward(self, inputs: list[np.ndarray], training: bool = False) -> np.ndarray:
        xs = self._same_rank(inputs)
        if len(xs) != 2:
            raise ValueError(
                f"{self._label()}: a `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: {len(xs)} inputs of shapes {[x.shape for x in inputs]}."
            )
        self.cache = [np.shape(x) for x in inputs]           # backward needs only the shapes
        return xs[0] - xs[1]                                 # a = x₁ - x₂

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        shape1, shape2 = self.cache
        return [unbroadcast(grad_outputs, shape1),           # δx₁ = δa
                unbroadcast(-grad_outputs, shape2)]          # δx₂ = -δa


def subtract(inputs: list, **kwargs):
    """Subtract two inputs: ``Subtract(**kwargs)(inputs)`` (Keras' functional interface).

    Args:
        inputs: a list of exactly two inputs ``[x₁, x₂]``; the result is ``x₁ - x₂``.
        **kwargs: arguments of :class:`Subtract` (``name``...).
    """
    return Subtract(**kwargs)(inputs)
