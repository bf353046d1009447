"""``model.summary()``: Keras' table of layers, output shapes and parameter counts.

The options of Keras' ``summary`` (``**options`` below) work as in Keras:

- ``expand_nested=True``: under the row of a nested model, a row per layer of it, the
  name indented by ``"   " * depth + "└ "``;
- ``show_trainable=True``: a "Trainable" column, ``Y`` or ``N`` for a layer with weights
  (its ``trainable``), ``-`` for one without;
- ``layer_range=[first, last]``: only the rows from the first layer whose name matches
  the pattern ``first`` (``re.match``) to the last one matching ``last``, both included.
"""

from __future__ import annotations

import re

HEADERS = ("Layer (type)", "Output Shape", "Param #")


def summary(model, **options) -> str:
    """The table for ``model``: :func:`sequential_summary`, :func:`functional_summary` or
    :func:`subclassed_summary` by its kind."""
    from minired.models.functional import Functional
    from minired.models.sequential import Sequential

    if isinstance(model, Sequential):
        return sequential_summary(model, **options)
    if isinstance(model, Functional):
        return functional_summary(model, **options)
    return subclassed_summary(model, **options)


def sequential_summary(model, **options) -> str:
    """One row per layer, in order (before the model is built, shapes "?" and "0 (unbuilt)"
    for a layer with weights to make, as Keras)."""
    return _table(model, HEADERS, _rows(model, model.layers, _model_shapes(model), False,
                                        **options), **options)


def functional_summary(model, **options) -> str:
    """One row per layer, with the tensors it reads: ``name[node][tensor]`` as Keras.

    As Keras, a graph that is a plain line of calls (see :func:`_sequential_like`) leaves
    the "Connected to" column out: each layer reads the row above it.
    """
    connected = not _sequential_like(model)
    headers = (*HEADERS, "Connected to") if connected else HEADERS
    return _table(model, headers, _rows(model, model.layers, _model_shapes(model), connected,
                                        **options), **options)


def subclassed_summary(model, **options) -> str:
    """One row per layer set as an attribute; the output shapes are unknown until traced,
    as in Keras' summary of a subclassed model ("?")."""
    shapes = ["?"] * len(model.layers)
    return _table(model, HEADERS, _rows(model, model.layers, shapes, False, **options),
                  **options)


def _model_shapes(model) -> list[str]:
    """The output shape of each of ``model.layers``, as text ("?" until it is known)."""
    from minired.models.functional import Functional
    from minired.models.sequential import Sequential

    if isinstance(model, Sequential):
        return ([str(shape) for shape in _output_shapes(model)] if model.built
                else ["?"] * len(model.layers))
    if isinstance(model, Functional):
        shapes = []
        for layer in model.layers:
            nodes = [n for n in layer._inbound_nodes if n in model._nodes or n.is_input]
            outputs = [t.shape for n in nodes[:1] for t in n.outputs]
            shapes.append(str(outputs[0] if len(outputs) == 1 else outputs))
        return shapes
    return ["?"] * len(model.layers)


def _rows(model, layers: list, shapes: list[str], connected: bool, expand_nested=False,
          show_trainable=False, layer_range=None, depth: int = 0) -> list[tuple]:
    """The table's rows for ``layers`` (those of ``layer_range`` at the top level), each
    followed by the rows of its own layers when it is a model and ``expand_nested``."""
    first, last = _layer_range_bounds(layers, layer_range) if depth == 0 else (0, len(layers))
    rows = []
    for layer, shape in zip(layers[first:last], shapes[first:last], strict=True):
        prefix = "   " * depth + "└ " if depth else ""
        params = (f"{layer.count_params():,}" if _built_as_in_keras(layer) else "0 (unbuilt)")
        row = (f"{prefix}{layer.name} ({type(layer).__name__})", shape, params)
        if connected:
            row += (_sources(model, layer) if depth == 0 else "-",)
        if show_trainable:
            row += (("Y" if layer.trainable else "N") if layer.weights else "-",)
        rows.append(row)
        inner = getattr(layer, "layers", None)
        if expand_nested and inner:
            rows += _rows(layer, inner, _model_shapes(layer), connected, True,
                          show_trainable, None, depth + 1)
    return rows


def _sources(model, layer) -> str:
    """The tensors ``layer`` reads in ``model``: ``name[node][tensor]``, or "-"."""
    nodes = [n for n in layer._inbound_nodes if n in model._nodes or n.is_input]
    return ", ".join(f"{t._keras_history.operation.name}[{t._keras_history.node_index}]"
                     f"[{t._keras_history.tensor_index}]"
                     for n in nodes for t in n.input_tensors) or "-"


def _layer_range_bounds(layers: list, layer_range) -> tuple[int, int]:
    """Keras' ``get_layer_index_bound_by_layer_name``: ``(first, last + 1)`` of the rows
    whose names match ``layer_range``'s two patterns (the whole list for None)."""
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


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


def _table(model, headers: tuple, rows: list[tuple], show_trainable=False, **_) -> str:
    if show_trainable:
        headers = (*headers, "Trainable")
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
