"""Weight constraints by Keras name: ``mr.constraints.get("max_norm")``.

A constraint ``c`` given to a layer (``Dense(8, kernel_constraint=MaxNorm(3))``) projects
the weights after every optimizer step, ``W ← c(W)``, as Keras does.
"""

from __future__ import annotations

from collections.abc import Callable

from minired.constraints.constraint import Constraint
from minired.constraints.max_norm import MaxNorm, max_norm
from minired.constraints.min_max_norm import MinMaxNorm, min_max_norm
from minired.constraints.non_neg import NonNeg, non_neg
from minired.constraints.unit_norm import UnitNorm, unit_norm
from minired.utils.naming import lookup

# Keras accepts the class names and their snake_case forms (its ALL_OBJECTS_DICT).
ALL_CONSTRAINTS = {
    "Constraint": Constraint, "constraint": Constraint,
    "MaxNorm": MaxNorm, "max_norm": MaxNorm,
    "MinMaxNorm": MinMaxNorm, "min_max_norm": MinMaxNorm,
    "NonNeg": NonNeg, "non_neg": NonNeg,
    "UnitNorm": UnitNorm, "unit_norm": UnitNorm,
}


def get(identifier) -> Callable | None:
    """Return a constraint for a Keras name (default arguments), a config dict, a class
    (made with its defaults), a callable (returned as it is), or None.

    Example:
        >>> get("max_norm").get_config()
        {'max_value': 2, 'axis': 0}
        >>> get({"class_name": "UnitNorm", "config": {"axis": 1}}).axis
        1
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return lookup("constraint", identifier, ALL_CONSTRAINTS)()
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        "`constraint` must be a name such as 'max_norm', a config dict, a Constraint or "
        f"another callable, or None; got {identifier!r} ({type(identifier).__name__})."
    )


def serialize(constraint) -> dict:
    """``constraint`` as Keras' JSON-able dict
    (:func:`~minired.saving.serialize_keras_object`).

    Example:
        >>> serialize(MaxNorm(3))["config"]
        {'max_value': 3, 'axis': 0}
    """
    from minired.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(constraint)


def deserialize(config, custom_objects: dict | None = None):
    """The constraint that ``config`` (a :func:`serialize` dict, or a name) describes; your
    classes come from ``custom_objects`` or the registered ones, as Keras.

    Example:
        >>> deserialize({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}).max_value
        3
    """
    from minired.saving.serialization_lib import deserialize_in

    return deserialize_in("constraints", config, custom_objects)


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm",
           "min_max_norm", "non_neg", "unit_norm", "get", "serialize", "deserialize"]
