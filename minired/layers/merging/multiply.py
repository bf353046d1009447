"""Multiply: the element-wise product of a list of inputs."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minired.layers.merging.base_merge import Merge, unbroadcast


class Multiply(Merge):
    """Element-wise product of a list of inputs.

    Forward, left to right as Keras computes it, keeping the partial products ``pᵢ``::

        p₁ = x₁,   pᵢ = pᵢ₋₁ ⊙ xᵢ,   a = pₙ = x₁ ⊙ x₂ ⊙ … ⊙ xₙ

    Backward: each input's gradient is ``δa`` times all the *other* inputs::

        δxᵢ = δa ⊙ Π_{j≠i} xⱼ

    computed the way backpropagation runs through the loop above, from the last product
    back (so the rounding is TensorFlow's): ``δpₙ = δa``, then for ``i = n, …, 2``::

        δxᵢ = δpᵢ ⊙ pᵢ₋₁,   δpᵢ₋₁ = δpᵢ ⊙ xᵢ,   and finally δx₁ = δp₁

    (each summed over the axes its input was stretched along).

    Args:
        name: layer name.
        **kwargs: the other arguments of :class:`~minired.layers.Layer`.

    Example:
        >>> layer = Multiply()
        >>> layer.build([(None, 2), (None, 2), (None, 2)])
        >>> x1, x2, x3 = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]]), np.array([[5.0, 6.0]])
        >>> layer.forward([x1, x2, x3])
        array([[15., 48.]])
        >>> layer.backward(np.ones((1, 2)))          # x₂x₃, x₁x₃, x₁x₂
        [array([[15., 24.]]), array([[ 5., 12.]]), array([[3., 8.]])]
    """

    def forward(self, inputs: list[np.ndarray], training: bool = False) -> np.ndarray:
        xs = self._same_rank(inputs)
        products = [xs[0]]                                   # p₁ = x₁
        for x in xs[1:]:
            products.append(products[-1] * x)                # pᵢ = pᵢ₋₁ ⊙ xᵢ
        self.cache = MultiplyCache([np.shape(x) for x in inputs], xs, products)
        return products[-1]                                  # a = pₙ

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        shapes, xs, products = self.cache
        grads: list = [None] * len(xs)
        grad_p = grad_outputs                                            # δpₙ = δa
        for i in range(len(xs) - 1, 0, -1):
            grads[i] = unbroadcast(grad_p * products[i - 1], shapes[i])  # δxᵢ = δpᵢ ⊙ pᵢ₋₁
            grad_p = unbroadcast(grad_p * xs[i], products[i - 1].shape)  # δpᵢ₋₁ = δpᵢ ⊙ xᵢ
        grads[0] = unbroadcast(grad_p, shapes[0])                        # δx₁ = δp₁
        return grads


class MultiplyCache(NamedTuple):
    """What one call of a Multiply keeps for its backward pass."""

    shapes: list[tuple]             #: each input's shape: its δ is summed back to it
    xs: list[np.ndarray]            #: the inputs (with Keras' extra axes of size 1)
    products: list[np.ndarray]      #: the partial products p₁, …, pₙ


def multiply(inputs: list, **kwargs):
    """Multiply a list of inputs: ``Multiply(**kwargs)(inputs)`` (Keras' functional interface).

    Args:
        inputs: the list of inputs.
        **kwargs: arguments of :class:`Multiply` (``name``...).
    """
    return Multiply(**kwargs)(inputs)
