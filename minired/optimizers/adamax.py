"""Adamax: Adam with the infinity norm, a running maximum of |g|, in place of sqrt(v)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired import keras_numerics
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, section 7), in Keras' exact form.

    Update rule, with ``t = iterations + 1`` and ``m``, ``u`` starting at 0::

        m <- m + (g - m)·(1 - b1)                 (Adam's incremental first moment)
        u <- max(b2·u, |g|)                       (the infinity norm: no square, no root)
        w <- w - (lr·m) / ((1 - b1^t)·(u + eps))

    Only ``m`` needs a bias correction: a maximum is not biased towards 0 as a mean is.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        beta_1: decay of the first moment ``m`` (default 0.9).
        beta_2: decay of the infinity norm ``u`` (default 0.999).
        epsilon: added to ``u`` (default 1e-7).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> _ = Adamax(learning_rate=0.1).apply_gradients([(np.array([5.0], dtype="float32"), w)])
        >>> w.round(4)            # the first step is lr·sign(g), as Adam's
        array([0.9], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    # the state in Keras' creation order (see Optimizer.save_own_variables)
    _keras_slot_order = (("_momentums", "_norms"),)
    _elementwise = True    # every element on its own: small variables go together

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._momentums = self.add_slots(variables)
        self._norms = self.add_slots(variables)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr``, ``1 - b1``, ``b2``, ``1 - b1^t`` and ``eps`` in the dtype ``dt``."""
        t = dt(int(self.iterations) + 1)
        beta_1 = keras_numerics.as_keras_constant(self.beta_1, dt)
        # 1 - b1 is computed in Python double, then cast: Keras' rounding (as Adam).
        return (dt(learning_rate), dt(1 - self.beta_1), dt(self.beta_2),
                dt(1) - beta_1**t, dt(self.epsilon))

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        lr, one_minus_beta_1, beta_2, one_minus_beta_1_power, epsilon = self._scalars(
            variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        arrays = (gradient, variable, self._momentums[index], self._norms[index])
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays
        # (see Optimizer._create_scratch): the same numbers as on the whole arrays at once.
        for (g, w, m, u), (change, denominator) in self._cache_blocks(index, arrays):
            # m <- m + (g - m)·(1 - b1)
            np.subtract(g, m, out=change)
            change *= one_minus_beta_1
            m += change
            # u <- max(b2·u, |g|)
            u *= beta_2
            np.abs(g, out=change)
            np.maximum(u, change, out=u)
            # w <- w - (lr·m) / ((1 - b1^t)·(u + eps))
            np.add(u, epsilon, out=denominator)
            denominator *= one_minus_beta_1_power
            np.multiply(m, lr, out=change)
            change /= denominator
            w -= change

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
