"""RMSNormalization: divide each sample by its root mean square, then scale."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer


class RMSNormalization(Layer):
    """Divide each sample by the root mean square of its values over ``axis``, times ``γ``.

    LayerNormalization without the mean (Zhang & Sennrich, 2019): nothing is subtracted,
    only the size is normalized. With ``m`` values over ``axis``, for each sample::

        r = 1/√((1/m) Σ x² + ε)          1 / the root mean square
        a = x r γ                        γ: the weight ``scale``, one per position of axis

    Backward, given ``δa`` (Σ over ``axis`` of one sample; Σ_N over every sample for ``γ``)::

        ∂L/∂γ = Σ_N δa ⊙ x r
        g     = δa γ
        δx    = r g − (r³/m) x Σ (g ⊙ x)

    since ``∂r/∂x = −r³ x / m``.

    Args:
        axis: the axis, or list of axes, normalized (default -1): the last axes of the
            inputs (Keras broadcasts ``γ`` against them); a list once built, as Keras.
        epsilon: ``ε``, added to the mean square (1e-6).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Example:
        >>> layer = RMSNormalization()
        >>> np.round(layer(np.array([[1.0, 7.0]], dtype="float32")), 4)    # rms = 5
        array([[0.2, 1.4]], dtype=float32)
        >>> layer.get_weights()            # γ, the weight Keras names "scale"
        [array([1., 1.], dtype=float32)]
    """

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-6, **kwargs) -> None:
        axes = axis if isinstance(axis, list | tuple) else [axis]
        if not all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in axes):
            raise TypeError("RMSNormalization: `axis` must be an int or a list of ints. "
                            f"Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, list | tuple) else int(axis)
        self.epsilon = float(epsilon)

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"RMSNormalization {self.name!r}: axis {a} is out of bounds "
                                 f"for inputs of shape {tuple(input_shape)}.")
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise ValueError(f"RMSNormalization {self.name!r}: the normalized axes {axes} must "
                             f"have a known size, got inputs of shape {tuple(input_shape)}.")
        normalized = sorted(a % rank for a in axes)
        if normalized != list(range(rank - len(normalized), rank)):
            # Keras multiplies by γ (shaped like the normalized axes) without reshaping it,
            # so γ broadcasts against the last axes: an error, or the wrong axes scaled.
            raise ValueError(f"RMSNormalization {self.name!r}: the normalized axes must be "
                             f"the last ones (Keras broadcasts the weight `scale` against the "
                             f"last axes), got axis={self.axis} for inputs of shape "
                             f"{tuple(input_shape)}.")
        self.axis = axes                        # as Keras: a sorted list once built
        self.scale = np.ones(shape, dtype=self._float_dtype())           # γ
        self.scale_gradient = np.zeros_like(self.scale)
        self._normalized_axes = tuple(sorted(a % rank for a in axes))
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """A built layer takes inputs of its rank with the normalized axes' sizes."""
        if len(input_shape) != len(self.input_shape) or any(
                input_shape[a] not in (None, self.input_shape[a])
                for a in self._normalized_axes):
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"it was built for inputs of shape {tuple(self.input_shape)} "
                             f"(normalizing axes {self.axis}), got {tuple(input_shape)}.")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -len(input_shape) <= a < len(input_shape):
                raise ValueError(f"Axis {a} is out of bounds for input shape "
                                 f"{tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    def _broadcast(self, weight: np.ndarray) -> np.ndarray:
        """``γ`` shaped to broadcast against the inputs: 1 on the other axes."""
        shape = [1] * len(self.input_shape)
        for a in self._normalized_axes:
            shape[a] = self.input_shape[a]
        return weight.reshape(shape)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        axes = self._normalized_axes
        mean_square = np.mean(np.square(x), axis=axes, keepdims=True)      # (1/m) Σ x²
        r = 1.0 / np.sqrt(mean_square + x.dtype.type(self.epsilon))        # 1/rms
        self.cache = (x, r)
        return x * r * self._broadcast(self.scale)                         # a = x r γ

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        x, r = self.cache
        axes = self._normalized_axes
        others = tuple(i for i in range(x.ndim) if i not in axes)
        self.scale_gradient += np.sum(grad_outputs * x * r, axis=others).reshape(
            self.scale.shape)                                              # Σ_N δa ⊙ x r
        g = grad_outputs * self._broadcast(self.scale)                     # g = δa γ
        m = int(np.prod([x.shape[a] for a in axes]))
        along = np.sum(g * x, axis=axes, keepdims=True)                    # Σ g ⊙ x
        return r * g - (r**3 / m) * x * along                              # r g − r³/m x Σ g x

    def _weight_triples(self) -> list:
        if not self.built:
            return []
        return [(self.scale, self.scale_gradient, None)]

    def get_config(self) -> dict:
        """Keras' RMSNormalization config: axis and epsilon."""
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
