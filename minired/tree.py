"""``mr.tree``: nested structures (lists, tuples, dicts...) walked as Keras' ``keras.tree``.

A *structure* is a leaf or a container of structures. The containers (the *nodes*) are the
exact types ``list``, ``tuple``, ``dict``, ``collections.OrderedDict``,
``collections.defaultdict``, ``collections.deque``, every namedtuple and every
``PyStructSequence`` (``time.struct_time``...). Everything else is a leaf: a number, a string,
a NumPy array, and also a *subclass* of ``list`` or ``dict``. ``None`` is a leaf too, except in
``map_structure(..., none_is_leaf=False)``, where it is an empty node.

The order of the leaves is Keras' (that of the ``optree`` package Keras uses):

* sequences in their order, from left to right, depth first;
* a ``dict`` (or ``defaultdict``) by **sorted keys**; keys of mixed types that cannot be
  compared are sorted by ``(type name, key)``, and if even that fails, kept in insertion order;
* an ``OrderedDict`` in its own (insertion) order.

The functions read a structure once into a :class:`TreeSpec` (its shape without the leaves)
and a flat list of leaves; ``pack_sequence_as`` and ``map_structure`` put leaves back into a
spec, rebuilding each container with its own type (a ``dict`` keeps its key order, a
``defaultdict`` its ``default_factory``, a ``deque`` its ``maxlen``).

Example:
    >>> from minired import tree
    >>> tree.flatten({"b": [1, 2], "a": (3, None)})
    [3, None, 1, 2]
    >>> tree.map_structure(lambda v: v * 10, {"b": [1, 2], "a": 3})
    {'b': [10, 20], 'a': 30}
"""

from __future__ import annotations

import collections
import warnings
from collections.abc import Callable, Iterable
from typing import Any

_DICTS = (dict, collections.OrderedDict, collections.defaultdict)
_SEQUENCES = (list, tuple, collections.deque)


class MAP_TO_NONE:  # noqa: N801 (Keras' name)
    """Special value for :func:`traverse`: return it from ``func`` to put ``None`` there.

    Example:
        >>> traverse(lambda v: MAP_TO_NONE if v == 2 else None, [1, 2])
        [1, None]
    """


# -- reading one node -------------------------------------------------------------------------
def _is_namedtuple(value: Any) -> bool:
    cls = type(value)
    return (isinstance(value, tuple) and isinstance(getattr(cls, "_fields", None), tuple)
            and callable(getattr(cls, "_make", None)))


def _is_structseq(value: Any) -> bool:
    cls = type(value)
    return (isinstance(value, tuple) and cls is not tuple
            and all(hasattr(cls, name)
                    for name in ("n_fields", "n_sequence_fields", "n_unnamed_fields")))


def _node_kind(value: Any, none_is_leaf: bool) -> str | None:
    """The kind of container ``value`` is (``"list"``, ``"dict"``...), or None for a leaf."""
    if value is None:
        return None if none_is_leaf else "none"
    if type(value) in _SEQUENCES:
        return "sequence"
    if type(value) in _DICTS:
        return "mapping"
    if _is_namedtuple(value):
        return "namedtuple"
    if _is_structseq(value):
        return "structseq"
    return None


def _total_order_sorted(keys: Iterable[Any]) -> list[Any]:
    """Sort dict keys as optree does: by value, else by (type name, value), else as given."""
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        pass
    try:
        return sorted(keys, key=lambda k: (f"{type(k).__module__}.{type(k).__qualname__}", k))
    except TypeError:
        return keys


def _entries(value: Any, kind: str) -> list[Any]:
    """The path entries of a node's children, in leaf order: indices or dict keys."""
    if kind == "mapping":
        if type(value) is collections.OrderedDict:
            return list(value)
        return _total_order_sorted(value)
    if kind == "none":
        return []
    return list(range(len(value)))


def _type_name(cls: type) -> str:
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


