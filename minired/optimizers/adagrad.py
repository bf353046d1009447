"""Adagrad: per-weight step sizes that shrink with the sum of past g²."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), in Keras' exact form.

    Update rule (the accumulator ``a`` starts at ``initial_accumulator_value``, not 0)::

        a <- a + g²
        w <- w - lr·g / sqrt(a + eps)          (eps is inside the square root)

    Weights with large past gradients take ever smaller steps; the rate never recovers.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        initial_accumulator_value: the starting value of ``a`` (default 0.1).
        epsilon: added to ``a`` under the square root (default 1e-7).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> opt = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.0)
        >>> _ = opt.apply_gradients([(np.array([3.0], dtype="float32"), w)])
        >>> w                     # 1 - 0.1·3/sqrt(9)
        array([0.9], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    _keras_slot_order = (("_accumulators",),)  # Keras' creation order (see Optimizer)
    _elementwise = True    # every element on its own: small variables go together

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._accumulators = self.add_slots(variables, fill=self.initial_accumulator_value)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr`` and ``eps`` in the dtype ``dt``, once per step."""
        return dt(learning_rate), dt(self.epsilon)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        lr, epsilon = self._scalars(variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays
        # (see Optimizer._create_scratch): the same numbers as on the whole arrays at once.
        for (g, w, accumulator), (step, denominator) in self._cache_blocks(
                index, (gradient, variable, self._accumulators[index])):
            # a <- a + g²
            np.square(g, out=step)                      # free until the step: holds g²
            accumulator += step
            # w <- w - lr·g / sqrt(a + eps)
            np.add(accumulator, epsilon, out=denominator)
            np.sqrt(denominator, out=denominator)
            np.multiply(g, lr, out=step)
            step /= denominator
            w -= step

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
