"""GroupedQueryAttention: multi-head attention whose query heads share fewer key and value
heads (Ainslie et al., 2023), as Keras' ``keras.layers.GroupQueryAttention``."""

from __future__ import annotations

import numpy as np

from minired.layers.attention.multi_head_attention import MultiHeadAttention, Projection
from minired.layers.layer import Layer
from minired.saving import serialization_lib
from minired.utils.naming import auto_name


class GroupQueryAttention(MultiHeadAttention):
    """Grouped-query attention: ``u`` query heads read ``g`` key/value heads, each key/value
    head shared by ``r = u/g`` consecutive query heads (``g = 1`` is multi-query attention,
    ``g = u`` is multi-head attention).

    Called as ``layer(query, value, key=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)`` on ``x_q``
    ``(N, T, d_q)`` and ``x_v`` ``(N, S, d_v)`` (the key ``x_k`` is the value when not
    given). With head size ``h`` (``head_dim``)::

        Q = x_q W_q + b_q        W_q: (d_q, u, h), b_q: (u, h)    -> Q: (N, T, u, h)
        K = x_k W_k + b_k        W_k: (d_k, g, h), b_k: (g, h)    -> (N, S, g, h)
        V = x_v W_v + b_v        W_v: (d_v, g, h), b_v: (g, h)    -> (N, S, g, h)
        K̂ = repeat(K, r), V̂ = repeat(V, r)   along the heads: query head j reads
                                             key/value head ⌊j/r⌋   -> (N, S, u, h)
        S = (Q/√h) K̂ᵀ,  P = softmax(S) (masked),  P̃ = dropout(P),  O = P̃ V̂
        a = O W_o + b_o          W_o: (u, h, d_q), b_o: (d_q,)    -> a: (N, T, d_q)

    Everything after the repeat is :class:`MultiHeadAttention` with ``u`` heads of size
    ``h`` (the same masks, the same two Keras paths and their rounding). Backward: the
    same, then the repeat's backward adds the gradients of the ``r`` query heads that
    share a key/value head::

        δK[:, :, i] = Σ_{j=ir}^{ir+r-1} δK̂[:, :, j]        (and so for δV)
        ∂L/∂W_k = Σ_{n,s} x_kᵀ δK,  ∂L/∂b_k = Σ_{n,s} δK,  δx_k = δK W_kᵀ  (and so for V)

    The output has the query's feature size ``d_q`` (Keras' ``feature_dim``).

    Args:
        head_dim: the size ``h`` of each head.
        num_query_heads: the number ``u`` of query heads.
        num_key_value_heads: the number ``g`` of key and value heads; it must divide
            ``num_query_heads``.
        dropout: the rate of dropout on the attention probabilities ``P``.
        use_bias: whether the four projections add a bias.
        sliding_window: None only (minired has no sliding-window mask).
        flash_attention: None or False (minired has no flash attention).
        kernel_initializer: how the four kernels start (``"glorot_uniform"``, fans from
            the projection's input and output axes as Keras' ``EinsumDense``).
        bias_initializer: how the biases start.
        kernel_regularizer: penalty on each kernel.
        bias_regularizer: penalty on each bias.
        activity_regularizer: None only.
        kernel_constraint: projection applied to each kernel after each optimizer step.
        bias_constraint: projection applied to each bias after each step.
        use_gate: False only (minired has no gated attention).
        seed: seed of the dropout.
        name: layer name.

    Keras' class is ``GroupedQueryAttention``, exported (and written in ``.keras`` files) as
    ``GroupQueryAttention``; minired names the class by the exported name, so that its files
    name it as Keras', and keeps Keras' default layer name ``grouped_query_attention``.

    Example:
        >>> layer = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
        >>> x = np.ones((2, 5, 8), dtype="float32")
        >>> layer(x, x).shape
        (2, 5, 8)
        >>> [w.shape for w in layer.weights[::2]]
        [(8, 4, 3), (8, 2, 3), (8, 2, 3), (4, 3, 8)]
        >>> out, scores = layer(x, x[:, :3], return_attention_scores=True)
        >>> scores.shape
        (2, 4, 5, 3)
    """

    #: Keras' class name: its default layer name and its group in a ``.keras`` file.
    _keras_class_name = "GroupedQueryAttention"

    def __init__(
        self,
        head_dim: int,
        num_query_heads: int,
        num_key_value_heads: int,
        dropout: float = 0.0,
        use_bias: bool = True,
        sliding_window: int | None = None,
        flash_attention: bool | None = None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate: bool = False,
        seed: int | None = None,
        name: str | None = None,
        **kwargs,
    ) -> None:
        for argument, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                                ("num_key_value_heads", num_key_value_heads)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"GroupedQueryAttention: `{argument}` must be a positive "
                                 f"integer, got {value!r}.")
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`. "
                             f"Received: num_query_heads={num_query_heads}, "
                             f"num_key_value_heads={num_key_value_heads}")
        if flash_attention not in (None, False):
            raise ValueError("GroupedQueryAttention: flash attention is not implemented in "
                             "minired (nor on Keras' TensorFlow backend); use "
                             f"flash_attention=None or False, got {flash_attention!r}.")
        for argument, value in (("sliding_window", sliding_window),
                                ("activity_regularizer", activity_regularizer)):
            if value is not None:
                raise ValueError(f"GroupedQueryAttention: `{argument}` is not implemented in "
                                 f"minired; leave it as None (got {value!r}).")
        if use_gate is not False:
            raise ValueError("GroupedQueryAttention: `use_gate` is not implemented in "
                             f"minired; leave it as False (got {use_gate!r}).")
        super().__init__(num_heads=int(num_query_heads), key_dim=int(head_dim),
                         dropout=dropout, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         seed=seed,
                         name=name if name is not None else auto_name(self._keras_class_name),
                         **kwargs)
        self.head_dim = int(head_dim)
        self.num_query_heads = int(num_query_heads)
        self.num_key_value_heads = int(num_key_value_heads)
        self.num_repeats = self.num_query_heads // self.num_key_value_heads

    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        """Create the four projections (Keras' ``query``, ``key``, ``value``,
        ``attention_output``) for a query, value (and key) of these shapes."""
        if value_shape is None and isinstance(query_shape, list | tuple) and query_shape \
                and isinstance(query_shape[0], list | tuple):
            query_shape, value_shape, key_shape = (list(query_shape) + [None, None])[:3]
        if value_shape is None:
            raise ValueError(f"GroupedQueryAttention {self.name!r}: build needs the query's "
                             "and the value's shapes, build(query_shape, value_shape).")
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._check_shapes(query_shape, value_shape, key_shape)
        dtype = self._float_dtype()
        u, g, h = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self.query_dense = self._projection("query", "abc,cde->abde",
                                            (query_shape[-1], u, h), dtype)
        self.key_dense = self._projection("key", "abc,cde->abde", (key_shape[-1], g, h), dtype)
        self.value_dense = self._projection("value", "abc,cde->abde",
                                            (value_shape[-1], g, h), dtype)
        self.output_dense = self._projection("attention_output", "abcd,cde->abe",
                                             (u, h, query_shape[-1]), dtype)
        self.build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not value_shape:
            self.build_shapes["key_shape"] = key_shape
        Layer.build(self, query_shape)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None) -> tuple:
        """The query's shape; as Keras, the query and the value must have the same number of
        features."""
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        if query_shape[-1] != value_shape[-1]:
            raise ValueError("The last dimension of `query_shape` and `value_shape` must be "
                             f"equal, but are {query_shape[-1]}, {value_shape[-1]}. Received: "
                             f"query_shape={query_shape}, value_shape={value_shape}")
        return super().compute_output_shape(query_shape, value_shape, key_shape)

    # -- the repeat of the key and value heads, around MultiHeadAttention's projections ----
    def _project(self, projection: Projection, x: np.ndarray) -> np.ndarray:
        """``x W + b``; for the key and the value then ``repeat`` along the heads
        (``(N, S, g, h) -> (N, S, u, h)``, each head ``r`` times in a row, as
        ``ops.repeat(·, r, axis=2)``)."""
        z = MultiHeadAttention._project(projection, x)
        if projection.name in ("key", "value"):
            z = np.repeat(z, self.num_repeats, axis=2)
        return z

    def _project_backward(self, projection: Projection, x: np.ndarray, grad_z: np.ndarray
                          ) -> np.ndarray:
        """For the key and the value, first the repeat's backward: the ``r`` query heads of a
        group add their gradients, ``δK = Σ_r δK̂``; then the projection's backward."""
        if projection.name in ("key", "value"):
            n, s, _, h = grad_z.shape
            grad_z = grad_z.reshape(n, s, self.num_key_value_heads, self.num_repeats, h
                                    ).sum(axis=3)
        return super()._project_backward(projection, x, grad_z)

    # -- saving ---------------------------------------------------------------------------
    def _keras_weight_groups(self) -> list[tuple[str, list[np.ndarray]]]:
        """The groups of Keras' ``.keras`` file under this layer's path: its own (empty),
        the Dropout and Softmax sublayers (empty), and the four projections under Keras'
        attribute names (``_key_dense``, ``_output_dense``, ``_query_dense``,
        ``_value_dense``)."""
        if not self.built:
            return [("", [])]
        return [("", []), ("_dropout_layer", []),
                ("_key_dense", self._arrays(self.key_dense)),
                ("_output_dense", self._arrays(self.output_dense)),
                ("_query_dense", self._arrays(self.query_dense)),
                ("_softmax", []),
                ("_value_dense", self._arrays(self.value_dense))]

    def get_config(self) -> dict:
        """Keras' GroupedQueryAttention config (the Keras-only arguments at their
        defaults)."""
        serialize = serialization_lib.serialize_keras_object
        return {
            **Layer.get_config(self),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": False,
            "sliding_window": None,
            "dropout": self.dropout,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "activity_regularizer": None,
            "kernel_constraint": serialize(self.kernel_constraint),
            "bias_constraint": serialize(self.bias_constraint),
            "seed": self.seed,
        }


#: The name of Keras' class (``keras.src.layers.GroupedQueryAttention``).
GroupedQueryAttention = GroupQueryAttention
