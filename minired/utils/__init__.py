"""Utilities that Keras also exposes under ``keras.utils``."""

from minired.utils.rng_utils import set_random_seed
from minired.utils.numerical_utils import to_categorical
from minired.utils.progbar import Progbar

__all__ = ["Progbar", "set_random_seed", "to_categorical"]
