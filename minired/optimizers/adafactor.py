"""Adafactor: Adam's second moment, stored as row and column means (memory-light)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minired import keras_numerics
from minired.optimizers.optimizer import Optimizer
from minired.optimizers.schedules import LearningRateSchedule


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern), in Keras' form (no first moment, no bias correction).

    With ``t = iterations + 1``, ``rms(x) = sqrt(mean(x²))`` and ``ĝ² = g² + eps1``::

        relative_step (and a float lr):  lr <- min(lr, 1/sqrt(t))
        ρ = min(lr, 1/sqrt(t));   α = max(eps2, rms(w))·ρ     (a step relative to |w|)
        b2 = 1 - t^beta_2_decay                                (grows towards 1)
        w with 2 or more axes (the last two factored):
            r <- b2·r + (1 - b2)·mean(ĝ², last axis)           (one value per row)
            c <- b2·c + (1 - b2)·mean(ĝ², second-last axis)    (one value per column)
            v = (r / mean(r)) ⊗ c                              (a rank-1 estimate of E[g²])
        otherwise:
            v <- b2·v + (1 - b2)·ĝ²
        u = g / sqrt(v);   û = u / max(1, rms(u) / clip_threshold)
        w <- w - α·û

    In the paper, ``v`` of a (n, m) kernel is rebuilt at each step from n + m numbers, where
    Adam keeps 2·n·m. Keras' version still keeps ``v`` as a slot, and two 0-d int32
    placeholders for ``r`` and ``c`` of each variable with fewer than 2 axes; minired keeps
    the same, so that saved files match Keras'. The means and ``rms`` are sums, which
    TensorFlow adds in another order: results agree with Keras to a few ulp, not bit for bit.

    Args:
        learning_rate: a float, a schedule, or a function of no arguments (default 0.001).
        beta_2_decay: the exponent in ``b2`` (default -0.8).
        epsilon_1: added to g² (default 1e-30).
        epsilon_2: the smallest ``rms(w)`` used for ``α`` (default 1e-3).
        clip_threshold: the largest ``rms(û)`` (default 1.0).
        relative_step: cap a float learning rate at ``1/sqrt(t)`` (default True). Keras'
            ``ρ`` applies the same cap anyway, so this changes no number.
        {{base_optimizer_keyword_args}}

    Example:
        >>> w = np.array([3.0, 4.0], dtype="float32")
        >>> grad = np.array([1.0, -1.0], dtype="float32")
        >>> _ = Adafactor(learning_rate=0.1).apply_gradients([(grad, w)])
        >>> w.round(4)            # α = rms(w)·0.1 = 0.3536, û = (1, -1)
        array([2.6464, 4.3536], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    # the state in Keras' creation order (see Optimizer.save_own_variables): r, c, v per variable
    _keras_slot_order = (("_r", "_c", "_v"),)

    _scratch_per_variable = 2

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        # Keras' placeholders for r and c of a variable with fewer than 2 axes: 0-d int32.
        self._r = [np.zeros(v.shape[:-1], v.dtype) if v.ndim >= 2 else np.zeros((), np.int32)
                   for v in variables]
        self._c = [np.zeros(v.shape[:-2] + v.shape[-1:], v.dtype) if v.ndim >= 2
                   else np.zeros((), np.int32) for v in variables]
        self._v = self.add_slots(variables)

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """``ρ``, ``b2``, ``1 - b2``, ``eps1``, ``eps2`` and ``clip_threshold`` in ``dt``."""
        t = dt(int(self.iterations) + 1)
        lr = dt(learning_rate)
        inverse_sqrt_t = dt(1) / np.sqrt(t)
        # Keras tests `callable(self._learning_rate)`: a schedule or a function is not capped
        # here (a float one is a Variable, which is not callable).
        if self.relative_step and not callable(self._learning_rate):
            lr = np.minimum(lr, inverse_sqrt_t)
        rho = np.minimum(lr, inverse_sqrt_t)
        beta_2 = dt(1) - t ** dt(self.beta_2_decay)   # a power of NumPy scalars (keras_numerics)
        return (rho, beta_2, dt(1) - beta_2, dt(self.epsilon_1),
                keras_numerics.as_keras_constant(self.epsilon_2, dt), dt(self.clip_threshold))

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        rho, beta_2, one_minus_beta_2, epsilon_1, epsilon_2, clip_threshold = self._scalars(
            variable.dtype, learning_rate)
        index = self._get_variable_index(variable)
        g, w, v = gradient, variable, self._v[index]
        # rms(w) and the means need whole arrays, so there are no cache blocks here; the
        # scratch arrays (see Optimizer._create_scratch) are named after what they hold last.
        update, squares = self._scratch[index]
        # α = max(eps2, rms(w))·ρ
        alpha = np.maximum(epsilon_2, np.sqrt(np.mean(np.square(w, out=squares)))) * rho
        # ĝ² = g² + eps1
        np.square(g, out=squares)
        squares += epsilon_1
        if w.ndim >= 2:
            r, c = self._r[index], self._c[index]
            # r <- b2·r + (1 - b2)·mean(ĝ², last axis);  c likewise over the second-last
            r *= beta_2
            r += np.mean(squares, axis=-1) * one_minus_beta_2
            c *= beta_2
            c += np.mean(squares, axis=-2) * one_minus_beta_2
            # v = (r / mean(r)) ⊗ c
            np.multiply((r / np.mean(r, axis=-1, keepdims=True))[..., None],
                        c[..., None, :], out=v)
        else:
            # v <- b2·v + (1 - b2)·ĝ²
            v *= beta_2
            squares *= one_minus_beta_2
            v += squares
        # u = g / sqrt(v)
        np.sqrt(v, out=update)
        np.divide(g, update, out=update)
        # û = u / max(1, rms(u) / clip_threshold)
        rms_u = np.sqrt(np.mean(np.square(update, out=squares)))
        update /= np.maximum(rms_u.dtype.type(1), rms_u / clip_threshold)
        # w <- w - α·û
        update *= alpha
        w -= update

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }
