"""Cosine decay with warm restarts (SGDR): the cosine decay, started again and again."""

from __future__ import annotations

import math

import numpy as np

from minired import keras_numerics
from minired.optimizers.schedules.learning_rate_schedule import (
    ALL_SCHEDULES,
    LearningRateSchedule,
    _check_decay_steps,
    _check_initial_learning_rate,
    _compute_type,
)


def _log_rounded_once(x: np.floating) -> np.floating:
    """``log(x)`` in ``x``'s dtype, computed in float64 and rounded once: closer to
    TensorFlow's scalar ``log`` than NumPy's float32 one, for the same reason as
    :func:`minired.keras_numerics.cos_rounded_once` (3,000 float32 values in [1, 21]:
    6 differ from TensorFlow's, against 222 for ``np.log``)."""
    return type(x)(np.log(np.float64(x)))


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (Loshchilov & Hutter, SGDR), in Keras' exact form.

    With ``T = first_decay_steps``, the i-th period (i = 0, 1, ...) lasts ``T·t_mul^i``
    steps and starts from ``lr0·m_mul^i``. With ``f = step / T``, the period ``i`` and the
    fraction ``f'`` of it already done are::

        t_mul = 1:  i = floor(f),                          f' = f - i
        otherwise:  i = floor(log(1 - f·(1 - t_mul)) / log(t_mul)),
                    f' = (f - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i

    and then, as CosineDecay within the period::

        lr = lr0 · ((1 - alpha) · ½·m_mul^i·(1 + cos(π f')) + alpha)

    Like every schedule here it computes in the dtype of ``initial_learning_rate``: float32
    for a Python float, even in float64 mode (see the module docstring of
    :mod:`minired.optimizers.schedules.learning_rate_schedule`).

    Args:
        initial_learning_rate: ``lr0``, a float.
        first_decay_steps: ``T``, the length of the first period (must be > 0).
        t_mul: how much longer each period is than the one before (default 2.0).
        m_mul: how much lower each period starts than the one before (default 1.0).
        alpha: the lowest rate, as a fraction of ``lr0`` (default 0.0).
        name: the schedule's name (default ``"SGDRDecay"``, as in Keras).

    Example:
        >>> schedule = CosineDecayRestarts(0.1, first_decay_steps=2, t_mul=1.0, m_mul=0.5)
        >>> [round(float(schedule(s)), 6) for s in range(5)]   # restarts at 2 and 4
        [0.1, 0.05, 0.05, 0.025, 0.025]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        _check_initial_learning_rate("CosineDecayRestarts", initial_learning_rate)
        try:
            _check_decay_steps("CosineDecayRestarts", first_decay_steps)
        except (TypeError, ValueError) as error:   # the same checks, under this argument's name
            raise type(error)(str(error).replace("`decay_steps`", "`first_decay_steps`")) from None
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def _period(self, completed_fraction, t_mul, dt):
        """``(i, f')``: which period ``completed_fraction`` falls in, and how far into it."""
        if t_mul == dt(1.0):
            i_restart = np.floor(completed_fraction)
            return i_restart, completed_fraction - i_restart
        i_restart = np.floor(
            _log_rounded_once(dt(1.0) - completed_fraction * (dt(1.0) - t_mul))
            / _log_rounded_once(t_mul))
        sum_r = (dt(1.0) - t_mul**i_restart) / (dt(1.0) - t_mul)
        return i_restart, (completed_fraction - sum_r) / t_mul**i_restart

    def __call__(self, step: int) -> np.floating:
        dt = _compute_type(self.initial_learning_rate)
        lr0 = dt(self.initial_learning_rate)
        first_decay_steps = keras_numerics.as_keras_constant(self.first_decay_steps, dt)
        alpha = keras_numerics.as_keras_constant(self.alpha, dt)
        t_mul = keras_numerics.as_keras_constant(self._t_mul, dt)
        m_mul = keras_numerics.as_keras_constant(self._m_mul, dt)
        completed_fraction = dt(step) / first_decay_steps
        i_restart, completed_fraction = self._period(completed_fraction, t_mul, dt)
        m_fac = m_mul**i_restart
        cosine = keras_numerics.cos_rounded_once(dt(math.pi) * completed_fraction)
        cosine_decayed = dt(0.5) * m_fac * (dt(1.0) + cosine)
        decayed = (dt(1) - alpha) * cosine_decayed + alpha
        return lr0 * decayed

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


ALL_SCHEDULES[CosineDecayRestarts.__name__] = CosineDecayRestarts   # for deserialize()
