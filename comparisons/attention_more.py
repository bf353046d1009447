"""GroupedQueryAttention and ReversibleEmbedding beside Keras: outputs, scores, δ of every
input and ∂L/∂w of every weight (the same weights, a random ``δa``).

- ``attention_more/grouped_query_self``: 4 query heads sharing 2 key/value heads, on Keras'
  ``dot_product_attention`` path and on its explicit path (with the scores);
- ``attention_more/grouped_query_cross_masked``: multi-query attention (one key/value head),
  a separate key, an ``attention_mask`` with a fully masked query row, the causal mask;
- ``attention_more/reversible_embedding``: ids -> vectors -> logits with the same layer
  (tied weights), an untied one with ``logit_soft_cap``.
"""

from __future__ import annotations

import numpy as np

from comparisons.attention import attention_pairs
from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case


def grouped_query_pairs(dtype: str, make: dict, shapes: dict, call: dict, seed: int = 0,
                        mask=None, label: str = "") -> list[tuple]:
    """:func:`comparisons.attention.attention_pairs` for ``GroupQueryAttention(**make)``."""
    return attention_pairs(dtype, make, shapes, call, seed, mask, label,
                           layer="GroupQueryAttention")


@case("attention_more", "grouped_query_self")
def grouped_query_self(dtype):
    """Self-attention, 4 query heads sharing 2 key/value heads of size 3: Keras'
    dot_product_attention path, and its explicit path (``return_attention_scores``)."""
    shapes = {"query": (3, 5, 6), "value": (3, 5, 6)}
    make = {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}
    return Outcome(grouped_query_pairs(dtype, make, shapes, {}, label="fused")
                   + grouped_query_pairs(dtype, make, shapes,
                                         {"return_attention_scores": True}, seed=1,
                                         label="scores"))


@case("attention_more", "grouped_query_cross_masked")
def grouped_query_cross_masked(dtype):
    """Multi-query attention (3 query heads, 1 key/value head) with a key of its own, an
    attention_mask with a fully masked query row, then the causal mask, on both paths."""
    rng = np.random.default_rng(5)
    mask = rng.random((2, 4, 5)) > 0.4
    mask[:, :, 0] = True
    mask[1, 3, :] = False                       # a query row with no key to attend to
    shapes = {"query": (2, 4, 6), "value": (2, 5, 6), "key": (2, 5, 2)}
    make = {"head_dim": 2, "num_query_heads": 3, "num_key_value_heads": 1}
    return Outcome(grouped_query_pairs(dtype, make, shapes, {}, mask=mask, label="fused")
                   + grouped_query_pairs(dtype, make, shapes, {"return_attention_scores": True},
                                         mask=mask, seed=1, label="scores")
                   + grouped_query_pairs(dtype, {**make, "use_bias": False}, shapes,
                                         {"use_causal_mask": True}, seed=2, label="causal"))


def reversible_pairs(dtype: str, make: dict, seed: int, label: str) -> list[tuple]:
    """``e = layer(ids)``, ``a = layer(h, reverse=True)`` with ``h`` random, in both
    libraries with the same weights: the embeddings, the logits, ``δh`` and ``∂L/∂w`` for
    ``L = Σ a ⊙ δa``."""
    from comparisons.common import tf

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, make["input_dim"], size=(3, 4))
    with precision(dtype):
        h = rng.normal(size=(3, 4, make["output_dim"])).astype(dtype)
        ours, theirs = mr.layers.ReversibleEmbedding(**make), \
            keras.layers.ReversibleEmbedding(**make)
        embedded = ours(ids)
        logits = ours(h, reverse=True)
        for w in ours.weights:
            w[...] = rng.normal(0.0, 0.5, w.shape)
        embedded = ours(ids)
        logits = ours(h, reverse=True)
        upstream = rng.normal(size=logits.shape).astype(dtype)
        ours.zero_gradients()
        grad_h = ours.backward(upstream)
        weight_grads = [np.array(g) for g in ours.gradients]
        theirs(ids)
        theirs.set_weights(ours.get_weights())
        watched = tf.constant(h)
        with tf.GradientTape() as tape:
            tape.watch(watched)
            keras_logits = theirs(watched, reverse=True)
            loss = tf.reduce_sum(keras_logits * upstream)
        keras_grads = tape.gradient(loss, [watched, *theirs.trainable_variables])
        keras_embedded = np.asarray(theirs(ids))
    names = [w.path.split("/", 1)[1] for w in theirs.trainable_variables]
    # untied, the reverse call does not read W: TensorFlow's gradient is None, minired's 0
    keras_grads = [np.zeros(w.shape) if g is None else g
                   for w, g in zip([watched, *theirs.trainable_variables], keras_grads,
                                   strict=True)]
    return ([(f"{label}: embeddings", embedded, keras_embedded),
             (f"{label}: logits", logits, np.asarray(keras_logits)),
             (f"{label}: δh", grad_h, np.asarray(keras_grads[0]))]
            + [(f"{label}: ∂L/∂{name}", g, np.asarray(kg)) for name, g, kg in zip(
                names, weight_grads, keras_grads[1:], strict=True)])


@case("attention_more", "reversible_embedding")
def reversible_embedding(dtype):
    """ReversibleEmbedding: ids -> vectors, vectors -> logits with the tied table ``Wᵀ``,
    and with an untied ``reverse_embeddings`` and ``logit_soft_cap=2``."""
    return Outcome(reversible_pairs(dtype, {"input_dim": 7, "output_dim": 5}, 0, "tied")
                   + reversible_pairs(dtype, {"input_dim": 6, "output_dim": 4,
                                              "tie_weights": False, "logit_soft_cap": 2.0},
                                      1, "untied, soft cap"))
