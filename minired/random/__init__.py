"""``mr.random``: Keras' ``keras.random`` on NumPy's random generators.

- :mod:`~minired.random.random`: ``normal``, ``uniform``, ``truncated_normal``, ``randint``,
  ``shuffle``, ``dropout``;
- :mod:`~minired.random.distributions`: ``gamma``, ``beta``, ``binomial``, ``categorical``;
- :mod:`~minired.random.seed_generator`: ``SeedGenerator``, the seed that changes at each use.
"""

from minired.random.distributions import beta, binomial, categorical, gamma
from minired.random.random import dropout, normal, randint, shuffle, truncated_normal, uniform
from minired.random.seed_generator import SeedGenerator

__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]