# -- the spec of a structure ------------------------------------------------------------------
class TreeSpec:
    """The shape of a structure without its leaves: its node types, keys and children.

    Args:
        kind: ``"leaf"``, ``"none"``, ``"sequence"``, ``"mapping"``, ``"namedtuple"`` or
            ``"structseq"``.
        node: the container itself (None for a leaf), to rebuild one of its type.
        entries: the path entries of the children (indices, or dict keys in leaf order).
        children: the children's specs.

    Example:
        >>> leaves, spec = tree_flatten({"b": 1, "a": [2, 3]})
        >>> leaves, spec.num_leaves
        ([2, 3, 1], 3)
        >>> spec.unflatten([20, 30, 10])
        {'b': 10, 'a': [20, 30]}
    """

    def __init__(self, kind: str, node: Any = None, entries: list | None = None,
                 children: list[TreeSpec] | None = None):
        self.kind = kind
        self.node = node
        self.entries = entries or []
        self.children = children or []
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in self.children)

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """Put ``leaves`` (an iterable, in leaf order) back into this spec's structure."""
        if not isinstance(leaves, Iterable):
            raise TypeError(f"pack_sequence_as: `flat_sequence` must be iterable, got "
                            f"{type(leaves).__name__} {leaves!r}.")
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            few_or_many = "few" if len(leaves) < self.num_leaves else "many"
            raise ValueError(f"pack_sequence_as: too {few_or_many} leaves in `flat_sequence` "
                             f"for the structure: expected {self.num_leaves}, got "
                             f"{len(leaves)}.")
        return self._rebuild(iter(leaves))

    def _rebuild(self, leaves: Iterable[Any]) -> Any:
        if self.kind == "leaf":
            return next(leaves)
        return self.rebuild_node([child._rebuild(leaves) for child in self.children])

    def rebuild_node(self, children: list[Any]) -> Any:
        """A container of this spec's (top) type holding ``children`` (in leaf order)."""
        node, cls = self.node, type(self.node)
        if self.kind == "none":
            return None
        if self.kind == "mapping":
            by_key = dict(zip(self.entries, children, strict=True))
            items = [(key, by_key[key]) for key in node]      # the node's own key order
            if cls is collections.defaultdict:
                return collections.defaultdict(node.default_factory, items)
            return cls(items)
        if self.kind == "namedtuple":
            return cls(*children)
        if cls is collections.deque:
            return collections.deque(children, maxlen=node.maxlen)
        return cls(children)

    def flatten_up_to(self, structure: Any) -> list[Any]:
        """The sub-structures of ``structure`` at this spec's leaves (in leaf order).

        ``structure`` must have this spec's nodes (same types, lengths and dict keys; a dict,
        an OrderedDict and a defaultdict match each other); below a leaf of the spec it may
        hold anything.
        """
        if self.kind == "leaf":
            return [structure]
        self._check_node(structure)
        if self.kind == "mapping":
            children = [structure[key] for key in self.entries]
        elif self.kind == "none":
            children = []
        else:
            children = list(structure)
        return [sub for spec, child in zip(self.children, children, strict=True)
                for sub in spec.flatten_up_to(child)]

    def _check_node(self, structure: Any) -> None:
        expected = type(self.node)
        if self.kind == "none":
            if structure is not None:
                raise ValueError(f"Structures don't have the same nested structure: expected "
                                 f"None, got {structure!r}.")
        elif self.kind == "mapping":
            if type(structure) not in _DICTS:
                raise ValueError(f"Structures don't have the same nested structure: expected "
                                 f"a dict, got {structure!r}.")
            if set(structure) != set(self.entries):
                raise ValueError(f"Structures don't have the same nested structure: dict keys "
                                 f"differ: expected {_total_order_sorted(self.entries)}, got "
                                 f"{_total_order_sorted(structure)}.")
        elif type(structure) is not expected:
            raise ValueError(f"Structures don't have the same nested structure: expected an "
                             f"instance of {_type_name(expected)}, got {structure!r}.")
        elif len(structure) != len(self.children):
            raise ValueError(f"Structures don't have the same nested structure: "
                             f"{_type_name(expected)} of length {len(self.children)} expected, "
                             f"got length {len(structure)}: {structure!r}.")


