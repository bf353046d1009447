"""Keras 2's JSON format for one object, ``{"class_name": ..., "config": {...}}``, as
``keras.legacy.saving`` (also ``keras.utils.legacy``).

It is the format of Keras 2's model JSON and HDF5 files: an object becomes its class name
and its ``get_config()``, in which every value that is itself an object with a config is
serialized the same way and marked ``"__passive_serialization__": True``, and a function
becomes its (registered) name. Keras 3's own format (:mod:`minired.saving.serialization_lib`)
adds ``module`` and ``registered_name``; this one does not.

Deserializing looks a class name up only in the dicts it is given (``module_objects``,
``custom_objects``) and in the registered custom objects: nothing is imported and no code
named in the data runs.
"""

from __future__ import annotations

import inspect
from typing import Any

from minired.saving.object_registration import get_registered_name, get_registered_object


def serialize_keras_object(instance: Any) -> dict | str | None:
    """The Keras 2 JSON form of ``instance``: ``{"class_name", "config"}``, or a function's
    name.

    Args:
        instance: an object with ``get_config()`` (a layer, an optimizer...), a function,
            or None.

    Example:
        >>> serialize_keras_object(mr.optimizers.SGD(0.5, name="sgd"))["config"]["learning_rate"]
        0.5
        >>> serialize_keras_object(mr.activations.relu)
        'relu'
    """
    instance = inspect.unwrap(instance)
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        config = instance.get_config()
        serialized = {}
        for key, item in config.items():
            if isinstance(item, str):
                serialized[key] = item
                continue
            try:
                value = serialize_keras_object(item)
                if isinstance(value, dict) and not isinstance(item, dict):
                    value["__passive_serialization__"] = True
                serialized[key] = value
            except ValueError:            # a number, a list, a Keras 3 config dict...
                serialized[key] = item
        return {"class_name": get_registered_name(instance.__class__), "config": serialized}
    if hasattr(instance, "__name__"):
        return get_registered_name(instance)
    raise ValueError(f"Cannot serialize {instance} because it doesn't implement "
                     "`get_config()`.")


def _lookup(name: str, custom_objects: dict | None, module_objects: dict | None) -> Any:
    """The object called ``name`` in the registered objects, ``custom_objects`` or
    ``module_objects`` (None if none has it)."""
    found = get_registered_object(name, custom_objects)
    if found is None and module_objects:
        found = module_objects.get(name)
    return found


def _unknown(printable_module_name: str, name: str) -> ValueError:
    return ValueError(f"Unknown {printable_module_name}: '{name}'. Please ensure you are "
                      "using a `keras.utils.custom_object_scope` and that this object is "
                      "included in the scope. See https://www.tensorflow.org/guide/keras/"
                      "save_and_serialize#registering_the_custom_object for details.")


def class_and_config_for_serialized_keras_object(
        config: dict, module_objects: dict | None = None, custom_objects: dict | None = None,
        printable_module_name: str = "object") -> tuple[Any, Any]:
    """The class named by ``config["class_name"]`` and its config, with the passively
    serialized values (and the names of known functions) turned back into objects."""
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(f"Improper config format for {config}. Expecting python dict "
                         "contains `class_name` and `config` as keys")
    class_name = config["class_name"]
    cls = _lookup(class_name, custom_objects, module_objects)
    if cls is None:
        raise _unknown(printable_module_name, class_name)
    cls_config = config["config"]
    if isinstance(cls_config, list):      # Keras 2.0's Sequential: a list of layer configs
        return cls, cls_config
    restored = {}
    for key, item in cls_config.items():
        if key == "name":
            restored[key] = item
        elif isinstance(item, dict) and "__passive_serialization__" in item:
            restored[key] = deserialize_keras_object(
                item, module_objects=module_objects, custom_objects=custom_objects,
                printable_module_name="config_item")
        elif isinstance(item, str) and inspect.isfunction(
                _lookup(item, custom_objects, module_objects)):
            restored[key] = _lookup(item, custom_objects, module_objects)
    cls_config.update(restored)
    return cls, cls_config


def deserialize_keras_object(identifier: Any, module_objects: dict | None = None,
                             custom_objects: dict | None = None,
                             printable_module_name: str = "object") -> Any:
    """Build the object a Keras 2 JSON form describes.

    Args:
        identifier: a ``{"class_name", "config"}`` dict, a name, a function, or None.
        module_objects: the built-in objects to look names up in (name -> class/function);
            as in Keras, nothing is found without it but registered and custom objects.
        custom_objects: your own objects, name -> class/function.
        printable_module_name: the kind of object, for error messages.

    Example:
        >>> config = {"class_name": "Dense", "config": {"units": 2, "name": "out"}}
        >>> layer = deserialize_keras_object(config, module_objects={"Dense": mr.layers.Dense})
        >>> layer.units, layer.name
        (2, 'out')
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        cls, cls_config = class_and_config_for_serialized_keras_object(
            identifier, module_objects, custom_objects, printable_module_name)
        if hasattr(cls, "from_config"):
            if "custom_objects" in inspect.getfullargspec(cls.from_config).args:
                from minired.saving.object_registration import get_custom_objects

                return cls.from_config(cls_config, custom_objects={
                    **get_custom_objects(), **(custom_objects or {})})
            from minired.saving import custom_object_scope

            with custom_object_scope(custom_objects or {}):
                return cls.from_config(cls_config)
        from minired.saving import custom_object_scope

        with custom_object_scope(custom_objects or {}):
            return cls(**cls_config)          # a function that returns an object
    if isinstance(identifier, str):
        obj = _lookup(identifier, custom_objects, module_objects)
        if obj is None:
            raise _unknown(printable_module_name, identifier)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier}")
