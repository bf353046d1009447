"""Global numeric settings, as in ``keras.config``.

minired computes in ``float32`` by default, like Keras. Switch to ``float64`` for
gradient checks and for the tight comparisons against Keras::

    import minired as mr
    mr.config.set_floatx("float64")
"""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_ALLOWED_FLOATX = ("float32", "float64")


def floatx() -> str:
    """Return the default float type as a string: ``"float32"`` or ``"float64"``.

    Example:
        >>> floatx()
        'float32'
    """
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the float type used for new weights, inputs and optimizer state.

    Args:
        value: ``"float32"`` (Keras' default) or ``"float64"``.

    Example:
        >>> set_floatx("float64"); dtype()
        dtype('float64')
    """
    global _FLOATX
    if value not in _ALLOWED_FLOATX:
        raise ValueError(f"set_floatx: `value` must be one of {_ALLOWED_FLOATX}, got {value!r}.")
    _FLOATX = value


def epsilon() -> float:
    """Return the fuzz factor used in numeric expressions (Keras' ``1e-7``).

    Example:
        >>> epsilon()
        1e-07
    """
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by :func:`epsilon`."""
    global _EPSILON
    _EPSILON = float(value)


def dtype() -> np.dtype:
    """Return :func:`floatx` as a NumPy dtype."""
    return np.dtype(_FLOATX)


def image_data_format() -> str:
    """The layout of images: ``"channels_last"`` (``(N, H, W, C)``), Keras' default and the
    only one minired's convolutions read.

    Example:
        >>> image_data_format()
        'channels_last'
    """
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Keras' switch between ``"channels_last"`` and ``"channels_first"``; minired keeps
    channels last, so only that value is accepted."""
    if data_format != "channels_last":
        raise ValueError("set_image_data_format: minired's layers read images as "
                         f"(N, H, W, C): only 'channels_last' is available, got {data_format!r}.")


def backend() -> str:
    """The engine doing the arithmetic, as ``keras.config.backend()`` names it: minired
    computes with NumPy.

    Example:
        >>> backend()
        'numpy'
    """
    return "numpy"


def set_backend(backend: str) -> None:
    """Keras' switch between TensorFlow, JAX and PyTorch. minired has one engine, NumPy:
    ``"numpy"`` is accepted (nothing changes), any other name raises ValueError.

    Example:
        >>> set_backend("numpy")
    """
    if backend != "numpy":
        raise ValueError(f"set_backend: minired computes with NumPy only, so `backend` can only "
                         f"be 'numpy', got {backend!r}. To run the same script on "
                         f"{backend!r}, import keras instead of minired.")


_INTERACTIVE_LOGGING = True


def is_interactive_logging_enabled() -> bool:
    """Whether ``fit``'s progress bar and messages go to standard output (True, the
    default) or to Python's ``logging`` (logger ``"minired"``, level INFO), as Keras sends
    them to ``absl.logging``.

    Example:
        >>> is_interactive_logging_enabled()
        True
    """
    return _INTERACTIVE_LOGGING


def enable_interactive_logging() -> None:
    """Send the progress bar and messages to standard output (the default)."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = True


def disable_interactive_logging() -> None:
    """Send the progress bar and messages to Python's ``logging`` (logger ``"minired"``),
    for a script run on a server, as Keras sends them to ``absl.logging``.

    Example:
        >>> disable_interactive_logging(); is_interactive_logging_enabled()
        False
        >>> enable_interactive_logging()
    """
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = False