def tree_flatten(structure: Any, none_is_leaf: bool = True,
                 is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeSpec]:
    """Read ``structure`` into its leaves (in Keras' order) and its :class:`TreeSpec`.

    Args:
        structure: any nested structure.
        none_is_leaf: whether ``None`` is a leaf (else an empty node).
        is_leaf: optional predicate; a sub-structure for which it is true is a leaf.

    Example:
        >>> tree_flatten([1, (2, None)])[0]
        [1, 2, None]
    """
    leaves: list[Any] = []

    def read(value: Any) -> TreeSpec:
        kind = None if is_leaf is not None and is_leaf(value) else _node_kind(value, none_is_leaf)
        if kind is None:
            leaves.append(value)
            return TreeSpec("leaf")
        entries = _entries(value, kind)
        children = [value[key] for key in entries] if kind == "mapping" else list(value or ())
        return TreeSpec(kind, value, entries, [read(child) for child in children])

    spec = read(structure)
    return leaves, spec


def _paths(spec: TreeSpec, prefix: tuple = ()) -> list[tuple]:
    if spec.kind == "leaf":
        return [prefix]
    return [path for entry, child in zip(spec.entries, spec.children, strict=True)
            for path in _paths(child, (*prefix, entry))]


def _check_callable(func: Any, function: str) -> None:
    if not callable(func):
        raise TypeError(f"{function}: `func` must be callable, got {type(func).__name__} "
                        f"{func!r}.")


# -- Keras' keras.tree API --------------------------------------------------------------------
def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a container (a sequence, a mapping or a namedtuple).

    Args:
        structure: the structure to check.

    Example:
        >>> is_nested(42), is_nested({"foo": 42}), is_nested([]), is_nested(None)
        (False, True, True, False)
    """
    return _node_kind(structure, none_is_leaf=True) is not None


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure`` in a list: dicts by sorted key, OrderedDicts in order.

    Args:
        structure: any nested structure (a leaf gives ``[leaf]``).

    Example:
        >>> flatten([[1, 2, 3], [4, [5], [[6]]]])
        [1, 2, 3, 4, 5, 6]
        >>> flatten(None), flatten({100: "world!", 6: "Hello"})
        ([None], ['Hello', 'world!'])
    """
    return tree_flatten(structure)[0]


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """The leaves of ``structure`` as ``(path, leaf)`` pairs, a path being a tuple of
    indices and dict keys (a namedtuple's fields are indices).

    Args:
        structure: any nested structure.

    Example:
        >>> flatten_with_path([{"foo": 42}])
        [((0, 'foo'), 42)]
    """
    leaves, spec = tree_flatten(structure)
    return list(zip(_paths(spec), leaves, strict=True))


