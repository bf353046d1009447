"""ReversibleEmbedding (Keras' ``keras.layers.ReversibleEmbedding``): the reverse call's
gradients by finite differences in float64, outputs and gradients against Keras
(TensorFlow's tape), a language model fitted as in Keras, configs and ``.keras`` files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minired as mr
from minired.autodiff.layer_calls import CallArguments
from minired.gradcheck import check_model, numerical_gradient, relative_error

RE = mr.layers.ReversibleEmbedding


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


# -- the layer's own math ---------------------------------------------------------------------

def test_forward_is_embedding_and_reverse_is_the_transposed_table():
    layer = RE(6, 3)
    ids = np.array([[1, 5, 0]])
    np.testing.assert_array_equal(layer(ids), layer.embeddings[ids])
    h = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    logits = layer(h, reverse=True)
    assert logits.shape == (2, 6) and logits.dtype == np.float32
    np.testing.assert_allclose(logits, h @ layer.embeddings.T, rtol=1e-6)
    assert len(layer.weights) == 1                                # tied: W only


def test_untied_weights_and_soft_cap():
    layer = RE(5, 4, tie_weights=False, logit_soft_cap=0.5)
    layer(np.array([[1]]))
    assert [w.shape for w in layer.weights] == [(5, 4), (4, 5)]
    h = np.random.default_rng(1).normal(size=(3, 4)).astype("float32") * 10
    logits = layer(h, reverse=True)
    np.testing.assert_allclose(logits, 0.5 * np.tanh(h @ layer.reverse_embeddings / 0.5),
                               rtol=1e-6)
    assert np.abs(logits).max() <= 0.5


@pytest.mark.parametrize("kwargs", [{}, {"tie_weights": False},
                                    {"logit_soft_cap": 1.5},
                                    {"tie_weights": False, "logit_soft_cap": 0.7}])
def test_reverse_gradients_match_finite_differences(float64, kwargs):
    rng = np.random.default_rng(2)
    layer = RE(6, 4, **kwargs)
    h = rng.normal(size=(2, 3, 4))
    layer(h, reverse=True)
    for w in layer.weights:
        w[...] = rng.normal(size=w.shape)
    upstream = rng.normal(size=(2, 3, 6))

    def f():
        return float(np.sum(layer(h, reverse=True) * upstream))

    layer(h, reverse=True)
    layer.zero_gradients()
    grad_h = layer.backward(upstream)
    assert relative_error(grad_h, numerical_gradient(f, h)) < 1e-8
    for w, g in zip(layer.weights, [np.array(g) for g in layer.gradients], strict=True):
        numeric = numerical_gradient(f, w)
        if not kwargs.get("tie_weights", True) and w is layer.embeddings:
            assert not np.any(g) and not np.any(numeric)      # untied: W is not read
            continue
        assert relative_error(g, numeric) < 1e-8


def language_model(library, tie_weights: bool = True, mask_zero: bool = False):
    ids = library.Input((5,), dtype="int32")
    table = library.layers.ReversibleEmbedding(8, 4, tie_weights=tie_weights,
                                               mask_zero=mask_zero, logit_soft_cap=3.0,
                                               name="table")
    hidden = library.layers.Dense(4, activation="tanh")(table(ids))
    return library.Model(ids, table(hidden, reverse=True))


def test_a_model_embedding_and_unembedding_with_one_table_differentiates(float64):
    x = np.random.default_rng(3).integers(0, 8, size=(4, 5))
    for tie_weights in (True, False):
        model = language_model(mr, tie_weights)
        model.compile("sgd", mr.losses.SparseCategoricalCrossentropy(from_logits=True))
        # h = 1e-4: with check_model's default 1e-6 the rounding of the mean loss dominates
        # (the Dense kernel's error falls from 3e-6 to 3e-8 as h grows from 1e-6 to 1e-4)
        results = check_model(model, x, np.roll(x, 1, axis=1), h=1e-4)
        assert max(r.relative_error for r in results) < 1e-7


def test_the_forward_call_gives_the_mask_and_the_reverse_call_none():
    layer = RE(5, 2, mask_zero=True)
    ids = np.array([[3, 0]])
    np.testing.assert_array_equal(layer.compute_mask(ids), [[True, False]])
    layer(ids)
    assert layer.compute_mask(CallArguments((np.ones((1, 2, 2)),), {"reverse": True})) is None


# -- against Keras ----------------------------------------------------------------------------

def test_forward_and_gradients_equal_keras_in_float64(keras_env):
    from comparisons import attention_more

    for label, ours, theirs in attention_more.reversible_embedding("float64").pairs:
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13, err_msg=label)


@pytest.mark.parametrize(("tie_weights", "mask_zero"), [(True, False), (False, False),
                                                      (True, True)])
def test_a_language_model_trains_as_in_keras(keras_env, tmp_path, tie_weights, mask_zero):
    """With ``mask_zero`` the padded positions are masked after the embedding but the
    reverse call gives no mask: the loss counts every position, as Keras'."""
    keras = keras_env.keras
    x = np.random.default_rng(4).integers(0, 8, size=(8, 5))
    y = np.roll(x, 1, axis=1)
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model = language_model(mr, tie_weights, mask_zero)
        model.compile(mr.optimizers.SGD(0.5),
                      mr.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.save(tmp_path / "m.keras")
        twin = keras.saving.load_model(tmp_path / "m.keras")
        ours = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-10)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"input_dim": 7, "output_dim": 3},
    {"input_dim": 7, "output_dim": 3, "tie_weights": False, "reverse_dtype": "float32",
     "logit_soft_cap": 2.5, "mask_zero": True, "embeddings_regularizer": "l2"}])
def test_config_equals_keras(keras_env, kwargs):
    keras = keras_env.keras
    ours = RE(name="table", **kwargs).get_config()
    theirs = keras.layers.ReversibleEmbedding(name="table", **kwargs).get_config()
    assert ours == theirs
    assert RE.from_config(json.loads(json.dumps(theirs))).get_config() == ours


@pytest.mark.parametrize("tie_weights", [True, False])
def test_saved_models_cross_load_with_keras(keras_env, tmp_path, tie_weights):
    keras = keras_env.keras
    x = np.random.default_rng(5).integers(0, 8, size=(3, 5))
    mr.utils.set_random_seed(1)
    model = language_model(mr, tie_weights)
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)     # float32
    keras_model = language_model(keras, tie_weights)
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    assert loaded.get_layer("table").get_config() == keras_model.get_layer("table").get_config()
    for ours, k in zip(loaded.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, k)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# -- refused input ----------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: RE(5, 2, tie_weights="yes"), TypeError, "tie_weights"),
    (lambda: RE(5, 2, reverse_dtype="int32"), ValueError, "reverse_dtype"),
    (lambda: RE(5, 2, logit_soft_cap=0.0), ValueError, "logit_soft_cap"),
    (lambda: RE(5, 0), ValueError, "output_dim"),
    (lambda: RE(5, 2)(np.ones((2, 3)), reverse=True), ValueError, "output_dim=2"),
    (lambda: RE(5, 2)(np.ones((2, 2)), reverse=1), TypeError, "`reverse` must be a bool"),
])
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()
