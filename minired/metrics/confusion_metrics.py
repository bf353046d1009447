"""Metrics from the confusion matrix: counts of true/false positives/negatives, per threshold,
and the rates read from them (precision, recall, AUC, one rate where another reaches a value).

Every metric here keeps running (weighted) counts, one per threshold ``t``: a prediction is
positive when ``ŷ > t`` (strictly), a label is positive when ``y ≠ 0``::

    TP(t) = Σᵢ wᵢ 1[yᵢ ≠ 0] 1[ŷᵢ > t]      FP(t) = Σᵢ wᵢ 1[yᵢ = 0] 1[ŷᵢ > t]
    FN(t) = Σᵢ wᵢ 1[yᵢ ≠ 0] 1[ŷᵢ ≤ t]      TN(t) = Σᵢ wᵢ 1[yᵢ = 0] 1[ŷᵢ ≤ t]

Every element of ``y_pred`` counts as one prediction (a ``(N, C)`` output gives ``N·C``),
except in ``AUC(multi_label=True)``, which keeps one count per threshold and column
(``TP[t, c]``...) and averages the columns' areas.
Keras counts in two ways, and both are reproduced: a direct comparison with each threshold,
and, when the thresholds are evenly spaced (AUC's default), buckets: ``ŷ`` is clipped to
[0, 1] and falls in bucket ``⌈ŷ (T - 1)⌉ - 1``, and the counts are cumulative sums of the
buckets from the top. The two agree except for predictions outside [0, 1].
"""

from __future__ import annotations

import numpy as np

from minired import config
from minired.keras_numerics import as_keras_constant
from minired.losses.loss import squeeze_or_expand_to_same_rank
from minired.metrics.metric import Metric, as_result, divide_no_nan

NEG_INF = -1e10  # Keras' stand-in for -inf (the default threshold with top_k)


def parse_thresholds(thresholds, default: float) -> list[float]:
    """The thresholds as a list (one float gives one threshold), each checked in [0, 1]."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, list | tuple) else [thresholds]
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return values


def is_evenly_distributed(thresholds) -> bool:
    """True for 3 or more thresholds within ``1e-7`` of ``i / (T - 1)``: Keras then counts
    with buckets instead of comparisons (same result for predictions in [0, 1])."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def filter_top_k(x: np.ndarray, k: int) -> np.ndarray:
    """Keep the k largest scores of each row, set the others to ``-1e10`` (TF's ``top_k``:
    of equal scores the lower index is kept)."""
    top = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros_like(x)
    np.put_along_axis(mask, top, 1, axis=-1)
    return x * mask + x.dtype.type(NEG_INF) * (1 - mask)


def update_confusion_matrix(counts: dict[str, np.ndarray], y_true, y_pred, thresholds,
                            top_k: int | None = None, class_id: int | None = None,
                            sample_weight=None, label_weights=None,
                            thresholds_distributed_evenly: bool = False,
                            multi_label: bool = False) -> None:
    """Add one batch to ``counts`` (arrays of shape ``(T,)`` keyed ``"tp"``, ``"fp"``,
    ``"tn"``, ``"fn"``), in place, as Keras' ``update_confusion_matrix_variables``.

    ``top_k`` keeps only the k best scores of each row (the others are negatives);
    ``class_id`` looks at one column of ``(N, C)`` labels and predictions; ``sample_weight``
    of shape ``(N,)`` or ``(N, 1)`` weighs each sample (broadcast over the columns).
    ``multi_label=True`` keeps the columns of ``(N, C)`` data apart: each column is one
    label, counted on its own, and ``counts`` are arrays of shape ``(T, C)``.
    """
    if multi_label and label_weights is not None:
        raise ValueError("`label_weights` for multilabel data should be handled outside of "
                         "`update_confusion_matrix` when `multi_label` is True.")
    dtype = next(iter(counts.values())).dtype
    y_true = np.asarray(y_true).astype(dtype)
    y_pred = np.asarray(y_pred).astype(dtype)
    with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
    thresholds = np.asarray(thresholds, dtype=dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)[..., None]
        # Keras' squeeze_or_expand_to_same_rank(y_true, w, expand_rank_1=False)
        if sample_weight.ndim == y_true.ndim + 1 and sample_weight.shape[-1] == 1:
            sample_weight = sample_weight[..., 0]
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    weights = None
    if sample_weight is not None:
        weights = np.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None:
        label_weights = np.broadcast_to(np.asarray(label_weights, dtype=dtype)[None],
                                        y_pred.shape)
        weights = label_weights if weights is None else weights * label_weights
    if multi_label:         # (N, C): the label axis stays, the counts are (T, C)
        labels, preds = y_true != 0, y_pred
    else:                   # every element is one prediction
        labels, preds = y_true.reshape(-1) != 0, y_pred.reshape(-1)
        weights = None if weights is None else weights.reshape(-1)
    if thresholds_distributed_evenly:
        found = _bucket_counts(labels, preds, len(thresholds), weights, with_epsilon, dtype)
    else:
        found = _threshold_counts(labels, preds, thresholds, weights, dtype)
    for key in counts:
        counts[key] += found[key]


