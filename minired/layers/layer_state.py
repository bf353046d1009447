"""Keras 3's names for what a layer holds: ``variables``, ``trainable_variables``,
``non_trainable_variables``, ``metrics_variables``, ``path`` and ``add_variable``.

Keras 3 calls a layer's state its *variables*; the Keras 2 names (``weights``,
``trainable_weights``, ``non_trainable_weights``) remain and list less:

- ``weights``: the layer's weights, trainable ones and the others (moving means);
- ``variables``: the weights, then the state of the random seeds the layer holds
  (the ``state`` of each :class:`~minired.random.SeedGenerator`, ``[seed, counter]``);
- ``trainable_variables``: the trainable ones, the same list as ``trainable_weights``;
- ``non_trainable_variables``: the rest of ``variables`` (seeds included);
- ``metrics_variables``: the Variables of the layer's :attr:`~minired.layers.Layer.metrics`
  (never in ``variables``).

The functions here are the properties and methods of :class:`~minired.layers.Layer`
(``layer.variables`` calls :func:`variables` with the layer).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _sublayers(layer) -> list:
    """The layers ``layer`` holds: a model's ``layers``, then the layers set as attributes."""
    found = list(getattr(layer, "_tracked_layers", []))
    if hasattr(type(layer), "layers"):
        found = [*layer.layers, *(s for s in found if all(s is not k for k in layer.layers))]
    return found


def _seed_states(layer, seen: set[int]) -> list[np.ndarray]:
    """The ``state`` of every SeedGenerator held as an attribute by ``layer`` or (in
    order) its sublayers, each once."""
    from minired.random.seed_generator import SeedGenerator

    states = []
    for value in vars(layer).values():
        if isinstance(value, SeedGenerator) and id(value.state) not in seen:
            seen.add(id(value.state))
            states.append(value.state)
    for sublayer in _sublayers(layer):
        states.extend(_seed_states(sublayer, seen))
    return states


def variables(layer) -> list[np.ndarray]:
    """Every state array of the layer: :attr:`weights`, then the states of the random
    seeds it holds (Keras' ``layer.variables``; metric state is not included).

    Example:
        >>> import minired as mr
        >>> layer = mr.layers.Dense(2)
        >>> layer.build((None, 3))
        >>> [v.shape for v in layer.variables]
        [(3, 2), (2,)]
    """
    return [*layer.weights, *_seed_states(layer, set())]


def trainable_variables(layer) -> list[np.ndarray]:
    """The variables the optimizer updates: :attr:`trainable_weights` (Keras: equivalent)."""
    return layer.trainable_weights


def non_trainable_variables(layer) -> list[np.ndarray]:
    """:attr:`variables` but the trainable ones: moving means, seed states, and every
    variable of a layer whose ``trainable`` is False."""
    trainable = {id(w) for w in layer.trainable_weights}
    return [v for v in variables(layer) if id(v) not in trainable]


def metrics_variables(layer) -> list:
    """The Variables of each of :attr:`metrics`, in order (Keras' ``metrics_variables``).

    minired's built-in metrics keep their sums in plain arrays, not in Variables: only a
    metric that makes Variables with ``add_variable`` (yours, as in Keras) lists some.
    """
    return [v for metric in layer.metrics for v in getattr(metric, "variables", [])]


def path(layer) -> str | None:
    """Where the layer was built, as Keras writes it: ``"sequential/dense"`` for a layer a
    ``Sequential`` (or a subclassed model, or a layer of yours) built, ``"dense"`` for a
    layer built on its own or in a functional model; None until it is built, and for a
    layer with nothing to build (Keras builds those at creation, outside any scope)."""
    from minired.layers.layer import Layer

    if not layer.built:
        return None
    keras_builds = layer._keras_build_config       # True/False: Keras' class has a build
    if keras_builds is None:
        keras_builds = type(layer).build is not Layer.build or hasattr(type(layer), "layers")
    built_at_creation = not keras_builds           # Keras builds it at init, outside scopes
    if built_at_creation:
        return None
    return layer.__dict__.get("_path") or layer.name


def unbuilt_sublayers(layer) -> list:
    """The sublayers (at any depth) of ``layer`` not built yet: those its ``build`` may build."""
    found = []
    for sublayer in _sublayers(layer):
        if not sublayer.built:
            found.append(sublayer)
        found.extend(unbuilt_sublayers(sublayer))
    return found


