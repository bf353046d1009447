"""Lion: a step of the same size lr for every weight, in the sign of an interpolated momentum."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from minired import keras_numerics
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class Lion(Optimizer):
    """Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms"), in Keras' form.

    Update rule (the momentum ``m`` starts at 0)::

        w <- w - lr·sign(b1·m + (1 - b1)·g)       (every weight moves by exactly lr, or 0)
        m <- b2·m + (1 - b2)·g                    (updated after the step, with b2, not b1)

    Because each step is ``±lr``, Lion wants a learning rate 3 to 10 times smaller than
    Adam's (and a weight decay as many times larger).

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        beta_1: weight of the momentum in the step's direction (default 0.9), in (0, 1].
        beta_2: decay of the momentum ``m`` (default 0.99).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0, 1.0], dtype="float32")
        >>> grad = np.array([5.0, -0.001], dtype="float32")
        >>> _ = Lion(learning_rate=0.1).apply_gradients([(grad, w)])
        >>> w                     # the same step size whatever |g|
        array([0.9, 1.1], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not isinstance(beta_1, numbers.Real):
            raise TypeError(f"Lion: `beta_1` must be a number in (0, 1], got {beta_1!r}.")
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Lion: `beta_1` must be a number in (0, 1] (0 would make Lion sign SGD), "
                f"got beta_1={beta_1!r}."
            )
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    _keras_slot_order = (("_momentums",),)  # Keras' creation order (see Optimizer)
    _elementwise = True    # every element on its own: small variables go together

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._momentums = self.add_slots(variables)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr``, ``b1``, ``1 - b1``, ``b2`` and ``1 - b2`` in the dtype ``dt``."""
        # Keras casts the betas (through float32, see keras_numerics), then subtracts.
        beta_1 = keras_numerics.as_keras_constant(self.beta_1, dt)
        beta_2 = keras_numerics.as_keras_constant(self.beta_2, dt)
        return dt(learning_rate), beta_1, dt(1) - beta_1, beta_2, dt(1) - beta_2

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        lr, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2 = self._scalars(
            variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        arrays = (gradient, variable, self._momentums[index])
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays, named
        # after what they hold at the end (see Optimizer._create_scratch).
        for (g, w, m), (step, scaled_g) in self._cache_blocks(index, arrays):
            # w <- w - lr·sign(b1·m + (1 - b1)·g)
            np.multiply(m, beta_1, out=step)
            np.multiply(g, one_minus_beta_1, out=scaled_g)
            step += scaled_g
            np.sign(step, out=step)
            step *= lr
            w -= step
            # m <- b2·m + (1 - b2)·g
            m *= beta_2
            np.multiply(g, one_minus_beta_2, out=scaled_g)
            m += scaled_g

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
        }
