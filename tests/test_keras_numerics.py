"""minired.keras_numerics against TensorFlow itself: each quirk, checked at its source.

Every test here asks Keras or TensorFlow the same question as minired and demands the same
answer, bit for bit: the cast of a Python float, the comparison of two monitored values, a
cosine, a power, a subnormal number flushed to zero in training.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import sys

import numpy as np
import pytest

from minired import keras_numerics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


# -- 1. Python floats become float32 tensors ---------------------------------------------------

VALUES = [0.9, 0.1, 1e-7, 0.004, 3, True, np.float64(0.9), np.float32(0.9), np.float64(1e-7)]


@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_as_keras_constant_is_keras_cast(value, dtype):
    ours = keras_numerics.as_keras_constant(value, dtype)
    theirs = keras.ops.cast(value, dtype).numpy()
    assert ours.dtype == theirs.dtype
    assert ours == theirs


def test_as_keras_constant_of_an_array_like():
    for value in ([0.1, 0.2], np.array([0.1, 0.2])):
        ours = keras_numerics.as_keras_constant(value, "float64")
        np.testing.assert_array_equal(ours, keras.ops.cast(value, "float64").numpy())
    assert float(keras_numerics.as_keras_constant([0.1], "float64")[0]) != 0.1  # via float32


@pytest.mark.parametrize("value", [0.1, np.float64(0.1), np.float32(0.1), np.float16(0.1)],
                         ids=repr)
def test_keras_tensor_dtype_is_the_tensor_keras_makes(value):
    assert keras_numerics.keras_tensor_dtype(value) == keras.ops.convert_to_tensor(value).dtype


# -- 2. cos rounded once -----------------------------------------------------------------------

def cosine_decay_angles(max_decay_steps: int) -> list[np.float32]:
    """The float32 angles π·step/decay_steps that CosineDecay takes the cosine of."""
    pi = np.float32(math.pi)
    return [pi * (np.float32(step) / np.float32(d))
            for d in range(1, max_decay_steps + 1) for step in range(d + 1)]


def test_cos_rounded_once_is_far_closer_to_tensorflow_than_numpys_cos():
    angles = cosine_decay_angles(20)
    theirs = [tf.cos(tf.constant(a)).numpy() for a in angles]
    once_misses = sum(keras_numerics.cos_rounded_once(a) != t
                      for a, t in zip(angles, theirs, strict=True))
    numpy_misses = sum(np.cos(a) != t for a, t in zip(angles, theirs, strict=True))
    # TensorFlow's cosf is not always correctly rounded (1 miss of 230 here, 31 for np.cos).
    assert once_misses * 10 < numpy_misses
    # On the angles of the comparison cases (decay_steps 3 and 5), no miss at all.
    for decay_steps in (3, 5):
        for step in range(decay_steps + 1):
            angle = np.float32(math.pi) * (np.float32(step) / np.float32(decay_steps))
            assert keras_numerics.cos_rounded_once(angle) == tf.cos(tf.constant(angle)).numpy()


# -- 3. pow on NumPy scalars -------------------------------------------------------------------

def powers() -> list[tuple[np.float32, np.float32]]:
    """Adam's beta^t and ExponentialDecay's rate^(step/decay_steps), in float32."""
    adam = [(np.float32(b), np.float32(t)) for b in (0.9, 0.999, 0.95) for t in range(1, 101)]
    decay = [(np.float32(r), np.float32(s) / np.float32(d))
             for r in (0.5, 0.9, 0.96) for d in (3, 7, 10) for s in range(60)]
    return adam + decay


def test_pow_of_numpy_scalars_is_tensorflows_pow():
    pairs = powers()
    theirs = [tf.pow(tf.constant(b), tf.constant(e)).numpy() for b, e in pairs]
    assert [b**e for b, e in pairs] == theirs
    bases = np.array([b for b, _ in pairs])
    exponents = np.array([e for _, e in pairs])
    array_misses = np.sum(bases**exponents != np.array(theirs))
    assert array_misses > 10          # NumPy's array loop rounds otherwise: keep to scalars


# -- 4. comparisons of monitored values ----------------------------------------------------------

PAIRS = [
    (0.3 - 1e-9, 0.3), (0.3, 0.3 - 1e-9), (0.3 + 1e-8, 0.3), (0.3, 0.3 + 1e-8), (0.25, 0.3),
    (0.0, 5e-45), (5e-45, 0.0), (-5e-45, 0.0), (1e-39, 2e-39), (0.0, 1.2e-38), (1, 0.9999999),
    (np.float64(0.3 - 1e-9), 0.3), (np.float64(0.3 - 1e-9), np.float64(0.3)),
    (np.float64(0.0), np.float64(1e-320)), (np.float32(0.1), 0.1), (float("nan"), 0.1),
]


@pytest.mark.parametrize("a, b", PAIRS, ids=repr)
def test_comparisons_are_keras_ops(a, b):
    assert keras_numerics.less_as_keras(a, b) == bool(keras.ops.less(a, b))
    assert keras_numerics.greater_as_keras(a, b) == bool(keras.ops.greater(a, b))


# -- 7. training flushes subnormal numbers to zero -----------------------------------------------

def _adam_moment_after_a_gradient_stops(lib):
    """Adam's ``m`` of a weight whose gradient is -2e-15 at the first step, then exactly 0:
    with ``beta_1 = 0.5`` the update ``m += (0 - m)·0.5`` halves it every step. Once the half
    is subnormal (below float32's 1.2e-38), a flushed step adds 0 and ``m`` stays where it
    is; unflushed, it goes on halving (1e-15 · 2⁻⁷⁹ ≈ 1.7e-39 after the 80 steps)."""
    x = np.zeros((80, 1), np.float32)
    x[0] = 1e-15
    y = np.ones((80, 1), np.float32)
    model = lib.Sequential([lib.Input((1,)), lib.layers.Dense(1, use_bias=False,
                                                              kernel_initializer="ones")])
    model.compile(optimizer=lib.optimizers.Adam(0.001, beta_1=0.5), loss="mse")
    model.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0)
    return np.float32(np.asarray(model.optimizer._momentums[0]).item())


def test_training_flushes_subnormals_as_tensorflow_does(monkeypatch):
    import minired as mr

    assert float(tf.constant(np.float32(1e-39)) * tf.constant(np.float32(1.5))) == 0.0
    keras_m = _adam_moment_after_a_gradient_stops(keras)
    assert -2 * np.finfo(np.float32).tiny < keras_m < 0                # stuck above 1.2e-38
    assert _adam_moment_after_a_gradient_stops(mr) == keras_m          # bit for bit
    # The control: without the flush, minired's moment halves on into the subnormals.
    monkeypatch.setattr(keras_numerics, "flush_subnormals", lambda: contextlib.nullcontext())
    assert keras_m < _adam_moment_after_a_gradient_stops(mr) < 0


def test_flush_subnormals_here_and_only_inside_the_block():
    supported = (sys.platform == "linux" and platform.machine() == "x86_64"
                 and platform.libc_ver()[0] == "glibc")
    tiny = np.float32(1e-39)                                       # subnormal in float32
    with pytest.raises(KeyError), keras_numerics.flush_subnormals() as flushing:
        assert flushing == supported
        assert (tiny * np.float32(1.5) == 0) == flushing           # read as 0 (DAZ)
        assert (np.float32(2e-38) - np.float32(1.5e-38) == 0) == flushing   # written as 0
        raise KeyError("an error inside the block")
    assert tiny * np.float32(1.5) > 0                              # put back, even so
