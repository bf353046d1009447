"""Merge: the base of the layers that combine a list of inputs into one output."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minired.layers.layer import Layer


class Merge(Layer):
    """Base of the element-wise merge layers: ``a = x₁ ∘ x₂ ∘ … ∘ xₙ`` for a list of inputs.

    The contract of :class:`~minired.layers.Layer`, extended to a **list** of inputs:

    - ``build([shape₁, …, shapeₙ])``: one shape per input, batch dimension first;
    - ``forward([x₁, …, xₙ])`` returns ``a`` and keeps in ``self.cache`` what backward needs;
    - ``backward(δa)`` returns ``[δx₁, …, δxₙ]``: one new array per input, of its shape.

    Merge layers have no weights.

    Shapes follow Keras' rule. Leaving the batch axis aside, the shapes are aligned on the
    right, as in NumPy, and an axis of size 1 stretches to the other size: ``(N, 1, 4)``
    with ``(N, 3, 4)`` gives ``(N, 3, 4)``. An input with fewer axes first gets axes of
    size 1 right after its batch axis: beside ``(N, 3, 4)``, ``(N, 4)`` acts as
    ``(N, 1, 4)``.

    Backward through a stretch: an input stretched along an axis was used once per position
    of that axis, so its ``δ`` is the sum over that axis (:func:`unbroadcast`).

    Args:
        name: layer name.
        **kwargs: the other arguments of :class:`~minired.layers.Layer`.

    Example:
        >>> Merge().compute_output_shape([(None, 4), (None, 3, 1)])
        (None, 3, 4)
    """

    _takes_several_inputs = True
    _supports_masking_default = True

    # -- masks --------------------------------------------------------------------------------
    def _may_make_mask(self) -> bool:
        return False            # a merged mask needs masked inputs

    def compute_mask(self, inputs, mask=None):
        """The output's mask from the inputs' masks (one per input, or None), as Keras:
        None unless every input has a mask, then their OR, ``m = m₁ ∨ m₂ ∨ …`` (a step is
        real if it is real in any input). :class:`Concatenate` follows Keras' own rule: an
        input without a mask counts as all real, and along the time axis the masks are
        joined end to end.

        Example:
            >>> Merge().compute_mask([np.zeros((1, 2, 3))] * 2,
            ...                      [np.array([[True, False]]), np.array([[False, False]])])
            array([[ True, False]])
        """
        if mask is None:
            return None
        if not isinstance(mask, list | tuple):
            raise ValueError(f"`mask` should be a list. Received: mask={mask}")
        if not isinstance(inputs, list | tuple):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError("The lists `inputs` and `mask` should have the same length. "
                             f"Received: inputs of length {len(inputs)}, and mask of length "
                             f"{len(mask)}.")
        from minired.layers.merging.concatenate import Concatenate

        if isinstance(self, Concatenate):
            return _concatenated_mask(inputs, mask, self.axis)
        if any(m is None for m in mask):
            return None
        return np.logical_or.reduce([np.asarray(m, dtype=bool) for m in mask])

    # -- shapes -------------------------------------------------------------------------------
    def build(self, input_shape: list[tuple]) -> None:
        """Check the shapes (one per input, batch dimension first) and record them."""
        shapes = self._check_shapes(input_shape)
        super().build(shapes)
        self.input_shape = shapes               # a list: one shape per input

    def _check_shapes(self, input_shape) -> list[tuple]:
        """Keras' checks: a list of shapes, one batch size, shapes that broadcast."""
        shapes = self._shape_list(input_shape)
        batch_sizes = {shape[0] for shape in shapes if shape} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"{self._label()}: cannot merge tensors with different batch sizes. "
                f"Received tensors with shapes {shapes}."
            )
        self.compute_output_shape(shapes)       # raises if the shapes do not broadcast
        return shapes

    def _check_call_shape(self, input_shape) -> None:
        """Every call is checked as the first one was: a merge layer has no weights, so a
        built one takes any list of shapes that ``build`` would accept."""
        self._check_shapes(input_shape)

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        """The shape the inputs broadcast to (see the class docstring)."""
        shapes = self._shape_list(input_shape)
        output_shape = shapes[0][1:]
        for shape in shapes[1:]:
            output_shape = self._compute_elemwise_op_output_shape(output_shape, shape[1:])
        batch_sizes = {shape[0] for shape in shapes if shape} - {None}
        batch_size = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return (batch_size, *output_shape)

    def _compute_elemwise_op_output_shape(self, shape1: tuple, shape2: tuple) -> tuple:
        """The shape of ``x₁ ∘ x₂`` for two shapes without their batch axis.

        Aligned on the right; where one size is 1 the other one wins; an unknown size
        (``None``) gives ``None``; two different sizes raise a ValueError.
        """
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        leading = len(shape1) - len(shape2)              # the axes only shape1 has
        output_shape = list(shape1[:leading])
        for i, j in zip(shape1[leading:], shape2, strict=True):
            if i is None or j is None:
                output_shape.append(None)
            elif i == 1:
                output_shape.append(j)
            elif j == 1 or i == j:
                output_shape.append(i)
            else:
                raise ValueError(
                    f"{self._label()}: inputs have incompatible shapes. Received shapes "
                    f"{shape1} and {shape2} (batch axis left out): each size must match "
                    "the other or be 1."
                )
        return tuple(output_shape)

    def _shape_list(self, input_shape) -> list[tuple]:
        """``input_shape`` as a list of tuples, or a ValueError if it is not a list of shapes."""
        if (not isinstance(input_shape, list | tuple) or not input_shape
                or not all(isinstance(shape, list | tuple) for shape in input_shape)):
            raise ValueError(
                f"{self._label()}: a merge layer should be called on a list of inputs, and "
                "built for a list of their shapes such as [(None, 4), (None, 4)]. Received: "
                f"input_shape={input_shape!r}."
            )
        return [tuple(shape) for shape in input_shape]

    # -- what forward and backward share -----------------------------------------------------
    def _check_inputs(self, inputs) -> list[np.ndarray]:
        """The inputs as a list of arrays, or a ValueError if they are not a list."""
        if not isinstance(inputs, list | tuple) or not inputs:
            got = (f"an array of shape {inputs.shape}" if isinstance(inputs, np.ndarray)
                   else repr(inputs))
            raise ValueError(
                f"{self._label()}: a merge layer should be called on a list of inputs, "
                f"e.g. [x1, x2]. Received: {got}."
            )
        return [np.asarray(x) for x in inputs]

    def _same_rank(self, inputs) -> list[np.ndarray]:
        """The inputs, each given the largest rank by axes of size 1 after its batch axis
        (Keras' rule: beside ``(N, 3, 4)``, ``(N, 4)`` becomes ``(N, 1, 4)``), so that
        NumPy broadcasts them as Keras does. Reshapes are views: nothing is copied."""
        xs = self._check_inputs(inputs)
        rank = max(x.ndim for x in xs)
        return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]

    def _label(self) -> str:
        return f"{type(self).__name__} {self.name!r}"


