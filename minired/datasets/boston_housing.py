"""Boston Housing: 506 districts, 13 features, the median house price; from Keras' cache."""

from __future__ import annotations

import numpy as np

from minired.datasets._common import ORIGIN_FOLDER, check_test_split, shuffle_and_split
from minired.utils.file_utils import cached_file

# The sha256 of Keras' boston_housing.npz.
_FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113):
    """Load Boston Housing from Keras' cache: ``(x_train, y_train), (x_test, y_test)``.

    The arrays ``keras.datasets.boston_housing.load_data()`` returns, read from
    ``~/.keras/datasets/boston_housing.npz`` (or ``$KERAS_HOME/datasets/...``): ``x`` of
    shape ``(n, 13)`` and the prices ``y`` (in k$) of shape ``(n,)``, shuffled with
    ``np.random.RandomState(seed)``; the first ``int(n * (1 - test_split))`` train, the
    rest test, exactly as in Keras. (Keras warns that one feature, "B", encodes a racist
    assumption: use this dataset to discuss that, or prefer ``california_housing``.)

    Args:
        path: the file's name in Keras' cache folder.
        test_split: the fraction kept for testing, in ``[0, 1)``.
        seed: the seed of the shuffle.

    Example:
        >>> load_data(test_split=1.0)
        Traceback (most recent call last):
        ...
        ValueError: Invalid `test_split` argument: 1.0. It must be between 0 and 1 (exclusive of 1).
    """
    check_test_split(test_split)
    path = cached_file(path, f"{ORIGIN_FOLDER}boston_housing.npz", _FILE_HASH,
                       owner="boston_housing.load_data",
                       keras_call="keras.datasets.boston_housing.load_data()")
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffle_and_split(x, y, test_split, seed)
