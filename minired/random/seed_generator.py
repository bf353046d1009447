"""``SeedGenerator``: where a random op gets its seed (Keras' ``keras.random.SeedGenerator``).

Keras' random functions are **stateless**: the same integer seed gives the same numbers at
every call. To get new numbers at each call, pass a ``SeedGenerator``: its state is a pair
``[seed, counter]``, and each :meth:`SeedGenerator.next` returns the state and advances the
counter. minired turns a state into a NumPy ``Generator`` with ``np.random.default_rng``.
"""

from __future__ import annotations

import numpy as np

from minired.utils import rng_utils
from minired.utils.naming import auto_name

#: The rng_utils stream that seeds unseeded SeedGenerators and unseeded random ops.
STREAM = "random"


class SeedGenerator:
    """A seed that changes at each use.

    Args:
        seed: an int, or None for a seed drawn from minired's random streams (reproducible
            after ``mr.utils.set_random_seed``).
        name: its name (``"seed_generator"``, ``"seed_generator_1"``... when None).

    Example:
        >>> from minired.random import normal
        >>> gen = SeedGenerator(42)
        >>> first, second = normal((2,), seed=gen), normal((2,), seed=gen)
        >>> bool(np.all(first == second))
        False
        >>> bool(np.all(first == normal((2,), seed=SeedGenerator(42))))
        True
    """

    def __init__(self, seed: int | None = None, name: str | None = None) -> None:
        self.name = name or auto_name("SeedGenerator")
        self._initial_seed = seed
        if seed is None:
            seed = rng_utils.draw_seed(STREAM)
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self.state = np.array([int(seed), 0], dtype=np.int64)

    def next(self) -> np.ndarray:
        """The current state ``[seed, counter]``; the counter moves on by one."""
        current = self.state.copy()
        self.state[1] += 1
        return current

    def get_config(self) -> dict:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> SeedGenerator:
        return cls(**config)


def draw_seed(seed, stream: str = STREAM) -> np.ndarray:
    """The state ``[seed, counter]`` a random op uses, as Keras' ``draw_seed``.

    - an int: ``[seed, 0]``, the same at every call (stateless);
    - a :class:`SeedGenerator`: its next state;
    - None: a fresh seed from the ``stream`` of ``rng_utils`` (reproducible after
      ``mr.utils.set_random_seed``).
    """
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return np.array([rng_utils.draw_seed(stream), 0], dtype=np.int64)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError("Argument `seed` must be either an integer or an instance of "
                         f"`SeedGenerator`. Received: seed={seed!r} (of type {type(seed)})")
    return np.array([int(seed), 0], dtype=np.int64)


def make_generator(seed, stream: str = STREAM) -> np.random.Generator:
    """A NumPy ``Generator`` for ``seed`` (an int, a SeedGenerator or None)."""
    return np.random.default_rng([int(s) % 2**63 for s in draw_seed(seed, stream)])
