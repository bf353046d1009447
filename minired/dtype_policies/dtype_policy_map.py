"""``DTypePolicyMap``: a dtype policy per layer path, as Keras'.

Keras uses it to give the sublayers of one layer different policies (a quantized projection
inside an attention layer). minired computes every layer in the global policy's dtype, so a
map is accepted as a layer's ``dtype`` when all its policies name that dtype; it is kept and
written back to the layer's config as Keras writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping

from minired.dtype_policies.dtype_policy import DTypePolicy


class DTypePolicyMap(DTypePolicy, MutableMapping):
    """A dict from layer paths (or regular expressions over them) to :class:`DTypePolicy`.

    ``policy_map[path]`` is the policy stored under ``path``, else the one whose key matches
    all of ``path`` as a regular expression (``"encoder/.*"``), else ``default_policy``.
    The map's own ``compute_dtype`` and ``variable_dtype`` are the default policy's.

    Args:
        default_policy: the policy for paths no key matches (a name or a policy); None for
            the global policy (:func:`minired.config.dtype_policy`).
        policy_map: a dict from keys to policies, or None for an empty map.

    Example:
        >>> policy_map = DTypePolicyMap(default_policy="float32")
        >>> policy_map["encoder/.*"] = "float32"
        >>> policy_map["encoder/dense"], policy_map["decoder"].name, policy_map.name
        (<DTypePolicy "float32">, 'float32', 'map_float32')
    """

    def __init__(self, default_policy=None, policy_map: dict | None = None) -> None:
        from minired import dtype_policies

        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("`default_policy` cannot be a `DTypePolicyMap`.")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError("If specified, `policy_map` must be a dict. Received: policy_map="
                            f"{policy_map} of type {type(policy_map)}")
        self._default_policy_arg = default_policy
        self._default_policy = dtype_policies.get(default_policy)
        self._policy_map = {}
        for key, policy in (policy_map or {}).items():
            self[key] = policy

    @property
    def name(self) -> str:
        return f"map_{self.default_policy.name}"

    @property
    def default_policy(self) -> DTypePolicy:
        """The policy of the paths no key matches."""
        return self._default_policy

    @property
    def compute_dtype(self) -> str:
        return self.default_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self.default_policy.variable_dtype

    @property
    def quantization_mode(self) -> None:
        return self.default_policy.quantization_mode

    def __getitem__(self, key: str) -> DTypePolicy:
        """The policy of ``key``: exact key first, then the one key that matches it as a
        regular expression (two matching keys raise ValueError), then the default."""
        if key in self._policy_map:
            return self._policy_map[key]
        matching = [pattern for pattern in self._policy_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Path '{key}' matches multiple dtype policy specification keys: "
                             f"{matching}. Please make sure each path only matches at most one "
                             "dtype policy specification key in the DTypePolicyMap.")
        return self._policy_map[matching[0]] if matching else self.default_policy

    def __setitem__(self, key: str, policy) -> None:
        from minired import dtype_policies

        if key in self._policy_map:
            raise ValueError(f"{key} already exist in the DTypePolicyMap with value "
                             f"{self._policy_map[key]}. Please make sure to not use "
                             "duplicated keys.")
        self._policy_map[key] = dtype_policies.get(policy)

    def __delitem__(self, key: str) -> DTypePolicy:
        return self._policy_map.pop(key)

    def __contains__(self, key) -> bool:
        return key in self._policy_map

    def __len__(self) -> int:
        return len(self._policy_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._policy_map)

    def policies(self) -> list[DTypePolicy]:
        """The default policy and every stored one (what a layer given this map checks)."""
        return [self.default_policy, *self._policy_map.values()]

    def get_config(self) -> dict:
        """Keras' config. With ``default_policy=None`` Keras writes each stored policy's
        name as None, so that loading defers to the global policy: so does minired (without
        changing the stored policies, as Keras does)."""
        from minired import dtype_policies

        serialized = {key: dtype_policies.serialize(policy)
                      for key, policy in self._policy_map.items()}
        if self._default_policy_arg is None:
            for entry in serialized.values():
                entry["config"] = {"name": None}
        default = self._default_policy_arg
        if isinstance(default, DTypePolicy):
            default = dtype_policies.serialize(default)
        return {"default_policy": default, "policy_map": serialized}

    @classmethod
    def from_config(cls, config: dict) -> DTypePolicyMap:
        from minired import dtype_policies

        config = dict(config)
        config["policy_map"] = {key: dtype_policies.deserialize(value)
                                for key, value in (config.get("policy_map") or {}).items()}
        return cls(**config)

    def __repr__(self) -> str:
        mapping = [(key, policy.name) for key, policy in self._policy_map.items()]
        return (f"<DTypePolicyMap at {hex(id(self))} default_policy="
                f"{self._default_policy.name}, mapping={mapping}>")
