"""MultiHeadAttention: gradients by finite differences, Keras parity, graphs, saving, errors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer, check_model, numerical_gradient, relative_error

MHA = mr.layers.MultiHeadAttention


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def randn(rng, *shape):
    return rng.normal(size=shape)


def check_call(layer, query, value, upstream_seed: int = 0, training: bool = False,
               scores_upstream: bool = False, **options) -> dict[str, float]:
    """Relative errors of ``layer.backward`` against central differences of
    ``Σ a ⊙ δa (+ Σ P ⊙ δP)`` for every input tensor and every weight (float64)."""
    layer(query, value, **options)                        # builds
    rng = np.random.default_rng(upstream_seed)
    for w in layer.weights:                               # biases away from 0 too
        w[...] = rng.normal(0.0, 0.5, w.shape)
    state = layer.generator.bit_generator.state

    def run():
        layer.generator.bit_generator.state = state       # the same dropout mask each time
        return layer(query, value, training=training, **options)

    outputs = run()
    returns_scores = options.get("return_attention_scores", False)
    output = outputs[0] if returns_scores else outputs
    upstream = rng.normal(size=output.shape)
    upstream_p = rng.normal(size=outputs[1].shape) if scores_upstream else None

    def f():
        out = run()
        total = np.sum((out[0] if returns_scores else out) * upstream)
        return float(total + (np.sum(out[1] * upstream_p) if scores_upstream else 0.0))

    run()
    layer.zero_gradients()
    grads = layer.backward([upstream, upstream_p] if returns_scores else upstream)
    inputs = [("query", query), ("value", value)]
    if options.get("key") is not None:
        inputs.append(("key", options["key"]))
    errors = {}
    for (name, x), g in zip(inputs, grads, strict=False):
        errors[f"δ{name}"] = relative_error(g, numerical_gradient(f, x))
    if options.get("attention_mask") is not None:
        assert grads[-1] is None                          # the mask gets no gradient
    weight_grads = [np.array(g) for g in layer.gradients]
    for i, (w, g) in enumerate(zip(layer.weights, weight_grads, strict=True)):
        numeric = numerical_gradient(f, w)
        if w is layer.key_dense.bias:     # ∂L/∂b_k = 0 exactly (the softmax ignores q_t·b_k):
            # both sides are rounding noise, analytic ~1e-16, central differences ~1e-10
            assert np.abs(g).max() < 1e-12 and np.abs(numeric).max() < 1e-8
            errors[f"weight_{i}"] = 0.0
            continue
        errors[f"weight_{i}"] = relative_error(g, numeric)
    return errors


# -- gradients by finite differences (float64) ---------------------------------------------------

CALLS = {
    "self": dict(),
    "key": dict(key=True),
    "mask": dict(key=True, mask=True),
    "causal": dict(causal=True),
    "mask+causal": dict(mask=True, causal=True),
    "scores+mask": dict(mask=True, scores=True),
    "scores used": dict(causal=True, scores=True, scores_upstream=True),
}


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_gradients_match_finite_differences(float64, call, use_bias):
    spec = CALLS[call]
    rng = np.random.default_rng(1)
    query, value = randn(rng, 2, 4, 3), randn(rng, 2, 4, 5)
    options = {}
    if spec.get("key"):
        options["key"] = randn(rng, 2, 4, 2)
    if spec.get("mask"):
        mask = rng.random((2, 4, 4)) > 0.5
        mask[:, :, 0] = True
        mask[1, 2] = False                         # a query row with every key masked
        options["attention_mask"] = mask
    if spec.get("causal"):
        options["use_causal_mask"] = True
    if spec.get("scores"):
        options["return_attention_scores"] = True
    layer = MHA(num_heads=2, key_dim=3, value_dim=2, use_bias=use_bias)
    errors = check_call(layer, query, value, scores_upstream=spec.get("scores_upstream", False),
                        **options)
    assert len(errors) == (2 + ("key" in options)) + (8 if use_bias else 4)
    assert max(errors.values()) < 1e-7, errors


def test_gradients_with_dropout_in_training_match_finite_differences(float64):
    rng = np.random.default_rng(2)
    query = randn(rng, 2, 5, 4)
    layer = MHA(num_heads=2, key_dim=2, dropout=0.4, seed=3,
                kernel_regularizer="l2", bias_regularizer=mr.regularizers.L1(0.01))
    errors = check_call(layer, query, query.copy(), training=True, use_causal_mask=True)
    assert max(errors.values()) < 1e-7, errors
    assert layer.cache.dropout_mask is not None and not layer.cache.dropout_mask.all()


def test_check_layer_on_the_list_form_and_regularizers(float64):
    rng = np.random.default_rng(3)
    layer = MHA(2, 3, kernel_regularizer="l2", bias_regularizer="l1")
    query, value, key = randn(rng, 3, 4, 5), randn(rng, 3, 2, 4), randn(rng, 3, 2, 3)
    layer(query, value, key=key)
    for w in layer.weights:
        w[...] = rng.normal(0.0, 0.5, w.shape)
    results = check_layer(layer, [query, value, key])
    assert len(results) == 3 + 8
    assert max(r.relative_error for r in results) < 1e-7, [str(r) for r in results]
    assert len(layer.losses) == 8                         # one penalty per kernel and bias


def test_key_bias_gets_no_gradient(float64):
    """The softmax ignores ``q_t·b_k``, added to a whole row of scores: ∂L/∂b_k = 0."""
    rng = np.random.default_rng(4)
    layer = MHA(2, 3)
    x = randn(rng, 3, 5, 4)
    layer(x, x)
    for w in layer.weights:
        w[...] = rng.normal(0.0, 0.5, w.shape)
    out = layer(x, x)
    layer.zero_gradients()
    layer.backward(rng.normal(size=out.shape))
    grads = dict(zip(["q_W", "q_b", "k_W", "k_b"], layer.gradients, strict=False))
    assert np.abs(grads["k_b"]).max() < 1e-13 * np.abs(grads["k_W"]).max()


# -- Keras parity ---------------------------------------------------------------------------------

KERAS_CASES = {
    "self": (dict(num_heads=2, key_dim=4), {"query": (3, 5, 6), "value": (3, 5, 6)}, {}, False),
    "self,scores": (dict(num_heads=2, key_dim=4), {"query": (3, 5, 6), "value": (3, 5, 6)},
                    {"return_attention_scores": True}, False),
    "causal,no bias": (dict(num_heads=3, key_dim=2, use_bias=False),
                       {"query": (2, 6, 4), "value": (2, 6, 4)}, {"use_causal_mask": True}, False),
    "cross,key,mask": (dict(num_heads=2, key_dim=3, value_dim=3, output_shape=7),
                       {"query": (2, 4, 6), "value": (2, 5, 3), "key": (2, 5, 2)}, {}, True),
    "cross,mask,scores": (dict(num_heads=2, key_dim=3, output_shape=(5,)),
                          {"query": (2, 4, 6), "value": (2, 5, 3)},
                          {"return_attention_scores": True}, True),
    "mask,causal,dropout inactive": (dict(num_heads=1, key_dim=5, dropout=0.3),
                                     {"query": (2, 5, 3), "value": (2, 5, 3)},
                                     {"use_causal_mask": True}, True),
}


@pytest.mark.parametrize("name", sorted(KERAS_CASES))
def test_forward_and_gradients_equal_keras_in_float64(keras_env, name):
    from comparisons.attention import attention_pairs

    make, shapes, call, masked = KERAS_CASES[name]
    mask = None
    if masked:
        rng = np.random.default_rng(5)
        mask = rng.random((shapes["query"][0], shapes["query"][1], shapes["value"][1])) > 0.4
        mask[:, :, 0] = True
        mask[-1, -1, :] = False                    # fully masked row: Keras' two behaviours
    pairs = attention_pairs("float64", make, shapes, call, mask=mask)
    assert len(pairs) >= 1 + 2 + 3
    for label, ours, theirs in pairs:
        assert ours.shape == theirs.shape, label
        scale = max(np.abs(theirs).max(), 1e-300)
        assert np.abs(ours - theirs).max() / scale < 1e-12, label


def test_a_fully_masked_row_is_uniform_fused_and_zero_explicit():
    """Keras' dot_product_attention path (no dropout, no scores) attends uniformly where
    every key is masked; its explicit path (scores asked) gives zeros there."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1, 3, 4)).astype("float32")
    mask = np.ones((1, 3, 3), dtype=bool)
    mask[0, 1] = False
    layer = MHA(1, 2)
    fused = layer(x, x, attention_mask=mask)
    explicit, scores = layer(x, x, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_array_equal(scores[0, 0, 1], 0.0)
    np.testing.assert_allclose(scores[0, 0, [0, 2]].sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(layer.cache.probs[0, 0, 1], 0.0)
    layer(x, x, attention_mask=mask)
    np.testing.assert_allclose(layer.cache.probs[0, 0, 1], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(fused[0, [0, 2]], explicit[0, [0, 2]], rtol=1e-5, atol=1e-6)


def test_transformer_block_trains_as_keras(keras_env):
    from comparisons.attention import transformer_block_training

    outcome = transformer_block_training("float64")
    assert len(outcome.pairs) == 1 + 14 - 1            # losses, the weights but b_k
    for label, ours, theirs in outcome.pairs:
        assert np.abs(ours - theirs).max() / np.abs(theirs).max() < 1e-10, label


def test_a_transformer_block_layer_of_your_own_differentiates_through_the_tape(float64):
    """keras-io's TransformerBlock: a Layer of your own whose call uses MHA (recorded on the
    tape as one op with the hand-written backward), checked by finite differences."""

    class TransformerBlock(mr.layers.Layer):
        def __init__(self):
            super().__init__()
            self.att = MHA(num_heads=2, key_dim=3)
            self.norm = mr.layers.LayerNormalization(epsilon=1e-6)
            self.ffn = mr.layers.Dense(4, activation="tanh")

        def call(self, inputs, training=False):
            attended = self.att(inputs, inputs, use_causal_mask=True, training=training)
            return self.ffn(self.norm(inputs + attended))

    mr.utils.set_random_seed(0)
    inputs = mr.Input((5, 4))
    pooled = mr.layers.GlobalAveragePooling1D()(TransformerBlock()(inputs))
    model = mr.Model(inputs, mr.layers.Dense(1)(pooled))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 1))
    loss, grads = model.loss_and_gradients(x, y)
    weights = model.weights
    assert len(weights) == 8 + 2 + 2 + 2
    for w, g in zip(weights, grads, strict=True):
        numeric = numerical_gradient(lambda: model.loss_and_gradients(x, y)[0], w)
        if w.shape == (2, 3) and np.abs(numeric).max() < 1e-9:     # the key's bias: 0
            assert np.abs(g).max() < 1e-12
            continue
        assert relative_error(g, numeric) < 1e-7


def test_a_functional_model_with_key_and_mask_inputs(float64):
    rng = np.random.default_rng(8)
    q_in, v_in, k_in = mr.Input((4, 3)), mr.Input((5, 2)), mr.Input((5, 6))
    m_in = mr.Input((4, 5), dtype="bool")
    out, scores = MHA(2, 2, name="att")(q_in, v_in, key=k_in, attention_mask=m_in,
                                        return_attention_scores=True)
    assert out.shape == (None, 4, 3) and scores.shape == (None, 2, 4, 5)
    model = mr.Model([q_in, v_in, k_in, m_in], mr.layers.Dense(1)(mr.layers.Flatten()(out)))
    model.compile(optimizer="sgd", loss="mse")
    mask = rng.random((2, 4, 5)) > 0.3
    x = [rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 2)), rng.normal(size=(2, 5, 6)),
         mask]
    y = rng.normal(size=(2, 1))
    layer = model.get_layer("att")
    expected = layer(*x[:2], key=x[2], attention_mask=mask)
    features = model.predict(x, verbose=0)
    assert features.shape == (2, 1) and expected.shape == (2, 4, 3)
    _, grads = model.loss_and_gradients(x, y)
    for w, g in zip(model.weights, grads, strict=True):
        numeric = numerical_gradient(lambda: model.loss_and_gradients(x, y)[0], w)
        assert relative_error(g, numeric) < 1e-7 or np.abs(numeric).max() < 1e-9
    # the query and key inputs get their δ through the graph (x[0] and x[2] are inputs)
    model.fit(x, y, epochs=2, verbose=0)


