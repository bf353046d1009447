"""AdamW: Adam with decoupled weight decay switched on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minired.optimizers.adam import Adam
from minired.optimizers.schedules import LearningRateSchedule


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter).

    There is no AdamW-specific arithmetic: the base optimizer shrinks every weight
    (biases included) before the Adam update of the same step::

        w <- w - w·wd·lr              (decay, with the same lr as the Adam step)
        w <- Adam update of w         (see :class:`Adam`)

    Unlike L2 regularization, the decay never enters ``m`` or ``v``, so it is not
    rescaled by Adam's per-weight step size.

    ``wd`` is the shared ``weight_decay`` argument below, whose default here is 0.004
    instead of None (``weight_decay=None`` raises ValueError).

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        beta_1, beta_2, epsilon, amsgrad: as in :class:`Adam`.
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> opt = AdamW(learning_rate=0.1, weight_decay=0.5)
        >>> _ = opt.apply_gradients([(np.array([0.0], dtype="float32"), w)])
        >>> w                     # 1 - 1·0.5·0.1; the zero gradient moves nothing
        array([0.95], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("AdamW: `weight_decay` must be a float, got None.")
