"""Dot: the dot product of two inputs along one axis of each, sample by sample."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minired.layers.merging.base_merge import Merge

#: Keras' ``backend.epsilon()``: the normalization divides by at least this norm.
EPSILON = 1e-7


class Dot(Merge):
    """Dot product of two inputs ``x`` and ``y`` along axis ``i`` of ``x`` and ``j`` of ``y``
    (the same size ``K``), for each sample ``n``; the other axes are kept, ``x``'s first:
    ``(N, 3, 5)`` and ``(N, 10, 3)`` with ``axes=(1, 2)`` give ``(N, 5, 10)``.

    Forward, with ``x`` moved to ``(N, P, K)`` (axis ``i`` last, the others flattened) and
    ``y`` to ``(N, K, Q)`` (axis ``j`` second), as Keras' ``batch_dot``::

        a[n, p, q] = Σ_k x[n, p, k] · y[n, k, q]          a = x @ y, one product per sample

    reshaped to ``(N, *x's other axes, *y's other axes)`` (``(N, 1)`` when both inputs are
    ``(N, K)``). With ``normalize=True`` each input is first L2-normalized along its axis,
    as Keras' ``ops.normalize``: ``x̂ = x · r``, ``r = min(1/√(Σ_k x²), 1/ε)``, so ``a`` is
    the cosine similarity.

    Backward::

        δx = δa @ yᵀ        δy = xᵀ @ δa                  (per sample, then moved back)
        normalized: δx = r · δx̂ - x · r³ · Σ_k (δx̂ · x)   (the second term only where
                                                            r = 1/√(Σ x²), not clipped)

    Args:
        axes: one int (the same axis of both inputs) or ``(i, j)``; negative axes count from
            the end; never 0 (the batch axis).
        normalize: whether to L2-normalize both inputs along their axis first.
        name: layer name.

    Example:
        >>> x, y = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])
        >>> Dot(axes=1)([x, y])
        array([[11.]], dtype=float32)
    """

    def __init__(self, axes, normalize: bool = False, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(axes, int | np.integer) or isinstance(axes, bool):
            if not isinstance(axes, list | tuple):
                raise TypeError("Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes}")
            if not all(isinstance(a, int | np.integer) and not isinstance(a, bool)
                       for a in axes):
                raise ValueError("Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes}")
        if not isinstance(normalize, bool):
            raise TypeError(f"Dot: `normalize` must be True or False, got {normalize!r}.")
        self.axes = axes
        self.normalize = normalize

    # -- shapes -------------------------------------------------------------------------------
    def _axes_for(self, rank1: int, rank2: int) -> tuple[int, int]:
        """The two axes, counted from 0 (Keras takes a negative axis modulo the rank)."""
        axes = (self.axes, self.axes) if isinstance(self.axes, int | np.integer) else self.axes
        return int(axes[0]) % rank1, int(axes[1]) % rank2

    def _check_shapes(self, input_shape) -> list[tuple]:
        if (not isinstance(input_shape, list | tuple) or len(input_shape) != 2
                or not all(isinstance(s, list | tuple) for s in input_shape)):
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")
        shape1, shape2 = (tuple(s) for s in input_shape)
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError("Cannot do batch_dot on inputs with rank < 2. Received inputs "
                             f"with shapes {shape1} and {shape2}.")
        if None not in (shape1[0], shape2[0]) and shape1[0] != shape2[0]:
            raise ValueError("Cannot do batch_dot on inputs with different batch sizes. "
                             f"Received inputs with shapes {shape1} and {shape2}.")
        axis1, axis2 = self._axes_for(len(shape1), len(shape2))
        if 0 in (axis1, axis2):
            raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not "
                             "batched, add a dummy batch dimension to your inputs using "
                             "keras.ops.expand_dims(x, 0)")
        if None not in (shape1[axis1], shape2[axis2]) and shape1[axis1] != shape2[axis2]:
            raise ValueError(f"Incompatible input shapes: axis values {shape1[axis1]} (at axis "
                             f"{axis1}) != {shape2[axis2]} (at axis {axis2}). Full input "
                             f"shapes: {shape1}, {shape2}")
        return [shape1, shape2]

    def compute_output_shape(self, input_shape) -> tuple:
        shape1, shape2 = self._check_shapes(input_shape)
        axis1, axis2 = self._axes_for(len(shape1), len(shape2))
        rest1 = [d for k, d in enumerate(shape1) if k != axis1]
        rest2 = [d for k, d in enumerate(shape2[1:], start=1) if k != axis2]
        output = rest1 + rest2
        return tuple(output if len(output) > 1 else output + [1])

    def compute_mask(self, inputs, mask=None):
        """None: Keras' Dot gives its output no mask."""
        return None

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: list[np.ndarray], training: bool = False) -> np.ndarray:
        xs = self._check_inputs(inputs)
        if len(xs) != 2:
            raise ValueError("A `Dot` layer should be called on exactly 2 inputs. Received: "
                             f"{len(xs)} inputs.")
        x, y = xs
        self._check_shapes([x.shape, y.shape])
        axis1, axis2 = self._axes_for(x.ndim, y.ndim)
        x_hat, r_x = _l2_normalize(x, axis1) if self.normalize else (x, None)
        y_hat, r_y = _l2_normalize(y, axis2) if self.normalize else (y, None)
        xm = np.moveaxis(x_hat, axis1, -1)                     # (N, *rest1, K)
        ym = np.moveaxis(y_hat, axis2, 1)                      # (N, K, *rest2)
        n, k = xm.shape[0], xm.shape[-1]
        x3 = xm.reshape(n, -1, k)                              # (N, P, K)
        y3 = ym.reshape(n, k, -1)                              # (N, K, Q)
        a = np.matmul(x3, y3)                                  # (N, P, Q)
        out_shape = (n, *xm.shape[1:-1], *ym.shape[2:])
        self.cache = DotCache(x, y, x3, y3, xm.shape, ym.shape, r_x, r_y, (axis1, axis2))
        return a.reshape(out_shape if len(out_shape) > 1 else (n, 1))

    def backward(self, grad_outputs: np.ndarray) -> list[np.ndarray]:
        x, y, x3, y3, xm_shape, ym_shape, r_x, r_y, (axis1, axis2) = self.cache
        grad_a = grad_outputs.reshape(x3.shape[0], x3.shape[1], y3.shape[2])
        grad_x3 = np.matmul(grad_a, y3.transpose(0, 2, 1))      # δx = δa @ yᵀ
        grad_y3 = np.matmul(x3.transpose(0, 2, 1), grad_a)      # δy = xᵀ @ δa
        grad_x = np.moveaxis(grad_x3.reshape(xm_shape), -1, axis1)
        grad_y = np.moveaxis(grad_y3.reshape(ym_shape), 1, axis2)
        if self.normalize:
            grad_x = _l2_normalize_backward(x, r_x, grad_x, axis1)
            grad_y = _l2_normalize_backward(y, r_y, grad_y, axis2)
        return [grad_x, grad_y]

    _keras_build_config = True      # Keras records the input shapes of a Dot

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


