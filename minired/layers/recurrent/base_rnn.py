"""The time loop shared by the recurrent layers: forward over t = 1..T, backward through time."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from minired import activations, constraints, initializers, regularizers
from minired.autodiff.layer_calls import CallArguments
from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import Layer
from minired.saving import serialization_lib
from minired.utils.rng_utils import make_generator

#: The constraint arguments, taken from ``**kwargs`` (see mr.constraints).
CONSTRAINT_ARGUMENTS = ("kernel_constraint", "recurrent_constraint", "bias_constraint")

#: The constructor arguments every recurrent layer hands on to :class:`BaseRNN` unchanged.
CELL_ARGUMENTS = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                  "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
                  "bias_regularizer", "dropout", "recurrent_dropout", "seed")


def cell_arguments(arguments: dict) -> dict:
    """The :data:`CELL_ARGUMENTS` picked out of a layer's constructor arguments (its
    ``locals()``), to pass on as ``super().__init__(units, **cell_arguments(locals()),
    **kwargs)``.

    Example:
        >>> given = {"self": None, "units": 3, **dict.fromkeys(CELL_ARGUMENTS, 0)}
        >>> cell_arguments(given) == dict.fromkeys(CELL_ARGUMENTS, 0)
        True
    """
    return {name: arguments[name] for name in CELL_ARGUMENTS}


class BaseRNN(Layer):
    """A layer that runs one recurrent *cell* over the time axis of ``(N, T, in)`` inputs.

    The shared loop (the cells are in :class:`~minired.layers.SimpleRNN`,
    :class:`~minired.layers.LSTM` and :class:`~minired.layers.GRU`)::

        X W                               one product for all steps: (N, T, k·units)
        s_0 = initial_state or 0          the states (h, or h and c); zeros as in Keras
        for t = 1..T:  h_t, s_t = cell(x_t W, s_{t-1})     the only Python loop (time_loop,
                                                           shared with the ConvLSTMs)
        output = [h_1 … h_T] (return_sequences) or h_T

    ``initial_state`` (``layer(x, initial_state=[h_0])``, LSTM ``[h_0, c_0]``, each
    ``(N, units)``) starts the loop from given states, e.g. an encoder's final states in a
    sequence-to-sequence model; they are inputs of the call, with their own gradient.

    Backward (backpropagation through time), given ``δh_t = ∂L/∂h_t`` from the layer above
    (every step with ``return_sequences``, else the last one) and ``δs_T`` (with
    ``return_state``), for t = T..1::

        δ(x_t W), δs_{t-1} = cell_backward(δh_t + δs_t)      also adds ∂L/∂U of step t
        ∂L/∂W = Σ_t x_tᵀ δ(x_t W)     ∂L/∂b = Σ_{n,t} δ(x_t W)     δx_t = δ(x_t W) Wᵀ
        δs_0 = the δs_{t-1} the loop leaves at t = 1:  δh_0 (LSTM also δc_0), the
               gradient of ``initial_state`` (returned after δx: ``[δx, δh_0(, δc_0)]``)

    A mask of the time steps, ``m`` of shape (N, T) (``layer(x, mask=m)``, or from an
    ``Embedding(mask_zero=True)`` before it), Keras' semantics: at a padding step
    (``m_t = 0``) a row keeps its states and output, and its δ skips the cell::

        s_t = m_t ⊙ cell(x_t W, s_{t-1}) + (1 - m_t) ⊙ s_{t-1}
        output_t = m_t ⊙ h_t + (1 - m_t) ⊙ output_{t-1}     output_0 = 0 (Keras' rule,
                   so a padding step before any real one outputs 0, even from a given h_0)
                   (m_t ⊙ h_t with ``zero_output_for_mask``)
        δs_{t-1} = cell_backward(m_t ⊙ δs_t) + (1 - m_t) ⊙ δs_t
        δoutput_{t-1} += (1 - m_t) ⊙ δoutput_t       (what reaches h_t: m_t ⊙ δoutput_t)

    ``go_backwards=True`` runs the loop over the reversed sequence, and (as Keras) returns
    the sequence of outputs in that processing order.

    Dropout, in training only, Keras' rule: masks of values 0 (probability ``rate``) or
    ``1/(1-rate)`` drawn once per call (per batch) and used at every step. ``dropout``
    masks the inputs, ``recurrent_dropout`` the state ``h_{t-1}`` where it meets ``U``;
    then the gated cells (as Keras' "implementation 1") use one mask per gate g (LSTM 4,
    GRU 3; ``m`` of shape (N, in) and ``r`` of shape (N, units))::

        z_t,g = (x_t ⊙ m_g) W_g + (h_{t-1} ⊙ r_g) U_g + b_g
        ∂L/∂W_g = Σ_t (x_t ⊙ m_g)ᵀ δz_t,g      ∂L/∂U_g += (h_{t-1} ⊙ r_g)ᵀ δz_t,g
        δx_t = Σ_g (δz_t,g W_gᵀ) ⊙ m_g         δh_{t-1} = Σ_g (δz_t,g U_gᵀ) ⊙ r_g (+ the
                                               cell's other uses of h_{t-1}, unmasked)

    ``stateful=True`` (Keras' rule): the final states of a call are the initial states of
    the next one (a batch continues the sequences of the previous batch, row by row), until
    :meth:`reset_state`. The batch size is fixed when the layer is built
    (``mr.Input(batch_shape=(batch, T, in))``), and the carried states are constants of the
    next call: its gradient stops at them (truncated backpropagation through time).

    Subclasses define ``_gates`` (k), ``_state_count``, ``_step`` and ``_step_backward``
    (one step of their cell, forward and backward), ``get_config`` and, if needed,
    ``_initial_bias``.

    Args:
        units: the size of the state ``h`` (a positive int).
        return_sequences: return every step's output ``(N, T, units)``, not just the last.
        return_state: also return the final states (``[output, h_T]``, LSTM
            ``[output, h_T, c_T]``).
        go_backwards: process the sequence from the last step to the first.
        stateful: carry the final states of each batch to the next (reset with
            :meth:`reset_state`); needs a fixed batch size.
        unroll: accepted, no effect (NumPy has no graph to unroll).
        dropout: fraction of the inputs dropped in training (one mask per sequence).
        recurrent_dropout: fraction of the state ``h_{t-1}`` dropped in training (one
            mask per sequence, per gate in LSTM and GRU).
        seed: seed of the dropout masks (None: minired's dropout stream).
        zero_output_for_mask: output 0 (not the previous output) at a masked step.
    """

    _gates = 1
    _state_count = 1
    _state_names = "[h]"
    _keras_build_config = True
    _keras_node_kwargs = {"training": False, "mask": None}   # Keras' node of a plain call

    _constrained_weights = (("kernel", "kernel_constraint"),
                            ("recurrent_kernel", "recurrent_constraint"),
                            ("bias", "bias_constraint"))

    def __init__(self, units: int, activation="tanh", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 **kwargs) -> None:
        cls = type(self).__name__
        for key in CONSTRAINT_ARGUMENTS:     # W ← c(W) after each optimizer step
            setattr(self, key, constraints.get(kwargs.pop(key, None)))
        # Keras' zero_output_for_mask acts on masked steps only (a Bidirectional sets it
        # to return_sequences).
        self.zero_output_for_mask = bool(kwargs.pop("zero_output_for_mask", False))
        use_cudnn = kwargs.pop("use_cudnn", "auto")
        if use_cudnn not in ("auto", True, False):
            raise ValueError("Invalid valid received for argument `use_cudnn`. Expected one "
                             f"of {{'auto', True, False}}. Received: use_cudnn={use_cudnn}")
        implementation = kwargs.pop("implementation", 2)
        if implementation not in (1, 2):
            raise ValueError(f"{cls}: `implementation` must be 1 or 2 (the same numbers).")
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units <= 0:
            raise ValueError(f"Received an invalid value for argument `units`, expected a "
                             f"positive integer, got {units!r}.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, int | float | np.number):
                raise TypeError(f"{cls}: `{name}` must be a float in [0, 1), got {rate!r}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = min(1.0, max(0.0, float(dropout)))      # Keras clips the rate
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        # Keras' cells switch to one mask per gate (their implementation 1) when
        # recurrent_dropout is used: 4 input and 4 recurrent masks (LSTM), 3 (GRU), 1 (SimpleRNN)
        self._mask_count = (self._gates if self._gates > 1 and (
            implementation == 1 or self.recurrent_dropout != 0) else 1)
        self._recurrent_masks = None        # (masks, N, units) during a training call
        self.seed = seed
        self.generator = make_generator(seed, stream="dropout")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.states = None              # stateful: the last call's final states [h(, c)]
        self.unroll = bool(unroll)
        self.use_cudnn = use_cudnn

    # -- weights ----------------------------------------------------------------------------
    def _check_input_shape(self, input_shape: tuple) -> None:
        if len(input_shape) != 3:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={len(input_shape)}. Full shape received: "
                             f"{tuple(input_shape)}.")
        if input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the number of features "
                             f"(the last axis) must be known, got {tuple(input_shape)}.")

    def build(self, input_shape: tuple) -> None:
        """Create ``W`` (in, k·units), ``U`` (units, k·units) and ``b`` (k·units,)."""
        self._check_input_shape(input_shape)
        dtype = self._float_dtype()
        width = self._gates * self.units
        self.kernel = np.asarray(self.kernel_initializer((input_shape[-1], width),
                                                         dtype=dtype))
        self.recurrent_kernel = np.asarray(self.recurrent_initializer((self.units, width),
                                                                      dtype=dtype))
        self.kernel_gradient = np.zeros_like(self.kernel)
        self.recurrent_kernel_gradient = np.zeros_like(self.recurrent_kernel)
        if self.use_bias:
            self.bias = np.asarray(self._initial_bias(dtype), dtype=dtype)
            self.bias_gradient = np.zeros_like(self.bias)
        if self.stateful and input_shape[0] is not None:    # s_0 = 0 for the first batch
            self._zero_states(input_shape[0])
        super().build(input_shape)

    def _zero_states(self, batch: int) -> None:
        """``states``, the carried states of a stateful layer: zeros, (batch, units) each."""
        self.states = [np.zeros((batch, self.units), dtype=self._float_dtype())
                       for _ in range(self._state_count)]

    def _initial_bias(self, dtype) -> np.ndarray:
        return self.bias_initializer((self._gates * self.units,), dtype=dtype)

    def _check_call_shape(self, input_shape) -> None:
        self._check_input_shape(input_shape)
        if input_shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value "
                             f"{self.kernel.shape[0]}, but received input with shape "
                             f"{tuple(input_shape)}.")

    def _weight_triples(self) -> list:
        if not self.built:
            return []
        triples = [(self.kernel, self.kernel_gradient, self.kernel_regularizer),
                   (self.recurrent_kernel, self.recurrent_kernel_gradient,
                    self.recurrent_regularizer)]
        if self.use_bias:
            triples.append((self.bias, self.bias_gradient, self.bias_regularizer))
        return triples

    def _keras_weight_groups(self) -> list[tuple[str, list]]:
        """Where a ``.keras`` file keeps the weights (see minired.saving.saving_lib): Keras
        holds them in the layer's ``cell``, ``layers/lstm/cell/vars/0..2``, and writes an
        empty ``layers/lstm/vars``."""
        return [("", []), ("cell", self.weights)]

    def _keras_weight_names(self) -> list[str]:
        """Keras' names of the weights, under its cell (``lstm_cell/kernel``...): the
        legacy ``.h5`` file's paths (see minired.saving.legacy_h5.weight_paths)."""
        from minired.utils.naming import to_snake_case

        cell = f"{to_snake_case(type(self).__name__)}_cell"
        names = ["kernel", "recurrent_kernel"] + (["bias"] if self.use_bias else [])
        return [f"{cell}/{name}" for name in names]

    def compute_output_shape(self, input_shape: tuple):
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output] + [(batch, self.units)] * self._state_count
        return output

    # -- calling --------------------------------------------------------------------------
    def __call__(self, sequences, *args, **kwargs):
        """Keras' call, ``layer(sequences, initial_state=None, mask=None, training=None)``.

        With ``initial_state`` (a list of ``_state_count`` tensors, each ``(N, units)``;
        one tensor alone for a one-state layer) the call's inputs are the sequences and the
        states: one node of a graph with them all as inputs, recorded as given (Keras'
        node: ``kwargs={"initial_state": [...]}``), and ``backward`` returns
        ``[δx, δh_0(, δc_0)]``. In a graph such a call, as in Keras, does not receive the
        mask of its sequences (see :meth:`_forward_with_mask`)."""
        return rnn_call(self, super().__call__, sequences, args, kwargs,
                        self._check_initial_state)

    def _forward_with_mask(self, inputs, training: bool, mask):
        """Keras fills in the mask of the inputs only for a call on one tensor: a call
        with ``initial_state`` in a graph runs without it (its output keeps the mask)."""
        if isinstance(inputs, CallArguments):
            mask = None
        return super()._forward_with_mask(inputs, training, mask)

    def _check_initial_state(self, initial_state, input_shape: tuple,
                             owner: str | None = None) -> list:
        """``initial_state`` as a list of ``_state_count`` tensors (arrays or symbolic),
        each checked to be ``(batch, units)``; else a ValueError naming what came."""
        owner = owner or f"{type(self).__name__} {self.name!r}"
        states = (list(initial_state) if isinstance(initial_state, list | tuple)
                  else [initial_state])
        if len(states) != self._state_count:
            raise ValueError(f"{owner}: `initial_state` must be a list of "
                             f"{self._state_count} tensor(s) {self._state_names}, each of "
                             f"shape (batch, {self.units}); got {len(states)}.")
        states = [s if isinstance(s, KerasTensor | np.ndarray) else np.asarray(s)
                  for s in states]
        for i, state in enumerate(states):
            shape = tuple(state.shape)
            batch = input_shape[0] if len(input_shape) else None
            if (len(shape) != 2 or shape[1] != self.units
                    or (None not in (shape[0], batch) and shape[0] != batch)):
                raise ValueError(f"{owner}: `initial_state[{i}]` must have shape (batch, "
                                 f"{self.units}) with the batch of the sequences "
                                 f"{tuple(input_shape)}; got shape {shape}.")
        return states

    # -- the two passes ---------------------------------------------------------------------
    def forward(self, inputs, training: bool = False, mask=None):
        """The time loop. ``inputs``: the sequences ``(N, T, in)``, or
        :class:`CallArguments` holding them and ``initial_state`` (from :meth:`__call__`).

        ``mask`` (N, T), False at the padding steps, as Keras: a masked step keeps the
        previous states, ``s_t = s_{t-1}``, and outputs the previous output (0 before the
        first real step, and always with ``zero_output_for_mask``); its δ passes straight
        to step t-1."""
        if self.use_cudnn is True:     # Keras, on a machine without cuDNN: at the call
            raise ValueError("use_cudnn=True was specified, but cuDNN is not supported for "
                             "this layer configuration with this backend. Pass "
                             "use_cudnn='auto' to fallback to a non-cuDNN implementation.")
        x, initial = checked_sequence(self, inputs)
        keep = None if mask is None else self._time_mask(mask, x.shape)
        if self.go_backwards:
            x = x[:, ::-1]
            keep = None if keep is None else keep[:, ::-1]
        dropout_mask = None
        if training and 0 < self.dropout < 1:
            shape = (x.shape[0], x.shape[2])
            if self._mask_count > 1:                    # one mask per gate, (k, N, in)
                shape = (self._mask_count, *shape)
            dropout_mask = self._dropout_mask(shape, self.dropout, x.dtype)
            if self._mask_count == 1:
                x = x * dropout_mask[:, None, :]        # the same mask at every step
        n, steps, _ = x.shape
        self._recurrent_masks = None
        if training and 0 < self.recurrent_dropout < 1:     # (k, N, units), every step
            self._recurrent_masks = self._dropout_mask((self._mask_count, n, self.units),
                                                       self.recurrent_dropout, x.dtype)
        xw = self._inputs_times_kernel(x, dropout_mask)     # x_t W for every t: (N, T, k·u)
        if self.stateful and self.states is None:      # first call on arrays
            self._zero_states(n)
        if self.stateful:
            self._check_stateful_batch(n)
        if initial is None and self.stateful:           # s_0 = the last call's s_T
            states = tuple(self.states)
        elif initial is None:                           # s_0 = 0
            states = tuple(np.zeros((n, self.units), dtype=x.dtype)
                           for _ in range(self._state_count))
        else:                                           # s_0 = initial_state
            states = tuple(np.asarray(s, dtype=x.dtype) for s in initial)
        outputs, states, steps_cache = time_loop(self._step, xw, states, keep,
                                                 self.zero_output_for_mask)
        self.cache = RNNCache(x, dropout_mask, steps_cache, keep, initial is not None,
                              self._recurrent_masks)
        if self.stateful:                               # carried to the next call, as
            self.states = [np.array(s) for s in states]     # constants (truncated BPTT)
        output = outputs if self.return_sequences else outputs[:, -1]
        if self.return_state:
            return [output, *states]
        return output

    def compute_mask(self, inputs, mask):
        """Keras' ``RNN.compute_mask``: the sequence keeps its mask (``return_sequences``),
        the last output and the states have none."""
        if isinstance(mask, list | tuple):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self._state_count
        return output_mask

    def _time_mask(self, mask, shape: tuple) -> np.ndarray:
        keep = np.asarray(mask)
        if keep.shape != shape[:2]:
            raise ValueError(f"{type(self).__name__} {self.name!r}: `mask` must have shape "
                             f"(batch, timesteps) = {shape[:2]}, got {keep.shape}.")
        return keep.astype(bool)

    def backward(self, grad_outputs, input_gradient: bool = True):
        x, dropout_mask, steps_cache, keep, _, self._recurrent_masks = self.cache
        n, steps, _ = x.shape
        grads = list(grad_outputs) if self.return_state else [grad_outputs]
        grad_output = grads[0]
        d_states = [np.zeros((n, self.units), dtype=x.dtype) if g is None
                    else np.asarray(g, dtype=x.dtype) for g in grads[1:]]
        if not self.return_state:
            d_states = [np.zeros((n, self.units), dtype=x.dtype)
                        for _ in range(self._state_count)]
        d_xw = np.empty((n, steps, self.kernel.shape[1]), dtype=x.dtype)
        d_states = time_loop_backward(self._step_backward, steps_cache, d_xw, grad_output,
                                      d_states, keep, self.return_sequences,
                                      self.zero_output_for_mask)
        # ∂L/∂W = Σ_t x_tᵀ δ(x_t W), and δx_t = δ(x_t W) Wᵀ
        grad_x = self._inputs_times_kernel_backward(x, dropout_mask, d_xw, input_gradient)
        if self.use_bias:
            self._add_input_bias_gradient(d_xw.reshape(-1, d_xw.shape[-1]).sum(axis=0))
        if not input_gradient:
            return None
        grad_x = grad_x[:, ::-1] if self.go_backwards else grad_x
        if self.cache.initial:                          # one δ per input: δx, δs_0
            return [grad_x, *d_states]
        return grad_x

    def _add_input_bias_gradient(self, grad: np.ndarray) -> None:
        self.bias_gradient += grad                      # ∂L/∂b = Σ_{n,t} δz

    def reset_state(self) -> None:
        """Keras' ``reset_state()``: a stateful layer's carried states back to zeros (the
        next call starts from s_0 = 0). Does nothing if the layer holds no states."""
        if self.states is not None:
            self.states = [np.zeros_like(s) for s in self.states]

    def reset_states(self) -> None:
        """Keras' alias of :meth:`reset_state`."""
        self.reset_state()

    def _check_stateful_batch(self, batch: int) -> None:
        expected = self.states[0].shape[0]
        if batch != expected:                           # Keras' message
            raise ValueError(f"If an RNN is stateful, the batch size of the input sequences "
                             f"must be the same as the batch size of the initial state. \n"
                             f"- Expected batch size: {expected}\n"
                             f"- Received batch size: {batch}\n"
                             f"({type(self).__name__} {self.name!r}: give fit/predict/evaluate "
                             f"batch_size={expected} and a number of samples divisible by it.)")

    # -- dropout: one mask per call, used at every step --------------------------------------
    def _dropout_mask(self, shape: tuple, rate: float, dtype) -> np.ndarray:
        """Keras' dropout mask: 0 with probability ``rate``, else ``1/(1-rate)``."""
        kept = self.generator.random(shape) >= rate
        return kept.astype(dtype) * dtype.type(1 / (1 - rate))

    def _inputs_times_kernel(self, x: np.ndarray, masks) -> np.ndarray:
        """``x W`` for every step; with one input mask per gate ``(k, N, in)`` (Keras'
        implementation 1), each gate's block ``(x ⊙ m_g) W_g``."""
        if masks is None or masks.ndim == 2:
            return x @ self.kernel
        u = self.units
        return np.concatenate([(x * m[:, None, :]) @ self.kernel[:, g * u:(g + 1) * u]
                               for g, m in enumerate(masks)], axis=-1)

    def _inputs_times_kernel_backward(self, x: np.ndarray, masks, d_xw: np.ndarray,
                                      input_gradient: bool):
        """Adds ``∂L/∂W = Σ_t x_tᵀ δ(x_t W)`` and returns ``δx = δ(x W) Wᵀ`` (or None);
        with per-gate masks ``∂L/∂W_g = Σ_t (x_t ⊙ m_g)ᵀ δ_g`` and
        ``δx = Σ_g (δ_g W_gᵀ) ⊙ m_g``."""
        flat_d = d_xw.reshape(-1, d_xw.shape[-1])
        if masks is None or masks.ndim == 2:            # x is already x ⊙ m
            self.kernel_gradient += x.reshape(-1, x.shape[-1]).T @ flat_d
            if not input_gradient:
                return None
            grad_x = d_xw @ self.kernel.T
            return grad_x if masks is None else grad_x * masks[:, None, :]
        u = self.units
        grad_x = np.zeros_like(x)
        for g, m in enumerate(masks):
            block = slice(g * u, (g + 1) * u)
            x_g = (x * m[:, None, :]).reshape(-1, x.shape[-1])
            self.kernel_gradient[:, block] += x_g.T @ flat_d[:, block]
            if input_gradient:
                grad_x += (d_xw[..., block] @ self.kernel[:, block].T) * m[:, None, :]
        return grad_x if input_gradient else None

    def _recurrent_masked(self, h: np.ndarray, gate: int) -> np.ndarray:
        """``h ⊙ m_gate`` under recurrent dropout (training), else ``h``."""
        return h if self._recurrent_masks is None else h * self._recurrent_masks[gate]

    def _recurrent_product(self, h: np.ndarray, first: int = 0,
                           last: int | None = None) -> np.ndarray:
        """``h U`` over the gates ``first..last-1`` (``U[:, first·u:last·u]``); under
        recurrent dropout each gate's block is ``(h ⊙ m_g) U_g`` (Keras' rule)."""
        u, last = self.units, self._gates if last is None else last
        if self._recurrent_masks is None:
            return h @ self.recurrent_kernel[:, first * u:last * u]
        return np.concatenate([self._recurrent_masked(h, g)
                               @ self.recurrent_kernel[:, g * u:(g + 1) * u]
                               for g in range(first, last)], axis=1)

    def _recurrent_product_backward(self, h: np.ndarray, d: np.ndarray, first: int = 0,
                                    last: int | None = None) -> np.ndarray:
        """The backward of :meth:`_recurrent_product` given ``d`` = its δ: adds
        ``∂L/∂U_g += (h ⊙ m_g)ᵀ δ_g`` and returns ``δh = Σ_g (δ_g U_gᵀ) ⊙ m_g`` (without
        dropout ``h U`` gives ``∂L/∂U += hᵀ δ`` and ``δh = δ Uᵀ``)."""
        u, last = self.units, self._gates if last is None else last
        columns = slice(first * u, last * u)
        if self._recurrent_masks is None:
            self.recurrent_kernel_gradient[:, columns] += h.T @ d
            return d @ self.recurrent_kernel[:, columns].T
        d_h = np.zeros_like(h)
        for g in range(first, last):
            block, d_g = slice(g * u, (g + 1) * u), d[:, (g - first) * u:(g - first + 1) * u]
            self.recurrent_kernel_gradient[:, block] += self._recurrent_masked(h, g).T @ d_g
            d_h += self._recurrent_masked(d_g @ self.recurrent_kernel[:, block].T, g)
        return d_h

    # -- config -----------------------------------------------------------------------------
    def _rnn_config(self) -> dict:
        """The keys Keras' ``RNN.get_config`` writes before the cell's."""
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def _head_config(self) -> dict:
        """The keys a cell's config starts with, in Keras' order: RNN's, then ``units``,
        ``activation``, ``recurrent_activation`` (the gated cells, LSTM and GRU) and
        ``use_bias``."""
        config = {**self._rnn_config(), "units": self.units,
                  "activation": serialization_lib.serialize_activation(self.activation)}
        if hasattr(self, "recurrent_activation"):
            config["recurrent_activation"] = serialization_lib.serialize_activation(
                self.recurrent_activation)
        config["use_bias"] = self.use_bias
        return config

    def _cell_config(self) -> dict:
        serialize = serialization_lib.serialize_keras_object
        return {
            "kernel_initializer": serialize(self.kernel_initializer),
            "recurrent_initializer": serialize(self.recurrent_initializer),
            "bias_initializer": serialize(self.bias_initializer),
        }

    def _regularizers_config(self) -> dict:
        serialize = serialization_lib.serialize_keras_object
        return {
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "recurrent_regularizer": serialize(self.recurrent_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "activity_regularizer": serialize(self.activity_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "recurrent_constraint": serialize(self.recurrent_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }

    # -- the cell (subclasses) ---------------------------------------------------------------
    def _step(self, xw_t: np.ndarray, states: tuple) -> tuple[np.ndarray, tuple, Any]:
        raise NotImplementedError

    def _step_backward(self, cache, d_states: list) -> tuple[np.ndarray, list]:
        raise NotImplementedError


def _step_mask(keep: np.ndarray, t: int, like: np.ndarray) -> np.ndarray:
    """``m_t``, the mask of step t (``keep[:, t]``: ``(N,)``, or ``(N, *positions)`` for a
    convolutional LSTM's mask per position), with axes added to broadcast against ``like``."""
    k = keep[:, t]
    return k.reshape(k.shape + (1,) * (like.ndim - k.ndim))


def time_loop(step, xw: np.ndarray, states: tuple, keep: np.ndarray | None,
              zero_output_for_mask: bool) -> tuple[np.ndarray, tuple, list]:
    """The forward time loop of every recurrent layer, with Keras' rule for masks.

    ``step(xw_t, states) -> (h_t, new states, cache)`` is one step of the cell, ``xw``
    ``(N, T, ...)`` the input products of every step, ``keep`` the time mask in processing
    order (``(N, T)``, or ``(N, T, *positions)``; True: a real step) or None::

        s_t = m_t ⊙ cell(x_t W, s_{t-1}) + (1 - m_t) ⊙ s_{t-1}
        output_t = m_t ⊙ h_t + (1 - m_t) ⊙ output_{t-1}      output_0 = 0
                   (m_t ⊙ h_t with ``zero_output_for_mask``)

    Returns the outputs ``(N, T, *h.shape[1:])``, the final states and each step's cache.

    Example:
        >>> step = lambda xw_t, s: (s[0] + xw_t, (s[0] + xw_t,), None)   # h_t = h_{t-1} + x_t
        >>> keep = np.array([[True, False, True]])
        >>> out, states, _ = time_loop(step, np.ones((1, 3, 1)), (np.zeros((1, 1)),), keep,
        ...                            False)
        >>> out[0, :, 0].tolist(), states[0].tolist()
        ([1.0, 1.0, 2.0], [[2.0]])
    """
    n, steps = xw.shape[:2]
    outputs, previous, caches = None, None, []
    for t in range(steps):                              # the time loop
        h, new_states, cache = step(xw[:, t], states)
        if outputs is None:
            outputs = np.empty((n, steps, *h.shape[1:]), dtype=h.dtype)
            previous = np.zeros_like(h)                 # Keras' output_0 = 0
        if keep is not None:                            # padding: keep the previous states
            k = _step_mask(keep, t, h)
            new_states = tuple(np.where(k, new, old)
                               for new, old in zip(new_states, states, strict=True))
            h = np.where(k, h, 0 if zero_output_for_mask else previous)   # and output
            previous = h
        states = new_states
        outputs[:, t] = h
        caches.append(cache)
    return outputs, states, caches


def time_loop_backward(step_backward, caches: list, d_xw: np.ndarray, grad_output,
                       d_states: list, keep: np.ndarray | None, return_sequences: bool,
                       zero_output_for_mask: bool) -> list:
    """Backpropagation through time of :func:`time_loop`: fills ``d_xw[:, t]`` and returns
    ``δs_0``.

    ``step_backward(cache, δs_t) -> (δ(x_t W), δs_{t-1})`` is one step of the cell's
    backward, ``grad_output`` the δ of the outputs (every step's with ``return_sequences``,
    else the last one's; or None) and ``d_states`` ``δs_T``. For t = T..1, with a mask::

        δh_t += m_t ⊙ δoutput_t                          (a real step's output is h_t)
        δoutput_{t-1} += (1 - m_t) ⊙ δoutput_t           (a padding step's is output_{t-1};
                                                          not with zero_output_for_mask)
        δ(x_t W), δs'_{t-1} = step_backward(m_t ⊙ δs_t)
        δs_{t-1} = δs'_{t-1} + (1 - m_t) ⊙ δs_t          (a kept state passes its δ on)
    """
    steps = len(caches)
    zeroed = keep is not None and zero_output_for_mask   # a zeroed output: a constant, no δ
    carried = None              # δ of the output a padding step repeats (mask only)
    for t in reversed(range(steps)):                    # backpropagation through time
        g = None                                        # δoutput_t from the layer above
        if grad_output is not None and (return_sequences or t == steps - 1):
            g = grad_output[:, t] if return_sequences else grad_output
        if keep is None:
            if g is not None:
                d_states[0] = d_states[0] + g           # the output is h_t
            d_xw[:, t], d_states = step_backward(caches[t], d_states)
            continue
        k = _step_mask(keep, t, d_states[0]).astype(d_xw.dtype)   # 1: real, 0: padding
        if not zeroed and carried is not None:
            g = carried if g is None else g + carried
        if g is not None:
            d_states[0] = d_states[0] + g * k           # a real step's output is h_t
            if not zeroed:                              # a padding step's, output_{t-1}
                carried = g * (1 - k)
        d_xw[:, t], d_prev = step_backward(caches[t], [d * k for d in d_states])
        d_states = [p + d * (1 - k) for p, d in zip(d_prev, d_states, strict=True)]
    return d_states


def rnn_call(layer: Layer, base_call, sequences, args: tuple, kwargs: dict, check) -> Any:
    """``layer(sequences, initial_state=None, mask=None, training=None)`` for a recurrent
    layer or a Bidirectional: with ``initial_state`` (checked by ``check(states, shape)``),
    the base call gets :class:`CallArguments` holding the states where they were given
    (positional or keyword, one tensor or a list, as a Keras node records them)."""
    names = ("initial_state", "mask", "training")
    owner = f"{type(layer).__name__} {layer.name!r}"
    if (layer.stateful and isinstance(sequences, KerasTensor)
            and sequences.shape[0] is None):
        # Keras' error: a stateful layer in a model needs the batch size (called on arrays,
        # it takes the batch of its first call)
        raise ValueError("When using `stateful=True` in a RNN, the batch size must be "
                         f"static. Found dynamic batch size: sequence.shape="
                         f"{tuple(sequences.shape)} ({owner}: give the batch size to the "
                         "model's Input: mr.Input(batch_shape=(batch, timesteps, features)))")
    if len(args) > len(names):
        raise TypeError(f"{owner} is called as layer(sequences, initial_state=None, mask=None, "
                        f"training=None); got {1 + len(args)} positional arguments.")
    given = dict(zip(names, args, strict=False))
    unknown = sorted(set(kwargs) - set(names))
    twice = sorted(set(kwargs) & set(given))
    if unknown or twice:
        raise TypeError(f"{owner} got unexpected call arguments {unknown or twice}; it is "
                        "called as layer(sequences, initial_state=None, mask=None, "
                        "training=None).")
    given.update(kwargs)
    initial_state = given.get("initial_state")
    mask, training = given.get("mask"), given.get("training")
    if initial_state is None:
        return base_call(sequences, mask=mask, training=training)
    if not isinstance(sequences, KerasTensor | np.ndarray):
        sequences = np.asarray(sequences)
    states = check(initial_state, tuple(sequences.shape))
    recorded = states if isinstance(initial_state, list | tuple) else states[0]
    arguments = (CallArguments((sequences, recorded), {}) if args
                 else CallArguments((sequences,), {"initial_state": recorded}))
    return base_call(arguments, mask=mask, training=training)


class RNNCache(NamedTuple):
    """What one call of a recurrent layer keeps for backpropagation through time."""

    #: the inputs in processing order, after dropout (before it with per-gate masks)
    x: np.ndarray
    #: the dropout mask (N, in) (0 or 1/(1-rate)), or one per gate (k, N, in), or None
    mask: np.ndarray | None
    steps: list                     #: each step's cache, as its cell's ``_step`` returns it
    keep: np.ndarray | None = None  #: the time mask (N, T) in processing order, or None
    initial: bool = False           #: whether the call was given ``initial_state``
    #: the recurrent dropout masks (k, N, units) (0 or 1/(1-rate)), or None
    recurrent_masks: np.ndarray | None = None


def checked_sequence(layer, inputs) -> tuple[np.ndarray, list | None]:
    """A recurrent layer's call arguments: the inputs ``(N, T, ...)`` as an array in the
    layer's dtype, and its ``initial_state`` (the second argument, or the keyword) or None,
    both checked by the layer (``_check_call_shape``, ``_check_initial_state``); a sequence
    with no time steps is refused."""
    initial = None
    if isinstance(inputs, CallArguments):
        initial = (inputs.args[1] if len(inputs.args) > 1
                   else inputs.kwargs.get("initial_state"))
        inputs = inputs.first
    x = np.asarray(inputs)
    layer._check_call_shape(x.shape)
    if initial is not None:
        initial = layer._check_initial_state(initial, x.shape)
    if x.shape[1] == 0:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: the inputs have no time "
                         "steps (axis 1 has size 0).")
    return x.astype(layer.kernel.dtype, copy=False), initial
