"""Dense: the fully connected layer ``a = f(x W + b)``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from minired import activations, initializers, regularizers
from minired.layers.layer import Layer


class Dense(Layer):
    """Fully connected layer: every output unit sees every input feature.

    Forward, for a batch ``x`` of shape ``(N, in)``::

        z = x W + b          W: (in, units), b: (units,)  -> z: (N, units)
        a = f(z)             f is the activation

    Backward, given ``δa = ∂L/∂a`` of shape ``(N, units)``::

        δz     = f'(z) ⊙ δa                (the activation's backward)
        ∂L/∂W  = xᵀ δz                     (in, units): summed over the batch by the product
        ∂L/∂b  = Σ_n δz_n                  (units,)
        δx     = δz Wᵀ                     (N, in): sent to the layer below

    A regularizer ``R`` on the kernel adds ``R(W)`` to the loss and ``∂R/∂W`` to ``∂L/∂W``.

    Unlike Keras, inputs must be 2-D ``(N, features)``: put a ``Flatten`` before a Dense
    when the data has more axes (a deliberate simplification for readability).

    Args:
        units: number of output units (a positive int).
        activation: a Keras name (``"relu"``), a function with ``.backward``, or ``None``
            (linear).
        use_bias: whether to add ``b``.
        kernel_initializer: how ``W`` starts (default ``"glorot_uniform"``).
        bias_initializer: how ``b`` starts (default ``"zeros"``).
        kernel_regularizer: penalty on ``W`` (e.g. ``"l2"`` or ``L2(0.01)``).
        bias_regularizer: penalty on ``b``.
        name: layer name.

    Example:
        >>> layer = Dense(3, activation="relu")
        >>> layer(np.ones((2, 4), dtype="float32")).shape
        (2, 3)
    """

    def __init__(
        self,
        units: int,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(name=name, trainable=trainable)
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units <= 0:
            raise ValueError(
                f"Dense: `units` must be a positive int, got {units!r}."
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) != 2:
            raise ValueError(
                f"Dense {self.name!r}: inputs must have shape (batch, features), got "
                f"{tuple(input_shape)}. Add a Flatten layer first."
            )
        in_features = input_shape[-1]
        dtype = self._float_dtype()
        self.kernel = np.asarray(self.kernel_initializer((in_features, self.units), dtype=dtype))
        self.kernel_gradient = np.zeros_like(self.kernel)
        if self.use_bias:
            self.bias = np.asarray(self.bias_initializer((self.units,), dtype=dtype))
            self.bias_gradient = np.zeros_like(self.bias)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], self.units)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.inputs = inputs                              # x, kept for ∂L/∂W
        self.logits = inputs @ self.kernel                # z = x W
        if self.use_bias:
            self.logits += self.bias                      #   + b
        self.outputs = self.activation(self.logits)       # a = f(z)
        return self.outputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        grad_logits = self.activation.backward(self.logits, self.outputs, grad_outputs)  # δz
        return self.backward_from_logits(grad_logits)

    def backward_from_logits(self, grad_logits: np.ndarray) -> np.ndarray:
        """Backward pass from ``δz = ∂L/∂z`` (used directly when the loss gives ``δz``)."""
        np.matmul(self.inputs.T, grad_logits, out=self.kernel_gradient)  # ∂L/∂W = xᵀ δz
        if self.kernel_regularizer is not None:
            self.kernel_gradient += self.kernel_regularizer.gradient(self.kernel)
        if self.use_bias:
            np.sum(grad_logits, axis=0, out=self.bias_gradient)          # ∂L/∂b = Σ_n δz_n
            if self.bias_regularizer is not None:
                self.bias_gradient += self.bias_regularizer.gradient(self.bias)
        return grad_logits @ self.kernel.T                               # δx = δz Wᵀ

    @property
    def weights(self) -> list[np.ndarray]:
        if not self.built:
            return []
        return [self.kernel, self.bias] if self.use_bias else [self.kernel]

    @property
    def gradients(self) -> list[np.ndarray]:
        if not self.built:
            return []
        if self.use_bias:
            return [self.kernel_gradient, self.bias_gradient]
        return [self.kernel_gradient]

    @property
    def losses(self) -> list[float]:
        penalties = []
        if self.built and self.kernel_regularizer is not None:
            penalties.append(self.kernel_regularizer(self.kernel))
        if self.built and self.use_bias and self.bias_regularizer is not None:
            penalties.append(self.bias_regularizer(self.bias))
        return penalties
