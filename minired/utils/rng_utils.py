"""Random seeds: one call makes a whole run reproducible.

Keras draws a seed for every unseeded initializer and Dropout layer when it is
*constructed*, from a global generator that ``keras.utils.set_random_seed`` resets.
minired does the same with NumPy ``Generator``\\ s, one **stream** per purpose:

========================  ====================================================
stream                    draws
========================  ====================================================
``"initializers"``        the seed of each unseeded initializer (initial weights)
``"dropout"``             the seed of each unseeded Dropout layer
``"shuffle"``             the order of the samples (or of a PyDataset's batches) in each
                          epoch of ``fit``
``"random"``              the seed of each unseeded ``mr.random`` draw or ``SeedGenerator``
========================  ====================================================

Separate streams keep one kind of randomness from moving another: fitting model A (which
shuffles) does not change the initial weights of a model B built afterwards, and adding a
Dropout layer does not change the initial weights of the Dense layers around it. A model's
initial weights depend only on the seed and the order in which its layers are created.
"""

from __future__ import annotations

import random
import sys

import numpy as np

STREAMS = ("initializers", "dropout", "shuffle", "random")


def _new_streams(seed: int | None) -> dict[str, np.random.Generator]:
    """One independent generator per stream, all derived from ``seed``.

    The initializers' stream is ``default_rng(seed)`` itself; the others are spawned from
    the same seed, so they are independent of it and of each other.
    """
    streams = {"initializers": np.random.default_rng(seed)}
    children = np.random.SeedSequence(seed).spawn(len(STREAMS) - 1)
    for name, child in zip(STREAMS[1:], children, strict=True):
        streams[name] = np.random.default_rng(child)
    return streams


_streams = _new_streams(None)


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's legacy generator and minired's streams (and, as
    Keras does, TensorFlow's, when your script has imported it: for ``tf.data`` shuffles).

    After this call, initial weights, Dropout masks and the ``fit`` shuffle are reproducible.

    Args:
        seed: a non-negative integer.

    Example:
        >>> set_random_seed(42)
        >>> a = mr.layers.Dense(2).kernel_initializer((3, 2))
        >>> set_random_seed(42)
        >>> bool(np.all(a == mr.layers.Dense(2).kernel_initializer((3, 2))))
        True
    """
    global _streams
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"set_random_seed: `seed` must be an int, got {type(seed).__name__}.")
    if seed < 0:
        raise ValueError(f"set_random_seed: `seed` must be >= 0, got {seed}.")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _streams = _new_streams(int(seed))
    tensorflow = sys.modules.get("tensorflow")    # loaded by your script (tf.data), not by us
    if tensorflow is not None:                    # Keras seeds it too
        tensorflow.random.set_seed(int(seed))


def generator(stream: str) -> np.random.Generator:
    """Return the generator of ``stream`` (one of :data:`STREAMS`), reset by
    :func:`set_random_seed`."""
    if stream not in _streams:
        raise ValueError(f"Unknown random stream {stream!r}; known: {', '.join(STREAMS)}.")
    return _streams[stream]


def draw_seed(stream: str = "initializers") -> int:
    """Draw a fresh integer seed from ``stream`` (as Keras does for ``seed=None``)."""
    return int(generator(stream).integers(1, 10**9))


def make_generator(seed: int | None, stream: str = "initializers") -> np.random.Generator:
    """Return a generator for ``seed``; ``None`` draws a seed from ``stream``."""
    if seed is None:
        seed = draw_seed(stream)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"`seed` must be an int or None, got {type(seed).__name__}.")
    return np.random.default_rng(int(seed))


def restart_random_stream() -> None:
    """Give the ``"random"`` stream (unseeded ``mr.random`` draws and SeedGenerators) a new
    generator seeded from Python's ``random``, as Keras' ``clear_session`` drops its global
    ``SeedGenerator`` and the next one takes its seed from Python's ``random``: reproducible
    after :func:`set_random_seed`, and the other streams (initial weights, dropout, shuffle)
    keep going, as Keras' initializers and layers do.
    """
    _streams["random"] = np.random.default_rng(random.randint(1, 10**9))
