"""Registering your own classes so that a saved model can name them, as in Keras.

A model file names every object by ``class_name`` (and ``registered_name``); loading maps
those names back to classes. minired never imports a module named in a file: it looks the
name up in minired's own public classes, in the classes registered here, and in the
``custom_objects`` given to the loader. Nothing else can be created from a file.

Example:
    >>> @register_keras_serializable(package="Course")
    ... class Twice(mr.layers.Layer):
    ...     def forward(self, inputs, training=False):
    ...         return 2 * inputs
    >>> get_registered_name(Twice)
    'Course>Twice'
    >>> get_custom_objects()["Course>Twice"] is Twice
    True
"""

from __future__ import annotations

from typing import Any

#: ``"package>Name"`` -> class or function (Keras' ``GLOBAL_CUSTOM_OBJECTS``).
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
#: class or function -> ``"package>Name"``.
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """A decorator that registers a class (or function) under ``"package>name"``.

    Args:
        package: a namespace for your objects (default ``"Custom"``, as Keras).
        name: the name to register (default: the class or function name).
    """
    if ">" in package:
        raise ValueError(f"register_keras_serializable: `package` cannot contain '>', got "
                         f"{package!r}.")

    def decorator(obj):
        registered_name = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register {obj.__name__}: a class must have get_config() "
                             "to be saved.")
        # A name registered again (a notebook cell run twice) now means the newest object,
        # silently, as in Keras.
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered_name
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """``"package>Name"`` for a registered object, else its ``__name__``."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name: str, custom_objects: dict | None = None):
    """The object given in ``custom_objects``, in an active :class:`CustomObjectScope`, or
    registered under ``name``; None if there is none."""
    from minired.saving.serialization_lib import scoped_custom_objects

    for objects in (custom_objects, scoped_custom_objects(), _GLOBAL_CUSTOM_OBJECTS):
        if objects and name in objects:
            return objects[name]
    return None


def get_custom_objects() -> dict[str, Any]:
    """The live dict of registered objects: ``"package>Name"`` -> object (as Keras)."""
    return _GLOBAL_CUSTOM_OBJECTS
