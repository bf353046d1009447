"""Attention: dot-product (Luong-style) attention of a query sequence over a value sequence."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from minired.activations import softmax
from minired.autodiff.layer_calls import CallArguments
from minired.layers.attention.attention_arguments import (
    attention_dropout,
    call_flags,
    check_dropout,
)
from minired.layers.layer import Layer
from minired.utils.rng_utils import make_generator

#: Keras subtracts this from the scores of the masked keys (``scores - 1e9``).
MASK_SHIFT = 1.0e9


class Attention(Layer):
    """Dot-product attention, as Keras' ``Attention``: called on ``[query, value]`` or
    ``[query, value, key]`` (the key is the value when not given).

    For a query ``q`` of shape ``(N, T_q, d)``, a value ``v`` of shape ``(N, T_v, d_v)``
    and a key ``k`` of shape ``(N, T_v, d)``::

        S = q kᵀ (· s)                      score_mode="dot", s with use_scale (a weight, 1 first)
        S_ij = c Σ_d tanh(s (q_i + k_j))    score_mode="concat" (c: a weight, 1 first)
        S_ij -= 1e9 where key j is masked   (value mask, causal mask)
        P = softmax(S)                      over the keys j
        P̃ = dropout(P)                      training only; returned as the scores, as Keras
        a = P̃ v                             (N, T_q, d_v), 0 on the rows the query mask hides

    Backward, given ``δa`` (and ``δP̃`` if the scores feed the loss)::

        δv = P̃ᵀ δa,  δP̃ = δa vᵀ,  δP = dropout'(δP̃),  δS = P ⊙ (δP - Σ_j δP ⊙ P)
        dot:     δq = s δS k,   δk = s δSᵀ q,   ∂L/∂s = Σ δS ⊙ q kᵀ
        concat:  with t = tanh(s u), u = q_i + k_j:  δ(su) = c δS (1 - t²),
                 δq = s Σ_j δ(su),  δk = s Σ_i δ(su),  ∂L/∂s = Σ δ(su) ⊙ u,  ∂L/∂c = Σ δS Σ_d t

    The masked scores are shifted, not replaced, so ``δS`` flows through them unchanged.

    Args:
        use_scale: whether to learn the scalar ``s`` (``scale``).
        score_mode: ``"dot"`` or ``"concat"``.
        dropout: the rate of dropout on the attention distribution ``P``.
        seed: seed of the dropout.
        name: layer name.

    Call arguments: ``inputs`` (the list), ``mask=[query_mask, value_mask]`` (boolean,
    ``(N, T_q)`` and ``(N, T_v)``; either may be None), ``training``,
    ``return_attention_scores``, ``use_causal_mask``. In a model, a ``mask`` not given is
    filled from the masks of the inputs (``Embedding(mask_zero=True)``, ``Masking``), as
    Keras does; the output's mask is the query's.

    Example:
        >>> layer = Attention()
        >>> q, v = np.ones((2, 3, 4), dtype="float32"), np.ones((2, 5, 4), dtype="float32")
        >>> out, scores = layer([q, v], return_attention_scores=True)
        >>> out.shape, scores.shape
        ((2, 3, 4), (2, 3, 5))
    """

    _takes_several_inputs = True

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError("Invalid value for argument score_mode. Expected one of {'dot', "
                             f"'concat'}}. Received: score_mode={score_mode!r}")
        check_dropout(dropout, type(self).__name__)
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self.generator = make_generator(seed, stream="dropout")

    # -- construction -------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        shapes = self._check_shapes(input_shape)
        dtype = self._float_dtype()
        self.scale = np.ones((), dtype=dtype) if self.use_scale else None
        self.concat_score_weight = (np.ones((), dtype=dtype) if self.score_mode == "concat"
                                    else None)
        self._make_gradients()
        super().build(shapes[0])
        self.input_shape = shapes

    def _make_gradients(self) -> None:
        self.scale_gradient = None if self.scale is None else np.zeros_like(self.scale)
        self.concat_score_weight_gradient = (None if self.concat_score_weight is None
                                             else np.zeros_like(self.concat_score_weight))

    def _check_shapes(self, input_shape) -> list[tuple]:
        """Keras' rule (a list of 2 or 3 shapes), and what minired computes: rank 3, the
        query's and key's features equal, the value's and key's lengths equal."""
        name = type(self).__name__
        if not isinstance(input_shape, list | tuple) or not 2 <= len(input_shape) <= 3 or not all(
                isinstance(s, list | tuple) for s in input_shape):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely [query, "
                             f"value] or [query, value, key]. Received: inputs={input_shape!r}.")
        shapes = [tuple(s) for s in input_shape]
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
        if any(len(s) != 3 for s in shapes):
            raise ValueError(f"{name} {self.name!r}: query, value and key must have shape "
                             f"(batch, steps, features); received shapes {shapes}.")
        if key[1] is not None and value[1] is not None and key[1] != value[1]:
            raise ValueError(f"{name} {self.name!r}: the key and the value must have the same "
                             f"number of steps; received value {value} and key {key}.")
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            raise ValueError(f"{name} {self.name!r}: the query and the key must have the same "
                             f"number of features; received query {query} and key {key}.")
        if self.built and query[-1] != self.input_shape[0][-1] and self._feature_weights():
            raise ValueError(f"{name} {self.name!r} was built for a query of "
                             f"{self.input_shape[0][-1]} features, received {query}.")
        return shapes

    def _feature_weights(self) -> bool:
        """Whether a weight depends on the number of features (AdditiveAttention's scale)."""
        return False

    def compute_output_shape(self, input_shape) -> tuple:
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    # -- calling ------------------------------------------------------------------------------
    def __call__(self, inputs, mask=None, training: bool | None = None,
                 return_attention_scores: bool = False, use_causal_mask: bool = False,
                 **kwargs):
        """Keras' call: ``layer([query, value(, key)], mask=None, training=None,
        return_attention_scores=False, use_causal_mask=False)``."""
        name = type(self).__name__
        if kwargs:
            raise TypeError(f"{name} {self.name!r} got unexpected call arguments "
                            f"{sorted(kwargs)}.")
        if not isinstance(inputs, list | tuple) or not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} layer must be called on a list of inputs, namely [query, "
                             f"value] or [query, value, key]. Received: inputs={inputs!r}.")
        inputs = list(inputs)
        if mask is not None and (not isinstance(mask, list | tuple) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{name} layer mask must be a list, namely [query_mask, "
                             f"value_mask]. Received: mask={mask!r}.")
        flags = call_flags(f"{name} {self.name!r}", return_attention_scores, use_causal_mask)
        options: dict[str, Any] = {}
        if mask is not None and any(m is not None for m in mask):
            options["mask"] = [None if m is None else (m if hasattr(m, "shape")
                                                       else np.asarray(m)) for m in mask]
            self._check_masks(options["mask"], inputs)
        options.update(flags)
        if not options:
            return super().__call__(inputs, training=training)
        return super().__call__(CallArguments((inputs,), options), training=training)

    def _check_masks(self, masks: list, inputs: list) -> None:
        for i, (argument, m) in enumerate(zip(("query_mask", "value_mask"), masks[:2],
                                              strict=True)):
            if m is not None and (len(m.shape) != 2 or tuple(m.shape) != tuple(
                    inputs[i].shape[:2])):
                raise ValueError(f"{type(self).__name__} {self.name!r}: `mask[{i}]` "
                                 f"({argument}) must have shape {tuple(inputs[i].shape[:2])} "
                                 f"(batch, steps); received {tuple(m.shape)}.")

    def _check_call_shape(self, input_shape) -> None:
        self._check_shapes(input_shape)

    def compute_mask(self, inputs, mask=None):
        """The query's mask (``mask[0]``), as Keras: the output has the query's steps.

        Example:
            >>> Attention().compute_mask(None, [np.array([[True, False]]), None])
            array([[ True, False]])
        """
        if mask is None or mask[0] is None:
            return None
        return np.asarray(mask[0], dtype=bool)

    def _may_make_mask(self) -> bool:
        return False            # its output's mask is its query's

    def _output_shape_of(self, arguments: CallArguments):
        shapes = [tuple(t.shape) for t in arguments.first]
        output = self.compute_output_shape(shapes)
        if arguments.kwargs.get("return_attention_scores"):
            key = shapes[2] if len(shapes) > 2 else shapes[1]
            return [output, (*shapes[0][:-1], key[-2])]
        return output

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs, training: bool = False, mask=None):
        """``inputs``: ``[q, v]``/``[q, v, k]``, or :class:`CallArguments` from ``__call__``.
        ``mask``: the masks that travel with the inputs in a model (one per input, or None),
        used when the call gave no ``mask`` of its own (Keras fills ``mask`` so)."""
        options = inputs.kwargs if isinstance(inputs, CallArguments) else {}
        tensors = inputs.first if isinstance(inputs, CallArguments) else inputs
        self._check_shapes([tuple(np.shape(t)) for t in tensors])
        dtype = self._float_dtype()
        q, v = (np.asarray(t).astype(dtype, copy=False) for t in tensors[:2])
        k = np.asarray(tensors[2]).astype(dtype, copy=False) if len(tensors) > 2 else v
        masks = list(options.get("mask") or mask or []) + [None, None]
        q_mask, v_mask = masks[0], masks[1]
        scores, score_cache = self._scores(q, k)                  # S
        keep = None                                               # keys each query may see
        if v_mask is not None:
            keep = np.asarray(v_mask).astype(bool)[:, None, :]
        if options.get("use_causal_mask"):
            causal = np.tril(np.ones(scores.shape[-2:], dtype=bool))[None]
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = np.where(keep, scores, scores - dtype.type(MASK_SHIFT))   # S - 1e9
        probs = softmax(scores, axis=-1)                          # P = softmax(S)
        dropped, dropout_mask, dropout_scale = attention_dropout(   # P̃ = dropout(P)
            probs, self.dropout, self.generator, training, dtype)
        outputs = dropped @ v                                     # a = P̃ v
        query_keep = None
        if q_mask is not None:
            query_keep = np.asarray(q_mask).astype(bool)[..., None]
            outputs = np.where(query_keep, outputs, dtype.type(0))
        n_masks = 0 if "mask" not in options else len(
            [m for m in options["mask"] if m is not None])
        self.cache = DotAttentionCache(q, k, v, len(tensors) > 2, score_cache, keep, probs,
                                       dropout_mask, dropout_scale, dropped, query_keep,
                                       bool(options.get("return_attention_scores")), n_masks)
        return (outputs, dropped) if options.get("return_attention_scores") else outputs

    def _scores(self, q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, Any]:
        """``S`` and what its backward needs."""
        if self.score_mode == "dot":
            raw = q @ np.swapaxes(k, -2, -1)                              # q kᵀ
            return (raw * self.scale if self.scale is not None else raw), raw
        u = q[:, :, None, :] + k[:, None, :, :]                           # u = q_i + k_j
        t = np.tanh(self.scale * u if self.scale is not None else u)      # t = tanh(s u)
        return self.concat_score_weight * np.sum(t, axis=-1), (u, t)      # c Σ_d t

    def _scores_backward(self, grad_s: np.ndarray, score_cache) -> tuple[np.ndarray, np.ndarray]:
        """``δq, δk`` from ``δS``; adds ``∂L/∂s`` (and ``∂L/∂c``)."""
        q, k = self.cache.q, self.cache.k
        if self.score_mode == "dot":
            raw = score_cache
            if self.scale is not None:
                self.scale_gradient[...] += np.sum(grad_s * raw)          # ∂L/∂s
                grad_s = grad_s * self.scale
            return grad_s @ k, np.swapaxes(grad_s, -2, -1) @ q            # δS k, δSᵀ q
        u, t = score_cache
        self.concat_score_weight_gradient[...] += np.sum(grad_s * np.sum(t, axis=-1))
        grad_su = (self.concat_score_weight * grad_s)[..., None] * (1 - t * t)   # δ(su)
        if self.scale is not None:
            self.scale_gradient[...] += np.sum(grad_su * u)               # ∂L/∂s
            grad_su = grad_su * self.scale                                 # δu
        return grad_su.sum(axis=2), grad_su.sum(axis=1)                   # Σ_j, Σ_i

    def backward(self, grad_outputs):
        """``δa`` (or ``[δa, δP̃]``) -> ``[δq, δv]`` (then ``δk``, then None per mask)."""
        c = self.cache
        if c.return_scores and isinstance(grad_outputs, list | tuple):
            grad_a, grad_dropped = grad_outputs
        else:
            grad_a, grad_dropped = grad_outputs, None
        grad_v = np.zeros_like(c.v)
        total = grad_dropped
        if grad_a is not None:
            if c.query_keep is not None:
                grad_a = np.where(c.query_keep, grad_a, 0)                # hidden rows: 0
            grad_v = np.swapaxes(c.dropped, -2, -1) @ grad_a              # δv = P̃ᵀ δa
            from_a = grad_a @ np.swapaxes(c.v, -2, -1)                    # δP̃ = δa vᵀ
            total = from_a if total is None else total + from_a
        if total is None:
            grad_s = np.zeros_like(c.probs)
        else:
            if c.dropout_mask is not None:
                total = total * c.dropout_scale * c.dropout_mask          # dropout'
            grad_s = c.probs * (total - np.sum(total * c.probs, axis=-1, keepdims=True))
        grad_q, grad_k = self._scores_backward(grad_s, c.score_cache)
        grads = [grad_q, grad_v, grad_k] if c.key_given else [grad_q, grad_v + grad_k]
        return grads + [None] * c.n_masks

    # -- weights and config ------------------------------------------------------------------
    def _weight_triples(self) -> list:
        if not self.built:
            return []
        triples = []
        if self.scale is not None:
            triples.append((self.scale, self.scale_gradient, None))
        if self.concat_score_weight is not None:
            triples.append((self.concat_score_weight, self.concat_score_weight_gradient, None))
        return triples

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class DotAttentionCache(NamedTuple):
    """What one call of an Attention (or AdditiveAttention) keeps for its backward pass."""

    q: np.ndarray                       #: the query (N, T_q, d)
    k: np.ndarray                       #: the key (N, T_v, d): the value if none was given
    v: np.ndarray                       #: the value (N, T_v, d_v)
    key_given: bool                     #: whether a key was an input
    score_cache: Any                    #: q kᵀ (dot), or (u, t) (concat, additive)
    keep: np.ndarray | None             #: the keys each query may see, or None (no mask)
    probs: np.ndarray                   #: P (N, T_q, T_v)
    dropout_mask: np.ndarray | None     #: the dropout's keep mask, or None
    dropout_scale: Any                  #: 1/(1-rate), or None
    dropped: np.ndarray                 #: P̃ = dropout(P), what the call returns as scores
    query_keep: np.ndarray | None       #: the query mask as (N, T_q, 1), or None
    return_scores: bool                 #: whether the call returned (a, P̃)
    n_masks: int                        #: how many mask tensors were inputs