def stamp_paths(layer, built_here: list) -> None:
    """Give each layer of ``built_here`` (the sublayers ``layer``'s build just built, at any
    depth) the path Keras gives it: its parent's path, then its name."""
    prefix = path(layer) or layer.name
    for sublayer in _sublayers(layer):
        if any(sublayer is b for b in built_here) and sublayer.built:
            sublayer.__dict__["_path"] = f"{prefix}/{sublayer.name}"
            stamp_paths(sublayer, built_here)


def add_variable(layer, shape, initializer, dtype=None, trainable: bool = True,
                 autocast: bool = True, regularizer=None, constraint=None,
                 name: str | None = None) -> Any:
    """Keras 3's alias of :meth:`add_weight`, shape and initializer first and required.

    Example:
        >>> import minired as mr
        >>> layer = mr.layers.Layer()
        >>> w = layer.add_variable((2,), "ones", name="w")
        >>> layer.weights[0] is w, float(w.sum())
        (True, 2.0)
    """
    return layer.add_weight(shape=shape, initializer=initializer, dtype=dtype,
                            trainable=trainable, autocast=autocast, regularizer=regularizer,
                            constraint=constraint, name=name)


def save_own_variables(layer, store: dict) -> None:
    """Write the layer's own arrays into ``store`` as ``"0"``, ``"1"``... (Keras' default:
    the trainable ones, then the others). A layer of yours may override it to save other
    arrays under other names (numbers only: a file never holds code); ``.keras`` files
    call it, and ``super().save_own_variables(store)`` writes the default ones.

    Example:
        >>> import minired as mr
        >>> layer = mr.layers.Layer()
        >>> _ = layer.add_variable((2,), "ones", name="w")
        >>> store = {}
        >>> layer.save_own_variables(store)
        >>> list(store), store["0"].tolist()
        (['0'], [1.0, 1.0])
    """
    from minired.saving.saving_lib import _own_arrays

    for i, array in enumerate(_own_arrays(layer)):
        store[str(i)] = np.array(array)


def load_own_variables(layer, store) -> None:
    """Copy ``store["0"]``, ``store["1"]``... into the layer's own arrays (what
    :func:`save_own_variables` wrote), checked first: the same count and shapes, else
    Keras' ValueError."""
    from minired.saving.saving_lib import _own_arrays

    arrays = _own_arrays(layer)
    if len(store.keys()) != len(arrays):
        if not arrays and not layer.built:
            raise ValueError(f"Layer '{layer.name}' was never built and thus it doesn't have "
                             "any variables. However the weights file lists "
                             f"{len(store.keys())} variables for this layer.")
        raise ValueError(f"Layer '{layer.name}' expected {len(arrays)} variables, but "
                         f"received {len(store.keys())} variables during loading.")
    values = [np.asarray(store[str(i)]) for i in range(len(arrays))]
    for i, (array, value) in enumerate(zip(arrays, values, strict=True)):
        if value.shape != array.shape:
            raise ValueError(f"Layer '{layer.name}': variable {i} has shape {value.shape} in "
                             f"the store, but the layer's has shape {array.shape}.")
    for array, value in zip(arrays, values, strict=True):
        array[...] = value


def compute_output_spec(layer, *args, **kwargs):
    """The symbolic output of a call on ``args[0]`` (a :class:`KerasTensor`, or a list of
    them), as Keras' ``compute_output_spec``: a KerasTensor of the shape
    :meth:`compute_output_shape` gives and the layer's dtype (a list for several outputs).
    Nothing is computed and no Variable changes.

    Example:
        >>> import minired as mr
        >>> spec = mr.layers.Dense(4).compute_output_spec(mr.KerasTensor((None, 3)))
        >>> spec.shape, spec.dtype
        ((None, 4), 'float32')
    """
    from minired.layers.keras_tensor import KerasTensor

    inputs = args[0] if args else kwargs.get("inputs")
    if inputs is None:
        raise ValueError(f"{type(layer).__name__}.compute_output_spec: give the inputs (a "
                         "KerasTensor, or a list of them) as the first argument.")

    def shape_of(value):
        if isinstance(value, list | tuple):
            return [shape_of(v) for v in value]
        return tuple(value.shape)

    output_shape = layer.compute_output_shape(shape_of(inputs))
    dtype = input_dtype(layer)
    if isinstance(output_shape, list):
        return [KerasTensor(tuple(s), dtype) for s in output_shape]
    return KerasTensor(tuple(output_shape), dtype)


def input_dtype(layer) -> str:
    """The dtype the layer converts its float inputs to (Keras' ``input_dtype``, its
    compute dtype): minired computes every layer in one float dtype."""
    return np.dtype(layer._float_dtype()).name
