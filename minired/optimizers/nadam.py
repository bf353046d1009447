"""Nadam: Adam with Nesterov momentum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired import config, keras_numerics
from minired.optimizers.optimizer import Optimizer, _scalar_variable
from minired.optimizers.schedules import LearningRateSchedule


class Nadam(Optimizer):
    """Nadam (Dozat), in Keras' exact form, with its momentum warm-up schedule.

    With ``t = iterations + 1``, a momentum schedule ``u_t = b1·(1 - ½·0.96^t)`` and its
    running product ``Π_t = u_1·u_2···u_t`` (kept as state, updated once per step before
    any variable)::

        m <- m + (g - m)·(1 - b1)
        v <- v + (g² - v)·(1 - b2)
        m̂ = u_{t+1}·m / (1 - Π_t·u_{t+1}) + (1 - u_t)·g / (1 - Π_t)
        v̂ = v / (1 - b2^t)
        w <- w - m̂·lr / (sqrt(v̂) + eps)

    The first term of ``m̂`` looks one momentum step ahead (Nesterov); the second adds the
    current gradient with its own bias correction.

    Here ``1 - b1`` and ``1 - b2`` are computed in the variable's dtype (Keras casts the
    betas first), unlike Adam, which computes them in double precision.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        beta_1: decay of ``m`` (default 0.9).
        beta_2: decay of ``v`` (default 0.999).
        epsilon: added to ``sqrt(v̂)`` (default 1e-7).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> _ = Nadam(learning_rate=0.1).apply_gradients([(np.array([5.0], dtype="float32"), w)])
        >>> w.round(4)            # ~lr·sign(g), a little more: the look-ahead term
        array([0.8937], dtype=float32)
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

    _keras_slot_order = (("_momentums", "_velocities"),)  # Keras' creation order (see Optimizer)
    _elementwise = True    # every element on its own: small variables go together
    _scratch_per_variable = 2
    _keras_scalar_state = ("_u_product",)

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._momentums = self.add_slots(variables)
        self._velocities = self.add_slots(variables)
        # Π starts at 1, in the dtype of the first variable (Keras' choice): a 0-d Variable,
        # listed after the slots in `variables`, as in Keras.
        dtype = variables[0].dtype if variables else config.dtype()
        self._u_product = _scalar_variable(1.0, dtype)

    def _update_variables(self, grads, variables, learning_rate) -> None:
        # Π_t = Π_{t-1}·u_t: once per step, shared by all variables.
        # Keras writes Π·b1·(1 - ½·0.96^t) with Python floats, which reach Π's dtype exactly
        # (no as_keras_constant here, unlike update_step).
        dt = self._u_product.dtype.type
        t = dt(int(self.iterations) + 1)
        u_product = dt(self._u_product)   # plain NumPy numbers, not the Variable, for the math
        # fill() is the array's own, cheaper than the Variable's assign() (see Optimizer.apply)
        self._u_product.fill(u_product * dt(self.beta_1) * (dt(1.0) - dt(0.5) * dt(0.96) ** t))
        super()._update_variables(grads, variables, learning_rate)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """The step's scalars in the dtype ``dt``, once per step (after Π moved to Π_t)."""
        iterations = int(self.iterations)
        local_step = dt(iterations + 1)
        next_step = dt(iterations + 2)
        decay = keras_numerics.as_keras_constant(0.96, dt)
        beta_1 = keras_numerics.as_keras_constant(self.beta_1, dt)
        beta_2 = keras_numerics.as_keras_constant(self.beta_2, dt)
        u_t = beta_1 * (dt(1.0) - dt(0.5) * decay**local_step)
        u_t_1 = beta_1 * (dt(1.0) - dt(0.5) * decay**next_step)
        u_product_t = dt(self._u_product)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = beta_2**local_step
        return (dt(learning_rate), 1 - beta_1, 1 - beta_2, 1 - u_t, u_t_1,
                1 - u_product_t, 1 - u_product_t_1, 1 - beta_2_power, dt(self.epsilon))

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        (lr, one_minus_beta_1, one_minus_beta_2, one_minus_u_t, u_t_1, one_minus_u_product_t,
         one_minus_u_product_t_1, one_minus_beta_2_power, epsilon) = self._scalars(
            variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        arrays = (gradient, variable, self._momentums[index], self._velocities[index])
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays, named
        # after what they hold at the end (see Optimizer._create_scratch).
        for (g, w, m, v), (m_hat, v_hat) in self._cache_blocks(index, arrays):
            # m <- m + (g - m)·(1 - b1)
            np.subtract(g, m, out=m_hat)                # free until m̂: holds (g - m)·(1 - b1)
            m_hat *= one_minus_beta_1
            m += m_hat
            # v <- v + (g² - v)·(1 - b2)
            np.square(g, out=v_hat)                     # free until v̂: holds (g² - v)·(1 - b2)
            v_hat -= v
            v_hat *= one_minus_beta_2
            v += v_hat
            # m̂ = u_{t+1}·m / (1 - Π_t·u_{t+1}) + (1 - u_t)·g / (1 - Π_t)
            np.multiply(m, u_t_1, out=m_hat)
            m_hat /= one_minus_u_product_t_1
            np.multiply(g, one_minus_u_t, out=v_hat)    # v_hat's array holds this term for now
            v_hat /= one_minus_u_product_t
            m_hat += v_hat
            # v̂ = v / (1 - b2^t)
            np.divide(v, one_minus_beta_2_power, out=v_hat)
            # w <- w - m̂·lr / (sqrt(v̂) + eps)
            m_hat *= lr
            np.sqrt(v_hat, out=v_hat)
            v_hat += epsilon
            m_hat /= v_hat
            w -= m_hat

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
