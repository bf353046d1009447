"""Sparse activations (Blondel, Martins and Niculae, 2019): sparse_plus, sparse_sigmoid and
sparsemax, which reach exactly 0 (sparsemax also exactly 1) where their smooth models
(softplus, sigmoid, softmax) only come close.

Same notation and contract as :mod:`minired.activations.activations`: ``a = f(z)``, and
``f.backward(z, a, δa, **the same arguments)`` returns ``δz``.
"""

from __future__ import annotations

import numpy as np

from minired.activations.activations import _backward_of


def sparse_plus(x: np.ndarray) -> np.ndarray:
    """Sparse plus, a softplus made of pieces: 0 for ``z <= -1``, ``(z + 1)² / 4`` for
    ``-1 < z < 1``, and ``z`` for ``z >= 1``.

    Backward: ``δz = δa (z + 1) / 2`` for ``-1 < z < 1``, ``δa`` for ``z >= 1``, 0 below
    (the pieces meet with equal slopes, so no kink choice is needed).

    Example:
        >>> sparse_plus(np.array([-2.0, 0.0, 0.5, 3.0]))
        array([0.    , 0.25  , 0.5625, 3.    ])
    """
    return np.where(x <= -1, 0, np.where(x < 1, 0.25 * np.square(x + 1), x)
                    ).astype(x.dtype, copy=False)


@_backward_of(sparse_plus, reads_output=False)
def sparse_plus_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return np.where(z <= -1, 0, np.where(z < 1, grad * 0.25 * 2 * (z + 1), grad)
                    ).astype(grad.dtype, copy=False)


def sparse_sigmoid(x: np.ndarray) -> np.ndarray:
    """Sparse sigmoid, a sigmoid made of pieces: 0 for ``z <= -1``, ``(z + 1) / 2`` for
    ``-1 < z < 1``, and 1 for ``z >= 1``.

    Backward: ``δz = δa / 2 · 1[-1 < z < 1]`` (0 at both kinks).

    Example:
        >>> sparse_sigmoid(np.array([-2.0, 0.0, 0.5, 3.0]))
        array([0.  , 0.5 , 0.75, 1.  ])
    """
    return np.where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1))).astype(x.dtype, copy=False)


@_backward_of(sparse_sigmoid, reads_output=False)
def sparse_sigmoid_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return np.where((z > -1) & (z < 1), 0.5 * grad, 0).astype(grad.dtype, copy=False)


def sparsemax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sparsemax (Martins and Astudillo, 2016): the point of the probability simplex closest
    to ``z``, ``a_i = max(z_i - τ, 0)`` with ``τ`` chosen so that ``Σ_i a_i = 1``.

    Like softmax it gives a distribution over ``axis``, but small scores get exactly 0.
    ``τ``: sort ``z`` in decreasing order (``z_(1) >= z_(2) >= ...``); the support is the
    ``k`` largest, those with ``1 + j z_(j) > Σ_{i<=j} z_(i)``, and
    ``τ = (Σ_{i<=k} z_(i) - 1) / k``.

    Backward (``S`` the support, ``k = |S|``): ``δz_i = 1[i ∈ S] (δa_i - Σ_{j∈S} δa_j / k)``:
    on the support, ``δa`` minus its mean there; 0 elsewhere. (Where ``z_i = τ`` exactly,
    TensorFlow's ``maximum`` passes ``δa_i`` though ``i`` is not in ``S``: so does this one.)

    Keras 3.15 computes ``τ`` from the sum of the cumulative sums over the support, whose
    output does not sum to 1 when the support has more than one element (keras-team/keras
    issue 23425, fixed in pull request 23469): minired follows the paper and the fix.

    Example:
        >>> sparsemax(np.array([[1.0, 0.5, 0.0], [3.0, 0.0, 0.0]]))
        array([[0.75, 0.25, 0.  ],
               [1.  , 0.  , 0.  ]])
    """
    tau, _ = _threshold_and_support(x, axis)
    return np.maximum(x - tau, 0).astype(x.dtype, copy=False)


def _threshold_and_support(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Sparsemax's ``τ`` (kept along ``axis``) and the size ``k`` of its support."""
    ranked = -np.sort(-x, axis=axis)                          # decreasing along axis
    cumulative = np.cumsum(ranked, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    j = np.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    in_support = ranked - (cumulative - 1) / j > 0
    k = np.sum(in_support, axis=axis, keepdims=True).astype(x.dtype)
    tau = (np.sum(np.where(in_support, ranked, 0), axis=axis, keepdims=True) - 1) / k
    return tau.astype(x.dtype, copy=False), k


@_backward_of(sparsemax, reads_output=False)
def sparsemax_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, axis: int = -1
                       ) -> np.ndarray:
    tau, k = _threshold_and_support(z, axis)
    passed = np.where(z - tau >= 0, grad, 0)                   # through max(z - τ, 0)
    through_tau = np.sum(passed, axis=axis, keepdims=True) / k
    return (passed - np.where(z > tau, through_tau, 0)).astype(grad.dtype, copy=False)
