"""Lamb: Adam's step, rescaled layer by layer to the size of the weights (large batches)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired import keras_numerics
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class Lamb(Optimizer):
    """Lamb (You et al., "Large Batch Optimization for Deep Learning"), in Keras' form.

    With ``t = iterations + 1`` and ``m``, ``v`` starting at 0, for each variable ``w``::

        m <- m + (g - m)·(1 - b1)                 (Adam's moments)
        v <- v + (g² - v)·(1 - b2)
        u = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)     (Adam's direction)
        r = ||w|| / ||u||        (L2 norms over the whole variable; r = 1 if either is 0)
        w <- w - (r·lr)·u

    The trust ratio ``r`` makes each variable's step ``lr·||w||``, whatever the scale of
    its gradients: every layer learns at the same relative speed. The norms are sums, which
    TensorFlow adds in another order: results agree with Keras to a few ulp, not bit for bit.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        beta_1: decay of the first moment ``m`` (default 0.9).
        beta_2: decay of the second moment ``v`` (default 0.999).
        epsilon: added to the corrected ``sqrt(v)`` (default 1e-7).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([3.0, 4.0], dtype="float32")
        >>> grad = np.array([1.0, -1.0], dtype="float32")
        >>> _ = Lamb(learning_rate=0.1).apply_gradients([(grad, w)])
        >>> w.round(4)            # u ≈ (1, -1), ||w|| = 5: a step of 0.1·5 = 0.5 in norm
        array([2.6464, 4.3536], dtype=float32)
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
    _keras_slot_order = (("_momentums", "_velocities"),)

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._momentums = self.add_slots(variables)
        self._velocities = self.add_slots(variables)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr``, ``1 - b1``, ``1 - b2``, ``1 - b1^t``, ``1 - b2^t`` and ``eps`` in ``dt``."""
        t = dt(int(self.iterations) + 1)
        beta_1 = keras_numerics.as_keras_constant(self.beta_1, dt)
        beta_2 = keras_numerics.as_keras_constant(self.beta_2, dt)
        # 1 - b is computed in Python double, then cast (Keras' rounding, as Adam); the
        # powers use the betas cast through float32, as Keras' ops.cast.
        return (dt(learning_rate), dt(1 - self.beta_1), dt(1 - self.beta_2),
                dt(1) - beta_1**t, dt(1) - beta_2**t, dt(self.epsilon))

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        (lr, one_minus_beta_1, one_minus_beta_2, one_minus_beta_1_power,
         one_minus_beta_2_power, epsilon) = self._scalars(variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        g, w = gradient, variable
        m, v = self._momentums[index], self._velocities[index]
        # The norms need the whole of u, so there are no cache blocks here: the scratch
        # arrays (see Optimizer._create_scratch) hold whole arrays, named after their end.
        update, denominator = self._scratch[index]
        # m <- m + (g - m)·(1 - b1)
        np.subtract(g, m, out=update)
        update *= one_minus_beta_1
        m += update
        # v <- v + (g² - v)·(1 - b2)
        np.square(g, out=update)
        update -= v
        update *= one_minus_beta_2
        v += update
        # u = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
        np.divide(v, one_minus_beta_2_power, out=denominator)
        np.sqrt(denominator, out=denominator)
        denominator += epsilon
        np.divide(m, one_minus_beta_1_power, out=update)
        update /= denominator
        # r = ||w|| / ||u||, or 1 if either norm is 0
        w_norm = np.sqrt(np.sum(np.square(w, out=denominator)))
        u_norm = np.sqrt(np.sum(np.square(update, out=denominator)))
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else w.dtype.type(1)
        # w <- w - (r·lr)·u
        update *= ratio * lr
        w -= update

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
