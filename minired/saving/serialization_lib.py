"""Objects to JSON-able dicts and back, in Keras 3's exact format.

Every object is written as Keras writes it::

    {"module": "keras.layers", "class_name": "Dense", "config": {...},
     "registered_name": None, "build_config": {...}}

so that ``keras.saving.load_model`` reads a file minired wrote, and the other way round.

Your own classes and functions are written as Keras writes them, registered or not: the
class name, its module (``None`` for ``__main__``) and ``registered_name`` (``"package>Name"``
if you registered it, else the class name); a function as ``{"module": "builtins",
"class_name": "function", "config": <its name>, "registered_name": "function"}``.

Reading is **closed**: a name in a file is only ever looked up, never imported. A
``class_name`` becomes a class only if it is one of minired's public classes (found in
``mr.layers``, ``mr.losses``, ``mr.metrics``, ``mr.optimizers``, ``mr.optimizers.schedules``,
``mr.initializers``, ``mr.regularizers``, ``mr.constraints``, ``mr.activations`` and the
models), a class you registered with :func:`~minired.saving.register_keras_serializable`,
or one you pass in ``custom_objects`` (or in a :func:`custom_object_scope`). Python code
stored in a file (a ``lambda``, a ``Lambda`` layer) is refused whatever ``safe_mode`` says:
minired has no way to run it without executing the file.

Keras writes some arguments minired does not have (``quantization_config``, a Conv
layer's ``lora_rank``...). They are listed in :data:`KERAS_ONLY_DEFAULTS`: minired writes them with
Keras' default value, and reads them only if they still hold that default; any other value
is an error that names it, since the model would not be the same.
"""

from __future__ import annotations

import contextlib
import inspect
import types
from typing import Any

import numpy as np

from minired.saving import object_registration

#: minired namespace (attribute of ``minired``) -> the Keras module its classes are written
#: under. Classes are discovered in these namespaces when a file is read or written, so a
#: class added to one of them is saved and loaded with no change here.
NAMESPACES = {
    "layers": "keras.layers",
    "losses": "keras.losses",
    "metrics": "keras.metrics",
    "optimizers": "keras.optimizers",
    "optimizers.schedules": "keras.optimizers.schedules",
    "initializers": "keras.initializers",
    "regularizers": "keras.regularizers",
    "constraints": "keras.constraints",
    "activations": "keras.activations",
    "models": "keras.models",
    "utils": "keras.utils",
    "distillation": "keras.distillation",
    "quantizers": "keras.quantizers",
}

#: Keras classes outside its public namespaces that a file can hold (FeatureSpace's
#: helpers, inside a model built on ``FeatureSpace.get_inputs``): ``(Keras module, class
#: name) -> minired class``, filled by the module that defines them. Written under that
#: module with ``registered_name`` = the class name, as Keras writes them; read back by it.
KERAS_INTERNAL_CLASSES: dict[tuple[str, str], type] = {}

#: Keras' modules for the models (what Keras writes for them).
MODEL_MODULES = {"Functional": "keras.src.models.functional", "Sequential": "keras",
                 "Model": "keras"}

#: Arguments Keras writes that minired has no concept of: class name (or a category) ->
#: ``{argument: Keras' default}``. Written with that default, accepted only with it.
KERAS_ONLY_DEFAULTS: dict[str, dict[str, Any]] = {
    "Dense": {"quantization_config": None},
}

#: Keys of a serialized object that are Keras bookkeeping, not arguments.
_OBJECT_KEYS = ("module", "class_name", "config", "registered_name", "build_config",
                "compile_config", "shared_object_id")

_PLAIN_TYPES = (str, int, float, bool)
_SAFE_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "float32", "float64"}

# What the current deserialization may use: set by `deserialize_keras_object` and seen by
# the from_config methods it calls (Keras' CustomObjectScope and SafeModeScope).
_SCOPE: dict[str, Any] = {"custom_objects": {}, "safe_mode": True}


# -- finding classes --------------------------------------------------------------------------
def _namespace(path: str):
    import minired

    module = minired
    for part in path.split("."):
        module = getattr(module, part)
    return module


def public_classes(path: str) -> dict[str, type]:
    """minired's public classes with a ``get_config`` in the namespace ``path``, by name."""
    found = {}
    for name in dir(_namespace(path)):
        value = getattr(_namespace(path), name)
        if (not name.startswith("_") and isinstance(value, type)
                and value.__module__.startswith("minired.") and hasattr(value, "get_config")):
            found.setdefault(value.__name__, value)
    return found


