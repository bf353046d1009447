"""Learning-rate schedules: ``lr = schedule(step)``.

An optimizer built with a schedule calls it with its step counter *before* each update,
so the first update uses ``schedule(0)``, the second ``schedule(1)``, and so on (Keras'
``_get_current_learning_rate``). Weight decay uses the same value.

Each schedule computes operation by operation in Keras' order and returns a NumPy scalar;
the optimizer then casts it to each variable's dtype. Like Keras, a schedule computes in the
dtype of its ``initial_learning_rate`` (``values[0]`` for PiecewiseConstantDecay): **float32
even in float64 mode** for a Python float, float64 for a NumPy float64. Its other constants
are cast to that dtype as ``ops.cast`` casts them, through float32 for Python floats, and
powers are taken on NumPy scalars, never arrays (both explained in :mod:`minired.keras_numerics`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from minired import keras_numerics
from minired.utils.naming import lookup


class LearningRateSchedule:
    """Base class: a function of the step counter that returns the learning rate.

    Subclasses implement ``__call__(step)`` and ``get_config()``.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __call__(self, step):
        ...         return np.float32(0.1 * 0.5**step)
        ...     def get_config(self):
        ...         return {}
        >>> float(Halving()(2))
        0.02500000037252903
    """

    def __call__(self, step: int) -> np.floating:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override __call__(step)."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override get_config()."
        )

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        """Create the schedule from :meth:`get_config`'s output."""
        return cls(**config)


def _compute_type(value) -> type:
    """The scalar type Keras computes a schedule in: that of ``ops.convert_to_tensor(value)``.

    float32 for a Python float (whatever floatx is), a NumPy float's own type otherwise.
    """
    return keras_numerics.keras_tensor_dtype(value).type


def _check_initial_learning_rate(schedule: str, initial_learning_rate) -> None:
    """Refuse an int rate: Keras would compute the whole schedule in integers.

    Keras accepts ``ExponentialDecay(1, 3, 0.5)`` but then casts 0.5 to the rate's int dtype
    (0), giving the rates 1, 0, 0, ...: minired asks for ``1.0`` instead.
    """
    if not isinstance(initial_learning_rate, float | np.floating):
        raise TypeError(
            f"{schedule}: `initial_learning_rate` must be a float, got "
            f"{initial_learning_rate!r} ({type(initial_learning_rate).__name__}). Keras computes "
            "the schedule in this argument's dtype, so an int would make every step integer "
            "arithmetic: write 1.0, not 1."
        )


def _check_decay_steps(schedule: str, decay_steps) -> None:
    if not isinstance(decay_steps, numbers.Real):
        raise TypeError(f"{schedule}: `decay_steps` must be a number > 0, got {decay_steps!r}.")
    if decay_steps <= 0:
        raise ValueError(f"{schedule}: `decay_steps` must be > 0, got {decay_steps}.")


class _RateDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments, and the progress
    ``p = step / decay_steps`` (floored with ``staircase``) that their formulas use."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ) -> None:
        _check_initial_learning_rate(type(self).__name__, initial_learning_rate)
        _check_decay_steps(type(self).__name__, decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = type(self).__name__ if name is None else name

    def _progress(self, step: int) -> tuple[type, np.floating]:
        """The type the schedule computes in, and ``p = step / decay_steps`` in that type."""
        dt = _compute_type(self.initial_learning_rate)
        p = dt(step) / keras_numerics.as_keras_constant(self.decay_steps, dt)
        return dt, np.floor(p) if self.staircase else p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_RateDecay):
    """Exponential decay: ``lr = lr0 · rate^(step / decay_steps)``.

    With ``staircase=True`` the exponent is floored, so the rate drops in steps every
    ``decay_steps`` updates.

    Args:
        initial_learning_rate: ``lr0``.
        decay_steps: steps for one factor of ``decay_rate`` (must be > 0).
        decay_rate: the factor applied every ``decay_steps`` steps.
        staircase: floor ``step / decay_steps``.
        name: the schedule's name (default ``"ExponentialDecay"``).

    Example:
        >>> schedule = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
        >>> [round(float(schedule(s)), 6) for s in range(3)]
        [0.1, 0.05, 0.025]
    """

    def __call__(self, step: int) -> np.floating:
        dt, p = self._progress(step)
        decay_rate = keras_numerics.as_keras_constant(self.decay_rate, dt)
        return dt(self.initial_learning_rate) * decay_rate**p