#: padded word ids of a query (T = 4), a value and a key (S = 5); 0 is the padding
MASKED_IDS = {"query": np.array([[3, 1, 0, 0], [2, 7, 1, 8], [5, 0, 0, 0]]),
              "value": np.array([[4, 4, 4, 0, 0], [1, 2, 3, 4, 5], [6, 0, 0, 0, 0]]),
              "key": np.array([[1, 2, 3, 4, 0], [7, 0, 0, 0, 0], [8, 8, 0, 0, 0]])}


def masked_cross_attention(lib, scores: bool, causal: bool):
    """MultiHeadAttention on three masked inputs (Embedding(mask_zero=True)) and an
    ``attention_mask`` input: Keras ANDs query_mask (N, T, 1), value_mask and key_mask
    (N, 1, S), the attention_mask and the causal mask."""
    ids = {name: lib.Input((array.shape[1],)) for name, array in MASKED_IDS.items()}
    emb = {name: lib.layers.Embedding(10, 3 + i, mask_zero=True)(ids[name])
           for i, name in enumerate(ids)}
    attention_mask = lib.Input((4, 5), dtype="bool")
    outputs = lib.layers.MultiHeadAttention(2, 2, value_dim=3)(
        emb["query"], emb["value"], key=emb["key"], attention_mask=attention_mask,
        return_attention_scores=scores, use_causal_mask=causal)
    return lib.Model([*ids.values(), attention_mask], list(outputs) if scores else outputs)


