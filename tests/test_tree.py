"""``mr.tree`` against ``keras.tree``: the same leaves, order, paths and rebuilt containers
on hand-written and on random nested structures (lists, tuples, dicts with mixed keys,
OrderedDicts, defaultdicts, deques, namedtuples, struct_time, None), and the same errors.
"""

from __future__ import annotations

import collections
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minired import tree

Point = collections.namedtuple("Point", ["x", "y"])
OtherPoint = collections.namedtuple("Point", ["x", "y"])     # same name, another class


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


def same(a, b) -> bool:
    """Equal values with the same container types and the same dict key order, all the way."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (list(a) == list(b) and all(same(a[k], b[k]) for k in a)
                and getattr(a, "default_factory", None) is getattr(b, "default_factory", None))
    if isinstance(a, (list, tuple, collections.deque)):
        return (len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
                and getattr(a, "maxlen", None) == getattr(b, "maxlen", None))
    if isinstance(a, np.ndarray):
        return a is b
    return a == b


def outcome(function, *args, **kwargs):
    """The result of a call, or the type of the exception it raised."""
    try:
        return ("value", function(*args, **kwargs))
    except Exception as error:   # noqa: BLE001 (the exception's type is what is compared)
        return ("error", type(error))


def same_outcome(a, b) -> bool:
    return a[0] == b[0] and (a[1] is b[1] if a[0] == "error" else same(a[1], b[1]))


# -- a first, readable test -------------------------------------------------------------------
def test_a_first_example_matches_keras(keras):
    structure = {"b": [1, (2, None)], "a": Point(3, {"z": 4, "y": 5})}
    assert tree.flatten(structure) == keras.tree.flatten(structure) == [3, 5, 4, 1, 2, None]
    assert tree.flatten_with_path(structure) == keras.tree.flatten_with_path(structure)
    doubled = tree.map_structure(lambda v: v * 2, structure, none_is_leaf=False)
    assert same(doubled, keras.tree.map_structure(lambda v: v * 2, structure,
                                                  none_is_leaf=False))
    assert list(doubled) == ["b", "a"] and doubled["a"] == Point(6, {"z": 8, "y": 10})


# -- random structures ------------------------------------------------------------------------
leaves = st.one_of(st.none(), st.integers(-5, 5), st.text("ab", max_size=2), st.booleans())
keys = st.one_of(st.text("abc", max_size=2), st.integers(0, 3))


def containers(children):
    return st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(keys, children, max_size=3),
        st.dictionaries(st.text("xyz", max_size=2), children, max_size=3)
        .map(collections.OrderedDict),
        st.dictionaries(st.integers(0, 5), children, max_size=3)
        .map(lambda d: collections.defaultdict(list, d)),
        st.lists(children, max_size=3).map(lambda v: collections.deque(v, maxlen=4)),
        st.tuples(children, children).map(lambda v: Point(*v)),
    )


structures = st.recursive(leaves, containers, max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(structures)
def test_flatten_paths_and_is_nested_match_keras(keras, structure):
    assert same(tree.flatten(structure), keras.tree.flatten(structure))
    assert same(tree.flatten_with_path(structure), keras.tree.flatten_with_path(structure))
    assert tree.is_nested(structure) == keras.tree.is_nested(structure)


@settings(max_examples=150, deadline=None)
@given(structures, st.booleans())
def test_map_pack_and_lists_to_tuples_match_keras(keras, structure, none_is_leaf):
    for name, args in [("map_structure", (repr, structure)),
                       ("pack_sequence_as", (structure, range(len(tree.flatten(structure))))),
                       ("lists_to_tuples", (structure,)),
                       ("map_shape_structure", (repr, structure))]:
        assert same_outcome(outcome(getattr(tree, name), *args),
                            outcome(getattr(keras.tree, name), *args)), name
    mine = outcome(tree.map_structure, repr, structure, none_is_leaf=none_is_leaf)
    theirs = outcome(keras.tree.map_structure, repr, structure, none_is_leaf=none_is_leaf)
    assert same_outcome(mine, theirs)


@settings(max_examples=100, deadline=None)
@given(structures, st.booleans())
def test_traverse_visits_and_replaces_as_keras(keras, structure, top_down):
    def recorder(seen):
        def func(value):
            seen.append(repr(value))
            if isinstance(value, tuple) and len(value) == 2:
                return "pair"                       # replace pairs (and stop there top-down)
            return tree.MAP_TO_NONE if value == 1 else None
        return func

    mine, theirs = [], []
    result = tree.traverse(recorder(mine), structure, top_down=top_down)
    func = recorder(theirs)
    expected = keras.tree.traverse(lambda v: _keras_value(func(v), keras), structure,
                                   top_down=top_down)
    assert mine == theirs
    assert same(result, expected)


def _keras_value(value, keras):
    return keras.tree.MAP_TO_NONE if value is tree.MAP_TO_NONE else value


def _pairs():
    """Two structures: often related (the same one, its lists as tuples...), else random."""
    return st.one_of(
        structures.map(lambda s: (s, s)),
        structures.map(lambda s: (s, tree.lists_to_tuples(s))),
        structures.map(lambda s: (s, [s])),
        st.tuples(structures, structures),
    )


@settings(max_examples=150, deadline=None)
@given(_pairs(), st.booleans())
def test_two_structure_functions_agree_with_keras(keras, pair, none_is_leaf):
    a, b = pair
    cases = [("assert_same_structure", (a, b), {}), ("assert_same_paths", (a, b), {}),
             ("map_structure", (lambda x, y: (x, y), a, b), {"none_is_leaf": none_is_leaf}),
             ("map_structure_up_to", (a, lambda x, y: (x, y), b, a), {})]
    for name, args, kwargs in cases:
        mine = outcome(getattr(tree, name), *args, **kwargs)
        theirs = outcome(getattr(keras.tree, name), *args, **kwargs)
        assert same_outcome(mine, theirs), (name, mine, theirs)


# -- hand-written cases -----------------------------------------------------------------------
CASES = [
    {1: "a", "b": 2, 0: 3},                           # mixed keys: by (type name, key)
    {2.5: 0, 1: 1, "a": 2},
    {True: 0, 0.5: 1, "a": 2, b"x": 3},
    collections.OrderedDict([("b", 1), ("a", [2, 3])]),
    collections.defaultdict(int, {"b": 1, "a": 2}),
    collections.deque([1, (2, 3)], maxlen=5),
    time.gmtime(0),
    [[]], ([],), [None], [], (), {}, None, 7, "text", np.arange(3),
    [(1, None), [(), {"a": (2,)}], 3, None],           # shapes for map_shape_structure
    Point(1, OtherPoint(2, 3)),
]


@pytest.mark.parametrize("structure", CASES, ids=range(len(CASES)))
def test_hand_written_structures_match_keras(keras, structure):
    for name in ("flatten", "flatten_with_path", "is_nested", "lists_to_tuples"):
        assert same_outcome(outcome(getattr(tree, name), structure),
                            outcome(getattr(keras.tree, name), structure)), name
    for name in ("map_structure", "map_shape_structure"):
        assert same_outcome(outcome(getattr(tree, name), repr, structure),
                            outcome(getattr(keras.tree, name), repr, structure)), name
    flat = list(range(len(keras.tree.flatten(structure))))
    assert same(tree.pack_sequence_as(structure, flat),
                keras.tree.pack_sequence_as(structure, flat))


PAIRS = [
    ({"a": 1}, collections.OrderedDict(a=2)),        # dict kinds match by keys
    (collections.OrderedDict(b=1, a=2), {"a": 3, "b": 4}),
    ({"a": 1}, {"b": 1}),
    ([1], (1,)), (Point(1, 2), OtherPoint(1, 2)), (Point(1, 2), (1, 2)),
    (collections.deque([1]), [1]), ([1, 2], [1, 2, 3]), ([1, 2], [1, [2]]),
    ([1, [2]], [1, 2]), (None, 1), (1, None), ([None, 2], [1, 3]), ([1, 2], [None, 3]),
    ("ab", 1), ([0, 0], [[1, 1], [2, 2]]), ([None, None], [[1, 1], [2, 2]]),
]


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=range(len(PAIRS)))
def test_hand_written_pairs_match_keras(keras, a, b):
    for name, args, kwargs in [
            ("assert_same_structure", (a, b), {}), ("assert_same_paths", (a, b), {}),
            ("map_structure", (lambda x, y: (x, y), a, b), {}),
            ("map_structure", (lambda x, y: (x, y), a, b), {"none_is_leaf": False}),
            ("map_structure_up_to", (a, lambda y: y, b), {})]:
        assert same_outcome(outcome(getattr(tree, name), *args, **kwargs),
                            outcome(getattr(keras.tree, name), *args, **kwargs)), name


def test_rebuilt_containers_keep_their_settings():
    counts = collections.defaultdict(list, {"b": [1], "a": [2]})
    doubled = tree.map_structure(lambda v: v * 2, counts)
    assert doubled.default_factory is list and list(doubled) == ["b", "a"]
    window = tree.map_structure(str, collections.deque([1, 2], maxlen=3))
    assert window.maxlen == 3 and list(window) == ["1", "2"]
    assert tree.map_structure(str, time.gmtime(0)).tm_year == "1970"


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure(str)
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure_up_to([1], str)
    with pytest.raises(TypeError, match="`func` must be callable"):
        tree.map_structure(None, [1])
    with pytest.raises(TypeError, match="`func` must be callable"):
        tree.traverse(3, [1])
    with pytest.raises(TypeError, match="`flat_sequence` must be iterable"):
        tree.pack_sequence_as([1, 2], 5)
    with pytest.raises(ValueError, match="too few leaves .* expected 2, got 1"):
        tree.pack_sequence_as([1, 2], [1])
    with pytest.raises(ValueError, match="too many leaves .* expected 2, got 3"):
        tree.pack_sequence_as([1, 2], [1, 2, 3])


def test_check_types_is_deprecated_as_in_keras():
    with pytest.warns(DeprecationWarning, match="no longer has any effect"):
        tree.assert_same_structure([1], [2], check_types=True)
    with pytest.warns(DeprecationWarning, match="assert_same_paths"):
        tree.assert_same_structure([1], [2], check_types=False)


def test_the_names_are_keras_tree_names(keras):
    assert set(tree.__all__) == {name for name in dir(keras.tree) if not name.startswith("_")}
