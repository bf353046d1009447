"""Activation functions by Keras name: ``mr.activations.get("relu")``.

Each function ``f`` has its backward pass attached as ``f.backward(z, a, δa) -> δz``.
"""

from __future__ import annotations

from collections.abc import Callable

from minired.activations.activations import linear, log_softmax, relu, sigmoid, softmax, tanh
from minired.utils.naming import lookup

ALL_ACTIVATIONS = {fn.__name__: fn for fn in (linear, relu, sigmoid, tanh, softmax, log_softmax)}


def get(identifier: str | Callable | None) -> Callable:
    """Return the activation function for a Keras name, a function, or ``None`` (linear).

    Example:
        >>> get("relu").__name__
        'relu'
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return lookup("activation", identifier, ALL_ACTIVATIONS)
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
    """Return the Keras name of an activation function."""
    return activation.__name__


__all__ = ["get", "serialize", "linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax"]
