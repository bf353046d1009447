"""``DTypePolicy``: the dtype a layer computes in and keeps its weights in, as Keras'.

A policy has a *compute dtype* (the dtype of a layer's inputs, outputs and arithmetic) and
a *variable dtype* (the dtype of its weights). In Keras they differ only under mixed
precision (``"mixed_float16"``: compute in float16, weights in float32). minired computes
every layer in one float dtype, ``"float32"`` or ``"float64"``: the *global* policy's, which
is ``mr.config.floatx()`` until :func:`set_dtype_policy` names another one::

    mr.config.set_dtype_policy("float64")     # new layers: float64 weights and arithmetic
    mr.layers.Dense(3).compute_dtype          # 'float64'

Policies minired cannot compute raise ValueError where a script names them (a policy, a
layer's ``dtype``, :func:`set_dtype_policy`, a file being loaded), never computing something
else in silence: float16 and bfloat16 (NumPy has no bfloat16; training in float16 needs the
loss scaling and float32 master weights of mixed precision), ``"mixed_float16"`` and
``"mixed_bfloat16"``, and the quantized policies (``"int8_from_float32"``...).
"""

from __future__ import annotations

from minired import config
from minired.utils.dtype_utils import is_float_dtype, standardize_dtype

#: The float dtypes minired's layers compute in.
SUPPORTED_FLOATS = ("float32", "float64")
#: The prefixes of Keras' quantized policy names ("int8_from_float32", ...).
QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")
MIXED_PRECISION = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def unsupported(name: str, what: str) -> ValueError:
    """The error for a policy minired cannot compute: its name, what it does, what works."""
    return ValueError(f"The dtype policy {name!r} {what}: minired computes every layer in one "
                      f"float dtype, 'float32' or 'float64' (no float16 or bfloat16, no mixed "
                      f"precision, no quantization). Use the policy 'float32' or 'float64'.")


class DTypePolicy:
    """The dtypes of a layer: ``compute_dtype`` (its arithmetic) and ``variable_dtype``
    (its weights), both the dtype ``name`` names.

    Pass one, or its name, as a layer's ``dtype`` (``Dense(3, dtype="float64")``), or set
    it for every new layer with :func:`set_dtype_policy`. minired runs each layer in the
    global policy's dtype, so a layer's own policy must name that same dtype.

    Args:
        name: a dtype name (``"float32"``, ``"float64"``; an integer, ``"bool"`` or
            ``"string"`` also makes a policy, as preprocessing layers write them), or None
            for the global policy's name. ``"mixed_float16"``, ``"mixed_bfloat16"``,
            ``"float16"``, ``"bfloat16"`` and the float8 types raise ValueError (see the
            module's docstring).

    Example:
        >>> policy = DTypePolicy("float64")
        >>> policy, policy.compute_dtype, policy.variable_dtype
        (<DTypePolicy "float64">, 'float64', 'float64')
        >>> policy.get_config()
        {'name': 'float64'}
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = dtype_policy().name
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)
        self._quantization_mode = None

    def _parse_name(self, name) -> tuple[str, str]:
        """``(compute_dtype, variable_dtype)`` for ``name``, or Keras' errors and minired's
        refusals."""
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'mixed_float16'. "
                            f"Received: name={name} (of type {type(name)})")
        if name in MIXED_PRECISION:
            raise unsupported(name, f"computes in {MIXED_PRECISION[name]} with float32 "
                                    "weights (mixed precision)")
        try:
            dtype = standardize_dtype(name)
        except ValueError:
            raise ValueError(f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid "
                             "policies include 'mixed_float16', 'mixed_bfloat16', and the name "
                             "of any float dtype such as 'float32'.") from None
        if is_float_dtype(dtype) and dtype not in SUPPORTED_FLOATS:
            raise unsupported(name, f"computes in {dtype}")
        return dtype, dtype

    @property
    def name(self) -> str:
        """The policy's name, e.g. ``"float32"``."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's inputs, outputs and arithmetic."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights (the compute dtype: no mixed precision)."""
        return self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """None: minired's policies are never quantized."""
        return self._quantization_mode

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> DTypePolicy:
        return cls(**config)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other) -> bool:
        """Equal to a policy of the same name (``DTypePolicy`` and ``FloatDTypePolicy`` are
        one kind, as in Keras)."""
        if type(self) in (DTypePolicy, FloatDTypePolicy):
            if type(other) not in (DTypePolicy, FloatDTypePolicy):
                return False
        elif type(other) is not type(self):
            return False
        return self._name == other._name

    __hash__ = None       # as Keras' (equal policies are not one dict key)


