"""``model.summary()``: Keras' table of layers, output shapes and parameter counts."""

from __future__ import annotations

HEADERS = ("Layer (type)", "Output Shape", "Param #")


def sequential_summary(model) -> str:
    """One row per layer, in order."""
    rows = [(f"{layer.name} ({type(layer).__name__})", str(shape), f"{layer.count_params():,}")
            for layer, shape in zip(model.layers, _output_shapes(model), strict=True)]
    return _table(model, HEADERS, rows)


def functional_summary(model) -> str:
    """One row per layer, with the tensors it reads: ``name[node][tensor]`` as Keras.

    As Keras, a graph that is a plain line of calls (see :func:`_sequential_like`) leaves
    the "Connected to" column out: each layer reads the row above it.
    """
    rows = []
    for layer in model.layers:
        nodes = [n for n in layer._inbound_nodes if n in model._nodes or n.is_input]
        shapes = [t.shape for n in nodes[:1] for t in n.outputs]
        sources = [f"{t._keras_history.operation.name}[{t._keras_history.node_index}]"
                   f"[{t._keras_history.tensor_index}]"
                   for n in nodes for t in n.input_tensors]
        rows.append((f"{layer.name} ({type(layer).__name__})",
                     str(shapes[0] if len(shapes) == 1 else shapes),
                     f"{layer.count_params():,}", ", ".join(sources) or "-"))
    if _sequential_like(model):
        return _table(model, HEADERS, [row[:3] for row in rows])
    return _table(model, (*HEADERS, "Connected to"), rows)


def subclassed_summary(model) -> str:
    """One row per layer set as an attribute; the output shapes are unknown until traced,
    as in Keras' summary of a subclassed model ("?")."""
    rows = [(f"{layer.name} ({type(layer).__name__})", "?", f"{layer.count_params():,}")
            for layer in model.layers]
    return _table(model, HEADERS, rows)


def _sequential_like(model) -> bool:
    """Keras' test: at most one call per depth of the graph, none reading several tensors,
    and no layer called twice."""
    calls = [node for nodes in model._nodes_by_depth.values() for node in nodes]
    if any(len(nodes) > 1 for nodes in model._nodes_by_depth.values()):
        return False
    if any(len(node.input_tensors) > 1 for node in calls):
        return False
    return len({id(node.operation) for node in calls}) == len(calls)


def _output_shapes(model) -> list:
    shapes, shape = [], model.input_shape
    for layer in model.layers:
        shape = layer.compute_output_shape(shape)
        shapes.append(shape)
    return shapes


def _table(model, headers: tuple, rows: list[tuple]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) + 2 if rows else len(h) + 2
              for i, h in enumerate(headers)]
    line = "─" * sum(widths)

    def fmt(cells):
        return "".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))

    total = model.count_params()
    trainable = int(sum(w.size for w in model.trainable_weights))
    return "\n".join([f'Model: "{model.name}"', line, fmt(headers), line,
                      *(fmt(r) for r in rows), line,
                      f" Total params: {total:,}",
                      f" Trainable params: {trainable:,}",
                      f" Non-trainable params: {total - trainable:,}"])