@pytest.mark.parametrize("scores", [False, True])     # Keras' two paths
@pytest.mark.parametrize("causal", [False, True])
def test_the_masks_of_query_value_and_key_combine_as_keras(keras_env, scores, causal):
    keras = keras_env.keras
    attention_mask = np.random.default_rng(3).random((3, 4, 5)) > 0.2
    x = [*MASKED_IDS.values(), attention_mask]
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model = masked_cross_attention(mr, scores, causal)
        twin = masked_cross_attention(keras, scores, causal)
        twin.set_weights(model.get_weights())
        theirs, ours = twin(x), model(x)
        if not scores:
            theirs, ours = [theirs], [ours]
        for value, expected in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(value, np.asarray(expected), rtol=1e-12, atol=1e-15)
        masks = model.output_masks()
        np.testing.assert_array_equal(masks[0], MASKED_IDS["query"] != 0)   # the query's
        np.testing.assert_array_equal(masks[0], np.asarray(theirs[0]._keras_mask))
        if scores:
            # Keras' scores carry the mask its inner Softmax layer attached, (N, 1, T, S):
            # not a mask of their steps; minired gives them none (see its report).
            assert masks[1] is None
            combined = ((MASKED_IDS["query"] != 0)[:, :, None]
                        & (MASKED_IDS["value"] != 0)[:, None, :]
                        & (MASKED_IDS["key"] != 0)[:, None, :] & attention_mask)
            if causal:
                combined &= np.tril(np.ones((4, 5), bool))
            assert np.all(ours[1][~np.broadcast_to(combined[:, None], ours[1].shape)] == 0)


