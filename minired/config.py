"""Global numeric settings, as in ``keras.config``.

minired computes in ``float32`` by default, like Keras. Switch to ``float64`` for
gradient checks and for the tight comparisons against Keras::

    import minired as mr
    mr.config.set_floatx("float64")

The layers compute in the global dtype policy's dtype, :func:`dtype`: floatx, unless
:func:`set_dtype_policy` set another (see :mod:`minired.dtype_policies`).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_ALLOWED_FLOATX = ("float32", "float64")
#: The global dtype policy set by ``set_dtype_policy``; None: it follows floatx.
_DTYPE_POLICY = None


def floatx() -> str:
    """Return the default float type as a string: ``"float32"`` or ``"float64"``.

    Example:
        >>> floatx()
        'float32'
    """
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the float type used for new weights, inputs and optimizer state.

    It also sets the global dtype policy back to following floatx (with a warning when
    :func:`set_dtype_policy` had set another dtype), so new layers compute in ``value``.

    Args:
        value: ``"float32"`` (Keras' default) or ``"float64"``.

    Example:
        >>> set_floatx("float64"); dtype()
        dtype('float64')
    """
    global _FLOATX, _DTYPE_POLICY
    if value not in _ALLOWED_FLOATX:
        raise ValueError(f"set_floatx: `value` must be one of {_ALLOWED_FLOATX}, got {value!r}.")
    if _DTYPE_POLICY is not None and _DTYPE_POLICY.compute_dtype != value:
        warnings.warn(f"set_floatx({value!r}) also sets the global dtype policy back to "
                      f"floatx: new layers compute in {value}, not in the policy "
                      f"{_DTYPE_POLICY.name!r} set before (Keras would keep that policy).",
                      UserWarning, stacklevel=2)
    _FLOATX, _DTYPE_POLICY = value, None


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
    """The dtype layers compute in and keep their weights in, as a NumPy dtype: the global
    dtype policy's (:func:`set_dtype_policy`) when one was set, else :func:`floatx`.

    Example:
        >>> dtype()
        dtype('float32')
    """
    return np.dtype(_FLOATX if _DTYPE_POLICY is None else _DTYPE_POLICY.compute_dtype)


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


# -- Keras' debugging caps on fit/evaluate/predict ---------------------------------------------

def _cap_from_environment(variable: str) -> int | None:
    """Keras reads ``KERAS_MAX_EPOCHS`` and ``KERAS_MAX_STEPS_PER_EPOCH`` once, at import."""
    value = os.environ.get(variable)
    return None if value is None else _check_cap(int(value), variable)


def _check_cap(value, name: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer)
                              or value < 0):
        raise ValueError(f"{name}: expected an int >= 0 or None (no limit), got {value!r}.")
    return None if value is None else int(value)


_MAX_EPOCHS = _cap_from_environment("KERAS_MAX_EPOCHS")
_MAX_STEPS_PER_EPOCH = _cap_from_environment("KERAS_MAX_STEPS_PER_EPOCH")


