"""Dice loss: one minus the overlap of a predicted mask with the true one (segmentation)."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import Loss, check_same_shape


class OverlapLoss(Loss):
    """Base of :class:`Dice` and :class:`~minired.losses.Tversky`: a loss that sums over a
    set of axes (``axis``: an int, a tuple of ints, or None for all of them) instead of
    the last one.

    The reduced axes are moved last and flattened into one, so that :meth:`values` and
    :meth:`gradients` see ``(kept axes..., R)`` and reduce the last axis, as every loss
    does; :meth:`compute` moves the gradient back. ``axis=None`` gives one 0-d loss for
    the whole batch, which the reduction leaves as it is (as in Keras). Per-sample weights
    ``w`` against that one loss ``ℓ`` broadcast as in Keras: the weighted losses are
    ``ℓ w_n``, reduced as usual (``L = ℓ Σw / N`` by default), and
    ``∂L/∂ŷ = ∂ℓ/∂ŷ · Σ_n w_n / M``.
    """

    def __init__(self, axis=None, reduction="sum_over_batch_size", name: str | None = None,
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if axis is not None and not isinstance(axis, int | tuple | list):
            raise TypeError(f"{self.name}: `axis` must be None, an int or a tuple of ints, "
                            f"got {axis!r}.")
        self.axis = list(axis) if isinstance(axis, list) else axis

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def _permutation(self, ndim: int) -> tuple[list[int], list[int]]:
        """``(kept axes, reduced axes)`` of an array of rank ``ndim``."""
        if self.axis is None:
            return [], list(range(ndim))
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"{self.name}: `axis={self.axis}` is out of range for "
                                 f"predictions of rank {ndim}.")
        reduced = sorted({a % ndim for a in axes})
        if len(reduced) != len(axes):
            raise ValueError(f"{self.name}: `axis={self.axis}` repeats an axis.")
        return [a for a in range(ndim) if a not in reduced], reduced

    def _prepare_along_axis(self, y_true, y_pred):
        y_true, y_pred = self.prepare(y_true, y_pred)
        kept, reduced = self._permutation(y_pred.ndim)
        shape = tuple(y_pred.shape[a] for a in kept) + (-1,)
        return (np.transpose(y_true, kept + reduced).reshape(shape),
                np.transpose(y_pred, kept + reduced).reshape(shape), -1)

    def _match_weights(self, losses, sample_weight):
        """One 0-d loss and weights with axes: ``ℓ`` repeated, one copy per weight (Keras'
        ``ℓ * w`` broadcast); otherwise as for every loss."""
        if losses.ndim == 0 and sample_weight is not None and np.ndim(sample_weight) > 0:
            weights = np.asarray(sample_weight, dtype=losses.dtype)
            if weights.shape == (1,):          # Keras squeezes a batch of one's (1,) to ()
                return losses, weights.reshape(())
            return np.broadcast_to(losses, weights.shape), weights
        return super()._match_weights(losses, sample_weight)

    def compute(self, y_true, y_pred, sample_weight=None, from_logits: bool | None = None,
                gradient: bool = True, mask=None):
        """:meth:`Loss.compute`, with the gradient's axes put back where they came from."""
        prepared = self.prepare(y_true, y_pred)[1]
        one_loss = not self._permutation(prepared.ndim)[0]
        if one_loss and np.shape(sample_weight) == (1,) and mask is None:
            # Keras squeezes the weights (1,) of a batch of one to () against the one loss
            # ℓ and returns the 0-d ℓ·w unreduced, whatever the reduction ("sum_over_batch_
            # size" and "sum" agree with the general rule; "mean_with_sample_weight" gives
            # ℓ·w, not Σℓw/Σw = ℓ): L = ℓ w, ∂L/∂ŷ = w ∂ℓ/∂ŷ
            y_flat, p_flat, _ = self._prepare_along_axis(y_true, y_pred)
            w = np.asarray(sample_weight, dtype=p_flat.dtype).reshape(())
            value = self.values(y_flat, p_flat) * w
            if not gradient:
                return value, None
            return value, (self.gradients(y_flat, p_flat) * w).reshape(np.shape(y_pred))
        if one_loss and np.ndim(sample_weight) > 0 and not (
                gradient and self.reduction in ("none", None)):
            # one loss for the whole batch, several weights: L = Σ_n ℓ w_n / M
            y_flat, p_flat, _ = self._prepare_along_axis(y_true, y_pred)
            losses = self.values(y_flat, p_flat)
            value, d_weighted = self._weighted_mean(losses, sample_weight, mask)
            if not gradient:
                return value, None
            # ∂L/∂ℓ = Σ_n w_n / M (every ℓ w_n is the same ℓ); axes all reduced, in order
            d_loss = np.sum(d_weighted).astype(p_flat.dtype)
            return value, (self.gradients(y_flat, p_flat) * d_loss).reshape(np.shape(y_pred))
        value, grad = super().compute(y_true, y_pred, sample_weight, from_logits, gradient,
                                      mask)
        if grad is None:
            return value, None
        order = sum(self._permutation(prepared.ndim), [])
        grad = grad.reshape([prepared.shape[a] for a in order])      # (kept..., reduced...)
        return value, np.transpose(grad, np.argsort(order)).reshape(np.shape(y_pred))

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Dice(OverlapLoss):
    """``ℓ = 1 - 2 Σ y ŷ / (Σ y + Σ ŷ + ε)``: one minus the Dice coefficient of two masks.

    The sums run over ``axis`` (all axes by default: one loss for the whole batch). For
    0/1 masks ``Σ y ŷ`` is the overlap, and ``ℓ = 0`` only when the masks coincide.

    Backward, with ``I = Σ y ŷ`` and ``S = Σ y + Σ ŷ + ε``::

        ∂ℓ/∂ŷ_k = -2 y_k / S + 2 I / S²

    Keras: ``losses/losses.py::dice``. Names: ``"dice"``, ``"Dice"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.
        axis: the axes the sums run over: None (all), an int or a tuple of ints.

    Example:
        >>> y_true = [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
        >>> y_pred = [[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]]
        >>> Dice(axis=1, reduction="none")(y_true, y_pred)
        array([0.5       , 0.75757575], dtype=float32)
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "dice", axis=None,
                 dtype=None):
        super().__init__(axis=axis, reduction=reduction, name=name, dtype=dtype)

    def _sums(self, y_true, y_pred):
        eps = y_pred.dtype.type(config.epsilon())
        return (np.sum(y_true * y_pred, axis=-1),
                np.sum(y_true, axis=-1) + np.sum(y_pred, axis=-1) + eps)

    def values(self, y_true, y_pred, from_logits=False):
        intersection, total = self._sums(y_true, y_pred)
        return 1 - 2 * intersection / total

    def gradients(self, y_true, y_pred, from_logits=False):
        intersection, total = self._sums(y_true, y_pred)
        intersection, total = intersection[..., None], total[..., None]
        return -2 * y_true / total + 2 * intersection / total ** 2


def dice(y_true, y_pred, axis=None) -> np.ndarray:
    """Dice loss over ``axis`` (see :class:`Dice`).

    Example:
        >>> dice([[1.0, 0.0]], [[1.0, 0.0]]) < 1e-6
        np.True_
    """
    return Dice(axis=axis).call(y_true, y_pred)