#: Public functions of a namespace that are tools, not losses or activations: a file never
#: names them (Keras' ``NON_MODELING_APIS``).
_TOOLS = frozenset({"get", "serialize", "deserialize", "check"})


def public_functions(path: str) -> dict[str, types.FunctionType]:
    """minired's public functions in the namespace ``path`` (losses, activations...)."""
    namespace = _namespace(path)
    return {name: getattr(namespace, name) for name in dir(namespace)
            if not name.startswith("_") and name not in _TOOLS
            and isinstance(getattr(namespace, name), types.FunctionType)
            and getattr(namespace, name).__module__.startswith("minired.")}


def builtin_base(cls: type) -> type | None:
    """The first of minired's public classes in ``cls``'s ancestry: ``cls`` itself for a
    built-in class, ``Dense`` for ``class MyDense(Dense)``, ``Layer`` for a plain layer of
    yours; None if there is none."""
    for klass in cls.__mro__:
        if klass.__module__.startswith("minired.") and keras_module_of(klass) is not None:
            return klass
    return None


def keras_module_of(cls: type) -> str | None:
    """The Keras module minired writes ``cls`` under, or None for a class of yours."""
    if KERAS_INTERNAL_CLASSES.get((getattr(cls, "_keras_module", None), cls.__name__)) is cls:
        return cls._keras_module
    if cls.__name__ in MODEL_MODULES and cls.__module__.startswith("minired.models"):
        return MODEL_MODULES[cls.__name__]
    for path, keras_module in NAMESPACES.items():
        if public_classes(path).get(cls.__name__) is cls:
            return keras_module
    return None


def _category(keras_module: str | None) -> str | None:
    """The minired namespace for a Keras module name (``"keras.layers"`` -> ``"layers"``)."""
    if keras_module is None:
        return None
    for path, name in NAMESPACES.items():
        if keras_module == name or keras_module.startswith(f"keras.src.{path}"):
            return path
    if keras_module in ("keras", "keras.models") or keras_module.startswith("keras.src.models"):
        return "models"
    return None


# -- writing ----------------------------------------------------------------------------------
def dtype_policy(dtype) -> dict:
    """Keras' serialized ``DTypePolicy`` for a dtype name (what every layer config holds)."""
    return {"module": "keras", "class_name": "DTypePolicy",
            "config": {"name": str(np.dtype(dtype))}, "registered_name": None}


def serialize_keras_object(obj) -> Any:
    """A JSON-able form of ``obj``: plain values as they are, objects as Keras' dict.

    Example:
        >>> serialize_keras_object(mr.regularizers.L2(0.01))
        {'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 0.01}, \
'registered_name': None}
    """
    if obj is None or isinstance(obj, _PLAIN_TYPES):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                      "dtype": str(obj.dtype)}}
    if isinstance(obj, list | tuple):
        return [serialize_keras_object(item) for item in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r} ({type(obj).__name__}): it has no "
                        "get_config() method.")
    cls = type(obj)
    config = serialize_keras_object(obj.get_config())
    if hasattr(obj, "_keras_slot_order") and hasattr(getattr(obj, "_learning_rate", None),
                                                     "get_config"):
        # an optimizer with a schedule: Keras writes the schedule as a full object
        config["learning_rate"] = serialize_keras_object(obj._learning_rate)
    for key, value in _keras_only_defaults(cls, ("optimizers", "losses")).items():
        config.setdefault(key, value)         # (layers write their own in get_config)
    keras_module = keras_module_of(cls)
    if (keras_module, cls.__name__) in KERAS_INTERNAL_CLASSES:
        registered_name = cls.__name__
    elif keras_module is not None:
        registered_name = "Functional" if keras_module == MODEL_MODULES["Functional"] else None
    else:
        # A class of yours, as Keras writes it: "package>Name" if registered, else its name;
        # loading it then needs the class (registered, or in custom_objects).
        registered_name = object_registration.get_registered_name(cls)
        keras_module = None if cls.__module__ == "__main__" else cls.__module__
    serialized = {"module": keras_module, "class_name": cls.__name__, "config": config,
                  "registered_name": registered_name}
    if hasattr(obj, "get_build_config"):
        build_config = obj.get_build_config()
        if build_config is not None:
            serialized["build_config"] = serialize_keras_object(build_config)
    if hasattr(obj, "get_compile_config"):
        serialized["compile_config"] = serialize_keras_object(obj.get_compile_config())
    return serialized


