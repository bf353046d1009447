"""FTRL-Proximal: per-weight rates as Adagrad, with L1 that sets weights exactly to zero."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al., "Ad Click Prediction"), in Keras' exact form.

    The accumulator ``n`` starts at ``initial_accumulator_value``, the linear term ``z`` at
    0; ``p = -learning_rate_power`` (0.5 by default, Adagrad's square root)::

        l2' = l2 + beta / (2·lr)
        ĝ = g + 2·l2_shrinkage·w                  (shrinkage: L2 felt through the gradient)
        n' = n + g²
        z <- z + ĝ - ((n'^p - n^p) / lr)·w
        q = n'^p / lr + 2·l2'
        w <- (clip(z, -l1, l1) - z) / q           (0 whenever |z| <= l1: sparse weights)
        n <- n'

    The new ``w`` does not depend on the old one except through ``z``: FTRL solves for the
    weights in closed form from the accumulated gradients at every step.

    Keras computes ``n^p`` with TensorFlow's vectorised ``pow``, which is one ulp off the
    correctly rounded power (NumPy's) on about a quarter of the elements: results agree
    with Keras to a few ulp, not bit for bit.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        learning_rate_power: ``-p``, how the rate shrinks with ``n`` (<= 0; default -0.5).
        initial_accumulator_value: the starting value of ``n`` (>= 0; default 0.1).
        l1_regularization_strength: ``l1`` (>= 0; default 0.0).
        l2_regularization_strength: ``l2`` (>= 0; default 0.0).
        l2_shrinkage_regularization_strength: ``l2_shrinkage`` (>= 0; default 0.0).
        beta: adds ``beta / (2·lr)`` to ``l2`` (default 0.0).
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([0.0, 0.0], dtype="float32")
        >>> opt = Ftrl(learning_rate=0.5, l1_regularization_strength=1.0)
        >>> _ = opt.apply_gradients([(np.array([3.0, 0.5], dtype="float32"), w)])
        >>> w.round(4)            # (1 - 3)/(sqrt(9.1)/0.5); |z| = 0.5 <= l1 gives exactly 0
        array([-0.3315,  0.    ], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        for arg, value, sign in (
            ("initial_accumulator_value", initial_accumulator_value, "positive or zero"),
            ("learning_rate_power", learning_rate_power, "negative or zero"),
            ("l1_regularization_strength", l1_regularization_strength, "positive or zero"),
            ("l2_regularization_strength", l2_regularization_strength, "positive or zero"),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
             "positive or zero"),
            ("beta", beta, None),
        ):
            if not isinstance(value, numbers.Real):
                raise TypeError(f"Ftrl: `{arg}` must be a number, got {value!r}.")
            wrong = value > 0 if sign == "negative or zero" else value < 0
            if sign is not None and wrong:
                raise ValueError(f"Ftrl: `{arg}` needs to be {sign}, got {arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    # the state in Keras' creation order (see Optimizer.save_own_variables)
    _keras_slot_order = (("_accumulators", "_linears"),)
    _elementwise = True    # every element on its own: small variables go together

    _scratch_per_variable = 3

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        self._accumulators = self.add_slots(variables, fill=self.initial_accumulator_value)
        self._linears = self.add_slots(variables)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``lr``, ``p``, ``2·l2_shrinkage``, ``2·l2'`` and ``l1`` in the dtype ``dt``."""
        lr = dt(learning_rate)
        # Keras: l2 + beta / (2.0·lr), with the Python floats meeting lr's dtype directly.
        l2_reg = dt(self.l2_regularization_strength) + dt(self.beta) / (dt(2.0) * lr)
        # 2·l2_shrinkage is computed in Python double, then cast: Keras' rounding.
        return (lr, dt(-self.learning_rate_power),
                dt(2 * self.l2_shrinkage_regularization_strength), dt(2) * l2_reg,
                dt(self.l1_regularization_strength))

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        lr, power, two_l2_shrinkage, two_l2_reg, l1 = self._scalars(variable.dtype,
                                                                     learning_rate)
        index = self._get_variable_index(variable)
        arrays = (gradient, variable, self._accumulators[index], self._linears[index])
        # One block of the arrays at a time (see cache_blocks), into the scratch arrays, named
        # after what they hold at the end (see Optimizer._create_scratch).
        for (g, w, n, z), (change, new_n, new_n_power) in self._cache_blocks(index, arrays):
            # ĝ = g + 2·l2_shrinkage·w
            np.multiply(w, two_l2_shrinkage, out=change)
            change += g
            # n' = n + g²
            np.square(g, out=new_n)
            new_n += n
            # z <- z + ĝ - ((n'^p - n^p) / lr)·w      (n holds n^p, then the whole term)
            np.power(new_n, power, out=new_n_power)
            np.power(n, power, out=n)
            np.subtract(new_n_power, n, out=n)
            n /= lr
            n *= w
            change -= n
            z += change
            # n <- n' (Keras does it last; nothing below reads n)
            n[...] = new_n
            # q = n'^p / lr + 2·l2'                   (new_n's array holds q from here)
            np.divide(new_n_power, lr, out=new_n)
            new_n += two_l2_reg
            # w <- (clip(z, -l1, l1) - z) / q
            np.clip(z, -l1, l1, out=change)
            change -= z
            np.divide(change, new_n, out=w)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