def _concatenated_mask(inputs: list, masks: list, axis: int):
    """Keras' ``Concatenate.compute_mask``: each input's mask as a boolean array of the
    input's shape (all True without a mask; a mask of one axis fewer stretched over the
    last axis), concatenated along ``axis``, then ``any`` over the last axis."""
    if all(m is None for m in masks):
        return None
    full = []
    for x, m in zip(inputs, masks, strict=True):
        shape = np.shape(x)
        if m is None:
            full.append(np.ones(shape, dtype=bool))
        elif np.ndim(m) < len(shape):
            full.append(np.broadcast_to(np.asarray(m, dtype=bool)[..., None], shape))
        else:
            full.append(np.asarray(m, dtype=bool))
    return np.any(np.concatenate(full, axis=axis), axis=-1)


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` back to ``shape``: the backward pass of stretching an input to
    ``grad.shape``.

    An input stretched along an axis was used once per position of that axis, so its
    gradient is the sum over that axis::

        x: (N, 1, 4) used as (N, 3, 4)   ->   δx = Σ over axis 1 of δa, shape (N, 1, 4)

    An input with fewer axes gained them after its batch axis (``(N, 4)`` used as
    ``(N, 1, 4)``, Keras' rule), so those axes are summed and dropped. The result is always
    a new array.

    Args:
        grad: the gradient of the stretched input, shape of the output.
        shape: the input's own shape.

    Example:
        >>> unbroadcast(np.ones((2, 3, 4)), (2, 1, 4))[0]
        array([[3., 3., 3., 3.]])
        >>> unbroadcast(np.ones((2, 3, 4)), (2, 4)).shape
        (2, 4)
    """
    gained = grad.ndim - len(shape)
    if gained > 0:                                       # axes 1, …, gained were inserted
        grad = np.sum(grad, axis=tuple(range(1, 1 + gained)))
    stretched = tuple(axis for axis, size in enumerate(shape)
                      if size == 1 and grad.shape[axis] != 1)
    return np.sum(grad, axis=stretched, keepdims=True)  # a copy, even when nothing is summed


class SelectCache(NamedTuple):
    """What one call of a Maximum or a Minimum keeps for its backward pass."""

    shapes: list[tuple]     #: each input's shape: its δ is summed back to it
    source: np.ndarray      #: for each element of the output, the index of the input it came from


# -- masked inputs: how Keras' Maximum, Minimum and Multiply read the masks --------------------

def stretched_masks(layer: Merge, inputs: list, mask) -> list | None:
    """Each input's mask as Keras' merge reads it: ``m[..., None]`` stretched to the input's
    shape; None for an input without a mask, and for an input of fewer axes than the others
    (Keras merges a reshaped copy of it, which carries no mask); None if none is left."""
    masks = mask if isinstance(mask, list | tuple) else [mask] * (mask is not None)
    if not any(m is not None for m in masks):
        return None
    if len(masks) != len(inputs):
        raise ValueError(f"{layer._label()}: `mask` must be a list with one mask (or None) "
                         f"per input ({len(inputs)}), got {len(masks)}.")
    rank = max(np.ndim(x) for x in inputs)
    stretched = []
    for x, m in zip(inputs, masks, strict=True):
        if m is None or np.ndim(x) < rank:
            stretched.append(None)
            continue
        m, shape = np.asarray(m, dtype=bool)[..., None], np.shape(x)
        if m.ndim != len(shape) or np.broadcast_shapes(m.shape, shape) != shape:
            raise ValueError(f"{layer._label()}: each mask, given an axis of size 1 at the "
                             f"end, must stretch to its input's shape {shape}; got a mask "
                             f"of shape {m.shape[:-1]}.")
        stretched.append(np.broadcast_to(m, shape))
    return None if all(m is None for m in stretched) else stretched


class MaskedStep(NamedTuple):
    """One pairwise step ``a = op(p', x')`` of a masked Maximum or Minimum."""

    previous_shape: tuple       #: the shape of ``p``, the result so far
    x_mask: np.ndarray | None   #: ``mₓ``, the stretched mask of this input
    p_mask: np.ndarray | None   #: ``mₚ``, the OR of the masks so far (None if one had none)
    keep: np.ndarray            #: where ``p'`` wins (``p' >= x'``, ``<=`` for the minimum)


class MaskedSelectCache(NamedTuple):
    """What one masked call of a Maximum or a Minimum keeps for its backward pass."""

    shapes: list[tuple]         #: each input's shape
    steps: list[MaskedStep]     #: one per input after the first


def masked_select(xs: list[np.ndarray], masks: list, maximum: bool,
                  shapes: list[tuple]):
    """Keras' ``_apply_merge_op_and_or_mask``: ``a = op(…op(p₁, x₂)…, xₙ)`` where a masked
    value takes the other side's, so it never wins::

        x' = where(mₓ, x, p)     p' = where(mₚ, p, x')     p ← op(p', x')
        mₚ ← mₚ ∨ mₓ  (None as soon as one input has no mask)

    ``xs`` have one rank (Keras' extra axes of size 1), ``shapes`` are the inputs' own.
    Returns ``(a, MaskedSelectCache)``."""
    op = np.maximum if maximum else np.minimum
    p, p_mask, steps = xs[0], masks[0], []
    for x, x_mask in zip(xs[1:], masks[1:], strict=True):
        x_used = x if x_mask is None else np.where(x_mask, x, p)         # x' = where(mₓ, x, p)
        p_used = p if p_mask is None else np.where(p_mask, p, x_used)    # p' = where(mₚ, p, x')
        keep = p_used >= x_used if maximum else p_used <= x_used   # TensorFlow: ties to p'
        steps.append(MaskedStep(p.shape, x_mask, p_mask, keep))
        p_mask = None if p_mask is None or x_mask is None else p_mask | x_mask
        p = op(p_used, x_used)
    return p, MaskedSelectCache(list(shapes), steps)


def masked_select_backward(cache: MaskedSelectCache, grad_outputs: np.ndarray) -> list:
    """The backward pass of :func:`masked_select`, step by step from the last: ``op``
    sends ``δ`` to the side that won (``keep``), then each ``where`` to the side it took::

        δp' = where(keep, δ, 0)          δx' = where(keep, 0, δ)
        δx' += where(mₚ, 0, δp')         δp  = where(mₚ, δp', 0)
        δx  = where(mₓ, δx', 0)          δp += where(mₓ, 0, δx')

    each summed back to its input's shape (:func:`unbroadcast`)."""
    zero = np.zeros((), dtype=grad_outputs.dtype)
    grads: list = [None] * len(cache.shapes)
    grad_p = grad_outputs
    for i in range(len(cache.shapes) - 1, 0, -1):
        previous_shape, x_mask, p_mask, keep = cache.steps[i - 1]
        grad_p_used = np.where(keep, grad_p, zero)
        grad_x_used = np.where(keep, zero, grad_p)
        if p_mask is not None:
            grad_x_used = grad_x_used + np.where(p_mask, zero, grad_p_used)
            grad_p_used = np.where(p_mask, grad_p_used, zero)
        if x_mask is not None:
            grad_p_used = grad_p_used + np.where(x_mask, zero, grad_x_used)
            grad_x_used = np.where(x_mask, grad_x_used, zero)
        grads[i] = unbroadcast(grad_x_used, cache.shapes[i])
        grad_p = unbroadcast(grad_p_used, previous_shape)
    grads[0] = unbroadcast(grad_p, cache.shapes[0])
    return grads
