"""Activation: a layer that only applies an activation function."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations
from minired.layers.layer import Layer
from minired.saving import serialization_lib


class Activation(Layer):
    """Apply ``a = f(z)`` element-wise (or over the last axis, for softmax).

    Backward: ``δz = f.backward(z, a, δa)``.  ``Dense(10, activation="softmax")`` equals
    ``Dense(10)`` followed by ``Activation("softmax")``.

    Args:
        activation: a Keras name or an activation function.
        name: layer name.

    Example:
        >>> Activation("relu")(np.array([[-1.0, 2.0]], dtype="float32"))
        array([[0., 2.]], dtype=float32)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def __init__(self, activation: str | Callable, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.activation = activations.get(activation)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        z = inputs
        a = self.activation(z)                        # a = f(z)
        self.cache = ActivationCache(z, a)
        return a

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        z, a = self.cache
        return self.activation.backward(z, a, grad_outputs)    # δz = f'(z) ⊙ δa

    def backward_from_z(self, grad_z: np.ndarray) -> np.ndarray:
        """The input *is* z here, so ``δx = δz``."""
        return grad_z

    def get_config(self) -> dict:
        return {**super().get_config(),
                "activation": serialization_lib.serialize_activation(self.activation)}


class ActivationCache(NamedTuple):
    """What one call of an Activation keeps for its backward pass."""

    z: np.ndarray   #: the inputs (pre-activations)
    a: np.ndarray   #: the outputs f(z)
