"""Fashion-MNIST: 70,000 grayscale 28x28 images of clothes in 10 classes, read from Keras'
cache."""

from __future__ import annotations

import gzip
import os

import numpy as np

from minired.datasets._common import ORIGIN_FOLDER
from minired.utils.file_utils import cached_file

# Keras' four files, in datasets/fashion-mnist/ of its cache (Keras checks no hash).
_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
_CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")


def _read_idx(path: str, header: int) -> np.ndarray:
    """The uint8 values of a gzipped IDX file after its ``header`` bytes (8 for labels:
    magic number and count; 16 for images: magic number, count, rows, columns)."""
    with gzip.open(path, "rb") as file:
        return np.frombuffer(bytearray(file.read()), np.uint8, offset=header)


def load_data():
    """Load Fashion-MNIST from Keras' cache: ``(x_train, y_train), (x_test, y_test)``.

    The arrays ``keras.datasets.fashion_mnist.load_data()`` returns, read from the four
    gzipped IDX files Keras downloads into ``~/.keras/datasets/fashion-mnist/`` (or
    ``$KERAS_HOME/datasets/fashion-mnist/``):

    - ``x_train``: uint8 ``(60000, 28, 28)``; ``y_train``: uint8 ``(60000,)``;
    - ``x_test``: uint8 ``(10000, 28, 28)``; ``y_test``: uint8 ``(10000,)``.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot. minired never downloads: a missing file raises
    ``FileNotFoundError`` with the command that fetches it. The arrays are writable (Keras'
    are read-only views of the decompressed bytes); their values are the same.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"KERAS_HOME": "/nonexistent"}):
        ...     load_data()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: fashion_mnist.load_data: 'train-labels-idx1-ubyte.gz' is not ...
    """
    paths = [cached_file(name, ORIGIN_FOLDER + name, cache_subdir=_CACHE_SUBDIR,
                         owner="fashion_mnist.load_data",
                         keras_call="keras.datasets.fashion_mnist.load_data()")
             for name in _FILES]
    y_train, x_train = _read_idx(paths[0], 8), _read_idx(paths[1], 16)
    y_test, x_test = _read_idx(paths[2], 8), _read_idx(paths[3], 16)
    for x, y, x_path in ((x_train, y_train, paths[1]), (x_test, y_test, paths[3])):
        if x.size != len(y) * 28 * 28:
            raise ValueError(f"fashion_mnist.load_data: {x_path} holds {x.size} pixels, not "
                             f"{len(y)} images of 28x28 (one per label): the file is damaged; "
                             "delete it and fetch it again.")
    return ((x_train.reshape(len(y_train), 28, 28), y_train),
            (x_test.reshape(len(y_test), 28, 28), y_test))
