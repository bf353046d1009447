"""Weight penalties by Keras name: ``mr.regularizers.get("l2")``."""

from __future__ import annotations

from minired.regularizers.l1 import L1, l1
from minired.regularizers.l1l2 import L1L2, l1_l2
from minired.regularizers.l2 import L2, l2
from minired.regularizers.orthogonal import OrthogonalRegularizer, orthogonal_regularizer
from minired.regularizers.regularizer import Regularizer
from minired.utils.naming import lookup

# Keras accepts the class names and their snake_case forms. The snake_case of "L1L2" is
# "l1l2", so the string "l1_l2" is unknown even though `l1_l2` is exported as a class alias.
ALL_REGULARIZERS = {"l1": L1, "L1": L1, "l2": L2, "L2": L2, "l1l2": L1L2, "L1L2": L1L2,
                    "orthogonal_regularizer": OrthogonalRegularizer,
                    "OrthogonalRegularizer": OrthogonalRegularizer}


def get(identifier: str | Regularizer | type | None) -> Regularizer | None:
    """Return a regularizer for a Keras name (default arguments), an instance, or None.

    A Regularizer subclass is instantiated with its defaults, as in Keras.

    Example:
        >>> get("l2").l2
        0.01
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return lookup("regularizer", identifier, ALL_REGULARIZERS)()
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    raise TypeError(
        "`regularizer` must be a name such as 'l2', a Regularizer instance (minired needs "
        f"its `gradient` method) or None, got {identifier!r} ({type(identifier).__name__})."
    )


def serialize(regularizer) -> dict:
    """``regularizer`` as Keras' JSON-able dict
    (:func:`~minired.saving.serialize_keras_object`)."""
    from minired.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects: dict | None = None):
    """The regularizer that ``config`` (a :func:`serialize` dict, or a name) describes; your
    classes come from ``custom_objects`` or the registered ones, as Keras."""
    from minired.saving.serialization_lib import deserialize_in

    return deserialize_in("regularizers", config, custom_objects)


__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]
