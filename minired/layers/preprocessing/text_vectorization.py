"""TextVectorization: sentences to token indices (or multi-hot, count, TF-IDF vectors)."""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np

from minired.layers.layer import Layer
from minired.layers.preprocessing.index_lookup import RaggedTokens
from minired.layers.preprocessing.string_lookup import StringLookup
from minired.saving import serialization_lib

#: Keras' punctuation regex, ``[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']``: its ``,-\.`` is
#: the range ``,`` ``-`` ``.``, so the class is exactly ``string.punctuation``.
_STRIP_PUNCTUATION = str.maketrans("", "", string.punctuation)
#: ``tf.strings.lower`` without an encoding lowercases ASCII only ("École" stays "École").
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
#: ``tf.strings.split`` splits on ASCII whitespace only (not on "\xa0" or "\x1c").
_ASCII_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")


def standardize_text(texts: np.ndarray, standardize) -> np.ndarray:
    """Keras' standardization of an array of ``str``: ASCII lowercasing and/or deleting
    ``string.punctuation``, or the user's callable (given and returning an array of str).

    Example:
        >>> standardize_text(np.array(["Hello, World!", "École?"]), "lower_and_strip_punctuation")
        array(['hello world', 'École'], dtype='<U13')
    """
    table = {}
    if standardize in ("lower", "lower_and_strip_punctuation"):
        table.update(_ASCII_LOWER)
    if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
        table.update(_STRIP_PUNCTUATION)
    if table:
        texts = np.char.translate(texts, table)
    if callable(standardize):
        texts = np.asarray(standardize(texts), dtype=str)
    return texts


def split_text(texts: np.ndarray, split) -> RaggedTokens:
    """The tokens of each text, flat with their row: ASCII whitespace (``"whitespace"``)
    or code points (``"character"``), or the user's callable (one list of tokens a text).

    NumPy has no vectorized string split, so this is the one loop over the texts.

    Example:
        >>> split_text(np.array(["a b", "c"]), "whitespace").values
        array(['a', 'b', 'c'], dtype='<U1')
    """
    if split == "whitespace":
        pieces = [[t for t in _ASCII_WHITESPACE.split(text) if t] for text in texts.tolist()]
    elif split == "character":
        pieces = [list(text) for text in texts.tolist()]
    else:
        pieces = [[str(t) for t in row] for row in split(texts)]
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    values = np.array([t for p in pieces for t in p], dtype=str)
    return RaggedTokens(values, np.repeat(np.arange(len(pieces)), lengths), len(pieces))


def ngrams_of(tokens: RaggedTokens, widths: tuple[int, ...]) -> RaggedTokens:
    """``tf.strings.ngrams(tokens, widths, separator=" ")``: per row, all n-grams of the
    first width, then of the next (a row shorter than n has none of width n).

    Example:
        >>> ngrams_of(split_text(np.array(["a b c", "d"]), "whitespace"), (1, 2)).values
        array(['a', 'b', 'c', 'a b', 'b c', 'd'], dtype='<U3')
    """
    values, rows = tokens.values, tokens.rows
    pieces, piece_rows, order = [], [], []
    for n in widths:
        if n < 1 or values.size < n:
            continue
        same_row = rows[n - 1:] == rows[:rows.size - n + 1]
        gram = values[:values.size - n + 1]
        for k in range(1, n):
            gram = np.char.add(np.char.add(gram, " "), values[k:values.size - n + 1 + k])
        pieces.append(gram[same_row])
        piece_rows.append(rows[:rows.size - n + 1][same_row])
        order.append(np.full(int(same_row.sum()), n))
    if not pieces:
        return RaggedTokens(np.array([], dtype=str), np.zeros(0, np.int64), tokens.n_rows)
    values, rows = np.concatenate(pieces), np.concatenate(piece_rows)
    sort = np.lexsort((np.concatenate(order), rows))       # by row, then width; stable
    return RaggedTokens(values[sort], rows[sort], tokens.n_rows)


