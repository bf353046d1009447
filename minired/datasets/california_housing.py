"""California Housing: 20,640 districts, 8 features, the median house value; from Keras'
cache."""

from __future__ import annotations

import numpy as np

from minired.datasets._common import ORIGIN_FOLDER, check_test_split, shuffle_and_split
from minired.utils.file_utils import cached_file

# The sha256 of Keras' california_housing.npz.
_FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version: str = "large", path: str = "california_housing.npz",
              test_split: float = 0.2, seed: int = 113):
    """Load California Housing from Keras' cache: ``(x_train, y_train), (x_test, y_test)``.

    The arrays ``keras.datasets.california_housing.load_data()`` returns, read from
    ``~/.keras/datasets/california_housing.npz`` (or ``$KERAS_HOME/datasets/...``): ``x``
    of shape ``(n, 8)`` (MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup,
    Latitude, Longitude) and the median house value ``y`` in dollars, shape ``(n,)``.
    ``version="small"`` keeps the first 600 districts. Then, as in Keras, the samples are
    shuffled with ``np.random.RandomState(seed)``; the first ``int(n * (1 - test_split))``
    train, the rest test.

    Args:
        version: ``"large"`` (20,640 samples) or ``"small"`` (600).
        path: the file's name in Keras' cache folder.
        test_split: the fraction kept for testing, in ``[0, 1)``.
        seed: the seed of the shuffle.

    Example:
        >>> load_data(version="medium")
        Traceback (most recent call last):
        ...
        ValueError: Argument `version` must be one of 'small', 'large'. Received: version=medium
    """
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError("Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    path = cached_file(path, f"{ORIGIN_FOLDER}california_housing.npz", _FILE_HASH,
                       owner="california_housing.load_data",
                       keras_call="keras.datasets.california_housing.load_data()")
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffle_and_split(x, y, test_split, seed)
