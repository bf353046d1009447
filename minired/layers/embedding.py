"""Embedding: integer indices -> rows of a learned table, ``a = W[x]``."""

from __future__ import annotations

import warnings

import numpy as np

from minired import constraints, initializers, regularizers
from minired.layers.layer import Layer
from minired.saving import serialization_lib

#: Keras arguments minired has no concept of, accepted at their default (None) only.
KERAS_ONLY = ("lora_rank", "lora_alpha", "quantization_config")


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
        name: layer name.
        trainable: whether the optimizer updates ``W``.
        **kwargs: the Keras-only ``lora_rank``, ``lora_alpha`` and
            ``quantization_config`` (None only), the deprecated ``input_length``
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
        if weights is not None:                     # Keras: build now, then set the table
            self.build(None)
            self.set_weights(weights if isinstance(weights, list) else [weights])

    _constrained_weights = (("embeddings", "embeddings_constraint"),)

    def build(self, input_shape: tuple | None) -> None:
        """Create ``W``; its shape depends only on ``input_dim`` and ``output_dim``."""
        if self.built:          # already built by `weights=` (Keras builds only once)
            return
        shape = (self.input_dim, self.output_dim)
        self.embeddings = np.asarray(self.embeddings_initializer(shape,
                                                                 dtype=self._float_dtype()))
        self.embeddings_gradient = np.zeros_like(self.embeddings)
        super().build(input_shape if input_shape is not None else (None,))

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
        return [(self.embeddings, self.embeddings_gradient, self.embeddings_regularizer)]

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
        }


def _positive_int(value, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"Embedding: `{argument}` must be a positive int, got {value!r} "
                         f"(of type {type(value).__name__}).")
    return int(value)