def _threshold_counts(labels, preds, thresholds, weights, dtype) -> dict[str, np.ndarray]:
    """Compare every prediction with every threshold: ``(T, n)`` booleans (``(T, N, C)``
    for multi-label data), summed over the predictions (axis 1)."""
    pred_pos = preds[None] > thresholds.reshape((-1,) + (1,) * preds.ndim)
    label_pos = np.broadcast_to(labels[None], pred_pos.shape)

    def total(condition):
        if weights is None:
            return np.sum(condition.astype(dtype), axis=1)
        return np.sum(np.where(condition, weights, dtype.type(0)), axis=1)

    return {"tp": total(label_pos & pred_pos), "fp": total(~label_pos & pred_pos),
            "tn": total(~label_pos & ~pred_pos), "fn": total(label_pos & ~pred_pos)}


def _bucket_counts(labels, preds, n_thresholds, weights, with_epsilon, dtype
                   ) -> dict[str, np.ndarray]:
    """Keras' evenly-spaced shortcut: each prediction goes to one bucket, and
    ``TP(t_i) = Σ_{b ≥ i} (weighted positives in bucket b)``; likewise FP; then
    ``TN = Σ w·1[y = 0] - FP`` and ``FN = Σ w·1[y ≠ 0] - TP``. Multi-label ``(N, C)``
    data has buckets per column, so the counts are ``(T, C)``."""
    weights = dtype.type(1.0) if weights is None else weights.astype(dtype)
    y = labels.astype(dtype)
    true_labels, false_labels = y * weights, (1.0 - y) * weights
    preds = np.clip(preds, 0.0, 1.0)
    buckets = np.ceil(preds * dtype.type(n_thresholds - 1)) - 1
    if with_epsilon:        # thresholds -ε and 1+ε at the ends: ŷ = 0 goes to bucket 0
        buckets = np.maximum(buckets, 0)
    buckets = buckets.astype(np.int32)
    kept = buckets >= 0     # TF's segment sum drops negative ids (ŷ = 0 when no ε)
    # Where each kept prediction adds: (bucket,) or, per label, (bucket, column).
    where = (buckets[kept], *(index[kept] for index in np.indices(preds.shape)[1:]))

    def cumulative(values):
        per_bucket = np.zeros((n_thresholds, *preds.shape[1:]), dtype=dtype)
        np.add.at(per_bucket, where, np.broadcast_to(values, buckets.shape)[kept])
        return np.cumsum(per_bucket[::-1], axis=0)[::-1]

    tp, fp = cumulative(true_labels), cumulative(false_labels)
    true_total = np.sum(np.broadcast_to(true_labels, preds.shape), axis=0)
    false_total = np.sum(np.broadcast_to(false_labels, preds.shape), axis=0)
    return {"tp": tp, "fp": fp, "tn": false_total - fp, "fn": true_total - tp}


