"""Keras' ``ops.add`` and ``ops.multiply`` as nodes of a functional graph.

In Keras, ``x + 3.0`` on a symbolic tensor records an *operation* (``keras.src.ops.numpy.Add``)
in the functional graph; MobileNetV3's ``hard_sigmoid`` is written that way::

    layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)

minired does not record arithmetic on symbolic tensors, so the applications call these two
small layers instead: ``Add()(x, 3.0)`` and ``Multiply()(x, 1 / 6)``. In a file they are
written exactly as Keras writes its operations (module ``keras.src.ops.numpy``, config
``{"name": ...}``, the call's arguments ``[tensor, 3.0]``), so the models save and load in
both libraries.

As in Keras, they are nodes of the graph (and of the config) but not in ``model.layers``.
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.layer_calls import CallArguments, is_tensor
from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import Layer
from minired.saving import serialization_lib

#: The Keras module its operations are written under.
KERAS_MODULE = "keras.src.ops.numpy"


class _BinaryOperation(Layer):
    """An element-wise operation of two arguments, a tensor and a tensor or a number."""

    _keras_module = KERAS_MODULE
    _keras_operation = True            # a node of the graph, not in model.layers (as Keras)
    _keras_build_config = False        # Keras writes no build_config for an operation

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)
        self.built = True           # no weights; and the first argument may be a number

    def __call__(self, x1, x2):
        return super().__call__(CallArguments((x1, x2), {}))

    def _output_shape_of(self, arguments: CallArguments):
        shapes = [np.shape(a) if not isinstance(a, KerasTensor) else a.shape
                  for a in arguments.args]
        return _broadcast_shapes(*shapes)

    def get_config(self) -> dict:
        return {"name": self.name}      # what Keras' Operation.get_config holds

    def _gradients(self, grad_x1, grad_x2):
        """``δx1`` and ``δx2`` summed back to their shapes, for the tensor arguments only."""
        x1, x2 = self.cache
        grads = [_sum_to_shape(g, np.shape(x)) for g, x in ((grad_x1, x1), (grad_x2, x2))
                 if is_tensor(x)]
        return grads[0] if len(grads) == 1 else grads


class Add(_BinaryOperation):
    """``a = x1 + x2`` (Keras' ``ops.add`` on symbolic tensors; ``x2`` may be a number).

    Backward: ``δx1 = δa``, ``δx2 = δa`` (each summed over the axes it was broadcast along).

    Example:
        >>> op = Add()
        >>> op(np.array([[1.0, -4.0]]), 3.0).tolist(), op.backward(np.array([[1.0, 2.0]]))
        ([[4.0, -1.0]], array([[1., 2.]]))
    """

    def forward(self, inputs: CallArguments, training: bool = False) -> np.ndarray:
        x1, x2 = inputs.args
        self.cache = (x1, x2)
        return x1 + x2

    def backward(self, grad_outputs: np.ndarray):
        return self._gradients(grad_outputs, grad_outputs)


class Multiply(_BinaryOperation):
    """``a = x1 ⊙ x2`` (Keras' ``ops.multiply`` on symbolic tensors; ``x2`` may be a number).

    Backward: ``δx1 = δa ⊙ x2``, ``δx2 = δa ⊙ x1`` (summed over broadcast axes).

    Example:
        >>> op = Multiply()
        >>> op(np.array([[6.0, -3.0]]), 0.5).tolist(), op.backward(np.array([[1.0, 2.0]]))
        ([[3.0, -1.5]], array([[0.5, 1. ]]))
    """

    def forward(self, inputs: CallArguments, training: bool = False) -> np.ndarray:
        x1, x2 = inputs.args
        self.cache = (x1, x2)
        return x1 * x2

    def backward(self, grad_outputs: np.ndarray):
        x1, x2 = self.cache
        return self._gradients(grad_outputs * x2, grad_outputs * x1)


def _sum_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` back to ``shape``, the backward pass of NumPy's broadcasting: over the
    leading axes ``shape`` lacks and over the axes where it has size 1."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape)))) if grad.ndim > len(shape) \
        else grad
    axes = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def _broadcast_shapes(*shapes) -> tuple:
    """NumPy's broadcast of shapes that may hold ``None`` (an unknown size)."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    result = []
    for sizes in zip(*padded, strict=True):
        known = {s for s in sizes if s != 1}
        if None in known:
            result.append(None)
        elif len(known) > 1:
            raise ValueError(f"Cannot broadcast shapes {shapes}.")
        else:
            result.append(known.pop() if known else 1)
    return tuple(result)


# Keras writes its operations under its own module; a file names them so (see
# serialization_lib.KERAS_INTERNAL_CLASSES), and minired reads them back from there.
for _class in (Add, Multiply):
    serialization_lib.KERAS_INTERNAL_CLASSES[(KERAS_MODULE, _class.__name__)] = _class
