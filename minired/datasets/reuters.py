"""Reuters newswires: Keras keeps them as pickled object arrays, so minired refuses to load
them; the word index (JSON) and the 46 topic names load."""

from __future__ import annotations

import json

from minired.datasets._common import (
    ORIGIN_FOLDER,
    TEXT_ALTERNATIVE,
    check_test_split,
    refuse_pickles,
)
from minired.utils.file_utils import cached_file

# The md5 of Keras' reuters_word_index.json.
_WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path: str = "reuters.npz", num_words=None, skip_top: int = 0, maxlen=None,
              test_split: float = 0.2, seed: int = 113, start_char=1, oov_char=2,
              index_from: int = 3):
    """Refused: Keras' ``reuters.npz`` holds pickled object arrays; minired never unpickles.

    The 11,228 newswires have different lengths, so Keras stores them as NumPy arrays of
    Python lists (``dtype=object``), which ``.npz`` files keep as pickles; loading a pickle
    can run any code it names. The error gives a one-line Keras conversion to padded
    integer arrays that ``np.load`` reads without pickles. The arguments are Keras'.

    Args:
        path: the file's name in Keras' cache folder.
        num_words, skip_top, maxlen, seed, start_char, oov_char, index_from: Keras'
            arguments (which words to keep, how to index them, the shuffle's seed).
        test_split: the fraction kept for testing.

    Example:
        >>> load_data()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: reuters.load_data: Keras' reuters.npz stores ... as pickles; ...
    """
    check_test_split(test_split)
    raise refuse_pickles(
        "reuters.load_data",
        "Keras' reuters.npz stores the newswires (lists of different lengths) as NumPy "
        "object arrays, which .npz files keep as pickles", TEXT_ALTERNATIVE.format(name="reuters"))


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """The Reuters word index ``{word: rank}`` from Keras' cache (a JSON file, no pickles).

    Rank 1 is the most frequent word; in the sequences (default ``index_from=3``) word ``w``
    appears as ``word_index[w] + 3``. The file's md5 is checked, as Keras checks it;
    minired never downloads it.

    Args:
        path: the file's name in Keras' cache folder.

    Example:
        >>> get_word_index(path="no-such-file.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: reuters.get_word_index: 'no-such-file.json' is not in Keras' ...
    """
    path = cached_file(path, f"{ORIGIN_FOLDER}reuters_word_index.json", _WORD_INDEX_HASH,
                       owner="reuters.get_word_index",
                       keras_call="keras.datasets.reuters.get_word_index()")
    with open(path) as f:
        return json.load(f)


def get_label_names() -> tuple[str, ...]:
    """The 46 Reuters topics, label ``k`` being ``get_label_names()[k]`` (Keras' tuple).

    Example:
        >>> get_label_names()[:4]
        ('cocoa', 'grain', 'veg-oil', 'earn')
    """
    return _LABEL_NAMES
