"""``keras.StatelessScope``: run code with chosen weight values, leaving the weights as they
were.

Inside the scope each weight in ``state_mapping`` reads as the value given for it, and an
assignment (``v.assign(...)``, a layer updating a counter) changes what the code inside
sees but not the weight itself: when the scope closes every weight is back to its value
before the scope, and the values it had at the end are kept by the scope,
``scope.get_current_value(v)``. That is how Keras evaluates a model at other weights
without touching it.

minired does it by swapping values: on entry each mapped weight receives its mapped value;
a :class:`~minired.Variable` assigned inside is remembered; on exit the final values are
recorded and the old values written back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_CURRENT: list[StatelessScope] = []


class StatelessScope:
    """A scope in which weight updates are collected instead of applied.

    Args:
        state_mapping: ``(weight, value)`` pairs: inside the scope ``weight`` reads as
            ``value`` (same shape; cast to the weight's dtype).
        collect_losses: Keras collects the losses layers add inside the scope; minired
            does not (True raises NotImplementedError).
        initialize_variables: accepted for Keras scripts (minired's variables hold their
            value from creation).

    Example:
        >>> import minired as mr
        >>> v = mr.Variable(np.ones(2))
        >>> with StatelessScope([(v, np.full(2, 5.0))]) as scope:
        ...     v.assign(v + 1)
        ...     print(v)
        [6. 6.]
        >>> v.value, scope.get_current_value(v)
        (array([1., 1.], dtype=float32), array([6., 6.], dtype=float32))
    """

    def __init__(self, state_mapping=None, collect_losses: bool = False,
                 initialize_variables: bool = True) -> None:
        if collect_losses:
            raise NotImplementedError("StatelessScope(collect_losses=True): minired does not "
                                      "collect the losses layers add inside the scope; "
                                      "read them from `layer.losses` after the call.")
        self.collect_losses = collect_losses
        self.initialize_variables = initialize_variables
        self.losses: list = []
        self.state_mapping: dict[int, np.ndarray] = {}
        self._weights: dict[int, np.ndarray] = {}       # id -> the weight itself
        self._saved: dict[int, np.ndarray] = {}         # id -> its value before the scope
        for k, v in state_mapping or {}:
            # minired's built-in layers keep their weights as plain arrays: any array is a
            # weight here (Keras accepts only keras.Variable keys).
            if not isinstance(k, np.ndarray):
                raise ValueError("Invalid reference variable in StatelessScope: all keys in "
                                 "argument `mapping` must be Variable instances. Received "
                                 f"instead: {k}")
            v = np.asarray(v, dtype=k.dtype)
            if k.shape != v.shape:
                raise ValueError("Invalid variable value in StatelessScope: all values in "
                                 "argument `mapping` must be tensors with a shape that "
                                 "matches the corresponding variable shape. For variable "
                                 f"{k}, received invalid value {v} with shape {v.shape}.")
            self.state_mapping[id(k)] = v
            self._weights[id(k)] = k

    def _remember(self, weight: np.ndarray) -> None:
        """Keep ``weight``'s value from before the scope (once)."""
        if id(weight) not in self._saved:
            self._weights[id(weight)] = weight
            self._saved[id(weight)] = np.array(weight, copy=True)

    def __enter__(self) -> StatelessScope:
        from minired import variables

        for key, weight in self._weights.items():
            self._remember(weight)
            weight.view(np.ndarray)[...] = self.state_mapping[key]
        variables._WATCHERS.append(self._remember)
        _CURRENT.append(self)
        return self

    def add_loss(self, loss: Any) -> None:
        """Keep ``loss`` in :attr:`losses` (Keras' hook for layers)."""
        self.losses.append(loss)

    def add_update(self, update: tuple) -> None:
        """Record ``(variable, value)`` as the variable's current value in the scope."""
        variable, value = update
        self.state_mapping[id(variable)] = value

    def get_current_value(self, variable: Any) -> np.ndarray | None:
        """``variable``'s value at the end of the scope; None if the scope never touched it."""
        return self.state_mapping.get(id(variable), None)

    def __exit__(self, *args) -> None:
        from minired import variables

        variables._WATCHERS.remove(self._remember)
        _CURRENT.remove(self)
        for key, weight in self._weights.items():
            self.state_mapping[key] = np.array(weight, copy=True).view(np.ndarray)
            weight.view(np.ndarray)[...] = self._saved[key]


def in_stateless_scope() -> bool:
    """Whether a :class:`StatelessScope` is open."""
    return bool(_CURRENT)


def get_stateless_scope() -> StatelessScope | None:
    """The innermost open :class:`StatelessScope`, or None."""
    return _CURRENT[-1] if _CURRENT else None
