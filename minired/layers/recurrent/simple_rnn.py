"""SimpleRNN: the plain (Elman) recurrent layer, ``h_t = f(x_t W + b + h_{t-1} U)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired.layers.recurrent.base_rnn import BaseRNN, cell_arguments


class SimpleRNN(BaseRNN):
    """Fully connected recurrent layer: the output of each step is fed back as the state.

    Weights (Keras' shapes and order): ``W`` = ``kernel`` (in, units),
    ``U`` = ``recurrent_kernel`` (units, units), ``b`` = ``bias`` (units,).

    Forward, one step (f the ``activation``, tanh)::

        z_t = (x_t W + b) + h_{t-1} U        (N, units)
        h_t = f(z_t)                         the output of step t, and the next state

    Backward, one step, given ``δh_t`` (from above and from step t+1)::

        δz_t = f'(z_t) ⊙ δh_t
        ∂L/∂U += h_{t-1}ᵀ δz_t       δh_{t-1} = δz_t Uᵀ
        and, over all steps at once: ∂L/∂W = Σ_t x_tᵀ δz_t, ∂L/∂b = Σ_{n,t} δz_t,
        δx_t = δz_t Wᵀ

    With ``initial_state=[h_0]`` (``(N, units)``) the loop starts from it instead of
    zeros: ``z_1 = x_1 W + b + h_0 U``, and ``δh_0 = δz_1 Uᵀ`` (backward returns
    ``[δx, δh_0]``).

    Args:
        units: size of ``h``.
        activation: f (default ``"tanh"``).
        use_bias: whether to add ``b``.
        kernel_initializer, recurrent_initializer, bias_initializer: how ``W``, ``U``
            (``"orthogonal"``) and ``b`` start.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: penalties.
        dropout: fraction of the inputs dropped in training (one mask per sequence).
        recurrent_dropout: fraction of ``h_{t-1}`` dropped in training, before its product
            with ``U`` (one mask per sequence).
        seed: seed of the dropout masks.
        return_sequences, return_state, go_backwards, stateful, unroll: see
            :class:`~minired.layers.recurrent.base_rnn.BaseRNN`.
        **kwargs: ``name``, ``trainable``, and ``kernel_constraint``,
            ``recurrent_constraint``, ``bias_constraint`` (projections applied after each
            optimizer step; see mr.constraints).

    Example:
        >>> layer = SimpleRNN(4)
        >>> layer(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 4)
    """

    _gates = 1
    _state_count = 1

    def __init__(self, units: int, activation: str | Callable = "tanh", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs) -> None:
        if "use_cudnn" in kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to SimpleRNN: "
                             f"{{'use_cudnn': {kwargs['use_cudnn']!r}}}.")
        super().__init__(units, **cell_arguments(locals()), **kwargs)

    def _step(self, xw_t, states):
        (h_prev,) = states
        z = xw_t + self.bias if self.use_bias else xw_t      # Keras' order: (x W + b) + h U
        z = z + self._recurrent_product(h_prev)              # (h_{t-1} ⊙ m) U in training
        h = self.activation(z)                               # h_t = f(z_t)
        return h, (h,), SimpleRNNStep(h_prev, z, h)

    def _step_backward(self, step, d_states):
        (d_h,) = d_states
        h_prev, z, h = step
        d_z = self.activation.backward(z, h, d_h)            # δz = f'(z) ⊙ δh
        # ∂L/∂U += h_{t-1}ᵀ δz, δh_{t-1} = δz Uᵀ (h_{t-1} ⊙ m and (δz Uᵀ) ⊙ m with a mask)
        return d_z, [self._recurrent_product_backward(h_prev, d_z)]

    def get_config(self) -> dict:
        """Keras' SimpleRNN config (which, unlike LSTM's and GRU's, has no ``seed``)."""
        return {
            **self._head_config(),
            **self._cell_config(),
            **self._regularizers_config(),
        }


class SimpleRNNStep(NamedTuple):
    """What one SimpleRNN step keeps for its backward."""

    h_prev: np.ndarray
    z: np.ndarray
    h: np.ndarray