def _serialize_function(fn: types.FunctionType) -> dict:
    """A named function as Keras writes every one (minired's, registered or not): only its
    name, ``"package>name"`` if registered. Loading finds it by that name among minired's
    functions, the registered ones and ``custom_objects``.

    Example:
        >>> _serialize_function(mr.losses.mean_squared_error)
        {'module': 'builtins', 'class_name': 'function', 'config': 'mean_squared_error', \
'registered_name': 'function'}
    """
    if fn.__name__ == "<lambda>":
        raise ValueError("Cannot save a lambda: a file cannot hold Python code safely. Use a "
                         "named function registered with @mr.saving.register_keras_serializable.")
    return {"module": "builtins", "class_name": "function",
            "config": object_registration.get_registered_name(fn),
            "registered_name": "function"}


# -- reading ----------------------------------------------------------------------------------
def scoped_custom_objects() -> dict[str, Any]:
    """The ``custom_objects`` of the active :func:`deserialization_scope` (or
    :class:`CustomObjectScope`); empty outside one."""
    return _SCOPE["custom_objects"]


@contextlib.contextmanager
def deserialization_scope(custom_objects: dict | None = None, safe_mode: bool = True):
    """Make ``custom_objects`` and ``safe_mode`` visible to nested ``from_config`` calls."""
    previous = dict(_SCOPE)
    _SCOPE["custom_objects"] = {**previous["custom_objects"], **(custom_objects or {})}
    _SCOPE["safe_mode"] = safe_mode
    try:
        yield
    finally:
        _SCOPE.update(previous)


class CustomObjectScope:
    """A ``with`` block in which your classes and functions can be loaded by name, as
    Keras' ``keras.saving.custom_object_scope`` (the same as passing ``custom_objects`` to
    every ``load_model``, ``from_config`` and ``deserialize_keras_object`` inside it).

    Args:
        custom_objects: ``{name: class or function}`` (several dicts are merged).

    Example:
        >>> class Twice(mr.layers.Layer):
        ...     def call(self, inputs):
        ...         return 2 * inputs
        >>> config = serialize_keras_object(Twice(name="twice"))
        >>> with CustomObjectScope({"Twice": Twice}):
        ...     layer = deserialize_keras_object(config)
        >>> type(layer).__name__, layer.name
        ('Twice', 'twice')
    """

    def __init__(self, *custom_objects: dict | None) -> None:
        self.custom_objects: dict[str, Any] = {}
        for objects in custom_objects:
            if objects is not None and not isinstance(objects, dict):
                raise TypeError("custom_object_scope: expected dicts {name: class or "
                                f"function}}, got {type(objects).__name__}.")
            self.custom_objects.update(objects or {})
        self._scope = None

    def __enter__(self) -> CustomObjectScope:
        self._scope = deserialization_scope(self.custom_objects, _SCOPE["safe_mode"])
        self._scope.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self._scope.__exit__(*exc_info)


#: Keras' other name for :class:`CustomObjectScope`.
custom_object_scope = CustomObjectScope


def deserialize_in(path: str, config, custom_objects: dict | None = None):
    """Keras' ``keras.<path>.deserialize``: the object a serialized dict describes, or, for
    a name, the class of that name made with no arguments (or the function of that name)
    from ``custom_objects`` or minired's namespace ``path`` (its ``get`` for the aliases).

    Example:
        >>> deserialize_in("regularizers", {"class_name": "L2", "config": {"l2": 0.5}}).l2
        0.5
        >>> type(deserialize_in("losses", "MeanSquaredError")).__name__
        'MeanSquaredError'
    """
    if not isinstance(config, str):
        return deserialize_keras_object(config, custom_objects=custom_objects)
    found = (custom_objects or {}).get(config)
    if found is None:
        found = public_classes(path).get(config) or public_functions(path).get(config)
    if isinstance(found, type):
        return found()
    if found is not None:
        return found
    get = getattr(_namespace(path), "get", None)
    if get is None:
        raise ValueError(f"mr.{path}.deserialize: unknown name {config!r}; pass a config dict "
                         "(from serialize) or the object in custom_objects.")
    return get(config)


