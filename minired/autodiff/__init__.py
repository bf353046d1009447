"""Reverse-mode automatic differentiation for the code a user writes with ``mr.ops``.

- :mod:`~minired.autodiff.tape`: the tape, its records and the backward walk;
- :mod:`~minired.autodiff.tensor`: :class:`Tensor`, the NumPy array the tape can see.

The built-in layers keep their hand-written backward passes; the tape differentiates
``call()`` of a user's layer or model, a loss written as a function, and anything else
written with ``mr.ops`` while a :class:`GradientTape` records.
"""

from minired.autodiff.tape import GradientTape, active_tape, record
from minired.autodiff.tensor import Tensor

__all__ = ["GradientTape", "Tensor", "active_tape", "record"]
