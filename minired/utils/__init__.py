"""Utilities that Keras also exposes under ``keras.utils``."""

from minired.utils.numerical_utils import to_categorical
from minired.utils.progbar import Progbar
from minired.utils.rng_utils import set_random_seed

__all__ = ["Progbar", "set_random_seed", "to_categorical"]
