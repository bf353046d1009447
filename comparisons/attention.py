"""MultiHeadAttention, Attention and AdditiveAttention beside Keras: outputs, scores, δ of
every input and ∂L/∂w of every weight (the same weights, a random ``δa``), and a small
Transformer block trained a few epochs.

- ``attention/multi_head_self``: ``layer(x, x)``, Keras' ``dot_product_attention`` path;
- ``attention/multi_head_causal``: ``use_causal_mask=True``, both of Keras' paths (with
  and without the scores);
- ``attention/multi_head_cross_masked``: query, value and a separate key of other sizes,
  ``value_dim``, ``output_shape``, an ``attention_mask`` with a fully masked query row,
  with and without ``return_attention_scores`` (Keras' two ways of masking);
- ``attention/transformer_block_training``: Input -> MHA(x, x) + x -> LayerNormalization ->
  Dense -> GlobalAveragePooling1D -> Dense(softmax), Adam, three epochs;
- ``attention/masked_self_attention_fit``: Embedding(mask_zero=True) -> MHA(e, e), which
  reads the embedding's mask as query, value and key mask -> GlobalAveragePooling1D (masked)
  -> Dense, SGD two epochs: outputs, the attention's output mask, losses and weights;
- ``attention/dot_attention``, ``attention/additive_attention``: Attention (dot and concat
  scores, use_scale) and AdditiveAttention on ``[q, v(, k)]``, with query and value masks
  and the causal mask.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case


def attention_pairs(dtype: str, make: dict, shapes: dict, call: dict, seed: int = 0,
                    mask=None, label: str = "", layer: str = "MultiHeadAttention"
                    ) -> list[tuple]:
    """Build ``layer(**make)`` (``MultiHeadAttention`` or ``GroupQueryAttention``) in both
    libraries on inputs of ``shapes``
    (``query``, ``value`` and maybe ``key``: shapes with the batch), copy minired's weights
    into Keras (random biases too), call both with ``call`` (and ``attention_mask=mask``)
    and return ``(label, minired, keras)`` for the outputs, the scores if asked, ``δ`` of
    each input and ``∂L/∂w`` of each weight, for ``L = Σ a ⊙ δa``."""
    from comparisons.common import tf

    rng = np.random.default_rng(seed)
    with precision(dtype):
        tensors = {name: rng.normal(size=shape).astype(dtype) for name, shape in shapes.items()}
        ours = getattr(mr.layers, layer)(**make)
        theirs = getattr(keras.layers, layer)(**make)
        kwargs = dict(call)
        if "key" in tensors:
            kwargs["key"] = tensors["key"]
        if mask is not None:
            kwargs["attention_mask"] = mask
        ours(tensors["query"], tensors["value"], **kwargs)       # builds
        for w in ours.weights:
            w[...] = rng.normal(0.0, 0.5, w.shape)
        outputs = ours(tensors["query"], tensors["value"], **kwargs)
        scores = call.get("return_attention_scores", False)
        output = outputs[0] if scores else outputs
        upstream = rng.normal(size=output.shape).astype(dtype)
        ours.zero_gradients()
        grads = ours.backward([upstream, None] if scores else upstream)
        grads = [g for g in grads if g is not None]
        weight_grads = [np.array(g) for g in ours.gradients]

        theirs(tensors["query"], tensors["value"], **kwargs)
        theirs.set_weights(ours.get_weights())
        watched = [tf.constant(tensors[name]) for name in ("query", "value", "key")
                   if name in tensors]
        with tf.GradientTape() as tape:
            tape.watch(watched)
            keras_kwargs = dict(kwargs)
            if len(watched) == 3:
                keras_kwargs["key"] = watched[2]
            keras_outputs = theirs(watched[0], watched[1], **keras_kwargs)
            keras_output = keras_outputs[0] if scores else keras_outputs
            loss = tf.reduce_sum(keras_output * upstream)
        keras_grads = tape.gradient(loss, watched + list(theirs.trainable_variables))
    names = [w.path.split("/", 1)[1] for w in theirs.trainable_variables]
    prefix = f"{label}: " if label else ""
    pairs = [(f"{prefix}outputs", output, np.asarray(keras_output))]
    if scores:
        pairs.append((f"{prefix}scores", outputs[1], np.asarray(keras_outputs[1])))
    pairs += [(f"{prefix}δ{name}", g, np.asarray(kg)) for name, g, kg in zip(
        [n for n in ("query", "value", "key") if n in tensors], grads,
        keras_grads[:len(watched)], strict=True)]
    # ∂L/∂b_k is 0 exactly: b_k adds q_t·b_k to every score of row t, which the softmax
    # ignores; both libraries give rounding noise (~1e-16 of the others), whose relative
    # difference means nothing. tests/test_attention.py checks that it is that small.
    pairs += [(f"{prefix}∂L/∂{name}", g, np.asarray(kg)) for name, g, kg in zip(
        names, weight_grads, keras_grads[len(watched):], strict=True) if name != "key/bias"]
    return pairs


@case("attention", "multi_head_self")
def multi_head_self(dtype):
    """Self-attention ``layer(x, x)`` (2 heads of 4, Keras' dot_product_attention path) and
    the same with ``return_attention_scores`` (its explicit path, which scales Q first)."""
    shapes = {"query": (3, 5, 6), "value": (3, 5, 6)}
    make = {"num_heads": 2, "key_dim": 4}
    return Outcome(attention_pairs(dtype, make, shapes, {}, label="fused")
                   + attention_pairs(dtype, make, shapes, {"return_attention_scores": True},
                                     seed=1, label="scores"))


@case("attention", "multi_head_causal")
def multi_head_causal(dtype):
    """``use_causal_mask=True``: query t attends to keys s ≤ t, on both of Keras' paths."""
    shapes = {"query": (2, 6, 4), "value": (2, 6, 4)}
    make = {"num_heads": 3, "key_dim": 2, "use_bias": False}
    return Outcome(attention_pairs(dtype, make, shapes, {"use_causal_mask": True}, label="fused")
                   + attention_pairs(dtype, make, shapes, {"use_causal_mask": True,
                                                           "return_attention_scores": True},
                                     seed=1, label="scores"))


@case("attention", "multi_head_cross_masked")
def multi_head_cross_masked(dtype):
    """Cross-attention with a key of its own (T=4, S=5, other feature sizes), value_dim=3,
    output_shape=7 and an attention_mask whose last query row is fully masked: Keras'
    fused path attends uniformly there, its explicit path gives zeros."""
    rng = np.random.default_rng(5)
    mask = rng.random((2, 4, 5)) > 0.4
    mask[:, :, 0] = True
    mask[1, 3, :] = False                       # a query row with no key to attend to
    shapes = {"query": (2, 4, 6), "value": (2, 5, 3), "key": (2, 5, 2)}
    make = {"num_heads": 2, "key_dim": 3, "value_dim": 3, "output_shape": 7}
    return Outcome(attention_pairs(dtype, make, shapes, {}, mask=mask, label="fused")
                   + attention_pairs(dtype, make, shapes, {"return_attention_scores": True},
                                     mask=mask, seed=1, label="scores")
                   + attention_pairs(dtype, make, shapes, {"use_causal_mask": True},
                                     mask=mask.astype("int32"), seed=2,
                                     label="int mask & causal"))


def transformer_classifier(library, length: int = 6, features: int = 8, classes: int = 3):
    """keras-io's TransformerBlock (without dropout) as a functional model of ``library``."""
    layers = library.layers
    inputs = library.Input((length, features))
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([inputs, attended]))
    x = layers.Dense(features, activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return library.Model(inputs, outputs)


@case("attention", "transformer_block_training", kind="training")
def transformer_block_training(dtype):
    """MHA(x, x) + x -> LayerNormalization(1e-6) -> Dense(relu) -> pooling -> softmax, Adam
    (lr 0.01), 3 epochs of batches of 8: losses per epoch and the final weights."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 6, 8)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 32)]
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = transformer_classifier(mr)
        twin = transformer_classifier(keras)
        twin.set_weights(model.get_weights())
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="categorical_crossentropy")
        twin.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy")
        ours = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]
        theirs = twin.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]
        pairs = [("losses", np.array(ours), np.array(theirs))]
        # The key's bias is left out: its gradient is rounding noise around an exact 0
        # (see attention_pairs), which Adam turns into steps of ±lr; it changes no output.
        pairs += [(f"final {w.path}", ow, np.asarray(w)) for ow, w in zip(
            model.get_weights(), twin.weights, strict=True) if not w.path.endswith("key/bias")]
    return Outcome(pairs, curves={"minired": ours, "keras": theirs})


#: padded word ids (0 is the padding), a fully padded row left out (Keras' dot-product path
#: attends uniformly there, which the pooling then skips anyway)
PADDED_IDS = np.array([[3, 1, 4, 0, 0, 0], [2, 7, 1, 8, 2, 9], [5, 0, 0, 0, 0, 0],
                       [9, 9, 6, 0, 0, 0], [1, 2, 0, 0, 0, 0], [4, 4, 4, 4, 0, 0],
                       [6, 1, 3, 5, 7, 0], [8, 3, 5, 7, 0, 0]])


def masked_self_attention(library, with_attention_output: bool = False):
    """Embedding(10, 8, mask_zero=True) -> MHA(2 heads of 4)(e, e) -> pooling -> Dense(2)."""
    layers = library.layers
    inputs = library.Input((PADDED_IDS.shape[1],))
    embedded = layers.Embedding(10, 8, mask_zero=True)(inputs)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4)(embedded, embedded)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling1D()(attended))
    return library.Model(inputs, [outputs, attended] if with_attention_output else outputs)


@case("attention", "masked_self_attention_fit", kind="training")
def masked_self_attention_fit(dtype):
    """The masks of the embedding read by MultiHeadAttention (query, value and key mask),
    then by the pooling: outputs and the attention's output mask (the query's), then SGD
    (lr 0.1), two epochs of batches of 3: losses per epoch and the final weights."""
    y = np.random.default_rng(5).normal(size=(len(PADDED_IDS), 2)).astype(dtype)
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model, twin = masked_self_attention(mr, True), masked_self_attention(keras, True)
        twin.set_weights(model.get_weights())
        ours, theirs = model(PADDED_IDS), twin(PADDED_IDS)
        pairs = [("outputs", ours[0], np.asarray(theirs[0])),
                 ("attention output", ours[1], np.asarray(theirs[1])),
                 ("attention output mask", model.output_masks()[1].astype(dtype),
                  np.asarray(theirs[1]._keras_mask).astype(dtype))]
        model = mr.Model(model.inputs, model.outputs[0])
        twin = keras.Model(twin.inputs, twin.outputs[0])
        model.compile(optimizer=mr.optimizers.SGD(0.1), loss="mse")
        twin.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        kwargs = {"batch_size": 3, "epochs": 2, "shuffle": False, "verbose": 0}
        lost = model.fit(PADDED_IDS, y, **kwargs).history["loss"]
        keras_lost = twin.fit(PADDED_IDS, y, **kwargs).history["loss"]
        pairs += [("losses", np.array(lost), np.array(keras_lost))]
        # The key's bias is left out: its exact gradient is 0 (softmax is shift-invariant
        # along the keys), so it only moves by rounding noise (~1e-17), relatively large.
        pairs += [(f"final {w.path}", ow, np.asarray(w)) for ow, w in zip(
            model.get_weights(), twin.weights, strict=True) if not w.path.endswith("key/bias")]
    return Outcome(pairs, curves={"minired": lost, "keras": keras_lost})


def dot_attention_pairs(dtype: str, kind: str, make: dict, shapes: dict, call: dict,
                        masks: list | None = None, seed: int = 0, label: str = "") -> list:
    """``Attention``/``AdditiveAttention`` (``kind``) in both libraries on ``[q, v(, k)]``
    of ``shapes``, the same weights (not the initial ones), ``mask=masks``: outputs (and
    scores), δ of each input and ∂L/∂w of each weight for ``L = Σ a ⊙ δa``."""
    from comparisons.common import tf

    rng = np.random.default_rng(seed)
    with precision(dtype):
        names = [n for n in ("query", "value", "key") if n in shapes]
        tensors = [rng.normal(size=shapes[n]).astype(dtype) for n in names]
        ours = getattr(mr.layers, kind)(**make)
        theirs = getattr(keras.layers, kind)(**make)
        kwargs = dict(call)
        if masks is not None:
            kwargs["mask"] = masks
        ours(tensors, **kwargs)
        for w in ours.weights:
            w[...] = rng.normal(0.8, 0.3, w.shape)
        outputs = ours(tensors, **kwargs)
        scores = call.get("return_attention_scores", False)
        output = outputs[0] if scores else outputs
        upstream = rng.normal(size=output.shape).astype(dtype)
        ours.zero_gradients()
        grads = [g for g in ours.backward(upstream) if g is not None]
        weight_grads = [np.array(g) for g in ours.gradients]
        theirs(tensors, **kwargs)
        theirs.set_weights(ours.get_weights())
        watched = [tf.constant(t) for t in tensors]
        with tf.GradientTape() as tape:
            tape.watch(watched)
            keras_outputs = theirs(watched, **kwargs)
            keras_output = keras_outputs[0] if scores else keras_outputs
            loss = tf.reduce_sum(keras_output * upstream)
        keras_grads = tape.gradient(loss, watched + list(theirs.trainable_variables))
    prefix = f"{label}: " if label else ""
    pairs = [(f"{prefix}outputs", output, np.asarray(keras_output))]
    if scores:
        pairs.append((f"{prefix}scores", outputs[1], np.asarray(keras_outputs[1])))
    pairs += [(f"{prefix}δ{name}", g, np.asarray(kg))
              for name, g, kg in zip(names, grads, keras_grads[:len(watched)], strict=True)]
    pairs += [(f"{prefix}∂L/∂{w.name}", g, np.asarray(kg)) for w, g, kg in zip(
        theirs.trainable_variables, weight_grads, keras_grads[len(watched):], strict=True)]
    return pairs


def _masks(rng, batch: int, length_q: int, length_v: int) -> list:
    query_mask = rng.random((batch, length_q)) > 0.3
    value_mask = rng.random((batch, length_v)) > 0.3
    value_mask[:, 0] = True
    return [query_mask, value_mask]


@case("attention", "dot_attention")
def dot_attention(dtype):
    """Attention (Luong): plain, use_scale with a key and scores, concat scores with masks
    and the causal mask."""
    rng = np.random.default_rng(12)
    shapes = {"query": (3, 4, 5), "value": (3, 6, 2), "key": (3, 6, 5)}
    return Outcome(
        dot_attention_pairs(dtype, "Attention", {}, {"query": (2, 4, 3), "value": (2, 6, 3)},
                            {}, label="dot")
        + dot_attention_pairs(dtype, "Attention", {"use_scale": True}, shapes,
                              {"return_attention_scores": True}, seed=1, label="scaled,key")
        + dot_attention_pairs(dtype, "Attention", {"use_scale": True, "score_mode": "concat"},
                              {"query": (3, 5, 4), "value": (3, 5, 4)}, {"use_causal_mask": True},
                              masks=_masks(rng, 3, 5, 5), seed=2, label="concat,masks,causal"))


@case("attention", "additive_attention")
def additive_attention(dtype):
    """AdditiveAttention (Bahdanau): with its learnt scale and a key, and without a scale
    but with masks and the causal mask."""
    rng = np.random.default_rng(13)
    return Outcome(
        dot_attention_pairs(dtype, "AdditiveAttention", {},
                            {"query": (3, 4, 5), "value": (3, 6, 2), "key": (3, 6, 5)},
                            {"return_attention_scores": True}, label="scale,key")
        + dot_attention_pairs(dtype, "AdditiveAttention", {"use_scale": False},
                              {"query": (2, 5, 3), "value": (2, 5, 3)}, {"use_causal_mask": True},
                              masks=_masks(rng, 2, 5, 5), seed=1, label="masks,causal"))
