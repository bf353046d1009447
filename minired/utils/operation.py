"""``keras.Operation``: the base class of Keras' computations (every layer is one).

An Operation has a name and a ``call`` that computes outputs from inputs; Keras' layers and
ops derive from it. In minired an ``mr.layers.Layer`` counts as an Operation
(``isinstance(layer, mr.Operation)`` is True, as in Keras), and a subclass of ``Operation``
of your own runs ``call`` on arrays. On symbolic tensors (``mr.Input``) it raises
TypeError: a graph step of your own is a ``mr.layers.Layer``, whose backward minired needs.
"""

from __future__ import annotations

import abc
from typing import Any

from minired.utils.naming import auto_name


class Operation(metaclass=abc.ABCMeta):  # noqa: B024 (ABCMeta only for __subclasshook__)
    """A named computation: subclass it and write ``call``.

    Args:
        name: its name (the snake_case class name, numbered from its second use, when None).

    Example:
        >>> class Twice(Operation):
        ...     def call(self, x):
        ...         return 2 * x
        >>> op = Twice()
        >>> op(np.array([1.0, 2.0])), op.get_config()
        (array([2., 4.]), {'name': 'twice'})
        >>> isinstance(mr.layers.Dense(2), Operation)
        True
    """

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name} (of type {type(name)})")
        self.name = name or auto_name(self.__class__.__name__)

    @classmethod
    def __subclasshook__(cls, subclass: type) -> bool:
        from minired.layers.layer import Layer

        if cls is Operation and issubclass(subclass, Layer):
            return True
        return NotImplemented

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from minired.layers.keras_tensor import KerasTensor
        from minired.tree import flatten

        if any(isinstance(x, KerasTensor) for x in flatten([list(args), kwargs])):
            raise TypeError(f"Operation {self.name!r} was called on a symbolic tensor: in "
                            "minired an Operation of your own runs on arrays only. To add a "
                            "step to a model's graph, subclass mr.layers.Layer.")
        return self.call(*args, **kwargs)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """The computation (write it in a subclass)."""
        raise NotImplementedError("Exception encountered when calling Operation.call(): "
                                  f"{type(self).__name__} does not define `call`.")

    def get_config(self) -> dict:
        """``{"name": ...}``."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Operation:
        """``cls(**config)``."""
        return cls(**config)
