"""RepeatVector, Permute, Cropping1D, Cropping2D, UpSampling1D and ZeroPadding1D beside Keras:
gradients, values, configs, saved files, and the errors for bad arguments and inputs."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer

# (class name, constructor arguments, shape of one sample)
CASES = [
    ("RepeatVector", {"n": 3}, (4,)),
    ("Permute", {"dims": (2, 1)}, (5, 3)),
    ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4)),
    ("Cropping1D", {}, (6, 2)),
    ("Cropping1D", {"cropping": (2, 0)}, (6, 2)),
    ("Cropping2D", {"cropping": 1}, (5, 4, 2)),
    ("Cropping2D", {"cropping": ((1, 0), (2, 1))}, (5, 6, 2)),
    ("Cropping2D", {"cropping": ((0, 2), 1)}, (5, 6, 2)),
    ("UpSampling1D", {}, (4, 3)),
    ("UpSampling1D", {"size": 3}, (4, 3)),
    ("ZeroPadding1D", {}, (4, 3)),
    ("ZeroPadding1D", {"padding": (0, 3)}, (4, 3)),
]
IDS = [f"{name}-{kwargs}" for name, kwargs, _ in CASES]


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def data(shape: tuple, seed: int = 0, batch: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, *shape))


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_gradients_match_finite_differences(float64, name, kwargs, shape):
    results = check_layer(getattr(mr.layers, name)(**kwargs), data(shape))
    assert max(r.relative_error for r in results) < 1e-7


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_outputs_and_gradients_equal_keras(keras_env, name, kwargs, shape):
    keras, tf = keras_env.keras, keras_env.tf
    x = data(shape)
    with keras_env.precision("float64"):
        layer = getattr(mr.layers, name)(**kwargs)
        out = layer(x)
        upstream = np.random.default_rng(1).normal(size=out.shape)
        grad = layer.backward(upstream)
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            k_out = getattr(keras.layers, name)(**kwargs)(tensor)
            total = tf.reduce_sum(k_out * upstream)
        k_grad = tape.gradient(total, tensor).numpy()
    assert out.dtype == np.float64 and out.shape == tuple(k_out.shape)
    # Copies, sums of at most `size` terms in the same order: equal to the last bit.
    np.testing.assert_array_equal(out, k_out.numpy())
    np.testing.assert_allclose(grad, k_grad, rtol=1e-12, atol=0)


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_float32_stays_float32_and_output_shape_is_keras(keras_env, name, kwargs, shape):
    keras = keras_env.keras
    layer = getattr(mr.layers, name)(**kwargs)
    out = layer(data(shape).astype("float32"))
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    for batch_shape in ((None, *shape), (2, *shape)):
        theirs = getattr(keras.layers, name)(**kwargs).compute_output_shape(batch_shape)
        assert layer.compute_output_shape(batch_shape) == tuple(theirs)
    assert mr.Sequential([mr.Input(shape), layer]).output_shape == (None, *out.shape[1:])


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_config_equals_keras(keras_env, name, kwargs, shape):
    keras = keras_env.keras
    ours = getattr(mr.layers, name)(name="layer", **kwargs)
    theirs = getattr(keras.layers, name)(name="layer", **kwargs)
    assert ours.get_config() == theirs.get_config()
    again = getattr(mr.layers, name).from_config(theirs.get_config())
    assert again.get_config() == ours.get_config()


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_saved_models_cross_load_with_keras(keras_env, tmp_path, name, kwargs, shape):
    keras = keras_env.keras
    x = data(shape, batch=3).astype("float32")
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input(shape), getattr(mr.layers, name)(**kwargs),
                           mr.layers.Flatten(), mr.layers.Dense(2)])
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert type(theirs.layers[0]).__name__ == name
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)

    keras_model = keras.Sequential([keras.Input(shape), getattr(keras.layers, name)(**kwargs),
                                    keras.layers.Flatten(), keras.layers.Dense(2)])
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    assert loaded.layers[0].get_config() == keras_model.layers[0].get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


# -- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: mr.layers.RepeatVector(2.0), TypeError, "integer value for `n`"),
    (lambda: mr.layers.RepeatVector(0), ValueError, "positive integer"),
    (lambda: mr.layers.Permute((1, 3)), ValueError, "consecutive and start from 1"),
    (lambda: mr.layers.Permute((0, 1)), ValueError, "consecutive and start from 1"),
    (lambda: mr.layers.Permute(2), TypeError, "`dims` must be a tuple"),
    (lambda: mr.layers.Cropping1D(-1), ValueError, "`cropping` must be an int >= 0"),
    (lambda: mr.layers.Cropping1D((1, 2, 3)), ValueError, "tuple of 2 ints"),
    (lambda: mr.layers.Cropping2D((1, 2, 3)), ValueError, "`cropping` should be either"),
    (lambda: mr.layers.Cropping2D(((1, -1), 0)), ValueError, "1st entry of cropping"),
    (lambda: mr.layers.Cropping2D(1, data_format="channels_first"), ValueError,
     "channels_last"),
    (lambda: mr.layers.UpSampling1D(1.5), TypeError, "integer value for `size`"),
    (lambda: mr.layers.UpSampling1D(0), ValueError, "positive integer"),
    (lambda: mr.layers.ZeroPadding1D("same"), ValueError, "`padding` must be an int >= 0"),
    (lambda: mr.layers.ZeroPadding1D(1, data_format="channels_first"), ValueError,
     "channels_last"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(("layer", "shape", "message"), [
    (lambda: mr.layers.RepeatVector(2), (3, 4), "expected ndim=2, found ndim=3"),
    (lambda: mr.layers.Permute((2, 1)), (3,), "expected ndim=3, found ndim=2"),
    (lambda: mr.layers.Cropping1D(), (3,), "expected ndim=3, found ndim=2"),
    (lambda: mr.layers.Cropping1D((2, 1)), (3, 2), "must be smaller than the input length"),
    (lambda: mr.layers.Cropping2D(((1, 1), 0)), (2, 4, 1), "should be smaller than"),
    (lambda: mr.layers.Cropping2D(1), (4, 4), "expected ndim=4, found ndim=3"),
    (lambda: mr.layers.UpSampling1D(), (4,), "expected ndim=3, found ndim=2"),
    (lambda: mr.layers.ZeroPadding1D(), (4, 2, 1), "expected ndim=3, found ndim=4"),
])
def test_bad_inputs_are_refused_symbolically_and_eagerly(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer()(mr.Input(shape))
    with pytest.raises(ValueError, match=message):
        layer()(np.zeros((2, *shape), dtype="float32"))


def test_a_built_layer_refuses_a_shorter_sequence_than_its_cropping():
    layer = mr.layers.Cropping1D((2, 2))
    layer(np.zeros((1, 6, 1), dtype="float32"))
    with pytest.raises(ValueError, match="must be smaller than the input length"):
        layer(np.zeros((1, 4, 1), dtype="float32"))
