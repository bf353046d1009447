"""``mr.ops.nn``, ``mr.ops.linalg`` and ``mr.ops.numpy`` hold Keras' names, as the same
functions as ``mr.ops`` (re-exported, never copied), under every way a script imports them.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import minired as mr
from minired.ops import keras_namespaces


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


def public(module) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


@pytest.mark.parametrize("namespace", ["nn", "linalg"])
def test_nn_and_linalg_have_exactly_keras_names(keras, namespace):
    assert public(getattr(mr.ops, namespace)) == public(getattr(keras.ops, namespace))


def test_numpy_has_every_keras_name_and_only_keras_ops_more(keras):
    mine, theirs = public(mr.ops.numpy), public(keras.ops.numpy)
    assert theirs <= mine, sorted(theirs - mine)
    # The few more (linalg and math ops, see numpy_namespace.py) are all Keras ops too, but
    # ``getitem``: minired's own op behind ``x[key]`` on the tape (``mr.ops.getitem``).
    extra = mine - theirs - public(keras.ops)
    assert extra == {"getitem"}, sorted(extra)


def test_every_keras_submodule_of_ops_exists(keras):
    submodules = {name for name in public(keras.ops)
                  if type(getattr(keras.ops, name)) is type(keras.ops)}
    assert submodules == {"image", "linalg", "nn", "numpy"}
    for name in submodules:
        assert importlib.import_module(f"minired.ops.{name}") is getattr(mr.ops, name)


@pytest.mark.parametrize(("namespace", "names"), [("nn", keras_namespaces.NN),
                                                  ("linalg", keras_namespaces.LINALG)])
def test_names_are_the_ops_themselves(namespace, names):
    module = getattr(mr.ops, namespace)
    for name in names:
        assert getattr(module, name) is getattr(mr.ops, name), name
    for name in sorted(public(mr.ops.numpy)):
        assert getattr(mr.ops.numpy, name) is getattr(mr.ops, name), name


def test_every_import_statement_works():
    # A fresh interpreter, so that no earlier import has bound the names already.
    script = """
import minired.ops.nn
import minired.ops.linalg
import minired.ops.numpy
from minired.ops import numpy as mnp
from minired.ops.nn import conv, ctc_loss, relu
from minired.ops.linalg import qr, svd
from minired.ops.numpy import sum
from minired.ops.nn import *
import minired as mr
assert minired.ops.nn.conv is conv is mr.ops.conv and relu is mr.ops.relu
assert minired.ops.linalg.qr is qr is mr.ops.qr and svd is mr.ops.svd
assert minired.ops.numpy is mnp and mnp.sum is sum is mr.ops.sum
assert dot_product_attention is mr.ops.dot_product_attention
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_unknown_names_raise_attribute_error_naming_the_module():
    with pytest.raises(AttributeError, match="'minired.ops.nn' has no attribute 'matmul_x'"):
        mr.ops.nn.matmul_x   # noqa: B018
    with pytest.raises(AttributeError, match="'minired.ops.linalg' has no attribute 'relu'"):
        mr.ops.linalg.relu   # noqa: B018
    with pytest.raises(ImportError):
        from minired.ops.linalg import relu  # noqa: F401