def test_masked_self_attention_gradients_match_finite_differences(float64):
    """The masks are no inputs of the backward pass: ∂L/∂w of a model whose attention reads
    them (every weight, the embeddings' too) equals central differences."""
    inputs = mr.Input((4,))
    e = mr.layers.Embedding(10, 3, mask_zero=True)(inputs)
    a = MHA(2, 2)(e, e, use_causal_mask=True)
    model = mr.Model(inputs, mr.layers.Dense(1)(mr.layers.GlobalAveragePooling1D()(a)))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(4)
    model.set_weights([rng.normal(0.0, 0.5, w.shape) for w in model.get_weights()])
    y = rng.normal(size=(3, 1))
    results = check_model(model, MASKED_IDS["query"], y)
    assert max(r.relative_error for r in results) < 1e-6, results


# -- shapes, config, saving --------------------------------------------------------------------

def test_return_attention_scores_and_shapes():
    rng = np.random.default_rng(9)
    layer = MHA(num_heads=3, key_dim=2, value_dim=4, output_shape=5)
    out, scores = layer(rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 7, 3)),
                        return_attention_scores=True, use_causal_mask=True)
    assert out.shape == (2, 4, 5) and out.dtype == np.float32
    assert scores.shape == (2, 3, 4, 7)
    np.testing.assert_allclose(scores.sum(-1), 1.0, rtol=1e-6)
    assert np.all(scores[..., 0, 1:] == 0)                  # query 0 sees key 0 only
    assert [w.shape for w in layer.weights] == [(6, 3, 2), (3, 2), (3, 3, 2), (3, 2),
                                                (3, 3, 4), (3, 4), (3, 4, 5), (5,)]
    assert layer.compute_output_shape((None, 4, 6), (None, 7, 3)) == (None, 4, 5)


