"""Global pooling: one value per channel, over all positions (average or max, 1D or 2D)."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.pooling.windows import check_rank, standardize_data_format


class _GlobalPooling(Layer):
    """Reduce every spatial axis of ``(N, *spatial, C)``: outputs ``(N, C)``, or
    ``(N, 1, ..., 1, C)`` with ``keepdims=True``. Subclasses set ``spatial`` and write
    ``forward``/``backward``."""

    spatial = 2

    def __init__(self, data_format=None, keepdims: bool = False, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, self.spatial)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, self.spatial)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if self.keepdims:
            return (input_shape[0], *(1,) * self.spatial, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def _axes(self) -> tuple[int, ...]:
        """The spatial axes, ``(1, 2)`` in 2D."""
        return tuple(range(1, self.spatial + 1))

    def _with_kept_dims(self, grad_outputs: np.ndarray) -> np.ndarray:
        """``δa`` as ``(N, 1, ..., 1, C)``, to broadcast over the input's positions."""
        return grad_outputs.reshape(grad_outputs.shape[0], *(1,) * self.spatial,
                                    grad_outputs.shape[-1])

    _keras_build_config = False      # Keras builds global pooling layers at construction

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class _GlobalAveragePooling(_GlobalPooling):
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        self.cache = x.shape
        return x.mean(axis=self._axes(), keepdims=self.keepdims)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        input_shape = self.cache
        count = np.prod([input_shape[a] for a in self._axes()])      # positions averaged
        share = self._with_kept_dims(grad_outputs) / grad_outputs.dtype.type(count)
        return np.broadcast_to(share, input_shape).copy()


class _GlobalMaxPooling(_GlobalPooling):
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        maximum = x.max(axis=self._axes(), keepdims=True)
        is_max = (x == maximum).astype(x.dtype)                       # 1 at every tie
        # Each tie's share of the gradient, 1/t: TensorFlow's reduce_max gradient.
        self.cache = is_max / is_max.sum(axis=self._axes(), keepdims=True)
        return maximum if self.keepdims else maximum.reshape(x.shape[0], x.shape[-1])

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        shares = self.cache
        return shares * self._with_kept_dims(grad_outputs)


class GlobalAveragePooling2D(_GlobalAveragePooling):
    """The mean of each channel over all rows and columns: ``(N, H, W, C)`` to ``(N, C)``.

    Forward and backward::

        a[n, c]        = (1 / (H·W)) · Σ_{i, j} x[n, i, j, c]
        δx[n, i, j, c] = δa[n, c] / (H·W)

    Args:
        data_format: ``"channels_last"`` (or None).
        keepdims: keep the pooled axes with size 1, giving ``(N, 1, 1, C)``.
        name: layer name.

    Example:
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
        >>> GlobalAveragePooling2D()(x)
        array([[3., 4.]], dtype=float32)
    """

    spatial = 2


class GlobalAveragePooling1D(_GlobalAveragePooling):
    """The mean of each channel over all steps: ``(N, L, C)`` to ``(N, C)``.

    Forward and backward::

        a[n, c]     = (1 / L) · Σ_i x[n, i, c]
        δx[n, i, c] = δa[n, c] / L

    With a mask ``m`` (``(N, L)``, True for the real steps: from ``Embedding(mask_zero=True)``
    or ``Masking``), the mean of the real steps only, as Keras::

        a[n, c]     = Σ_i m[n, i] x[n, i, c] / Σ_i m[n, i]
        δx[n, i, c] = δa[n, c] · m[n, i] / Σ_i m[n, i]

    (a sample with every step masked gives NaN, as in Keras: 0 / 0). The output has no mask.

    Args:
        data_format: ``"channels_last"`` (or None).
        keepdims: keep the pooled axis with size 1, giving ``(N, 1, C)``.
        name: layer name.

    Example:
        >>> GlobalAveragePooling1D()(np.array([[[1.], [2.], [6.]]]))
        array([[3.]], dtype=float32)
        >>> GlobalAveragePooling1D()(np.array([[[1.], [2.], [6.]]]),
        ...                          mask=np.array([[True, True, False]]))
        array([[1.5]], dtype=float32)
    """

    spatial = 1
    _supports_masking_default = True

    def compute_mask(self, inputs, mask=None) -> None:
        """None: the pooled output has no time steps left to mask (as Keras)."""
        return None

    def _may_make_mask(self) -> bool:
        return False

    def forward(self, inputs: np.ndarray, training: bool = False, mask=None) -> np.ndarray:
        if mask is None:
            return super().forward(inputs, training)
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        weights = np.asarray(mask, dtype=bool).astype(x.dtype)[:, :, None]   # m, (N, L, 1)
        count = weights.sum(axis=1, keepdims=True)                           # Σ_i m
        with np.errstate(invalid="ignore", divide="ignore"):    # all masked: 0/0 = NaN
            share = weights / count                                          # m / Σ_i m
        self.cache = share
        with np.errstate(invalid="ignore", divide="ignore"):
            outputs = np.sum(np.where(weights > 0, x, 0), axis=1, keepdims=True) / count
        return outputs if self.keepdims else outputs[:, 0, :]

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        if not isinstance(self.cache, np.ndarray):          # no mask: the input's shape
            return super().backward(grad_outputs)
        return self.cache * self._with_kept_dims(grad_outputs)


class GlobalMaxPooling2D(_GlobalMaxPooling):
    """The largest value of each channel over all rows and columns: ``(N, H, W, C)`` to
    ``(N, C)``.

    Forward and backward::

        a[n, c]        = max_{i, j} x[n, i, j, c]
        δx[n, i, j, c] = δa[n, c] / t[n, c]   where x[n, i, j, c] = a[n, c], else 0

    ``t`` is the number of positions that tie for the maximum: unlike
    :class:`MaxPooling2D`, which gives a tie to the first one, a global max pooling splits
    the gradient equally among the ties, as TensorFlow's ``reduce_max`` does (measured).

    Args:
        data_format: ``"channels_last"`` (or None).
        keepdims: keep the pooled axes with size 1, giving ``(N, 1, 1, C)``.
        name: layer name.

    Example:
        >>> layer = GlobalMaxPooling2D()
        >>> layer(np.array([[[[1.], [5.]], [[5.], [2.]]]]))
        array([[5.]], dtype=float32)
        >>> layer.backward(np.array([[1.0]], dtype="float32"))[0, :, :, 0]
        array([[0. , 0.5],
               [0.5, 0. ]], dtype=float32)
    """

    spatial = 2


class GlobalMaxPooling1D(_GlobalMaxPooling):
    """The largest value of each channel over all steps: ``(N, L, C)`` to ``(N, C)``.

    Forward and backward (ties split the gradient equally, as TensorFlow)::

        a[n, c]     = max_i x[n, i, c]
        δx[n, i, c] = δa[n, c] / t[n, c]   where x[n, i, c] = a[n, c], else 0

    Args:
        data_format: ``"channels_last"`` (or None).
        keepdims: keep the pooled axis with size 1, giving ``(N, 1, C)``.
        name: layer name.

    Example:
        >>> GlobalMaxPooling1D()(np.array([[[1., 0.], [3., -1.]]]))
        array([[3., 0.]], dtype=float32)
    """

    spatial = 1