class InverseTimeDecay(_RateDecay):
    """Inverse-time decay: ``lr = lr0 / (1 + rate · step / decay_steps)``.

    With ``staircase=True``, ``step / decay_steps`` is floored.

    Args:
        initial_learning_rate: ``lr0``.
        decay_steps: the step scale (must be > 0).
        decay_rate: ``rate``.
        staircase: floor ``step / decay_steps``.
        name: the schedule's name (default ``"InverseTimeDecay"``).

    Example:
        >>> schedule = InverseTimeDecay(0.1, decay_steps=1, decay_rate=1.0)
        >>> [round(float(schedule(s)), 6) for s in range(3)]
        [0.1, 0.05, 0.033333]
    """

    def __call__(self, step: int) -> np.floating:
        dt, p = self._progress(step)
        decay_rate = keras_numerics.as_keras_constant(self.decay_rate, dt)
        return dt(self.initial_learning_rate) / (dt(1) + decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """Piecewise constant: ``values[i]`` on the i-th interval between ``boundaries``.

    ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after the last boundary.
    Boundaries are compared in the step's type, as Keras casts them to the step's dtype.

    Args:
        boundaries: increasing step numbers.
        values: one more value than boundaries.
        name: the schedule's name.

    Example:
        >>> schedule = PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
        >>> [float(schedule(s)) for s in (2, 3, 5)]
        [1.0, 0.5, 0.10000000149011612]
    """

    def __init__(
        self, boundaries: list, values: list, name: str = "PiecewiseConstant"
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: `boundaries` must have one element fewer than "
                f"`values`, got {len(boundaries)} boundaries {boundaries} and {len(values)} "
                f"values {values}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: int) -> np.floating:
        step = np.asarray(step)
        boundaries = np.asarray(self.boundaries).astype(step.dtype)
        passed = int(np.sum(step > boundaries))  # how many boundaries lie strictly below step
        return _compute_type(self.values[0])(self.values[passed])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``lr0`` to ``end`` over ``decay_steps`` steps.

    ``p = min(step, decay_steps) / decay_steps`` and
    ``lr = (lr0 - end) · (1 - p)^power + end``; the rate stays at ``end`` afterwards.
    With ``cycle=True``, ``decay_steps`` is replaced by its first multiple ``>= step``, so the
    decay restarts (from a lower peak) every ``decay_steps`` steps.

    Args:
        initial_learning_rate: ``lr0``.
        decay_steps: length of the decay (must be > 0).
        end_learning_rate: ``end``.
        power: the polynomial's power (1 is linear).
        cycle: restart after ``decay_steps``.
        name: the schedule's name.

    Example:
        >>> schedule = PolynomialDecay(0.1, decay_steps=2, end_learning_rate=0.0)
        >>> [round(float(schedule(s)), 6) for s in range(4)]
        [0.1, 0.05, 0.0, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        _check_initial_learning_rate("PolynomialDecay", initial_learning_rate)
        _check_decay_steps("PolynomialDecay", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: int) -> np.floating:
        dt = _compute_type(self.initial_learning_rate)
        lr0 = dt(self.initial_learning_rate)
        end = keras_numerics.as_keras_constant(self.end_learning_rate, dt)
        power = keras_numerics.as_keras_constant(self.power, dt)
        step = dt(step)
        decay_steps = keras_numerics.as_keras_constant(self.decay_steps, dt)
        if self.cycle:
            # First multiple of decay_steps at or above step (1 at step 0, so p = 0 there).
            # (Keras divides by the uncast `self.decay_steps` here.)
            multiplier = dt(1.0) if step == 0 else np.ceil(step / dt(self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = np.minimum(step, decay_steps)
        p = step / decay_steps
        return (lr0 - end) * (1 - p) ** power + end

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay, with an optional linear warmup first.

    Without warmup (``warmup_target=None``), with ``s = min(step, decay_steps)``::

        lr = lr0 · ((1 - alpha) · ½(1 + cos(π s / decay_steps)) + alpha)

    so ``lr`` falls from ``lr0`` to ``alpha · lr0`` and stays there. With a ``warmup_target``,
    ``lr`` first rises linearly from ``lr0`` to ``warmup_target`` over ``warmup_steps``
    steps, then decays as above from ``warmup_target`` (``s = step - warmup_steps``).

    Args:
        initial_learning_rate: ``lr0``.
        decay_steps: length of the cosine decay (must be > 0).
        alpha: the final rate as a fraction of the decay's starting rate.
        name: the schedule's name.
        warmup_target: the rate reached at the end of the warmup, or ``None`` (no warmup).
        warmup_steps: length of the warmup.

    Example:
        >>> schedule = CosineDecay(0.1, decay_steps=2)
        >>> [round(float(schedule(s)), 6) for s in range(3)]
        [0.1, 0.05, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        _check_initial_learning_rate("CosineDecay", initial_learning_rate)
        _check_decay_steps("CosineDecay", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay_function(self, step, decay_steps, decay_from_lr, dt):
        completed_fraction = step / decay_steps
        angle = dt(math.pi) * completed_fraction
        cosine = keras_numerics.cos_rounded_once(angle)
        cosine_decayed = dt(0.5) * (dt(1.0) + cosine)
        decayed = dt(1 - self.alpha) * cosine_decayed + dt(self.alpha)
        return decay_from_lr * decayed

    def _warmup_function(self, step, warmup_steps, warmup_target, initial_learning_rate):
        completed_fraction = step / warmup_steps
        total_step_delta = warmup_target - initial_learning_rate
        return total_step_delta * completed_fraction + initial_learning_rate

    def __call__(self, step: int) -> np.floating:
        dt = _compute_type(self.initial_learning_rate)
        lr0 = dt(self.initial_learning_rate)
        decay_steps = keras_numerics.as_keras_constant(self.decay_steps, dt)
        step = dt(step)
        if self.warmup_target is None:
            step = np.minimum(step, decay_steps)
            return self._decay_function(step, decay_steps, lr0, dt)
        warmup_target = keras_numerics.as_keras_constant(self.warmup_target, dt)
        warmup_steps = keras_numerics.as_keras_constant(self.warmup_steps, dt)
        step = np.minimum(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return self._warmup_function(step, warmup_steps, warmup_target, lr0)
        return self._decay_function(step - warmup_steps, decay_steps, warmup_target, dt)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


ALL_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        InverseTimeDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        CosineDecay,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict:
    """Return ``{"class_name": ..., "config": ...}`` for a schedule (Keras' layout)."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(serialized: dict) -> LearningRateSchedule:
    """Rebuild a built-in schedule from :func:`serialize`'s output."""
    cls = lookup("learning rate schedule", serialized["class_name"], ALL_SCHEDULES)
    return cls.from_config(serialized["config"])
