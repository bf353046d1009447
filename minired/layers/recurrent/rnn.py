"""RNN: Keras' generic recurrent layer, a cell (or a stack of cells) run over the time axis."""

from __future__ import annotations

import functools

import numpy as np

from minired import ops
from minired.autodiff import layer_calls
from minired.autodiff.layer_calls import CallArguments
from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import Layer
from minired.layers.recurrent.base_rnn import rnn_call
from minired.layers.recurrent.cells import StackedRNNCells, check_cell, is_custom_cell
from minired.saving import serialization_lib
from minired.utils.naming import to_snake_case


class RNN(Layer):
    """Runs a cell over the time axis of ``(N, T, in)`` inputs: ``RNN(LSTMCell(units))``
    is ``LSTM(units)``, the same loop and the same numbers.

    The loop is :class:`~minired.layers.recurrent.base_rnn.BaseRNN`'s (forward over
    t = 1..T, backpropagation through time; masks, ``initial_state``, ``go_backwards``,
    ``stateful``, the dropouts), and the step is the cell's own: no second copy of the
    math. A list of cells (or a :class:`~minired.layers.StackedRNNCells`) runs them one
    after the other at every step, the output of cell k the input of cell k+1::

        o⁰_t = x_t      oᵏ_t, sᵏ_t = cellᵏ(oᵏ⁻¹_t, sᵏ_{t-1})      output_t = o^K_t

    Since no cell reads a later one, this equals cell 1 run over the whole sequence, then
    cell 2 over its outputs, and so on: the forward and the backward run that way.

    Args:
        cell: a minired ``SimpleRNNCell``, ``LSTMCell`` or ``GRUCell``, a list of them, a
            ``StackedRNNCells``, or a cell of your own: a Layer whose
            ``call(inputs, states)`` (written with ``mr.ops``) returns
            ``(output, new_states)``, with a ``state_size`` (an int or a list of ints) and
            optionally ``output_size``. Its loop runs on the tape, which differentiates it
            (backpropagation through time, for free).
        return_sequences: as in :class:`~minired.layers.LSTM`, and so are the next ones.
        return_state: as in LSTM; with a stack, Keras' nesting: ``[output, states of
            cell 1, states of cell 2, ...]``, each cell's states a list (``[h, c]``; on
            arrays ``[h]`` for a one-state cell too, in a model ``h`` alone, as Keras).
            ``initial_state`` of a stack takes the same structure: one entry per cell.
        go_backwards: as in LSTM.
        stateful: as in LSTM.
        unroll: as in LSTM (changes nothing).
        zero_output_for_mask: as in LSTM.

    Example:
        >>> from minired.layers import GRUCell, LSTMCell
        >>> layer = RNN(LSTMCell(4), return_sequences=True)
        >>> layer(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 5, 4)
        >>> RNN([LSTMCell(4), GRUCell(3)])(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 3)
        >>> out, (h1, c1), (h2,) = RNN([LSTMCell(4), GRUCell(3)], return_state=True)(
        ...     np.ones((2, 5, 3), dtype="float32"))
        >>> out.shape, c1.shape, h2.shape
        ((2, 3), (2, 4), (2, 3))
    """

    _keras_build_config = True
    _keras_node_kwargs = {"training": False, "mask": None}   # Keras' node of a plain call

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs) -> None:
        if isinstance(cell, list | tuple):
            cell = StackedRNNCells(list(cell))
        if not isinstance(cell, StackedRNNCells):
            check_cell(cell, "RNN")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._custom = is_custom_cell(cell)
        self._tape_states = None        # a stateful custom cell's carried states
        self._configure()

    # -- the cells run as layers ------------------------------------------------------------
    @property
    def _cells(self) -> list:
        """The minired cells run as layers (none for a cell of your own)."""
        if self._custom:
            return []
        return (self.cell.cells if isinstance(self.cell, StackedRNNCells) else [self.cell])

    @property
    def _state_sizes(self) -> list[int]:
        """The size of every state, flat (all cells of a stack, in order)."""
        size = self.cell.state_size
        sizes = size if isinstance(size, list | tuple) else [size]
        return [int(s) for entry in sizes
                for s in (entry if isinstance(entry, list | tuple) else [entry])]

    @property
    def _stacked(self) -> bool:
        return isinstance(self.cell, StackedRNNCells)

    @property
    def _cell_state_counts(self) -> list[int]:
        """How many states each cell holds (one entry for a single cell)."""
        if not self._stacked:
            return [len(self._state_sizes)]
        return [len(s) if isinstance(s, list | tuple) else 1 for s in self.cell.state_size]

    @property
    def _state_count(self) -> int:
        """The number of state tensors, all cells together (as Bidirectional reads it)."""
        return sum(self._cell_state_counts)

    @property
    def _state_names(self) -> list[str]:
        return [f"state_{i}" for i in range(self._state_count)]

    @property
    def _output_size(self) -> int:
        size = getattr(self.cell, "output_size", None)
        return int(size) if size is not None else self._state_sizes[0]

    def _configure(self) -> None:
        """Give the loop's options to the cells: one cell takes them all; in a stack every
        cell returns its sequence to the next, the last one as asked, and the sequence is
        reversed once before the first (``go_backwards``)."""
        cells = self._cells
        single = len(cells) == 1 and not isinstance(self.cell, StackedRNNCells)
        for i, cell in enumerate(cells):
            last = i == len(cells) - 1
            cell.return_sequences = self.return_sequences if last else True
            cell.return_state = self.return_state or not single   # a stack: every cell's
            cell.go_backwards = self.go_backwards if single else False
            cell.stateful = self.stateful
            cell.zero_output_for_mask = self.zero_output_for_mask

    @property
    def states(self):
        """A stateful layer's carried states (Keras' ``states``): the cell's list, one list
        per cell for a stack; None before the first call or when not stateful."""
        if self._custom:
            return self._tape_states
        if isinstance(self.cell, StackedRNNCells):
            states = [cell.states for cell in self._cells]
            return None if all(s is None for s in states) else states
        return self.cell.states

    def reset_state(self) -> None:
        """Keras' ``reset_state()``: the carried states back to zeros."""
        for cell in self._cells:
            cell.reset_state()
        if self._tape_states is not None:
            self._tape_states = [np.zeros_like(s) for s in self._tape_states]

    def reset_states(self) -> None:
        """Keras' alias of :meth:`reset_state`."""
        self.reset_state()

    def build(self, input_shape: tuple) -> None:
        """Build the cell(s) for ``(N, T, in)`` inputs."""
        self._configure()
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={len(shape)}. Full shape received: {shape}.")
        if self._custom and not self.cell.built:      # Keras: the shape of one step
            self.cell.build((shape[0], *shape[2:]))
            self.cell.built = True
        for cell in self._cells:
            if not cell.built:
                cell.build(shape)
            shape = (*shape[:-1], cell.units)
        super().build(input_shape)

    def _check_call_shape(self, input_shape) -> None:
        if self._custom:
            if len(input_shape) != 3:
                raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the "
                                 f"layer: expected ndim=3, found ndim={len(input_shape)}.")
            return
        self._cells[0]._check_call_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple):
        """The output's shape, then (``return_state``) every state's, flat: a stack's
        outputs are nested by :meth:`__call__` (:meth:`_nest_states`)."""
        if self._custom or self._stacked:
            batch, steps = input_shape[0], input_shape[1]
            output = ((batch, steps, self._output_size) if self.return_sequences
                      else (batch, self._output_size))
            if self.return_state:
                return [output] + [(batch, size) for size in self._state_sizes]
            return output
        self._configure()
        shape = tuple(input_shape)
        for cell in self._cells:
            shape = cell.compute_output_shape(shape)
        return shape

    def compute_mask(self, inputs, mask):
        """Keras' ``RNN.compute_mask``: the sequence keeps its mask (``return_sequences``),
        the last output and the states have none."""
        if isinstance(mask, list | tuple):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self._state_sizes)
        return output_mask

    def _weight_triples(self) -> list:
        if self._custom:
            return self.cell._weight_triples()
        return [triple for cell in self._cells for triple in cell._weight_triples()]

    def _keras_weight_groups(self) -> list[tuple[str, list]]:
        """Keras' paths: ``rnn/cell/vars`` (one cell), ``rnn/cell/cells/<class>/vars`` (a stack:
        ``lstm_cell``, ``lstm_cell_1``..., not the cells' names, as Keras)."""
        if self._custom:
            return [("", []), ("cell", self.cell.weights)]
        if not isinstance(self.cell, StackedRNNCells):
            return [("", []), ("cell", self.cell.weights)]
        used: dict[str, int] = {}       # Keras' container paths: the class, numbered
        groups = [("", []), ("cell", [])]
        for cell in self._cells:
            name = to_snake_case(type(cell).__name__)
            used[name] = used.get(name, -1) + 1
            name = f"{name}_{used[name]}" if used[name] else name
            groups.append((f"cell/cells/{name}", cell.weights))
        return groups

    def _keras_weight_names(self) -> list[str]:
        """The legacy ``.h5`` names, under each cell (``lstm_cell/kernel``...)."""
        if self._custom:
            return [f"{self.cell.name}/{getattr(w, 'name', None) or f'weight_{i}'}"
                    for i, w in enumerate(self.cell.weights)]
        return [name for cell in self._cells for name in cell._keras_weight_names()]

    # -- calling ----------------------------------------------------------------------------
    def __call__(self, sequences, *args, **kwargs):
        """Keras' call, ``layer(sequences, initial_state=None, mask=None, training=None)``.

        A stack's ``initial_state`` is Keras' structure, one entry per cell (a list of its
        states, or the state alone for a one-state cell), and with ``return_state`` the
        states come back the same way: ``[output, [h₁, c₁], [h₂], ...]``."""
        outputs = rnn_call(self, super().__call__, sequences, args, kwargs,
                           self._check_initial_state)
        if self._stacked and self.return_state:
            given = (args[0] if args else kwargs.get("initial_state")) or None
            alone = [not isinstance(entry, list | tuple) for entry in given] if isinstance(
                given, list | tuple) else [False] * len(self._cells)
            return self._nest_states(outputs, isinstance(sequences, KerasTensor), alone)
        return outputs

    def _check_initial_state(self, initial_state, input_shape: tuple,
                             owner: str | None = None):
        """``initial_state`` checked: one cell's list of states, or a stack's nested
        list (one entry per cell), each state ``(batch, size)``."""
        owner = owner or f"RNN {self.name!r}"
        if self._custom:
            return self._check_tape_initial_state(initial_state, input_shape)
        if not self._stacked:
            return self.cell._check_initial_state(initial_state, input_shape, owner)
        cells = self._cells
        if not isinstance(initial_state, list | tuple) or len(initial_state) != len(cells):
            count = len(initial_state) if isinstance(initial_state, list | tuple) else 1
            raise ValueError(f"{owner}: `initial_state` of a stack of {len(cells)} cells must "
                             f"be a list of {len(cells)} entries, one per cell (its list of "
                             f"states); got {count}.")
        return [cell._check_initial_state(states, input_shape, f"{owner}, cell {i}")
                for i, (cell, states) in enumerate(zip(cells, initial_state, strict=True))]

    def _nest_states(self, outputs: list, symbolic: bool, alone: list[bool]) -> list:
        """``[output, s₁, s₂, ...]`` (flat) as Keras returns a stack's: one list of states
        per cell; a one-state cell's state alone in a model (Keras' symbolic call) or when
        its initial state was given alone (Keras' eager call keeps that structure)."""
        nested, i = [outputs[0]], 1
        for count, bare in zip(self._cell_state_counts, alone, strict=True):
            states = list(outputs[i:i + count])
            nested.append(states[0] if count == 1 and (symbolic or bare) else states)
            i += count
        return nested

    def _forward_with_mask(self, inputs, training: bool, mask):
        """As a recurrent layer's: a graph call with ``initial_state`` runs without the
        mask of its sequences (Keras)."""
        if isinstance(inputs, CallArguments):
            mask = None
        return super()._forward_with_mask(inputs, training, mask)

    def forward(self, inputs, training: bool = False, mask=None):
        """The cell's loop (one cell), or each cell's loop over the previous one's outputs
        (a stack, the sequence reversed once first with ``go_backwards``)."""
        if self._custom:                        # the loop below, on a tape
            self.__dict__["call"] = functools.partial(self._tape_loop, mask=mask)
            try:
                outputs, self.cache = layer_calls.run_call(self, inputs, training)
            finally:
                del self.__dict__["call"]
            return outputs
        self._configure()
        if not self._stacked:
            outputs = self.cell.forward(inputs, training=training, mask=mask)
            self.cache = self.cell.cache
            return outputs
        initial = None
        if isinstance(inputs, CallArguments):
            initial = (inputs.args[1] if len(inputs.args) > 1
                       else inputs.kwargs.get("initial_state"))
            inputs = inputs.first
        x = np.asarray(inputs)
        if self.go_backwards:
            x = x[:, ::-1]
            mask = None if mask is None else np.asarray(mask)[:, ::-1]
        states = []                     # every cell's final states, flat
        for i, cell in enumerate(self._cells):
            given = x if initial is None else CallArguments(
                (x,), {"initial_state": initial[i]})
            x, *own = cell.forward(given, training=training, mask=mask)
            states += own
        self.cache = initial is not None
        return [x, *states] if self.return_state else x

    def backward(self, grad_outputs, input_gradient: bool = True):
        """Backpropagation through time, the last cell first (a cell of your own: the
        tape's walk back through the loop)."""
        if self._custom:
            return layer_calls.backward_call(self, self.cache, grad_outputs)
        if not self._stacked:
            self.cell.cache = self.cache
            return self.cell.backward(grad_outputs, input_gradient=input_gradient)
        # δ of [output, s₁, s₂, ...]: cell k gets δ of its sequence (from cell k+1, or
        # δoutput for the last) and δ of its own final states; it returns δ of its input
        # sequence (and, given initial states, their δs₀)
        grads = list(grad_outputs) if self.return_state else [grad_outputs]
        counts = self._cell_state_counts
        ends = np.cumsum([1, *counts]).tolist()
        grad, d_initial = grads[0], []
        for i, cell in reversed(list(enumerate(self._cells))):
            d_states = (grads[ends[i]:ends[i + 1]] if self.return_state
                        else [None] * counts[i])
            d = cell.backward([grad, *d_states], input_gradient=input_gradient or i > 0)
            if self.cache and d is not None:     # initial states given: [δx, *δs₀]
                grad, d_initial = d[0], [*d[1:], *d_initial]
            else:
                grad = d
        if grad is not None and self.go_backwards:
            grad = grad[:, ::-1]
        if not input_gradient:
            return None
        return [grad, *d_initial] if self.cache else grad

    # -- a cell of your own: the loop written with mr.ops ----------------------------------
    def _check_tape_initial_state(self, initial_state, input_shape: tuple) -> list:
        states = (list(initial_state) if isinstance(initial_state, list | tuple)
                  else [initial_state])
        sizes = self._state_sizes
        shapes = [tuple(s.shape) if hasattr(s, "shape") else np.shape(s) for s in states]
        if len(states) != len(sizes) or any(     # (zip after the lengths are checked)
                len(shape) != 2 or shape[1] != size
                for shape, size in zip(shapes, sizes, strict=True)):
            raise ValueError(f"RNN {self.name!r}: `initial_state` must be a list of "
                             f"{len(sizes)} tensor(s) of shapes "
                             f"{[('batch', s) for s in sizes]}; got shapes {shapes}.")
        return states

    def _tape_loop(self, sequences, initial_state=None, training=None, mask=None):
        """The time loop with ``mr.ops`` (what the tape records), Keras' rules::

            s_0 = initial_state, or the carried states (stateful), or zeros
            output_t, s_t = cell(x_t, s_{t-1})        t = 1..T (T..1 with go_backwards)
            masked step: s_t = s_{t-1}, output_t = output_{t-1} (0 first / with
            zero_output_for_mask)
        """
        x = sequences
        n, steps = x.shape[0], x.shape[1]
        if initial_state is not None:
            states = (list(initial_state) if isinstance(initial_state, list | tuple)
                      else [initial_state])
        elif self.stateful and self._tape_states is not None:
            states = list(self._tape_states)
        else:
            states = [ops.zeros((n, size), dtype=x.dtype) for size in self._state_sizes]
        if self.stateful and self._tape_states is not None:
            expected = self._tape_states[0].shape[0]
            if n != expected:
                raise ValueError(f"If an RNN is stateful, the batch size of the input "
                                 f"sequences must be the same as the batch size of the "
                                 f"initial state. \n- Expected batch size: {expected}\n"
                                 f"- Received batch size: {n}")
        keep = None if mask is None else np.asarray(mask).astype(bool)
        previous = ops.zeros((n, self._output_size), dtype=x.dtype)
        outputs = []
        for t in (reversed(range(steps)) if self.go_backwards else range(steps)):
            output, new_states = self.cell(x[:, t], states, training=training)
            new_states = (list(new_states) if isinstance(new_states, list | tuple)
                          else [new_states])
            if keep is not None:                # padding: the previous states and output
                k = keep[:, t, None]
                new_states = [ops.where(k, new, old)
                              for new, old in zip(new_states, states, strict=True)]
                output = ops.where(k, output, ops.zeros_like(output)
                                   if self.zero_output_for_mask else previous)
                previous = output
            states = new_states
            outputs.append(output)
        if self.stateful:                       # carried as constants (truncated BPTT)
            self._tape_states = [np.array(s) for s in states]
        output = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [output, *states] if self.return_state else output

    # -- config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' RNN config: the loop's options and the serialized cell."""
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "cell": serialization_lib.serialize_keras_object(self.cell)}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, dict):
            cell = serialization_lib.deserialize_keras_object(cell)
        return cls(cell, **config)
