"""Shared fixtures: float64 for gradient checks, and global settings always restored."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

import minired as mr

# On CI (the CI variable is set) hypothesis draws the same examples on every run, so a red
# build always reproduces; locally each run explores new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _restore_global_settings() -> Iterator[None]:
    """Whatever a test does to ``floatx`` or ``epsilon``, the next test starts clean."""
    floatx, epsilon = mr.config.floatx(), mr.config.epsilon()
    try:
        yield
    finally:
        mr.config.set_floatx(floatx)
        mr.config.set_epsilon(epsilon)


@pytest.fixture
def float64() -> Iterator[None]:
    """Compute in float64 for the duration of the test (gradient checks need it).

    The previous ``floatx`` is restored even when the test fails.
    """
    previous = mr.config.floatx()
    mr.config.set_floatx("float64")
    try:
        yield
    finally:
        mr.config.set_floatx(previous)


@pytest.fixture(scope="module")
def keras():
    """Keras 3 (TensorFlow quietened), for the tests that compare against it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


@pytest.fixture
def floatx_of(keras):
    """``floatx_of(dtype)`` sets floatx in both libraries; restored after the test."""
    previous_keras, previous_minired = keras.config.floatx(), mr.config.floatx()

    def set_floatx(dtype: str) -> None:
        keras.config.set_floatx(dtype)
        mr.config.set_floatx(dtype)

    yield set_floatx
    keras.config.set_floatx(previous_keras)
    mr.config.set_floatx(previous_minired)
