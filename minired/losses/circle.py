"""Circle loss: a metric-learning loss on the pairwise similarities of unit embeddings."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import Loss


class Circle(Loss):
    """Circle loss (Sun et al., 2020) between integer labels and L2-normalised embeddings.

    Every sample is compared with every other one of the batch: pairs of the same label
    (positives, without the sample itself when ``remove_diagonal``) should be close, pairs
    of different labels (negatives) far. With ``Y`` the ``(N, D)`` embeddings, ``m`` the
    margin and ``γ`` the scale, per pair ``(i, j)``::

        d_ij = max(1 - (Y Yᵀ)_ij, 0)                          (cosine distance)
        a_ij = -γ · max(m + d_ij, 0) · (m - d_ij)              (j a positive of i)
        b_ij =  γ · max(1 + m - d_ij, 0) · (1 - m - d_ij)      (j a negative of i)
        ℓ_i = softplus(logsumexp_{j pos} a_ij + logsumexp_{j neg} b_ij)

    A sample without positives (or negatives) has a logsumexp of ``-∞`` and ``ℓ_i = 0``.
    As in Keras, the losses equal to 0 are **masked**: with ``"sum_over_batch_size"`` the
    mean runs over the samples whose loss is positive.

    Backward. ``ℓ_i`` depends on the whole batch, so the gradient needs the weights
    ``u_i = ∂L/∂ℓ_i`` of every loss value (the reduction's ``w_i / M``), and
    :meth:`compute` passes them in. With ``s_i = σ(p_i + n_i)``, ``A`` and ``B`` the
    softmaxes of ``a`` and ``b`` over the positives and negatives of each row::

        ∂a_ij/∂d_ij = -γ [1[m + d_ij ≥ 0] (m - d_ij) - max(m + d_ij, 0)]
        ∂b_ij/∂d_ij =  γ [-1[1 + m - d_ij ≥ 0] (1 - m - d_ij) - max(1 + m - d_ij, 0)]
        G_ij = ∂L/∂(Y Yᵀ)_ij = -u_i s_i (A_ij ∂a_ij/∂d_ij + B_ij ∂b_ij/∂d_ij) · 1[1 - (Y Yᵀ)_ij ≥ 0]
        ∂L/∂Y = (G + Gᵀ) Y

    Keras: ``losses/losses.py::circle``. Names: ``"circle"``, ``"Circle"``.

    Args:
        gamma: the scale ``γ``.
        margin: the relaxation ``m``.
        remove_diagonal: whether a sample is left out of its own positives.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> y = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
        >>> Circle(gamma=2.0, reduction="none")([0, 0, 1], y).round(4)
        array([0.4518, 0.7763, 0.    ], dtype=float32)
    """

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction="sum_over_batch_size", name: str = "circle", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma = float(gamma)
        self.margin = float(margin)
        self.remove_diagonal = bool(remove_diagonal)

    def prepare(self, y_true, y_pred):
        y_pred = np.asarray(y_pred, dtype=config.floatx())
        labels = np.asarray(y_true)
        if y_pred.ndim != 2:
            raise ValueError(f"{self.name}: `y_pred` must be embeddings of shape (batch_size, "
                             f"dim), got shape {y_pred.shape}.")
        if labels.shape not in ((len(y_pred),), (len(y_pred), 1)):
            raise ValueError(f"{self.name}: `y_true` must hold one integer label per sample, "
                             f"shape ({len(y_pred)},) or ({len(y_pred)}, 1), got shape "
                             f"{labels.shape}.")
        return labels.reshape(-1).astype(np.int32), y_pred        # Keras casts to int32

    def _forward(self, labels, y):
        """Everything the loss and its gradient share, in a dict."""
        dtype = y.dtype.type
        gamma, m = dtype(self.gamma), dtype(self.margin)
        similarity = y @ y.T
        distance = np.maximum(1 - similarity, dtype(0))
        positive = labels[:, None] == labels[None, :]
        negative = ~positive
        if self.remove_diagonal:
            positive = positive & ~np.eye(len(labels), dtype=bool)
        pos_weight = np.maximum((m + distance) * positive, dtype(0))
        # 1 + m and 1 - m are computed in Python floats and then cast, as in Keras
        neg_weight = np.maximum((dtype(1 + self.margin) - distance) * negative, dtype(0))
        a = dtype(-1 * self.gamma) * pos_weight * (m - distance)
        b = gamma * neg_weight * (dtype(1 - self.margin) - distance)
        p_loss, soft_a = _masked_logsumexp(a, positive)
        n_loss, soft_b = _masked_logsumexp(b, negative)
        return dict(similarity=similarity, distance=distance, positive=positive,
                    negative=negative, gamma=gamma, m=m, p_loss=p_loss, n_loss=n_loss,
                    soft_a=soft_a, soft_b=soft_b, loss=np.logaddexp(dtype(0), p_loss + n_loss))

    def values(self, y_true, y_pred, from_logits=False):
        return self._forward(y_true, y_pred)["loss"]

    def _backward(self, labels, y, upstream):
        """``∂L/∂Y`` for ``L = Σ_i u_i ℓ_i`` (``upstream`` = ``u``, shape ``(N,)``)."""
        f = self._forward(labels, y)
        d, gamma, m = f["distance"], f["gamma"], f["m"]
        pos, neg = f["positive"], f["negative"]
        opt_neg, delta_neg = d.dtype.type(1 + self.margin), d.dtype.type(1 - self.margin)
        open_pos = ((m + d) * pos >= 0) & pos          # where max(·, 0) passes the gradient
        open_neg = ((opt_neg - d) * neg >= 0) & neg
        d_a = -gamma * (open_pos * (m - d) - np.maximum((m + d) * pos, 0))
        d_b = gamma * (-(open_neg * (delta_neg - d)) - np.maximum((opt_neg - d) * neg, 0))
        with np.errstate(over="ignore"):
            s = 1 / (1 + np.exp(-(f["p_loss"] + f["n_loss"])))  # σ: softplus' slope
        d_distance = (upstream * s)[:, None] * (f["soft_a"] * d_a + f["soft_b"] * d_b)
        g = -d_distance * (1 - f["similarity"] >= 0)
        return (g + g.T) @ y

    def gradients(self, y_true, y_pred, from_logits=False):
        """``∂(Σ_i ℓ_i)/∂Y``: every loss value weighs 1 (:meth:`compute` weighs them)."""
        return self._backward(y_true, y_pred, np.ones(len(y_pred), dtype=y_pred.dtype))

    def compute(self, y_true, y_pred, sample_weight=None, from_logits: bool | None = None,
                gradient: bool = True, mask=None):
        """``(L, ∂L/∂Y)``: Keras' reduction with the mask ``ℓ > 0`` (joined to ``mask``),
        and the gradient from the weights ``u = ∂L/∂ℓ`` of all the loss values at once."""
        if self.reduction in ("none", None) and gradient:
            return super().compute(y_true, y_pred, sample_weight, from_logits, gradient, mask)
        labels, y = self.prepare(y_true, y_pred)
        losses = self.values(labels, y)
        mask = losses > 0 if mask is None else np.asarray(mask).reshape(losses.shape) & (
            losses > 0)
        value, upstream = self._weighted_mean(losses, sample_weight, mask)
        if not gradient:
            return value, None
        return value, self._backward(labels, y, np.asarray(upstream, dtype=y.dtype)
                                     .reshape(losses.shape)).reshape(np.shape(y_pred))

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.reduction in ("none", None):         # Keras' mask ℓ > 0 as 0/1 weights
            losses = self.values(*self.prepare(y_true, y_pred))
            shaped, weights = self._match_weights(losses, sample_weight)
            return shaped * weights * (shaped > 0)
        return super().__call__(y_true, y_pred, sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}


def _masked_logsumexp(x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log Σ_{j: mask} e^{x_ij}, its softmax over those j)`` per row; ``-∞`` and a row of
    zeros where the mask is empty (TensorFlow's ``reduce_logsumexp`` of ``-∞`` values)."""
    x = np.where(mask, x, -np.inf)
    top = np.max(x, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    e = np.exp(x - top)
    total = np.sum(e, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = (np.log(total) + top)[:, 0]
        soft = np.where(total > 0, e / total, 0)
    return lse, soft


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal: bool = True,
           gamma: float = 80, margin: float = 0.4) -> np.ndarray:
    """Per-sample circle loss (see :class:`Circle`), unmasked.

    Keras' ``ref_labels`` and ``ref_embeddings`` (another set to compare with) are not
    supported: the batch is compared with itself.

    Example:
        >>> circle([0, 1], [[1.0, 0.0], [0.0, 1.0]])      # no positives: 0
        array([0., 0.], dtype=float32)
    """
    if ref_labels is not None or ref_embeddings is not None:
        raise ValueError("circle: `ref_labels` and `ref_embeddings` are not supported by "
                         "minired; the batch is compared with itself.")
    return Circle(gamma, margin, remove_diagonal).call(y_true, y_pred)
