"""ReversibleEmbedding: an Embedding that can also project vectors back to the vocabulary,
``logits = x Wᵀ`` (tied weights), as Keras' ``keras.layers.ReversibleEmbedding``."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minired.autodiff.layer_calls import CallArguments
from minired.layers.embedding import Embedding
from minired.layers.keras_tensor import KerasTensor


class ReverseCache(NamedTuple):
    """What a call with ``reverse=True`` keeps for its backward pass."""

    x: np.ndarray               #: the inputs (N, …, output_dim), in the reverse dtype
    kernel: np.ndarray          #: K = Wᵀ (tied) or R, (output_dim, input_dim)
    tanh: np.ndarray | None     #: tanh(z/c) with ``logit_soft_cap`` c, else None
    dtype: np.dtype             #: the layer's dtype (of δx and ∂L/∂W)


class ReversibleEmbedding(Embedding):
    """An Embedding whose call with ``reverse=True`` projects vectors back to the
    vocabulary (the output layer of a language model sharing the input's table).

    The table ``W`` is ``(input_dim, output_dim)``, as :class:`Embedding`. Forward::

        a = W[x]                  reverse=False: integer ids x -> rows of W (Embedding)
        z = x K                   reverse=True: x (N, …, output_dim) -> z (N, …, input_dim)
                                  K = Wᵀ (tie_weights=True) or its own R (output_dim, input_dim)
        a = c · tanh(z / c)       with logit_soft_cap c (else a = z)

    Backward of the reverse call, given ``δa = ∂L/∂a``::

        δz = δa ⊙ (1 - tanh²(z/c))             (δz = δa without a soft cap)
        ∂L/∂K = Σ_{positions} xᵀ δz            (output_dim, input_dim)
        ∂L/∂W += (∂L/∂K)ᵀ  (tied),  ∂L/∂R = ∂L/∂K  (untied)
        δx = δz Kᵀ

    With tied weights a model that embeds and un-embeds with the same layer adds both
    calls' gradients into ``∂L/∂W``. The reverse call gives no mask (Keras' neither).

    Args:
        input_dim: size of the vocabulary (the largest index + 1).
        output_dim: length of each vector.
        tie_weights: whether the reverse projection uses ``Wᵀ`` (True) or a separate
            trainable ``reverse_embeddings`` ``R`` of shape ``(output_dim, input_dim)``,
            started by ``embeddings_initializer`` (no regularizer, no constraint, as Keras).
        embeddings_initializer: how ``W`` (and ``R``) start.
        embeddings_regularizer: penalty on ``W``.
        embeddings_constraint: projection applied to ``W`` after each step.
        mask_zero: whether index 0 is padding (the mask ``x ≠ 0`` of the forward call).
        reverse_dtype: the float dtype the reverse projection computes in (``x`` and ``K``
            cast to it, and the logits of it); None: the layer's dtype.
        logit_soft_cap: the ``c > 0`` of ``a = c·tanh(z/c)``, or None.
        **kwargs: as :class:`Embedding` (``name``, ``trainable``, ``dtype``, ``weights``…).

    Example:
        >>> layer = ReversibleEmbedding(10, 4)
        >>> h = layer(np.array([[1, 2, 9]]))
        >>> h.shape, layer(h, reverse=True).shape
        ((1, 3, 4), (1, 3, 10))
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        tie_weights: bool = True,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        reverse_dtype=None,
        logit_soft_cap: float | None = None,
        **kwargs,
    ) -> None:
        if not isinstance(tie_weights, bool | np.bool_):
            raise TypeError(f"ReversibleEmbedding: `tie_weights` must be a bool, got "
                            f"{tie_weights!r}.")
        if reverse_dtype is not None and (not isinstance(reverse_dtype, str) or reverse_dtype
                                          not in ("float16", "float32", "float64")):
            raise ValueError("ReversibleEmbedding: `reverse_dtype` must be None or a float "
                             "dtype name ('float16', 'float32', 'float64'), got "
                             f"{reverse_dtype!r}.")
        if logit_soft_cap is not None and (isinstance(logit_soft_cap, bool) or not isinstance(
                logit_soft_cap, int | float) or logit_soft_cap <= 0):
            raise ValueError("ReversibleEmbedding: `logit_soft_cap` must be None or a positive "
                             f"number, got {logit_soft_cap!r}.")
        weights = kwargs.pop("weights", None)
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        if weights is not None:                     # as Embedding: build, then set
            self.build(None)
            self.set_weights(weights if isinstance(weights, list) else [weights])

    def build(self, input_shape: tuple | None) -> None:
        """Create ``W`` and, without tied weights, ``R`` (Keras' ``reverse_embeddings``)."""
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = np.asarray(self.embeddings_initializer(
                (self.output_dim, self.input_dim), dtype=self._float_dtype()))
            self.reverse_embeddings_gradient = np.zeros_like(self.reverse_embeddings)

    # -- calling ------------------------------------------------------------------------------
    def __call__(self, inputs, reverse: bool = False, training: bool | None = None, **kwargs):
        """Keras' ``call(inputs, reverse=False)``: ids to vectors, or with ``reverse=True``
        vectors to logits over the vocabulary."""
        if not isinstance(reverse, bool | np.bool_):
            raise TypeError(f"ReversibleEmbedding {self.name!r}: `reverse` must be a bool, got "
                            f"{reverse!r}.")
        if not reverse:
            return super().__call__(inputs, training=training, **kwargs)
        if kwargs:
            raise TypeError(f"ReversibleEmbedding {self.name!r} got unexpected call arguments "
                            f"{sorted(kwargs)}.")
        if not isinstance(inputs, KerasTensor | np.ndarray):
            inputs = np.asarray(inputs)
        if inputs.shape[-1] != self.output_dim:
            raise ValueError(f"ReversibleEmbedding {self.name!r}: with reverse=True the inputs' "
                             f"last axis must be output_dim={self.output_dim}, got shape "
                             f"{tuple(inputs.shape)}.")
        return super().__call__(CallArguments((inputs,), {"reverse": True}), training=training)

    def compute_output_shape(self, input_shape: tuple, reverse: bool = False) -> tuple:
        if reverse:
            return (*tuple(input_shape)[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def _output_shape_of(self, arguments: CallArguments):
        return self.compute_output_shape(arguments.first.shape,
                                          bool(arguments.kwargs.get("reverse", False)))

    def compute_mask(self, inputs, mask=None) -> np.ndarray | None:
        """The forward call's mask ``x ≠ 0`` with ``mask_zero``; None for a reverse call."""
        if isinstance(inputs, CallArguments):
            return None
        return super().compute_mask(inputs, mask)

    def _output_mask(self, inputs, previous_mask):
        """In a model, the mask of the call that just ran (its cache): None after a reverse
        call (whose input is the vectors, not the ids), else :meth:`compute_mask`."""
        if isinstance(self.cache, ReverseCache):
            return None
        return super()._output_mask(inputs, previous_mask)

    def forward(self, inputs, training: bool = False) -> np.ndarray:
        if not isinstance(inputs, CallArguments):
            return super().forward(inputs, training=training)
        dtype = self.embeddings.dtype
        compute = np.dtype(self.reverse_dtype) if self.reverse_dtype else dtype
        x = np.asarray(inputs.first).astype(compute, copy=False)
        kernel = (self.embeddings.T if self.tie_weights else self.reverse_embeddings)
        kernel = kernel.astype(compute, copy=False)
        z = x @ kernel                                  # z = x K
        tanh = None
        if self.logit_soft_cap is not None:
            cap = compute.type(self.logit_soft_cap)
            tanh = np.tanh(z / cap)
            z = tanh * cap                              # a = c·tanh(z/c)
        self.cache = ReverseCache(x, kernel, tanh, dtype)
        return z

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True):
        c = self.cache
        if not isinstance(c, ReverseCache):
            return super().backward(grad_outputs, input_gradient)
        grad_z = np.asarray(grad_outputs).astype(c.x.dtype, copy=False)
        if c.tanh is not None:
            grad_z = grad_z * (1 - c.tanh * c.tanh)     # δz = δa ⊙ (1 - tanh²(z/c))
        rows_x = c.x.reshape(-1, self.output_dim)
        rows_grad = grad_z.reshape(-1, self.input_dim)
        grad_kernel = (rows_x.T @ rows_grad).astype(c.dtype, copy=False)   # Σ xᵀ δz
        if self.tie_weights:
            self.embeddings_gradient += grad_kernel.T
        else:
            self.reverse_embeddings_gradient += grad_kernel
        return (grad_z @ c.kernel.T).astype(c.dtype, copy=False)           # δx = δz Kᵀ

    # -- weights and saving -------------------------------------------------------------------
    def _weight_triples(self) -> list:
        """Keras' order: ``embeddings``, then ``reverse_embeddings`` (untied; no penalty)."""
        triples = super()._weight_triples()
        if self.built and not self.tie_weights:
            triples.append((self.reverse_embeddings, self.reverse_embeddings_gradient, None))
        return triples

    def get_config(self) -> dict:
        """Keras' ReversibleEmbedding config: Embedding's, then ``tie_weights``,
        ``reverse_dtype`` and ``logit_soft_cap``."""
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap}
