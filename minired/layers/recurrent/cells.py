"""Keras' recurrent cells: one step of SimpleRNN, LSTM and GRU, for ``RNN(cell)``.

A cell is the layer of the same kind without the options of the time loop: the same
weights, the same step (its ``_step`` and ``_step_backward``, not a second copy of the
math); :class:`~minired.layers.RNN` runs it over the time axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import Layer
from minired.layers.recurrent.base_rnn import BaseRNN
from minired.layers.recurrent.gru import GRU
from minired.layers.recurrent.lstm import LSTM
from minired.layers.recurrent.simple_rnn import SimpleRNN
from minired.saving import serialization_lib

#: The arguments of the time loop, which a cell does not take (``RNN`` takes them).
LOOP_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                  "zero_output_for_mask")


class RNNCell:
    """What the three cells add to their layer: Keras' cell interface.

    ``state_size`` and ``output_size`` (Keras' names), a config without the loop's keys,
    and ``cell(x_t, states)``: one step on arrays, ``(h_t, [h_t(, c_t)])`` (no gradient;
    ``RNN`` trains the cell)."""

    def _init_cell(self, kwargs: dict) -> None:
        given = sorted(set(kwargs) & set(LOOP_ARGUMENTS))
        if given:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                             f"{given} (options of the time loop: give them to RNN).")

    @property
    def state_size(self):
        """Keras' ``state_size``: ``units`` (one state) or ``[units, units]`` (LSTM)."""
        return self.units if self._state_count == 1 else [self.units] * self._state_count

    @property
    def output_size(self) -> int:
        return self.units

    def build(self, input_shape: tuple) -> None:
        """Keras builds a cell with the shape of one step, ``(batch, in)``; minired's loop
        gives ``(batch, timesteps, in)``: either way the weights need ``in``."""
        shape = tuple(input_shape)
        BaseRNN.build(self, shape if len(shape) == 3 else (shape[0], None, *shape[1:]))

    def __call__(self, inputs, states=None, training: bool = False):
        """One step, ``h_t, new_states = cell(x_t, states)`` on arrays (Keras' cell call),
        for inspection: no gradient and no dropout (``RNN`` runs the cell in training).

        Example:
            >>> cell = LSTMCell(2)
            >>> h, (h_again, c) = cell(np.ones((3, 4), dtype="float32"),
            ...                        [np.zeros((3, 2), dtype="float32")] * 2)
            >>> h.shape, c.shape
            ((3, 2), (3, 2))
        """
        name = type(self).__name__
        if isinstance(inputs, KerasTensor) or states is None:
            raise ValueError(f"{name}: a cell is called one step at a time on arrays, "
                             f"cell(x_t, states); to run it over sequences, in a model "
                             f"too, wrap it: mr.layers.RNN({name}(...)).")
        x = np.asarray(inputs)
        if not self.built:
            self.build(x.shape)
        states = list(states) if isinstance(states, list | tuple) else [states]
        dtype = self.kernel.dtype
        xw = x.astype(dtype, copy=False) @ self.kernel
        self._recurrent_masks = None            # Keras: a direct call draws no masks here
        h, new_states, _ = self._step(xw, tuple(np.asarray(s, dtype=dtype) for s in states))
        return h, list(new_states)

    def get_config(self) -> dict:
        """Keras' cell config: the layer's, without the loop's keys."""
        config = super().get_config()
        for key in (*LOOP_ARGUMENTS, "activity_regularizer"):
            config.pop(key, None)
        return config


class SimpleRNNCell(RNNCell, SimpleRNN):
    """One step of :class:`~minired.layers.SimpleRNN`, ``h_t = f(x_t W + b + h_{t-1} U)``
    (formulas, forward and backward, in SimpleRNN), for ``RNN(SimpleRNNCell(units))``.

    Args: those of SimpleRNN without the loop's (``units``, ``activation``, ``use_bias``,
    the initializers and regularizers, ``dropout``, ``recurrent_dropout``, ``seed``).

    Example:
        >>> from minired.layers import RNN
        >>> layer = RNN(SimpleRNNCell(4))
        >>> layer(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 4)
    """

    def __init__(self, units: int, **kwargs) -> None:
        self._init_cell(kwargs)
        super().__init__(units, **kwargs)

    def get_config(self) -> dict:
        """Keras' SimpleRNNCell config (unlike SimpleRNN's, with ``seed``)."""
        return {**RNNCell.get_config(self), "seed": self.seed}


class LSTMCell(RNNCell, LSTM):
    """One step of :class:`~minired.layers.LSTM` (gates i, f, c, o; formulas in LSTM), for
    ``RNN(LSTMCell(units))``.

    Args: those of LSTM without the loop's (``units``, ``activation``,
    ``recurrent_activation``, ``use_bias``, the initializers, ``unit_forget_bias``, the
    regularizers, ``dropout``, ``recurrent_dropout``, ``seed``).

    Example:
        >>> LSTMCell(4).state_size
        [4, 4]
    """

    def __init__(self, units: int, **kwargs) -> None:
        self._init_cell(kwargs)
        super().__init__(units, **kwargs)


class GRUCell(RNNCell, GRU):
    """One step of :class:`~minired.layers.GRU` (gates z, r, h; formulas in GRU), for
    ``RNN(GRUCell(units))``.

    Args: those of GRU without the loop's (``units``, ``activation``,
    ``recurrent_activation``, ``use_bias``, the initializers and regularizers, ``dropout``,
    ``recurrent_dropout``, ``seed``, ``reset_after``).

    Example:
        >>> GRUCell(4).state_size
        4
    """

    def __init__(self, units: int, **kwargs) -> None:
        self._init_cell(kwargs)
        super().__init__(units, **kwargs)


class StackedRNNCells(Layer):
    """Cells applied one after the other at every step, as one cell: Keras'
    ``StackedRNNCells`` (``RNN([cell1, cell2])`` makes one).

    At step t, cell k reads the output of cell k-1 (cell 1 reads ``x_t``) and its own
    states. No cell reads a later one, so this is the same as the cells' layers stacked,
    each returning its sequence to the next: that is how :class:`~minired.layers.RNN` runs
    it (forward, and backpropagation through time, layer after layer).

    Args:
        cells: a list of minired cells (SimpleRNNCell, LSTMCell, GRUCell).

    Example:
        >>> stack = StackedRNNCells([LSTMCell(4), GRUCell(3)])
        >>> stack.state_size, stack.output_size
        ([[4, 4], 3], 3)
    """

    def __init__(self, cells: list, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(cells, list | tuple) or not cells:
            raise ValueError(f"StackedRNNCells: `cells` must be a non-empty list of cells, "
                             f"got {cells!r}.")
        for cell in cells:
            if not isinstance(cell, RNNCell):
                raise TypeError(f"StackedRNNCells: minired stacks its own cells "
                                f"(SimpleRNNCell, LSTMCell, GRUCell), got a "
                                f"{type(cell).__name__}; run a cell of your own in its own "
                                "RNN and stack the layers.")
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self) -> int:
        return self.cells[-1].output_size

    def _weight_triples(self) -> list:
        return [triple for cell in self.cells for triple in cell._weight_triples()]

    def build(self, input_shape: tuple) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(shape)
            shape = (*shape[:-1], cell.units)
        super().build(input_shape)

    def get_config(self) -> dict:
        serialize = serialization_lib.serialize_keras_object
        return {**super().get_config(), "cells": [serialize(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config: dict) -> StackedRNNCells:
        config = dict(config)
        config["cells"] = [serialization_lib.deserialize_keras_object(c)
                           if isinstance(c, dict) else c for c in config["cells"]]
        return cls(**config)


def is_custom_cell(cell: Any) -> bool:
    """A cell of your own: a minired Layer written with ``call(inputs, states)`` (mr.ops,
    differentiated by the tape) and an int ``state_size`` or a flat list of ints."""
    return (isinstance(cell, Layer) and not isinstance(cell, BaseRNN | StackedRNNCells)
            and cell._uses_call() and hasattr(cell, "state_size"))


def check_cell(cell: Any, owner: str) -> None:
    """A cell minired can run: one of its three cells (their step and its backward are
    hand-written) or a cell of your own (see :func:`is_custom_cell`); anything else is
    refused, naming what came."""
    if isinstance(cell, RNNCell):
        return
    if is_custom_cell(cell):
        sizes = cell.state_size if isinstance(cell.state_size, list | tuple) else [
            cell.state_size]
        if all(isinstance(s, int | np.integer) and s > 0 for s in sizes):
            return
        raise ValueError(f"{owner}: the cell's `state_size` must be a positive int or a list "
                         f"of them (one per state), got {cell.state_size!r}.")
    kind = type(cell).__name__
    hint = ("; a layer such as LSTM is not a cell: use LSTMCell" if isinstance(cell, BaseRNN)
            else "; a cell of your own must be a minired Layer with call(inputs, states) "
                 "written with mr.ops, returning (output, new_states), and a `state_size`")
    raise TypeError(f"{owner}: `cell` must be a minired SimpleRNNCell, LSTMCell, GRUCell, a "
                    f"cell of your own or a list of them, got a {kind}{hint}.")
