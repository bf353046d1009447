"""Utilities that Keras also exposes under ``keras.utils``."""

from minired.utils.dataset_utils import split_dataset
from minired.utils.numerical_utils import normalize, to_categorical
from minired.utils.progbar import Progbar
from minired.utils.py_dataset import PyDataset
from minired.utils.rng_utils import set_random_seed
from minired.utils.sequence_utils import pad_sequences

__all__ = ["Progbar", "PyDataset", "normalize", "pad_sequences", "set_random_seed", "split_dataset",
           "to_categorical"]