def map_structure(func: Callable, *structures: Any, none_is_leaf: bool = True) -> Any:
    """Apply ``func`` to the leaves of ``structures`` (all of the same layout), leaf by leaf.

    The result has the layout and container types of the first structure.

    Args:
        func: called with one leaf of each structure.
        *structures: one or more nested structures of the same layout (``dict``,
            ``OrderedDict`` and ``defaultdict`` with the same keys match each other).
        none_is_leaf: if False, ``None`` is not passed to ``func`` and stays ``None``.

    Example:
        >>> map_structure(lambda v: v ** 2, [[1], [2], [3]])
        [[1], [4], [9]]
        >>> map_structure(lambda a, b: a * b, (1, 2), (3, 4))
        (3, 8)
    """
    if not structures:
        raise ValueError("map_structure: must provide at least one structure in "
                         "`*structures`, got none.")
    _check_callable(func, "map_structure")
    leaves, spec = tree_flatten(structures[0], none_is_leaf=none_is_leaf)
    if len(structures) == 1:
        return spec.unflatten([func(leaf) for leaf in leaves])
    columns = [leaves] + [spec.flatten_up_to(other) for other in structures[1:]]
    results = []
    for args in zip(*columns, strict=True):
        if not all(_node_kind(arg, none_is_leaf) is None for arg in args):
            raise ValueError(f"map_structure: structures don't have the same nested "
                             f"structure: leaves {args!r} do not all match.")
        results.append(func(*args))
    return spec.unflatten(results)


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """Apply ``func`` to the sub-structures of ``structures`` found at the leaves of
    ``shallow_structure``; anything deeper is passed to ``func`` whole.

    As in Keras, a leaf of ``shallow_structure`` must not be ``None``.

    Args:
        shallow_structure: the layout to map over, a prefix of every structure.
        func: called with one sub-structure of each of ``structures``.
        *structures: one or more nested structures.

    Example:
        >>> map_structure_up_to([0, 0], len, [[1, 1], [2, 2]])
        [2, 2]
        >>> map_structure_up_to([0, [0, 0]], str, [[1, 1], [2, 2]])
        ['[1, 1]', ['2', '2']]
    """
    if not structures:
        raise ValueError("map_structure_up_to: must provide at least one structure in "
                         "`*structures`, got none.")
    _check_callable(func, "map_structure_up_to")
    leaves, spec = tree_flatten(shallow_structure)
    columns = [spec.flatten_up_to(structure) for structure in structures]
    if any(leaf is None for leaf in leaves):
        raise ValueError("map_structure_up_to: structures don't have the same nested "
                         "structure: `shallow_structure` has a None leaf, which Keras "
                         "treats as an empty node.")
    return spec.unflatten([func(*args) for args in zip(*columns, strict=True)])


