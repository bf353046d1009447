"""Find a functional model's graph: from the output tensors back to the inputs.

The walk follows each tensor's ``_keras_history`` to the node (layer call) that made it,
then to that node's parents: a depth-first search that lists the nodes in **topological
order** (a node after every node it reads from). Then each node gets a *depth*, its distance
from the outputs (outputs at depth 0, a node one level deeper than any node that reads it),
and the model runs its nodes from the largest depth to 0. The layers are listed in the same
order, breaking ties by the order the search met them: exactly Keras' order (``model.layers``
and therefore ``get_weights()`` agree with Keras for the same graph).
"""

from __future__ import annotations

from collections import defaultdict

from minired.layers.keras_tensor import KerasTensor
from minired.layers.node import Node


def map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]
              ) -> tuple[dict[int, list[Node]], list]:
    """Return ``(nodes_by_depth, layers)``: the nodes grouped by depth, deepest first (the
    execution order; the nodes of ``Input`` layers included), and the layers in Keras' order.

    Raises ValueError for a cycle, an output that cannot be computed from ``inputs``
    ("graph disconnected": it reads an ``Input`` or a tensor that ``inputs`` do not lead to)
    or two layers with the same name.
    """
    ordered_nodes, first_seen = _topological_order(inputs, outputs)
    in_graph = set(ordered_nodes)
    node_depth: dict[Node, int] = {}
    layer_depth: dict = {}
    for node in reversed(ordered_nodes):          # from the outputs towards the inputs
        depth = node_depth.setdefault(node, 0)
        # a layer called at several depths (shared) takes its deepest call's depth
        depth = max(depth, layer_depth.get(node.operation, 0))
        layer_depth[node.operation] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            if parent in in_graph:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for tensor in inputs:                          # an Input that no output uses
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if node.is_input and layer not in layer_depth:
            layer_depth[layer], first_seen[layer], node_depth[node] = 0, -1, 0

    nodes_by_depth: dict[int, list[Node]] = defaultdict(list)
    for node, depth in node_depth.items():
        nodes_by_depth[depth].append(node)
    layers_by_depth: dict[int, list] = defaultdict(list)
    for layer, depth in layer_depth.items():
        layers_by_depth[depth].append(layer)
    layers = [layer for depth in sorted(layers_by_depth, reverse=True)
              for layer in sorted(layers_by_depth[depth], key=first_seen.__getitem__)]
    nodes_by_depth = {depth: nodes_by_depth[depth]
                      for depth in sorted(nodes_by_depth, reverse=True)}
    nodes = [node for depth_nodes in nodes_by_depth.values() for node in depth_nodes]

    computable = {id(t) for t in inputs}
    for node in nodes:
        if node.is_input and id(node.outputs[0]) not in computable:
            raise ValueError(
                f"Graph disconnected: the outputs depend on the Input {node.operation.name!r}, "
                "which is not in the model's `inputs`. Pass every mr.Input the outputs depend "
                "on in `inputs`.")
        for tensor in node.input_tensors:
            if id(tensor) not in computable:
                raise ValueError(
                    f"Graph disconnected: cannot find parent for tensor {tensor} at layer "
                    f"{node.operation.name!r}: it is not computed from the model's `inputs`. "
                    "Pass every mr.Input the outputs depend on in `inputs`.")
        computable.update(id(t) for t in node.outputs)
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the '
                             "model. All layer names should be unique.")
    return nodes_by_depth, layers


def _topological_order(inputs, outputs) -> tuple[list[Node], dict]:
    """Depth-first search from the outputs: nodes listed after all their parents, and the
    order in which each layer was first met."""
    finished: set[Node] = set()
    in_progress: set[Node] = set()
    ordered: list[Node] = []
    first_seen: dict = {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor: KerasTensor) -> None:
        if tensor._keras_history is None:
            raise ValueError(f"{tensor} was not made by mr.Input or by a layer.")
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if node in finished:
            return
        if not node.is_input and id(tensor) in input_ids:   # an intermediate tensor as input
            finished.add(node)
            return
        if node in in_progress:
            raise ValueError(f"Tensor {tensor} from layer {layer.name!r} is part of a cycle.")
        first_seen.setdefault(layer, len(first_seen))
        in_progress.add(node)
        for parent_tensor in node.input_tensors:
            visit(parent_tensor)
        finished.add(node)
        in_progress.remove(node)
        ordered.append(node)

    for tensor in outputs:
        visit(tensor)
    return ordered, first_seen
