"""``model.get_state_tree()`` and ``model.set_state_tree(tree)``: a model's state as nested
dicts keyed by Keras' variable paths, as Keras 3 gives it.

The tree has four branches, each a nested dict built from the paths
(``"sequential/dense/kernel"`` becomes ``tree["sequential"]["dense"]["kernel"]``)::

    {"trainable_variables": ..., "non_trainable_variables": ...,
     "optimizer_variables": ..., "metrics_variables": ...}

The paths are those Keras gives (see :mod:`minired.optimizers.variable_paths`): a weight's
layer path then its name; an optimizer's state ``"<optimizer>/iteration"``,
``"<optimizer>/learning_rate"`` and one ``"<optimizer>/<weight path, / as _>_<slot>"`` per
weight and slot (``"adam/sequential_dense_kernel_momentum"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Keras' name of each slot list of minired's built-in optimizers (the ``name`` given to
#: Keras' ``add_optimizer_variables``), and of Nadam's scalar state.
KERAS_SLOT_NAMES = {
    "_momentums": "momentum", "_velocities": "velocity", "_velocity_hats": "velocity_hat",
    "_accumulators": "accumulator", "_linears": "linear", "_norms": "norm",
    "_average_gradients": "average_gradient", "_accumulated_grads": "accumulated_grad",
    "_accumulated_delta_vars": "accumulated_delta_var", "_adam_velocities": "velocity",
    "_u_product": "u_product",
}


def _seed_paths(model) -> dict[int, str]:
    """``id(state) -> "<generator>/seed_generator_state"`` for the SeedGenerators the
    model's layers hold (Keras makes their state outside every layer's scope)."""
    from minired.layers.layer_state import _sublayers
    from minired.random.seed_generator import SeedGenerator

    found: dict[int, str] = {}
    pending = [model]
    while pending:
        layer = pending.pop(0)
        for value in vars(layer).values():
            if isinstance(value, SeedGenerator):
                found.setdefault(id(value.state), f"{value.name}/seed_generator_state")
        pending.extend(_sublayers(layer))
    return found


def weight_paths(model) -> dict[int, str]:
    """``id(array) -> Keras path`` for every variable of ``model`` (weights and seeds)."""
    from minired.optimizers.variable_paths import keras_paths

    paths = {id(w): path for w, path in keras_paths(model)}
    paths.update(_seed_paths(model))
    return paths


def optimizer_paths(optimizer, model) -> list[str]:
    """The Keras path of each of ``optimizer.variables``, in order."""
    from minired.optimizers.optimizer_variables import added_variables
    from minired.optimizers.variable_paths import path_of, remember_paths
    from minired.variables import Variable

    remember_paths(model)
    name = optimizer.name
    paths = [f"{name}/iteration"]
    if isinstance(optimizer._learning_rate, Variable):
        paths.append(f"{name}/learning_rate")
    if optimizer.built:
        references = [(path_of(v) or getattr(v, "name", None) or "variable").replace("/", "_")
                      for v in optimizer._trainable_variables]
        if optimizer._model_variables_moving_average:
            paths += [f"{name}/{r}_average" for r in references]
        if optimizer._accumulated_gradients:
            paths += [f"{name}/{r}_gradient_accumulator" for r in references]
        for group in optimizer._keras_slot_order:
            lists = [slot for slot in group if getattr(optimizer, slot, None)]
            paths += [f"{name}/{r}_{KERAS_SLOT_NAMES.get(slot, slot.strip('_'))}"
                      for r in references for slot in lists]
        paths += [f"{name}/{KERAS_SLOT_NAMES.get(s, s.strip('_'))}"
                  for s in optimizer._keras_scalar_state]
    paths += [v.path for v in added_variables(optimizer)]
    return paths


def _nested(pairs: list[tuple[str, Any]]) -> dict:
    """``[("a/b/c", v)]`` as ``{"a": {"b": {"c": v}}}``; a path met twice is Keras' error."""
    flat: dict[str, Any] = {}
    for path, value in pairs:
        if path in flat:
            raise ValueError(f"The following variable path is found twice in the model: "
                             f"'{path}'. `get_state_tree()` can only be called when all "
                             "variable paths are unique. Make sure to give unique names to "
                             "your layers (and other objects).")
        flat[path] = value
    nested: dict = {}
    for path, value in flat.items():
        *parents, leaf = path.split("/")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _flat(nested: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _branches(model) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Each branch of the tree as ``(path, array)`` pairs (the arrays themselves)."""
    paths = weight_paths(model)
    branches = {
        "trainable_variables": [(paths[id(v)], v) for v in model.trainable_variables],
        "non_trainable_variables": [(paths.get(id(v), getattr(v, "path", "variable")), v)
                                    for v in model.non_trainable_variables],
        "optimizer_variables": [],
        "metrics_variables": [(f"{m.name}/{v.name}", v) for m in model.metrics
                              for v in getattr(m, "variables", [])],
    }
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        branches["optimizer_variables"] = list(zip(optimizer_paths(optimizer, model),
                                                   optimizer.variables, strict=True))
    return branches


def get_state_tree(model, value_format: str = "backend_tensor") -> dict:
    """The model's state as nested dicts keyed by Keras' paths (copies of the arrays).

    Args:
        value_format: ``"backend_tensor"`` or ``"numpy_array"`` (both give NumPy arrays
            in minired, whose backend is NumPy).

    minired's built-in metrics keep their sums in plain arrays, not Variables, so the
    ``"metrics_variables"`` branch lists only the Variables of metrics of your own.

    Example:
        >>> model = mr.Sequential([mr.Input((1,)), mr.layers.Dense(1, name="d")], name="s")
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> tree = model.get_state_tree()
        >>> sorted(tree["trainable_variables"]["s"]["d"]), list(tree["optimizer_variables"])
        (['bias', 'kernel'], ['sgd'])
    """
    if value_format not in ("backend_tensor", "numpy_array"):
        raise ValueError("Invalid `value_format` argument. Expected one of {'numpy_array', "
                         f"'backend_tensor'}}. Received: value_format={value_format}")
    return {branch: _nested([(path, np.array(v)) for path, v in pairs])
            for branch, pairs in _branches(model).items()}


def set_state_tree(model, state_tree: dict) -> None:
    """Assign the values of ``state_tree`` (as :func:`get_state_tree` gives it, or any part
    of it) to the variables of the same paths; a path the model does not have is ignored,
    as in Keras, and an unknown branch is Keras' ValueError."""
    branches = _branches(model)
    for branch, nested in state_tree.items():
        if branch not in branches:
            raise ValueError(f"Unknown variable name: {branch}")
        by_path = dict(branches[branch])
        for path, value in _flat(nested).items():
            target = by_path.get(path)
            if target is None:
                continue
            value = np.asarray(value)
            if value.shape != np.shape(target):
                raise ValueError(f"set_state_tree: {path!r} has shape {np.shape(target)}, "
                                 f"got a value of shape {value.shape}.")
            target[...] = value
