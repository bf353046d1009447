"""ScheduleFreeAdamW: Adam's step size without a learning-rate schedule, by averaging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired import keras_numerics
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW (Defazio et al., 2024), in Keras' form.

    Three sequences live side by side: ``z`` (Keras calls it ``momentum``) takes the plain
    Adam-like steps, ``x`` is the running average of the ``z``'s, and the model's weights
    ``w`` are the point between them where the gradient is taken, ``y = (1-b1)·z + b1·x``.
    ``z`` starts at the initial weights. With ``t = iterations + 1``::

        lr <- lr · min(t / warmup_steps, 1)           (only when warmup_steps > 0)
        v <- v + (g² - v)·(1 - b2)
        z <- z - (lr·g) / (sqrt(v / (1 - b2^t)) + eps)
        x_old = (w - (1 - b1)·z) / b1                 (z already updated: see below)
        x = (1 - 1/t)·x_old + (1/t)·z                 (the average of the z's)
        w <- (1 - b1)·z + b1·x

    ``x_old`` is Keras' own arithmetic on the TensorFlow backend: Keras reads ``z`` through
    the variable after its update, not the old ``z`` its code names. minired computes the
    same numbers.

    The weights stay ``y`` after training and during ``evaluate``, as in Keras, whose
    trainer never swaps them for the average ``x`` (the paper evaluates at ``x``).

    ``z`` starts at the weights when the optimizer is built (Keras' ``build``). Keras' ``fit``
    on the TensorFlow backend builds an unbuilt optimizer while it traces its step function,
    and that copy is lost there: ``z`` starts at 0, and the first step replaces the weights
    by ``z``, about ``±lr``. minired always starts from the weights, as Keras does when the
    optimizer is built before ``fit`` (``optimizer.build(model.trainable_variables)``), on
    its other backends, and in ``apply_gradients``.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.0025).
        beta_1: the interpolation between ``z`` and ``x`` (default 0.9).
        beta_2: decay of the second moment ``v`` (default 0.999).
        epsilon: added to the corrected ``sqrt(v)`` (default 1e-8).
        warmup_steps: the learning rate grows linearly over this many steps (default 0).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> opt = ScheduleFreeAdamW(learning_rate=0.1)
        >>> _ = opt.apply_gradients([(np.array([5.0], dtype="float32"), w)])
        >>> w.round(4)            # z moves by lr·sign(g); at t = 1, x = z, so w = z
        array([0.9], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    # the state in Keras' creation order (see Optimizer.save_own_variables)
    _keras_slot_order = (("_momentums", "_velocities"),)
    _elementwise = True    # every element on its own: small variables go together

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._momentums = [np.array(v, copy=True) for v in variables]   # z starts at w
        self._velocities = self.add_slots(variables)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr`` (warmed up), ``1 - b1``, ``b1``, ``1 - b2``, ``1 - b2^t``, ``eps``, ``1/t``
        and ``1 - 1/t`` in the dtype ``dt``, once per step."""
        t = dt(int(self.iterations) + 1)
        lr = dt(learning_rate)
        if self.warmup_steps > 0:
            lr = lr * np.minimum(t / dt(self.warmup_steps), dt(1.0))
        # Keras casts the betas and epsilon first (ops.cast: through float32, see
        # keras_numerics), then computes 1 - b in the variable's dtype.
        beta_1 = keras_numerics.as_keras_constant(self.beta_1, dt)
        beta_2 = keras_numerics.as_keras_constant(self.beta_2, dt)
        epsilon = keras_numerics.as_keras_constant(self.epsilon, dt)
        weight = dt(1.0) / t
        return (lr, dt(1) - beta_1, beta_1, dt(1) - beta_2, dt(1) - beta_2**t, epsilon,
                weight, dt(1) - weight)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        (lr, one_minus_beta_1, beta_1, one_minus_beta_2, bias_correction_2, epsilon,
         weight, one_minus_weight) = self._scalars(variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        arrays = (gradient, variable, self._momentums[index], self._velocities[index])
        for (g, w, z, v), (change, x) in self._cache_blocks(index, arrays):
            # v <- v + (g² - v)·(1 - b2)
            np.square(g, out=change)
            change -= v
            change *= one_minus_beta_2
            v += change
            # z <- z - (lr·g) / (sqrt(v / (1 - b2^t)) + eps)
            np.divide(v, bias_correction_2, out=x)
            np.sqrt(x, out=x)
            x += epsilon
            np.multiply(g, lr, out=change)
            change /= x
            z -= change
            # x_old = (w - (1 - b1)·z) / b1
            np.multiply(z, one_minus_beta_1, out=change)
            np.subtract(w, change, out=x)
            x /= beta_1
            # x = (1 - 1/t)·x_old + (1/t)·z
            x *= one_minus_weight
            np.multiply(z, weight, out=change)
            x += change
            # w <- (1 - b1)·z + b1·x
            x *= beta_1
            np.multiply(z, one_minus_beta_1, out=w)
            w += x

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }
