"""Bidirectional: one recurrent layer reads the sequence forwards, a copy reads it backwards."""

from __future__ import annotations

import numpy as np

from minired.autodiff.layer_calls import CallArguments
from minired.layers.layer import Layer
from minired.layers.recurrent.base_rnn import BaseRNN, rnn_call
from minired.layers.recurrent.conv_lstm import BaseConvLSTM
from minired.layers.recurrent.rnn import RNN
from minired.layers.wrapper import refuse_inner_activity_regularizer
from minired.saving import serialization_lib

MERGE_MODES = ("sum", "mul", "ave", "concat", None)
#: The layers Bidirectional wraps: the recurrent layers, the convolutional LSTMs and
#: ``RNN`` over one cell (minired's, or a cell of your own).
WRAPPABLE = (BaseRNN, BaseConvLSTM, RNN)


class Bidirectional(Layer):
    """Run a recurrent layer over the sequence in both directions and merge the two outputs.

    The wrapper holds two layers made from ``layer``'s config (new weights, as Keras):
    ``forward_layer`` (named ``forward_<name>``) and ``backward_layer`` (``backward_<name>``,
    with ``go_backwards=True``), each with its own weights (forward's first in
    ``get_weights()``). Forward, for inputs ``x`` of shape ``(N, T, in)``::

        y      = forward_layer(x)                     (N, [T,] units)
        y_rev  = backward_layer(x)                    read from step T down to 1
        y_rev  ← y_rev reversed in time               (return_sequences: step t beside t)
        a      = [y, y_rev] (concat, the default) | y + y_rev (sum) | (y + y_rev)/2 (ave)
                 | y ⊙ y_rev (mul) | the list [y, y_rev] (None)

    Backward, given ``δa``: ``δy, δy_rev`` are ``δa``'s two halves (concat), ``δa`` twice
    (sum), ``δa/2`` twice (ave), ``δa ⊙ y_rev`` and ``δa ⊙ y`` (mul), or the two given
    (None); ``δy_rev`` is reversed in time back to the backward layer's order, and each
    layer runs its own backpropagation through time::

        δx = forward_layer.backward(δy) + backward_layer.backward(δy_rev)

    With ``return_state`` the outputs are ``[a, *states of forward, *states of backward]``.
    ``initial_state`` is split the same way, as Keras splits it: its first half starts the
    forward layer, its second half the backward layer (``[h_f, c_f, h_b, c_b]`` for an
    LSTM); their gradients are each layer's ``δs_0``, and ``backward`` then returns
    ``[δx, *δs_0 of forward, *δs_0 of backward]``.

    The same holds for a :class:`~minired.layers.ConvLSTM2D` (1D, 3D): ``y`` and ``y_rev``
    are ``(N, [T,] *out, F)`` images (concat: ``2F`` channels). A mask of the sequence
    reaches both layers (each reads it in its own order); as Keras, each layer's
    ``zero_output_for_mask`` is set to ``return_sequences``, so with sequences a masked
    step outputs 0 in both directions.

    Args:
        layer: a minired recurrent layer (:class:`~minired.layers.LSTM`,
            :class:`~minired.layers.GRU`, :class:`~minired.layers.SimpleRNN`), a
            convolutional LSTM (:class:`~minired.layers.ConvLSTM1D`, 2D, 3D), or an
            :class:`~minired.layers.RNN` over one cell (minired's, or a cell of your own:
            its states, of any sizes, split and returned as an LSTM's; a stack of cells is
            refused).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or None.
        weights: optional initial weights, forward's then backward's, set at the build.
        backward_layer: optional recurrent layer to use as the backward one (it must have
            ``go_backwards`` opposite to ``layer``'s, and the same ``return_sequences``
            and ``return_state``).
        **kwargs: ``name``, ``trainable``.

    Example:
        >>> from minired.layers import LSTM
        >>> layer = Bidirectional(LSTM(4, return_sequences=True))
        >>> layer(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 5, 8)
        >>> from minired.layers import ConvLSTM2D
        >>> frames = np.ones((2, 4, 5, 5, 1), dtype="float32")
        >>> mask = np.array([[True, True, True, False], [True, True, False, False]])
        >>> Bidirectional(ConvLSTM2D(3, 3), merge_mode="sum")(frames, mask=mask).shape
        (2, 3, 3, 3)
        >>> from minired.layers import RNN, GRUCell
        >>> out, h_f, h_b = Bidirectional(RNN(GRUCell(2), return_state=True))(
        ...     np.ones((2, 5, 3), dtype="float32"))
        >>> out.shape, h_b.shape
        ((2, 4), (2, 2))
    """

    _keras_build_config = True
    _keras_node_kwargs = {"mask": None}      # Keras' node of a plain call

    def __init__(self, layer, merge_mode: str | None = "concat", weights=None,
                 backward_layer=None, **kwargs) -> None:
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        if not _wrappable(layer):
            raise ValueError(f"Bidirectional: minired wraps its recurrent layers (LSTM, GRU, "
                             f"SimpleRNN, ConvLSTM1D/2D/3D, RNN over one cell) only, got a "
                             f"{_kind(layer)}.")
        if backward_layer is not None and not _wrappable(backward_layer):
            raise ValueError("`backward_layer` need to be a minired recurrent layer (LSTM, "
                             "GRU, SimpleRNN, ConvLSTM1D/2D/3D, RNN over one cell). "
                             f"Received: {backward_layer}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should "
                             'be one of {"sum", "mul", "ave", "concat", None}')
        refuse_inner_activity_regularizer("Bidirectional", layer, backward_layer)
        super().__init__(**kwargs)
        self.forward_layer = _copy(layer, "go_backwards", layer.go_backwards, "forward_")
        if backward_layer is None:
            backward_layer = _copy(layer, "go_backwards", True, "backward_")
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             "`go_backwards` value. Received: forward_layer.go_backwards "
                             f"{self.forward_layer.go_backwards}, backward_layer.go_backwards="
                             f"{self.backward_layer.go_backwards}")
        for attribute in ("stateful", "return_sequences", "return_state"):
            ours, theirs = (getattr(self.forward_layer, attribute),
                            getattr(self.backward_layer, attribute))
            if ours != theirs:
                raise ValueError("Forward layer and backward layer are expected to have the "
                                 f'same value for attribute "{attribute}", got "{ours}" for '
                                 f'forward layer and "{theirs}" for backward layer')
        for sublayer in (self.forward_layer, self.backward_layer):
            sublayer.zero_output_for_mask = sublayer.return_sequences     # as Keras
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self._initial_weights = list(weights) if weights else None

    def reset_state(self) -> None:
        """Keras' ``reset_state()``: both stateful layers' carried states back to zeros."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self) -> None:
        """Keras' alias of :meth:`reset_state`."""
        self.reset_state()

    def build(self, input_shape: tuple) -> None:
        """Build both layers (each checks the inputs are ``(N, T, in)``)."""
        for sublayer in (self.forward_layer, self.backward_layer):
            if not sublayer.built:
                sublayer.build(input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        super().build(input_shape)

    def _check_call_shape(self, input_shape) -> None:
        self.forward_layer._check_call_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], shape[1:]
        if self.merge_mode == "concat":
            shape = (*shape[:-1], shape[-1] * 2)
        outputs = [shape, shape] if self.merge_mode is None else [shape]
        if self.return_state:
            return outputs + states + states
        return outputs if self.merge_mode is None else shape

    def _keras_weight_groups(self) -> list[tuple[str, list]]:
        """Keras' ``.keras`` layout: ``bidirectional/forward_layer/cell/vars`` and
        ``bidirectional/backward_layer/cell/vars`` (see minired.saving.saving_lib)."""
        groups = [("", [])]
        for attribute in ("backward_layer", "forward_layer"):
            groups += [(f"{attribute}/{group}" if group else attribute, weights) for group,
                       weights in getattr(self, attribute)._keras_weight_groups()]
        return groups

    def _keras_weight_names(self) -> list[str]:
        """Keras' names under the wrapper: ``forward_lstm/lstm_cell/kernel``... (the legacy
        ``.h5`` file's paths)."""
        return [f"{sublayer.name}/{name}" for sublayer in (self.forward_layer,
                                                            self.backward_layer)
                for name in sublayer._keras_weight_names()]

    # -- calling --------------------------------------------------------------------------
    def __call__(self, sequences, *args, **kwargs):
        """Keras' call, ``layer(sequences, initial_state=None, mask=None, training=None)``;
        ``initial_state``: the forward layer's states, then the backward layer's."""
        def check(states, shape):
            forward, backward = self._split_initial_state(states, shape)
            return [*forward, *backward]
        return rnn_call(self, super().__call__, sequences, args, kwargs, check)

    def _forward_with_mask(self, inputs, training: bool, mask):
        """As :meth:`BaseRNN._forward_with_mask`: a graph call with ``initial_state``
        does not receive the mask of its sequences (Keras)."""
        if isinstance(inputs, CallArguments):
            mask = None
        return super()._forward_with_mask(inputs, training, mask)

    def _checked_call_mask(self, mask, inputs):
        """A mask given by hand, checked as the wrapped layer checks it."""
        return self.forward_layer._checked_call_mask(mask, inputs)

    def _split_initial_state(self, initial_state, input_shape: tuple) -> tuple[list, list]:
        """The forward layer's and the backward layer's initial states, each checked."""
        count = self.forward_layer._state_count
        states = (list(initial_state) if isinstance(initial_state, list | tuple)
                  else [initial_state])
        if len(states) != 2 * count:
            raise ValueError(
                f"Bidirectional {self.name!r}: `initial_state` must be a list of {2 * count} "
                f"tensors, the forward layer's {self.forward_layer._state_names} then the "
                f"backward layer's; got {len(states)}.")
        owner = f"Bidirectional {self.name!r}"
        return (self.forward_layer._check_initial_state(states[:count], input_shape, owner),
                self.backward_layer._check_initial_state(states[count:], input_shape, owner))

    # -- the two passes ---------------------------------------------------------------------
    def compute_mask(self, inputs, mask):
        """Keras' ``Bidirectional.compute_mask``: the sequence keeps its mask (twice with
        ``merge_mode=None``), the last outputs and the states have none."""
        if isinstance(mask, list | tuple):
            mask = mask[0]
        if self.return_sequences:
            output_mask = [mask, mask] if self.merge_mode is None else mask
        else:
            output_mask = [None, None] if self.merge_mode is None else None
        if self.return_state:
            states = [None] * (2 * self.forward_layer._state_count)
            return (output_mask if isinstance(output_mask, list) else [output_mask]) + states
        return output_mask

    def forward(self, inputs, training: bool = False, mask=None):
        """``inputs``: the sequences, or :class:`CallArguments` holding them and
        ``initial_state`` (from :meth:`__call__`)."""
        forward_in = backward_in = inputs
        initial = None
        if isinstance(inputs, CallArguments):
            initial = (inputs.args[1] if len(inputs.args) > 1
                       else inputs.kwargs.get("initial_state"))
            inputs = forward_in = backward_in = inputs.first
        if initial is not None:
            forward_states, backward_states = self._split_initial_state(
                initial, np.shape(inputs))
            forward_in = CallArguments((inputs,), {"initial_state": forward_states})
            backward_in = CallArguments((inputs,), {"initial_state": backward_states})
        forward_out = self.forward_layer.forward(forward_in, training=training, mask=mask)
        backward_out = self.backward_layer.forward(backward_in, training=training, mask=mask)
        states = []
        if self.return_state:
            states = [*forward_out[1:], *backward_out[1:]]
            forward_out, backward_out = forward_out[0], backward_out[0]
        y, y_rev = forward_out, backward_out
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]                       # step t beside step t
        self.cache = (self.forward_layer.cache, self.backward_layer.cache, y, y_rev,
                      np.asarray(inputs), initial is not None)
        if self.merge_mode == "concat":
            outputs = [np.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            outputs = [y + y_rev]
        elif self.merge_mode == "ave":
            outputs = [(y + y_rev) / y.dtype.type(2)]
        elif self.merge_mode == "mul":
            outputs = [y * y_rev]
        else:
            outputs = [y, y_rev]
        outputs += states
        return outputs[0] if len(outputs) == 1 else outputs

    def backward(self, grad_outputs, input_gradient: bool = True):
        forward_cache, backward_cache, y, y_rev, x, initial = self.cache
        grads = list(grad_outputs) if isinstance(grad_outputs, list | tuple) else [grad_outputs]
        if self.merge_mode is None:
            d_y, d_rev, d_states = grads[0], grads[1], grads[2:]
        else:
            d_a, d_states = grads[0], grads[1:]
            d_y = d_rev = None
            if d_a is not None:
                if self.merge_mode == "concat":
                    units = y.shape[-1]
                    d_y, d_rev = d_a[..., :units], d_a[..., units:]
                elif self.merge_mode == "sum":
                    d_y = d_rev = d_a
                elif self.merge_mode == "ave":
                    d_y = d_rev = d_a / d_a.dtype.type(2)
                else:                                    # mul
                    d_y, d_rev = d_a * y_rev, d_a * y
        if d_rev is not None and self.return_sequences:
            d_rev = d_rev[:, ::-1]                       # back to the backward layer's order
        half = len(d_states) // 2
        total = None
        d_initial = []                                   # δs_0: forward's, then backward's
        for sublayer, cache, d_out, d_own in ((self.forward_layer, forward_cache, d_y,
                                               d_states[:half]),
                                              (self.backward_layer, backward_cache, d_rev,
                                               d_states[half:])):
            if d_out is None and all(d is None for d in d_own):   # no gradient reaches it
                shapes = _state_shapes(sublayer, x.shape)
                d_initial += [np.zeros(shape, dtype=x.dtype)
                              for shape in shapes] if initial else []
                continue
            sublayer.cache = cache
            grad = [d_out, *d_own] if self.return_state else d_out
            d_x = sublayer.backward(grad, input_gradient=input_gradient)
            if d_x is not None and initial:
                d_x, d_initial = d_x[0], d_initial + list(d_x[1:])
            if d_x is not None:
                total = d_x if total is None else total + d_x
        if not input_gradient:
            return None
        if total is None:
            total = np.zeros_like(x)
        return [total, *d_initial] if initial else total

    # -- config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' Bidirectional config: the two layers serialized."""
        serialize = serialization_lib.serialize_keras_object
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize(self.forward_layer),
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for key in ("layer", "backward_layer"):
            if isinstance(config.get(key), dict):
                config[key] = serialization_lib.deserialize_keras_object(config[key])
        return super().from_config(config)


def _state_shapes(sublayer, input_shape: tuple) -> list[tuple]:
    """The shapes of the states of ``sublayer``: ``(N, units)`` (``(N, size)`` for each
    state of an RNN's cell), or ``(N, *out, F)``."""
    if isinstance(sublayer, BaseConvLSTM):
        shape = (input_shape[0], *sublayer._output_spatial(input_shape), sublayer.filters)
        return [shape] * sublayer._state_count
    if isinstance(sublayer, RNN):
        return [(input_shape[0], size) for size in sublayer._state_sizes]
    return [(input_shape[0], sublayer.units)] * sublayer._state_count


def _wrappable(layer) -> bool:
    """A layer Bidirectional runs: see :data:`WRAPPABLE` (an RNN over one cell only)."""
    return isinstance(layer, WRAPPABLE) and not (isinstance(layer, RNN) and layer._stacked)


def _kind(layer) -> str:
    return ("RNN over a stack of cells" if isinstance(layer, RNN) and layer._stacked
            else type(layer).__name__)


def _copy(layer: BaseRNN, attribute: str, value, prefix: str) -> BaseRNN:
    """A new layer of ``layer``'s class and config (Keras' copy), ``attribute`` set to
    ``value`` and the name prefixed once."""
    config = layer.get_config()
    config[attribute] = value
    name = layer.name[len(prefix):] if layer.name.startswith(prefix) else layer.name
    config["name"] = f"{prefix}{name}"
    return type(layer).from_config(config)
