"""GroupedQueryAttention (Keras' ``keras.layers.GroupQueryAttention``): gradients by finite
differences in float64, outputs and gradients against Keras (TensorFlow's tape), a short fit,
configs and ``.keras`` files both ways."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import minired as mr
from tests.test_attention import check_call

GQA = mr.layers.GroupQueryAttention


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


# -- the layer's own math ---------------------------------------------------------------------

def test_keras_public_name_and_weight_shapes():
    assert mr.layers.GroupQueryAttention is mr.layers.GroupedQueryAttention
    layer = GQA(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    x, v = np.ones((2, 5, 6), "float32"), np.ones((2, 7, 6), "float32")
    out, scores = layer(x, v, key=np.ones((2, 7, 2), "float32"), return_attention_scores=True)
    assert out.shape == (2, 5, 6) and out.dtype == np.float32
    assert scores.shape == (2, 4, 5, 7)
    assert [w.shape for w in layer.weights] == [(6, 4, 3), (4, 3), (2, 2, 3), (2, 3),
                                                (6, 2, 3), (2, 3), (4, 3, 6), (6,)]


def test_query_heads_of_a_group_read_the_same_key_and_value_head():
    """With ``g = u`` it is MultiHeadAttention; with ``g < u`` it is MultiHeadAttention whose
    key and value kernels are the grouped ones repeated along the heads."""
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=(2, 4, 5)), rng.normal(size=(2, 3, 5))
    gqa = GQA(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    gqa(x, v)
    for w in gqa.weights:
        w[...] = rng.normal(size=w.shape)
    mha = mr.layers.MultiHeadAttention(num_heads=4, key_dim=2)
    mha(x, v)
    repeated = [np.repeat(w, 2, axis=-2) if i in (2, 3, 4, 5) else w
                for i, w in enumerate(gqa.get_weights())]
    mha.set_weights(repeated)
    np.testing.assert_allclose(gqa(x, v), mha(x, v), rtol=1e-6, atol=1e-6)  # float32 sums
    np.testing.assert_allclose(gqa(x, v, return_attention_scores=True)[1],
                               mha(x, v, return_attention_scores=True)[1], rtol=1e-6, atol=1e-7)


CALLS = {
    "self": dict(),
    "key": dict(key=True),
    "mask": dict(key=True, mask=True),
    "causal": dict(causal=True),
    "scores used": dict(causal=True, scores=True, scores_upstream=True),
}


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_gradients_match_finite_differences(float64, call, use_bias):
    spec = CALLS[call]
    rng = np.random.default_rng(1)
    query, value = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3))
    options = {}
    if spec.get("key"):
        options["key"] = rng.normal(size=(2, 5, 2))
    if spec.get("mask"):
        mask = rng.random((2, 4, 5)) > 0.5
        mask[:, :, 0] = True
        mask[1, 2] = False                         # a query row with every key masked
        options["attention_mask"] = mask
    if spec.get("causal"):
        options["use_causal_mask"] = True
    if spec.get("scores"):
        options["return_attention_scores"] = True
    layer = GQA(head_dim=2, num_query_heads=4, num_key_value_heads=2, use_bias=use_bias)
    errors = check_call(layer, query, value, scores_upstream=spec.get("scores_upstream", False),
                        **options)
    assert len(errors) == (2 + ("key" in options)) + (8 if use_bias else 4)
    assert max(errors.values()) < 1e-7, errors


def test_gradients_with_dropout_in_training_match_finite_differences(float64):
    rng = np.random.default_rng(2)
    query = rng.normal(size=(2, 5, 4))
    layer = GQA(2, 3, 1, dropout=0.4, seed=3, kernel_regularizer="l2")
    errors = check_call(layer, query, query.copy(), training=True)
    assert max(errors.values()) < 1e-7, errors
    assert layer.cache.dropout_mask is not None and not layer.cache.dropout_mask.all()


# -- against Keras ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["grouped_query_self", "grouped_query_cross_masked"])
def test_forward_and_gradients_equal_keras_in_float64(keras_env, name):
    from comparisons import attention_more

    outcome = getattr(attention_more, name)("float64")
    for label, ours, theirs in outcome.pairs:
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=label)


def classifier(library, with_mask: bool):
    ids = library.Input((6,), dtype="int32")
    e = library.layers.Embedding(9, 6, mask_zero=with_mask)(ids)
    attended = library.layers.GroupQueryAttention(3, 4, 2, name="gqa")(e, e,
                                                                       use_causal_mask=True)
    pooled = library.layers.GlobalAveragePooling1D()(attended)
    return library.Model(ids, library.layers.Dense(3, activation="softmax")(pooled))


@pytest.mark.parametrize("with_mask", [False, True])
def test_a_model_trains_as_in_keras(keras_env, tmp_path, with_mask):
    keras = keras_env.keras
    rng = np.random.default_rng(4)
    x = rng.integers(1, 9, size=(8, 6))
    x[::2, 4:] = 0                                      # padding
    y = rng.integers(0, 3, size=8)
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model = classifier(mr, with_mask)
        # SGD: Keras' Adam updates an Embedding's table sparsely (rows of the batch only)
        model.compile(mr.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        model.save(tmp_path / "m.keras")
        twin = keras.saving.load_model(tmp_path / "m.keras")
        ours = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-10)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-9, atol=1e-12)


def test_config_equals_keras(keras_env):
    keras = keras_env.keras
    kwargs = dict(head_dim=3, num_query_heads=4, num_key_value_heads=2, dropout=0.1,
                  use_bias=False, kernel_regularizer="l2", seed=4, name="gqa")
    ours, theirs = GQA(**kwargs), keras.layers.GroupQueryAttention(**kwargs)
    assert ours.get_config() == theirs.get_config()
    x = np.ones((1, 3, 6), dtype="float32")
    ours(x, x)
    theirs(x, x)
    assert ours.get_config() == theirs.get_config()
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    again = GQA.from_config(json.loads(json.dumps(theirs.get_config())))
    assert again.get_config() == ours.get_config()


def test_saved_models_load_in_keras_and_back(tmp_path, keras_env):
    keras = keras_env.keras
    import h5py

    mr.utils.set_random_seed(0)
    q_in, v_in = mr.Input((4, 6)), mr.Input((5, 6))
    m_in = mr.Input((4, 5), dtype="bool")
    attended = GQA(3, 2, 1, name="cross")(q_in, v_in, attention_mask=m_in)
    model = mr.Model([q_in, v_in, m_in], mr.layers.Dense(2)(attended))
    rng = np.random.default_rng(10)
    for w in model.weights:
        w[...] = rng.normal(0.0, 0.5, w.shape)
    x = [rng.normal(size=(3, 4, 6)).astype("float32"),
         rng.normal(size=(3, 5, 6)).astype("float32"), rng.random((3, 4, 5)) > 0.3]
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


# -- refused input ----------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(head_dim=0, num_query_heads=2, num_key_value_heads=1), "head_dim"),
    (dict(head_dim=2, num_query_heads=2.0, num_key_value_heads=1), "num_query_heads"),
    (dict(head_dim=2, num_query_heads=4, num_key_value_heads=3), "divisible"),
    (dict(head_dim=2, num_query_heads=2, num_key_value_heads=1, dropout=1.0), "dropout"),
    (dict(head_dim=2, num_query_heads=2, num_key_value_heads=1, flash_attention=True),
     "flash attention"),
    (dict(head_dim=2, num_query_heads=2, num_key_value_heads=1, sliding_window=3),
     "sliding_window"),
    (dict(head_dim=2, num_query_heads=2, num_key_value_heads=1, use_gate=True), "use_gate"),
    (dict(head_dim=2, num_query_heads=2, num_key_value_heads=1, activity_regularizer="l2"),
     "activity_regularizer"),
])
def test_unsupported_or_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GQA(**kwargs)


def test_query_and_value_features_must_match_in_a_model():
    with pytest.raises(ValueError, match="last dimension of `query_shape` and `value_shape`"):
        GQA(2, 2, 1)(mr.Input((3, 4)), mr.Input((3, 5)))
