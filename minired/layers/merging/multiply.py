"""Multiply: the element-wise product of a list of inputs."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minired.layers.merging.base_merge import Merge, stretched_masks, unbroadcast


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

    With masks (in a model, those of the inputs; by hand ``layer(xs, mask=[m₁, …])``), as
    Keras when the inputs have the same rank: each mask ``mᵢ`` is stretched over the last
    axis and a masked value counts as 1; when every input has a mask, the output is 0 where
    all are masked (``m = m₁ ∨ … ∨ mₙ``, also the output's mask)::

        xᵢ' = where(mᵢ, xᵢ, 1)     a = where(m, x₁' ⊙ … ⊙ xₙ', 0)
        δpₙ = where(m, δa, 0)  …   δxᵢ = where(mᵢ, δxᵢ', 0)

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

    def forward(self, inputs: list[np.ndarray], training: bool = False,
                mask=None) -> np.ndarray:
        xs = self._same_rank(inputs)
        masks = stretched_masks(self, inputs, mask) or [None] * len(xs)
        xs = [x if m is None else np.where(m, x, np.ones((), x.dtype))   # xᵢ' = where(mᵢ, xᵢ, 1)
              for x, m in zip(xs, masks, strict=True)]
        products = [xs[0]]                                   # p₁ = x₁
        for x in xs[1:]:
            products.append(products[-1] * x)                # pᵢ = pᵢ₋₁ ⊙ xᵢ
        output_mask = (np.logical_or.reduce(np.broadcast_arrays(*masks))   # m = m₁ ∨ … ∨ mₙ
                       if all(m is not None for m in masks) else None)
        self.cache = MultiplyCache([np.shape(x) for x in inputs], xs, products, masks,
                                   output_mask)
        if output_mask is None:
            return products[-1]                              # a = pₙ
        return np.where(output_mask, products[-1], np.zeros((), products[-1].dtype))

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        shapes, xs, products, masks, output_mask = self.cache
        grads: list = [None] * len(xs)
        grad_p = grad_outputs                                            # δpₙ = δa
        if output_mask is not None:
            grad_p = np.where(output_mask, grad_p, np.zeros((), grad_p.dtype))
        for i in range(len(xs) - 1, 0, -1):
            grads[i] = unbroadcast(grad_p * products[i - 1], shapes[i])  # δxᵢ = δpᵢ ⊙ pᵢ₋₁
            grad_p = unbroadcast(grad_p * xs[i], products[i - 1].shape)  # δpᵢ₋₁ = δpᵢ ⊙ xᵢ
        grads[0] = unbroadcast(grad_p, shapes[0])                        # δx₁ = δp₁
        return [g if m is None else np.where(m, g, np.zeros((), g.dtype))  # δxᵢ = where(mᵢ,
                for g, m in zip(grads, masks, strict=True)]                 # δxᵢ', 0)


class MultiplyCache(NamedTuple):
    """What one call of a Multiply keeps for its backward pass."""

    shapes: list[tuple]             #: each input's shape: its δ is summed back to it
    xs: list[np.ndarray]            #: the inputs (with Keras' extra axes of size 1)
    products: list[np.ndarray]      #: the partial products p₁, …, pₙ
    masks: list                     #: each input's stretched mask mᵢ (None: no mask)
    output_mask: np.ndarray | None  #: m = m₁ ∨ … ∨ mₙ when every input has a mask


def multiply(inputs: list, **kwargs):
    """Multiply a list of inputs: ``Multiply(**kwargs)(inputs)`` (Keras' functional interface).

    Args:
        inputs: the list of inputs.
        **kwargs: arguments of :class:`Multiply` (``name``...).
    """
    return Multiply(**kwargs)(inputs)
