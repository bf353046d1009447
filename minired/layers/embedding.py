"""Embedding: integer indices -> rows of a learned table, ``a = W[x]``."""

from __future__ import annotations

import warnings

import numpy as np

from minired import constraints, initializers, regularizers
from minired.layers import lora
from minired.layers.layer import Layer
from minired.saving import serialization_lib

#: Keras arguments minired has no concept of, accepted at their default (None) only.
KERAS_ONLY = ("quantization_config",)


class Embedding(Layer):
    """Turns non-negative integers (indices, e.g. word ids) into dense vectors of fixed size.

    The layer holds a table ``W`` of shape ``(input_dim, output_dim)``, one row per index.
    Forward, for integer inputs ``x`` of any shape ``(N, …)``::

        a = W[x]             a: (N, …, output_dim), a[n, …] = W[x[n, …]]  (a row lookup)

    Backward, given ``δa = ∂L/∂a``: each row of ``W`` gets the sum of the ``δa`` of the
    positions that read it (a row read twice gets both; a row never read gets 0)::

        ∂L/∂W[i] = Σ_{positions p with x_p = i} δa_p        (input_dim, output_dim)

    The indices are not differentiable: ``backward`` returns no ``δx`` (None), as Keras
    gives no gradient for an integer input. Float inputs are cast to int32 first, as Keras
    does (2.0 -> 2; a fraction is truncated, 2.7 -> 2).

    Args:
        input_dim: size of the vocabulary, the largest index + 1 (a positive int).
        output_dim: length of each vector (a positive int).
        embeddings_initializer: how ``W`` starts (default ``"uniform"``, Keras'
            ``RandomUniform(-0.05, 0.05)``).
        embeddings_regularizer: penalty on ``W`` (e.g. ``"l2"``).
        embeddings_constraint: projection applied to ``W`` after each optimizer step,
            ``W ← c(W)`` (e.g. ``UnitNorm(axis=1)`` for rows of norm 1; see mr.constraints).
        mask_zero: whether index 0 is padding: the layer then gives its output the mask
            ``x ≠ 0`` (:meth:`compute_mask`), which the following layers pass on and the
            loss and metrics read (the padded time steps do not count). With it, index 0
            cannot be a word, so ``input_dim`` should be the vocabulary size + 1.
        weights: optional initial table, an array of shape ``(input_dim, output_dim)``.
        lora_rank: if set, LoRA is enabled with this rank when the layer is built (see
            :meth:`enable_lora`).
        lora_alpha: LoRA's scale numerator, ``s = lora_alpha / lora_rank`` (default: the
            rank). As in Keras, the build calls ``enable_lora(lora_rank)``, which sets it
            back to the rank: to keep another value, call :meth:`enable_lora` yourself.
        name: layer name.
        trainable: whether the optimizer updates ``W``.
        **kwargs: the Keras-only ``quantization_config`` (None only), the deprecated
            ``input_length``
            (ignored with a warning, as Keras), ``input_shape`` on a first layer.

    Example:
        >>> layer = Embedding(10, 3)
        >>> layer(np.array([[1, 2, 2, 9]])).shape
        (1, 4, 3)
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        weights=None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        for key in KERAS_ONLY:
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"Embedding: `{key}` is not implemented in minired; leave it "
                                 "as None.")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.",
                          stacklevel=2)
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.input_dim = _positive_int(input_dim, "input_dim")
        self.output_dim = _positive_int(output_dim, "output_dim")
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero      # as Keras
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False
        if weights is not None:                     # Keras: build now, then set the table
            self.build(None)
            self.set_weights(weights if isinstance(weights, list) else [weights])

    _constrained_weights = (("embeddings", "embeddings_constraint"),)

    lora_enabled = False      # see enable_lora
    #: With LoRA on, ``embeddings`` reads ``W + s A B``; before, the array itself (lora.py).
    embeddings = lora.MergedWeight("embeddings", "lora_embeddings_a", "lora_embeddings_b")

    def build(self, input_shape: tuple | None) -> None:
        """Create ``W``; its shape depends only on ``input_dim`` and ``output_dim``."""
        if self.built:          # already built by `weights=` (Keras builds only once)
            return
        shape = (self.input_dim, self.output_dim)
        self.embeddings = np.asarray(self.embeddings_initializer(shape,
                                                                 dtype=self._float_dtype()))
        self.embeddings_gradient = np.zeros_like(self.embeddings)
        super().build(input_shape if input_shape is not None else (None,))
        if self.lora_rank:
            self.enable_lora(self.lora_rank)       # (Keras: lora_alpha back to the rank)

    def enable_lora(self, rank: int, lora_alpha: float | None = None,
                    a_initializer="he_uniform", b_initializer="zeros") -> None:
        """Freeze the table ``W`` and train ``W + s A B`` through ``A: (input_dim, rank)``
        and ``B: (rank, output_dim)``, with ``s = lora_alpha / rank`` (LoRA; the math is in
        :mod:`minired.layers.lora`).

        Args:
            rank: the inner size ``r`` of ``A B`` (a positive int).
            lora_alpha: the scale's numerator (default: ``rank``, so ``s = 1``).
            a_initializer: how ``A`` starts (default ``"he_uniform"``).
            b_initializer: how ``B`` starts (default ``"zeros"``: ``W' = W`` at first).

        Example:
            >>> layer = Embedding(10, 3)
            >>> layer.build(None)
            >>> layer.enable_lora(2)
            >>> [w.shape for w in layer.trainable_weights]
            [(10, 2), (2, 3)]
        """
        if type(self).forward is not Embedding.forward:    # (ReversibleEmbedding's reverse)
            raise NotImplementedError(f"{type(self).__name__}: LoRA is implemented in minired "
                                      "for Dense, EinsumDense and Embedding only.")
        lora.enable_lora(self, rank, lora_alpha, a_initializer, b_initializer,
                         weight="embeddings", constraint=self.embeddings_constraint,
                         a_name="lora_embeddings_a", b_name="lora_embeddings_b",
                         regularizer=self.embeddings_regularizer)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape, self.output_dim)

    def compute_mask(self, inputs, mask=None) -> np.ndarray | None:
        """With ``mask_zero``, the mask ``x ≠ 0`` (True for a real index, False for the
        padding 0), shape of ``x``; else None. As Keras, the mask of the input is not read.

        Example:
            >>> Embedding(10, 3, mask_zero=True).compute_mask(np.array([[4, 2, 0, 0]]))
            array([[ True,  True, False, False]])
        """
        if not self.mask_zero:
            return None
        return np.not_equal(inputs, 0)

    def _may_make_mask(self) -> bool:
        return self.mask_zero

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = self._indices(inputs)
        self.cache = x                          # backward needs which rows were read
        return self.embeddings[x]               # a = W[x]

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True) -> None:
        x = self.cache
        rows = grad_outputs.reshape(-1, self.output_dim)      # one δa row per position
        # ∂L/∂W[x_p] += δa_p for every position p; np.add.at adds once per occurrence, so an
        # index read twice gets both rows (W[x] += δa would keep only one of them).
        if self.lora_enabled:       # W frozen: A and B share ∂L/∂W' (see lora.py)
            # in A's dtype (float32), each row cast before the sum: Keras' rounding in fit
            a_dtype = self.lora_embeddings_a.dtype
            grad_w = np.zeros(self.embeddings_gradient.shape, dtype=a_dtype)
            np.add.at(grad_w, x.reshape(-1), rows.astype(a_dtype, copy=False))
            lora.add_factor_gradients(self, grad_w, self.lora_embeddings_a,
                                      self.lora_embeddings_b)
            return None
        np.add.at(self.embeddings_gradient, x.reshape(-1), rows)
        return None                              # integer indices: no δx

    def _indices(self, inputs) -> np.ndarray:
        """The inputs as integer indices in [0, input_dim), or a ValueError naming the bad one."""
        x = np.asarray(inputs)
        if not np.issubdtype(x.dtype, np.integer):
            if not (np.issubdtype(x.dtype, np.floating) or x.dtype == bool):
                raise TypeError(f"Embedding {self.name!r}: inputs must be integer indices, got "
                                f"an array of dtype {x.dtype}.")
            x = x.astype(np.int32)              # as Keras: ops.cast(inputs, "int32")
        if x.size and (x.min() < 0 or x.max() >= self.input_dim):
            bad = x[(x < 0) | (x >= self.input_dim)].flat[0]
            raise ValueError(f"Embedding {self.name!r}: every index must be in [0, "
                             f"input_dim={self.input_dim}), got {bad}. Make `input_dim` the "
                             "largest index + 1 (the size of the vocabulary).")
        return x

    def _weight_triples(self) -> list:
        if not self.built:
            return []
        if self.lora_enabled:                        # embeddings, A, B
            return lora.weight_triples(self, "embeddings", self.embeddings_gradient, [])
        return [(self.embeddings, self.embeddings_gradient, self.embeddings_regularizer)]

    def save_own_variables(self, store: dict) -> None:
        """Keras' ``"0"``: the table (with LoRA on, the merged ``W + s A B``)."""
        if not self.lora_enabled:
            return super().save_own_variables(store)
        lora.save_merged(self, store, "embeddings", [])

    def load_own_variables(self, store) -> None:
        """Read what :meth:`save_own_variables` wrote (with LoRA on: into the frozen ``W``,
        then ``A`` and ``B`` set to zero, as Keras)."""
        if not self.lora_enabled:
            return super().load_own_variables(store)
        lora.load_merged(self, store, "embeddings", [], self.lora_embeddings_a,
                         self.lora_embeddings_b)

    def get_config(self) -> dict:
        """Keras' Embedding config (the Keras-only arguments written at their default)."""
        serialize = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": serialize(self.embeddings_initializer),
            "embeddings_regularizer": serialize(self.embeddings_regularizer),
            "activity_regularizer": serialize(self.activity_regularizer),
            "embeddings_constraint": serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,        # a Keras-only argument, at Keras' default
            **({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}
               if self.lora_rank else {}),     # as Keras: only once LoRA is asked for
        }


def _positive_int(value, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"Embedding: `{argument}` must be a positive int, got {value!r} "
                         f"(of type {type(value).__name__}).")
    return int(value)
