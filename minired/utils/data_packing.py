"""Keras' helpers for the ``(x, y, sample_weight)`` tuples that ``fit`` reads, and for the
inputs of a functional graph: ``pack_x_y_sample_weight``, ``unpack_x_y_sample_weight`` and
``get_source_inputs``.
"""

from __future__ import annotations

from typing import Any


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """``(x, y, sample_weight)`` from data shaped as ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``, with None for what is missing (for a ``train_step`` of yours).

    Example:
        >>> unpack_x_y_sample_weight((np.ones(2), np.zeros(2)))[2] is None
        True
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) in (1, 2, 3):
        return (*data, *[None] * (3 - len(data)))
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """The tuple ``fit`` reads: ``x`` alone (a list or tuple of inputs wrapped as ``(x,)``),
    ``(x, y)`` or ``(x, y, sample_weight)``.

    Example:
        >>> len(pack_x_y_sample_weight(np.ones(2), np.zeros(2)))
        2
    """
    if y is None:
        return (x,) if isinstance(x, tuple | list) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def get_source_inputs(tensor: Any) -> list:
    """The ``Input`` tensors that ``tensor`` is computed from, walking the graph back
    through each call's node (each input once, in the order met).

    Example:
        >>> a, b = mr.Input((2,)), mr.Input((2,))
        >>> out = mr.layers.Dense(1)(mr.layers.add([a, b]))
        >>> [t is s for t, s in zip(get_source_inputs(out), [a, b])]
        [True, True]
    """
    history = getattr(tensor, "_keras_history", None)
    if not hasattr(tensor, "_keras_history"):
        return tensor
    if history is None or not history.operation._inbound_nodes:
        return [tensor]
    node = history.operation._inbound_nodes[history.node_index]
    if node.is_input:
        return list(node.output_tensors)
    sources: list = []
    for parent in node.input_tensors:
        for source in get_source_inputs(parent):
            if all(source is not known for known in sources):
                sources.append(source)
    return sources
