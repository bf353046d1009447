"""Reshaping layers (Reshape, ZeroPadding2D, UpSampling2D) and SpatialDropout2D.

None of them computes anything new: they move, add, repeat or silence values. So first the
values by hand, then shapes, configs, models and errors, then property-based gradient checks
(float64, every array to ``TOLERANCE``), and last Keras and TensorFlow on the same arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import STEP, arrays, gradient_settings, seeds
from test_gradients import assert_gradients_match
from test_pooling import keras_outputs_and_gradients

import minired as mr
from minired.gradcheck import check_layer
from minired.layers.reshaping import Reshape, UpSampling2D, ZeroPadding2D
from minired.layers.spatial_dropout import SpatialDropout2D

LAYERS = {"Reshape": Reshape, "ZeroPadding2D": ZeroPadding2D, "UpSampling2D": UpSampling2D,
          "SpatialDropout2D": SpatialDropout2D}


def run(layer, x: np.ndarray, grad_outputs: np.ndarray, training: bool = False):
    mr.config.set_floatx("float64")
    outputs = layer(x, training=training)
    return outputs, layer.backward(grad_outputs)


# -- values by hand ---------------------------------------------------------------------------

def test_reshape_moves_values_in_row_major_order_and_back():
    x = np.arange(12.0).reshape(2, 6)
    out, grads = run(Reshape((3, -1)), x, np.arange(12.0).reshape(2, 3, 2) * 10)
    np.testing.assert_array_equal(out[1], [[6, 7], [8, 9], [10, 11]])
    np.testing.assert_array_equal(grads, x * 10)


def test_zero_padding_adds_a_border_and_drops_its_gradient():
    x = np.ones((1, 1, 2, 1))
    up = np.arange(12.0).reshape(1, 3, 4, 1)                  # padding ((1, 1), (2, 0))
    out, grads = run(ZeroPadding2D(((1, 1), (2, 0))), x, up)
    np.testing.assert_array_equal(out[0, :, :, 0], [[0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(grads[0, :, :, 0], [[6, 7]])


@pytest.mark.parametrize(("padding", "expected"), [
    (2, ((2, 2), (2, 2))),
    ((1, 3), ((1, 1), (3, 3))),
    (((0, 1), (2, 3)), ((0, 1), (2, 3))),
    ([[0, 1], [2, 3]], ((0, 1), (2, 3))),
])
def test_zero_padding_takes_keras_three_forms(padding, expected):
    assert ZeroPadding2D(padding).padding == expected


def test_up_sampling_repeats_and_its_backward_sums_each_block():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None]
    up = np.arange(24.0).reshape(1, 4, 6, 1)                  # size (2, 3)
    out, grads = run(UpSampling2D((2, 3)), x, up)
    np.testing.assert_array_equal(out[0, :, :, 0], [[1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2],
                                                    [3, 3, 3, 4, 4, 4], [3, 3, 3, 4, 4, 4]])
    blocks = up[0, :, :, 0].reshape(2, 2, 2, 3).sum(axis=(1, 3))
    np.testing.assert_array_equal(grads[0, :, :, 0], blocks)


def test_spatial_dropout_drops_whole_channels_and_scales_the_rest():
    layer = SpatialDropout2D(0.5, seed=3)
    x = np.random.default_rng(0).uniform(1, 2, size=(4, 3, 3, 8))
    up = np.ones_like(x)
    out, grads = run(layer, x, up, training=True)
    mask = layer.mask
    assert mask.shape == (4, 1, 1, 8) and 0 < mask.sum() < mask.size
    np.testing.assert_array_equal(out, x * 2.0 * mask)
    np.testing.assert_array_equal(grads, up * 2.0 * mask)
    kept_per_map = (out != 0).sum(axis=(1, 2))                    # 0 or 9 per (n, c)
    assert set(np.unique(kept_per_map)) == {0, 9}


def test_spatial_dropout_is_the_identity_at_inference():
    layer = SpatialDropout2D(0.5, seed=0)
    x = np.ones((2, 3, 3, 4), "float32")
    assert layer(x) is x and layer.mask is None
    assert layer.passes_logits_through(training=False)
    assert not layer.passes_logits_through(training=True)


def test_spatial_dropout_with_the_same_seed_draws_the_same_masks():
    x = np.ones((2, 3, 3, 4), "float32")
    a, b = SpatialDropout2D(0.5, seed=7), SpatialDropout2D(0.5, seed=7)
    np.testing.assert_array_equal(a(x, training=True), b(x, training=True))


# -- shapes, configs, models --------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "input_shape", "expected"), [
    (Reshape((-1, 2)), (None, 8, 8, 3), (None, 96, 2)),
    (Reshape((4, -1)), (None, None, 3), (None, 4, None)),
    (Reshape((2, 3)), (None, 6), (None, 2, 3)),
    (ZeroPadding2D(), (None, 8, 8, 3), (None, 10, 10, 3)),
    (ZeroPadding2D(((1, 2), (0, 3))), (None, 8, None, 3), (None, 11, None, 3)),
    (UpSampling2D((2, 3)), (None, 8, 8, 3), (None, 16, 24, 3)),
    (SpatialDropout2D(0.2), (None, 8, 8, 3), (None, 8, 8, 3)),
])
def test_output_shapes(layer, input_shape, expected):
    assert layer.compute_output_shape(input_shape) == expected


CONFIG_CASES = [
    ("Reshape", {"target_shape": (-1, 2)}),
    ("Reshape", {"target_shape": [4, 4, 12]}),
    ("ZeroPadding2D", {}),
    ("ZeroPadding2D", {"padding": 2}),
    ("ZeroPadding2D", {"padding": ((1, 2), (3, 4))}),
    ("UpSampling2D", {}),
    ("UpSampling2D", {"size": 3, "interpolation": "NEAREST"}),
    ("SpatialDropout2D", {"rate": 0.3}),
    ("SpatialDropout2D", {"rate": 0.5, "seed": 42}),
]


@pytest.mark.parametrize(("name", "kwargs"), CONFIG_CASES)
def test_get_config_equals_keras(name, kwargs):
    pytest.importorskip("keras")
    from comparisons.keras_env import keras

    ours = LAYERS[name](name="layer", **kwargs).get_config()
    assert ours == getattr(keras.layers, name)(name="layer", **kwargs).get_config()
    assert LAYERS[name].from_config(ours).get_config() == ours


@pytest.mark.parametrize(("layer_class", "args"), [
    (Reshape, {"target_shape": (16, 12)}), (ZeroPadding2D, {}), (UpSampling2D, {}),
    (SpatialDropout2D, {"rate": 0.5, "seed": 0}),
])
def test_works_in_sequential_and_functional_models(layer_class, args):
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype("float32")
    model = mr.Sequential([mr.Input((8, 8, 3)), layer_class(**args), mr.layers.Flatten(),
                           mr.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (4, 2)

    inputs = mr.Input((8, 8, 3))
    outputs = layer_class(**args)(inputs)
    functional = mr.Model(inputs, outputs)
    assert functional.predict(x, verbose=0).shape == (4, *outputs.shape[1:])


# -- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", [ZeroPadding2D(), UpSampling2D(), SpatialDropout2D(0.5)])
def test_wrong_rank_inputs_are_refused(layer):
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        layer(np.zeros((2, 4, 4), "float32"))


def test_reshape_refuses_sizes_that_do_not_fit():
    with pytest.raises(ValueError, match=r"size of a sample must be unchanged.*\(4, 4\) hold 16"):
        Reshape((3, 5))(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="cannot hold them"):
        Reshape((3, -1))(mr.Input((4, 4)))


@pytest.mark.parametrize(("target_shape", "message"), [
    ((-1, -1), "at most one unknown dimension"),
    ((2, -3), "non-negative integer, or -1"),
    ((2, 1.5), "non-negative integer, or -1"),
    (7, "must be a tuple of ints"),
])
def test_reshape_refuses_bad_target_shapes(target_shape, message):
    with pytest.raises(ValueError, match=message):
        Reshape(target_shape)


@pytest.mark.parametrize("padding", [-1, (1, 2, 3), ((1, 2), 3), ((1, 2, 3), (1, 2)), "1", 1.5])
def test_zero_padding_refuses_bad_padding(padding):
    with pytest.raises(ValueError, match=r"`padding` must be a non-negative int, a tuple of 2"):
        ZeroPadding2D(padding)


@pytest.mark.parametrize(("interpolation", "message"), [
    ("bilinear", "a Keras option that minired does not implement"), ("cubic", "unknown"),
])
def test_up_sampling_supports_nearest_only(interpolation, message):
    with pytest.raises(ValueError, match=f"{message}.*interpolation='nearest' only"):
        UpSampling2D(interpolation=interpolation)


@pytest.mark.parametrize("size", [0, (2, 0), (2, 2, 2), 1.5])
def test_up_sampling_refuses_bad_sizes(size):
    with pytest.raises(ValueError, match=r"`size` must be a positive int or a tuple of 2"):
        UpSampling2D(size)


@pytest.mark.parametrize("layer_class", [ZeroPadding2D, UpSampling2D])
def test_channels_first_is_refused(layer_class):
    with pytest.raises(ValueError, match="channels_last' only"):
        layer_class(data_format="channels_first")
    with pytest.raises(ValueError, match="channels_last' only"):
        SpatialDropout2D(0.5, data_format="channels_first")


def test_spatial_dropout_refuses_a_bad_rate():
    with pytest.raises(ValueError, match=r"`rate` must be a float in \[0, 1\)"):
        SpatialDropout2D(1.5)


# -- gradient checks ----------------------------------------------------------------------------

image_shapes = st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 4),
                         st.integers(1, 3))


@gradient_settings
@given(shape=image_shapes, data=st.data())
def test_reshape_gradients(float64, shape, data):
    x = data.draw(arrays(shape))
    target = data.draw(st.sampled_from([(-1,), (shape[3], -1), (shape[1] * shape[2], shape[3])]))
    assert_gradients_match(check_layer(Reshape(target), x, h=STEP))


@gradient_settings
@given(shape=image_shapes, padding=st.tuples(*[st.tuples(*[st.integers(0, 2)] * 2)] * 2),
       data=st.data())
def test_zero_padding_gradients(float64, shape, padding, data):
    assert_gradients_match(check_layer(ZeroPadding2D(padding), data.draw(arrays(shape)),
                                       h=STEP))


@gradient_settings
@given(shape=image_shapes, size=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       data=st.data())
def test_up_sampling_gradients(float64, shape, size, data):
    assert_gradients_match(check_layer(UpSampling2D(size), data.draw(arrays(shape)), h=STEP))


@gradient_settings
@given(shape=image_shapes, rate=st.floats(0.0, 0.9), seed=seeds, training=st.booleans(),
       data=st.data())
def test_spatial_dropout_gradients(float64, shape, rate, seed, training, data):
    layer = SpatialDropout2D(rate, seed=seed)
    assert_gradients_match(check_layer(layer, data.draw(arrays(shape)), training=training,
                                       h=STEP))


# -- against Keras and TensorFlow ---------------------------------------------------------------

#: Every case is bit-identical to Keras (measured with TensorFlow 2.21, both precisions):
#: these layers only move, copy and sum values, and UpSampling2D's backward sums each block
#: in TensorFlow's order (columns, then rows).

KERAS_CASES = [
    ("Reshape", {"target_shape": (-1, 2)}, (3, 4, 5, 2)),
    ("Reshape", {"target_shape": (5, 8)}, (3, 4, 5, 2)),
    ("ZeroPadding2D", {}, (2, 4, 5, 3)),
    ("ZeroPadding2D", {"padding": (2, 0)}, (2, 4, 5, 3)),
    ("ZeroPadding2D", {"padding": ((0, 1), (3, 2))}, (2, 4, 5, 3)),
    ("UpSampling2D", {}, (2, 3, 4, 3)),
    ("UpSampling2D", {"size": (3, 1)}, (2, 3, 4, 3)),
    ("UpSampling2D", {"size": 3}, (2, 3, 4, 3)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "kwargs", "shape"), KERAS_CASES)
def test_matches_keras(name, kwargs, shape, dtype):
    pytest.importorskip("keras")
    from comparisons.keras_env import precision

    rng = np.random.default_rng(0)
    with precision(dtype):
        x = rng.normal(size=shape).astype(dtype)
        layer = LAYERS[name](**kwargs)
        outputs = layer(x)
        upstream = rng.normal(size=outputs.shape).astype(dtype)
        grads = layer.backward(upstream)
        keras_out, keras_grads = keras_outputs_and_gradients(name, kwargs, x, upstream)
    assert outputs.shape == keras_out.shape and outputs.dtype == dtype
    assert grads.shape == x.shape and grads.dtype == dtype
    np.testing.assert_array_equal(outputs, keras_out)
    np.testing.assert_array_equal(grads, keras_grads)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_spatial_dropout_computes_as_keras(dtype):
    """Keras' masks come from TensorFlow's generator, which NumPy cannot replay, so compare
    the arithmetic: Keras' output keeps or zeroes whole channels, and the kept ones are
    ``x · (1/(1-rate) in the dtype)``, exactly what minired computes with its own mask."""
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision, tf

    rate = 0.3
    x = np.random.default_rng(1).uniform(1, 2, size=(6, 3, 4, 5)).astype(dtype)
    with precision(dtype):
        keras_out = keras.layers.SpatialDropout2D(rate, seed=0)(tf.constant(x),
                                                                training=True).numpy()
        ours = SpatialDropout2D(rate, seed=0)
        out = ours(x, training=True)
    keras_mask = (keras_out != 0).all(axis=(1, 2), keepdims=True)
    assert np.array_equal(keras_mask, (keras_out != 0).any(axis=(1, 2), keepdims=True))
    scale = np.dtype(dtype).type(1 / (1 - rate))
    np.testing.assert_array_equal(keras_out, np.where(keras_mask, x * scale, 0))
    np.testing.assert_array_equal(out, np.where(ours.mask == 1, x * scale, 0))
