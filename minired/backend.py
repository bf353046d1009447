"""``keras.backend``: the handful of its functions that scripts call (``from keras import
backend as K``; ``K.clear_session()``, ``K.epsilon()``...).

In Keras it also names the engine doing the arithmetic; here that engine is NumPy.
"""

from __future__ import annotations

import gc

from minired import config
from minired.config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from minired.utils import naming, rng_utils
from minired.utils.dtype_utils import (
    is_float_dtype,
    is_int_dtype,
    result_type,
    standardize_dtype,
)


def backend() -> str:
    """The engine's name, as ``keras.backend.backend()`` gives ``"tensorflow"``.

    Example:
        >>> backend()
        'numpy'
    """
    return "numpy"


def clear_session(free_memory: bool = True) -> None:
    """Reset the session's global state, as Keras does: the automatic names (the next
    ``Dense()`` is called ``"dense"`` again), the generator of unseeded ``mr.random`` draws
    (reseeded from Python's ``random``, see
    :func:`~minired.utils.rng_utils.restart_random_stream`) and the logging switch
    (interactive again). ``free_memory`` also runs Python's garbage collector.

    Example:
        >>> import minired as mr
        >>> clear_session(); mr.layers.Dense(2).name
        'dense'
    """
    naming._NAME_COUNTS.clear()
    rng_utils.restart_random_stream()
    config.enable_interactive_logging()
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


__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
           "is_float_dtype", "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon",
           "set_floatx", "set_image_data_format", "standardize_dtype"]
