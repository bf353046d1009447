"""IMDB reviews: Keras keeps them as pickled object arrays, so minired refuses to load them;
the word index (JSON) loads."""

from __future__ import annotations

import json

from minired.datasets._common import ORIGIN_FOLDER, TEXT_ALTERNATIVE, refuse_pickles
from minired.utils.file_utils import cached_file

# The md5 of Keras' imdb_word_index.json.
_WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path: str = "imdb.npz", num_words=None, skip_top: int = 0, maxlen=None,
              seed: int = 113, start_char=1, oov_char=2, index_from: int = 3, **kwargs):
    """Refused: Keras' ``imdb.npz`` holds pickled object arrays, and minired never unpickles.

    The 50,000 reviews have different lengths, so Keras stores them as NumPy arrays of
    Python lists (``dtype=object``), which ``.npz`` files keep as pickles; loading a pickle
    can run any code it names. The error gives a one-line Keras conversion to padded
    integer arrays that ``np.load`` reads without pickles. The arguments are Keras'.

    Args:
        path: the file's name in Keras' cache folder.
        num_words, skip_top, maxlen, seed, start_char, oov_char, index_from: Keras'
            arguments (which words to keep, how to index them, the shuffle's seed).
        **kwargs: accepted, as in Keras.

    Example:
        >>> load_data(num_words=10000)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: imdb.load_data: Keras' imdb.npz stores ... as pickles; ...
    """
    raise refuse_pickles(
        "imdb.load_data",
        "Keras' imdb.npz stores the reviews (lists of different lengths) as NumPy object "
        "arrays, which .npz files keep as pickles", TEXT_ALTERNATIVE.format(name="imdb"))


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The IMDB word index ``{word: rank}`` from Keras' cache (a JSON file, no pickles).

    Rank 1 is the most frequent word. In ``load_data``'s sequences (default
    ``index_from=3``) word ``w`` appears as ``word_index[w] + 3``; 0 pads, 1 starts a review,
    2 marks a word left out. The file's md5 is checked, as Keras checks it; minired never
    downloads it.

    Args:
        path: the file's name in Keras' cache folder.

    Example:
        >>> get_word_index(path="no-such-file.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: imdb.get_word_index: 'no-such-file.json' is not in Keras' cache ...
    """
    path = cached_file(path, f"{ORIGIN_FOLDER}imdb_word_index.json",
                       _WORD_INDEX_HASH, owner="imdb.get_word_index",
                       keras_call="keras.datasets.imdb.get_word_index()")
    with open(path) as f:
        return json.load(f)
