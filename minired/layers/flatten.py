"""Flatten: turn each sample into a vector."""

from __future__ import annotations

import math

import numpy as np

from minired.layers.layer import Layer
from minired.saving import serialization_lib


class Flatten(Layer):
    """Reshape ``(N, d1, d2, ...)`` to ``(N, d1·d2·...)``; backward reshapes back.

    Example:
        >>> Flatten()(np.zeros((2, 8, 8), dtype="float32")).shape
        (2, 64)
    """

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``(N, d1·d2·...)``; unknown (None) when any ``d`` is unknown, as Keras."""
        sizes = input_shape[1:]
        return (input_shape[0], None if None in sizes else math.prod(sizes))

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.cache = inputs.shape                       # backward reshapes back to it
        return inputs.reshape(inputs.shape[0], -1)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs.reshape(self.cache)

    _keras_build_config = True      # Keras records the input shape of a Flatten

    def get_config(self) -> dict:
        return {**super().get_config(), **serialization_lib.KERAS_ONLY_DEFAULTS["Flatten"]}
