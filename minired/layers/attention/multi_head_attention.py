"""MultiHeadAttention: every position of a query sequence reads a weighted mix of a value
sequence, once per head (Vaswani et al., 2017)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from minired import constraints, initializers, regularizers
from minired.activations import softmax
from minired.autodiff.layer_calls import CallArguments
from minired.layers.attention.attention_arguments import (
    attention_dropout,
    call_flags,
    check_dropout,
)
from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import Layer
from minired.saving import serialization_lib
from minired.utils.rng_utils import make_generator

#: Keras' masked value before the softmax of the explicit path (``Softmax`` layer, float32/64).
MASKED_SCORE = -1e9
#: Keras' masked value before the softmax of ``ops.dot_product_attention`` (TensorFlow):
#: ``-0.7 · 3.38953e38``, in the logits' dtype.
MASKED_LOGIT = 3.38953e38 * -0.7


class Projection(NamedTuple):
    """One of Keras' ``EinsumDense`` sublayers, as arrays: ``equation``, ``kernel``, its
    gradient, ``bias`` (None without ``use_bias``) and its gradient. Keras' names are
    ``query``, ``key``, ``value`` and ``attention_output``."""

    name: str
    equation: str
    kernel: np.ndarray
    kernel_gradient: np.ndarray
    bias: np.ndarray | None
    bias_gradient: np.ndarray | None


class MultiHeadAttention(Layer):
    """Multi-head dot-product attention, as Keras' ``MultiHeadAttention``.

    Called as ``layer(query, value, key=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)`` on a query
    ``x_q`` of shape ``(N, T, d_q)`` and a value ``x_v`` of shape ``(N, S, d_v)`` (the key
    ``x_k``, ``(N, S, d_k)``, is the value when not given; ``layer(x, x)`` is
    self-attention). With ``h`` heads of size ``d`` (``key_dim``) and ``d_v'``
    (``value_dim``), for each head::

        Q = x_q W_q + b_q        W_q: (d_q, h, d),   b_q: (h, d)     -> Q: (N, T, h, d)
        K = x_k W_k + b_k        W_k: (d_k, h, d),   b_k: (h, d)     -> K: (N, S, h, d)
        V = x_v W_v + b_v        W_v: (d_v, h, d_v'), b_v: (h, d_v')  -> V: (N, S, h, d_v')
        S = (Q/√d) Kᵀ            scores, (N, h, T, S): query row t against key row s
        P = softmax(S)           over the key axis s, with the mask M: S_ts = -1e9 where
                                 M_ts is False, and P_ts = 0 there afterwards
        P̃ = dropout(P)           training only (``dropout > 0``)
        O = P̃ V                  (N, T, h, d_v')
        a = O W_o + b_o          W_o: (h, d_v', d_out), b_o: (d_out,)  -> a: (N, T, d_out)

    ``d_out`` is the query's ``d_q`` unless ``output_shape`` says otherwise. The mask ``M``
    is the AND of ``attention_mask`` (``(N, T, S)``, True where query ``t`` may attend to
    key ``s``), with ``use_causal_mask`` the lower triangle ``s ≤ t``, and, in a model, the
    masks of the inputs (``Embedding(mask_zero=True)``, ``Masking``), as Keras' ``query_mask``
    ``m_q`` (``M_ts`` needs ``m_q[t]``), ``value_mask`` and ``key_mask`` (``M_ts`` needs
    ``m_v[s]``, ``m_k[s]``). The output's mask is the query's.

    Backward, given ``δa = ∂L/∂a`` (and ``δP`` from the scores' own output, if used)::

        ∂L/∂W_o = Σ_{n,t} Oᵀ δa,  ∂L/∂b_o = Σ_{n,t} δa,   δO = δa W_oᵀ
        δP̃ = δO Vᵀ,               δV = P̃ᵀ δO
        δP = dropout'(δP̃)         (the same mask and 1/(1-rate))
        δS = P ⊙ (δP - Σ_s δP ⊙ P)          the softmax's Jacobian-vector product
                                             (0 where M is False)
        δQ = δS K / √d,           δK = δSᵀ Q / √d
        ∂L/∂W_q = Σ_{n,t} x_qᵀ δQ, ∂L/∂b_q = Σ_{n,t} δQ,  δx_q = δQ W_qᵀ   (and so for K, V)

    When the key is the value, ``δx_v`` is the sum of what reaches it through ``K`` and
    ``V``. Every product is one ``np.einsum`` over the batch and the heads.

    Keras computes the same function on two paths whose rounding differs, and minired
    follows each: with ``dropout=0`` and no ``return_attention_scores`` it runs
    ``ops.dot_product_attention`` (``S = (Q Kᵀ)/√d``, masked with ``-0.7·3.38953e38``,
    no zeroing after the softmax, so a query row whose keys are all masked attends
    uniformly); otherwise the explicit path above (a fully masked row gives ``P = 0``).

    Args:
        num_heads: the number of heads ``h``.
        key_dim: the size ``d`` of each head of the query and key.
        value_dim: the size of each head of the value (``key_dim`` if None).
        dropout: the rate of dropout on the attention probabilities ``P``.
        use_bias: whether the four projections add a bias.
        output_shape: the size of the last axis of ``a`` (an int or a 1-tuple); the
            query's last axis if None.
        attention_axes: None (or ``1``/``(1,)``/``-2``: the sequence axis), the only
            choice minired implements.
        flash_attention: None or False (minired has no flash attention).
        kernel_initializer: how the four kernels start (``"glorot_uniform"``: fans from
            the projection's input and output axes, as Keras' ``EinsumDense``).
        bias_initializer: how the biases start.
        kernel_regularizer: penalty on each kernel.
        bias_regularizer: penalty on each bias.
        kernel_constraint: projection applied to each of the four kernels after each
            optimizer step, ``W ← c(W)`` (see mr.constraints).
        bias_constraint: projection applied to each bias after each step.
        seed: seed of the dropout.
        name: layer name.

    Example:
        >>> layer = MultiHeadAttention(num_heads=2, key_dim=3)
        >>> x = np.ones((4, 5, 8), dtype="float32")
        >>> layer(x, x).shape
        (4, 5, 8)
        >>> [w.shape for w in layer.weights[:2]]
        [(8, 2, 3), (2, 3)]
        >>> out, scores = layer(x, x[:, :3], return_attention_scores=True)
        >>> scores.shape
        (4, 2, 5, 3)
    """

    _takes_several_inputs = True       # forward([x_q, x_v]) or forward([x_q, x_v, x_k])
    _supports_masking_default = True   # as Keras: the output's mask is the query's
    _reads_argument_masks = True       # a model gives forward the mask of each argument

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape=None,
        attention_axes=None,
        flash_attention: bool | None = None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate: bool = False,
        sliding_window: int | None = None,
        seed: int | None = None,
        name: str | None = None,
        **kwargs,
    ) -> None:
        for argument, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"Received an invalid value for argument `{argument}`, "
                                 f"expected a positive integer. Received: {argument}={value!r}")
        if value_dim is not None and (isinstance(value_dim, bool) or not isinstance(
                value_dim, int | np.integer) or value_dim <= 0):
            raise ValueError("Received an invalid value for argument `value_dim`, expected a "
                             f"positive integer or `None`. Received: value_dim={value_dim!r}")
        check_dropout(dropout, "MultiHeadAttention")
        for argument, value, default in (("use_gate", use_gate, False),
                                         ("sliding_window", sliding_window, None)):
            if value != default or (default is False and value is not False):
                raise ValueError(f"MultiHeadAttention: `{argument}` is not implemented in "
                                 f"minired; leave it as {default!r} (got {value!r}).")
        if kwargs.get("activity_regularizer") is not None:
            raise ValueError("MultiHeadAttention: `activity_regularizer` is not implemented in "
                             "minired (Keras applies it to the outputs of the four projections, "
                             "query, key, value and output); leave it as None.")
        if flash_attention not in (None, False):
            raise ValueError("MultiHeadAttention: flash attention is not implemented in minired "
                             f"(nor on Keras' TensorFlow backend); use flash_attention=None or "
                             f"False, got {flash_attention!r}.")
        super().__init__(name=name, **kwargs)
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout = dropout
        self.use_bias = bool(use_bias)
        if output_shape:
            if isinstance(output_shape, int | np.integer):
                output_shape = (int(output_shape),)
            if not isinstance(output_shape, list | tuple) or not all(
                    isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0
                    for d in output_shape):
                raise ValueError(f"Invalid `output_shape`: {output_shape!r}. When specified, "
                                 "the `output_shape` should be of type tuple, list, or int.")
            if len(output_shape) != 1:
                raise ValueError("MultiHeadAttention: minired implements an `output_shape` of "
                                 f"one axis (an int or a 1-tuple), got {tuple(output_shape)}.")
            output_shape = tuple(int(d) for d in output_shape)
        self._output_shape = output_shape or None
        if isinstance(attention_axes, int | np.integer):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None and not isinstance(attention_axes, list | tuple):
            raise ValueError("`attention_axes` must be an int, list, or tuple."
                             f"Received: attention_axes={attention_axes!r}")
        if attention_axes is not None and tuple(attention_axes) not in ((1,), (-2,)):
            raise ValueError("MultiHeadAttention: minired implements attention over the "
                             "sequence axis of (batch, sequence, features) inputs only: "
                             f"attention_axes=None, 1 or -2; got {attention_axes!r}.")
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self.generator = make_generator(seed, stream="dropout")
        self.inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self.key_dim))
        self.build_shapes: dict | None = None

    # -- construction -------------------------------------------------------------------------
    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        """Create the four projections for a query, value (and key) of these shapes.

        ``build([query_shape, value_shape(, key_shape)])`` (one list) works too.
        """
        if value_shape is None and isinstance(query_shape, list | tuple) and query_shape \
                and isinstance(query_shape[0], list | tuple):
            query_shape, value_shape, key_shape = (list(query_shape) + [None, None])[:3]
        if value_shape is None:
            raise ValueError(f"MultiHeadAttention {self.name!r}: build needs the query's and "
                             "the value's shapes, build(query_shape, value_shape).")
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._check_shapes(query_shape, value_shape, key_shape)
        dtype = self._float_dtype()
        heads, output_dim = self.num_heads, self._output_dim(query_shape)
        self.query_dense = self._projection("query", "abc,cde->abde",
                                            (query_shape[-1], heads, self.key_dim), dtype)
        self.key_dense = self._projection("key", "abc,cde->abde",
                                          (key_shape[-1], heads, self.key_dim), dtype)
        self.value_dense = self._projection("value", "abc,cde->abde",
                                            (value_shape[-1], heads, self.value_dim), dtype)
        self.output_dense = self._projection("attention_output", "abcd,cde->abe",
                                             (heads, self.value_dim, output_dim), dtype)
        self.build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not value_shape:
            self.build_shapes["key_shape"] = key_shape
        self.attention_axes = (1,)          # Keras resolves the default axes when it builds
        super().build(query_shape)

    def _projection(self, name: str, equation: str, kernel_shape: tuple, dtype) -> Projection:
        """One ``EinsumDense``: the kernel's Glorot fans from its input and output axes, as
        Keras' ``EinsumDense`` gives them to a ``VarianceScaling`` initializer."""
        inputs, _, outputs = equation.partition(",")[2].partition("->")
        input_axes = [i for i, c in enumerate(inputs) if c not in outputs]
        output_axes = [i for i, c in enumerate(inputs) if c in outputs]
        initializer = self.kernel_initializer
        if (getattr(initializer, "input_axes", 0) is None
                and getattr(initializer, "output_axes", 0) is None):
            initializer = type(initializer).from_config(
                {**initializer.get_config(), "input_axes": input_axes,
                 "output_axes": output_axes})
        kernel = np.asarray(initializer(kernel_shape, dtype=dtype))
        bias = bias_gradient = None
        if self.use_bias:
            bias = np.asarray(self.bias_initializer(kernel_shape[len(input_axes):], dtype=dtype))
            bias_gradient = np.zeros_like(bias)
        return Projection(name, equation, kernel, np.zeros_like(kernel), bias, bias_gradient)

    def _output_dim(self, query_shape: tuple) -> int:
        return self._output_shape[0] if self._output_shape else query_shape[-1]

    def _check_shapes(self, query_shape: tuple, value_shape: tuple, key_shape: tuple) -> None:
        """Rank 3 for each, known feature axes, and the key's sequence length the value's."""
        for argument, shape in (("query", query_shape), ("value", value_shape),
                                ("key", key_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: `{argument}` must have shape (batch, "
                    "sequence, features) with a known number of features; minired implements "
                    f"no other rank. Received: {argument}.shape={shape}.")
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        if self.built:
            expected = {"query": self.query_dense.kernel.shape[0],
                        "value": self.value_dense.kernel.shape[0],
                        "key": self.key_dense.kernel.shape[0]}
            for argument, shape in (("query", query_shape), ("value", value_shape),
                                    ("key", key_shape)):
                if shape[-1] != expected[argument]:
                    raise ValueError(
                        f"MultiHeadAttention {self.name!r} was built for a `{argument}` of "
                        f"{expected[argument]} features (its last axis), but received "
                        f"{argument}.shape={shape}.")

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None) -> tuple:
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        return query_shape[:-1] + self._output_shape if self._output_shape else query_shape

    # -- calling ------------------------------------------------------------------------------
    def __call__(self, query, value=None, key=None, query_mask=None, value_mask=None,
                 key_mask=None, attention_mask=None, return_attention_scores: bool = False,
                 training: bool | None = None, use_causal_mask: bool = False, **kwargs):
        """Keras' call: the tensors ``query``, ``value``, ``key`` and ``attention_mask``
        become the inputs of one call (one node of a graph, one op on a tape), in the
        order ``query, value``, then the given keyword tensors sorted by name."""
        if kwargs.pop("mask", None) is not None:
            raise ValueError(f"MultiHeadAttention {self.name!r}: `mask` is not an argument of "
                             "its call; pass `attention_mask`.")
        if kwargs:
            raise TypeError(f"MultiHeadAttention {self.name!r} got unexpected call arguments "
                            f"{sorted(kwargs)}.")
        if value is None:
            raise TypeError(f"MultiHeadAttention {self.name!r} is called as layer(query, "
                            "value, key=None, attention_mask=None, ...): `value` is missing.")
        for argument, given in (("query_mask", query_mask), ("value_mask", value_mask),
                                ("key_mask", key_mask)):
            if given is not None:
                raise ValueError(f"MultiHeadAttention {self.name!r}: `{argument}` given by "
                                 "hand is not implemented in minired (in a model, the masks "
                                 "of the inputs are read); give the mask as `attention_mask` "
                                 "of shape (batch, T, S).")
        flags = call_flags(f"MultiHeadAttention {self.name!r}", return_attention_scores,
                           use_causal_mask)
        tensors = {"query": query, "value": value, "key": key, "attention_mask": attention_mask}
        for argument, tensor in tensors.items():
            if tensor is not None and not isinstance(tensor, KerasTensor | np.ndarray):
                tensors[argument] = np.asarray(tensor)
        shapes = {argument: tuple(t.shape) for argument, t in tensors.items()
                  if t is not None and argument != "attention_mask"}
        if not self.built:
            self.build(shapes["query"], shapes["value"], shapes.get("key"))
        else:
            self._check_shapes(shapes["query"], shapes["value"],
                               shapes.get("key", shapes["value"]))
        if tensors["attention_mask"] is not None:
            self._check_mask_shape(tuple(tensors["attention_mask"].shape), shapes["query"],
                                   shapes["value"])
        options = {name: tensors[name] for name in ("key", "attention_mask")
                   if tensors[name] is not None}
        options.update(flags)
        arguments = CallArguments((tensors["query"], tensors["value"]), options)
        return super().__call__(arguments, training=training)

    def _check_call_shape(self, input_shape) -> None:
        """Done by ``__call__`` (every tensor's shape) before the base class runs."""

    def _output_shape_of(self, arguments: CallArguments):
        """The symbolic output (and, with ``return_attention_scores``, the scores'
        ``(N, h, T, S)``)."""
        query, value = (t.shape for t in arguments.args)
        key = arguments.kwargs.get("key")
        output_shape = self.compute_output_shape(query, value,
                                                 None if key is None else key.shape)
        if arguments.kwargs.get("return_attention_scores"):
            return [output_shape, (query[0], self.num_heads, query[1], value[1])]
        return output_shape

    def _check_mask_shape(self, mask_shape: tuple, query_shape: tuple, value_shape: tuple
                          ) -> None:
        """Keras expands a mask of 2 or 3 axes to ``(N, 1, T, S)``; each axis must then be
        1 or the scores' ``(N, h, T, S)``."""
        scores = (query_shape[0], self.num_heads, query_shape[1], value_shape[1])
        expanded = mask_shape[:-2] + (1,) * (4 - len(mask_shape)) + mask_shape[-2:] \
            if 2 <= len(mask_shape) <= 4 else None
        if expanded is None or any(m not in (1, None) and s is not None and m != s
                                   for m, s in zip(expanded, scores, strict=True)):
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: `attention_mask` must have shape "
                f"(batch, T, S) = {scores[:1] + scores[2:]} (or broadcast to it: each axis 1 "
                f"or that size), for a query of shape {query_shape} and a value of shape "
                f"{value_shape}. Received: attention_mask.shape={mask_shape}.")

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs, training: bool = False, mask=None):
        """``inputs``: :class:`CallArguments` from ``__call__``, or a list ``[x_q, x_v]`` /
        ``[x_q, x_v, x_k]``. Returns ``a``, or ``(a, P)`` with ``return_attention_scores``.

        ``mask``: the masks that travel with the inputs in a model (Keras' ``query_mask``,
        ``value_mask``, ``key_mask``), in the structure of ``inputs`` (None where a tensor
        has none); see :meth:`_combined_mask`."""
        if isinstance(inputs, CallArguments):
            x_q, x_v = inputs.args
            options = inputs.kwargs
        elif isinstance(inputs, list | tuple) and len(inputs) in (2, 3):
            x_q, x_v, options = inputs[0], inputs[1], {}
            if len(inputs) == 3:
                options = {"key": inputs[2]}
        else:
            raise ValueError(f"MultiHeadAttention {self.name!r}: forward takes [query, value] "
                             "or [query, value, key]; call the layer as layer(query, value, "
                             f"key=None, ...). Received: {type(inputs).__name__}.")
        dtype = self.query_dense.kernel.dtype
        x_q = np.asarray(x_q).astype(dtype, copy=False)
        x_v = np.asarray(x_v).astype(dtype, copy=False)
        key_given = options.get("key") is not None
        x_k = np.asarray(options["key"]).astype(dtype, copy=False) if key_given else x_v
        return_scores = bool(options.get("return_attention_scores", False))
        mask = self._combined_mask(options.get("attention_mask"),
                                   bool(options.get("use_causal_mask", False)),
                                   x_q.shape[1], x_v.shape[1], *self._input_masks(mask))
        # Keras' two paths: ops.dot_product_attention unless dropout or the scores are asked.
        explicit = self.dropout > 0 or return_scores
        scale = self._scale(dtype)

        q = self._project(self.query_dense, x_q)            # Q = x_q W_q + b_q  (N, T, h, d)
        k = self._project(self.key_dense, x_k)              # K = x_k W_k + b_k  (N, S, h, d)
        v = self._project(self.value_dense, x_v)            # V = x_v W_v + b_v  (N, S, h, d_v)
        if explicit:
            q_scaled = q * scale                                    # Q/√d first, as Keras
            scores = np.einsum("bsnh,btnh->bnts", k, q_scaled)      # S = (Q/√d) Kᵀ
            if mask is not None:
                scores = np.where(mask, scores, dtype.type(MASKED_SCORE))
            probs = softmax(scores, axis=-1)                        # P = softmax(S)
            if mask is not None:
                probs = np.where(mask, probs, dtype.type(0))        # 0 where masked
        else:
            q_scaled = q
            scores = np.einsum("btnh,bsnh->bnts", q, k) * scale     # S = (Q Kᵀ)·(1/√d)
            if mask is not None:
                scores = np.where(mask, scores, dtype.type(MASKED_LOGIT))
            probs = softmax(scores, axis=-1)
        dropped, dropout_mask, dropout_scale = attention_dropout(     # P̃ = dropout(P)
            probs, self.dropout, self.generator, training, dtype)
        o = np.einsum("bnts,bsnh->btnh", dropped, v)                 # O = P̃ V
        a = self._project(self.output_dense, o)                     # a = O W_o + b_o
        self.cache = AttentionCache(x_q, x_k, x_v, key_given, q_scaled, k, v, mask, probs,
                                    dropout_mask, dropout_scale, dropped, o, explicit,
                                    return_scores, isinstance(inputs, CallArguments),
                                    "attention_mask" in options)
        return (a, probs) if return_scores else a

    def _scale(self, dtype: np.dtype):
        """``1/√d`` in ``dtype`` as Keras has it: ``ops.cast`` of a Python float goes
        through float32 on TensorFlow, so in float64 too it is float32's ``1/√d``."""
        return dtype.type(np.float32(self.inverse_sqrt_key_dim))

    @staticmethod
    def _input_masks(mask) -> tuple:
        """``(query_mask, value_mask, key_mask)`` from the masks of the inputs (each None
        when absent): a :class:`CallArguments` of masks, or a list ``[m_q, m_v(, m_k)]``."""
        if mask is None:
            return None, None, None
        if isinstance(mask, CallArguments):
            key_mask = mask.kwargs.get("key")
            return (mask.args[0], mask.args[1],
                    key_mask if isinstance(key_mask, np.ndarray) else None)
        masks = list(mask) + [None] * (3 - len(mask))
        return masks[0], masks[1], masks[2]

    def _combined_mask(self, attention_mask, causal: bool, length_q: int, length_v: int,
                       query_mask=None, value_mask=None, key_mask=None):
        """``M`` as a boolean array broadcasting to ``(N, h, T, S)``, or None, as Keras'
        ``_compute_attention_mask``: the AND of the ``attention_mask`` (non-zero = attend),
        the query's mask as ``(N, T, 1)``, the value's and key's as ``(N, 1, S)``, and the
        lower triangle with ``causal``."""
        mask = None
        if attention_mask is not None:
            mask = np.asarray(attention_mask).astype(bool)
            while mask.ndim < 4:                  # Keras expands at axis -3 (the heads)
                mask = np.expand_dims(mask, -3)
        for given, axis in ((query_mask, -1), (value_mask, -2), (key_mask, -2)):
            if given is not None:                 # (N, T) -> (N, 1, T, 1); (N, S) -> (N, 1, 1, S)
                given = np.expand_dims(np.asarray(given, dtype=bool), (1, axis))
                mask = given if mask is None else mask & given
        if causal:
            lower = np.tril(np.ones((length_q, length_v), dtype=bool))[None, None]
            mask = lower if mask is None else mask & lower
        return mask

    @staticmethod
    def _project(projection: Projection, x: np.ndarray) -> np.ndarray:
        z = np.einsum(projection.equation, x, projection.kernel)
        if projection.bias is not None:
            z += projection.bias
        return z

    def _project_backward(self, projection: Projection, x: np.ndarray, grad_z: np.ndarray
                          ) -> np.ndarray:
        """``∂L/∂W += Σ xᵀ δz``, ``∂L/∂b += Σ δz``, returns ``δx = δz Wᵀ``."""
        x_spec, w_spec = projection.equation.split("->")[0].split(",")
        z_spec = projection.equation.split("->")[1]
        projection.kernel_gradient[...] += np.einsum(f"{x_spec},{z_spec}->{w_spec}", x, grad_z)
        if projection.bias is not None:
            projection.bias_gradient[...] += grad_z.sum(axis=(0, 1))
        return np.einsum(f"{z_spec},{w_spec}->{x_spec}", grad_z, projection.kernel)

    def backward(self, grad_outputs):
        """``grad_outputs``: ``δa``, or ``[δa, δP]`` (either may be None) after a call with
        ``return_attention_scores``. Returns one ``δ`` per input tensor: ``[δx_q, δx_v]``,
        then ``δx_k`` if a key was given, then None for ``attention_mask``."""
        c = self.cache
        if c.return_scores and isinstance(grad_outputs, list | tuple):
            grad_a, grad_scores = grad_outputs
        else:                                    # δa alone (the scores feed no loss)
            grad_a, grad_scores = grad_outputs, None
        dtype = self.query_dense.kernel.dtype
        scale = self._scale(dtype)
        grad_probs = None
        grad_v = np.zeros_like(c.v)
        if grad_a is not None:
            grad_o = self._project_backward(self.output_dense, c.o, grad_a)   # δO = δa W_oᵀ
            grad_v = np.einsum("bnts,btnh->bsnh", c.dropped, grad_o)          # δV = P̃ᵀ δO
            grad_probs = np.einsum("btnh,bsnh->bnts", grad_o, c.v)            # δP̃ = δO Vᵀ
            if c.dropout_mask is not None:
                grad_probs = grad_probs * c.dropout_scale * c.dropout_mask    # dropout'
        if grad_scores is not None:
            grad_probs = grad_scores if grad_probs is None else grad_probs + grad_scores
        if grad_probs is None:
            grad_scores_in = np.zeros_like(c.probs)
        else:
            probs = c.probs
            # δS = P ⊙ (δP - Σ_s δP ⊙ P); 0 where masked (P is 0 there on the explicit
            # path; on the other, a fully masked row is uniform but feeds no key)
            grad_scores_in = probs * (grad_probs - np.sum(grad_probs * probs, axis=-1,
                                                          keepdims=True))
            if c.mask is not None:
                grad_scores_in = np.where(c.mask, grad_scores_in, dtype.type(0))
        if c.explicit:
            # S = K·(Q/√d): δ(Q/√d) = δS K, δK = δSᵀ (Q/√d)
            grad_q = np.einsum("bnts,bsnh->btnh", grad_scores_in, c.k) * scale
            grad_k = np.einsum("bnts,btnh->bsnh", grad_scores_in, c.q_scaled)
        else:
            # S = (Q Kᵀ)/√d: δQ = (δS/√d) K, δK = (δS/√d)ᵀ Q
            grad_scores_in = grad_scores_in * scale
            grad_q = np.einsum("bnts,bsnh->btnh", grad_scores_in, c.k)
            grad_k = np.einsum("bnts,btnh->bsnh", grad_scores_in, c.q_scaled)
        grad_x_q = self._project_backward(self.query_dense, c.x_q, grad_q)
        grad_x_k = self._project_backward(self.key_dense, c.x_k, grad_k)
        grad_x_v = self._project_backward(self.value_dense, c.x_v, grad_v)
        grads = [grad_x_q]
        if c.key_given:
            grads += [grad_x_v, grad_x_k]
        else:                                    # the key is the value: both paths add
            grads.append(grad_x_v + grad_x_k)
        if c.has_mask_input:
            grads.append(None)                   # the mask gets no gradient
        return grads

    # -- weights ------------------------------------------------------------------------------
    def _projections(self) -> list[Projection]:
        return [self.query_dense, self.key_dense, self.value_dense, self.output_dense]

    def _weight_triples(self) -> list:
        """Keras' order: query, key, value, attention_output; each kernel, then bias."""
        if not self.built:
            return []
        triples = []
        for projection in self._projections():
            triples.append((projection.kernel, projection.kernel_gradient,
                            self.kernel_regularizer))
            if projection.bias is not None:
                triples.append((projection.bias, projection.bias_gradient,
                                self.bias_regularizer))
        return triples

    def _constraint_pairs(self) -> list:
        """``(array, constraint)`` for the four kernels and biases (see minired.constraints):
        ``kernel_constraint`` on each kernel, ``bias_constraint`` on each bias, as Keras
        gives them to its four ``EinsumDense``."""
        pairs = []
        if "output_dense" not in vars(self):     # not built yet: no arrays
            return pairs
        for projection in self._projections():
            pairs.append((projection.kernel, self.kernel_constraint))
            if projection.bias is not None:
                pairs.append((projection.bias, self.bias_constraint))
        return pairs

    def _keras_weight_groups(self) -> list[tuple[str, list[np.ndarray]]]:
        """The groups of Keras' ``.keras`` file under this layer's path (see
        :mod:`minired.saving.saving_lib`): its own (empty), its Dropout and Softmax
        sublayers (empty), and the four projections under Keras' attribute names."""
        if not self.built:
            return [("", [])]
        return [("", []), ("_dropout_layer", []), ("_softmax", []),
                ("key_dense", self._arrays(self.key_dense)),
                ("output_dense", self._arrays(self.output_dense)),
                ("query_dense", self._arrays(self.query_dense)),
                ("value_dense", self._arrays(self.value_dense))]

    @staticmethod
    def _arrays(projection: Projection) -> list[np.ndarray]:
        return [projection.kernel] + ([projection.bias] if projection.bias is not None else [])

    # -- saving -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' MultiHeadAttention config (the Keras-only arguments at their defaults)."""
        serialize = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": False,
            "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "sliding_window": None,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "activity_regularizer": serialize(self.activity_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "seed": self.seed,
        }

    def get_build_config(self) -> dict | None:
        """Keras' ``{"shapes_dict": {"query_shape": ..., "value_shape": ...}}``."""
        if self.build_shapes is None:
            return None
        return {"shapes_dict": dict(self.build_shapes)}

    def build_from_config(self, config: dict) -> None:
        shapes = config.get("shapes_dict") if isinstance(config, dict) else None
        if not isinstance(shapes, dict) or "query_shape" not in shapes \
                or "value_shape" not in shapes:
            raise ValueError(f"MultiHeadAttention {self.name!r}: the build config needs "
                             "shapes_dict with query_shape and value_shape; got "
                             f"{config!r}.")
        shape = serialization_lib.shape_from_json
        self.build(shape(shapes["query_shape"]), shape(shapes["value_shape"]),
                   shape(shapes.get("key_shape")))


class AttentionCache(NamedTuple):
    """What one call of a MultiHeadAttention keeps for its backward pass."""

    x_q: np.ndarray             #: the query inputs (N, T, d_q)
    x_k: np.ndarray             #: the key inputs (N, S, d_k): the value when no key is given
    x_v: np.ndarray             #: the value inputs (N, S, d_v)
    key_given: bool             #: whether a key tensor was an input
    q_scaled: np.ndarray        #: Q/√d (explicit path) or Q: what δK multiplies
    k: np.ndarray               #: K (N, S, h, d)
    v: np.ndarray               #: V (N, S, h, d_v)
    mask: np.ndarray | None     #: M, broadcasting to (N, h, T, S), or None
    probs: np.ndarray           #: P (N, h, T, S)
    dropout_mask: np.ndarray | None     #: the dropout's keep mask, or None
    dropout_scale: float | None         #: 1/(1-rate), or None
    dropped: np.ndarray         #: P̃ = dropout(P)
    o: np.ndarray               #: O = P̃ V (N, T, h, d_v)
    explicit: bool              #: Keras' explicit path (else dot_product_attention's)
    return_scores: bool         #: whether the call returned (a, P)
    from_call: bool             #: called through __call__ (CallArguments)
    has_mask_input: bool        #: whether attention_mask was an input tensor
