"""A layer's activity regularizer: a penalty on what the layer outputs, added to the loss.

Keras' ``activity_regularizer=r`` (any layer, e.g. ``Dense(64, activity_regularizer="l1")``)
adds, at every call, a penalty on each output ``a`` of ``N`` samples::

    R = r(a) / N                    (Keras divides by the batch size; a 0-d output: r(a))
    L = loss(y, ŷ) + ... + R        (R is one of the model's ``losses``)
    δa ← δa + ∂R/∂a = δa + r'(a) / N

so the gradient that flows back into the layer is its output's own gradient plus the
penalty's. With ``r = L1(l1)``, ``∂R/∂a = l1·sign(a)/N``: it pushes activations to exactly
zero (sparse codes, as in a sparse autoencoder).

:func:`activity_penalty` computes ``R`` and the backward of ``R`` for one output;
:func:`recorded_activity_penalty` puts it on the tape (a layer called inside a ``call`` or
on its own); a model's graph keeps them per call (:class:`minired.models.Functional`).

Example:
    >>> value, backward = activity_penalty(mr.regularizers.L1(0.5), np.array([[1.0, -2.0]]))
    >>> float(value), backward(np.float64(1.0))         # 0.5·(1 + 2)/1, 0.5·sign(a)/1
    (1.5, array([[ 0.5, -0.5]]))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from minired.autodiff.tape import record


def activity_penalty(regularizer, a) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """``R = r(a)/N`` (0-d, in ``a``'s dtype) and its backward ``δR ↦ r'(a)·(δR/N)``.

    ``N`` is ``a.shape[0]``; an empty batch gives ``R = 0`` (Keras' ``divide_no_nan``), a
    0-d ``a`` is not divided.
    """
    values = np.asarray(a)
    dtype = values.dtype.type
    batch = values.shape[0] if values.ndim else 1
    scale = dtype(1 / batch) if batch else dtype(0)
    value = regularizer(values) / dtype(batch) if batch else dtype(0)

    def backward(grad: np.ndarray) -> np.ndarray:          # ∂R/∂a · δR
        return regularizer.gradient(values) * (grad * scale)

    return np.asarray(value, dtype=values.dtype), backward


def recorded_activity_penalty(regularizer, a):
    """``R`` of :func:`activity_penalty`, recorded on the active tape with its backward (a
    plain 0-d array when no tape records), ready for ``add_loss``."""
    value, backward = activity_penalty(regularizer, a)
    return record(value, (a,), lambda grad: (backward(grad),))


def is_float_array(a) -> bool:
    """Whether an output is one an activity regularizer reads: a float array (an integer
    output has no gradient)."""
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"
