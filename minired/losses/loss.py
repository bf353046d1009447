"""The base class of every loss: per-sample values, their gradient, and the batch reduction.

A loss turns ``(y_true, y_pred)`` into one number ``L``. Keras computes it in two steps,
and so does minired:

1. ``values(y_true, y_pred)``: one loss ``ℓ_n`` per sample (shape ``(N,)``);
2. reduction: with the default ``"sum_over_batch_size"`` and optional sample weights
   ``w_n``, ``L = Σ_n w_n ℓ_n / N``. The divisor is ``N``, **not** ``Σ w_n`` (a Keras
   detail that changes the loss as soon as weights are used).

The gradient follows the same two steps: ``∂L/∂ŷ_n = (w_n / N) · ∂ℓ_n/∂ŷ_n``.
"""

from __future__ import annotations

import numpy as np

from minired import config

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    """Base loss. Subclasses implement :meth:`values` and :meth:`gradients`.

    Args:
        name: the loss name.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"`` (same as the
            default), ``"mean_with_sample_weight"`` (divide by ``Σ w``) or ``"none"``.
    """

    #: Cross-entropies set this: when the model's output comes from a softmax or a sigmoid,
    #: the loss is computed from that layer's logits (see ``minired.keras_numerics``).
    uses_output_logits = False
    #: Whether ``y_pred`` holds logits; the cross-entropies take it as an argument.
    from_logits = False

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: `reduction` must be one of {REDUCTIONS}, "
                f"got {reduction!r}."
            )
        self.name = name or type(self).__name__
        self.reduction = reduction

    # -- implemented by each loss -------------------------------------------------------------
    def values(self, y_true: np.ndarray, y_pred: np.ndarray,
               from_logits: bool = False) -> np.ndarray:
        """Per-sample losses ``ℓ_n``, shape ``(N,)``."""
        raise NotImplementedError

    def gradients(self, y_true: np.ndarray, y_pred: np.ndarray,
                  from_logits: bool = False) -> np.ndarray:
        """``∂ℓ_n/∂ŷ_n`` for every sample, shape of ``y_pred``."""
        raise NotImplementedError

    def prepare(self, y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
        """Cast both to floatx, match their ranks as Keras does, and check the labels."""
        y_pred = np.asarray(y_pred, dtype=config.floatx())
        y_true = np.asarray(y_true, dtype=config.floatx())
        return squeeze_or_expand_to_same_rank(y_true, y_pred)

    # -- shared machinery ---------------------------------------------------------------------
    def call(self, y_true, y_pred) -> np.ndarray:
        """Per-sample losses (Keras' ``Loss.call``)."""
        y_true, y_pred = self.prepare(y_true, y_pred)
        return self.values(y_true, y_pred, self.from_logits)

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Reduced loss ``L`` (a float; an array of ``w_n ℓ_n`` with ``reduction="none"``)."""
        if self.reduction in ("none", None):
            y_true, y_pred = self.prepare(y_true, y_pred)
            losses = self.values(y_true, y_pred, self.from_logits)
            return losses * self._sample_weights(sample_weight, len(losses), losses.dtype)
        return self.compute(y_true, y_pred, sample_weight, gradient=False)[0]

    def value_and_gradient(self, y_true, y_pred, sample_weight=None,
                           from_logits: bool | None = None):
        """Return ``(L, ∂L/∂y_pred)`` for the reduced loss (see :meth:`compute`)."""
        return self.compute(y_true, y_pred, sample_weight, from_logits, gradient=True)

    def compute(self, y_true, y_pred, sample_weight=None, from_logits: bool | None = None,
                gradient: bool = True) -> tuple[float, np.ndarray | None]:
        """``(L, ∂L/∂y_pred)``, or ``(L, None)`` without the gradient: the one path every
        caller (``__call__``, ``fit``, ``evaluate``) goes through.

        ``L = Σ_n w_n ℓ_n / divisor`` and ``∂L/∂ŷ_n = (w_n / divisor) · ∂ℓ_n/∂ŷ_n``.

        Args:
            y_true: targets.
            y_pred: predictions, or logits when ``from_logits`` is true.
            sample_weight: optional per-sample weights ``w_n``.
            from_logits: overrides the loss's own ``from_logits`` (the model sets it when it
                hands over the logits of its softmax/sigmoid output).
            gradient: whether to compute ``∂L/∂y_pred``.

        Example:
            >>> from minired.losses import MeanSquaredError
            >>> MeanSquaredError().compute([[1.0]], [[3.0]])
            (4.0, array([[4.]], dtype=float32))
        """
        if self.reduction in ("none", None) and gradient:
            raise ValueError(
                f"{self.name}: a gradient needs a scalar loss, but `reduction` is "
                f"{self.reduction!r}; use 'sum_over_batch_size' or 'sum'."
            )
        if from_logits is None:
            from_logits = self.from_logits
        y_true, y_pred = self.prepare(y_true, y_pred)
        losses = self.values(y_true, y_pred, from_logits)
        weights = self._sample_weights(sample_weight, len(losses), losses.dtype)
        divisor = self._divisor(weights)
        value = float(_divide_no_nan(np.sum(losses * weights), divisor))
        if not gradient:
            return value, None
        # ∂L/∂ŷ_n = (w_n / divisor) · ∂ℓ_n/∂ŷ_n, broadcast over the sample's other axes.
        scale = _divide_no_nan(weights, divisor).reshape((-1,) + (1,) * (y_pred.ndim - 1))
        return value, self.gradients(y_true, y_pred, from_logits) * scale

    def _sample_weights(self, sample_weight, n: int, dtype) -> np.ndarray:
        if sample_weight is None:
            return np.ones(n, dtype=dtype)
        weights = np.asarray(sample_weight, dtype=dtype)
        if weights.ndim == 2 and weights.shape[-1] == 1:
            weights = weights[:, 0]
        if weights.shape != (n,):
            raise ValueError(
                f"{self.name}: `sample_weight` must have shape ({n},), got {weights.shape}."
            )
        return weights

    def _divisor(self, weights: np.ndarray):
        if self.reduction == "sum":
            return weights.dtype.type(1)
        if self.reduction == "mean_with_sample_weight":
            return np.sum(weights)
        return weights.dtype.type(len(weights))  # sum_over_batch_size / mean: N, not Σw

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


def _divide_no_nan(numerator, divisor):
    """``numerator / divisor``, or 0 where the divisor is 0 (Keras' ``ops.divide_no_nan``).

    The divisor is 0 only for ``"mean_with_sample_weight"`` with all weights 0, or an empty
    batch: the loss is then 0, not NaN.
    """
    if divisor == 0:
        return np.zeros_like(numerator)
    return numerator / divisor


def squeeze_or_expand_to_same_rank(y_true: np.ndarray, y_pred: np.ndarray):
    """Match ranks that differ by one trailing axis of size 1, as Keras does.

    So ``y_true`` of shape ``(N,)`` against ``y_pred`` of shape ``(N, 1)`` becomes ``(N, 1)``
    instead of broadcasting to ``(N, N)``.
    """
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0] if y_pred.ndim != 1 else y_true
        if y_pred.ndim == 1:
            y_pred = y_pred[..., None]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[..., None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def check_label_smoothing(loss_name: str, label_smoothing: float) -> float:
    """Return ``label_smoothing`` as a float after checking it lies in [0, 1]."""
    if not 0 <= label_smoothing <= 1:
        raise ValueError(
            f"{loss_name}: `label_smoothing` must lie in [0, 1], got {label_smoothing!r}."
        )
    return float(label_smoothing)


def check_same_shape(loss_name: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    """Raise a ValueError when targets and predictions do not have the same shape."""
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{loss_name}: `y_true` must have the shape of `y_pred` {y_pred.shape}, "
            f"got {y_true.shape}."
        )
