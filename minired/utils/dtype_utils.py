"""Dtype names and promotion, as Keras: ``standardize_dtype``, ``is_float_dtype``,
``is_int_dtype`` and ``result_type``.

Keras names a dtype by a string (``"float32"``) and promotes mixed dtypes on a *lattice*
adapted from JAX, not by NumPy's rules: ``int64`` with ``float16`` gives ``float16`` (NumPy:
``float64``), and a Python ``int`` or ``float`` is *weak*: it takes the other operand's type
(``float32`` with ``float`` stays ``float32``), or ``floatx``'s precision when alone.
"""

from __future__ import annotations

from functools import cache

from minired import config

INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
#: Every dtype name Keras accepts.
ALLOWED_DTYPES = ("float16", "float32", "float64", *INT_TYPES, "bfloat16", "bool", "string",
                  "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
#: Python's types as Keras reads them with the TensorFlow backend (int is int64 there).
PYTHON_DTYPES = {bool: "bool", int: "int64", float: "float32", str: "string",
                 complex: "complex128"}

#: Each type and the types just above it: promotion goes up until both sides meet.
#: ``"int"`` and ``"float"`` are the weak types of Python scalars.
LATTICE = {
    "bool": ["int"],
    "int": ["uint8", "int8", "complex64"],
    "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"], "uint64": ["float"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"],
    "bfloat16": ["float32"], "float16": ["float32"], "float32": ["float64", "complex64"],
    "float64": ["complex128"], "complex64": ["complex128"], "complex128": [],
}


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name: ``"float32"``, ``"int64"``... (``None`` gives ``floatx``; Python's
    ``float`` is ``"float32"`` and ``int`` is ``"int64"``, as Keras with TensorFlow).

    Args:
        dtype: a name, a NumPy dtype or scalar type, a Python type, or None.

    Example:
        >>> standardize_dtype(np.float64), standardize_dtype(float), standardize_dtype(None)
        ('float64', 'float32', 'float32')
    """
    if dtype is None:
        return config.floatx()
    for python_type, name in PYTHON_DTYPES.items():
        if dtype is python_type:
            return name
    if dtype == "int":
        return "int64"
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if not isinstance(name, str):
        name = getattr(dtype, "__name__", None)
    if name not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return name


def is_float_dtype(dtype) -> bool:
    """Whether ``dtype`` is a float type (``float16/32/64``, ``bfloat16``).

    Example:
        >>> is_float_dtype("float32"), is_float_dtype(np.int32)
        (True, False)
    """
    name = standardize_dtype(dtype)
    return name.startswith("float") or name.startswith("bfloat")


def is_int_dtype(dtype) -> bool:
    """Whether ``dtype`` is a signed or unsigned integer type.

    Example:
        >>> is_int_dtype("uint8"), is_int_dtype(float)
        (True, False)
    """
    name = standardize_dtype(dtype)
    return name.startswith("int") or name.startswith("uint")


def result_type(*dtypes) -> str:
    """The dtype Keras gives an operation on ``dtypes``: the lowest type of :data:`LATTICE`
    that every one of them reaches going up (their least upper bound).

    Python's ``int`` and ``float`` are weak: beside a typed operand they join as the nodes
    ``"int"``/``"float"`` just above ``bool``/``int64``, so the typed operand decides; a weak
    result takes the precision of ``floatx`` (``result_type(float)`` is ``"float32"``).
    ``None`` counts as ``floatx``, no dtype at all gives ``floatx``, and as Keras with
    TensorFlow, ``uint64`` ends as ``uint32`` and ``complex128`` as ``complex64``.

    Example:
        >>> result_type("int32", "float32"), result_type("int64", "float16")
        ('float32', 'float16')
        >>> result_type("float16", float), result_type("int8", int), result_type(int, float)
        ('float16', 'int8', 'float32')
    """
    if not dtypes:
        return config.floatx()
    if any(d in ("float8_e4m3fn", "float8_e5m2") for d in dtypes):
        raise ValueError("There is no implicit conversions from float8 dtypes to others. "
                         f"You must cast it internally. Received: {dtypes}")
    names = [standardize_dtype(config.floatx() if d is None else d) for d in dtypes]
    weak = [d is int or d is float for d in dtypes]
    if len(names) == 1:
        result, result_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        result, result_weak = names[0], False
    elif all(weak):
        result, result_weak = _least_upper_bound(frozenset(names)), True
    else:
        result = _least_upper_bound(frozenset(_weak(n, w) for n, w in zip(names, weak,
                                                                          strict=True)))
        result_weak = result in ("int", "float")
    if result_weak and result != "bool":
        result = _resolve_weak(result)
    return {"uint64": "uint32", "complex128": "complex64"}.get(result, result)


def _weak(name: str, weak: bool) -> str:
    """A Python scalar's node on the lattice: ``"int"`` or ``"float"``."""
    if not weak or name == "bool":
        return name
    return "float" if "float" in name else "int" if "int" in name else "complex64"


def _resolve_weak(name: str) -> str:
    """A weak result at floatx's precision: ``"int"`` is ``int32`` under float32."""
    bits = config.floatx()[-2:]
    return {"i": f"int{bits}", "u": f"uint{bits}", "b": "bool"}.get(name[0], f"float{bits}")


@cache
def _upper_bounds(node: str) -> frozenset:
    """``node`` and every type above it on the lattice."""
    if node not in LATTICE:
        raise ValueError(f"dtype={node!r} is not a valid dtype for Keras type promotion.")
    above = {node}
    for parent in LATTICE[node]:
        above |= _upper_bounds(parent)
    return frozenset(above)


@cache
def _least_upper_bound(nodes: frozenset) -> str:
    common = frozenset.intersection(*(_upper_bounds(n) for n in nodes))
    lowest = [c for c in common if common <= _upper_bounds(c)]
    if len(lowest) != 1:
        raise ValueError(f"Input dtypes {tuple(sorted(nodes))} have no available implicit "
                         "dtype promotion path. Try explicitly casting inputs to the desired "
                         "output type.")
    return lowest[0]
