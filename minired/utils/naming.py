"""Names: Keras' automatic object names, and Keras string names resolved to objects."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

# How many objects got each automatic name so far (Keras' `object_name_uids`).
_NAME_COUNTS: defaultdict[str, int] = defaultdict(int)


def to_snake_case(name: str) -> str:
    """Keras' ``to_snake_case``: ``"Dense" -> "dense"``, ``"Conv2D" -> "conv2d"``.

    Two rules, applied in order: an underscore before each capital that starts a lowercase
    run (``"ReLU" -> "Re_LU"``), then between a lowercase letter and a capital
    (``"AdamW" -> "Adam_W"``); then everything is lowercased. Keras' own results, which
    these rules reproduce, are not always the "natural" ones:

    Example:
        >>> [to_snake_case(n) for n in ("SGD", "RMSprop", "AdamW", "ReLU", "Conv2D")]
        ['sgd', 'rm_sprop', 'adam_w', 're_lu', 'conv2d']
    """
    name = re.sub(r"\W+", "", name)  # characters that cannot be in a name are dropped
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(class_name: str) -> str:
    """Keras' automatic name: the snake_case class name, numbered from its second use.

    The count is kept per name for the whole session, as in Keras: the first ``SGD()`` is
    ``"sgd"``, the second ``"sgd_1"``.

    Example:
        >>> first, second = auto_name("MyOptimizer"), auto_name("MyOptimizer")
        >>> first, second
        ('my_optimizer', 'my_optimizer_1')
    """
    base = to_snake_case(class_name)
    count = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


def lookup(argument: str, identifier: str, table: Mapping[str, Any]) -> Any:
    """Return ``table[identifier]`` or raise a ValueError listing the known names.

    Args:
        argument: the argument being resolved, named in the error (e.g. ``"activation"``).
        identifier: the string the user gave.
        table: known names mapped to objects.

    Example:
        >>> lookup("activation", "relu", {"relu": "the relu function"})
        'the relu function'
        >>> lookup("regularizer", "l3", {"l1": 1, "l2": 2})
        Traceback (most recent call last):
        ...
        ValueError: Unknown regularizer 'l3'. Did you mean 'l2'? Known names: l1, l2.
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
