"""StringLookup: strings to vocabulary indices (or one-hot, multi-hot, count, TF-IDF)."""

from __future__ import annotations

from minired.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Map strings to integer indices of a vocabulary, as ``keras.layers.StringLookup``.

    Forward (no gradient: the inputs are strings), for the vocabulary
    ``[mask?] [UNK] token_1 token_2 …``::

        int:        a = index of x      (unknown strings: 1 with no mask, the [UNK] index)
        one_hot / multi_hot / count / tf_idf: vectors of the vocabulary's size, as
                    :class:`~minired.layers.preprocessing.index_lookup.IndexLookup`
        invert:     a = the string at index x

    The vocabulary is given, or learned by :meth:`adapt` (most frequent first, ties: the
    larger string first, by UTF-8 bytes, as Keras). Inputs are Python lists or NumPy
    arrays of ``str`` (or ``bytes``, decoded as UTF-8); outputs are int64 arrays (floatx
    for ``tf_idf``; ``str`` arrays for ``invert``). Saved in a ``.keras`` file as Keras
    does: an adapted vocabulary goes to ``assets/.../vocabulary.txt``, one token a line.

    Args:
        max_tokens: the largest vocabulary size (mask and OOV included), or None.
        num_oov_indices: how many OOV indices (1; 0 makes an unknown string an error;
            with more, an unknown string goes to one chosen by its FarmHash fingerprint).
        mask_token: the padding string (index 0 in ``int`` mode, dropped in the others).
        oov_token: the string for unknown indices (``"[UNK]"``).
        vocabulary: the tokens (a list, an array, or a text file's path).
        idf_weights: the IDF weights, with ``output_mode="tf_idf"`` and a vocabulary.
        invert: map indices back to strings.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"``, ``"tf_idf"``.
        pad_to_max_tokens: vectors of ``max_tokens`` whatever the vocabulary's size.
        sparse: must be False.
        encoding: the text encoding (``"utf-8"``).
        name: layer name.

    Example:
        >>> layer = StringLookup(vocabulary=["a", "b", "c"])
        >>> layer(np.array([["a", "c", "z"]]))
        array([[1, 3, 0]])
        >>> layer.get_vocabulary()
        ['[UNK]', 'a', 'b', 'c']
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: str | None = None, oov_token: str = "[UNK]", vocabulary=None,
                 idf_weights=None, invert: bool = False, output_mode: str = "int",
                 pad_to_max_tokens: bool = False, sparse: bool = False,
                 encoding: str = "utf-8", name: str | None = None, salt=None,
                 **kwargs) -> None:
        if encoding.lower().replace("-", "").replace("_", "") != "utf8":
            raise ValueError(f"StringLookup: only encoding='utf-8' is supported in minired, "
                             f"got {encoding!r}.")
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def get_config(self) -> dict:
        """Keras' keys: IndexLookup's without ``vocabulary_dtype``, and ``encoding``."""
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}