def assert_same_structure(a: Any, b: Any, check_types: bool | None = None) -> None:
    """Raise ValueError unless ``a`` and ``b`` are nested the same way.

    Node types must be equal (``list``, ``tuple``, each namedtuple and ``deque`` differ;
    ``dict``, ``OrderedDict`` and ``defaultdict`` with the same keys match); leaves may be
    anything (``None`` included).

    Args:
        a: a nested structure.
        b: a nested structure.
        check_types: deprecated in Keras; it has no effect (a warning says so).

    Example:
        >>> assert_same_structure([(0, 1)], [(2, 3)])
        >>> assert_same_structure([0, 1], (2, 3))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: Structures don't have the same nested structure: ... got (2, 3).
    """
    if check_types is not None:
        advice = ("" if check_types else " For a looser check, use "
                  "`keras.tree.assert_same_paths()`, which considers `list`, `tuple`, "
                  "`namedtuple` and `deque` as matching")
        warnings.warn("The `check_types` argument is deprecated and no longer has any effect"
                      + (", please remove." if check_types else "." + advice),
                      DeprecationWarning, stacklevel=2)
    _, spec = tree_flatten(a)
    for sub in spec.flatten_up_to(b):
        if is_nested(sub):
            raise ValueError(f"Structures don't have the same nested structure: {sub!r} in "
                             f"`b` is at a leaf of `a`.")


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same leaf paths, whatever their
    container types (a list and a tuple, two namedtuples, match).

    Args:
        a: a nested structure.
        b: a nested structure.

    Example:
        >>> assert_same_paths([0, 1], (2, 3))
        >>> assert_same_paths({"a": 0}, {"b": 0})
        Traceback (most recent call last):
        ValueError: `a` and `b` don't have the same paths.
        Paths in `a` missing in `b`:
        {('a',)}
        Paths in `b` missing in `a`:
        {('b',)}
    """
    a_paths = set(_paths(tree_flatten(a)[1]))
    b_paths = set(_paths(tree_flatten(b)[1]))
    if a_paths != b_paths:
        message = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            message += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            message += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(message)


def pack_sequence_as(structure: Any, flat_sequence: Iterable[Any]) -> Any:
    """Put the items of ``flat_sequence`` into the layout of ``structure`` (the inverse of
    :func:`flatten`: dicts are filled in sorted-key order, and keep their own key order).

    Args:
        structure: the layout (its leaves are ignored).
        flat_sequence: exactly as many items as ``structure`` has leaves.

    Example:
        >>> pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["v1", "v2", "v3"])
        {'key3': 'v3', 'key1': 'v1', 'key2': 'v2'}
        >>> pack_sequence_as((("a", "b"), ("c", "d", "e"), "f"), [1, 2, 3, 4, 5, 6])
        ((1, 2), (3, 4, 5), 6)
    """
    return tree_flatten(structure)[1].unflatten(flat_sequence)


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Walk ``structure`` depth first, calling ``func`` on every sub-structure.

    Top-down (parents before children): if ``func(sub)`` is None the walk goes into ``sub``,
    otherwise ``sub`` is replaced by ``func(sub)`` and its children are not visited.
    Bottom-up (children first): ``sub`` is replaced by ``func(sub)`` unless it is None.
    Return :class:`MAP_TO_NONE` to put ``None`` in place.

    Args:
        func: called on every sub-structure (leaves included).
        structure: the structure to walk.
        top_down: whether parents are visited before their children.

    Example:
        >>> seen = []
        >>> traverse(seen.append, [(1, 2), [3], {"a": 4}], top_down=False)
        [(1, 2), [3], {'a': 4}]
        >>> seen
        [1, 2, (1, 2), 3, [3], 4, {'a': 4}, [(1, 2), [3], {'a': 4}]]
    """
    _check_callable(func, "traverse")

    def children_traversed(value: Any) -> Any:
        kind = _node_kind(value, none_is_leaf=True)
        if kind is None:
            return value
        entries = _entries(value, kind)
        children = [value[key] for key in entries] if kind == "mapping" else list(value)
        spec = TreeSpec(kind, value, entries, [TreeSpec("leaf") for _ in children])
        return spec.rebuild_node([walk(child) for child in children])

    def walk(value: Any) -> Any:
        if top_down:
            result = func(value)
            if result is None:
                return children_traversed(value)
        else:
            value = children_traversed(value)
            result = func(value)
            if result is None:
                return value
        return None if result is MAP_TO_NONE else result

    return walk(structure)


def lists_to_tuples(structure: Any) -> Any:
    """The same structure with every ``list`` turned into a ``tuple``.

    Args:
        structure: any nested structure.

    Example:
        >>> lists_to_tuples([1, [2, {"a": [3]}]])
        (1, (2, {'a': (3,)}))
    """
    return traverse(lambda value: tuple(value) if isinstance(value, list) else None,
                    structure, top_down=False)


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """:func:`map_structure` where a shape (a list or tuple of ints and Nones, ``()``
    included) is a leaf passed whole to ``func``.

    Args:
        func: called on each shape (and on each other leaf).
        structure: a nested structure of shapes.

    Example:
        >>> map_shape_structure(len, {"x": (None, 4), "y": [(2, 3, 1), ()]})
        {'x': 2, 'y': [3, 0]}
    """
    _check_callable(func, "map_shape_structure")

    def is_shape(value: Any) -> bool:
        return isinstance(value, (list, tuple)) and all(
            isinstance(item, (int, type(None))) for item in value)

    leaves, spec = tree_flatten(structure, is_leaf=is_shape)
    return spec.unflatten([func(leaf) for leaf in leaves])


__all__ = [
    "MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten",
    "flatten_with_path", "is_nested", "lists_to_tuples", "map_shape_structure",
    "map_structure", "map_structure_up_to", "pack_sequence_as", "traverse",
]
