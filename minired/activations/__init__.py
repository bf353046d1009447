"""Activation functions by Keras name: ``mr.activations.get("relu")``.

Each function ``f`` has its backward pass attached as ``f.backward(z, a, δa) -> δz`` (with
the same keyword arguments as ``f``, e.g. ``relu.backward(z, a, δa, max_value=6.0)``).
:func:`backward_reads_output` says whether that backward reads ``a`` (relu's does not).

The files: ``activations.py`` holds the six of lesson 3 (linear, relu, sigmoid, tanh,
softmax, log_softmax); ``rectifiers.py`` relu's relatives (leaky_relu, relu6, elu, selu);
``smooth.py`` softplus, softsign, silu, gelu, mish, exponential; ``hard.py`` hard_sigmoid and
hard_silu.
"""

from __future__ import annotations

from collections.abc import Callable

from minired.activations.activations import (
    backward_reads_output,
    linear,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from minired.activations.hard import hard_sigmoid, hard_silu
from minired.activations.rectifiers import elu, leaky_relu, relu6, selu
from minired.activations.smooth import exponential, gelu, mish, silu, softplus, softsign
from minired.utils.naming import lookup

#: The activations of lesson 3, by name (the lesson's exercise loops over them).
ALL_ACTIVATIONS = {fn.__name__: fn for fn in (linear, relu, sigmoid, tanh, softmax, log_softmax)}
#: The rest of Keras' catalog that minired implements, by name.
MORE_ACTIVATIONS = {fn.__name__: fn for fn in (
    leaky_relu, relu6, elu, selu, softplus, softsign, silu, gelu, hard_sigmoid, hard_silu,
    exponential, mish)}
#: Keras' other names for two of them. :func:`get` accepts the names of all three tables.
ALIASES = {"swish": silu, "hard_swish": hard_silu}

swish = silu            # Keras' other name for it: keras.activations.swish is silu
hard_swish = hard_silu  # and keras.activations.hard_swish is hard_silu


def get(identifier: str | Callable | None) -> Callable:
    """Return the activation function for a Keras name, a function, or ``None`` (linear).

    Example:
        >>> get("relu").__name__, get("swish").__name__
        ('relu', 'silu')
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return lookup("activation", identifier,
                      {**ALL_ACTIVATIONS, **MORE_ACTIVATIONS, **ALIASES})
    if callable(identifier):
        if not hasattr(identifier, "backward"):
            raise TypeError(
                f"activation {identifier!r} has no `backward` attribute: minired needs "
                "`f.backward(z, a, grad) -> grad_z` to backpropagate through it."
            )
        return identifier
    raise TypeError(
        f"`activation` must be a string, a function or None, got {type(identifier).__name__}."
    )


def serialize(activation: Callable) -> str:
    """Return the Keras name of an activation function (an alias gives the main name)."""
    return activation.__name__


__all__ = ["get", "serialize", "backward_reads_output", "linear", "relu", "sigmoid", "tanh",
           "softmax", "log_softmax", "leaky_relu", "relu6", "elu", "selu", "softplus", "softsign",
           "silu", "swish", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "exponential",
           "mish"]
