"""Embedding: a = W[x] and ∂L/∂W as a scatter-add, against finite differences and Keras."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import numerical_gradient, relative_error

X = np.array([[1, 3, 3, 0, 9], [3, 3, 2, 7, 1]])     # index 3 read four times, 4-6, 8 never


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def small_model(optimizer="sgd") -> mr.Sequential:
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((5,), dtype="int32"), mr.layers.Embedding(10, 4),
                           mr.layers.GlobalAveragePooling1D(), mr.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


# -- forward and backward -------------------------------------------------------------------------

def test_forward_reads_rows_and_the_gradient_matches_finite_differences(float64):
    layer = mr.layers.Embedding(10, 4)
    outputs = layer(X)
    assert outputs.shape == (2, 5, 4)
    np.testing.assert_array_equal(outputs[1, 0], layer.embeddings[3])
    upstream = np.random.default_rng(0).normal(size=outputs.shape)    # δa
    layer.zero_gradients()
    assert layer.backward(upstream) is None                        # no δx for indices
    numeric = numerical_gradient(lambda: float(np.sum(layer(X) * upstream)), layer.embeddings)
    assert relative_error(layer.embeddings_gradient, numeric) < 1e-8
    assert np.all(layer.embeddings_gradient[[4, 5, 6, 8]] == 0)     # rows never read


def test_forward_and_gradient_equal_keras(keras_env):
    keras, tf = keras_env.keras, keras_env.tf
    layer, twin = mr.layers.Embedding(10, 4), keras.layers.Embedding(10, 4)
    outputs = layer(X)
    twin.build()
    twin.set_weights(layer.get_weights())
    upstream = np.random.default_rng(1).normal(size=outputs.shape).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(twin(X) * upstream)
    keras_grad = tf.convert_to_tensor(tape.gradient(loss, twin.trainable_variables)[0])
    layer.zero_gradients()
    layer.backward(upstream)
    np.testing.assert_array_equal(outputs, np.asarray(twin(X)))
    np.testing.assert_allclose(layer.embeddings_gradient, keras_grad.numpy(), rtol=1e-6,
                               atol=1e-7)


def test_float_indices_are_cast_to_int_as_keras():
    layer = mr.layers.Embedding(10, 4)
    np.testing.assert_array_equal(layer(X.astype("float32")), layer(X))


def test_three_epochs_of_fit_equal_keras(keras_env):
    """SGD with momentum, shuffle=False: the History and the weights, to float32 rounding."""
    keras = keras_env.keras
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 10, size=(32, 5)), rng.normal(size=(32, 1)).astype("float32")
    model = small_model(mr.optimizers.SGD(0.1, momentum=0.9))
    twin = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(10, 4),
                             keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    twin.set_weights(model.get_weights())
    twin.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    ours = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"]
    theirs = twin.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-5, atol=1e-6)


# -- config and saving ----------------------------------------------------------------------------

def test_config_is_keras_config(keras_env):
    keras = keras_env.keras
    ours = mr.layers.Embedding(10, 4, embeddings_regularizer="l2", name="e").get_config()
    theirs = keras.layers.Embedding(10, 4, embeddings_regularizer="l2", name="e").get_config()
    assert json.loads(json.dumps(ours)) == json.loads(json.dumps(theirs))
    again = mr.layers.Embedding.from_config(theirs)
    assert (again.input_dim, again.output_dim) == (10, 4)


def test_a_saved_model_loads_in_keras_and_back(tmp_path, keras_env):
    keras = keras_env.keras
    mr.utils.set_random_seed(0)
    inputs = mr.Input((5,), dtype="int32")
    outputs = mr.layers.Dense(1)(mr.layers.Flatten()(mr.layers.Embedding(10, 4)(inputs)))
    model = mr.Model(inputs, outputs)
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_model.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)
    keras_model.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(back.predict(X, verbose=0), keras_model.predict(X, verbose=0),
                               rtol=1e-6)


# -- refused input --------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [10, -1])
def test_an_index_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match=rf"in \[0, input_dim=10\), got {bad}"):
        mr.layers.Embedding(10, 4)(np.array([[1, bad]]))


def test_mask_zero_gives_the_padding_mask_and_keras_only_arguments_are_refused():
    layer = mr.layers.Embedding(10, 4, mask_zero=True)
    assert layer.supports_masking and layer.get_config()["mask_zero"] is True
    np.testing.assert_array_equal(layer.compute_mask(X), X != 0)
    assert not mr.layers.Embedding(10, 4).supports_masking
    with pytest.raises(ValueError, match="quantization_config"):
        mr.layers.Embedding(10, 4, quantization_config="int8")      # (LoRA: tests/test_lora.py)
    with pytest.raises(ValueError, match="`input_dim` must be a positive int, got 0"):
        mr.layers.Embedding(0, 4)
