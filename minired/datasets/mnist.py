"""MNIST: 70,000 grayscale 28x28 images of handwritten digits, read from Keras' cache."""

from __future__ import annotations

import numpy as np

from minired.datasets._common import ORIGIN_FOLDER
from minired.utils.file_utils import cached_file

# The sha256 of Keras' mnist.npz: a cached file that differs is refused (Keras downloads it).
_FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz"):
    """Load MNIST from Keras' cache: ``(x_train, y_train), (x_test, y_test)``.

    The arrays Keras' ``keras.datasets.mnist.load_data()`` returns, read from the file it
    downloaded, ``~/.keras/datasets/mnist.npz`` (or ``$KERAS_HOME/datasets/mnist.npz``):

    - ``x_train``: uint8 ``(60000, 28, 28)``, pixels 0 to 255; ``y_train``: uint8
      ``(60000,)``, digits 0 to 9;
    - ``x_test``: uint8 ``(10000, 28, 28)``; ``y_test``: uint8 ``(10000,)``.

    minired never downloads: without the file, a ``FileNotFoundError`` names the folder
    searched, Keras' URL and the command that fetches it. The file's sha256 is checked, as
    Keras checks it, and the file is read with ``np.load(..., allow_pickle=False)``.
    In a script: ``(x_train, y_train), (x_test, y_test) = mr.datasets.mnist.load_data()``.

    Args:
        path: the file's name in Keras' cache folder.

    Example:
        >>> load_data(path="no-such-file.npz")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: mnist.load_data: 'no-such-file.npz' is not in Keras' cache folder ...
    """
    path = cached_file(path, f"{ORIGIN_FOLDER}mnist.npz", _FILE_HASH, owner="mnist.load_data",
                       keras_call="keras.datasets.mnist.load_data()")
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