class FloatDTypePolicy(DTypePolicy):
    """Keras' other name for :class:`DTypePolicy` (a file keeps the class it was given).

    Example:
        >>> FloatDTypePolicy("float32") == DTypePolicy("float32")
        True
    """


class QuantizedDTypePolicy(DTypePolicy):
    """Keras' quantized policies (``"int8_from_float32"``...): refused, with a ValueError
    that names the policy, since minired has no quantized layers.

    Example:
        >>> QuantizedDTypePolicy("int8", "float32")
        Traceback (most recent call last):
        ...
        ValueError: The dtype policy 'int8_from_float32' quantizes the weights (int8): ...
    """

    def __init__(self, mode: str, source_name: str | None = None, **kwargs) -> None:
        if source_name is None:
            source_name = dtype_policy().name
        raise unsupported(f"{mode}_from_{source_name}", f"quantizes the weights ({mode})")


class QuantizedFloat8DTypePolicy(QuantizedDTypePolicy):
    """Keras' float8 quantized policy: refused (see :class:`QuantizedDTypePolicy`)."""


class Int4DTypePolicy(QuantizedDTypePolicy):
    """Keras' int4 quantized policy: refused (see :class:`QuantizedDTypePolicy`)."""


class GPTQDTypePolicy(QuantizedDTypePolicy):
    """Keras' GPTQ quantized policy: refused (see :class:`QuantizedDTypePolicy`)."""


class AWQDTypePolicy(QuantizedDTypePolicy):
    """Keras' AWQ quantized policy: refused (see :class:`QuantizedDTypePolicy`)."""


def quantized_policy(name: str) -> DTypePolicy:
    """Keras' policy for a quantized name such as ``"int8_from_float32"`` (always refused)."""
    mode, _, source_name = name.partition("_from_")
    return QuantizedDTypePolicy(mode, source_name or None)


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy: every layer built afterwards computes and keeps its
    weights in its dtype (``"float32"`` or ``"float64"``).

    The global policy is ``floatx`` until this is called; ``mr.config.set_floatx`` sets it
    back to following ``floatx``. Losses, metrics and the learning rate stay in ``floatx``,
    as in Keras: with ``floatx`` float32 and the policy float64, the layers compute in
    float64 and the loss in float32.

    Args:
        policy: a policy name or a :class:`DTypePolicy`. Names minired cannot compute
            (``"mixed_float16"``, ``"bfloat16"``, ``"int8_from_float32"``, an integer
            type...) raise ValueError.

    Example:
        >>> set_dtype_policy("float64")
        >>> mr.layers.Dense(2).compute_dtype, mr.config.dtype()
        ('float64', dtype('float64'))
        >>> set_dtype_policy("float32")          # back to Keras' default
        >>> dtype_policy()
        <DTypePolicy "float32">
    """
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError("Invalid `policy` argument. Expected the string name of a policy "
                             "(such as 'mixed_float16') or a `DTypePolicy` instance. "
                             f"Received: policy={policy} (of type {type(policy)})")
        policy = quantized_policy(policy) if policy.startswith(QUANTIZATION_MODES) \
            else DTypePolicy(policy)
    if policy.compute_dtype not in SUPPORTED_FLOATS:
        raise unsupported(policy.name, f"computes in {policy.compute_dtype}")
    config._DTYPE_POLICY = policy


def dtype_policy() -> DTypePolicy:
    """The global dtype policy: the one :func:`set_dtype_policy` set, else ``floatx``'s.

    Example:
        >>> dtype_policy()
        <DTypePolicy "float32">
    """
    policy = config._DTYPE_POLICY
    return DTypePolicy(config.floatx()) if policy is None else policy
