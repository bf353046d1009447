"""Keras' small datasets, read from Keras' own download cache: never downloaded, never
unpickled.

- ``mnist``: handwritten digits, 28x28 grayscale (``mnist.npz``);
- ``fashion_mnist``: clothes, 28x28 grayscale (four ``.gz`` files in ``fashion-mnist/``);
- ``boston_housing``: house prices, 13 features (``boston_housing.npz``);
- ``california_housing``: house values, 8 features (``california_housing.npz``);
- ``cifar10``, ``cifar100``: refused, Keras' files are Python pickles;
- ``imdb``, ``reuters``: the texts are refused (pickled object arrays); their word indexes
  (JSON) load.

``(x_train, y_train), (x_test, y_test) = mr.datasets.mnist.load_data()`` returns the arrays
``keras.datasets.mnist.load_data()`` returns, from the file Keras downloaded into
``~/.keras/datasets/`` (or ``$KERAS_HOME/datasets/``). minired fetches nothing at run time:
a missing file raises ``FileNotFoundError`` with the URL and the command that fetches it.
"""

from minired.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "mnist", "reuters"]
