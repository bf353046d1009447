"""Which weights carry a constraint, and the step that applies them after an update.

Keras keeps a weight's constraint on the weight itself (``variable.constraint``), and its
optimizer ends every ``apply_gradients`` with::

    for each updated variable w with a constraint c:   w ← c(w)

An ``mr.Variable`` (``add_weight(constraint=...)``) does the same. The built-in layers keep
their weights as plain NumPy arrays, which cannot hold an attribute: each one *attaches*
its constraints to its arrays when it is built (:func:`attach`), and the optimizer finds them
with :func:`constraint_of`. A custom loop that calls ``optimizer.apply_gradients(zip(grads,
model.trainable_weights))`` gets them applied too, as in Keras.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable

import numpy as np

#: id(array) -> (a weak reference to the array, its constraint). The weak reference tells
#: whether the id still belongs to that array, and removes the entry when the array is gone.
_ATTACHED: dict[int, tuple[weakref.ref, Callable]] = {}


def attach(weight: np.ndarray, constraint: Callable | None) -> None:
    """Give the array ``weight`` the constraint ``constraint`` (None removes it).

    Example:
        >>> from minired.constraints import NonNeg
        >>> w = np.array([-1.0, 2.0])
        >>> attach(w, NonNeg())
        >>> type(constraint_of(w)).__name__
        'NonNeg'
    """
    key = id(weight)
    if constraint is None:
        _ATTACHED.pop(key, None)
        return

    def forget(reference: weakref.ref) -> None:      # the array is gone: so is its entry
        if _ATTACHED.get(key, (None,))[0] is reference:
            del _ATTACHED[key]

    _ATTACHED[key] = (weakref.ref(weight, forget), constraint)


def constraint_of(weight: np.ndarray) -> Callable | None:
    """The constraint of ``weight``: an ``mr.Variable``'s ``constraint``, or the one attached
    to a layer's array; None if it has none."""
    constraint = getattr(weight, "constraint", None)
    if constraint is not None:
        return constraint
    entry = _ATTACHED.get(id(weight))
    if entry is not None and entry[0]() is weight:
        return entry[1]
    return None


def apply_constraints(variables: Iterable[np.ndarray]) -> None:
    """``w ← c(w)`` in place for each of ``variables`` that has a constraint ``c`` (Keras'
    ``variable.assign(variable.constraint(variable))``, the optimizer's last step).

    Example:
        >>> from minired.constraints import NonNeg
        >>> w = mr.Variable(np.array([-1.0, 2.0]), constraint=NonNeg())
        >>> apply_constraints([w])
        >>> w.value                       # a float32 Variable stays float32
        array([0., 2.], dtype=float32)
    """
    for variable in variables:
        constraint = constraint_of(variable)
        if constraint is None:
            continue
        projected = constraint(variable)
        if hasattr(variable, "assign"):
            variable.assign(projected)
        else:
            np.copyto(variable, projected, casting="same_kind")   # in place, dtype kept


def attach_layer_constraints(layer) -> None:
    """Attach each constraint a built layer holds to its weight array, as its class lists
    them in ``_constrained_weights``: ``(("kernel", "kernel_constraint"), ...)``; a layer
    whose arrays are not attributes lists ``(array, constraint)`` in ``_constraint_pairs()``."""
    if hasattr(layer, "_constraint_pairs"):
        pairs = layer._constraint_pairs()
    else:
        pairs = [(layer.__dict__.get(weight_name), getattr(layer, constraint_name, None))
                 for weight_name, constraint_name
                 in getattr(type(layer), "_constrained_weights", ())]
    for weight, constraint in pairs:
        if isinstance(weight, np.ndarray):
            attach(weight, constraint)
