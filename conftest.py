"""Doctests: every ``>>>`` example in ``minired`` runs as a test (``--doctest-modules``).

Each example sees ``np`` and ``mr`` without importing them, and, if it uses a ``model`` it
does not build, a tiny compiled classifier ``model`` with data ``x``, ``y`` that fit it.
Each example starts from Keras' defaults (float32, epsilon 1e-7, seed 0, fresh automatic
names) and leaves the global state as it found it, whatever it changes.
"""

from __future__ import annotations

import os

# scikit-learn's estimator checks (tests/test_wrappers.py) include one with array-API dispatch,
# which SciPy allows only when this is set before it is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import copy
import random
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import minired as mr
from minired.utils import naming, rng_utils


def tiny_model() -> tuple[mr.Sequential, np.ndarray, np.ndarray]:
    """A compiled softmax classifier of 4 inputs and 3 classes, and 8 samples to fit it."""
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=8)]
    return model, x, y


def _module_state(module: ModuleType) -> dict[str, Any]:
    """A deep copy of a module's own global variables (its random generators)."""
    return {name: copy.deepcopy(value) for name, value in vars(module).items()
            if not name.startswith("__") and not callable(value)
            and not isinstance(value, ModuleType)}


def _name_counters() -> list[dict[str, int]]:
    """The counters behind automatic names ("dense", "dense_1", "sgd_1"...)."""
    return [naming._NAME_COUNTS]


@pytest.fixture(autouse=True)
def _doctest_setup(request: pytest.FixtureRequest) -> Iterator[None]:
    """Around each doctest: fill its namespace, start from the defaults, restore afterwards."""
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    random_state = (_module_state(rng_utils), random.getstate(), np.random.get_state())
    settings = (mr.config.floatx(), mr.config.epsilon())
    counts = [dict(counter) for counter in _name_counters()]
    for counter in _name_counters():
        counter.clear()
    mr.config.set_floatx("float32")
    mr.config.set_epsilon(1e-7)
    mr.utils.set_random_seed(0)
    namespace = request.getfixturevalue("doctest_namespace")
    namespace.update(np=np, mr=mr)
    sources = [example.source for example in request.node.dtest.examples]
    uses_model = any("model" in source for source in sources)
    defines_model = any(re.match(r"\s*model\s*=", source) for source in sources)
    if uses_model and not defines_model:       # its own model gets the fresh names
        namespace["model"], namespace["x"], namespace["y"] = tiny_model()
    try:
        yield
    finally:
        for name in ("model", "x", "y"):
            namespace.pop(name, None)
        for counter, saved in zip(_name_counters(), counts, strict=True):
            counter.clear()
            counter.update(saved)
        mr.config.set_floatx(settings[0])
        mr.config.set_epsilon(settings[1])
        for name, value in random_state[0].items():
            setattr(rng_utils, name, value)
        random.setstate(random_state[1])
        np.random.set_state(random_state[2])
