"""CTC: the loss of a label sequence read off a longer sequence of per-step class scores."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.activations import log_softmax, softmax
from minired.losses.loss import Loss


class CTC(Loss):
    """Connectionist Temporal Classification (Graves et al., 2006): ``ℓ = -log P(y | z)``.

    ``z`` are logits of shape ``(N, T, C)``, one score per time step and class; class 0 is
    the **blank**. ``y`` are integer labels of shape ``(N, L)``, padded with 0 at the end
    (a sample's length is its number of non-zero labels). ``P(y | z)`` sums, over every
    alignment of ``T`` steps that reads ``y`` once repeats are merged and blanks removed,
    the product of the per-step probabilities ``softmax(z)``.

    Forward (log space, vectorised over the batch, a loop over time). The extended label
    ``y'`` puts a blank around every label: ``y' = (0, y_1, 0, y_2, …, y_L, 0)``, length
    ``S = 2L + 1``; with ``e_t(s) = log softmax(z_t)_{y'_s}``::

        log α_0(0) = e_0(0),   log α_0(1) = e_0(1)
        log α_t(s) = e_t(s) + logsumexp(log α_{t-1}(s), log α_{t-1}(s-1), [log α_{t-1}(s-2)])
        ℓ = -logsumexp(log α_{T-1}(S-1), log α_{T-1}(S-2))

    where the skip ``s-2`` is allowed when ``y'_s`` is not blank and differs from ``y'_{s-2}``.

    Backward (the α-β recursion): ``β`` runs the same recursion from the end, so that
    ``α_t(s) β_t(s) / softmax(z_t)_{y'_s}`` is the probability of the alignments through
    ``(t, s)``; with ``γ_t(s) = log α_t(s) + log β_t(s) - e_t(s) + ℓ``::

        ∂ℓ/∂z_{t,k} = softmax(z_t)_k - Σ_{s: y'_s = k} e^{γ_t(s)}

    the probabilities minus the posterior occupancy of each class. Keras (TensorFlow's
    ``tf.nn.ctc_loss``) computes in float32 even for float64 inputs; minired computes in
    the floatx precision. An impossible alignment (``T`` too short) gives ``ℓ = ∞``.

    Keras: ``losses/losses.py::ctc``. Names: ``"ctc"``, ``"CTC"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> z = np.zeros((1, 2, 2))                  # two steps, uniform over {blank, 1}
        >>> round(CTC()([[1]], z), 4)               # 3 of the 4 paths read "1": -log(3/4)
        0.2877
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "ctc", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_pred = np.asarray(y_pred, dtype=config.floatx())
        labels = np.asarray(y_true)
        if labels.ndim != 2:
            raise ValueError("Targets `y_true` are expected to be a tensor of shape "
                             "`(batch_size, max_length)` in integer format. "
                             f"Received: y_true.shape={labels.shape}")
        if y_pred.ndim != 3:
            raise ValueError("Logits `y_pred` are expected to be a tensor of shape "
                             "`(batch_size, max_length, num_classes)`. "
                             f"Received: y_pred.shape={y_pred.shape}")
        if len(labels) != len(y_pred):
            raise ValueError(f"{self.name}: `y_true` has {len(labels)} samples and `y_pred` "
                             f"{len(y_pred)}.")
        labels = labels.astype(np.int64)                       # Keras casts to int32
        if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[-1]):
            raise ValueError(f"{self.name}: labels must lie in [0, {y_pred.shape[-1] - 1}] "
                             f"(0 is the blank and the padding), got values from "
                             f"{labels.min()} to {labels.max()}.")
        padding = labels == 0
        if np.any(padding[:, :-1] & ~padding[:, 1:]):
            raise ValueError(f"{self.name}: the label 0 is the blank, used only as padding at "
                             "the end of a sequence; a row of `y_true` has a 0 before a "
                             "non-zero label.")
        return labels, y_pred

    @staticmethod
    def _extended(labels):
        """``(y', valid, skip)``: the extended labels ``(N, S)``, which positions exist for
        each sample (``s < 2 L_n + 1``), and where the skip ``s-2 → s`` is allowed."""
        n, length = labels.shape
        extended = np.zeros((n, 2 * length + 1), dtype=np.int64)
        extended[:, 1::2] = labels
        lengths = np.sum(labels != 0, axis=1)
        valid = np.arange(2 * length + 1)[None, :] < (2 * lengths + 1)[:, None]
        skip = np.zeros_like(valid)
        skip[:, 2:] = (extended[:, 2:] != 0) & (extended[:, 2:] != extended[:, :-2])
        return extended, valid, skip, lengths

    def _alpha_beta(self, labels, z):
        """``(log α, log β, e, log P, y')``: the first three of shape ``(N, T, S)``, the
        log-likelihood ``log P(y | z)`` of shape ``(N,)``, the extended labels ``(N, S)``."""
        n, steps, _ = z.shape
        extended, valid, skip, lengths = self._extended(labels)
        log_p = log_softmax(z)
        e = np.take_along_axis(log_p, np.broadcast_to(extended[:, None, :],
                                                      (n, steps, extended.shape[1])), axis=-1)
        e = np.where(valid[:, None, :], e, -np.inf)
        rows = np.arange(n)
        alpha = np.full_like(e, -np.inf)
        alpha[:, 0, 0] = e[:, 0, 0]
        alpha[:, 0, 1] = np.where(lengths > 0, e[:, 0, 1], -np.inf)
        for t in range(1, steps):
            alpha[:, t] = e[:, t] + _logsumexp3(alpha[:, t - 1], _shift(alpha[:, t - 1], 1),
                                                np.where(skip, _shift(alpha[:, t - 1], 2),
                                                         -np.inf))
        last = 2 * lengths                                     # the final blank
        beta = np.full_like(e, -np.inf)
        beta[rows, -1, last] = e[rows, -1, last]             # end on the final blank,
        labelled = rows[lengths > 0]                           # or on the last label
        beta[labelled, -1, last[labelled] - 1] = e[labelled, -1, last[labelled] - 1]
        skip_from = np.zeros_like(skip)                        # the skip s → s+2 is allowed
        skip_from[:, :-2] = skip[:, 2:]
        for t in range(steps - 2, -1, -1):
            beta[:, t] = e[:, t] + _logsumexp3(beta[:, t + 1], _shift(beta[:, t + 1], -1),
                                               np.where(skip_from, _shift(beta[:, t + 1], -2),
                                                        -np.inf))
        final = alpha[rows, -1, last]
        previous = np.where(lengths > 0, alpha[rows, -1, np.maximum(last - 1, 0)], -np.inf)
        return alpha, beta, e, np.logaddexp(final, previous), extended

    def values(self, y_true, y_pred, from_logits=False):
        return -self._alpha_beta(y_true, y_pred)[3]

    def gradients(self, y_true, y_pred, from_logits=False):
        return self.values_and_gradients(y_true, y_pred)[1]

    def values_and_gradients(self, y_true, y_pred, from_logits=False):
        """ℓ and ∂ℓ/∂z from one forward-backward pass."""
        alpha, beta, e, log_likelihood, extended = self._alpha_beta(y_true, y_pred)
        with np.errstate(invalid="ignore"):                    # -inf - -inf where unreachable
            gamma = alpha + beta - e - log_likelihood[:, None, None]
        occupancy = np.where(np.isfinite(gamma), np.exp(gamma), 0)          # (N, T, S)
        one_hot = np.eye(y_pred.shape[-1], dtype=y_pred.dtype)[extended]     # (N, S, C)
        return -log_likelihood, softmax(y_pred) - occupancy @ one_hot

    def compute(self, y_true, y_pred, sample_weight=None, from_logits: bool | None = None,
                gradient: bool = True, mask=None):
        """``(L, ∂L/∂z)``: one loss per sample (not per time step), so each sample's
        ``(T, C)`` gradient is scaled by its ``∂L/∂ℓ_n = w_n / M``."""
        if self.reduction in ("none", None) and gradient:
            return super().compute(y_true, y_pred, sample_weight, from_logits, gradient, mask)
        labels, z = self.prepare(y_true, y_pred)
        if not gradient:
            return self._weighted_mean(self.values(labels, z), sample_weight, mask)[0], None
        losses, grad = self.values_and_gradients(labels, z)
        value, upstream = self._weighted_mean(losses, sample_weight, mask)
        return value, grad * np.asarray(upstream, dtype=z.dtype).reshape(-1, 1, 1)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.reduction in ("none", None):
            losses, weights = self._match_weights(self.values(*self.prepare(y_true, y_pred)),
                                                  sample_weight)
            return losses * weights
        return super().__call__(y_true, y_pred, sample_weight)


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` moved ``k`` places along the last axis (``x[s - k]``), ``-∞`` where it enters."""
    out = np.full_like(x, -np.inf)
    if k > 0:
        out[:, k:] = x[:, :-k]
    else:
        out[:, :k] = x[:, -k:]
    return out


def _logsumexp3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``log(e^a + e^b + e^c)`` element-wise, ``-∞`` when all three are."""
    top = np.maximum(np.maximum(a, b), c)
    safe = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(a - safe) + np.exp(b - safe) + np.exp(c - safe)) + safe


def ctc(y_true, y_pred) -> np.ndarray:
    """Per-sample CTC loss (see :class:`CTC`): labels ``(N, L)`` padded with 0, logits
    ``(N, T, C)`` with the blank as class 0.

    Example:
        >>> ctc([[1]], np.zeros((1, 1, 2))).round(4)      # one step: only "1" reads "1"
        array([0.6931], dtype=float32)
    """
    return CTC().call(y_true, y_pred)
