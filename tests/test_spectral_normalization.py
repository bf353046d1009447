"""SpectralNormalization (and the Wrapper base class) beside Keras: the power iteration, the
normalized kernel and the new ``u``, gradients against TensorFlow's tape and finite
differences, a fit, configs and saved files in both directions."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer, numerical_gradient, relative_error

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 5))
Y = RNG.normal(size=(4, 2))


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def power_iteration(kernel, u, iterations):
    """The textbook algorithm, written out: returns (new u, W/σ)."""
    w = kernel.reshape(-1, kernel.shape[-1])
    for _ in range(iterations):
        v = u @ w.T / np.linalg.norm(u @ w.T)
        u = v @ w / np.linalg.norm(v @ w)
    sigma = (v @ w @ u.T).item()
    return u, kernel / sigma


# -- the computation -------------------------------------------------------------------------

@pytest.mark.parametrize("iterations", [1, 3])
def test_training_call_divides_the_kernel_by_sigma_in_place(float64, iterations):
    layer = mr.layers.SpectralNormalization(mr.layers.Dense(3), power_iterations=iterations)
    layer.build((None, 5))
    kernel, u = layer.layer.kernel.copy(), np.array(layer.vector_u)
    same_array = layer.layer.kernel
    outputs = layer(X, training=True)
    expected_u, expected_kernel = power_iteration(kernel, u, iterations)
    assert layer.layer.kernel is same_array                    # changed in place
    # atol: values of order 1, computed in another order (a near-zero element is no
    # relative match)
    np.testing.assert_allclose(layer.layer.kernel, expected_kernel, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(layer.vector_u, expected_u, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(outputs, X @ expected_kernel + layer.layer.bias, rtol=1e-13,
                               atol=1e-14)


def test_inference_changes_nothing(float64):
    layer = mr.layers.SpectralNormalization(mr.layers.Dense(3))
    layer.build((None, 5))
    kernel, u = layer.layer.kernel.copy(), np.array(layer.vector_u)
    np.testing.assert_array_equal(layer(X), X @ kernel + layer.layer.bias)
    np.testing.assert_array_equal(layer.layer.kernel, kernel)
    np.testing.assert_array_equal(layer.vector_u, u)


def test_many_iterations_give_spectral_norm_one(float64):
    layer = mr.layers.SpectralNormalization(mr.layers.Conv2D(4, 3), power_iterations=50)
    layer.build((None, 6, 6, 2))
    # singular values 3, 1.5, 1, 0.5: the power iteration's error shrinks like 0.5^(2·50)
    left, _ = np.linalg.qr(RNG.normal(size=(18, 4)))
    right, _ = np.linalg.qr(RNG.normal(size=(4, 4)))
    layer.layer.kernel[...] = (left * [3.0, 1.5, 1.0, 0.5] @ right.T).reshape(3, 3, 2, 4)
    layer(RNG.normal(size=(2, 6, 6, 2)), training=True)
    matrix = layer.layer.kernel.reshape(-1, 4)
    assert np.linalg.norm(matrix, 2) == pytest.approx(1.0, rel=1e-10)


def test_a_kernel_of_zeros_is_left_alone(float64):
    layer = mr.layers.SpectralNormalization(mr.layers.Dense(3, kernel_initializer="zeros"))
    layer.build((None, 5))
    u = np.array(layer.vector_u)
    layer(X, training=True)
    np.testing.assert_array_equal(layer.layer.kernel, 0.0)
    np.testing.assert_array_equal(layer.vector_u, u)


def test_weights_are_in_keras_order(float64):
    layer = mr.layers.SpectralNormalization(mr.layers.Dense(3))
    layer.build((None, 5))
    assert [w.shape for w in layer.weights] == [(5, 3), (1, 3), (3,)]
    assert layer.weights[0] is layer.layer.kernel and layer.weights[1] is layer.vector_u
    assert [w.shape for w in layer.trainable_weights] == [(5, 3), (3,)]
    assert [w.shape for w in layer.non_trainable_weights] == [(1, 3)]
    assert np.all(np.abs(layer.vector_u) <= 0.04)         # TruncatedNormal(stddev=0.02)


def test_float32_stays_float32():
    layer = mr.layers.SpectralNormalization(mr.layers.Dense(3))
    outputs = layer(X.astype("float32"), training=True)
    assert outputs.dtype == np.float32 and layer.vector_u.dtype == np.float32
    assert layer.layer.kernel.dtype == np.float32


# -- gradients ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: mr.layers.Dense(3, activation="tanh"),
                                  lambda: mr.layers.Conv1D(2, 2, padding="same")])
def test_gradient_check_in_float64_inference(float64, make):
    layer = mr.layers.SpectralNormalization(make())
    x = RNG.normal(size=(3, 4, 5)) if isinstance(layer.layer, mr.layers.Conv1D) else X
    results = check_layer(layer, x)
    assert max(r.relative_error for r in results) < 1e-7, [str(r) for r in results]


def test_training_gradient_is_the_wrapped_layers_at_the_normalized_kernel(float64):
    """Keras' gradient in training: ∂L/∂W at the kernel W/σ it assigned (nothing through σ);
    checked by finite differences of the wrapped layer at that kernel."""
    layer = mr.layers.SpectralNormalization(mr.layers.Dense(3, activation="tanh"))
    upstream = RNG.normal(size=(4, 3))
    layer(X, training=True)                        # first step: u moves towards the top vector
    layer.zero_gradients()
    layer.forward(X, training=True)
    grad_x = layer.backward(upstream)
    kernel_gradient = layer.gradients[0].copy()
    inner = layer.layer                            # now holding W/σ

    def f():
        return float(np.sum(inner.forward(X) * upstream))

    x = X.copy()
    numeric_x = numerical_gradient(lambda: float(np.sum(inner.forward(x) * upstream)), x)
    assert relative_error(kernel_gradient, numerical_gradient(f, inner.kernel)) < 1e-7
    assert relative_error(grad_x, numeric_x) < 1e-7
    assert not np.any(layer.gradients[1])         # vector_u: no gradient


# -- against Keras -----------------------------------------------------------------------------

def twins(keras_env, make, input_shape, seed=0):
    """A minired SpectralNormalization and Keras' with the same weights (kernel, u, bias)."""
    keras = keras_env.keras
    ours = mr.layers.SpectralNormalization(make(mr.layers), power_iterations=2)
    theirs = keras.layers.SpectralNormalization(make(keras.layers), power_iterations=2)
    ours.build((None, *input_shape))
    theirs.build((None, *input_shape))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype(w.dtype) for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


