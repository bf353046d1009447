"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired import keras_numerics
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class SGD(Optimizer):
    """Gradient descent, optionally with momentum or Nesterov momentum.

    Update rules (``v`` is the velocity, zero at the start, ``m`` the momentum)::

        momentum == 0:   w <- w - g·lr
        momentum  > 0:   v <- v·m - g·lr
                         w <- w + v
        nesterov:        v <- v·m - g·lr
                         w <- w + (v·m - g·lr)      (v already updated: Keras' form)

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.01).
        momentum: a float in [0, 1] (default 0.0: plain gradient descent). Keras insists on
            a Python float: ``momentum=0`` (an int) and ``np.float32(0.9)`` raise ValueError,
            ``np.float64(0.9)`` (a float subclass) is fine.
        nesterov: use Nesterov momentum.
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     _ = opt.apply_gradients([(np.array([1.0], dtype="float32"), w)])
        >>> w                     # 1 - 0.1 - (0.9·0.1 + 0.1)
        array([0.71], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not isinstance(momentum, float) or not 0 <= momentum <= 1:
            raise ValueError(
                f"SGD: `momentum` must be a float in [0, 1], got {momentum!r} "
                f"({type(momentum).__name__})."
            )
        self.momentum = momentum
        self.nesterov = nesterov

    _keras_slot_order = (("_momentums",),)
    _elementwise = True    # every element on its own: small variables go together

    @property
    def _scratch_per_variable(self) -> int:
        # g·lr, and for Nesterov also v·m: the two terms of its second subtraction.
        return 2 if self.nesterov else 1

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        # Plain gradient descent keeps no state.
        self._momentums = self.add_slots(variables) if self.momentum != 0 else []

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr`` and the momentum ``m`` in the dtype ``dt``, once per step."""
        return dt(learning_rate), keras_numerics.as_keras_constant(self.momentum, dt)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        lr, m = self._scalars(variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        velocity = self._momentums[index] if self.momentum != 0 else None
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays
        # (see Optimizer._create_scratch): the same numbers as on the whole arrays at once.
        for (g, w, v), scratch in self._cache_blocks(index, (gradient, variable, velocity)):
            scaled_gradient = scratch[0]
            np.multiply(g, lr, out=scaled_gradient)     # g·lr
            if v is None:
                w -= scaled_gradient                    # w <- w - g·lr
                continue
            # v <- v·m - g·lr
            v *= m
            v -= scaled_gradient
            if self.nesterov:
                # w <- w + (v·m - g·lr), with the updated v
                step = scratch[1]
                np.multiply(v, m, out=step)
                step -= scaled_gradient
                w += step
            else:
                w += v                                  # w <- w + v

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