class DotCache(NamedTuple):
    """What one call of a Dot keeps for its backward pass."""

    x: np.ndarray                   #: the first input, as given
    y: np.ndarray                   #: the second input, as given
    x3: np.ndarray                  #: x̂ as (N, P, K)
    y3: np.ndarray                  #: ŷ as (N, K, Q)
    xm_shape: tuple                 #: x̂ with its axis moved last, before the flattening
    ym_shape: tuple                 #: ŷ with its axis moved second, before the flattening
    r_x: np.ndarray | None          #: x's factor r = min(1/√Σx², 1/ε) (normalize=True)
    r_y: np.ndarray | None          #: y's factor
    axes: tuple[int, int]           #: the two axes, from 0


def _l2_normalize(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Keras' ``ops.normalize(x, axis)``: ``x · r``, ``r = min(rsqrt(Σ x²), 1/ε)``."""
    with np.errstate(divide="ignore"):
        r = 1 / np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
    r = np.minimum(r, x.dtype.type(1 / EPSILON))
    return x * r, r


def _l2_normalize_backward(x: np.ndarray, r: np.ndarray, grad_x_hat: np.ndarray,
                           axis: int) -> np.ndarray:
    """``δx = r · δx̂ - x · r³ · Σ (δx̂ · x)``; the second term only where ``r`` was not
    clipped at ``1/ε`` (there ``r`` is a constant)."""
    unclipped = r < x.dtype.type(1 / EPSILON)
    along = np.sum(grad_x_hat * x, axis=axis, keepdims=True)
    return r * grad_x_hat - x * np.where(unclipped, r * r * r * along, 0)


def dot(inputs: list, axes=-1, **kwargs):
    """The dot product of two inputs: ``Dot(axes, **kwargs)(inputs)`` (Keras' functional
    interface).

    Args:
        inputs: the list of the two inputs.
        axes: the axis (or ``(i, j)``) of the product.
        **kwargs: the other arguments of :class:`Dot` (``normalize``, ``name``...).
    """
    return Dot(axes=axes, **kwargs)(inputs)
