"""ConvLSTM1D/2D/3D: an LSTM whose products are convolutions (Shi et al., 2015).

:class:`BaseConvLSTM` holds the cell for ``rank`` spatial axes (as
:class:`~minired.layers.convolutional.base_conv.BaseConv` does for Conv1D/2D/3D) and runs it
with the recurrent layers' time loop (:func:`~minired.layers.recurrent.base_rnn.time_loop`,
Keras' rule for masks included); the three public classes only fix ``rank``. The
convolutions use :mod:`minired.layers.convolutional.im2col`: ``patches`` reshaped to a
matrix ``cols`` (one row per sample and output position), one matmul with the kernel, and
``scatter_patch_products`` for ``δx``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations, constraints, initializers, regularizers
from minired.autodiff.layer_calls import CallArguments
from minired.layers.convolutional import im2col
from minired.layers.convolutional.base_conv import _standardize_tuple as standardize_tuple
from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import Layer
from minired.layers.recurrent.base_rnn import (
    CONSTRAINT_ARGUMENTS,
    BaseRNN,
    checked_sequence,
    rnn_call,
    time_loop,
    time_loop_backward,
)
from minired.layers.recurrent.lstm import LSTMStep
from minired.saving import serialization_lib
from minired.utils.rng_utils import make_generator

_SHAPES = {1: "(batch, time, steps, channels)", 2: "(batch, time, rows, cols, channels)",
           3: "(batch, time, depth, rows, cols, channels)"}


class BaseConvLSTM(Layer):
    """A convolutional LSTM over ``rank`` spatial axes, inputs ``(N, T, *spatial, C)``.

    Weights (Keras' layout, the gates side by side in the order i, f, c, o):
    ``W`` = ``kernel`` ``(*k, C, 4F)``, ``U`` = ``recurrent_kernel`` ``(*k, F, 4F)``,
    ``b`` = ``bias`` ``(4F,)`` (with ``unit_forget_bias`` the forget part starts at 1).
    The states ``h`` and ``c`` are images ``(N, *out, F)``, ``out`` the input convolution's
    output size (``strides``, ``padding``, ``dilation_rate`` as in Conv2D).

    Forward, one step (``∗`` a convolution; σ the ``recurrent_activation``, f the
    ``activation``)::

        z_t = (x_t ∗ W + b) + h_{t-1} ∗ U       W: strides, padding, dilation of the layer;
                                                U: stride 1, padding "same" (h keeps its size)
        i = σ(z_i)   f_t = σ(z_f)   g = f(z_c)   o = σ(z_o)
        c_t = f_t ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ f(c_t)                        the output of step t

    Each convolution is one matrix product: ``x_t ∗ W = cols(x_t) W`` with ``cols`` the
    patches, one row per sample and position (``(N·P, k·C)``), ``W`` as ``(k·C, 4F)``.

    Backward (through time), given ``δh_t`` (from above, and from step t+1) and ``δc_t``
    (from step t+1), for t = T..1::

        δo = δh_t ⊙ f(c_t)       δc_t ← δc_t + f'(c_t) ⊙ (δh_t ⊙ o)
        δi = δc_t ⊙ g   δg = δc_t ⊙ i   δf = δc_t ⊙ c_{t-1}   δc_{t-1} = δc_t ⊙ f_t
        δz_t = [σ'(z_i) δi, σ'(z_f) δf, f'(z_c) δg, σ'(z_o) δo]
        ∂L/∂U += cols(h_{t-1})ᵀ δz_t            δh_{t-1} = col2im(δz_t Uᵀ)
        and, over all steps at once:
        ∂L/∂W = Σ_t cols(x_t)ᵀ δz_t   ∂L/∂b = Σ_{n,t,positions} δz_t   δx_t = col2im(δz_t Wᵀ)

    With ``initial_state=[h_0, c_0]`` (each ``(N, *out, F)``) the loop starts from them, and
    ``backward`` returns ``[δx, δh_0, δc_0]``.

    Dropout (training only; Keras' masks: one per sequence and per gate, drawn once per
    call): ``dropout`` masks ``x_t`` (``m_g`` of shape ``(N, *spatial, C)``) and
    ``recurrent_dropout`` masks ``h_{t-1}`` (``r_g``, ``(N, *out, F)``), values 0 or
    ``1/(1-rate)``::

        z_t,g = ((x_t ⊙ m_g) ∗ W_g + b_g) + (h_{t-1} ⊙ r_g) ∗ U_g
        ∂L/∂W_g = Σ_t cols(x_t ⊙ m_g)ᵀ δz_t,g        δx_t = Σ_g col2im(δz_t,g W_gᵀ) ⊙ m_g
        ∂L/∂U_g += cols(h_{t-1} ⊙ r_g)ᵀ δz_t,g       δh_{t-1} = Σ_g col2im(δz_t,g U_gᵀ) ⊙ r_g

    ``stateful=True`` carries each call's final ``[h, c]`` to the next call as constants
    (no gradient), until :meth:`reset_state`, as minired's LSTM.

    A mask ``m`` (``layer(x, mask=m)``, or a ``Masking`` layer's before it), Keras' rule
    (the loop is :func:`~minired.layers.recurrent.base_rnn.time_loop`, shared with LSTM):
    ``m`` of shape ``(N, T)`` masks whole steps; ``(N, T, *out)`` (what ``Masking`` gives
    when ``h`` keeps the input's size) masks each position of ``h`` and ``c`` on its own.
    Where ``m_t = 0`` the states and the output stay those of step t-1::

        [h_t, c_t] = m_t ⊙ cell(x_t, h_{t-1}, c_{t-1}) + (1 - m_t) ⊙ [h_{t-1}, c_{t-1}]
        output_t = m_t ⊙ h_t + (1 - m_t) ⊙ output_{t-1}      output_0 = 0
                   (m_t ⊙ h_t with ``zero_output_for_mask``, which Bidirectional sets)
        backward: the cell gets m_t ⊙ [δh_t, δc_t]; (1 - m_t) ⊙ [δh_t, δc_t] passes
                  straight to step t-1, and (1 - m_t) ⊙ δoutput_t to output_{t-1}

    Args:
        filters: F, the channels of ``h`` and ``c``.
        kernel_size, strides, dilation_rate: an int or one int per spatial axis (the
            recurrent convolution uses ``kernel_size`` with stride 1 and no dilation).
        padding: ``"valid"`` or ``"same"`` (the input convolution's).
        data_format: ``"channels_last"`` (or None); ``"channels_first"`` is refused.
        activation: f (default ``"tanh"``); recurrent_activation: σ (``"sigmoid"``).
        use_bias: whether to add ``b``.
        kernel_initializer, recurrent_initializer, bias_initializer: how ``W``
            (``"glorot_uniform"``), ``U`` (``"orthogonal"``) and ``b`` (``"zeros"``) start.
        unit_forget_bias: start the forget gate's bias at 1 (default True).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: projections applied after
            each optimizer step.
        dropout, recurrent_dropout: fractions of ``x_t`` and ``h_{t-1}`` dropped in training.
        seed: seed of the dropout masks.
        return_sequences: return every step's ``h`` ``(N, T, *out, F)``, not only the last.
        return_state: also return the final states, ``[output, h_T, c_T]``.
        go_backwards: process the sequence from the last step to the first (the sequence
            returned is in that order, as Keras).
        stateful: carry the final states to the next call (fixed batch size).
        **kwargs: ``name``, ``trainable``, ``dtype``; ``unroll`` (accepted, no effect) and
            ``zero_output_for_mask`` (output 0, not the previous output, at a masked step).

    Example:
        >>> from minired.layers import ConvLSTM2D
        >>> layer = ConvLSTM2D(2, 3, return_sequences=True, return_state=True)
        >>> [a.shape for a in layer(np.ones((1, 4, 5, 5, 1), dtype="float32"))]
        [(1, 4, 3, 3, 2), (1, 3, 3, 2), (1, 3, 3, 2)]
    """

    rank: int = 2
    _keras_build_config = True
    _keras_node_kwargs = {"training": False, "mask": None}   # Keras' node of a plain call
    _constrained_weights = (("kernel", "kernel_constraint"),
                            ("recurrent_kernel", "recurrent_constraint"),
                            ("bias", "bias_constraint"))
    _state_count = 2
    _state_names = "[h, c]"

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate=1,
                 activation: str | Callable | None = "tanh",
                 recurrent_activation: str | Callable | None = "sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, **kwargs) -> None:
        cls = type(self).__name__
        for key in CONSTRAINT_ARGUMENTS:     # W ← c(W) after each optimizer step
            setattr(self, key, constraints.get(kwargs.pop(key, None)))
        self.unroll = bool(kwargs.pop("unroll", False))
        self.zero_output_for_mask = bool(kwargs.pop("zero_output_for_mask", False))
        super().__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int | np.integer) \
                or filters <= 0:
            raise ValueError(f"{cls}: `filters` must be a positive int, got {filters!r}.")
        self.filters = int(filters)
        self.kernel_size = standardize_tuple(kernel_size, self.rank, "kernel_size", cls)
        self.strides = standardize_tuple(strides, self.rank, "strides", cls)
        self.dilation_rate = standardize_tuple(dilation_rate, self.rank, "dilation_rate", cls)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:      # Keras' message
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please "
                "provide `strides=1` or `dilation_rate=1`. Received: "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        lowered = padding.lower() if isinstance(padding, str) else padding
        if lowered not in ("valid", "same"):
            raise ValueError(f"{cls}: `padding` must be 'valid' or 'same', got {padding!r}.")
        self.padding = lowered
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{cls}: only data_format='channels_last' (inputs of shape "
                             f"{_SHAPES[self.rank]}) is implemented in minired, got "
                             f"{data_format!r}. Move the channels last with "
                             "np.moveaxis(x, 2, -1).")
        self.data_format = "channels_last"
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, int | float | np.number):
                raise TypeError(f"{cls}: `{name}` must be a float in [0, 1), got {rate!r}.")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = min(1.0, max(0.0, float(dropout)))      # Keras clips the rates
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.generator = make_generator(seed, stream="dropout")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.states = None              # stateful: the last call's final states [h, c]

    # -- shapes and weights -------------------------------------------------------------------
    def _check_input_shape(self, input_shape: tuple) -> None:
        if len(input_shape) != self.rank + 3:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected ndim={self.rank + 3} {_SHAPES[self.rank]}, found "
                             f"ndim={len(input_shape)}. Full shape received: "
                             f"{tuple(input_shape)}.")
        if None in input_shape[2:]:
            raise ValueError("ConvLSTM layers only support static input shapes for the "
                             "spatial dimension and the channels. Received invalid input "
                             f"shape: input_shape={tuple(input_shape)}")

    def _output_spatial(self, input_shape: tuple) -> tuple[int, ...]:
        """``out`` per spatial axis (:func:`~minired.layers.convolutional.im2col.output_size`)."""
        out = tuple(im2col.output_size(n, k, s, d, self.padding) for n, k, s, d in zip(
            input_shape[2:-1], self.kernel_size, self.strides, self.dilation_rate,
            strict=True))
        if any(o <= 0 for o in out):
            raise ValueError(
                "Computed output size would be zero or negative. Received "
                f"`inputs shape={tuple(input_shape)}`, `kernel_size={self.kernel_size}`, "
                f"`dilation_rate={self.dilation_rate}`, `strides={self.strides}`, "
                f"`padding={self.padding}`. Use padding='same' or a smaller kernel.")
        return out

    def build(self, input_shape: tuple) -> None:
        """Create ``W`` ``(*k, C, 4F)``, ``U`` ``(*k, F, 4F)`` and ``b`` ``(4F,)``."""
        input_shape = tuple(input_shape)
        self._check_input_shape(input_shape)
        self._output_spatial(input_shape)
        dtype, f = self._float_dtype(), self.filters
        self.kernel = np.asarray(self.kernel_initializer(
            (*self.kernel_size, input_shape[-1], 4 * f), dtype=dtype))
        self.recurrent_kernel = np.asarray(self.recurrent_initializer(
            (*self.kernel_size, f, 4 * f), dtype=dtype))
        self.kernel_gradient = np.zeros_like(self.kernel)
        self.recurrent_kernel_gradient = np.zeros_like(self.recurrent_kernel)
        if self.use_bias:
            if self.unit_forget_bias:     # Keras: [init(F), ones(F), init(2F)]
                parts = [self.bias_initializer((f,), dtype=dtype),
                         initializers.get("ones")((f,), dtype=dtype),
                         self.bias_initializer((2 * f,), dtype=dtype)]
                self.bias = np.concatenate([np.asarray(p) for p in parts]).astype(dtype)
            else:
                self.bias = np.asarray(self.bias_initializer((4 * f,), dtype=dtype))
            self.bias_gradient = np.zeros_like(self.bias)
        if self.stateful and input_shape[0] is not None:
            self._zero_states(input_shape[0], self._output_spatial(input_shape))
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        self._check_input_shape(input_shape)
        if input_shape[-1] != self.kernel.shape[-2]:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value "
                             f"{self.kernel.shape[-2]}, but received input with shape "
                             f"{tuple(input_shape)}.")
        built = self.input_shape[2:-1] if self.input_shape is not None else None
        if built is not None and tuple(input_shape[2:-1]) != tuple(built):
            # Keras' cell keeps InputSpec(shape=(None, *spatial, C)) from its build
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected spatial shape {tuple(built)} (the shape it was built "
                             f"with), found shape {tuple(input_shape)}.")
        self._output_spatial(input_shape)

    def compute_output_shape(self, input_shape: tuple):
        """``(N, *out, F)`` (``(N, T, *out, F)`` with ``return_sequences``), and with
        ``return_state`` the two states ``(N, *out, F)`` after it."""
        batch, steps = input_shape[0], input_shape[1]
        state = (batch, *self._output_spatial(tuple(input_shape)), self.filters)
        output = (batch, steps, *state[1:]) if self.return_sequences else state
        return [output, state, state] if self.return_state else output

    def compute_mask(self, inputs, mask):
        """Keras' ``ConvLSTM.compute_mask``: the sequence keeps its mask
        (``return_sequences``), the last output and the states have none."""
        if isinstance(mask, list | tuple):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

    def _forward_with_mask(self, inputs, training: bool, mask):
        """As :meth:`BaseRNN._forward_with_mask`: a graph call with ``initial_state`` does
        not receive the mask of its sequences (Keras)."""
        if isinstance(inputs, CallArguments):
            mask = None
        return super()._forward_with_mask(inputs, training, mask)

    def _checked_call_mask(self, mask, inputs):
        """A mask given by hand: ``(N, T)`` too (Keras' RNN expands it), checked in
        :meth:`forward` against the time steps and the positions of ``h``."""
        if mask is not None and np.ndim(mask) == 2:
            return np.asarray(mask).astype(bool)
        return super()._checked_call_mask(mask, inputs)

    def _time_mask(self, mask, shape: tuple, out: tuple) -> np.ndarray:
        """The mask as booleans, ``(N, T)`` (one per step) or ``(N, T, *out)`` (one per
        position of ``h``: a Masking layer's mask when ``h`` keeps the input's size)."""
        keep = np.asarray(mask[0] if isinstance(mask, list | tuple) else mask)
        if keep.shape not in (tuple(shape[:2]), (*shape[:2], *out)):
            raise ValueError(f"{type(self).__name__} {self.name!r}: `mask` must have shape "
                             f"(batch, timesteps) = {tuple(shape[:2])} or (batch, timesteps, "
                             f"*output spatial) = {(*shape[:2], *out)} (Keras sets the states "
                             f"per position with it); got {keep.shape}.")
        return keep.astype(bool)

    #: the kernel, the recurrent kernel and the bias, as the other recurrent layers
    _weight_triples = BaseRNN._weight_triples

    def _keras_weight_groups(self) -> list[tuple[str, list]]:
        """Keras keeps the weights in the layer's ``cell`` (``…/cell/vars/0..2``)."""
        return [("", []), ("cell", self.weights)]

    def _keras_weight_names(self) -> list[str]:
        """Keras' names of the weights, under its cell (the legacy ``.h5`` paths)."""
        names = ["kernel", "recurrent_kernel"] + (["bias"] if self.use_bias else [])
        return [f"conv_lstm_cell/{name}" for name in names]

    # -- calling ------------------------------------------------------------------------------
    def __call__(self, sequences, *args, **kwargs):
        """Keras' call, ``layer(sequences, initial_state=None, mask=None, training=None)``;
        ``initial_state`` is ``[h_0, c_0]``, each ``(N, *out, F)``."""
        return rnn_call(self, super().__call__, sequences, args, kwargs,
                        self._check_initial_state)

    def _check_initial_state(self, initial_state, input_shape: tuple,
                             owner: str | None = None) -> list:
        """``[h_0, c_0]``, each checked to be ``(N, *out, F)``."""
        owner = owner or f"{type(self).__name__} {self.name!r}"
        states = (list(initial_state) if isinstance(initial_state, list | tuple)
                  else [initial_state])
        if len(states) != 2:
            raise ValueError(f"{owner}: `initial_state` must be a list of 2 tensors [h, c]; "
                             f"got {len(states)}.")
        states = [s if isinstance(s, KerasTensor | np.ndarray) else np.asarray(s)
                  for s in states]
        expected = (input_shape[0], *self._output_spatial(input_shape), self.filters)
        for i, state in enumerate(states):
            shape = tuple(state.shape)
            if len(shape) != len(expected) or any(
                    None not in (a, b) and a != b for a, b in zip(shape, expected,
                                                                  strict=True)):
                raise ValueError(f"{owner}: `initial_state[{i}]` must have shape {expected} "
                                 f"(batch, *output spatial, filters); got shape {shape}.")
        return states

    def _zero_states(self, batch: int, out: tuple) -> None:
        dtype = self._float_dtype()
        self.states = [np.zeros((batch, *out, self.filters), dtype=dtype) for _ in range(2)]

    def reset_state(self) -> None:
        """Keras' ``reset_state()``: a stateful layer's carried states back to zeros."""
        if self.states is not None:
            self.states = [np.zeros_like(s) for s in self.states]

    def reset_states(self) -> None:
        """Keras' alias of :meth:`reset_state`."""
        self.reset_state()

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs, training: bool = False, mask=None):
        """The time loop over ``inputs`` ``(N, T, *spatial, C)`` (or :class:`CallArguments`
        holding them and ``initial_state``); ``mask`` ``(N, T)`` or ``(N, T, *out)``, False
        where a step (a position) keeps its states and output."""
        x, initial = checked_sequence(self, inputs)
        n, steps = x.shape[:2]
        out = self._output_spatial(x.shape)
        keep = None if mask is None else self._time_mask(mask, x.shape, out)
        if self.go_backwards:
            x = x[:, ::-1]
            keep = None if keep is None else keep[:, ::-1]
        input_masks = recurrent_masks = None        # (4, N, *spatial, C), (4, N, *out, F)
        if training and 0 < self.dropout < 1:
            input_masks = self._dropout_mask((4, n, *x.shape[2:]), self.dropout, x.dtype)
        if training and 0 < self.recurrent_dropout < 1:
            recurrent_masks = self._dropout_mask((4, n, *out, self.filters),
                                                 self.recurrent_dropout, x.dtype)
        xw = self._input_convolution(x, input_masks)       # x_t ∗ W for every t (+ b)
        if self.stateful:
            if self.states is None:
                self._zero_states(n, out)
            if self.states[0].shape[0] != n:
                raise ValueError(f"{type(self).__name__} {self.name!r} is stateful: the batch "
                                 f"size must stay {self.states[0].shape[0]}; got {n}.")
        if initial is not None:
            h, c = (np.asarray(s, dtype=x.dtype) for s in initial)
        elif self.stateful:
            h, c = self.states
        else:
            h = c = np.zeros((n, *out, self.filters), dtype=x.dtype)
        def step(xw_t, states):                             # one step of the cell
            h, c, cache = self._step(xw_t, *states, recurrent_masks)
            return h, (h, c), cache

        outputs, (h, c), steps_cache = time_loop(step, xw, (h, c), keep,   # the time loop
                                                 self.zero_output_for_mask)
        self.cache = ConvLSTMCache(x, input_masks, recurrent_masks, steps_cache,
                                   initial is not None, keep)
        if self.stateful:                                   # constants of the next call
            self.states = [np.array(h), np.array(c)]
        output = outputs if self.return_sequences else outputs[:, -1]
        return [output, h, c] if self.return_state else output

    def _dropout_mask(self, shape: tuple, rate: float, dtype) -> np.ndarray:
        """Keras' dropout mask: 0 with probability ``rate``, else ``1/(1-rate)``."""
        kept = self.generator.random(shape) >= rate
        return kept.astype(dtype) * dtype.type(1 / (1 - rate))

    def _input_convolution(self, x: np.ndarray, masks) -> np.ndarray:
        """``x_t ∗ W + b`` for every step at once: ``(N, T, *out, 4F)`` (with per-gate
        dropout masks, gate g's block is ``(x_t ⊙ m_g) ∗ W_g + b_g``)."""
        n, steps = x.shape[:2]
        frames = x.reshape(n * steps, *x.shape[2:])         # (N·T, *spatial, C)
        if masks is None:
            z = self._conv(frames, self.kernel)
        else:
            f = self.filters
            z = np.concatenate([self._conv(_masked_frames(x, m), self.kernel[..., g * f:
                                                                              (g + 1) * f])
                                for g, m in enumerate(masks)], axis=-1)
        if self.use_bias:
            z += self.bias
        return z.reshape(n, steps, *z.shape[1:])

    def _conv(self, frames: np.ndarray, kernel: np.ndarray, recurrent: bool = False
              ) -> np.ndarray:
        """``frames ∗ kernel`` ``(B, *out, F')`` as ``cols(frames) · kernel``; the
        recurrent convolution has stride 1, no dilation and padding "same"."""
        cols, out_shape = self._cols(frames, recurrent)
        z = cols @ kernel.reshape(-1, kernel.shape[-1])
        return z.reshape(*out_shape, kernel.shape[-1])

    def _cols(self, frames: np.ndarray, recurrent: bool = False) -> tuple[np.ndarray, tuple]:
        """The patch matrix ``(B·P, k·C)`` of ``frames`` ``(B, *spatial, C)``, and
        ``(B, *out)``."""
        strides, dilation, padding = self._window(recurrent)
        windows = im2col.patches(frames, self.kernel_size, strides, dilation, padding)
        out_shape = windows.shape[:self.rank + 1]
        return windows.reshape(math.prod(out_shape), -1), out_shape

    def _window(self, recurrent: bool) -> tuple:
        if recurrent:
            return (1,) * self.rank, (1,) * self.rank, "same"
        return self.strides, self.dilation_rate, self.padding

    def _conv_backward(self, frames: np.ndarray, kernel: np.ndarray, grad_z: np.ndarray,
                       kernel_gradient: np.ndarray, recurrent: bool = False,
                       input_gradient: bool = True) -> np.ndarray | None:
        """The backward of :meth:`_conv` given ``δz`` ``(B, *out, F')``: adds
        ``cols(frames)ᵀ δz`` to ``kernel_gradient`` (a view of the layer's gradient) and
        returns ``δframes = col2im(δz kernelᵀ)`` (or None)."""
        cols, _ = self._cols(frames, recurrent)
        flat = grad_z.reshape(-1, grad_z.shape[-1])
        kernel_gradient += (cols.T @ flat).reshape(kernel_gradient.shape)
        if not input_gradient:
            return None
        strides, dilation, padding = self._window(recurrent)
        return im2col.scatter_patch_products(flat, kernel, frames.shape, strides, dilation,
                                             padding)

    def _step(self, xw_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, masks):
        """One step of the cell: ``h_t``, ``c_t`` and what its backward needs."""
        f = self.filters
        z = xw_t + self._recurrent_convolution(h_prev, masks)   # (x ∗ W + b) + h ∗ U
        sigma, act = self.recurrent_activation, self.activation
        i, forget = sigma(z[..., :f]), sigma(z[..., f:2 * f])
        g, o = act(z[..., 2 * f:3 * f]), sigma(z[..., 3 * f:])
        c = forget * c_prev + i * g                             # c_t = f ⊙ c_{t-1} + i ⊙ g
        fc = act(c)
        h = o * fc                                              # h_t = o ⊙ f(c_t)
        return h, c, LSTMStep(h_prev, c_prev, z, i, forget, g, o, c, fc)

    def _recurrent_convolution(self, h: np.ndarray, masks) -> np.ndarray:
        """``h ∗ U`` ``(N, *out, 4F)``; with recurrent dropout gate g's block is
        ``(h ⊙ r_g) ∗ U_g``."""
        if masks is None:
            return self._conv(h, self.recurrent_kernel, recurrent=True)
        f = self.filters
        return np.concatenate([self._conv(h * r, self.recurrent_kernel[..., g * f:(g + 1) * f],
                                          recurrent=True) for g, r in enumerate(masks)],
                              axis=-1)

    def _step_backward(self, step: LSTMStep, d_h: np.ndarray, d_c: np.ndarray, masks
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``δz_t``, ``δh_{t-1}`` and ``δc_{t-1}`` from ``δh_t`` and ``δc_t``; adds
        ``∂L/∂U``."""
        h_prev, c_prev, z, i, forget, g, o, c, fc = step
        f = self.filters
        sigma, act = self.recurrent_activation, self.activation
        d_o = d_h * fc                                          # δo = δh ⊙ f(c)
        d_c = d_c + act.backward(c, fc, d_h * o)                # δc += f'(c) ⊙ (δh ⊙ o)
        d_z = np.empty_like(z)
        d_z[..., :f] = sigma.backward(z[..., :f], i, d_c * g)                   # δz_i
        d_z[..., f:2 * f] = sigma.backward(z[..., f:2 * f], forget, d_c * c_prev)  # δz_f
        d_z[..., 2 * f:3 * f] = act.backward(z[..., 2 * f:3 * f], g, d_c * i)   # δz_c
        d_z[..., 3 * f:] = sigma.backward(z[..., 3 * f:], o, d_o)               # δz_o
        # ∂L/∂U += cols(h_{t-1})ᵀ δz     δh_{t-1} = col2im(δz Uᵀ)   (per gate with masks)
        if masks is None:
            d_h_prev = self._conv_backward(h_prev, self.recurrent_kernel, d_z,
                                           self.recurrent_kernel_gradient, recurrent=True)
        else:
            d_h_prev = np.zeros_like(h_prev)
            for gate, r in enumerate(masks):
                block = slice(gate * f, (gate + 1) * f)
                d_h_prev += r * self._conv_backward(
                    h_prev * r, self.recurrent_kernel[..., block], d_z[..., block],
                    self.recurrent_kernel_gradient[..., block], recurrent=True)
        return d_z, d_h_prev, d_c * forget                      # δc_{t-1} = δc ⊙ f

    def backward(self, grad_outputs, input_gradient: bool = True):
        """Backpropagation through time (see the class docstring): returns ``δx`` (and
        ``δh_0``, ``δc_0`` after it when the call had ``initial_state``)."""
        x, input_masks, recurrent_masks, steps_cache, initial, keep = self.cache
        n, steps = x.shape[:2]
        grads = list(grad_outputs) if self.return_state else [grad_outputs, None, None]
        grad_output = grads[0]
        state_shape = steps_cache[0].c.shape
        d_h, d_c = (np.zeros(state_shape, dtype=x.dtype) if g is None
                    else np.asarray(g, dtype=x.dtype) for g in grads[1:])
        d_xw = np.empty((n, steps, *state_shape[1:-1], 4 * self.filters), dtype=x.dtype)

        def step_backward(cache, d_states):                 # one step of the cell's backward
            d_z, d_h_prev, d_c_prev = self._step_backward(cache, *d_states, recurrent_masks)
            return d_z, [d_h_prev, d_c_prev]

        d_h, d_c = time_loop_backward(step_backward, steps_cache, d_xw, grad_output,
                                      [d_h, d_c], keep, self.return_sequences,
                                      self.zero_output_for_mask)
        if self.use_bias:                                   # ∂L/∂b = Σ δz
            self.bias_gradient += d_xw.reshape(-1, d_xw.shape[-1]).sum(axis=0)
        grad_x = self._input_convolution_backward(x, input_masks, d_xw, input_gradient)
        if not input_gradient:
            return None
        grad_x = grad_x[:, ::-1] if self.go_backwards else grad_x
        return [grad_x, d_h, d_c] if initial else grad_x

    def _input_convolution_backward(self, x: np.ndarray, masks, d_xw: np.ndarray,
                                    input_gradient: bool) -> np.ndarray | None:
        """Adds ``∂L/∂W = Σ_t cols(x_t)ᵀ δz_t`` and returns ``δx`` (per gate with masks)."""
        n, steps = x.shape[:2]
        d_z = d_xw.reshape(n * steps, *d_xw.shape[2:])
        if masks is None:
            frames = x.reshape(n * steps, *x.shape[2:])
            d_frames = self._conv_backward(frames, self.kernel, d_z, self.kernel_gradient,
                                           input_gradient=input_gradient)
            return None if d_frames is None else d_frames.reshape(x.shape)
        f = self.filters
        grad_x = np.zeros_like(x) if input_gradient else None
        for gate, m in enumerate(masks):
            block = slice(gate * f, (gate + 1) * f)
            d_frames = self._conv_backward(_masked_frames(x, m), self.kernel[..., block],
                                           d_z[..., block], self.kernel_gradient[..., block],
                                           input_gradient=input_gradient)
            if input_gradient:
                grad_x += d_frames.reshape(x.shape) * m[:, None]     # δx_t ⊙ m_g
        return grad_x

    # -- config ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' ConvLSTM config, keys in its order."""
        serialize = serialization_lib.serialize_keras_object
        activation = serialization_lib.serialize_activation
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful,
            "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask,
            "filters": self.filters, "kernel_size": self.kernel_size,
            "strides": self.strides, "padding": self.padding,
            "data_format": self.data_format, "dilation_rate": self.dilation_rate,
            "activation": activation(self.activation),
            "recurrent_activation": activation(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "recurrent_initializer": serialize(self.recurrent_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "recurrent_regularizer": serialize(self.recurrent_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "activity_regularizer": serialize(self.activity_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "recurrent_constraint": serialize(self.recurrent_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class ConvLSTM1D(BaseConvLSTM):
    """1-D convolutional LSTM: sequences of 1-D signals ``(N, T, steps, C)`` (the math is
    :class:`BaseConvLSTM`'s, with ``x_t ∗ W`` a Conv1D).

    Example:
        >>> layer = ConvLSTM1D(2, 3, return_sequences=True)
        >>> layer(np.ones((2, 4, 6, 1), dtype="float32")).shape
        (2, 4, 4, 2)
    """

    rank = 1


class ConvLSTM2D(BaseConvLSTM):
    """2-D convolutional LSTM: sequences of images ``(N, T, rows, cols, C)``.

    Per step (see :class:`BaseConvLSTM` for the backward and the arguments)::

        z_t = (x_t ∗ W + b) + h_{t-1} ∗ U      i, f, o = σ(z_i, z_f, z_o)   g = tanh(z_c)
        c_t = f ⊙ c_{t-1} + i ⊙ g              h_t = o ⊙ tanh(c_t)

    Example:
        >>> layer = ConvLSTM2D(filters=2, kernel_size=3, padding="same")
        >>> layer(np.ones((2, 3, 5, 5, 1), dtype="float32")).shape
        (2, 5, 5, 2)
        >>> [w.shape for w in layer.get_weights()]
        [(3, 3, 1, 8), (3, 3, 2, 8), (8,)]
    """

    rank = 2


class ConvLSTM3D(BaseConvLSTM):
    """3-D convolutional LSTM: sequences of volumes ``(N, T, depth, rows, cols, C)`` (the
    math is :class:`BaseConvLSTM`'s, with ``x_t ∗ W`` a Conv3D).

    Example:
        >>> layer = ConvLSTM3D(2, 2)
        >>> layer(np.ones((1, 2, 3, 3, 3, 1), dtype="float32")).shape
        (1, 2, 2, 2, 2)
    """

    rank = 3


class ConvLSTMCache(NamedTuple):
    """What one call keeps for backpropagation through time."""

    x: np.ndarray                   #: the inputs in processing order (N, T, *spatial, C)
    input_masks: np.ndarray | None  #: dropout masks (4, N, *spatial, C), or None
    recurrent_masks: np.ndarray | None  #: recurrent dropout masks (4, N, *out, F), or None
    steps: list                     #: each step's LSTMStep (images)
    initial: bool                   #: whether the call was given ``initial_state``
    #: the time mask in processing order, (N, T) or (N, T, *out), or None
    keep: np.ndarray | None = None


def _masked_frames(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``x_t ⊙ m`` for every step, as frames ``(N·T, *spatial, C)`` (one mask per sequence)."""
    n, steps = x.shape[:2]
    return (x * mask[:, None]).reshape(n * steps, *x.shape[2:])

