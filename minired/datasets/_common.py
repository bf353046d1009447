"""What the dataset loaders share: Keras' download folder, its test split, and the refusal
of files that only a pickle reader can open."""

from __future__ import annotations

import numpy as np

# Where Keras downloads its small datasets from (named in the error messages only).
ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# What to use instead of CIFAR-10 and CIFAR-100 ({name}: the Keras module).
CIFAR_ALTERNATIVE = (
    "Instead: mr.datasets.mnist or mr.datasets.fashion_mnist (plain files); "
    "sklearn.datasets.load_digits(), 1,797 8x8 digit images that ship inside scikit-learn "
    "(nothing to download); or let Keras read CIFAR once and save plain arrays:\n"
    "    python -c \"import keras, numpy as np; (a, b), (c, d) = "
    "keras.datasets.{name}.load_data(); "
    "np.savez('{name}.npz', x_train=a, y_train=b, x_test=c, y_test=d)\"\n"
    "then `with np.load('{name}.npz') as f: x_train = f['x_train']` reads them without "
    "pickles.")

# What to use instead of IMDB and Reuters ({name}: the Keras module).
TEXT_ALTERNATIVE = (
    "Instead, let Keras read them once and save integer arrays padded to one length, which "
    "need no pickles:\n"
    "    python -c \"import keras, numpy as np; p = keras.utils.pad_sequences; "
    "(a, b), (c, d) = keras.datasets.{name}.load_data(num_words=10000); "
    "np.savez('{name}_padded.npz', x_train=p(a, maxlen=200), y_train=b, "
    "x_test=p(c, maxlen=200), y_test=d)\"\n"
    "then `with np.load('{name}_padded.npz') as f: x_train = f['x_train']` "
    "(mr.utils.pad_sequences pads sequences of your own).")


def check_test_split(test_split) -> None:
    """``0 <= test_split < 1``, with Keras' message."""
    if not (0 <= test_split < 1):
        raise ValueError(f"Invalid `test_split` argument: {test_split}. "
                         "It must be between 0 and 1 (exclusive of 1).")


def shuffle_and_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int):
    """Shuffle ``(x, y)`` with ``np.random.RandomState(seed)`` and cut off the last
    ``test_split`` as the test set, exactly as Keras' housing loaders do.

    The first ``int(n * (1 - test_split))`` shuffled samples train, the rest test.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = shuffle_and_split(
        ...     np.arange(5), np.arange(5) * 10, test_split=0.4, seed=113)
        >>> x_train, y_test
        (array([1, 0, 3]), array([20, 40]))
    """
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def refuse_pickles(owner: str, what: str, alternative: str) -> ValueError:
    """The error a loader raises when Keras' file can only be read by unpickling it."""
    return ValueError(
        f"{owner}: {what}; reading them means unpickling, and minired never unpickles "
        "(loading a pickle can run any code it names, so minired's loaders read only plain "
        f"arrays, np.load(..., allow_pickle=False)). {alternative}")
