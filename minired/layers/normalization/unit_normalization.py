"""UnitNormalization: scale each sample to length 1 (its L2 norm over ``axis``)."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer

#: Keras' ``ops.normalize(..., epsilon=1e-12)``: the factor ``1/‖x‖`` is capped at ``1/ε``.
EPSILON = 1e-12


class UnitNormalization(Layer):
    """Divide each sample by its Euclidean norm over ``axis``: the result has length 1.

    Forward, for each sample (the sums over ``axis``)::

        r = min(1/√(Σ x²), 1/ε)          ε = 1e-12: a zero sample stays 0 (no 0/0)
        a = x r                          Σ a² = 1

    Backward, given ``δa`` (where ``r`` is not capped)::

        δx = r (δa − a Σ (δa ⊙ a))

    the part of ``δa`` along ``a`` is removed: stretching ``x`` does not change ``a``.
    Where ``r`` is capped at ``1/ε`` (``‖x‖ ≤ 1e-12``) the factor is a constant and
    ``δx = δa / ε``. There are no weights.

    Args:
        axis: the axis (or list of axes) of the norm (default -1, the features).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Example:
        >>> UnitNormalization()(np.array([[3.0, 4.0], [0.0, 0.0]], dtype="float32"))
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras
    _keras_build_config = False           # Keras builds it at construction

    def __init__(self, axis: int | list[int] = -1, **kwargs) -> None:
        if isinstance(axis, list | tuple):
            axis = list(axis)
            if not all(isinstance(a, int | np.integer) and not isinstance(a, bool)
                       for a in axis):
                raise TypeError("Invalid value for `axis` argument: expected an int or a "
                                f"list/tuple of ints. Received: axis={axis}")
        elif isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError("Invalid value for `axis` argument: expected an int or a "
                            f"list/tuple of ints. Received: axis={axis}")
        super().__init__(**kwargs)
        self.axis = axis

    def _axes(self, ndim: int) -> tuple:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"Axis {self.axis} is out of bounds for input shape of rank "
                                 f"{ndim}.")
        return tuple(a % ndim for a in axes)

    def build(self, input_shape: tuple) -> None:
        self._axes(len(input_shape))
        super().build(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -len(input_shape) <= a < len(input_shape):
                raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                                 f"{tuple(input_shape)}.")
        return tuple(input_shape)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(self._float_dtype())
        axes = self._axes(x.ndim)
        square_sum = np.sum(np.square(x), axis=axes, keepdims=True)       # Σ x²
        with np.errstate(divide="ignore"):
            r = 1.0 / np.sqrt(square_sum)                                 # 1/‖x‖ (inf at 0)
        capped = r > x.dtype.type(1.0 / EPSILON)
        r = np.minimum(r, x.dtype.type(1.0 / EPSILON))                    # r = min(1/‖x‖, 1/ε)
        a = x * r
        self.cache = (a, r, capped, axes)
        return a

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        a, r, capped, axes = self.cache
        along = np.sum(grad_outputs * a, axis=axes, keepdims=True)        # Σ δa ⊙ a
        # δx = r (δa − a Σ δa ⊙ a), or δa r where r is the constant 1/ε
        return r * (grad_outputs - np.where(capped, 0, a * along))

    def get_config(self) -> dict:
        """Keras' UnitNormalization config: the axis."""
        return {**super().get_config(), "axis": self.axis}
