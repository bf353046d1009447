"""Resolve Keras string names (``"adam"``, ``"relu"``, ...) to minired objects."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any


def lookup(argument: str, identifier: str, table: Mapping[str, Any]) -> Any:
    """Return ``table[identifier]`` or raise a ValueError listing the known names.

    Args:
        argument: the argument being resolved, named in the error (e.g. ``"activation"``).
        identifier: the string the user gave.
        table: known names mapped to objects.
    """
    if identifier in table:
        return table[identifier]
    known = sorted(table)
    # A cutoff below difflib's default 0.6, so that short names get a suggestion too
    # ("l3" -> "l2", similarity 0.5).
    close = difflib.get_close_matches(identifier, known, n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown {argument} {identifier!r}.{hint} Known names: {', '.join(known)}."
    )
