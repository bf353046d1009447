"""Adam: momentum plus a per-weight step size from the running mean of g²."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired import keras_numerics
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class Adam(Optimizer):
    """Adam (Kingma & Ba), in Keras' exact form.

    Update rule, with ``t = iterations + 1`` and the moments ``m``, ``v`` starting at 0::

        alpha = lr · sqrt(1 - b2^t) / (1 - b1^t)      (bias correction, folded into the step)
        m <- m + (g - m)·(1 - b1)                     (= b1·m + (1-b1)·g, rounded differently)
        v <- v + (g² - v)·(1 - b2)
        amsgrad: v̂ <- max(v̂, v), used instead of v below
        w <- w - (m·alpha) / (sqrt(v) + eps)

    Note where ``eps`` sits: it is added to the *uncorrected* ``sqrt(v)`` (the paper's
    "epsilon hat" form), not to ``sqrt(v / (1 - b2^t))`` as in PyTorch.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        beta_1: decay of the first moment ``m`` (default 0.9).
        beta_2: decay of the second moment ``v`` (default 0.999).
        epsilon: added to the denominator (default 1e-7, not PyTorch's 1e-8).
        amsgrad: use the running maximum of ``v`` (AMSGrad).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> _ = Adam(learning_rate=0.1).apply_gradients([(np.array([5.0], dtype="float32"), w)])
        >>> w.round(4)            # the first Adam step is ~lr·sign(g), whatever |g|
        array([0.9], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    # the state in Keras' creation order (see Optimizer.save_own_variables)
    _keras_slot_order = (("_momentums", "_velocities"), ("_velocity_hats",))
    _elementwise = True    # every element on its own: small variables go together

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._momentums = self.add_slots(variables)
        self._velocities = self.add_slots(variables)
        self._velocity_hats = self.add_slots(variables) if self.amsgrad else []

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``alpha``, ``1 - b1``, ``1 - b2`` and ``eps`` in the dtype ``dt``, once per step."""
        t = dt(int(self.iterations) + 1)   # the Variable read once, as a plain int
        beta_1 = keras_numerics.as_keras_constant(self.beta_1, dt)
        beta_2 = keras_numerics.as_keras_constant(self.beta_2, dt)
        beta_1_power = beta_1**t  # powers of NumPy scalars, as TensorFlow (see keras_numerics)
        beta_2_power = beta_2**t
        alpha = dt(learning_rate) * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        # 1 - beta is computed in Python double, then cast: Keras' rounding.
        return alpha, dt(1 - self.beta_1), dt(1 - self.beta_2), dt(self.epsilon)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        alpha, one_minus_beta_1, one_minus_beta_2, epsilon = self._scalars(
            variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        v_hat = self._velocity_hats[index] if self.amsgrad else None
        arrays = (gradient, variable, self._momentums[index], self._velocities[index], v_hat)
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays
        # (see Optimizer._create_scratch): the same numbers as on the whole arrays at once.
        for (g, w, m, v, v_hat), scratch in self._cache_blocks(index, arrays):
            adam_update(g, w, m, v, v_hat, scratch, alpha, one_minus_beta_1,
                        one_minus_beta_2, epsilon)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


def adam_update(g: np.ndarray, w: np.ndarray, m: np.ndarray, v: np.ndarray,
                v_hat: np.ndarray | None, scratch: tuple[np.ndarray, np.ndarray], alpha,
                one_minus_beta_1, one_minus_beta_2, epsilon) -> None:
    """One Adam step on arrays of one shape, in place, in Keras' order of operations (see
    :class:`Adam`); ``scratch`` is two arrays of that shape for the intermediate results,
    and ``v_hat`` the AMSGrad maximum (or None). Muon's AdamW variables use it too.

    Example:
        >>> w, m, v = np.array([1.0]), np.zeros(1), np.zeros(1)
        >>> adam_update(np.array([5.0]), w, m, v, None, (np.empty(1), np.empty(1)),
        ...             0.1, 0.1, 0.001, 1e-7)
        >>> w.round(4)            # m = 0.5, v = 0.025: 1 - 0.1·0.5/√0.025
        array([0.6838])
    """
    change, denominator = scratch
    # m <- m + (g - m)·(1 - b1)
    np.subtract(g, m, out=change)
    change *= one_minus_beta_1
    m += change
    # v <- v + (g² - v)·(1 - b2)
    np.square(g, out=change)
    change -= v
    change *= one_minus_beta_2
    v += change
    if v_hat is not None:  # amsgrad: v̂ <- max(v̂, v), used instead of v below
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    # w <- w - (m·alpha) / (sqrt(v) + eps)
    np.sqrt(v, out=denominator)
    denominator += epsilon
    np.multiply(m, alpha, out=change)
    change /= denominator
    w -= change
