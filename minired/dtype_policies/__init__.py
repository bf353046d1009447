"""Dtype policies, as ``keras.dtype_policies``: which dtype a layer computes in and keeps its
weights in (see :mod:`minired.dtype_policies.dtype_policy`).

minired computes every layer in the global policy's dtype, ``"float32"`` (Keras' default)
or ``"float64"``; mixed precision, float16, bfloat16 and the quantized policies raise
ValueError where a script names them.
"""

from __future__ import annotations

from minired.dtype_policies import dtype_policy
from minired.dtype_policies.dtype_policy import (
    QUANTIZATION_MODES,
    AWQDTypePolicy,
    DTypePolicy,
    FloatDTypePolicy,
    GPTQDTypePolicy,
    Int4DTypePolicy,
    QuantizedDTypePolicy,
    QuantizedFloat8DTypePolicy,
    quantized_policy,
)
from minired.dtype_policies.dtype_policy_map import DTypePolicyMap
from minired.utils.dtype_utils import standardize_dtype

#: The classes a serialized policy may name (Keras' ``ALL_OBJECTS_DICT``).
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in (
    DTypePolicy, FloatDTypePolicy, DTypePolicyMap, QuantizedDTypePolicy,
    QuantizedFloat8DTypePolicy, Int4DTypePolicy, GPTQDTypePolicy, AWQDTypePolicy)}
#: The module Keras writes in a serialized policy.
_KERAS_MODULES = {DTypePolicyMap: "keras.dtype_policies"}


def serialize(dtype_policy: DTypePolicy) -> dict:
    """A policy as Keras writes it in a layer's config.

    Example:
        >>> serialize(DTypePolicy("float64"))
        {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float64'}, \
'registered_name': None}
    """
    if not isinstance(dtype_policy, DTypePolicy):
        raise TypeError(f"serialize: expected a DTypePolicy, got {dtype_policy!r}.")
    return {"module": _KERAS_MODULES.get(type(dtype_policy), "keras"),
            "class_name": type(dtype_policy).__name__,
            "config": dtype_policy.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects: dict | None = None) -> DTypePolicy:
    """The policy :func:`serialize` wrote (by its ``class_name``; no code is imported).

    Args:
        config: a serialized policy, ``{"class_name": ..., "config": {...}}``.
        custom_objects: more classes, by name.

    Example:
        >>> deserialize({"class_name": "DTypePolicy", "config": {"name": "float64"}})
        <DTypePolicy "float64">
    """
    if isinstance(config, str):
        return get(config)
    classes = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in classes:
        raise ValueError(f"deserialize: expected a serialized dtype policy whose class_name is "
                         f"one of {sorted(ALL_OBJECTS_DICT)}, got {config!r}.")
    return classes[name].from_config(config.get("config") or {})


def get(identifier) -> DTypePolicy:
    """The policy ``identifier`` names: None (the global policy), a name, a
    :class:`DTypePolicy`, a serialized policy or a dtype.

    Example:
        >>> get("float64"), get(None), get(np.float64)
        (<DTypePolicy "float64">, <DTypePolicy "float32">, <DTypePolicy "float64">)
    """
    if identifier is None:
        return dtype_policy.dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.startswith(QUANTIZATION_MODES):
            return quantized_policy(identifier)
        return DTypePolicy(identifier)
    try:
        name = standardize_dtype(identifier)
    except (ValueError, TypeError):
        raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance "
                         f"of DTypePolicy. Received: dtype={identifier}") from None
    return DTypePolicy(name)


__all__ = ["DTypePolicy", "FloatDTypePolicy", "DTypePolicyMap", "QuantizedDTypePolicy",
           "QuantizedFloat8DTypePolicy", "Int4DTypePolicy", "GPTQDTypePolicy",
           "AWQDTypePolicy", "get", "serialize", "deserialize"]