LAYERS = [(lambda layers: layers.Dense(3, activation="tanh"), (5,)),
          (lambda layers: layers.Conv2D(2, 2, padding="same"), (4, 3, 2))]


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-13), ("float32", 1e-5)])
@pytest.mark.parametrize("make, shape", LAYERS)
def test_training_step_matches_keras(keras_env, make, shape, dtype, rtol):
    # float32: TensorFlow's matmul, convolution and rsqrt round differently from NumPy's.
    tf = keras_env.tf
    with keras_env.precision(dtype):
        ours, theirs = twins(keras_env, make, shape)
        x = RNG.normal(size=(3, *shape)).astype(dtype)
        upstream = RNG.normal(size=ours.compute_output_shape((3, *shape))).astype(dtype)
        ours.zero_gradients()
        outputs = ours.forward(x, training=True)
        grad_x = ours.backward(upstream)
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            total = tf.reduce_sum(theirs(tensor, training=True) * upstream)
        expected = tape.gradient(total, [tensor, *theirs.trainable_weights])
    np.testing.assert_allclose(outputs, theirs(x).numpy(), rtol=rtol, atol=rtol)
    for mine, keras_weight in zip(ours.weights, theirs.weights, strict=True):   # W/σ, u, b
        np.testing.assert_allclose(mine, keras_weight.numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(grad_x, expected[0].numpy(), rtol=rtol, atol=rtol)
    for mine, keras_grad in zip(ours.trainable_gradients, expected[1:], strict=True):
        np.testing.assert_allclose(mine, keras_grad.numpy(), rtol=rtol, atol=rtol)


def test_embedding_matches_keras(keras_env):
    """The embeddings normalized as in Keras. Keras then casts the outputs to the inputs'
    dtype (``ops.cast(output, inputs.dtype)``), integers for an Embedding, so its outputs
    are truncated to ints; minired keeps the float vectors (a deliberate difference)."""
    with keras_env.precision("float64"):
        ours, theirs = twins(keras_env, lambda layers: layers.Embedding(6, 3), (2,))
        ids = np.array([[1, 4], [0, 5]])
        outputs = ours(ids, training=True)
        keras_outputs = theirs(ids, training=True).numpy()
    assert keras_outputs.dtype == np.int64 and outputs.dtype == np.float64
    np.testing.assert_allclose(outputs, theirs.layer.embeddings.numpy()[ids], rtol=1e-13)
    for mine, keras_weight in zip(ours.weights, theirs.weights, strict=True):
        np.testing.assert_allclose(mine, keras_weight.numpy(), rtol=1e-13, atol=1e-15)


def sn_model(lib):
    """The wrapped Dense has an L2 penalty: computed on the normalized kernel, as in Keras."""
    dense = lib.layers.Dense(4, activation="tanh", kernel_regularizer=lib.regularizers.L2(0.05))
    return lib.Sequential([lib.Input((5,)), lib.layers.SpectralNormalization(dense),
                           lib.layers.Dense(2)])


def test_fit_matches_keras(keras_env):
    keras = keras_env.keras
    with keras_env.precision("float64"):
        model, twin = sn_model(mr), sn_model(keras)
        model.set_weights(twin.get_weights())
        model.compile(mr.optimizers.SGD(0.1), "mse")
        twin.compile(keras.optimizers.SGD(0.1), "mse")
        ours = model.fit(X, Y, epochs=3, batch_size=2, shuffle=False, verbose=0)
        theirs = twin.fit(X, Y, epochs=3, batch_size=2, shuffle=False, verbose=0)
        np.testing.assert_allclose(model.predict(X, verbose=0), twin.predict(X, verbose=0),
                                   rtol=1e-12)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-12, atol=1e-14)