def is_serialized_object(value) -> bool:
    return isinstance(value, dict) and "class_name" in value


def deserialize_keras_object(config, custom_objects: dict | None = None,
                             safe_mode: bool = True, compile: bool = True):
    """Rebuild an object from :func:`serialize_keras_object`'s output (or Keras').

    Plain values, lists and dicts without ``class_name`` are returned (their items
    rebuilt). Only known names are used (see the module docstring); anything else is a
    ValueError that names the class and says how to provide it.
    """
    with deserialization_scope(custom_objects, safe_mode):
        return _deserialize(config, compile)


def _deserialize(config, compile: bool = True):
    if config is None or isinstance(config, _PLAIN_TYPES):
        return config
    if isinstance(config, list | tuple):
        return [_deserialize(item) for item in config]
    if not isinstance(config, dict):
        raise ValueError(f"Cannot deserialize {type(config).__name__}: {config!r}.")
    if "class_name" not in config:
        return {key: _deserialize(value) for key, value in config.items()}
    class_name = config["class_name"]
    if not isinstance(class_name, str):
        raise ValueError(f"Invalid `class_name` in a saved config: {class_name!r}.")
    inner = config.get("config")
    special = _deserialize_special(class_name, inner)
    if special is not _NOT_SPECIAL:
        return special
    module, registered_name = config.get("module"), config.get("registered_name")
    if class_name == "function":
        return _retrieve_function(inner, module, registered_name)
    if class_name == "DTypePolicy":
        return inner.get("name") if isinstance(inner, dict) else None
    cls = retrieve_class(class_name, module, registered_name)
    inner = strip_keras_only(cls, _category(module) or "", dict(inner or {}))
    obj = cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    build_config = config.get("build_config")
    if build_config and hasattr(obj, "build_from_config") and not getattr(obj, "built", False):
        obj.build_from_config(build_config)
    compile_config = config.get("compile_config")
    if compile and compile_config and hasattr(obj, "compile_from_config"):
        obj.compile_from_config(compile_config)
    return obj


_NOT_SPECIAL = object()


def _deserialize_special(class_name: str, inner):
    """Keras' ``__numpy__``, ``__bytes__``... and the refusals of code."""
    if class_name == "__lambda__":    # (a Lambda layer refuses its own: Lambda.from_config)
        raise ValueError(
            "The file holds a lambda: "
            "Python code stored in a model file. minired never runs code from a file, "
            "whatever safe_mode says. Rewrite it as a layer class, register it with "
            "@mr.saving.register_keras_serializable() and load again.")
    if class_name in ("__numpy__", "__tensor__"):
        dtype = str(inner.get("dtype"))
        if dtype not in _SAFE_DTYPES:
            raise ValueError(f"Refusing an array of dtype {dtype!r} in a saved config.")
        return np.asarray(inner["value"], dtype=dtype)
    if class_name == "__bytes__":
        return str(inner["value"]).encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(_deserialize(inner.get(k)) for k in ("start", "stop", "step")))
    if class_name.startswith("__") and class_name != "__keras_tensor__":
        raise ValueError(f"minired cannot read the Keras object {class_name!r} from a file.")
    return _NOT_SPECIAL


def retrieve_class(class_name: str, module: str | None, registered_name: str | None) -> type:
    """The class a file names: custom objects first, then minired's public classes."""
    custom = _SCOPE["custom_objects"]
    for name in (registered_name, class_name):
        if name:
            found = object_registration.get_registered_object(name, custom)
            if found is not None:
                return found
    if (module, class_name) in KERAS_INTERNAL_CLASSES:
        return KERAS_INTERNAL_CLASSES[(module, class_name)]
    category = _category(module)
    candidates = [category] if category else []
    is_yours = registered_name not in (None, "Functional")   # Keras writes None for its own
    if category is None and not is_yours and (module is None or module.startswith("keras")):
        candidates = list(NAMESPACES)      # an old or unusual Keras module name
    for path in candidates:
        if path == "models":
            import minired.models as models

            cls = getattr(models, class_name, None) if class_name in MODEL_MODULES else None
        else:
            cls = public_classes(path).get(class_name)
        if cls is not None:
            return cls
    where = f" (module {module!r})" if module else ""
    if is_yours or (module and not module.startswith("keras")):
        hint = ("It is not a Keras class: pass it as custom_objects={" f"{class_name!r}: "
                f"{class_name}" "} or register it with @mr.saving.register_keras_serializable().")
    else:
        hint = (f"minired does not implement Keras' {class_name}, so this model cannot be "
                "loaded in minired (nothing was loaded).")
    raise ValueError(f"Unknown class {class_name!r}{where}. {hint}")


