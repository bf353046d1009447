"""GRU: Gated Recurrent Unit (Cho et al., 2014), Keras' gate order z, r, h."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations
from minired.layers.recurrent.base_rnn import BaseRNN, cell_arguments


class GRU(BaseRNN):
    """Gated Recurrent Unit layer: an update gate z mixes the old state with a candidate.

    Weights (Keras' shapes and order): ``W`` = ``kernel`` (in, 3·units),
    ``U`` = ``recurrent_kernel`` (units, 3·units), gates side by side in the order z, r, h;
    ``bias`` (2, 3·units) with ``reset_after=True`` (Keras 3's default: row 0 ``b`` is added
    to ``x W``, row 1 ``b'`` to ``h U``), else (3·units,).

    Forward, one step (σ the ``recurrent_activation``, sigmoid; f the ``activation``, tanh),
    with ``a = x_t W + b`` split into ``a_z a_r a_h``::

        reset_after=True:   q = h_{t-1} U + b'                 split into q_z q_r q_h
                            z = σ(a_z + q_z)   r = σ(a_r + q_r)   ĥ = f(a_h + r ⊙ q_h)
        reset_after=False:  q = h_{t-1} U[:, :2·units]         split into q_z q_r
                            z = σ(a_z + q_z)   r = σ(a_r + q_r)
                            ĥ = f(a_h + (r ⊙ h_{t-1}) U_h)     U_h = U[:, 2·units:]
        h_t = z ⊙ h_{t-1} + (1 - z) ⊙ ĥ

    Backward, one step, given ``δh_t`` (from above and from step t+1), with
    ``δs_z = σ'(·) δz``, ``δs_r = σ'(·) δr``, ``δs_h = f'(·) δĥ`` the δ of the sums inside
    σ and f::

        δz = δh_t ⊙ (h_{t-1} - ĥ)    δĥ = δh_t ⊙ (1 - z)    δh_{t-1} = δh_t ⊙ z  (+ below)
        reset_after=True:   δr = δs_h ⊙ q_h     δq = [δs_z, δs_r, r ⊙ δs_h]
                            ∂L/∂U += h_{t-1}ᵀ δq   ∂L/∂b' += Σ_n δq   δh_{t-1} += δq Uᵀ
        reset_after=False:  δ(r ⊙ h_{t-1}) = δs_h U_hᵀ,  δr = δ(r ⊙ h_{t-1}) ⊙ h_{t-1}
                            ∂L/∂U_h += (r ⊙ h_{t-1})ᵀ δs_h     δh_{t-1} += δ(r ⊙ h_{t-1}) ⊙ r
                            ∂L/∂U[:, :2·units] += h_{t-1}ᵀ [δs_z, δs_r]
                            δh_{t-1} += [δs_z, δs_r] U[:, :2·units]ᵀ
        δa_t = [δs_z, δs_r, δs_h];  over all steps: ∂L/∂W = Σ_t x_tᵀ δa_t,
        ∂L/∂b = Σ_{n,t} δa_t,  δx_t = δa_t Wᵀ

    With ``initial_state=[h_0]`` (``(N, units)``) the loop starts from it instead of
    zeros, and its gradient is the ``δh_{t-1}`` the loop leaves after step 1, ``δh_0``
    (backward returns ``[δx, δh_0]``).

    Args:
        units: size of ``h``.
        activation: f (default ``"tanh"``).
        recurrent_activation: σ of the gates (default ``"sigmoid"``).
        use_bias: whether to add the biases.
        kernel_initializer, recurrent_initializer, bias_initializer: how ``W``, ``U``
            (``"orthogonal"``) and the bias start.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: penalties.
        dropout: fraction of the inputs dropped in training (one mask per sequence).
        recurrent_dropout: fraction of ``h_{t-1}`` dropped in training, before its product
            with ``U`` (one mask per sequence and gate; ``dropout`` then also draws one
            mask per gate, as Keras).
        seed: seed of the dropout masks.
        reset_after: apply the reset gate after the product with ``U`` (Keras 3's default
            True, cuDNN's form) or before it (False, the original paper's).
        return_sequences, return_state, go_backwards, stateful, unroll: see
            :class:`~minired.layers.recurrent.base_rnn.BaseRNN`.
        use_cudnn: ``"auto"`` or False run minired's NumPy loop; True is refused when the
            layer is called, as Keras on a machine without cuDNN does (a ValueError).
        **kwargs: ``name``, ``trainable``, and
            ``kernel_constraint``, ``recurrent_constraint``, ``bias_constraint``
            (projections applied after each optimizer step; see mr.constraints).

    Example:
        >>> layer = GRU(4, return_sequences=True)
        >>> layer(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 5, 4)
        >>> [w.shape for w in layer.get_weights()]
        [(3, 12), (4, 12), (2, 12)]
    """

    _gates = 3
    _state_count = 1

    def __init__(self, units: int, activation: str | Callable = "tanh",
                 recurrent_activation: str | Callable = "sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None,
                 reset_after: bool = True, use_cudnn="auto", **kwargs) -> None:
        super().__init__(units, **cell_arguments(locals()), use_cudnn=use_cudnn, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _initial_bias(self, dtype) -> np.ndarray:
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        return self.bias_initializer(shape, dtype=dtype)

    def _input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def _step(self, xw_t, states):
        (h_prev,) = states
        u = self.units
        a = xw_t + self._input_bias() if self.use_bias else xw_t    # a = x W + b
        sigma, f = self.recurrent_activation, self.activation
        if self.reset_after:
            q = self._recurrent_product(h_prev)                      # q = h U + b'
            if self.use_bias:
                q += self.bias[1]
        else:
            q = self._recurrent_product(h_prev, 0, 2)
        s_z, s_r = a[:, :u] + q[:, :u], a[:, u:2 * u] + q[:, u:2 * u]
        z, r = sigma(s_z), sigma(s_r)
        if self.reset_after:
            rh = None
            s_h = a[:, 2 * u:] + r * q[:, 2 * u:]                    # a_h + r ⊙ q_h
        else:
            rh = r * self._recurrent_masked(h_prev, 2)
            s_h = a[:, 2 * u:] + rh @ self.recurrent_kernel[:, 2 * u:]  # a_h + (r ⊙ h) U_h
        hh = f(s_h)
        h = z * h_prev + (1 - z) * hh                                # h_t
        return h, (h,), GRUStep(h_prev, q, s_z, s_r, s_h, z, r, hh, rh)

    def _step_backward(self, step, d_states):
        (d_h,) = d_states
        h_prev, q, s_z, s_r, s_h, z, r, hh, rh = step
        u = self.units
        sigma, f = self.recurrent_activation, self.activation
        d_s_h = f.backward(s_h, hh, d_h * (1 - z))                  # δs_h = f' ⊙ δĥ
        d_h_prev = d_h * z
        u_h = self.recurrent_kernel[:, 2 * u:]
        if self.reset_after:
            d_r = d_s_h * q[:, 2 * u:]                              # δr = δs_h ⊙ q_h
        else:
            d_rh = d_s_h @ u_h.T                                    # δ(r ⊙ h_{t-1})
            d_r = d_rh * self._recurrent_masked(h_prev, 2)
            d_h_prev += self._recurrent_masked(d_rh * r, 2)
            self.recurrent_kernel_gradient[:, 2 * u:] += rh.T @ d_s_h
        d_a = np.empty((z.shape[0], 3 * u), dtype=z.dtype)
        d_a[:, :u] = sigma.backward(s_z, z, d_h * (h_prev - hh))   # δs_z
        d_a[:, u:2 * u] = sigma.backward(s_r, r, d_r)              # δs_r
        d_a[:, 2 * u:] = d_s_h
        if self.reset_after:
            d_q = d_a.copy()
            d_q[:, 2 * u:] *= r                                     # δq_h = r ⊙ δs_h
            d_h_prev += self._recurrent_product_backward(h_prev, d_q)   # and ∂L/∂U
            if self.use_bias:
                self.bias_gradient[1] += d_q.sum(axis=0)            # ∂L/∂b' = Σ_n δq
        else:
            d_q = d_a[:, :2 * u]
            d_h_prev += self._recurrent_product_backward(h_prev, d_q, 0, 2)
        return d_a, [d_h_prev]

    def _add_input_bias_gradient(self, grad: np.ndarray) -> None:
        if self.reset_after:
            self.bias_gradient[0] += grad
        else:
            self.bias_gradient += grad

    def get_config(self) -> dict:
        """Keras' GRU config (the Keras-only arguments written at their default)."""
        return {
            **self._head_config(),
            **self._cell_config(),
            **self._regularizers_config(),
            "reset_after": self.reset_after,
            "seed": self.seed,
        }


class GRUStep(NamedTuple):
    """What one GRU step keeps for its backward."""

    h_prev: np.ndarray
    q: np.ndarray           #: h_{t-1} U (+ b'), all gates (reset_after) or z and r
    s_z: np.ndarray         #: the sums inside σ and f
    s_r: np.ndarray
    s_h: np.ndarray
    z: np.ndarray
    r: np.ndarray
    hh: np.ndarray          #: the candidate ĥ
    rh: np.ndarray | None   #: r ⊙ h_{t-1} (reset_after=False)