class TextVectorization(Layer):
    """Turn sentences into token indices or bag-of-words vectors, as Keras' layer.

    Forward, for an array of ``N`` strings (``(N,)`` or ``(N, 1)``); no gradient::

        1. standardize: ASCII lowercase, delete the punctuation (``string.punctuation``)
        2. split:       on ASCII whitespace (or into characters)
        3. ngrams:      add the n-grams, joined by " " (``ngrams=2``: words and pairs)
        4. look up:     each token's index in the vocabulary ['', '[UNK]', t_1, t_2, …]
        int:        a = (N, L) indices, padded with 0 (the mask '') to the longest row or
                    padded/cut to ``output_sequence_length``
        multi_hot / count / tf_idf: a = (N, V) vectors, as StringLookup's

    The vocabulary comes from :meth:`adapt` (most frequent first, ties: the larger token
    first) or is given. The layer holds a :class:`StringLookup` (``mask_token=""``) as
    Keras' ``_lookup_layer``, and saves its vocabulary as Keras does
    (``assets/.../vocabulary.txt``).

    Args:
        max_tokens: the largest vocabulary size ('' and [UNK] included), or None.
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a callable on an array of str.
        split: ``"whitespace"`` (default), ``"character"``, None, or a callable giving
            one list of tokens per string.
        ngrams: None, an int ``n`` (n-grams of 1 … n) or a tuple of widths.
        output_mode: ``"int"``, ``"multi_hot"``, ``"count"``, ``"tf_idf"``
            (``"one_hot"`` as Keras accepts it).
        output_sequence_length: with ``"int"``, pad or cut every row to this length.
        pad_to_max_tokens: vectors of ``max_tokens`` whatever the vocabulary's size.
        vocabulary: the tokens (list, array, or a text file's path).
        idf_weights: the IDF weights, with ``"tf_idf"`` and a vocabulary.
        sparse, ragged: must be False (minired has no sparse or ragged tensors).
        encoding: ``"utf-8"``.
        name: layer name.

    Example:
        >>> layer = TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["The cat sat.", "The dog sat!"])
        >>> layer.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        >>> layer(["the Cat ran"])
        array([[2, 5, 1, 0]])
    """

    _accepts_strings = True
    _keras_saving_hooks = True
    _keras_build_config = True       # Keras writes the input shape (and builds nothing)

    def __init__(self, max_tokens: int | None = None,
                 standardize: Any = "lower_and_strip_punctuation", split: Any = "whitespace",
                 ngrams: int | tuple | None = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary=None, idf_weights=None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", name: str | None = None,
                 **kwargs) -> None:
        if not (standardize is None or callable(standardize) or standardize in STANDARDIZE):
            raise ValueError(f"Unknown value for `standardize`: {standardize!r}. Expected "
                             f"one of {STANDARDIZE}, None or a callable.")
        if not (split is None or callable(split) or split in SPLIT):
            raise ValueError(f"Unknown value for `split`: {split!r}. Expected one of "
                             f"{SPLIT}, None or a callable.")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        modes = ("int", "one_hot", "multi_hot", "count", "tf_idf")
        if output_mode not in modes:
            raise ValueError(f"Unknown value for `output_mode`: {output_mode!r}. Expected one "
                             f"of {modes}.")
        if not (ngrams is None or isinstance(ngrams, int) or isinstance(ngrams, tuple)
                and all(isinstance(item, int) for item in ngrams)):
            raise ValueError("`ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams}")
        if output_mode == "int" and not (isinstance(output_sequence_length, int)
                                         or output_sequence_length is None):
            raise ValueError("`output_sequence_length` must be either None or an integer "
                             "when `output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is "
                             "not 'int'. Received output_sequence_length="
                             f"{output_sequence_length}.")
        if ragged:
            raise ValueError("TextVectorization: `ragged=True` is not supported in minired "
                             "(it has no ragged tensors); use output_sequence_length to get "
                             "rows of one length.")
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        has_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=has_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)

    # -- the saved layout: Keras writes this layer's state and its _lookup_layer's --------------
    def _keras_weight_groups(self):
        return [("", []), ("_lookup_layer", [])]

    def _weight_triples(self) -> list:
        return []

    # -- text to tokens -----------------------------------------------------------------------
    def _preprocess(self, inputs) -> np.ndarray | RaggedTokens:
        texts = self._lookup_layer._as_tokens(inputs)
        texts = standardize_text(texts, self._standardize)
        if self._split is None:
            return texts
        if texts.ndim > 1:
            if texts.shape[-1] != 1:
                raise ValueError("When using `TextVectorization` to tokenize strings, the "
                                 "input rank must be 1 or the last shape dimension must be 1. "
                                 f"Received: inputs.shape={texts.shape} with "
                                 f"rank={texts.ndim}")
            texts = texts[..., 0]
        if texts.ndim != 1:
            raise ValueError("TextVectorization expects a list or 1-D array of strings "
                             f"(or shape (N, 1)), got shape {texts.shape}.")
        tokens = split_text(texts, self._split)
        if self._ngrams is not None:
            tokens = ngrams_of(tokens, self._ngrams)
        return tokens

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and IDF weights) from ``data``: a list or array of
        strings, or an iterable of such batches."""
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, list | tuple | np.ndarray | str):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            data = self._lookup_layer._as_tokens(data)
            self.update_state(data[:, None] if data.ndim == 1 else data)
        self.finalize_state()

    def update_state(self, data) -> None:
        self._lookup_layer.update_state(self._preprocess(data))

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary ('' and '[UNK]' first, unless ``include_special_tokens=False``)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and the IDF weights for ``tf_idf``) directly."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # -- the forward pass ---------------------------------------------------------------------
    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = (*tuple(input_shape), 1)
        else:
            # The split texts are (N, tokens): Keras says (N, 1, depth) for an input of
            # shape (N, 1), but its outputs are (N, depth), which is what minired says.
            input_shape = (input_shape[0], None)
        return self._lookup_layer.compute_output_shape(input_shape)

    def forward(self, inputs, training: bool = False) -> np.ndarray:
        tokens = self._preprocess(inputs)
        outputs = self._lookup_layer.forward(tokens)
        if self._output_mode != "int":
            return outputs
        if isinstance(outputs, RaggedTokens):
            return outputs.to_dense(self._output_sequence_length)
        if self._output_sequence_length is not None:
            length = self._output_sequence_length
            outputs = outputs[..., :length]
            pad = [(0, 0)] * (outputs.ndim - 1) + [(0, length - outputs.shape[-1])]
            outputs = np.pad(outputs, pad)
        return outputs

    def backward(self, grad_outputs: np.ndarray) -> None:
        """No gradient: the inputs are strings."""
        return None

    # -- config and saving --------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' keys: ``max_tokens``, ``standardize``, ``split``, ``ngrams``,
        ``output_mode``, ``output_sequence_length``, ``pad_to_max_tokens``, ``sparse``,
        ``ragged``, ``vocabulary``, ``idf_weights``, ``encoding``, ``vocabulary_size``."""
        lookup = self._lookup_layer
        return {**super().get_config(), "max_tokens": lookup.max_tokens,
                "standardize": self._standardize, "split": self._split,
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": lookup.sparse,
                "ragged": self._ragged,
                "vocabulary": lookup.get_config()["vocabulary"],
                "idf_weights": lookup.get_config()["idf_weights"],
                "encoding": self._encoding, "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for key in ("standardize", "split"):
            if serialization_lib.is_serialized_object(config.get(key)):
                raise ValueError(f"TextVectorization: the saved `{key}` is a function "
                                 f"({config[key]!r}); minired does not load code from a "
                                 "file. Build the layer with your function and load its "
                                 "vocabulary with set_vocabulary.")
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return super().from_config(config)

    def build_from_config(self, config: dict) -> None:
        """Keras builds nothing here."""

    def save_own_variables(self, store: dict) -> None:
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store: dict) -> None:
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path: str) -> None:
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path: str | None) -> None:
        self._lookup_layer.load_assets(dir_path)
