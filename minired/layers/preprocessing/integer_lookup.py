"""IntegerLookup: integer ids to vocabulary indices (or one-hot, multi-hot, count, TF-IDF)."""

from __future__ import annotations

from minired.layers.preprocessing.index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Map integer ids (any values) to consecutive indices, as ``keras.layers.IntegerLookup``.

    Forward (no gradient: the inputs are ids), for the vocabulary
    ``[mask?] [-1 (OOV)] id_1 id_2 …``::

        int:        a = index of x      (unknown ids: the OOV index; with several OOV
                    indices, oov_start + x mod num_oov_indices, Keras' "floormod")
        one_hot / multi_hot / count / tf_idf: as
                    :class:`~minired.layers.preprocessing.index_lookup.IndexLookup`
        invert:     a = the id at index x

    :meth:`adapt` ranks the ids by count, ties broken by the larger id first, as Keras.

    Args:
        max_tokens: the largest vocabulary size (mask and OOV included), or None.
        num_oov_indices: how many OOV indices (default 1; 0: an unknown id is an error).
        mask_token: the padding id (index 0 in ``int`` mode), or None.
        oov_token: the id ``invert`` returns for an unknown index (-1).
        vocabulary: the ids (a list, an array, or a text file's path).
        vocabulary_dtype: ``"int64"`` (the only one, as in Keras).
        idf_weights: the IDF weights, with ``output_mode="tf_idf"`` and a vocabulary.
        invert: map indices back to ids.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"``, ``"tf_idf"``.
        sparse: must be False.
        pad_to_max_tokens: vectors of ``max_tokens`` whatever the vocabulary's size.
        oov_method: ``"floormod"`` (default) or ``"farmhash"`` (the fingerprint of the
            id's decimal text, as TensorFlow).
        name: layer name.

    Example:
        >>> layer = IntegerLookup()
        >>> layer.adapt(np.array([[12, 1138, 42], [42, 1000, 36]]))
        >>> layer.get_vocabulary()
        [-1, 42, 1138, 1000, 36, 12]
        >>> layer(np.array([[12, 7]]))
        array([[5, 0]])
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: int | None = None, oov_token: int = -1, vocabulary=None,
                 vocabulary_dtype: str = "int64", idf_weights=None, invert: bool = False,
                 output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod", salt=None,
                 name: str | None = None, **kwargs) -> None:
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater "
                             f"than 1. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` "
                             f"must >= 0. Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         vocabulary_dtype=vocabulary_dtype, idf_weights=idf_weights,
                         invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method,
                         salt=salt, name=name, **kwargs)

    def get_config(self) -> dict:
        """Keras' keys (IndexLookup's), with the tokens as Python ints."""
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
