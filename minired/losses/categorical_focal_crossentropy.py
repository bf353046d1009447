"""Categorical focal cross-entropy: categorical cross-entropy that down-weights easy examples."""

from __future__ import annotations

import warnings

import numpy as np

from minired import config
from minired.activations import softmax
from minired.losses.loss import Loss, check_label_smoothing, check_same_shape


class CategoricalFocalCrossentropy(Loss):
    """Categorical cross-entropy with a focal factor ``α (1 - p_c)^γ`` per class (Lin et al.).

    With ``p`` the predicted probabilities (``softmax(z)`` when ``from_logits``) and ``y``
    the (smoothed) one-hot targets, per vector of ``C`` classes::

        q = p / Σ_c p_c,    o = clip(q, ε, 1 - ε)          (Keras renormalises and clips)
        ℓ = Σ_c α_c (1 - o_c)^γ · (-y_c log o_c)

    ``γ = 0`` and ``α = 1`` give :class:`~minired.losses.CategoricalCrossentropy` from
    probabilities. Unlike that loss, Keras never reads the logits behind a softmax output
    layer here: the loss always works on the probabilities (``from_logits=True`` applies a
    softmax first), and so does minired.

    Backward::

        ∂ℓ/∂o_c = α_c y_c [γ (1 - o_c)^{γ-1} log o_c - (1 - o_c)^γ / o_c]
        ∂ℓ/∂q_c = ∂ℓ/∂o_c · 1[ε ≤ q_c ≤ 1 - ε]                   (the clip)
        ∂ℓ/∂p_k = (∂ℓ/∂q_k - Σ_j ∂ℓ/∂q_j q_j) / Σ_c p_c            (the renormalisation)
        from logits:  ∂ℓ/∂z_k = p_k (∂ℓ/∂p_k - Σ_j ∂ℓ/∂p_j p_j)     (the softmax)

    Keras: ``losses/losses.py::categorical_focal_crossentropy``. Names:
    ``"categorical_focal_crossentropy"``, ``"CategoricalFocalCrossentropy"``.

    Args:
        alpha: the class weight ``α``: a float, or a list of one float per class.
        gamma: the focusing parameter ``γ ≥ 0``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: ``y ← y (1 - s) + s / C``.
        axis: the axis of the classes.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> loss = CategoricalFocalCrossentropy(reduction="none")
        >>> np.round(loss([[0.0, 1.0, 0.0]], [[0.1, 0.8, 0.1]]), 5)
        array([0.00223], dtype=float32)
    """

    def __init__(self, alpha: float | list[float] = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name: str = "categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise ValueError(f"{name}: `axis` must be of type `int`, got {axis!r}.")
        if isinstance(alpha, list | tuple | np.ndarray):
            alpha = [float(a) for a in np.asarray(alpha).ravel()]
        elif not isinstance(alpha, int | float | np.floating | np.integer):
            raise TypeError(f"{name}: `alpha` must be a float or a list of floats (one per "
                            f"class), got {alpha!r}.")
        self.alpha = alpha if isinstance(alpha, list) else float(alpha)
        self.gamma = float(gamma)
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_label_smoothing(name, label_smoothing)
        self.axis = int(axis)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        if y_pred.ndim and y_pred.shape[-1] == 1:
            warnings.warn(
                "In loss categorical_focal_crossentropy, expected y_pred.shape to be "
                f"(batch_size, num_classes) with num_classes > 1. Received: "
                f"y_pred.shape={y_pred.shape}. Consider using 'binary_crossentropy' if you "
                "only have 2 classes.", SyntaxWarning, stacklevel=3)
        check_same_shape(self.name, y_true, y_pred)
        if isinstance(self.alpha, list) and len(self.alpha) not in (1, y_pred.shape[-1]):
            raise ValueError(f"{self.name}: `alpha` must have one weight per class "
                             f"({y_pred.shape[-1]}), got {len(self.alpha)}.")
        return y_true, y_pred

    def _alpha(self, y_pred: np.ndarray) -> np.ndarray:
        """``α`` broadcastable against ``y_pred`` (whose ``axis`` was moved last).

        Keras multiplies a list of class weights with the **last** axis of the original
        predictions; when ``axis`` was another one, that axis now sits second to last. A
        list becomes a float32 tensor in Keras (a float stays a Python float), so its
        weights are rounded to float32 even in float64.
        """
        alpha = (np.asarray(self.alpha, dtype=np.float32) if isinstance(self.alpha, list)
                 else self.alpha)
        alpha = np.asarray(alpha, dtype=y_pred.dtype)
        moved = self.axis % y_pred.ndim != y_pred.ndim - 1 if y_pred.ndim else False
        return alpha.reshape(-1, 1) if moved and alpha.ndim else alpha

    def _probabilities(self, y_true, y_pred, from_logits):
        """``(y, p, q, o)``: smoothed targets, probabilities, renormalised, clipped."""
        s = self.label_smoothing
        y = y_true * (1 - s) + s / y_pred.shape[-1] if s else y_true
        p = softmax(y_pred) if from_logits else y_pred
        q = p / np.sum(p, axis=-1, keepdims=True)
        eps = y_pred.dtype.type(config.epsilon())
        return y, p, q, np.clip(q, eps, 1 - eps)

    def values(self, y_true, y_pred, from_logits=False):
        y, _, _, o = self._probabilities(y_true, y_pred, from_logits)
        focal = (1 - o) ** y_pred.dtype.type(self.gamma) * self._alpha(y_pred)
        return np.sum(focal * (-y * np.log(o)), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        y, p, q, o = self._probabilities(y_true, y_pred, from_logits)
        gamma, eps = y_pred.dtype.type(self.gamma), y_pred.dtype.type(config.epsilon())
        d_o = self._alpha(y_pred) * y * (
            gamma * (1 - o) ** (gamma - 1) * np.log(o) - (1 - o) ** gamma / o)
        d_q = d_o * ((q >= eps) & (q <= 1 - eps))                 # the clip passes inside
        d_p = (d_q - np.sum(d_q * q, axis=-1, keepdims=True)) / np.sum(p, axis=-1,
                                                                       keepdims=True)
        if not from_logits:
            return d_p
        return p * (d_p - np.sum(d_p * p, axis=-1, keepdims=True))

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis,
                "alpha": self.alpha, "gamma": self.gamma}


def categorical_focal_crossentropy(y_true, y_pred, alpha: float | list[float] = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> np.ndarray:
    """Per-sample categorical focal cross-entropy (see :class:`CategoricalFocalCrossentropy`).

    Example:
        >>> np.round(categorical_focal_crossentropy([[0.0, 1.0]], [[0.5, 0.5]]), 4)
        array([0.0433], dtype=float32)
    """
    return CategoricalFocalCrossentropy(alpha, gamma, from_logits, label_smoothing,
                                        axis).call(y_true, y_pred)
