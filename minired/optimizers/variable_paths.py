"""Keras' variable paths (``"sequential/dense/kernel"``) for the arrays an optimizer gets.

:class:`~minired.optimizers.Muon` (which variables take the AdamW step) and
:class:`~minired.optimizers.MultiOptimizer` (which optimizer updates which variable) choose
by ``variable.path``, as Keras does. A Keras variable knows its path; a built-in minired
layer keeps its weights as plain NumPy arrays, which have none. The path of such an array
comes from the model that holds it: :func:`remember_paths` writes down the path of each of a
model's weights, and :func:`path_of` reads it back when the optimizer is built.

Keras writes a path when the variable is created, from the names of the layers being built
around it. minired writes the path Keras gives in the common cases:

- a layer of a ``Sequential`` model (or of a subclassed model): ``"<model>/<layer>/<weight>"``;
- a layer of a functional model: ``"<layer>/<weight>"`` (Keras builds it outside the model);
- a model inside a model: its own paths (``"encoder/dense/kernel"``).

A :class:`~minired.Variable` of your own is found by its ``path`` (its name).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

# id(array) -> (a weak reference to the array, its path): an id is reused once the array is
# gone, so the reference tells a stale entry from a live one.
_PATHS: dict[int, tuple[weakref.ref, str]] = {}


def _weight_names(layer: Any) -> list[str]:
    """The names of ``layer``'s own weights: the attribute holding each (``"kernel"``), or a
    Variable's name, or ``"weight_<i>"``."""
    attribute_of = {id(value): name for name, value in vars(layer).items()
                    if isinstance(value, np.ndarray)}
    return [attribute_of.get(id(w), getattr(w, "name", None) or f"weight_{i}")
            for i, w in enumerate(layer.weights)]


def keras_paths(model: Any) -> list[tuple[np.ndarray, str]]:
    """Each weight of ``model`` with the path Keras gives it, in ``model.weights`` order.

    Args:
        model: a built minired model.

    Example:
        >>> import minired as mr
        >>> model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2, name="out")],
        ...                       name="net")
        >>> [path for _, path in keras_paths(model)]
        ['net/out/kernel', 'net/out/bias']
    """
    functional = type(model).__name__ == "Functional"
    prefix = "" if functional else f"{model.name}/"
    found: dict[int, tuple[np.ndarray, str]] = {}
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers"):                      # a model inside the model
            pairs = keras_paths(layer)
        else:
            pairs = [(w, f"{prefix}{layer.name}/{name}")
                     for w, name in zip(layer.weights, _weight_names(layer), strict=True)]
        for weight, path in pairs:
            found.setdefault(id(weight), (weight, path))
    own = [w for w in model.weights if id(w) not in found]   # a subclassed model's own
    for weight in own:
        found[id(weight)] = (weight, f"{prefix}{getattr(weight, 'name', 'weight')}")
    return [found[id(w)] for w in model.weights if id(w) in found]


def remember_paths(model: Any) -> None:
    """Write down the Keras path of each of ``model``'s weights for :func:`path_of`.

    Example:
        >>> import minired as mr
        >>> model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2)], name="m")
        >>> remember_paths(model)
        >>> path_of(model.layers[0].kernel)
        'm/dense/kernel'
    """
    for stale in [key for key, (ref, _) in _PATHS.items() if ref() is None]:
        del _PATHS[stale]
    for weight, path in keras_paths(model):
        _PATHS[id(weight)] = (weakref.ref(weight), path)


def path_of(variable: np.ndarray) -> str | None:
    """``variable``'s Keras path: the one :func:`remember_paths` wrote down, else its own
    ``path`` (a :class:`~minired.Variable`), else None.

    Example:
        >>> import minired as mr
        >>> path_of(mr.Variable(np.zeros(2), name="scale")), path_of(np.zeros(2))
        ('scale', None)
    """
    entry = _PATHS.get(id(variable))
    if entry is not None and entry[0]() is variable:
        return entry[1]
    return getattr(variable, "path", None)
