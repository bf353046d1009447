"""``keras.SymbolicScope``: marks the code inside as the symbolic stage (building a graph).

Keras opens it while it traces a function with symbolic ``KerasTensor`` inputs, and a few
operations ask :func:`in_symbolic_scope` to choose a shape-only path. minired builds its
graphs without it; the scope is here so that Keras code that opens it or asks about it runs
the same.
"""

from __future__ import annotations

_CURRENT: list[SymbolicScope] = []


class SymbolicScope:
    """Scope to indicate the symbolic stage.

    Example:
        >>> with SymbolicScope():
        ...     in_symbolic_scope()
        True
        >>> in_symbolic_scope()
        False
    """

    def __enter__(self) -> SymbolicScope:
        self.original_scope = get_symbolic_scope()
        _CURRENT.append(self)
        return self

    def __exit__(self, *args) -> None:
        _CURRENT.remove(self)


def in_symbolic_scope() -> bool:
    """Whether a :class:`SymbolicScope` is open."""
    return bool(_CURRENT)


def get_symbolic_scope() -> SymbolicScope | None:
    """The innermost open :class:`SymbolicScope`, or None."""
    return _CURRENT[-1] if _CURRENT else None
