"""InputSpec: what a layer accepts as input (rank, sizes of some axes, dtype), checked at
every call, as Keras' ``keras.InputSpec``.

A layer of yours sets ``self.input_spec`` (in ``__init__`` or ``build``), and each call checks
its first input against it before ``build`` and after it, raising ValueError with Keras'
message::

    class Pixels(mr.layers.Layer):
        def __init__(self):
            super().__init__()
            self.input_spec = mr.InputSpec(ndim=4, axes={-1: 3})    # (N, H, W, 3) images

minired's own layers write the same checks by hand (``_check_call_shape``), each with a message
that names the layer's argument.
"""

from __future__ import annotations

from typing import Any

from minired.utils.dtype_utils import standardize_dtype


class InputSpec:
    """The rank, dtype and shape a layer's input must have (``None`` anywhere: anything).

    Args:
        dtype: the expected dtype.
        shape: the expected shape, batch axis included (``None`` for a free size); it also
            fixes ``ndim``.
        ndim: the expected rank.
        max_ndim: the largest rank accepted.
        min_ndim: the smallest rank accepted.
        axes: ``{axis: size}``, the sizes some axes must have (e.g. ``{-1: 3}``).
        allow_last_axis_squeeze: accept a last axis of size 1 more or less than ``shape``
            (``(N, 28, 28)`` for ``(None, 28, 28, 1)``), and skip the ``ndim`` check.
        name: the key of this input when the inputs come as a dict.
        optional: whether the input may be None.

    Example:
        >>> spec = InputSpec(ndim=2, axes={-1: 4})
        >>> spec
        InputSpec(ndim=2, axes={-1: 4})
        >>> try:
        ...     assert_input_compatibility(spec, np.zeros((3, 5)), "dense")
        ... except ValueError as error:
        ...     print(str(error).split(": ")[1])
        expected axis -1 of input shape to have value 4, but received input with shape (3, 5)
    """

    def __init__(self, dtype: Any = None, shape: tuple | None = None, ndim: int | None = None,
                 max_ndim: int | None = None, min_ndim: int | None = None,
                 axes: dict | None = None, allow_last_axis_squeeze: bool = False,
                 name: str | None = None, optional: bool = False) -> None:
        self.dtype = standardize_dtype(dtype) if dtype is not None else None
        if shape is not None:
            self.shape = _standardize_shape(shape)
            self.ndim = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError("Argument `axes` must be a dict with integer keys. "
                            f"Received: axes={axes}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            if max(self.axes) > max_dim:
                raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed "
                                 f"value: {max_dim}")

    def __repr__(self) -> str:
        spec = [f"{key}={value}" for key, value in (
            ("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
            ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim), ("axes", self.axes))
            if value]
        return f"InputSpec({', '.join(spec)})"

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config: dict) -> InputSpec:
        return cls(**config)


def _standardize_shape(shape) -> tuple:
    if not hasattr(shape, "__iter__"):
        raise ValueError(f"Cannot convert '{shape}' to a shape.")
    return tuple(None if d is None else int(d) for d in shape)


def _flatten(structure: Any) -> list:
    """The leaves of nested lists, tuples and dicts (dicts by sorted key, as ``keras.tree``)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in _flatten(structure[key])]
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in _flatten(item)]
    return [structure]


def assert_input_compatibility(input_spec: Any, inputs: Any, layer_name: str) -> None:
    """Raise ValueError, with Keras' message, when ``inputs`` (an array or symbolic tensor,
    or a structure of them) break ``input_spec`` (an InputSpec or a structure of them, one
    per input; None checks nothing).

    The checks, in Keras' order: the number of inputs, then for each one its rank
    (``ndim``, ``max_ndim``, ``min_ndim``), its dtype, the sizes in ``axes``, and ``shape``.
    """
    if not input_spec:
        return
    specs = _flatten(input_spec)
    if isinstance(inputs, dict):
        names = [spec.name for spec in specs]
        if all(names):
            for name in names:
                if name not in inputs:
                    raise ValueError(f'Missing data for input "{name}". You passed a data '
                                     f"dictionary with keys {list(inputs.keys())}. Expected "
                                     f"the following keys: {names}")
            inputs = [inputs[name] for name in names]
    inputs = _flatten(inputs)
    if len(inputs) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
                         f"{len(inputs)} input tensors. Inputs received: {inputs}")
    for index, (x, spec) in enumerate(zip(inputs, specs, strict=True)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(f"Inputs to a layer should be tensors. Got '{x}' (of type "
                             f"{type(x)}) as input for layer '{layer_name}'.")
        _check_one(spec, x, index, layer_name)


def _check_one(spec: InputSpec, x: Any, index: int, layer_name: str) -> None:
    shape = _standardize_shape(x.shape)
    ndim = len(shape)
    where = (f"Input {index} with name '{spec.name}' of layer '{layer_name}' is incompatible "
             "with the layer: ")
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(f"{where}expected ndim={spec.ndim}, found ndim={ndim}. Full shape "
                         f"received: {shape}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{where}expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(f"{where}expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full "
                         f"shape received: {shape}")
    if spec.dtype is not None:
        dtype = standardize_dtype(x.dtype)
        if dtype != spec.dtype:
            raise ValueError(f"{where}expected dtype={spec.dtype}, found dtype={dtype}")
    for axis, value in spec.axes.items():
        if value is not None and shape[axis] not in {value, None}:
            raise ValueError(f"{where}expected axis {axis} of input shape to have value "
                             f"{value}, but received input with shape {shape}")
    if spec.shape is not None:
        spec_shape = spec.shape
        if spec.allow_last_axis_squeeze:
            if shape and shape[-1] == 1:
                shape = shape[:-1]
            if spec_shape and spec_shape[-1] == 1:
                spec_shape = spec_shape[:-1]
        for spec_dim, dim in zip(spec_shape, shape, strict=False):
            if spec_dim is not None and dim is not None and spec_dim != dim:
                raise ValueError(f"{where}expected shape={spec.shape}, found shape={shape}")
