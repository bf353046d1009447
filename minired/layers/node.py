"""Node: one call of a layer on symbolic tensors, the vertices of a model's graph.

A layer called three times makes three nodes (``layer._inbound_nodes``), so a shared layer
is one set of weights but several places in the graph. A node knows its input tensors
(``input_tensors``, and their structure ``call_inputs``: one tensor or a list) and its output
tensors; from a tensor's ``_keras_history`` one walks back to the node that made it, and from
there to its parents: that walk is how ``mr.Model(inputs, outputs)`` finds its graph.

A call of your own layer may take more than its inputs, ``AddTwo()(a, b)`` or
``Scale()(x, factor=3.0)``: the node then keeps all the arguments (``arguments``, a
:class:`~minired.autodiff.layer_calls.CallArguments`), and every tensor among them is one of
its ``input_tensors``.
"""

from __future__ import annotations

from typing import Any

from minired.autodiff.layer_calls import CallArguments
from minired.layers.keras_tensor import KerasHistory, KerasTensor


class Node:
    """Record the call ``outputs = operation(call_inputs)`` and link it into the graph.

    Args:
        operation: the layer (or model) that was called.
        call_inputs: what it was called on: a KerasTensor, a list of them, or nothing (the
            node of an ``Input``); or :class:`CallArguments` for a call with more arguments
            than its inputs.
        outputs: the KerasTensors it returned (one or a list).
    """

    def __init__(self, operation: Any, call_inputs: Any = None, outputs: Any = None) -> None:
        self.operation = operation
        #: all the arguments of a call that takes more than its inputs, else None
        self.arguments = call_inputs if isinstance(call_inputs, CallArguments) else None
        #: the first argument: the tensor (or list of tensors) the layer was called on
        self.call_inputs = call_inputs.first if self.arguments else call_inputs
        self.input_tensors: list[KerasTensor] = flatten_tensors(call_inputs)
        self.outputs: list[KerasTensor] = flatten_tensors(outputs)
        self.is_input = not self.input_tensors
        operation._inbound_nodes.append(self)
        for tensor in self.input_tensors:
            parent = tensor._keras_history.operation
            parent._outbound_nodes.append(self)
        node_index = len(operation._inbound_nodes) - 1
        for i, tensor in enumerate(self.outputs):
            tensor._keras_history = KerasHistory(operation, node_index, i)

    @property
    def call_arguments(self):
        """What to give the layer's ``forward``: ``arguments`` when the call took more than
        its inputs, else ``call_inputs``."""
        return self.arguments or self.call_inputs

    @property
    def output_tensors(self) -> list[KerasTensor]:
        return self.outputs

    @property
    def parent_nodes(self) -> list[Node]:
        """The nodes whose outputs this node reads."""
        return [t._keras_history.operation._inbound_nodes[t._keras_history.node_index]
                for t in self.input_tensors]

    def __repr__(self) -> str:
        return f"<Node operation={self.operation.name}, id={id(self)}>"


def flatten_tensors(structure: Any) -> list:
    """The leaves of a tensor, list/tuple or dict (sorted by key, as ``keras.tree``); of
    :class:`CallArguments`, its tensors."""
    if structure is None:
        return []
    if isinstance(structure, CallArguments):
        return structure.tensors()
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten_tensors(structure[key])]
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in flatten_tensors(item)]
    return [structure]
