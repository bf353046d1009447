"""Quantizer objects: a quantization rule with its settings, callable on an array.

:class:`Quantizer` is the base (Keras' ``keras.Quantizer``); :class:`AbsMaxQuantizer` holds
the arguments of :func:`~minired.quantizers.abs_max_quantize` so that a quantization config
(``Int8QuantizationConfig(weight_quantizer=AbsMaxQuantizer(...))``) can carry them and save
them.
"""

from __future__ import annotations

import numpy as np

from minired.quantizers.abs_max import EPSILON, abs_max_quantize


class Quantizer:
    """Base class of quantizers: ``quantizer(x)`` returns the quantized ``x``.

    The base class returns ``x`` unchanged. Subclasses override ``__call__`` and
    ``get_config`` (the base's raises NotImplementedError, as Keras').

    Args:
        output_dtype: the dtype of the quantized values.

    Example:
        >>> Quantizer()(np.array([0.5]))
        array([0.5])
    """

    def __init__(self, output_dtype: str = "int8") -> None:
        self.output_dtype = output_dtype

    def __call__(self, x):
        """Compute a quantized output from an input array (here, ``x`` itself)."""
        return x

    @classmethod
    def from_config(cls, config: dict) -> Quantizer:
        """Create the quantizer from :meth:`get_config`'s output."""
        return cls(**config)

    def get_config(self) -> dict:
        """The constructor's arguments, JSON-able (subclasses implement it)."""
        raise NotImplementedError(f"{self} does not implement get_config()")


class AbsMaxQuantizer(Quantizer):
    """Symmetric absolute-max quantization: ``s = qmax / (max|x| + ε)``,
    ``q = clip(round(x · s), qmin, qmax)`` (see :func:`~minired.quantizers.abs_max_quantize`).

    Args:
        axis: the axis of the max (an int or tuple, stored as a tuple); Keras deprecates it
            here in favour of ``__call__``'s ``axis``. None means ``-1`` at call time.
        value_range: ``(qmin, qmax)``; within [-128, 127] for ``output_dtype="int8"``.
        epsilon: added to ``max|x|``.
        output_dtype: the dtype of ``q``.

    Example:
        >>> q, s = AbsMaxQuantizer()(np.array([[0.5, -1.0]], "float32"))
        >>> q, s
        (array([[  63, -127]], dtype=int8), array([[126.999985]], dtype=float32))
    """

    def __init__(self, axis=None, value_range=(-127, 127), epsilon: float = EPSILON,
                 output_dtype: str = "int8") -> None:
        super().__init__(output_dtype=output_dtype)
        if axis is not None:
            axis = (axis,) if isinstance(axis, int) else tuple(axis)
        self.axis = axis
        self.value_range = value_range
        self.epsilon = epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError(
                "Quantizer with output_dtype='int8' requires value_range to be within the "
                f"interval [-128, 127]. Received: value_range={value_range}")

    def __call__(self, x, axis=None, to_numpy: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Quantize ``x`` along ``axis`` (else the constructor's, else -1): ``(q, s)``."""
        if axis is None:
            axis = self.axis if self.axis is not None else -1
        return abs_max_quantize(x, axis, self.value_range, self.output_dtype, self.epsilon,
                                to_numpy)

    def get_config(self) -> dict:
        """``value_range``, ``epsilon``, ``output_dtype``, and ``axis`` if it was given."""
        config = {"value_range": self.value_range, "epsilon": self.epsilon,
                  "output_dtype": self.output_dtype}
        if self.axis is not None:
            config["axis"] = self.axis
        return config
