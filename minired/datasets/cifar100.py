"""CIFAR-100: Keras keeps it as Python pickles, so minired refuses to load it."""

from __future__ import annotations

from minired.datasets._common import CIFAR_ALTERNATIVE, refuse_pickles


def load_data(label_mode: str = "fine"):
    """Refused: Keras' CIFAR-100 files are Python pickles, and minired never unpickles.

    ``keras.datasets.cifar100.load_data()`` reads ``cifar-100-python/train`` and ``test``,
    pickled dictionaries; loading a pickle can run any code it names. ``label_mode`` is
    checked as Keras checks it, then the error names alternatives (``mnist``,
    ``fashion_mnist``, scikit-learn's ``load_digits()``, a one-line Keras conversion to a
    plain ``.npz``).

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Example:
        >>> load_data()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: cifar100.load_data: Keras' CIFAR-100 files ... are Python pickles; ...
    """
    if label_mode not in ["fine", "coarse"]:
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    raise refuse_pickles(
        "cifar100.load_data",
        "Keras' CIFAR-100 files (cifar-100-python/train and test) are Python pickles",
        CIFAR_ALTERNATIVE.format(name="cifar100").replace(
            "load_data()", f"load_data(label_mode='{label_mode}')"))
