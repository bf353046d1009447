"""``model.summary()``: Keras' table of layers, output shapes and parameter counts."""

from __future__ import annotations

HEADERS = ("Layer (type)", "Output Shape", "Param #")


def sequential_summary(model) -> str:
    """One row per layer, in order (before the model is built: :func:`_unknown_shape_rows`)."""
    if not model.built:
        return _table(model, HEADERS, _unknown_shape_rows(model))
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
    return _table(model, HEADERS, _unknown_shape_rows(model))


def _unknown_shape_rows(model) -> list[tuple]:
    """A row per layer with the output shape unknown ("?"); a layer not built yet has no
    weights: "0 (unbuilt)", as Keras prints it."""
    return [(f"{layer.name} ({type(layer).__name__})", "?",
             f"{layer.count_params():,}" if _built_as_in_keras(layer) else "0 (unbuilt)")
            for layer in model.layers]


def _built_as_in_keras(layer) -> bool:
    """Whether Keras would call the layer built: Keras builds its layers without weights
    (activations, Dropout, pooling, Reshape) in their constructor, which is also why it
    writes no ``build_config`` for them."""
    from minired.layers import Activation

    return layer.built or layer._keras_build_config is False or isinstance(layer, Activation)


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

    # The counts and their memory, as Keras adds them up: once the optimizer has made its
    # state (at the first update), its variables count too, in the total and on a line.
    groups = {"Trainable": model.trainable_weights,
              "Non-trainable": model.non_trainable_weights}
    optimizer = getattr(model, "optimizer", None)
    if getattr(optimizer, "built", False):
        groups["Optimizer"] = optimizer._keras_state()
    sizes = {name: (sum(a.size for a in arrays), _bytes(arrays))
             for name, arrays in groups.items()}
    total = tuple(sum(column) for column in zip(*sizes.values(), strict=True))
    return "\n".join([f'Model: "{model.name}"', line, fmt(headers), line,
                      *(fmt(r) for r in rows), line,
                      *(f" {name} params: {count:,} ({readable_memory_size(size)})"
                        for name, (count, size) in {"Total": total, **sizes}.items())])


def _bytes(arrays: list) -> int:
    """The memory of ``arrays``, each counted once (a shared weight is listed twice)."""
    return sum(a.nbytes for a in {id(a): a for a in arrays}.values())


def readable_memory_size(size: float) -> str:
    """Bytes as Keras' summary writes them, in steps of 1024.

    Example:
        >>> readable_memory_size(80), readable_memory_size(220_200)
        ('80.00 B', '215.04 KB')
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"
