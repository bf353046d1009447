"""Identity: a layer that returns its input."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer


class Identity(Layer):
    """Return the input unchanged (a placeholder, e.g. where a block is switched off).

    Forward and backward::

        a = x            δx = δa

    Args:
        name: layer name.

    Example:
        >>> Identity()(np.array([[1.0, 2.0]]))
        array([[1., 2.]], dtype=float32)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return inputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs

    def passes_logits_through(self, training: bool) -> bool:
        """It returns its input itself, so a loss still reads the logits before it."""
        return True
