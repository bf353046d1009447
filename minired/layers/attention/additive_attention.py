"""AdditiveAttention: Bahdanau-style attention, scores from tanh(q + k)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minired import initializers
from minired.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention, as Keras' ``AdditiveAttention``: :class:`Attention` with the
    scores ``S_ij = Σ_d s_d tanh(q_i + k_j)_d`` (``s``: a weight of shape ``(d,)``,
    Glorot-uniform at first; all ones without ``use_scale``).

    Forward and backward are Attention's, with these scores; with ``t = tanh(q_i + k_j)``::

        δu = δS s ⊙ (1 - t²),   δq = Σ_j δu,   δk = Σ_i δu,   ∂L/∂s = Σ_{n,i,j} δS t

    Args:
        use_scale: whether to learn ``s`` (default True).
        dropout: the rate of dropout on the attention distribution.
        seed: seed of the dropout.
        name: layer name.

    Example:
        >>> layer = AdditiveAttention()
        >>> q, v = np.ones((2, 3, 4), dtype="float32"), np.ones((2, 5, 4), dtype="float32")
        >>> layer([q, v]).shape, layer.weights[0].shape
        ((2, 3, 4), (4,))
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None,
                 name: str | None = None, **kwargs) -> None:
        if kwargs.get("score_mode", "dot") != "dot":
            raise ValueError("AdditiveAttention takes no `score_mode` (its scores are additive).")
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, name=name, **kwargs)

    def build(self, input_shape) -> None:
        shapes = self._check_shapes(input_shape)
        dim = shapes[0][-1]
        if dim is None:
            raise ValueError(f"AdditiveAttention {self.name!r}: the query's number of features "
                             f"(last axis) must be known; received {shapes[0]}.")
        self.scale = (np.asarray(initializers.get("glorot_uniform")((dim,),
                                                                    dtype=self._float_dtype()))
                      if self.use_scale else None)
        self.concat_score_weight = None
        self._make_gradients()
        self.input_shape = shapes
        self.built = True

    def _feature_weights(self) -> bool:
        return self.use_scale

    def _scores(self, q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, Any]:
        t = np.tanh(q[:, :, None, :] + k[:, None, :, :])          # t = tanh(q_i + k_j)
        scale = self.scale if self.scale is not None else q.dtype.type(1.0)
        return np.sum(scale * t, axis=-1), t                      # Σ_d s_d t_d

    def _scores_backward(self, grad_s: np.ndarray, t) -> tuple[np.ndarray, np.ndarray]:
        if self.scale is not None:
            self.scale_gradient[...] += np.einsum("nij,nijd->d", grad_s, t)   # ∂L/∂s
            grad_u = grad_s[..., None] * self.scale * (1 - t * t)
        else:
            grad_u = grad_s[..., None] * (1 - t * t)
        return grad_u.sum(axis=2), grad_u.sum(axis=1)             # δq = Σ_j, δk = Σ_i

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config