def _retrieve_function(name, module: str | None, registered_name: str | None):
    """The function a file names (``config`` holds its name): custom objects first, then
    minired's public functions (Keras' own lookup; ``registered_name`` is just "function")."""
    if not isinstance(name, str):
        raise ValueError(f"Invalid function name in a saved config: {name!r}.")
    custom = _SCOPE["custom_objects"]
    found = object_registration.get_registered_object(name, custom)
    if found is not None:
        return found
    category = _category(module)
    paths = [category] if category in ("losses", "metrics", "activations") else [
        "losses", "metrics", "activations"]
    for path in paths:
        fn = public_functions(path).get(name)
        if fn is not None:
            return fn
    if ">" not in name:          # Keras: a function registered as "package>name" fits too
        for key, value in custom.items():
            if key.endswith(f">{name}"):
                return value
    raise ValueError(f"Unknown function {name!r} (module {module!r}): it is not a minired "
                     f"function. Pass it as custom_objects={{{name!r}: {name.split('>')[-1]}}} "
                     "or register it with @mr.saving.register_keras_serializable().")


def _keras_only_defaults(cls: type, categories=None) -> dict[str, Any]:
    """The :data:`KERAS_ONLY_DEFAULTS` of ``cls``'s built-in base (so ``class MyDense(Dense)``
    has Dense's), by class name, else by its category; only for ``categories`` if given."""
    base = builtin_base(cls)
    if base is None:
        return {}
    category = _category(keras_module_of(base))
    if (categories is not None and category not in categories) or category == "metrics":
        return {}       # (metrics share class names with losses, not their missing arguments)
    return KERAS_ONLY_DEFAULTS.get(base.__name__, KERAS_ONLY_DEFAULTS.get(category, {}))


def strip_keras_only(cls: type, category: str, config: dict) -> dict:
    """Remove the Keras-only arguments that hold their default; refuse any other value.

    The arguments are those of ``cls``'s built-in base class (``category`` is kept for the
    callers' signature; the base tells it).

    Example:
        >>> class MyDense(mr.layers.Dense):
        ...     pass
        >>> "quantization_config" in strip_keras_only(MyDense, "layers",
        ...                                           {"units": 2, "quantization_config": None})
        False
    """
    defaults = _keras_only_defaults(cls)
    for key, default in defaults.items():
        if key in config:
            value = config.pop(key)
            if value != default:
                raise ValueError(
                    f"{cls.__name__}: the file sets `{key}`={value!r}, which minired does not "
                    f"implement (only Keras' default, {default!r}, can be loaded).")
    return config


def check_arguments(cls: type, config: dict) -> None:
    """Refuse config keys that ``cls`` does not accept, naming them (before creating it)."""
    parameters = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    unknown = [key for key in config if key not in parameters]
    if unknown:
        raise ValueError(f"{cls.__name__}: the file gives arguments minired does not have: "
                         f"{unknown}.")


def shape_from_json(value):
    """A shape from JSON (a list) as a tuple; a list of shapes as a list of tuples."""
    if value is None:
        return None
    if isinstance(value, list | tuple) and value and all(
            isinstance(v, list | tuple) for v in value):
        return [shape_from_json(v) for v in value]
    if isinstance(value, dict):     # Keras' {"input_shape": ...} of several named inputs
        return [shape_from_json(v) for v in value.values()]
    if not isinstance(value, list | tuple) or not all(
            v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
            for v in value):
        raise ValueError(f"Invalid shape in a saved config: {value!r}.")
    return tuple(value)


def serialize_activation(fn) -> Any:
    """An activation as Keras writes it in a layer config: its name for a built-in one
    (``"relu"``), else the serialized function or object."""
    fn = inspect.unwrap(fn)        # a function of yours, not the wrapper that derives it
    name = getattr(fn, "__name__", None)
    if name is not None and public_functions("activations").get(name) is fn:
        return name
    return serialize_keras_object(fn)
