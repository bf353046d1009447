"""IndexLookup: the vocabulary table shared by StringLookup and IntegerLookup (Keras' base).

A lookup layer holds a vocabulary, a list of tokens, and maps each input token to its index::

    index 0 … : [mask token] [OOV token × num_oov_indices] token_1 token_2 …

The mask token (if any) takes index 0 in ``output_mode="int"``; then come the
out-of-vocabulary (OOV) indices, then the tokens. ``adapt`` builds the vocabulary from data
as Keras does: every token is counted, the mask and OOV tokens are left out, and the tokens
are sorted by **count, most frequent first, ties broken by the token itself, highest first**
(Keras' ``np.lexsort((tokens, counts))[::-1]``; strings compare by their UTF-8 bytes, which
is their code-point order), then cut to ``max_tokens``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from minired.layers.layer import Layer
from minired.layers.preprocessing.category_encoding import encode_categorical, refuse_sparse
from minired.layers.preprocessing.hashing import hash_bucket

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_INT64_MAX = np.iinfo(np.int64).max


class IndexLookup(Layer):
    """Map tokens to vocabulary indices (the base of StringLookup and IntegerLookup).

    Forward (no gradient: tokens are not numbers to differentiate)::

        int:        a = index of x in the vocabulary (the mask token: 0; an OOV token: the
                    OOV index, or with several, oov_start + Fingerprint64(x) mod
                    num_oov_indices, as TensorFlow's to_hash_bucket_fast; integers with
                    oov_method="floormod": oov_start + x mod num_oov_indices)
        one_hot:    a[..., j] = 1 if index(x) = j
        multi_hot:  a[n, j] = 1 if j occurs in row n;   count: how often
        tf_idf:     a[n, j] = count[n, j] · idf[j],   idf[j] = log(1 + D / (1 + d_j))
                    (D documents seen by adapt, d_j of them containing token j)
        invert:     a = the token at index x (unknown indices: oov_token)

    Args:
        max_tokens: the largest vocabulary size (special tokens included), or None.
        num_oov_indices: how many indices OOV tokens take (0: an OOV token is an error).
        mask_token: the token meaning "padding", or None.
        oov_token: the token ``invert`` returns for an unknown index.
        vocabulary_dtype: ``"string"`` or ``"int64"``.
        vocabulary: a list of tokens (or a path to a text file, one token a line).
        idf_weights: with ``output_mode="tf_idf"`` and a vocabulary, one weight per token.
        invert: map indices back to tokens.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"``, ``"tf_idf"``.
        sparse: must be False (minired has no sparse tensors).
        pad_to_max_tokens: make the vectors ``max_tokens`` long, whatever the vocabulary.
        oov_method: ``"floormod"`` (Keras' default) or ``"farmhash"``: how an integer OOV
            token picks one of several OOV indices (strings always use FarmHash).
        salt: Keras' keyed SipHash for the OOV indices (not implemented: must be None).
        name: layer name.
    """

    _accepts_strings = True
    _keras_saving_hooks = True        # save_own_variables / save_assets, as Keras'

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert: bool = False,
                 output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod",
                 name: str | None = None, salt=None, **kwargs) -> None:
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. Received: "
                             f"max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"Unknown value for `oov_method`: {oov_method!r}. Expected "
                             "'floormod' or 'farmhash'.")
        if salt is not None:
            raise ValueError(f"{type(self).__name__}: `salt` selects TensorFlow's keyed "
                             "SipHash (to_hash_bucket_strong) for the OOV indices, which "
                             "minired does not implement; use salt=None.")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"Unknown value for `output_mode`: {output_mode!r}. Expected one "
                             f"of {OUTPUT_MODES}.")
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. Received: "
                             f"output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError("`sparse` may only be true if `output_mode` is `'one_hot'`, "
                             "`'multi_hot'`, `'count'` or `'tf_idf'`. Received: "
                             f"sparse={sparse} and output_mode={output_mode}")
        refuse_sparse(sparse, type(self).__name__)
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: idf_weights={idf_weights} and "
                             f"output_mode={output_mode}")
        frozen_size = kwargs.pop("vocabulary_size", None)
        has_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)          # Keras ignores it too: lookups are not floats
        super().__init__(name=name, **kwargs)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen_size
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_vocabulary
        self._tokens = self._as_tokens([])
        self.idf_weights: np.ndarray | None = None
        if output_mode == "tf_idf":
            if has_vocabulary and idf_weights is None:
                raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output "
                                 "mode, the `idf_weights` argument must also be provided.")
            if idf_weights is not None:
                self.idf_weights = np.asarray(idf_weights, dtype=self._float_dtype())
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.reset_state()

    # -- the vocabulary -----------------------------------------------------------------------
    def _as_tokens(self, values) -> np.ndarray:
        """``values`` as an array of the vocabulary's dtype (str or int64)."""
        if self.vocabulary_dtype == "string":
            values = np.asarray(values)
            if values.dtype.kind == "S":
                return np.char.decode(values, "utf-8")
            if values.dtype.kind == "O":
                return np.array([v.decode("utf-8") if isinstance(v, bytes) else str(v)
                                 for v in values.reshape(-1)], dtype=str).reshape(values.shape)
            if values.size == 0:
                return values.astype(str)
            if values.dtype.kind != "U":
                raise TypeError(f"{type(self).__name__} {self.name!r}: expected strings, got "
                                f"an array of {values.dtype}.")
            return values
        values = np.asarray(values)
        if values.size and values.dtype.kind not in "iub":
            raise TypeError(f"{type(self).__name__} {self.name!r}: expected integers, got an "
                            f"array of {values.dtype}.")
        return values.astype(np.int64)

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The vocabulary size, mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary as a list, index ``i`` holding the token that maps to ``i``
        (with ``include_special_tokens=False``, the learned tokens only)."""
        special = ([self.mask_token if self.output_mode == "int" else self.oov_token]
                   * self._oov_start_index() + [self.oov_token] * self.num_oov_indices)
        tokens = [str(t) if self.vocabulary_dtype == "string" else int(t) for t in self._tokens]
        if not include_special_tokens:
            return tokens
        return special + tokens

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (a list or array of tokens, with or without the special
        tokens at its start, or the path of a text file with one token a line) and, for
        ``tf_idf``, its IDF weights."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                             f"Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        if isinstance(vocabulary, str):
            vocabulary = self._read_vocabulary_file(vocabulary)
        vocabulary = self._as_tokens(list(vocabulary) if isinstance(vocabulary, tuple | list)
                                     else vocabulary)
        if vocabulary.size == 0:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        token_start = self._token_start_index()
        special = self._as_tokens([self.mask_token] * self._oov_start_index()
                                  + [self.oov_token] * self.num_oov_indices)
        found_special = np.array_equal(special, vocabulary[:token_start])
        tokens = vocabulary[token_start:] if found_special else vocabulary
        unique, counts = np.unique(tokens, return_counts=True)
        if np.any(counts > 1):
            raise ValueError("The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are: "
                             f"{unique[counts > 1].tolist()}")
        for which, token in (("mask", self.mask_token), ("OOV", self.oov_token)):
            if token is not None and np.any(tokens == self._as_tokens([token])[0]):
                raise ValueError(f"Found reserved {which} token at unexpected location in "
                                 "`vocabulary`. Note that passed `vocabulary` does not need "
                                 "to include the OOV and mask tokens. Either remove all mask "
                                 "and OOV tokens, or include them only at the start of the "
                                 f"vocabulary in precisely this order: {special.tolist()}. "
                                 f"Received: {which.lower()}_token={token}")
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab "
                             f"size. Received vocabulary size is {token_start + len(tokens)}; "
                             f"`max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            idf_weights = np.asarray(idf_weights)
            if len(vocabulary) != len(idf_weights):
                raise ValueError("`idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(idf_weights)}; len(vocabulary) "
                                 f"is {len(vocabulary)}")
            if idf_weights.ndim != 1:
                raise ValueError("TF-IDF data must be a 1-index array. Received: "
                                 f"idf_weights of shape {idf_weights.shape}")
            front = 0 if found_special else token_start
            front_value = 0.0 if found_special else np.average(idf_weights)
            back = (self.max_tokens - front - len(idf_weights)
                    if self.pad_to_max_tokens and self.max_tokens is not None else 0)
            weights = np.pad(idf_weights, (front, back), "constant",
                             constant_values=(front_value, 0))
            self.idf_weights = weights.astype(self._float_dtype())

    def _read_vocabulary_file(self, path: str) -> list:
        """Keras reads a vocabulary path only in unsafe mode; minired reads the text (one
        token a line), never code."""
        if self.output_mode == "tf_idf":
            raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary "
                             "from file.")
        if not os.path.isfile(path):
            raise ValueError(f"Vocabulary file {path} does not exist.")
        return _read_lines(path, self.vocabulary_dtype)

    def _set_tokens(self, tokens: np.ndarray) -> None:
        """Store the learned tokens and the sorted copy the lookup searches."""
        self._tokens = tokens
        self._order = np.argsort(tokens, kind="stable")
        self._sorted = tokens[self._order]
        size = self.vocabulary_size()
        if (self.output_mode != "int" and not self.pad_to_max_tokens
                and self._frozen_vocab_size is not None and size != self._frozen_vocab_size):
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and "
                               "`pad_to_max_tokens=False`, the vocabulary size cannot be "
                               "changed after the layer is called. Old vocab size is "
                               f"{self._frozen_vocab_size}, new vocab size is {size}")
        self._frozen_vocab_size = size

    # -- adapt --------------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Forget the counts gathered by :meth:`update_state`."""
        self._counts = (self._as_tokens([]), np.zeros(0, np.int64))
        self._document_counts = (self._as_tokens([]), np.zeros(0, np.int64))
        self._num_documents = 0

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Build the vocabulary from ``data``: a list or array of tokens (each item, or
        row, is one document), or an iterable of such batches. Tokens are ranked by count
        (ties: the larger token first) and cut to ``max_tokens``; ``tf_idf`` also learns
        the IDF weights."""
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, list | tuple | np.ndarray | str):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            data = self._as_tokens(data)
            self.update_state(data[:, None] if data.ndim == 1 else data)
        self.finalize_state()

    def update_state(self, data) -> None:
        """Count the tokens of one batch (rows are documents; a ragged batch is a list of
        token lists)."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` "
                             "method.")
        flat, rows, n_rows = self._flatten(data)
        self._counts = _merge_counts(self._counts, *np.unique(flat, return_counts=True))
        if self.output_mode == "tf_idf":
            unique, inverse = np.unique(flat, return_inverse=True)
            pairs = np.unique(rows * unique.size + inverse.reshape(-1))   # (document, token)
            doc_counts = np.bincount(pairs % unique.size, minlength=unique.size)
            self._document_counts = _merge_counts(self._document_counts, unique, doc_counts)
            self._num_documents += n_rows

    def _flatten(self, data) -> tuple[np.ndarray, np.ndarray, int]:
        """``(tokens, row of each token, number of rows)`` of a batch, dense or ragged."""
        if isinstance(data, RaggedTokens):
            return data.values, data.rows, data.n_rows
        data = self._as_tokens(data)
        if data.ndim == 0:
            data = data[None]
        if data.ndim == 1:
            data = data[None]
        n_rows = data.shape[0]
        per_row = data.size // n_rows if n_rows else 0
        return data.reshape(-1), np.repeat(np.arange(n_rows), per_row), n_rows

    def finalize_state(self) -> None:
        """Turn the counts into the vocabulary (and the IDF weights)."""
        tokens, counts = self._counts
        if self._has_input_vocabulary or tokens.size == 0:
            return
        special = [t for t in (self.mask_token, self.oov_token) if t is not None]
        keep = ~np.isin(tokens, self._as_tokens(special))
        tokens, counts = tokens[keep], counts[keep]
        order = np.lexsort((tokens, counts))[::-1]       # Keras' order and tie-break
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        tokens = tokens[order]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            doc_tokens, doc_counts = self._document_counts
            found = np.searchsorted(doc_tokens, tokens)
            idf = np.log(1 + self._num_documents / (1 + doc_counts[found]))
            idf = idf.astype(self._float_dtype())
            idf = np.pad(idf, (self._token_start_index(), 0), constant_values=np.mean(idf))
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size))
            self.idf_weights = idf.astype(self._float_dtype())
        self.reset_state()

    # -- the forward pass ---------------------------------------------------------------------
    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self._depth()
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return (*input_shape[:-1], depth)
            return (*input_shape, depth)
        return (*input_shape[:-1], depth)

    def _depth(self) -> int | None:
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def lookup(self, tokens: np.ndarray) -> np.ndarray:
        """The index of each token (int64, any shape): a binary search of the sorted
        vocabulary; a token not found takes the OOV index (``floormod`` of an integer by
        ``num_oov_indices`` when there are several), the mask token its mask value."""
        tokens = self._as_tokens(tokens)
        if self._sorted.size:
            position = np.clip(np.searchsorted(self._sorted, tokens), 0, self._sorted.size - 1)
            found = self._sorted[position] == tokens
            indices = np.where(found, self._order[position] + self._token_start_index(), -1)
        else:
            found = np.zeros(tokens.shape, bool)
            indices = np.full(tokens.shape, -1, np.int64)
        if self.num_oov_indices == 1:
            indices = np.where(found, indices, self._oov_start_index())
        elif self.num_oov_indices > 1:        # floormod of integers, else FarmHash buckets
            if self.vocabulary_dtype != "string" and self.oov_method == "floormod":
                buckets = np.mod(tokens, self.num_oov_indices)
            else:
                buckets = hash_bucket(tokens, self.num_oov_indices)
            indices = np.where(found, indices, buckets + self._oov_start_index())
        if self.mask_token is not None:
            mask_value = 0 if self.output_mode == "int" else _INT64_MAX
            indices = np.where(tokens == self._as_tokens([self.mask_token])[0], mask_value,
                               indices)
        if self.num_oov_indices == 0 and np.any(indices == -1):
            raise ValueError("When `num_oov_indices=0` all inputs should be in vocabulary, "
                             f"found OOV values {tokens[indices == -1].tolist()}, consider "
                             "setting `num_oov_indices=1`.")
        return indices.astype(np.int64)

    def _invert(self, indices: np.ndarray) -> np.ndarray:
        """The token at each index (``oov_token`` for an index with none; the mask token
        at 0 when there is one)."""
        indices = np.asarray(indices).astype(np.int64)
        position = indices - self._token_start_index()
        inside = (position >= 0) & (position < len(self._tokens))
        oov = self._as_tokens([self.oov_token])[0]
        safe = np.clip(position, 0, max(len(self._tokens) - 1, 0))
        tokens = (np.where(inside, self._tokens[safe], oov) if len(self._tokens)
                  else np.full(indices.shape, oov))
        if self.mask_token is not None:
            tokens = np.where(indices == 0, self._as_tokens([self.mask_token])[0], tokens)
        return tokens

    def forward(self, inputs, training: bool = False) -> np.ndarray:
        if self.invert:
            return self._invert(inputs)
        if self.output_mode != "int" and not self.pad_to_max_tokens and (
                self._frozen_vocab_size is None):
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and "
                               "`pad_to_max_tokens=False`, you must set the layer's "
                               "vocabulary before calling it. Either pass a `vocabulary` "
                               "argument to the layer, or call `adapt` with some sample data.")
        if isinstance(inputs, RaggedTokens):
            indices = self.lookup(inputs.values)
            if self.output_mode == "int":
                return RaggedTokens(indices, inputs.rows, inputs.n_rows)
            return self._encode(indices, inputs.rows, inputs.n_rows)
        indices = self.lookup(inputs)
        if self.output_mode == "int":
            return indices
        return self._encode(indices)

    def _encode(self, indices: np.ndarray, rows=None, n_rows=None) -> np.ndarray:
        """one_hot/multi_hot/count (int64, as Keras' lookups), or tf_idf (floatx)."""
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        encoded = encode_categorical(indices, mode, self._depth(), np.int64, rows, n_rows)
        if self.output_mode != "tf_idf":
            return encoded
        if self.idf_weights is None:
            raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be "
                             "provided.")
        return encoded.astype(self._float_dtype()) * self.idf_weights

    def backward(self, grad_outputs: np.ndarray) -> None:
        """No gradient: the inputs are tokens. A lookup layer is a model's first layer."""
        return None

    # -- config and saving --------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' keys (IndexLookup's): ``invert``, ``max_tokens``, ``num_oov_indices``,
        ``oov_token``, ``mask_token``, ``output_mode``, ``sparse``, ``pad_to_max_tokens``,
        ``vocabulary_dtype``, ``idf_weights``, ``vocabulary``, ``vocabulary_size``,
        ``oov_method``, ``salt``."""
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype,
                "idf_weights": _listify(self.input_idf_weights),
                "vocabulary": _listify(self.input_vocabulary),
                "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method,
                "salt": self.salt}

    @classmethod
    def from_config(cls, config: dict):
        """As Keras, the saved ``dtype`` is ignored (a lookup computes on tokens and
        indices, whatever floatx is)."""
        config = dict(config)
        config.pop("dtype", None)
        return super().from_config(config)

    def get_build_config(self) -> dict:
        """``{}``, as Keras writes for a lookup (it builds nothing from a shape)."""
        return {}

    def build_from_config(self, config: dict) -> None:
        """Keras writes an empty build config for lookups: nothing to build."""

    def save_own_variables(self, store: dict) -> None:
        """Keras' store: ``idf_weights`` in ``tf_idf`` mode, nothing otherwise."""
        if self.output_mode == "tf_idf":
            store["idf_weights"] = np.asarray(self.idf_weights)

    def load_own_variables(self, store: dict) -> None:
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self.idf_weights = np.asarray(store["idf_weights"]).astype(self._float_dtype())

    def save_assets(self, dir_path: str) -> None:
        """Keras' asset: ``vocabulary.txt``, the vocabulary with the special tokens, one
        token a line (not written when the vocabulary is in the config)."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path: str | None) -> None:
        """Read ``vocabulary.txt`` back (plain text, parsed as tokens)."""
        if self.input_vocabulary is not None or dir_path is None:
            return
        values = _read_lines(os.path.join(dir_path, "vocabulary.txt"), self.vocabulary_dtype)
        if not values:
            return
        if self.output_mode == "tf_idf":
            self.set_vocabulary(values, idf_weights=self.idf_weights)
        else:
            self.set_vocabulary(values)


class RaggedTokens:
    """Rows of different lengths, flat: ``values`` and the ``rows`` each value belongs to
    (what TextVectorization's split makes; NumPy has no ragged arrays)."""

    def __init__(self, values: np.ndarray, rows: np.ndarray, n_rows: int) -> None:
        self.values, self.rows, self.n_rows = values, rows, n_rows

    def to_dense(self, length: int | None = None, fill=0) -> np.ndarray:
        """``(n_rows, length)``: each row padded with ``fill`` or cut (``length`` None:
        the longest row)."""
        lengths = np.bincount(self.rows, minlength=self.n_rows)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if self.n_rows else lengths
        position = np.arange(self.values.size) - np.repeat(starts, lengths)
        length = int(lengths.max(initial=0)) if length is None else length
        dense = np.full((self.n_rows, length), fill, dtype=self.values.dtype)
        keep = position < length
        dense[self.rows[keep], position[keep]] = self.values[keep]
        return dense


def _merge_counts(old: tuple, tokens: np.ndarray, counts: np.ndarray) -> tuple:
    """Add ``counts`` of ``tokens`` to the running ``(tokens, counts)`` (sorted, unique)."""
    all_tokens = np.concatenate([old[0], tokens])
    unique, inverse = np.unique(all_tokens, return_inverse=True)
    total = np.bincount(inverse, weights=np.concatenate([old[1], counts]),
                        minlength=unique.size)
    return unique, total.astype(np.int64)


def _read_lines(path: str, vocabulary_dtype: str) -> list:
    """The lines of a vocabulary file (trailing empty lines dropped), as tokens."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    if vocabulary_dtype == "string":
        return [str(line) for line in lines]
    try:
        return [int(line) for line in lines]
    except ValueError:
        raise ValueError(f"{path}: an IntegerLookup vocabulary file must hold one integer "
                         "a line.") from None


def _listify(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
