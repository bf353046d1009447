"""CIFAR-10: Keras keeps it as Python pickles, so minired refuses to load it."""

from __future__ import annotations

from minired.datasets._common import CIFAR_ALTERNATIVE, refuse_pickles


def load_data():
    """Refused: Keras' CIFAR-10 files are Python pickles, and minired never unpickles.

    ``keras.datasets.cifar10.load_data()`` reads ``cifar-10-batches-py/data_batch_1`` ...
    ``test_batch``, which are pickled dictionaries. Loading a pickle can run any code it
    names, so minired does not read them. The error names alternatives: ``mnist`` and
    ``fashion_mnist``, scikit-learn's ``load_digits()``, or a one-line Keras conversion to a
    plain ``.npz``.

    Example:
        >>> load_data()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: cifar10.load_data: Keras' CIFAR-10 files ... are Python pickles; ...
    """
    raise refuse_pickles(
        "cifar10.load_data",
        "Keras' CIFAR-10 files (cifar-10-batches-py/data_batch_1 ... test_batch) are Python "
        "pickles", CIFAR_ALTERNATIVE.format(name="cifar10"))