def test_config_equals_keras(keras_env):
    keras = keras_env.keras
    kwargs = dict(num_heads=2, key_dim=3, value_dim=4, dropout=0.1, output_shape=5,
                  kernel_regularizer="l2", seed=4, name="att")
    ours, theirs = MHA(**kwargs), keras.layers.MultiHeadAttention(**kwargs)
    assert ours.get_config() == theirs.get_config()         # unbuilt: attention_axes None
    x = np.ones((1, 3, 6), dtype="float32")
    ours(x, x)
    theirs(x, x)
    assert ours.get_config() == theirs.get_config()         # built: attention_axes (1,)
    again = MHA.from_config(json.loads(json.dumps(theirs.get_config())))
    assert again.get_config() == ours.get_config()


def test_a_saved_model_loads_in_keras_and_back(tmp_path, keras_env):
    keras = keras_env.keras
    import h5py

    mr.utils.set_random_seed(0)
    q_in, v_in = mr.Input((4, 6)), mr.Input((5, 3))
    m_in = mr.Input((4, 5), dtype="bool")
    attended = MHA(2, 3, name="cross")(q_in, v_in, key=v_in, attention_mask=m_in)
    causal = MHA(1, 2, use_bias=False, name="self")(attended, attended, use_causal_mask=True)
    model = mr.Model([q_in, v_in, m_in], mr.layers.Dense(2)(causal))
    rng = np.random.default_rng(10)
    for w in model.weights:
        w[...] = rng.normal(0.0, 0.5, w.shape)
    x = [rng.normal(size=(3, 4, 6)).astype("float32"), rng.normal(size=(3, 5, 3)).astype(
        "float32"), rng.random((3, 4, 5)) > 0.3]
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)     # float32: einsum orders differ
    keras_model.save(tmp_path / "k.keras")

    def h5_paths(path):
        names = []
        with zipfile.ZipFile(path) as archive, h5py.File(
                archive.open("model.weights.h5"), "r") as f:
            f.visit(names.append)
        return sorted(names)

    assert h5_paths(tmp_path / "m.keras") == h5_paths(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    for ours, theirs in zip(back.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


# -- refused input --------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(num_heads=0, key_dim=2), "num_heads"),
    (dict(num_heads=2, key_dim=2.0), "key_dim"),
    (dict(num_heads=2, key_dim=2, value_dim=-1), "value_dim"),
    (dict(num_heads=2, key_dim=2, dropout=1.0), "dropout"),
    (dict(num_heads=2, key_dim=2, attention_axes=(1, 2)), "attention_axes"),
    (dict(num_heads=2, key_dim=2, output_shape=(2, 3)), "output_shape"),
    (dict(num_heads=2, key_dim=2, flash_attention=True), "flash attention"),
    (dict(num_heads=2, key_dim=2, use_gate=True), "use_gate"),
    (dict(num_heads=2, key_dim=2, sliding_window=3), "sliding_window"),
])
def test_unsupported_or_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MHA(**kwargs)


