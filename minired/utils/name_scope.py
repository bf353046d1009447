"""``keras.name_scope``: a prefix for the paths of the variables created inside it.

Keras names every variable by a *path*, the names of the scopes open when it was created
followed by its own name: ``with keras.name_scope("encoder"): v = keras.Variable(...,
name="w")`` gives ``v.path == "encoder/w"``. Scopes nest (``"outer/inner/w"``). A
:class:`~minired.Variable` created inside a scope gets the same path here; the variable's
``name`` does not change.
"""

from __future__ import annotations

from typing import Any

_STACK: list[name_scope] = []


class name_scope:  # noqa: N801 (Keras' name)
    """Open a sub-namespace for variable paths (a context manager).

    Args:
        name: the scope's name (a string without ``/``).
        caller: the object opening the scope (a layer), or None.
        deduplicate: if True, a scope opened again by the same ``caller`` with the same
            name right inside its own scope adds nothing (a layer calling itself).
        override_parent: an absolute path that replaces the scopes around this one.

    Example:
        >>> import minired as mr
        >>> with name_scope("outer"):
        ...     with name_scope("inner"):
        ...         v = mr.Variable(np.zeros(2), name="w")
        >>> v.path, v.name
        ('outer/inner/w', 'w')
    """

    def __init__(self, name: str, caller: Any = None, deduplicate: bool = True,
                 override_parent: str | None = None) -> None:
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name}")
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        if (override_parent is None and deduplicate
                and getattr(caller, "_parent_path", None) is not None):
            self.override_parent = caller._parent_path
        self._pop_on_exit = False

    def __enter__(self) -> name_scope:
        if self.deduplicate and _STACK:
            parent = _STACK[-1]
            if self.caller is not None and self.caller is parent.caller \
                    and self.name == parent.name:
                return self
        _STACK.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *args) -> None:
        if self._pop_on_exit and _STACK:
            _STACK.pop()


def current_path() -> str:
    """The path of the scopes open now, ``"outer/inner"`` (``""`` outside any scope).

    Example:
        >>> with name_scope("a"), name_scope("b"):
        ...     current_path()
        'a/b'
    """
    parts: list[str] = []
    for scope in _STACK:
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)