def test_cross_entropy_reads_the_wrapped_logits_as_keras(keras_env):
    """Keras' cross-entropy reads the logits of a softmax inside the wrapper (no clipping of
    p): with saturated outputs the clipped loss would differ by far."""
    keras = keras_env.keras

    def model_of(lib):
        return lib.Sequential([lib.Input((5,)), lib.layers.SpectralNormalization(
            lib.layers.Dense(3, activation="softmax"))])

    x = np.random.default_rng(1).normal(size=(6, 5)) * 30
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    with keras_env.precision("float64"):
        model, twin = model_of(mr), model_of(keras)
        model.set_weights(twin.get_weights())
        model.compile(mr.optimizers.SGD(0.1), "categorical_crossentropy")
        twin.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
        ours = model.fit(x, y, epochs=3, batch_size=3, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-12, atol=1e-13)


def test_config_equals_keras(keras_env):
    keras = keras_env.keras
    ours = mr.layers.SpectralNormalization(mr.layers.Dense(3, name="d"), power_iterations=2,
                                           name="sn").get_config()
    theirs = keras.layers.SpectralNormalization(keras.layers.Dense(3, name="d"),
                                                power_iterations=2, name="sn").get_config()
    assert ours == theirs
    again = mr.layers.SpectralNormalization.from_config(theirs)
    assert again.get_config() == ours and isinstance(again.layer, mr.layers.Dense)


def test_saved_models_cross_load_with_keras(keras_env, tmp_path):
    keras = keras_env.keras
    x = X.astype("float32")
    model = sn_model(mr)
    model.layers[0](x, training=True)              # u and the kernel moved off their draws
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    for w, k in zip(model.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(w, k)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    back = mr.saving.load_model(tmp_path / "ours.keras")
    for w, k in zip(model.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(w, k)

    keras_model = sn_model(keras)
    keras_model.layers[0](x, training=True)
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    # (through JSON: minired's serialize_keras_object writes the inner build_config's shape
    # as a list, Keras keeps the tuple until the file is written)
    assert (json.loads(json.dumps(loaded.layers[0].get_config()))
            == json.loads(json.dumps(keras_model.layers[0].get_config())))
    for w, k in zip(loaded.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(w, k)
    loaded.layers[0](x, training=True)             # one more step in each: still the same u
    keras_model.layers[0](x, training=True)
    np.testing.assert_allclose(loaded.layers[0].vector_u,
                               keras_model.layers[0].vector_u.numpy(), rtol=1e-5)


# -- errors and the Wrapper base class ---------------------------------------------------------

def test_errors_as_keras():
    with pytest.raises(ValueError, match=r"Received: `power_iterations=0`"):
        mr.layers.SpectralNormalization(mr.layers.Dense(2), power_iterations=0)
    with pytest.raises(TypeError, match="`power_iterations` must be an int"):
        mr.layers.SpectralNormalization(mr.layers.Dense(2), power_iterations=1.5)
    with pytest.raises(ValueError, match="Activation object has no attribute 'kernel' nor "
                                         "'embeddings'"):
        mr.layers.SpectralNormalization(mr.layers.Activation("relu"))(X)
    with pytest.raises(ValueError, match="supplied to Wrapper isn't a supported layer type"):
        mr.layers.SpectralNormalization("dense")
    with pytest.raises(NotImplementedError):
        mr.layers.Wrapper(mr.layers.Dense(2))(X)


def test_a_wrapper_of_yours_trains(float64):
    class Scaled(mr.layers.Wrapper):
        def call(self, inputs):
            return 0.5 * self.layer(inputs)

    layer = Scaled(mr.layers.Dense(2, activation="tanh"))
    results = check_layer(layer, X)
    assert max(r.relative_error for r in results) < 1e-7
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense"
    assert type(Scaled.from_config(config).layer) is mr.layers.Dense
