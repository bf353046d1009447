"""Input: the entry point of a model's graph, as ``keras.Input``."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import Layer
from minired.layers.node import Node
from minired.saving import serialization_lib


class InputLayer(Layer):
    """The layer behind ``mr.Input``: it owns the model's symbolic input and computes nothing.

    Its one node has no inputs (``node.is_input``); its output is the symbolic tensor that
    ``Input`` returns, and the values a model is called on are fed in its place.

    Args:
        shape: shape of one sample, without the batch dimension, e.g. ``(4,)``; ``None``
            marks a dimension that may change from call to call, e.g. ``(None, 8)``.
        batch_size: optional fixed batch size.
        dtype: the inputs' dtype (default: ``mr.config.floatx()``; ``"string"`` for text
            fed to a TextVectorization or StringLookup first layer).
        batch_shape: the shape with the batch axis, instead of ``shape`` and ``batch_size``.
        name: layer name (also the name of the symbolic tensor).
    """

    def __init__(self, shape: tuple | int | None = None, batch_size: int | None = None,
                 dtype=None, batch_shape: tuple | None = None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("Input: give `shape` or `batch_shape`, not both.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError("Input: give `batch_size` or `batch_shape`, not both (the batch "
                             "size is the first item of `batch_shape`).")
        if batch_shape is not None:
            sample_shape = _check_shape(tuple(batch_shape)[1:], "batch_shape")
            batch_size = tuple(batch_shape)[0]
        elif shape is None:
            raise ValueError("Input: `shape` is required, e.g. Input(shape=(4,)).")
        else:
            sample_shape = _check_shape(shape, "shape")
        self.shape = sample_shape
        self.batch_size = batch_size
        self.batch_shape = (batch_size, *sample_shape)
        self.dtype = _dtype_name(dtype)
        self.build(self.batch_shape)
        self.output_tensor = KerasTensor(self.batch_shape, self.dtype, name=self.name)
        Node(self, None, self.output_tensor)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return inputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs

    _keras_build_config = False

    def get_config(self) -> dict:
        """Keras' InputLayer config (no ``trainable``; ``dtype`` is the inputs' dtype)."""
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}

    @classmethod
    def from_config(cls, config: dict) -> InputLayer:
        config = serialization_lib.strip_keras_only(cls, "layers", dict(config))
        config.pop("trainable", None)
        if "batch_input_shape" in config:           # Keras 2's name
            config["batch_shape"] = config.pop("batch_input_shape")
        batch_shape = config.pop("batch_shape", None)
        if batch_shape is not None:
            config["batch_shape"] = serialization_lib.shape_from_json(batch_shape)
        serialization_lib.check_arguments(cls, config)
        return cls(**config)


def _dtype_name(dtype) -> str:
    """The inputs' dtype name: floatx by default, ``"string"`` for text (Keras' name; the
    arrays are NumPy ``str`` arrays), else a NumPy dtype's name."""
    if dtype is None:
        return config.floatx()
    if dtype in ("string", str, "str") or getattr(dtype, "name", None) == "string":
        return "string"
    return str(np.dtype(dtype))


def _check_shape(shape, argument: str) -> tuple:
    if isinstance(shape, int | np.integer):
        shape = (int(shape),)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"Input: `{argument}` must be a tuple of ints, got {shape!r}.") from None
    if not all(d is None or (isinstance(d, int | np.integer) and not isinstance(d, bool)
                             and d > 0) for d in shape):
        raise ValueError(f"Input: `{argument}` must be a tuple of positive ints or None, got "
                         f"{shape!r}.")
    return tuple(None if d is None else int(d) for d in shape)


def Input(shape: tuple | int | None = None, batch_size: int | None = None, dtype=None,  # noqa: N802
          batch_shape: tuple | None = None, name: str | None = None) -> KerasTensor:
    """A symbolic input: the start of a functional model, or the first item of a Sequential.

    Args:
        shape: shape of one sample, without the batch dimension (``None`` for a free size).
        batch_size: optional fixed batch size.
        dtype: the inputs' dtype (default: floatx).
        batch_shape: the full shape, batch first, instead of ``shape`` and ``batch_size``.
        name: the name of the input (and of its InputLayer); a dict of arrays given to
            ``fit`` or ``predict`` is matched to the inputs by these names.

    Example:
        >>> x = mr.Input((4,))
        >>> x.shape
        (None, 4)
        >>> mr.layers.Dense(3)(x).shape
        (None, 3)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name)
    return layer.output_tensor
