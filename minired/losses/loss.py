"""The base class of every loss: per-sample values, their gradient, and the batch reduction.

A loss turns ``(y_true, y_pred)`` into one number ``L``. Keras computes it in two steps,
and so does minired:

1. ``values(y_true, y_pred)``: one loss ``ℓ`` per vector of the last axis of ``y_pred``
   (the outputs or classes of one prediction). A dense model's ``(N, D)`` gives one loss
   per sample, shape ``(N,)``; a sequence model's ``(N, T, C)`` gives one per sample and
   time step, shape ``(N, T)``.
2. reduction: with the default ``"sum_over_batch_size"`` and optional sample weights ``w``,
   ``L = Σ w ℓ / M``, summed over every loss value, where ``M`` is the **number of loss
   values** (``N``, or ``N·T``), **not** ``Σ w`` (a Keras detail that changes the loss as
   soon as weights are used).

The gradient follows the same two steps: ``∂L/∂ŷ = (w / M) · ∂ℓ/∂ŷ``, each loss value
scaling the gradient of its own vector ``ŷ``.
"""

from __future__ import annotations

import numpy as np

from minired import config
from minired.autodiff import layer_calls
from minired.autodiff.tape import GradientTape, record
from minired.autodiff.tensor import Tensor

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    """Base loss. Subclasses implement :meth:`values` and :meth:`gradients`.

    Args:
        name: the loss name.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"`` (same as the
            default), ``"mean_with_sample_weight"`` (divide by ``Σ w``) or ``"none"``.
        dtype: the dtype the loss computes in, a name or a DTypePolicy; every built-in loss
            takes it, as in Keras. None means ``mr.config.floatx()``, the only one minired
            accepts (another one is a ValueError: minired has no mixed precision).
    """

    #: Cross-entropies set this: when the model's output comes from a softmax or a sigmoid,
    #: the loss is computed from that layer's logits (see ``minired.keras_numerics``).
    uses_output_logits = False
    #: Whether ``y_pred`` holds logits; the cross-entropies take it as an argument.
    from_logits = False
    #: The axis of ``y_pred`` that one loss value reduces (the outputs or classes). Losses
    #: with an ``axis`` argument (CosineSimilarity, BinaryFocalCrossentropy) set it; every
    #: other axis indexes loss values.
    axis = -1

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype=None):
        from minired.layers.layer import check_dtype_policy

        policy = check_dtype_policy(dtype, type(self).__name__, expected=config.floatx())
        self._dtype = policy.compute_dtype if policy is not None else config.floatx()
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
        """The losses ``ℓ``, one per vector of the last axis: shape ``y_pred.shape[:-1]``
        (``(N,)`` for ``(N, D)`` predictions)."""
        raise NotImplementedError

    def gradients(self, y_true: np.ndarray, y_pred: np.ndarray,
                  from_logits: bool = False) -> np.ndarray:
        """``∂ℓ/∂ŷ`` for every loss value, shape of ``y_pred``."""
        raise NotImplementedError

    def values_and_gradients(self, y_true: np.ndarray, y_pred: np.ndarray,
                             from_logits: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`values` and :meth:`gradients` together, as a training step needs them.

        A loss whose two share work overrides this to do it once (the cross-entropies
        from logits share one ``log_softmax``); the numbers are those of the two methods.
        """
        return (self.values(y_true, y_pred, from_logits),
                self.gradients(y_true, y_pred, from_logits))

    def prepare(self, y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
        """Cast both to floatx, match their ranks as Keras does, and check the labels."""
        y_pred = np.asarray(y_pred, dtype=config.floatx())
        y_true = np.asarray(y_true, dtype=config.floatx())
        return squeeze_or_expand_to_same_rank(y_true, y_pred)

    # -- shared machinery ---------------------------------------------------------------------
    def _prepare_along_axis(self, y_true, y_pred) -> tuple[np.ndarray, np.ndarray, int]:
        """:meth:`prepare`, then ``axis`` moved last, so that :meth:`values` and
        :meth:`gradients` always reduce the last axis. Returns the axis to move back."""
        y_true, y_pred = self.prepare(y_true, y_pred)
        if self.axis == -1 or y_pred.ndim == 0:
            return y_true, y_pred, -1
        if not -y_pred.ndim <= self.axis < y_pred.ndim:
            raise ValueError(f"{self.name}: `axis={self.axis}` is out of range for predictions "
                             f"of shape {y_pred.shape}.")
        axis = self.axis % y_pred.ndim
        return np.moveaxis(y_true, axis, -1), np.moveaxis(y_pred, axis, -1), axis

    def call(self, y_true, y_pred) -> np.ndarray:
        """Unreduced losses (Keras' ``Loss.call``).

        A loss of your own overrides this with ``mr.ops`` code, as in Keras; minired then
        differentiates it with the tape (:meth:`_compute_with_tape`).
        """
        y_true, y_pred, _ = self._prepare_along_axis(y_true, y_pred)
        return self.values(y_true, y_pred, self.from_logits)

    def _uses_call(self) -> bool:
        """Whether this loss is written as ``call`` (a user's subclass, or a function)."""
        return type(self).call is not Loss.call

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Reduced loss ``L`` (a float; an array of ``w ℓ`` with ``reduction="none"``).

        Inside a recording tape (a training loop written by hand), the loss is one
        operation on the tape, whose VJP is the loss's own gradient.
        """
        if layer_calls.inside_recording() and isinstance(y_pred, Tensor) and \
                self.reduction not in ("none", None):
            value, grad = self.compute(y_true, y_pred.view(np.ndarray), sample_weight)
            return record(np.asarray(value, dtype=grad.dtype), (y_pred,),
                          lambda g: (g * grad,))
        if self.reduction in ("none", None) and self._uses_call():
            losses = np.asarray(self._call_on_floats(y_true, y_pred))
            losses, weights = self._match_weights(losses, sample_weight)
            return losses * weights
        if self.reduction in ("none", None):
            y_true, y_pred, _ = self._prepare_along_axis(y_true, y_pred)
            losses, weights = self._match_weights(
                self.values(y_true, y_pred, self.from_logits), sample_weight)
            return losses * weights
        return self.compute(y_true, y_pred, sample_weight, gradient=False)[0]

    def value_and_gradient(self, y_true, y_pred, sample_weight=None,
                           from_logits: bool | None = None):
        """Return ``(L, ∂L/∂y_pred)`` for the reduced loss (see :meth:`compute`)."""
        return self.compute(y_true, y_pred, sample_weight, from_logits, gradient=True)

    def compute(self, y_true, y_pred, sample_weight=None, from_logits: bool | None = None,
                gradient: bool = True, mask=None) -> tuple[float, np.ndarray | None]:
        """``(L, ∂L/∂y_pred)``, or ``(L, None)`` without the gradient: the one path every
        caller (``__call__``, ``fit``, ``evaluate``) goes through.

        ``L = Σ w ℓ / M`` and ``∂L/∂ŷ = (w / M) · ∂ℓ/∂ŷ``, with ``M`` the number of loss
        values for ``"sum_over_batch_size"`` (``N`` for ``(N, D)`` predictions, ``N·T`` for
        ``(N, T, D)``), ``1`` for ``"sum"`` and ``Σ w`` for ``"mean_with_sample_weight"``.

        Args:
            y_true: targets.
            y_pred: predictions, or logits when ``from_logits`` is true.
            sample_weight: optional weights ``w``: one per sample (shape ``(N,)`` for
                ``(N, D)`` predictions, ``(N, 1)`` for ``(N, T, D)``) or one per loss value
                (``(N, T)``); see :meth:`_match_weights`.
            from_logits: overrides the loss's own ``from_logits`` (the model sets it when it
                hands over the logits of its softmax/sigmoid output).
            gradient: whether to compute ``∂L/∂y_pred``.
            mask: the mask of ``y_pred`` (Keras' ``_keras_mask``: True for the real time
                steps, one per loss value), or None. It joins the weights as Keras'
                :func:`apply_mask` does: a masked loss value has weight 0, and with
                ``"sum_over_batch_size"`` each real one ``total / valid``, so ``L`` is the
                mean over the real values only.

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
        if self._uses_call():
            return self._compute_with_tape(y_true, y_pred, sample_weight, gradient, mask)
        if from_logits is None:
            from_logits = self.from_logits
        y_pred_shape = np.shape(y_pred)
        y_true, y_pred, axis = self._prepare_along_axis(y_true, y_pred)
        if gradient:     # ℓ and ∂ℓ/∂ŷ in one pass (see values_and_gradients)
            losses, dloss_dpred = self.values_and_gradients(y_true, y_pred, from_logits)
        else:
            losses = self.values(y_true, y_pred, from_logits)
        if sample_weight is None and mask is None and \
                self.reduction != "mean_with_sample_weight":
            # every w = 1: the same numbers as below (w ℓ = ℓ, w / M = 1 / M) in fewer steps
            divisor = self._divisor(losses, None)
            value = float(_divide_no_nan(losses.sum(), divisor))
            if not gradient:
                return value, None
            grad = dloss_dpred * _divide_no_nan(losses.dtype.type(1), divisor)
        else:
            value, dL_dloss = self._weighted_mean(losses, sample_weight, mask)
            if not gradient:
                return value, None
            # ∂L/∂ℓ = w / M for every loss value ℓ; it scales the gradient of ℓ's own vector ŷ.
            grad = dloss_dpred * dL_dloss.reshape(y_pred.shape[:-1] + (1,))
        if axis != -1:
            grad = np.moveaxis(grad, -1, axis)          # undo the move of `axis`, then
        return value, grad.reshape(y_pred_shape)       # prepare's squeeze or expand

    def _call_on_floats(self, y_true, y_pred):
        """``call`` on both arrays cast to floatx, as Keras' ``Loss.__call__`` casts them."""
        dtype = config.floatx()
        y_true = np.asarray(y_true, dtype=dtype)
        y_pred = y_pred if isinstance(y_pred, Tensor) else np.asarray(y_pred, dtype=dtype)
        return self.call(y_true, y_pred)

    def _compute_with_tape(self, y_true, y_pred, sample_weight, gradient: bool, mask=None):
        """:meth:`compute` for a loss written as ``call``: the same reduction, and
        ``∂L/∂ŷ`` from the tape, seeded with ``∂L/∂ℓ = w / M`` for every loss value ℓ."""
        with GradientTape() as tape:
            watched = tape.watch(np.asarray(y_pred, dtype=config.floatx()))
            losses = self._call_on_floats(y_true, watched)
        values = np.asarray(losses)
        value, seed = self._weighted_mean(values, sample_weight, mask)
        if not gradient:
            return value, None
        return value, tape.gradient(losses, watched, seed.reshape(values.shape))

    def _weighted_mean(self, losses: np.ndarray, sample_weight, mask=None
                       ) -> tuple[float, np.ndarray]:
        """``L = Σ w ℓ / M``, and ``∂L/∂ℓ = w / M`` for every loss value (a broadcast view of
        the shape :meth:`_match_weights` gives ``ℓ``); a ``mask`` joins ``w`` first
        (:func:`apply_mask`)."""
        shaped, weights = self._match_weights(losses, sample_weight)
        if mask is not None:
            weights = self._masked_weights(shaped, weights, mask)
        divisor = self._divisor(shaped, weights)
        value = float(_divide_no_nan(np.sum(shaped * weights), divisor))
        return value, np.broadcast_to(_divide_no_nan(weights, divisor), shaped.shape)

    def _match_weights(self, losses: np.ndarray, sample_weight) -> tuple[np.ndarray, np.ndarray]:
        """``(ℓ, w)`` shaped to be multiplied, as Keras' ``reduce_weighted_values`` shapes them.

        Keras removes or adds one trailing axis of size 1 (``squeeze_or_expand_to_same_rank``),
        then broadcasts. After that step minired requires ``w`` to have the rank of ``ℓ``, each
        axis of ``ℓ``'s size or 1 (or ``w`` to be a scalar). For losses of shape ``(N, T)``:
        ``(N, 1)`` weighs samples, ``(N, T)`` (or ``(N, T, 1)``) weighs every loss value.

        ``(N,)`` against ``(N, T)`` is refused: Keras broadcasts from the right, so it fails
        (``T ≠ N``) or weighs time steps instead of samples (``T = N``). Per-sample weights of
        shape ``(N,)`` work only for losses of shape ``(N,)``, that is, for ``(N, D)``
        predictions. For the same reason minired asks for ``(1, T)`` where Keras would also
        take ``(T,)`` (one weight per time step, shared by the samples).
        """
        if sample_weight is None:
            return losses, np.ones_like(losses)
        weights = np.asarray(sample_weight, dtype=losses.dtype)
        shaped, weights = squeeze_or_expand_to_same_rank(losses, weights)
        if weights.ndim and (weights.ndim != shaped.ndim or any(
                w not in (1, n) for w, n in zip(weights.shape, shaped.shape, strict=True))):
            raise ValueError(self._weights_error(losses, np.shape(sample_weight)))
        return shaped, weights

    def _masked_weights(self, losses: np.ndarray, weights: np.ndarray, mask) -> np.ndarray:
        """``w`` times the mask's weights (Keras' :func:`apply_mask`), shape of ``ℓ``; the
        mask must have the shape of the loss values (or one trailing axis of size 1 more or
        fewer), else a ValueError."""
        mask = np.asarray(mask)
        matched, _ = squeeze_or_expand_to_same_rank(mask, losses)
        if matched.shape != losses.shape:
            raise ValueError(f"{self.name}: the mask of the predictions must have the shape "
                             f"of the loss values {losses.shape}, got {mask.shape}.")
        return weights * apply_mask(None, matched, losses.dtype, self.reduction)

    def _weights_error(self, losses: np.ndarray, shape: tuple) -> str:
        per_sample = losses.shape[:1] + (1,) * (losses.ndim - 1)
        accepted = (f"{per_sample}" if per_sample == losses.shape else
                    f"{per_sample} (one weight per sample) or {losses.shape} (one per loss value)")
        message = f"{self.name}: `sample_weight` must have shape {accepted}, got {shape}."
        if 0 < len(shape) < losses.ndim and shape[0] == losses.shape[0]:
            reshape = ("[:, None]" if losses.ndim == 2 else
                       f".reshape({', '.join(['-1'] + ['1'] * (losses.ndim - 1))})")
            message += (" Keras multiplies weights of fewer axes with the losses' last axes, "
                        f"not with the samples: give per-sample weights the shape {per_sample}, "
                        f"as in `sample_weight{reshape}`.")
        return message

    def _divisor(self, losses: np.ndarray, weights: np.ndarray):
        """``M`` in ``L = Σ w ℓ / M`` (Keras' ``reduce_values``)."""
        if self.reduction == "sum" or losses.ndim == 0:    # Keras leaves a 0-d loss as it is
            return losses.dtype.type(1)
        if self.reduction == "mean_with_sample_weight":
            return np.sum(weights)                         # Σ w as given, not broadcast
        # sum_over_batch_size / mean: the number of loss values (N, or N·T), not Σw
        return losses.dtype.type(losses.size)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        """A loss like the one whose :meth:`get_config` gave ``config`` (Keras': ``cls(**config)``).

        Example:
            >>> from minired.losses import MeanSquaredError
            >>> MeanSquaredError.from_config({"name": "mse", "reduction": "sum"}).reduction
            'sum'
        """
        return cls(**config)

    @property
    def dtype(self) -> str:
        """The dtype the loss computes in: ``mr.config.floatx()`` when it was made."""
        return self.__dict__.get("_dtype") or config.floatx()

    @property
    def fn(self):
        """The loss function ``fn(y_true, y_pred)`` behind the loss, as on Keras' losses
        that wrap one: ``MeanSquaredError().fn`` is ``mr.losses.mean_squared_error``.
        A loss with no such function (the base class, yours) has none: AttributeError."""
        fn = self.__dict__.get("_fn") or _keras_loss_function(type(self))
        if fn is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute 'fn'")
        return fn

    @fn.setter
    def fn(self, value) -> None:
        self.__dict__["_fn"] = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


class LossFunctionWrapper(Loss):
    """A loss written as a function ``fn(y_true, y_pred) -> ℓ`` (one value per sample),
    with the base class's reduction and sample weights: what ``compile(loss=fn)`` makes of
    a function, as in Keras. The tape differentiates ``fn``.

    Example:
        >>> from minired import ops
        >>> def mean_cube(y_true, y_pred):
        ...     return ops.mean((y_pred - y_true) ** 3, axis=-1)
        >>> LossFunctionWrapper(mean_cube).compute([[1.0]], [[3.0]])
        (8.0, array([[12.]], dtype=float32))
    """

    def __init__(self, fn, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        """``fn(y_true, y_pred)`` after Keras' rank matching."""
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        from minired.saving.serialization_lib import serialize_keras_object

        return {**super().get_config(), "fn": serialize_keras_object(self.fn),
                **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> LossFunctionWrapper:
        """As Keras: the serialized ``fn`` is looked up (a built-in or registered function,
        never code from the config), then ``cls(**config)``."""
        from minired.saving.serialization_lib import deserialize_keras_object

        if "fn" in config:
            config = {**config, "fn": deserialize_keras_object(config["fn"])}
        return cls(**config)


def _keras_loss_function(cls: type):
    """The function of ``minired.losses`` that the built-in loss class ``cls`` (or the
    built-in class it extends) wraps in Keras (``MeanSquaredError``: ``mean_squared_error``),
    or None."""
    from minired import losses

    for klass in cls.__mro__:
        fn = losses._CLASSES_AND_FUNCTIONS.get(klass)
        if fn is not None:
            return fn
    return None


def apply_mask(sample_weight, mask, dtype, reduction: str | None):
    """Keras' ``apply_mask``: the weights ``w`` with a mask ``m`` merged in.

    With ``"sum_over_batch_size"`` (or ``"mean"``), a real value (``m = 1``) gets weight
    ``total / valid`` (``total`` the number of values, ``valid`` the number of real ones)
    and a masked one 0, so that ``Σ w ℓ / total = Σ_real ℓ / valid``, the mean over the
    real values; with any other reduction the weight is ``m`` itself (0 or 1). All values
    masked: every weight 0 (Keras' ``divide_no_nan``). Without a mask, ``w`` is returned.

    Example:
        >>> apply_mask(None, np.array([[True, True, False, False]]), np.float64,
        ...            "sum_over_batch_size")
        array([[2., 2., 0., 0.]])
    """
    if mask is None:
        return sample_weight
    mask = np.asarray(mask)
    if reduction in ("mean", "sum_over_batch_size"):
        total = np.asarray(mask.size, dtype=dtype)
        valid = np.sum(mask.astype(dtype))
        mask_weight = _divide_no_nan(total, valid)
        float_mask = np.where(mask.astype(bool), mask_weight, 0).astype(dtype)
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(
        float_mask, np.asarray(sample_weight, dtype=dtype))
    return sample_weight * float_mask


def _divide_no_nan(numerator, divisor):
    """``numerator / divisor``, or 0 where the divisor is 0 (Keras' ``ops.divide_no_nan``).

    The divisor is 0 only for ``"mean_with_sample_weight"`` with all weights 0, or an empty
    batch: the loss is then 0, not NaN.
    """
    if divisor == 0:
        return np.zeros_like(numerator)
    return numerator / divisor


def squeeze_or_expand_to_same_rank(x1: np.ndarray, x2: np.ndarray):
    """Match ranks that differ by one trailing axis of size 1, as Keras does.

    So ``y_true`` of shape ``(N,)`` against ``y_pred`` of shape ``(N, 1)`` becomes ``(N, 1)``
    instead of broadcasting to ``(N, N)``. Keras applies the same rule to ``(y_true,
    y_pred)`` and to ``(losses, sample_weight)``: a rank-1 array gains the axis, any other
    loses it.
    """
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


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