def test_bad_calls_are_refused():
    layer = MHA(2, 2, name="att")
    x = np.ones((2, 3, 4), dtype="float32")
    with pytest.raises(TypeError, match="`value` is missing"):
        layer(x)
    with pytest.raises(ValueError, match=r"`query` must have shape \(batch, sequence"):
        layer(np.ones((2, 4), dtype="float32"), x)
    with pytest.raises(ValueError, match="except the last one"):
        layer(x, x, key=np.ones((2, 4, 4), dtype="float32"))
    layer(x, x)
    with pytest.raises(ValueError, match="built for a `value` of 4 features"):
        layer(x, np.ones((2, 3, 5), dtype="float32"))
    with pytest.raises(ValueError, match=r"`attention_mask` must have shape \(batch, T, S\)"):
        layer(x, x, attention_mask=np.ones((2, 3, 4), dtype=bool))
    with pytest.raises(ValueError, match="`query_mask`"):
        layer(x, x, query_mask=np.ones((2, 3), dtype=bool))
    with pytest.raises(TypeError, match="use_causal_mask"):
        layer(x, x, use_causal_mask="yes")
    with pytest.raises(TypeError, match="unexpected call arguments"):
        layer(x, x, keys=x)


def test_the_comparison_mirror_translates_attention_both_ways(keras_env):
    from comparisons.mirror import from_keras, to_keras

    mr.utils.set_random_seed(1)
    q_in, m_in = mr.Input((4, 6)), mr.Input((4, 4), dtype="bool")
    attended = MHA(2, 3)(q_in, q_in, attention_mask=m_in, use_causal_mask=True)
    model = mr.Model([q_in, m_in], mr.layers.Dense(1)(attended))
    rng = np.random.default_rng(11)
    x = [rng.normal(size=(2, 4, 6)).astype("float32"), rng.random((2, 4, 4)) > 0.3]
    keras_model = to_keras(model)
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)     # float32: einsum orders differ
    back = from_keras(keras_model)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


# == Attention and AdditiveAttention ==============================================================

def check_list_call(layer, tensors: list, training: bool = False, scores_upstream=False,
                    **options) -> dict[str, float]:
    """As :func:`check_call`, for ``layer([q, v(, k)], **options)``."""
    layer(tensors, **options)
    rng = np.random.default_rng(0)
    for w in layer.weights:
        w[...] = rng.normal(0.8, 0.3, w.shape)
    state = layer.generator.bit_generator.state

    def run():
        layer.generator.bit_generator.state = state
        return layer(tensors, training=training, **options)

    returns_scores = options.get("return_attention_scores", False)
    outputs = run()
    upstream = rng.normal(size=(outputs[0] if returns_scores else outputs).shape)
    upstream_p = rng.normal(size=outputs[1].shape) if scores_upstream else None

    def f():
        out = run()
        total = np.sum((out[0] if returns_scores else out) * upstream)
        return float(total + (np.sum(out[1] * upstream_p) if scores_upstream else 0.0))

    run()
    layer.zero_gradients()
    grads = layer.backward([upstream, upstream_p] if returns_scores else upstream)
    n_masks = sum(m is not None for m in options.get("mask") or [])
    assert len(grads) == len(tensors) + n_masks and all(g is None for g in grads[len(tensors):])
    errors = {f"δx[{i}]": relative_error(g, numerical_gradient(f, x))
              for i, (x, g) in enumerate(zip(tensors, grads, strict=False))}
    weight_grads = [np.array(g) for g in layer.gradients]
    for i, (w, g) in enumerate(zip(layer.weights, weight_grads, strict=True)):
        errors[f"weight_{i}"] = relative_error(g, numerical_gradient(f, w))
    return errors


LIST_LAYERS = {
    "dot": lambda: mr.layers.Attention(),
    "dot,scale": lambda: mr.layers.Attention(use_scale=True),
    "concat": lambda: mr.layers.Attention(score_mode="concat"),
    "concat,scale": lambda: mr.layers.Attention(use_scale=True, score_mode="concat"),
    "additive": lambda: mr.layers.AdditiveAttention(),
    "additive,no scale": lambda: mr.layers.AdditiveAttention(use_scale=False),
}


