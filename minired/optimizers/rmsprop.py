"""RMSprop: divide the step by a running root-mean-square of the gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class RMSprop(Optimizer):
    """RMSprop (Hinton), in Keras' exact form.

    Update rule (``s``, ``ḡ`` and the momentum buffer ``b`` start at 0)::

        s <- rho·s + (1 - rho)·g²
        centered:   ḡ <- rho·ḡ + (1 - rho)·g
                    d = s - ḡ² + eps            (a variance estimate instead of a raw mean)
        otherwise:  d = s + eps
        step = lr·g / sqrt(d)                   (eps is inside the square root)
        momentum > 0:  b <- momentum·b + step;  w <- w - b
        otherwise:     w <- w - step

    There is no bias correction: the first steps are large, since ``s`` starts at 0.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        rho: decay of the running mean of g² (default 0.9).
        momentum: momentum on the step (default 0.0: none).
        epsilon: added to ``d`` under the square root (default 1e-7).
        centered: divide by the estimated standard deviation rather than the RMS.
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> _ = RMSprop(learning_rate=0.1).apply_gradients([(np.array([2.0], dtype="float32"), w)])
        >>> w.round(4)            # 1 - 0.1·2/sqrt(0.1·4): a first step of lr/sqrt(1 - rho)
        array([0.6838], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    # the state in Keras' creation order (see Optimizer.save_own_variables)
    _keras_slot_order = (("_velocities",), ("_momentums",), ("_average_gradients",))
    _elementwise = True    # every element on its own: small variables go together

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._velocities = self.add_slots(variables)
        self._momentums = self.add_slots(variables) if self.momentum > 0 else []
        self._average_gradients = self.add_slots(variables) if self.centered else []

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr``, ``rho``, ``1 - rho``, ``eps`` and the momentum in the dtype ``dt``."""
        # 1 - rho is computed in Python double, then cast: Keras' rounding.
        return (dt(learning_rate), dt(self.rho), dt(1 - self.rho), dt(self.epsilon),
                dt(self.momentum))

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        lr, rho, one_minus_rho, epsilon, momentum = self._scalars(variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        arrays = (gradient, variable, self._velocities[index],
                  self._average_gradients[index] if self.centered else None,
                  self._momentums[index] if self.momentum > 0 else None)
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays, named
        # after what they hold at the end (see Optimizer._create_scratch).
        for (g, w, velocity, average_grad, momentum_buffer), (increment, denominator) in \
                self._cache_blocks(index, arrays):
            # s <- rho·s + (1 - rho)·g²
            velocity *= rho
            np.square(g, out=denominator)               # free until d: holds (1 - rho)·g²
            denominator *= one_minus_rho
            velocity += denominator
            if average_grad is not None:                # centered
                # ḡ <- rho·ḡ + (1 - rho)·g
                average_grad *= rho
                np.multiply(g, one_minus_rho, out=denominator)   # (1 - rho)·g
                average_grad += denominator
                # d = s - ḡ² + eps
                np.square(average_grad, out=denominator)
                np.subtract(velocity, denominator, out=denominator)
                denominator += epsilon
            else:
                np.add(velocity, epsilon, out=denominator)      # d = s + eps
            # step = lr·g / sqrt(d)
            np.sqrt(denominator, out=denominator)
            np.multiply(g, lr, out=increment)
            increment /= denominator
            if momentum_buffer is not None:
                # b <- momentum·b + step;  w <- w - b
                momentum_buffer *= momentum
                momentum_buffer += increment
                w -= momentum_buffer
            else:
                w -= increment                          # w <- w - step

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
