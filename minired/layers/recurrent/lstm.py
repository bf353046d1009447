"""LSTM: Long Short-Term Memory (Hochreiter & Schmidhuber, 1997), Keras' gate order i, f, c, o."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations, initializers
from minired.layers.recurrent.base_rnn import BaseRNN, cell_arguments


class LSTM(BaseRNN):
    """Long Short-Term Memory layer: a state ``h`` and a carry ``c`` updated at every step.

    Weights (Keras' shapes and order): ``W`` = ``kernel`` (in, 4·units),
    ``U`` = ``recurrent_kernel`` (units, 4·units), ``b`` = ``bias`` (4·units,), each the
    four gates side by side in the order i, f, c, o. With ``unit_forget_bias`` the forget
    part of ``b`` starts at 1.

    Forward, one step (σ the ``recurrent_activation``, sigmoid; f the ``activation``, tanh)::

        z_t = x_t W + h_{t-1} U + b                   (N, 4·units), split into z_i z_f z_c z_o
        i = σ(z_i)   f = σ(z_f)   g = f(z_c)   o = σ(z_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ f(c_t)                              the output of step t

    Backward, one step, given ``δh_t`` (from above and from step t+1) and ``δc_t`` (from
    step t+1)::

        δo   = δh_t ⊙ f(c_t)
        δc_t ← δc_t + f'(c_t) ⊙ (δh_t ⊙ o)
        δi = δc_t ⊙ g     δg = δc_t ⊙ i     δf = δc_t ⊙ c_{t-1}     δc_{t-1} = δc_t ⊙ f
        δz_t = [σ'(z_i) δi, σ'(z_f) δf, f'(z_c) δg, σ'(z_o) δo]
        ∂L/∂U += h_{t-1}ᵀ δz_t      δh_{t-1} = δz_t Uᵀ
        and, over all steps at once: ∂L/∂W = Σ_t x_tᵀ δz_t, ∂L/∂b = Σ_{n,t} δz_t,
        δx_t = δz_t Wᵀ

    With ``initial_state=[h_0, c_0]`` (each ``(N, units)``) the loop starts from them
    instead of zeros, and their gradients are what the loop leaves after step 1::

        δh_0 = δz_1 Uᵀ      δc_0 = δc_1 ⊙ f_1          (backward returns [δx, δh_0, δc_0])

    Args:
        units: size of ``h`` and ``c``.
        activation: f (default ``"tanh"``).
        recurrent_activation: σ of the gates (default ``"sigmoid"``).
        use_bias: whether to add ``b``.
        kernel_initializer, recurrent_initializer, bias_initializer: how ``W``, ``U``
            (``"orthogonal"``) and ``b`` start.
        unit_forget_bias: start the forget gate's bias at 1 (Keras' default True).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: penalties.
        dropout: fraction of the inputs dropped in training (one mask per sequence).
        recurrent_dropout: fraction of ``h_{t-1}`` dropped in training, before its product
            with ``U`` (one mask per sequence and gate; ``dropout`` then also draws one
            mask per gate, as Keras).
        seed: seed of the dropout masks.
        return_sequences, return_state, go_backwards, stateful, unroll: see
            :class:`~minired.layers.recurrent.base_rnn.BaseRNN`.
        use_cudnn: ``"auto"`` or False run minired's NumPy loop; True is refused when the
            layer is called, as Keras on a machine without cuDNN does (a ValueError).
        **kwargs: ``name``, ``trainable``, and
            ``kernel_constraint``, ``recurrent_constraint``, ``bias_constraint``
            (projections applied after each optimizer step; see mr.constraints).

    Example:
        >>> layer = LSTM(4)
        >>> layer(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 4)
        >>> [w.shape for w in layer.get_weights()]
        [(3, 16), (4, 16), (16,)]
        >>> h0 = c0 = np.zeros((2, 4), dtype="float32")
        >>> [a.shape for a in LSTM(4, return_state=True)(np.ones((2, 5, 3), dtype="float32"),
        ...                                              initial_state=[h0, c0])]
        [(2, 4), (2, 4), (2, 4)]
    """

    _gates = 4
    _state_count = 2
    _state_names = "[h, c]"

    def __init__(self, units: int, activation: str | Callable = "tanh",
                 recurrent_activation: str | Callable = "sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias: bool = True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, use_cudnn="auto", **kwargs) -> None:
        super().__init__(units, **cell_arguments(locals()), use_cudnn=use_cudnn, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _initial_bias(self, dtype) -> np.ndarray:
        if not self.unit_forget_bias:
            return self.bias_initializer((4 * self.units,), dtype=dtype)
        u = self.units            # Keras: [init(units), ones(units), init(2·units)]
        return np.concatenate([np.asarray(self.bias_initializer((u,), dtype=dtype)),
                               np.asarray(initializers.get("ones")((u,), dtype=dtype)),
                               np.asarray(self.bias_initializer((2 * u,), dtype=dtype))])

    def _step(self, xw_t, states):
        h_prev, c_prev = states
        u = self.units
        z = xw_t + self._recurrent_product(h_prev)       # Keras' order: (x W + h U) + b
        if self.use_bias:
            z += self.bias
        sigma, f = self.recurrent_activation, self.activation
        i, forget, g, o = sigma(z[:, :u]), sigma(z[:, u:2 * u]), f(z[:, 2 * u:3 * u]), \
            sigma(z[:, 3 * u:])
        c = forget * c_prev + i * g                      # c_t = f ⊙ c_{t-1} + i ⊙ g
        fc = f(c)
        h = o * fc                                       # h_t = o ⊙ f(c_t)
        return h, (h, c), LSTMStep(h_prev, c_prev, z, i, forget, g, o, c, fc)

    def _step_backward(self, step, d_states):
        d_h, d_c = d_states
        h_prev, c_prev, z, i, forget, g, o, c, fc = step
        u = self.units
        sigma, f = self.recurrent_activation, self.activation
        d_o = d_h * fc                                   # δo = δh ⊙ f(c)
        d_c = d_c + f.backward(c, fc, d_h * o)           # δc += f'(c) ⊙ (δh ⊙ o)
        d_z = np.empty_like(z)
        d_z[:, :u] = sigma.backward(z[:, :u], i, d_c * g)                 # δz_i
        d_z[:, u:2 * u] = sigma.backward(z[:, u:2 * u], forget, d_c * c_prev)  # δz_f
        d_z[:, 2 * u:3 * u] = f.backward(z[:, 2 * u:3 * u], g, d_c * i)   # δz_c
        d_z[:, 3 * u:] = sigma.backward(z[:, 3 * u:], o, d_o)             # δz_o
        # ∂L/∂U += h_{t-1}ᵀ δz   δh_{t-1} = δz Uᵀ   (each gate's m_g ⊙ with recurrent dropout)
        d_h_prev = self._recurrent_product_backward(h_prev, d_z)
        return d_z, [d_h_prev, d_c * forget]              # δc_{t-1} = δc ⊙ f

    def get_config(self) -> dict:
        """Keras' LSTM config (the Keras-only arguments written at their default)."""
        return {
            **self._head_config(),
            **self._cell_config(),
            "unit_forget_bias": self.unit_forget_bias,
            **self._regularizers_config(),
            "seed": self.seed,
        }


class LSTMStep(NamedTuple):
    """What one LSTM step keeps for its backward."""

    h_prev: np.ndarray
    c_prev: np.ndarray
    z: np.ndarray           #: the pre-activations of the four gates
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    fc: np.ndarray          #: f(c_t)