@pytest.mark.parametrize("options", ["plain", "key", "masks,causal", "scores used",
                                     "dropout"])
@pytest.mark.parametrize("kind", sorted(LIST_LAYERS))
def test_attention_gradients_match_finite_differences(float64, kind, options):
    rng = np.random.default_rng(12)
    tensors = [rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 2))]
    if options == "key":
        tensors.append(rng.normal(size=(2, 5, 3)))
    else:
        tensors[1] = rng.normal(size=(2, 5, 3))
    call, training, layer = {}, False, LIST_LAYERS[kind]()
    if options == "masks,causal":
        call = {"mask": [rng.random((2, 4)) > 0.3, np.array([[1, 1, 0, 1, 0], [1, 0, 0, 1, 1]],
                                                            dtype=bool)],
                "use_causal_mask": True}
    if options == "scores used":
        call = {"return_attention_scores": True}
    if options == "dropout":
        layer.dropout, training = 0.4, True
    errors = check_list_call(layer, tensors, training=training,
                             scores_upstream=options == "scores used", **call)
    assert max(errors.values()) < 1e-7, errors
    if options == "dropout":
        assert layer.cache.dropout_mask is not None and not layer.cache.dropout_mask.all()


def test_check_layer_on_attention(float64):
    rng = np.random.default_rng(13)
    layer = mr.layers.AdditiveAttention()
    results = check_layer(layer, [rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 3, 2))])
    assert len(results) == 3
    assert max(r.relative_error for r in results) < 1e-7, [str(r) for r in results]


ATTENTION_KERAS_CASES = {
    "dot": ("Attention", {}, {"query": (2, 4, 3), "value": (2, 6, 3)}, {}, False),
    "dot,scale,key,scores": ("Attention", {"use_scale": True},
                             {"query": (3, 4, 5), "value": (3, 6, 2), "key": (3, 6, 5)},
                             {"return_attention_scores": True}, False),
    "concat,scale,masks,causal": ("Attention", {"use_scale": True, "score_mode": "concat"},
                                  {"query": (3, 5, 4), "value": (3, 5, 4)},
                                  {"use_causal_mask": True}, True),
    "concat,masks": ("Attention", {"score_mode": "concat"},
                     {"query": (3, 4, 4), "value": (3, 5, 4)}, {}, True),
    "additive,key,scores": ("AdditiveAttention", {},
                            {"query": (3, 4, 5), "value": (3, 6, 2), "key": (3, 6, 5)},
                            {"return_attention_scores": True}, False),
    "additive,no scale,masks,causal": ("AdditiveAttention", {"use_scale": False},
                                       {"query": (2, 5, 3), "value": (2, 5, 3)},
                                       {"use_causal_mask": True}, True),
}


@pytest.mark.parametrize("name", sorted(ATTENTION_KERAS_CASES))
def test_attention_forward_and_gradients_equal_keras_in_float64(keras_env, name):
    from comparisons.attention import dot_attention_pairs

    kind, make, shapes, call, masked = ATTENTION_KERAS_CASES[name]
    masks = None
    if masked:
        rng = np.random.default_rng(14)
        batch, length_q, length_v = shapes["query"][0], shapes["query"][1], shapes["value"][1]
        masks = [rng.random((batch, length_q)) > 0.3, rng.random((batch, length_v)) > 0.3]
        masks[1][-1] = False                         # a sample whose every key is masked
    pairs = dot_attention_pairs("float64", kind, make, shapes, call, masks=masks)
    assert len(pairs) >= 1 + 2
    for label, ours, theirs in pairs:
        assert ours.shape == theirs.shape, label
        assert np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-300) < 1e-12, label


