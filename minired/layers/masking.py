"""Masking: mark as padding the time steps whose features all equal ``mask_value``."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer


class Masking(Layer):
    """Skip the time steps of a sequence that are padding: those whose features all equal
    ``mask_value``.

    For inputs ``x`` of shape ``(N, T, C)`` (any shape ``(N, …, C)``), one boolean per time
    step says whether it is real::

        m[n, t] = any_c (x[n, t, c] ≠ mask_value)        the mask, shape (N, T)

    Forward: the padded steps are set to 0, the others kept::

        a = x · m[..., None]

    and the output carries the mask ``m`` (:meth:`compute_mask`): the following layers pass
    it on (Dense, Dropout...), the ones that read it skip the padded steps
    (``GlobalAveragePooling1D``), and so do the model's loss and metrics.

    Backward: ``δx = δa · m[..., None]`` (``m`` does not depend on ``x`` almost everywhere:
    it changes only where a feature crosses ``mask_value``).

    Args:
        mask_value: the value of the padding (default 0.0).
        name: layer name.
        **kwargs: the other arguments of :class:`~minired.layers.Layer`.

    Example:
        >>> layer = Masking(mask_value=0.0)
        >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]])
        >>> layer(x).tolist(), layer.compute_mask(x, None).tolist()
        ([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]], [[True, False, True]])
    """

    _supports_masking_default = True

    def __init__(self, mask_value: float = 0.0, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if isinstance(mask_value, bool) or not isinstance(
                mask_value, int | float | np.integer | np.floating):
            raise TypeError(f"Masking: `mask_value` must be a number, got {mask_value!r} (of "
                            f"type {type(mask_value).__name__}).")
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None) -> np.ndarray:
        """``m = any(x ≠ mask_value, axis=-1)``; as Keras, the input's own mask is not read."""
        return np.any(np.not_equal(inputs, self.mask_value), axis=-1)

    def _may_make_mask(self) -> bool:
        return True

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        keep = self.compute_mask(inputs)[..., None]           # m, with an axis for C
        self.cache = keep
        return np.where(keep, inputs, inputs.dtype.type(0))  # a = x · m

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return np.where(self.cache, grad_outputs, grad_outputs.dtype.type(0))   # δx = δa · m

    _keras_build_config = False       # Keras builds a Masking when it is made

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
