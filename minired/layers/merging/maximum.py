"""Maximum: the element-wise maximum of a list of inputs."""

from __future__ import annotations

import numpy as np

from minired.layers.merging.base_merge import (
    MaskedSelectCache,
    Merge,
    SelectCache,
    masked_select,
    masked_select_backward,
    stretched_masks,
    unbroadcast,
)


class Maximum(Merge):
    """Element-wise maximum of a list of inputs.

    Forward, pairwise from the left as Keras computes it::

        a = max(…max(max(x₁, x₂), x₃)…, xₙ)

    Backward: each element of ``a`` is one of the inputs, and only that input gets its
    gradient::

        δxᵢ = δa where xᵢ holds the maximum, 0 elsewhere

    Ties go to the **first** input that holds the maximum, as in TensorFlow: the gradient of
    ``max(u, x)`` goes to ``u`` where ``u >= x`` (``tf.maximum``'s gradient), and ``u`` is the
    maximum so far. (With a NaN, ``u >= x`` is false: the gradient goes to ``x``, also as in
    TensorFlow.)

    With masks (in a model, those of the inputs; by hand ``layer(xs, mask=[m₁, …])``), as
    Keras when the inputs have the same rank: each mask ``mᵢ`` (one axis fewer than ``xᵢ``)
    is stretched over the last axis, a masked value takes the other side's so it never wins,
    and the output's mask is the OR of the masks (None if one input has none); see
    :func:`~minired.layers.merging.base_merge.masked_select` for the formulas and their
    backward.

    Args:
        name: layer name.
        **kwargs: the other arguments of :class:`~minired.layers.Layer`.

    Example:
        >>> layer = Maximum()
        >>> layer.build([(None, 3), (None, 3)])
        >>> layer.forward([np.array([[1.0, 5.0, 2.0]]), np.array([[3.0, 4.0, 2.0]])])
        array([[3., 5., 2.]])
        >>> layer.backward(np.array([[10.0, 20.0, 30.0]]))      # the tie (2 = 2) goes to x₁
        [array([[ 0., 20., 30.]]), array([[10.,  0.,  0.]])]
    """

    def forward(self, inputs: list[np.ndarray], training: bool = False,
                mask=None) -> np.ndarray:
        xs = self._same_rank(inputs)
        masks = stretched_masks(self, inputs, mask)   # the inputs' own ranks
        if masks is not None:                                # Keras' masked merge
            a, self.cache = masked_select(xs, masks, True,
                                              [np.shape(x) for x in inputs])
            return a
        a = xs[0]
        source = np.zeros(a.shape, dtype=np.intp)            # a came from input 0 so far
        for i, x in enumerate(xs[1:], start=1):
            source = np.where(a >= x, source, i)             # a tie stays with the earlier input
            a = np.maximum(a, x)
        self.cache = SelectCache([np.shape(x) for x in inputs], source)
        return a

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        if isinstance(self.cache, MaskedSelectCache):
            return masked_select_backward(self.cache, grad_outputs)
        shapes, source = self.cache
        return [unbroadcast(np.where(source == i, grad_outputs, 0), shape)   # δxᵢ = δa where
                for i, shape in enumerate(shapes)]                            # xᵢ is the max


def maximum(inputs: list, **kwargs):
    """Element-wise maximum of a list of inputs: ``Maximum(**kwargs)(inputs)`` (Keras'
    functional interface).

    Args:
        inputs: the list of inputs.
        **kwargs: arguments of :class:`Maximum` (``name``...).
    """
    return Maximum(**kwargs)(inputs)
