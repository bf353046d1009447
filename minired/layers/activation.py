"""Activation: a layer that only applies an activation function."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from minired import activations
from minired.layers.layer import Layer


class Activation(Layer):
    """Apply ``a = f(z)`` element-wise (or over the last axis, for softmax).

    Backward: ``δz = f.backward(z, a, δa)``.  ``Dense(10, activation="softmax")`` equals
    ``Dense(10)`` followed by ``Activation("softmax")``.

    Args:
        activation: a Keras name or an activation function.

    Example:
        >>> Activation("relu")(np.array([[-1.0, 2.0]], dtype="float32"))
        array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation: str | Callable, name: str | None = None) -> None:
        super().__init__(name=name)
        self.activation = activations.get(activation)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.logits = inputs                          # z
        self.outputs = self.activation(inputs)        # a = f(z)
        return self.outputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return self.activation.backward(self.logits, self.outputs, grad_outputs)

    def backward_from_logits(self, grad_logits: np.ndarray) -> np.ndarray:
        """The input *is* z here, so ``δx = δz``."""
        return grad_logits