class _ConfusionMatrixConditionCount(Metric):
    """One weighted count per threshold (default ``0.5``): see the module docstring."""

    _condition = "tp"

    def __init__(self, thresholds=None, name: str | None = None,
                 dtype: str | None = None) -> None:
        super().__init__(dtype=dtype, name=name)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5)
        self._thresholds_distributed_evenly = is_evenly_distributed(self.thresholds)
        self.reset_state()

    def reset_state(self) -> None:
        self.accumulator = self._zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        update_confusion_matrix({self._condition: self.accumulator}, y_true, y_pred,
                                self.thresholds, sample_weight=sample_weight,
                                thresholds_distributed_evenly=(
                                    self._thresholds_distributed_evenly))

    def result(self):
        return as_result(self.accumulator[0] if len(self.thresholds) == 1
                         else self.accumulator)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of true positives ``TP(t) = Σᵢ wᵢ 1[yᵢ ≠ 0] 1[ŷᵢ > t]``, per threshold
    (a float for one threshold, an array for several).

    Example:
        >>> m = TruePositives(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
        2.0
    """

    _condition = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of false positives ``FP(t) = Σᵢ wᵢ 1[yᵢ = 0] 1[ŷᵢ > t]``.

    Example:
        >>> m = FalsePositives(); m.update_state([0, 1, 0, 0], [0, 0, 1, 1]); m.result()
        2.0
    """

    _condition = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of true negatives ``TN(t) = Σᵢ wᵢ 1[yᵢ = 0] 1[ŷᵢ ≤ t]``.

    Example:
        >>> m = TrueNegatives(); m.update_state([0, 1, 0, 0], [1, 1, 0, 0]); m.result()
        2.0
    """

    _condition = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of false negatives ``FN(t) = Σᵢ wᵢ 1[yᵢ ≠ 0] 1[ŷᵢ ≤ t]``.

    Example:
        >>> m = FalseNegatives(); m.update_state([0, 1, 1, 1], [0, 1, 0, 0]); m.result()
        2.0
    """

    _condition = "fn"


class _PrecisionRecall(Metric):
    """Shared by Precision and Recall: TP and one other count, per threshold."""

    _direction = "up"
    _other = "fp"

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None) -> None:
        super().__init__(dtype=dtype, name=name)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._thresholds_distributed_evenly = is_evenly_distributed(self.thresholds)
        self.reset_state()

    def reset_state(self) -> None:
        self.counts = {"tp": self._zeros(len(self.thresholds)),
                       self._other: self._zeros(len(self.thresholds))}

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        update_confusion_matrix(self.counts, y_true, y_pred, self.thresholds,
                                top_k=self.top_k, class_id=self.class_id,
                                sample_weight=sample_weight,
                                thresholds_distributed_evenly=(
                                    self._thresholds_distributed_evenly))

    def result(self):
        tp = self.counts["tp"]
        value = divide_no_nan(tp, tp + self.counts[self._other])
        return as_result(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """Precision ``TP / (TP + FP)`` of the predictions ``ŷ > threshold`` (0 when nothing
    is predicted positive), from weighted counts over every batch.

    Args:
        thresholds: a float or a list (one result per threshold); default 0.5, or, with
            ``top_k``, ``-1e10`` (every kept score is positive).
        top_k: only the k highest scores of each row can be positive.
        class_id: only column ``class_id`` of ``(N, C)`` data is looked at.
        name, dtype: as every metric (default name ``"precision"``, then ``"precision_1"``).

    Example:
        >>> m = Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()   # 2/3
        0.6666666865348816
    """

    _other = "fp"


class Recall(_PrecisionRecall):
    """Recall ``TP / (TP + FN)``: the weighted fraction of positive labels predicted
    ``ŷ > threshold`` (0 when there is no positive label). Arguments as :class:`Precision`.

    Example:
        >>> m = Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()   # 2/3
        0.6666666865348816
    """

    _other = "fn"


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


class AUC(Metric):
    """Area under the ROC or the precision-recall curve, from counts at fixed thresholds.

    The thresholds are ``[-ε, 1/(T-1), 2/(T-1), ..., (T-2)/(T-1), 1+ε]`` with ``ε = 1e-7``
    and ``T = num_thresholds`` (or ``[-ε, *sorted(thresholds), 1+ε]``), so that
    predictions of exactly 0 and 1 are counted. At each threshold ``tᵢ``: ``TPR = TP/(TP+FN)``,
    ``FPR = FP/(FP+TN)``, ``precision = TP/(TP+FP)`` (0 where a denominator is 0).

    - ``curve="ROC"``, ``summation_method="interpolation"`` (trapezoids):
      ``AUC = Σᵢ (FPRᵢ - FPRᵢ₊₁) (TPRᵢ + TPRᵢ₊₁) / 2``; ``"minoring"``/``"majoring"`` use
      ``min``/``max`` of the two heights instead.
    - ``curve="PR"``, interpolation: Davis & Goadrich's interpolation, as Keras. Between
      two thresholds with ``P = TP + FP``, ``ΔTP = TPᵢ - TPᵢ₊₁``, ``ΔP = Pᵢ - Pᵢ₊₁``, the
      slope is ``s = ΔTP / max(ΔP, 0)`` and ``b = TPᵢ₊₁ - s Pᵢ₊₁``, and the piece adds
      ``s (ΔTP + b · log(Pᵢ / Pᵢ₊₁)) / (TPᵢ₊₁ + FNᵢ₊₁)`` (the log is 0 unless both P > 0;
      a zero denominator gives 0).
    - ``curve="PR"`` with minoring/majoring, and ``"PRGAIN"``: the Riemann sums above
      with ``x = recall`` and ``y = precision`` (or the gains).

    **Multi-label data** (``multi_label=True``): each column ``c`` of ``(N, C)`` labels and
    scores is its own binary problem, with its own counts ``TP[t, c]``... (variables of
    shape ``(T, C)``, made at the first ``update_state`` or at once from ``num_labels``);
    the result is the mean of the C areas, or their weighted mean with ``label_weights``
    ``λ_c``::

        AUC = Σ_c λ_c AUC_c / Σ_c λ_c        (0 if Σ_c λ_c = 0)

    Without ``multi_label`` every element of ``y_pred`` is one prediction of one binary
    problem, and ``label_weights`` multiply the weights of the elements of each column.

    The counts are the Variables ``true_positives``, ``false_positives``,
    ``true_negatives``, ``false_negatives`` (Keras' names and order), of shape ``(T,)`` or
    ``(T, C)``, in ``floatx`` as Keras.

    Args:
        num_thresholds: T > 1, default 200.
        curve: ``"ROC"`` (default), ``"PR"`` or ``"PRGAIN"``.
        summation_method: ``"interpolation"`` (default), ``"minoring"`` or ``"majoring"``.
        name, dtype: as every metric (default name ``"auc"``).
        thresholds: explicit thresholds in [0, 1] (then ``num_thresholds`` is ignored).
        multi_label: ``True`` for one AUC per column of ``(N, C)`` data, averaged;
            ``False`` (default) counts every element of ``y_pred`` as one prediction.
        num_labels: with ``multi_label``, the number of labels C, to make the variables at
            once (``None``: from the first batch); must be None without ``multi_label``.
        label_weights: one weight per label (column): with ``multi_label``, the weights of
            the per-label mean; without, multiplied into the counts.
        from_logits: apply a sigmoid to ``y_pred`` first.

    Example:
        >>> m = AUC(num_thresholds=3)   # thresholds -1e-7, 0.5, 1+1e-7
        >>> m.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9]); m.result()
        0.75
        >>> m = AUC(multi_label=True, num_labels=2, num_thresholds=3)
        >>> [v.shape for v in m.variables]
        [(3, 2), (3, 2), (3, 2), (3, 2)]
        >>> y = [[0, 1], [0, 0], [1, 1], [1, 0]]             # two labels
        >>> p = [[0.0, 0.9], [0.5, 0.8], [0.3, 0.3], [0.9, 0.1]]
        >>> m.update_state(y, p); m.result()                 # mean of 0.75 and 0.5
        0.625
    """

    _direction = "up"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: str | None = None, thresholds=None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights=None,
                 from_logits: bool = False) -> None:
        if str(curve).lower() not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             '["PR", "ROC", "PRGAIN"]')
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = is_evenly_distributed(
                np.array([0.0, *thresholds, 1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1)
                          for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - config.epsilon(), *thresholds,
                                     1.0 + config.epsilon()])
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        super().__init__(dtype=dtype, name=name)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else np.asarray(label_weights, dtype=self.dtype))
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:                  # else: at the first update_state, as Keras
                if isinstance(num_labels, bool) or not isinstance(num_labels,
                                                                  int | np.integer) \
                        or num_labels < 0:
                    raise ValueError("Argument `num_labels` must be a positive integer (the "
                                     "number of labels, the columns of y_pred). Received: "
                                     f"num_labels={num_labels!r}")
                self._build((None, int(num_labels)))
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self) -> list[float]:
        return list(self._thresholds)

    def _build(self, shape) -> None:
        """Make the four count Variables: ``(T,)``, or ``(T, C)`` for ``C`` labels when
        ``multi_label`` (``shape`` is then that of ``y_pred``, ``(N, C)``)."""
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found "
                                 f"rank {len(shape)}. Full shape received for `y_pred`: "
                                 f"{tuple(shape)}")
            self._num_labels = int(shape[1])
            if self.label_weights is not None and (
                    self.label_weights.ndim > 1
                    or self.label_weights.shape not in ((), (1,), (self._num_labels,))):
                raise ValueError("`label_weights` must hold one weight per label: expected "
                                 f"shape ({self._num_labels},), received shape "
                                 f"{self.label_weights.shape}.")
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        for variable_name in ("true_positives", "false_positives", "true_negatives",
                              "false_negatives"):
            setattr(self, variable_name, self.add_variable(
                shape=variable_shape, initializer="zeros", name=variable_name))
        self._built = True

    @property
    def counts(self) -> dict[str, np.ndarray]:
        """The four counts as plain arrays sharing the Variables' memory (``{}`` before a
        multi-label metric knows its number of labels)."""
        if not self._built:
            return {}
        return {"tp": self.true_positives.value, "fp": self.false_positives.value,
                "tn": self.true_negatives.value, "fn": self.false_negatives.value}

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = np.asarray(y_pred)
        if not self._built:
            self._build(y_pred.shape)
        if self.multi_label:
            self._check_multi_label(np.shape(y_true), y_pred.shape)
        if self._from_logits:
            from minired.activations import sigmoid
            y_pred = sigmoid(y_pred)
        update_confusion_matrix(self.counts, y_true, y_pred, self._thresholds,
                                sample_weight=sample_weight,
                                label_weights=None if self.multi_label else self.label_weights,
                                multi_label=self.multi_label,
                                thresholds_distributed_evenly=(
                                    self._thresholds_distributed_evenly))

    def _check_multi_label(self, true_shape: tuple, pred_shape: tuple) -> None:
        """A multi-label batch must be ``(N, C)`` scores and labels, C the built labels."""
        if len(pred_shape) != 2:
            raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                             f"{len(pred_shape)}. Full shape received for `y_pred`: "
                             f"{pred_shape}")
        if pred_shape[1] != self._num_labels:
            raise ValueError(f"AUC {self.name!r} counts {self._num_labels} labels "
                             "(`num_labels`, or the columns of its first batch); received "
                             f"`y_pred` of shape {pred_shape}.")
        # (N,) labels for one label are expanded as Keras' squeeze_or_expand_to_same_rank
        if true_shape != pred_shape and not (pred_shape[1] == 1
                                             and true_shape == pred_shape[:1]):
            raise ValueError("`y_true` and `y_pred` must have the same shape when "
                             f"`multi_label=True`. Received: y_true.shape={true_shape}, "
                             f"y_pred.shape={pred_shape}")

    def _total(self, terms: np.ndarray):
        """Sum the per-threshold pieces of the area: one sum, or with ``multi_label`` one
        area per label (axis 0) averaged with ``label_weights``, as Keras."""
        if not self.multi_label:
            return np.sum(terms)
        by_label_auc = np.sum(terms, axis=0)
        if self.label_weights is None:
            return np.mean(by_label_auc)
        return divide_no_nan(np.sum(by_label_auc * self.label_weights),
                             np.sum(self.label_weights))

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.counts["tp"], self.counts["fp"], self.counts["fn"]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = np.where(both_positive, divide_no_nan(p[:-1], np.maximum(p[1:], 0)),
                                np.ones_like(p[1:]))
        with np.errstate(divide="ignore"):
            log_ratio = np.log(safe_p_ratio)
        increment = divide_no_nan(prec_slope * (dtp + intercept * log_ratio),
                                  np.maximum(tp[1:] + fn[1:], 0))
        return self._total(increment)

    def result(self) -> float:
        if not self._built:         # a multi-label AUC before its first batch
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return as_result(self._interpolate_pr_auc())
        tp, fp, tn, fn = (self.counts[k] for k in ("tp", "fp", "tn", "fn"))
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:   # PRGAIN
            scale = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scale * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scale * divide_no_nan(fp, tp)
            x = np.maximum(np.where(tp == 0, 0.0, recall_gain), 0.0).astype(tp.dtype)
            y = np.where(tp == 0, 1.0, precision_gain).astype(tp.dtype)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return as_result(self._total((x[:-1] - x[1:]) * heights))

    def get_config(self) -> dict:
        label_weights = None if self.label_weights is None else self.label_weights.tolist()
        config_ = {**super().get_config(), "num_thresholds": self.num_thresholds,
                   "curve": self.curve, "summation_method": self.summation_method,
                   "multi_label": self.multi_label, "num_labels": self.num_labels,
                   "label_weights": label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config_["thresholds"] = self.thresholds[1:-1]
        return config_

    @classmethod
    def from_config(cls, config: dict):
        """``AUC(**config)``. Keras writes ``label_weights`` into a ``.keras`` file as a
        tensor, ``{"class_name": "__tensor__", "config": {"value": [...], ...}}`` (which
        Keras 3.15 cannot read back); minired reads it as the array it holds."""
        label_weights = config.get("label_weights")
        if isinstance(label_weights, dict):
            from minired.saving import serialization_lib

            config = {**config, "label_weights": serialization_lib.deserialize_keras_object(
                label_weights)}
        return cls(**config)


class SensitivitySpecificityBase(Metric):
    """The four counts TP, FP, TN, FN at ``num_thresholds`` evenly spaced thresholds, for
    the metrics that read one rate where another reaches a value.

    The thresholds are ``t_k = k / (T - 1)`` for ``k = 0 … T - 1`` (``T = num_thresholds``;
    ``[0.5]`` for ``T = 1``), and the counts are those of the module docstring (a
    prediction is positive when ``ŷ > t_k``), summed over every batch. A subclass gives
    two rates per threshold, ``constrained`` and ``dependent``, and the result is::

        max { dependent_k : constrained_k ≥ value }      (0 if no threshold qualifies)

    As in Keras, ``value`` is compared as a float32 number (``float32(0.6) = 0.6000000238``,
    so a rate of exactly 0.6 does not reach 0.6, even in float64), and the counts are kept
    in ``floatx`` (not the metric's ``dtype``).

    Args:
        value: the value the constrained rate must reach, in [0, 1].
        num_thresholds: T > 0, default 200.
        class_id: only column ``class_id`` of ``(N, C)`` data is looked at.
        name, dtype: as every metric.
    """

    _direction = "up"

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None) -> None:
        super().__init__(dtype=dtype, name=name)
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0, *inner, 1.0]
            self._thresholds_distributed_evenly = True
        self._count_dtype = np.dtype(config.floatx())
        self.reset_state()

    def reset_state(self) -> None:
        self.counts = {key: np.zeros(len(self.thresholds), dtype=self._count_dtype)
                       for key in ("tp", "fp", "tn", "fn")}

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        update_confusion_matrix(self.counts, y_true, y_pred, self.thresholds,
                                class_id=self.class_id, sample_weight=sample_weight,
                                thresholds_distributed_evenly=(
                                    self._thresholds_distributed_evenly))

    def _rates(self) -> dict[str, np.ndarray]:
        """Recall (= sensitivity), specificity and precision at every threshold."""
        tp, fp, tn, fn = (self.counts[k] for k in ("tp", "fp", "tn", "fn"))
        return {"recall": divide_no_nan(tp, tp + fn), "specificity": divide_no_nan(tn, tn + fp),
                "precision": divide_no_nan(tp, tp + fp)}

    def _find_max_under_constraint(self, constrained: np.ndarray,
                                   dependent: np.ndarray) -> float:
        # Keras compares with the value as a tensor: a Python float goes through float32,
        # so in float64 a precision of exactly 0.6 is below float32(0.6) = 0.6000000238...
        feasible = constrained >= as_keras_constant(self.value, constrained.dtype)
        return as_result(np.max(np.where(feasible, dependent, 0), initial=0))

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id}


