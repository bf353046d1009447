"""``keras.backend``: the handful of its functions that scripts call (``from keras import
backend as K``; ``K.clear_session()``, ``K.epsilon()``...).

In Keras it also names the engine doing the arithmetic; here that engine is NumPy.
"""

from __future__ import annotations

import gc

import numpy as np

from minired.config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from minired.utils import naming


def backend() -> str:
    """The engine's name, as ``keras.backend.backend()`` gives ``"tensorflow"``.

    Example:
        >>> backend()
        'numpy'
    """
    return "numpy"


def clear_session(free_memory: bool = True) -> None:
    """Forget the session's automatic names, as Keras does: the next ``Dense()`` is called
    ``"dense"`` again. ``free_memory`` also runs Python's garbage collector.

    Example:
        >>> import minired as mr
        >>> clear_session(); mr.layers.Dense(2).name
        'dense'
    """
    naming._NAME_COUNTS.clear()
    if free_memory:
        gc.collect()


def get_uid(prefix: str = "") -> int:
    """How many times ``prefix`` has been asked for, this one included (Keras' counter for
    automatic names: the second ``"dense"`` is ``dense_1``).

    Example:
        >>> clear_session(); get_uid("tensor"), get_uid("tensor")
        (1, 2)
    """
    naming._NAME_COUNTS[prefix] += 1
    return naming._NAME_COUNTS[prefix]


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor of the functional API (``mr.Input(...)``'s output)."""
    from minired.layers.keras_tensor import KerasTensor

    return isinstance(x, KerasTensor)


def standardize_dtype(dtype) -> str:
    """A dtype's name, as Keras writes it: ``"float32"``, ``"int64"``... (None: floatx).

    Example:
        >>> standardize_dtype(np.float64), standardize_dtype(None)
        ('float64', 'float32')
    """
    if dtype is None:
        return floatx()
    return np.dtype(dtype).name


__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
           "is_keras_tensor", "set_epsilon", "set_floatx", "set_image_data_format",
           "standardize_dtype"]