def max_epochs() -> int | None:
    """The cap on the epochs of any ``fit``, or None (no cap, the default).

    Set by :func:`set_max_epochs` or, when minired is imported, by the environment variable
    ``KERAS_MAX_EPOCHS``, as in Keras.

    Example:
        >>> max_epochs() is None
        True
    """
    return _MAX_EPOCHS


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the epochs of every ``fit`` (for debugging: run a script quickly, unchanged).

    ``fit(epochs=n)`` runs ``min(n, max_epochs)`` epochs, with Keras' warning
    ``"Limiting epochs to ..."`` when it cuts. ``None`` removes the cap, and so does ``0``
    (Keras tests the cap's truth).

    Args:
        max_epochs: an int >= 0, or None.

    Example:
        >>> set_max_epochs(2); max_epochs()
        2
        >>> set_max_epochs(None)
    """
    global _MAX_EPOCHS
    _MAX_EPOCHS = _check_cap(max_epochs, "set_max_epochs: `max_epochs`")


def max_steps_per_epoch() -> int | None:
    """The cap on the batches of each epoch of ``fit`` and of each ``evaluate`` and
    ``predict``, or None (no cap, the default).

    Set by :func:`set_max_steps_per_epoch` or, when minired is imported, by the environment
    variable ``KERAS_MAX_STEPS_PER_EPOCH``, as in Keras.

    Example:
        >>> max_steps_per_epoch() is None
        True
    """
    return _MAX_STEPS_PER_EPOCH


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the batches per epoch of ``fit``, ``evaluate`` and ``predict`` (for debugging).

    As Keras, the cap acts as a ``steps_per_epoch`` (``steps``) argument: it replaces one
    that is missing or larger, with the warning ``"Limiting steps_per_epoch to ..."``. So,
    as with ``steps_per_epoch``, the epochs of ``fit`` continue through the data where the
    previous one stopped (one pass over 10 batches, capped at 3: batches 0-2, 3-5, 6-8, then
    9 alone with the "ran out of data" warning, then a new pass). ``None`` or ``0`` removes
    the cap.

    Args:
        max_steps_per_epoch: an int >= 0, or None.

    Example:
        >>> set_max_steps_per_epoch(5); max_steps_per_epoch()
        5
        >>> set_max_steps_per_epoch(None)
    """
    global _MAX_STEPS_PER_EPOCH
    _MAX_STEPS_PER_EPOCH = _check_cap(max_steps_per_epoch,
                                      "set_max_steps_per_epoch: `max_steps_per_epoch`")


# -- Keras' switches that minired records but has no machinery for ------------------------------
# Keras' global settings for traceback filtering, safe deserialization and flash attention.
# minired shows whole tracebacks, never runs code stored in a file and has no flash attention,
# so each switch is recorded and read back as in Keras (a script that sets one runs
# unchanged), and changes nothing else.

_TRACEBACK_FILTERING = True
_FLASH_ATTENTION: bool | None = None        # Keras' "flash_attention": None means "enabled"


def is_traceback_filtering_enabled() -> bool:
    """Whether traceback filtering is on (True, Keras' default).

    Keras hides its own frames from the tracebacks of the errors it raises. minired keeps
    every frame (the code behind an error is there to be read), so this setting is only
    recorded, for scripts that set it.

    Example:
        >>> is_traceback_filtering_enabled()
        True
    """
    return _TRACEBACK_FILTERING


def enable_traceback_filtering() -> None:
    """Turn traceback filtering on (recorded only: minired shows every frame).

    Example:
        >>> disable_traceback_filtering(); enable_traceback_filtering()
        >>> is_traceback_filtering_enabled()
        True
    """
    global _TRACEBACK_FILTERING
    _TRACEBACK_FILTERING = True


def disable_traceback_filtering() -> None:
    """Turn traceback filtering off (recorded only: minired shows every frame anyway).

    Example:
        >>> disable_traceback_filtering(); is_traceback_filtering_enabled()
        False
        >>> enable_traceback_filtering()
    """
    global _TRACEBACK_FILTERING
    _TRACEBACK_FILTERING = False


def enable_unsafe_deserialization() -> None:
    """Turn safe mode off globally, as ``keras.config.enable_unsafe_deserialization``.

    In Keras this lets a ``from_config`` called outside a loading scope rebuild the
    lambdas stored in a file. minired never runs code stored in a file (a ``Lambda``
    layer's bytecode is refused whatever ``safe_mode`` says), so this only sets the
    ``safe_mode`` that ``from_config`` calls see outside a loading scope to False, as Keras'
    global does (a ``Lambda`` then gives minired's refusal instead of Keras' safe-mode
    error). There is no way back, as in Keras, except leaving a scope opened before.

    Example:
        >>> from minired.saving import serialization_lib
        >>> with serialization_lib.deserialization_scope():    # restored when it closes
        ...     enable_unsafe_deserialization()
    """
    from minired.saving import serialization_lib

    serialization_lib._SCOPE["safe_mode"] = False


def is_flash_attention_enabled() -> bool | None:
    """Whether flash attention is on: as Keras, ``None`` (the default, meaning "use it
    where possible") or ``True`` after :func:`enable_flash_attention`, ``False`` after
    :func:`disable_flash_attention`.

    minired has no flash attention (``dot_product_attention`` computes
    ``softmax(Q Kᵀ / √d) V`` in one way), so this is only recorded, as Keras does on a
    backend without it.

    Example:
        >>> is_flash_attention_enabled() is None
        True
    """
    return _FLASH_ATTENTION


def enable_flash_attention() -> None:
    """Allow flash attention (recorded only; Keras stores ``None``, "where possible").

    Example:
        >>> disable_flash_attention(); enable_flash_attention()
        >>> is_flash_attention_enabled() is None
        True
    """
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = None


def disable_flash_attention() -> None:
    """Forbid flash attention (recorded only: minired has none).

    Example:
        >>> disable_flash_attention(); is_flash_attention_enabled()
        False
        >>> enable_flash_attention()
    """
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = False


def is_nnx_enabled() -> bool:
    """Whether Flax NNX features are on for the JAX backend: always False in minired,
    which has no JAX backend (Keras' default is False too).

    Example:
        >>> is_nnx_enabled()
        False
    """
    return False


# -- the global dtype policy (minired.dtype_policies) -----------------------------------------

def dtype_policy():
    """The global dtype policy, as ``keras.config.dtype_policy``: the one
    :func:`set_dtype_policy` set, else a ``DTypePolicy`` of :func:`floatx`.

    Example:
        >>> dtype_policy()
        <DTypePolicy "float32">
    """
    from minired.dtype_policies import dtype_policy as policies

    return policies.dtype_policy()


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy, as ``keras.config.set_dtype_policy``: layers built
    afterwards compute and keep their weights in its dtype, ``"float32"`` or ``"float64"``
    (:func:`dtype` returns it). Other policies (``"mixed_float16"``, ``"bfloat16"``,
    ``"int8_from_float32"``...) raise ValueError: minired has no mixed precision.

    Example:
        >>> set_dtype_policy("float64"); dtype()
        dtype('float64')
        >>> set_dtype_policy("float32")      # back to Keras' default
    """
    from minired.dtype_policies import dtype_policy as policies

    policies.set_dtype_policy(policy)