def _check_rate(argument: str, value: float) -> None:
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{argument}` must be in the range [0, 1]. "
                         f"Received: {argument}={value}")


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) ``TP / (TP + FN)`` among the thresholds where the
    specificity ``TN / (TN + FP)`` is at least ``specificity``::

        max_k { TP_k / (TP_k + FN_k) : TN_k / (TN_k + FP_k) ≥ specificity }

    Args:
        specificity: the specificity to reach, in [0, 1].
        num_thresholds, class_id, name, dtype: see :class:`SensitivitySpecificityBase`.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> m.result()
        0.5
    """

    def __init__(self, specificity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: str | None = None) -> None:
        _check_rate("specificity", specificity)
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self) -> float:
        rates = self._rates()
        return self._find_max_under_constraint(rates["specificity"], rates["recall"])

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity ``TN / (TN + FP)`` among the thresholds where the
    sensitivity (recall) ``TP / (TP + FN)`` is at least ``sensitivity``::

        max_k { TN_k / (TN_k + FP_k) : TP_k / (TP_k + FN_k) ≥ sensitivity }

    Args:
        sensitivity: the sensitivity to reach, in [0, 1].
        num_thresholds, class_id, name, dtype: see :class:`SensitivitySpecificityBase`.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> round(m.result(), 6)
        0.666667
    """

    def __init__(self, sensitivity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: str | None = None) -> None:
        _check_rate("sensitivity", sensitivity)
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self) -> float:
        rates = self._rates()
        return self._find_max_under_constraint(rates["recall"], rates["specificity"])

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "sensitivity": self.sensitivity}


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision ``TP / (TP + FP)`` among the thresholds where the recall
    ``TP / (TP + FN)`` is at least ``recall``::

        max_k { TP_k / (TP_k + FP_k) : TP_k / (TP_k + FN_k) ≥ recall }

    Args:
        recall: the recall to reach, in [0, 1].
        num_thresholds, class_id, name, dtype: see :class:`SensitivitySpecificityBase`.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> m.result()
        0.5
    """

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None) -> None:
        _check_rate("recall", recall)
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self) -> float:
        rates = self._rates()
        return self._find_max_under_constraint(rates["recall"], rates["precision"])

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "recall": self.recall}


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall ``TP / (TP + FN)`` among the thresholds where the precision
    ``TP / (TP + FP)`` is at least ``precision`` (0 if the precision is never reached)::

        max_k { TP_k / (TP_k + FN_k) : TP_k / (TP_k + FP_k) ≥ precision }

    Args:
        precision: the precision to reach, in [0, 1].
        num_thresholds, class_id, name, dtype: see :class:`SensitivitySpecificityBase`.

    Example:
        >>> m = RecallAtPrecision(0.8)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> m.result()
        0.5
    """

    def __init__(self, precision: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: str | None = None) -> None:
        _check_rate("precision", precision)
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self) -> float:
        rates = self._rates()
        return self._find_max_under_constraint(rates["precision"], rates["recall"])

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "precision": self.precision}