@pytest.mark.parametrize("kind", ["Attention", "AdditiveAttention"])
def test_attention_config_and_saving_equal_keras(tmp_path, keras_env, kind):
    keras = keras_env.keras
    make = {"use_scale": True, "dropout": 0.2, "seed": 3}
    if kind == "Attention":
        make["score_mode"] = "concat"
    ours = getattr(mr.layers, kind)(name="att", **make)
    theirs = getattr(keras.layers, kind)(name="att", **make)
    assert ours.get_config() == theirs.get_config()
    mr.utils.set_random_seed(2)
    q_in, v_in = mr.Input((4, 3)), mr.Input((5, 3))
    m_in = mr.Input((5,), dtype="bool")
    attended = getattr(mr.layers, kind)(**make)([q_in, v_in], mask=[None, m_in],
                                                use_causal_mask=True)
    model = mr.Model([q_in, v_in, m_in], mr.layers.Dense(2)(attended))
    rng = np.random.default_rng(15)
    x = [rng.normal(size=(2, 4, 3)).astype("float32"),
         rng.normal(size=(2, 5, 3)).astype("float32"), rng.random((2, 5)) > 0.3]
    x[2][:, 0] = True
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)     # float32: sums in other orders
    keras_model.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    for ours_w, theirs_w in zip(back.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours_w, theirs_w)
    np.testing.assert_allclose(back.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_attention_in_a_functional_model_trains(float64):
    rng = np.random.default_rng(16)
    q_in, v_in = mr.Input((4, 3)), mr.Input((5, 3))
    out, scores = mr.layers.Attention(use_scale=True)([q_in, v_in],
                                                      return_attention_scores=True)
    assert out.shape == (None, 4, 3) and scores.shape == (None, 4, 5)
    model = mr.Model([q_in, v_in], mr.layers.Dense(1)(mr.layers.Flatten()(out)))
    model.compile(optimizer="sgd", loss="mse")
    x, y = [rng.normal(size=(3, 4, 3)), rng.normal(size=(3, 5, 3))], rng.normal(size=(3, 1))
    _, grads = model.loss_and_gradients(x, y)
    for w, g in zip(model.weights, grads, strict=True):
        numeric = numerical_gradient(lambda: model.loss_and_gradients(x, y)[0], w)
        assert relative_error(g, numeric) < 1e-7


def test_attention_bad_arguments_and_calls_are_refused():
    with pytest.raises(ValueError, match="score_mode"):
        mr.layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match="dropout"):
        mr.layers.Attention(dropout=1.5)
    layer, x = mr.layers.Attention(), np.ones((2, 3, 4), dtype="float32")
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        layer(x)
    with pytest.raises(ValueError, match="same number of features"):
        layer([x, np.ones((2, 3, 2), dtype="float32"), np.ones((2, 3, 3), dtype="float32")])
    with pytest.raises(ValueError, match="same number of steps"):
        layer([x, x, np.ones((2, 4, 4), dtype="float32")])
    with pytest.raises(ValueError, match="mask must be a list"):
        layer([x, x], mask=np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"`mask\[1\]` \(value_mask\) must have shape"):
        layer([x, x], mask=[None, np.ones((2, 4), dtype=bool)])
    additive = mr.layers.AdditiveAttention()
    additive([x, x])
    with pytest.raises(ValueError, match="built for a query of 4 features"):
        additive([np.ones((2, 3, 5), dtype="float32")] * 2)


def test_the_comparison_mirror_translates_attention_layers(keras_env):
    from comparisons.mirror import from_keras, to_keras

    mr.utils.set_random_seed(3)
    q_in, v_in, m_in = mr.Input((4, 3)), mr.Input((5, 3)), mr.Input((5,), dtype="bool")
    dot = mr.layers.Attention(use_scale=True)([q_in, v_in], mask=[None, m_in])
    additive = mr.layers.AdditiveAttention()([dot, v_in], use_causal_mask=True)
    model = mr.Model([q_in, v_in, m_in], additive)
    rng = np.random.default_rng(17)
    x = [rng.normal(size=(2, 4, 3)).astype("float32"),
         rng.normal(size=(2, 5, 3)).astype("float32"), rng.random((2, 5)) > 0.3]
    keras_model = to_keras(model)
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)     # float32: sums in other orders
    back = from_keras(keras_model)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
