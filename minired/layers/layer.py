"""The base class of every layer: the forward/backward contract.

A layer is a function ``outputs = f(inputs; weights)`` that can also run backwards:

- ``forward(inputs, training=False)`` computes the outputs and keeps what the backward
  pass will need (its *cache*: the inputs, the pre-activation, the dropout mask...);
- ``backward(grad_outputs)`` receives ``δout = ∂L/∂outputs``, stores the gradient of
  every weight next to the weight (``kernel_gradient`` beside ``kernel``), and returns
  ``δin = ∂L/∂inputs`` for the layer below.

``backward`` never changes a weight: the optimizer does that, so gradients can be checked.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from minired import config

_NAME_COUNTS: defaultdict[str, int] = defaultdict(int)


def _unique_name(cls_name: str) -> str:
    """Keras-style automatic names: ``dense``, ``dense_1``, ``dense_2``..."""
    base = re.sub(r"(?<!^)(?=[A-Z])", "_", cls_name).lower()
    count = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


class Layer:
    """Base layer: subclasses implement ``build``, ``forward`` and ``backward``.

    Args:
        name: the layer's name; a unique Keras-style name is made when ``None``.
        trainable: whether the optimizer updates this layer's weights.
    """

    def __init__(self, name: str | None = None, trainable: bool = True) -> None:
        self.name = name if name is not None else _unique_name(type(self).__name__)
        self.trainable = trainable
        self.built = False
        self.input_shape: tuple | None = None

    # -- construction -------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of shape ``input_shape`` (batch dimension first)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Return the output shape for ``input_shape``; the default keeps the shape."""
        return tuple(input_shape)

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        """Build on first use, then run ``forward``."""
        inputs = np.asarray(inputs)
        if np.issubdtype(inputs.dtype, np.floating):
            # Keras autocasts floating inputs to the layer's dtype (float64 -> float32).
            inputs = inputs.astype(self._float_dtype(), copy=False)
        if not self.built:
            self.build((None, *inputs.shape[1:]))
        return self.forward(inputs, training=training)

    # -- weights ------------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """The layer's weight arrays (the arrays themselves, not copies), in Keras order."""
        return []

    @property
    def gradients(self) -> list[np.ndarray]:
        """∂L/∂w for each array of :attr:`weights`, in the same order, from the last backward."""
        return []

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return self.weights if self.trainable else []

    @property
    def losses(self) -> list[float]:
        """Penalties this layer adds to the loss (regularizers), on the current weights."""
        return []

    def get_weights(self) -> list[np.ndarray]:
        """Return copies of the weights."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Copy ``weights`` into the layer's arrays in place (the optimizer keeps its state)."""
        assign_weights(self.weights, weights, f"set_weights on layer {self.name!r}")

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def _float_dtype(self) -> np.dtype:
        return config.dtype()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def assign_weights(targets: list[np.ndarray], values, caller: str) -> None:
    """Check ``values`` against ``targets`` (count, then every shape), then copy them in place.

    Nothing is written unless everything fits, so a bad call leaves the weights as they were.
    """
    if not isinstance(values, list | tuple) or len(values) != len(targets):
        got = len(values) if isinstance(values, list | tuple) else type(values).__name__
        raise ValueError(
            f"{caller}: `weights` must be a list of {len(targets)} arrays "
            f"(shapes {[t.shape for t in targets]}), got {got}."
        )
    values = [np.asarray(v) for v in values]
    for i, (target, value) in enumerate(zip(targets, values, strict=True)):
        if value.shape != target.shape:
            raise ValueError(
                f"{caller}: weight {i} must have shape {target.shape}, got {value.shape}."
            )
    for target, value in zip(targets, values, strict=True):
        target[...] = value
