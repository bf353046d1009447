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
        sparse, ragged: Keras' sparse and ragged inputs; minired has neither, so only None
            or False (True is a ValueError).
        batch_shape: the shape with the batch axis, instead of ``shape`` and ``batch_size``.
        input_tensor: a symbolic tensor (a ``KerasTensor``, e.g. a layer's output) to use
            as this input instead of a new one; its shape and dtype are the input's.
        optional: whether the input may be None when the model is called; minired's models
            need every input, so only False.
        name: layer name (also the name of the symbolic tensor).
    """

    def __init__(self, shape: tuple | int | None = None, batch_size: int | None = None,
                 dtype=None, sparse: bool | None = None, ragged: bool | None = None,
                 batch_shape: tuple | None = None, input_tensor: KerasTensor | None = None,
                 optional: bool = False, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        _refuse_unsupported(sparse=sparse, ragged=ragged, optional=optional)
        self.sparse, self.ragged, self.optional = False, False, False
        if input_tensor is not None:
            shape, batch_size, batch_shape, dtype = _from_tensor(
                input_tensor, shape, batch_size, batch_shape, dtype)
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
        self._input_dtype = _dtype_name(dtype)
        self.build(self.batch_shape)
        self.output_tensor = (KerasTensor(self.batch_shape, self.dtype, name=self.name)
                              if input_tensor is None else input_tensor)
        Node(self, None, self.output_tensor)

    @property
    def dtype(self) -> str:
        """The inputs' dtype (as Keras' InputLayer, instead of the layer's dtype policy)."""
        return self._input_dtype

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return inputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs

    _keras_build_config = False

    def get_config(self) -> dict:
        """Keras' InputLayer config (no ``trainable``; ``dtype`` is the inputs' dtype)."""
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype,
                "sparse": self.sparse, "ragged": self.ragged, "name": self.name,
                "optional": self.optional}

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


def _refuse_unsupported(**flags) -> None:
    """Keras' ``sparse``, ``ragged`` and ``optional`` inputs: only None or False here."""
    for argument, value in flags.items():
        if value:
            what = ("inputs that may be None" if argument == "optional" else
                    f"{argument} tensors")
            raise ValueError(f"Input: `{argument}={value!r}` is not supported: minired has no "
                             f"{what} (its inputs are dense NumPy arrays). Leave "
                             f"`{argument}` at None or False.")


def _from_tensor(tensor, shape, batch_size, batch_shape, dtype) -> tuple:
    """``(shape, batch_size, batch_shape, dtype)`` of an InputLayer made on ``tensor``
    (Keras' ``input_tensor``), once the arguments given are shown to agree with it."""
    if not isinstance(tensor, KerasTensor):
        raise ValueError("Argument `input_tensor` must be a KerasTensor. Received invalid "
                         f"type: input_tensor={tensor} (of type {type(tensor)})")
    given = {"batch_size": batch_size is not None and (
                 len(tensor.shape) < 1 or tensor.shape[0] != batch_size),
             "shape": shape is not None and tuple(np.atleast_1d(shape)) != tensor.shape[1:],
             "batch_shape": batch_shape is not None and tuple(batch_shape) != tensor.shape,
             "dtype": dtype is not None and _dtype_name(dtype) != tensor.dtype}
    for argument, incompatible in given.items():
        if incompatible:
            raise ValueError("When providing the `input_tensor` argument, you cannot provide "
                             f"an incompatible `{argument}` argument.")
    return None, None, tensor.shape, tensor.dtype


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
          sparse: bool | None = None, ragged: bool | None = None,
          batch_shape: tuple | None = None, name: str | None = None,
          tensor: KerasTensor | None = None, optional: bool = False) -> KerasTensor:
    """A symbolic input: the start of a functional model, or the first item of a Sequential.

    Args:
        shape: shape of one sample, without the batch dimension (``None`` for a free size).
        batch_size: optional fixed batch size.
        dtype: the inputs' dtype (default: floatx).
        batch_shape: the full shape, batch first, instead of ``shape`` and ``batch_size``.
        sparse, ragged: only None or False (minired has no sparse or ragged tensors).
        name: the name of the input (and of its InputLayer); a dict of arrays given to
            ``fit`` or ``predict`` is matched to the inputs by these names.
        tensor: an existing symbolic tensor to use as this input (Keras' ``tensor``).
        optional: only False (minired's models need every input).

    Example:
        >>> x = mr.Input((4,))
        >>> x.shape
        (None, 4)
        >>> mr.layers.Dense(3)(x).shape
        (None, 3)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, input_tensor=tensor,
                       optional=optional, name=name)
    return layer.output_tensor
