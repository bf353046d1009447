"""Adadelta: a step whose size comes from the running mean of past steps, not from lr alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class Adadelta(Optimizer):
    """Adadelta (Zeiler), in Keras' exact form.

    Update rule, with the running means ``a`` (of g²) and ``d`` (of the squared steps)
    starting at 0 and ``rms(x) = sqrt(x + eps)``::

        a <- rho·a + (1 - rho)·g²
        Δ = -(rms(d)·g) / rms(a)                  (units of w: the ratio of two RMS)
        d <- rho·d + (1 - rho)·Δ²
        w <- w + lr·Δ

    The original paper uses ``lr = 1``; Keras keeps a learning rate (default 0.001), so the
    step is ``lr`` times Zeiler's. Early on ``d`` is 0 and the step is about
    ``lr·sqrt(eps)·g / rms(a)``: tiny, growing as ``d`` fills up.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        rho: decay of both running means (default 0.95).
        epsilon: added under both square roots (default 1e-7).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float64")
        >>> opt = Adadelta(learning_rate=1.0, rho=0.5, epsilon=0.01)
        >>> _ = opt.apply_gradients([(np.array([1.0]), w)])
        >>> w.round(4)            # 1 - sqrt(0.01)·1 / sqrt(0.5 + 0.01)
        array([0.86])
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    # the state in Keras' creation order (see Optimizer.save_own_variables)
    _keras_slot_order = (("_accumulated_grads", "_accumulated_delta_vars"),)
    _elementwise = True    # every element on its own: small variables go together

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._accumulated_grads = self.add_slots(variables)
        self._accumulated_delta_vars = self.add_slots(variables)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr``, ``rho``, ``1 - rho`` and ``eps`` in the dtype ``dt``, once per step."""
        # 1 - rho is computed in Python double, then cast: Keras' rounding.
        return dt(learning_rate), dt(self.rho), dt(1 - self.rho), dt(self.epsilon)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        lr, rho, one_minus_rho, epsilon = self._scalars(variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        arrays = (gradient, variable, self._accumulated_grads[index],
                  self._accumulated_delta_vars[index])
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays, named
        # after what they hold at the end (see Optimizer._create_scratch).
        for (g, w, a, d), (delta, rms_a) in self._cache_blocks(index, arrays):
            # a <- rho·a + (1 - rho)·g²
            a *= rho
            np.square(g, out=delta)                     # free until Δ: holds (1 - rho)·g²
            delta *= one_minus_rho
            a += delta
            # Δ = -(rms(d)·g) / rms(a)
            np.add(d, epsilon, out=delta)
            np.sqrt(delta, out=delta)
            delta *= g
            np.add(a, epsilon, out=rms_a)
            np.sqrt(rms_a, out=rms_a)
            delta /= rms_a
            np.negative(delta, out=delta)
            # d <- rho·d + (1 - rho)·Δ²
            d *= rho
            np.square(delta, out=rms_a)                 # rms(a) is used: holds (1 - rho)·Δ²
            rms_a *= one_minus_rho
            d += rms_a
            # w <- w + lr·Δ
            delta *= lr
            w += delta

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rho": self.rho,
            "epsilon": self.epsilon,
        }
