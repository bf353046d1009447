"""Grouped convolutions: Conv1D, Conv2D and Conv3D with ``groups > 1``.

Channel group ``g`` (channels ``g·C/G … (g+1)·C/G - 1``) is convolved with filters
``g·F/G … (g+1)·F/G - 1`` only; the kernel is ``(*k, C/G, F)``. Checked here: the
definition (G plain convolutions side by side), forward values and gradients against Keras
(float64 to 1e-12, float32 to 1e-5), finite differences (float64), the errors, the config
and ``.keras`` files both ways, and that ``groups=1`` still takes the one-matmul path.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer
from minired.layers import Conv1D, Conv2D, Conv3D
from minired.layers.convolutional.base_conv import BaseConv

CLASSES = {1: Conv1D, 2: Conv2D, 3: Conv3D}


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras``, ``tf`` and ``precision(dtype)`` for both."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


#: (input shape without the batch, arguments): groups 2, 3 and C (one channel a group, as a
#: depthwise convolution), every padding, strides, dilations, no bias, activations.
CASES = [
    ((9, 4), dict(filters=4, kernel_size=3, groups=2)),
    ((9, 6), dict(filters=3, kernel_size=2, groups=3, padding="same", strides=2)),
    ((9, 6), dict(filters=6, kernel_size=3, groups=3, padding="causal", dilation_rate=2,
                  activation="tanh")),
    ((8, 3), dict(filters=6, kernel_size=2, groups=3, use_bias=False)),          # G = C
    ((6, 5, 4), dict(filters=6, kernel_size=3, groups=2, padding="same", activation="relu")),
    ((7, 6, 6), dict(filters=6, kernel_size=(2, 3), groups=3, strides=(2, 1))),
    ((7, 7, 6), dict(filters=9, kernel_size=2, groups=3, padding="same", dilation_rate=2,
                     use_bias=False)),
    ((5, 6, 4), dict(filters=8, kernel_size=3, groups=4, padding="same", strides=2,
                     activation="sigmoid")),                                      # G = C
    ((4, 5, 4, 4), dict(filters=4, kernel_size=2, groups=2)),
    ((4, 4, 5, 6), dict(filters=6, kernel_size=(2, 3, 2), groups=3, padding="same",
                        strides=(1, 2, 1), use_bias=False)),
    ((3, 4, 4, 2), dict(filters=4, kernel_size=2, groups=2, dilation_rate=(1, 2, 1))),
]
IDS = [f"Conv{len(shape) - 1}D-{kwargs}" for shape, kwargs in CASES]


def _make(shape, kwargs):
    layer = CLASSES[len(shape) - 1](**kwargs)
    layer.build((None, *shape))
    return layer


@pytest.mark.parametrize(("shape", "kwargs"), CASES, ids=IDS)
def test_a_grouped_conv_is_plain_convs_side_by_side(float64, shape, kwargs):
    """The definition: group g's output is a groups=1 convolution of channels g·C/G …
    with the kernel's filters g·F/G …, the G outputs concatenated on the channel axis."""
    rng = np.random.default_rng(0)
    layer = _make(shape, kwargs)
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    x = rng.normal(size=(2, *shape))
    groups, filters = kwargs["groups"], kwargs["filters"]
    c, f = shape[-1] // groups, filters // groups
    assert layer.kernel.shape == (*layer.kernel_size, c, filters)
    parts = []
    for g in range(groups):
        plain = CLASSES[len(shape) - 1](**{**kwargs, "groups": 1, "filters": f})
        plain.build((None, *shape[:-1], c))
        weights = [layer.kernel[..., g * f:(g + 1) * f]]
        if layer.use_bias:
            weights.append(layer.bias[g * f:(g + 1) * f])
        plain.set_weights(weights)
        parts.append(plain(x[..., g * c:(g + 1) * c]))
    np.testing.assert_allclose(layer(x), np.concatenate(parts, axis=-1), rtol=1e-13,
                               atol=1e-13)


@pytest.mark.parametrize(("shape", "kwargs"), CASES, ids=IDS)
def test_forward_and_gradients_equal_keras_in_float64(keras_env, shape, kwargs):
    tf = keras_env.tf
    rng = np.random.default_rng(1)
    with keras_env.precision("float64"):
        ours = _make(shape, kwargs)
        theirs = getattr(keras_env.keras.layers, type(ours).__name__)(**kwargs)
        theirs.build((2, *shape))
        assert tuple(theirs.kernel.shape) == ours.kernel.shape
        ours.set_weights([rng.normal(size=w.shape) / 3 for w in ours.get_weights()])
        theirs.set_weights(ours.get_weights())
        x = rng.normal(size=(2, *shape))
        x_tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tensor)
            y_theirs = theirs(x_tensor)
        upstream = rng.normal(size=y_theirs.shape)
        grads = tape.gradient(y_theirs, [x_tensor, *theirs.trainable_weights],
                              output_gradients=tf.constant(upstream))
        y_ours = ours(x)
        assert y_ours.shape == tuple(y_theirs.shape) == ours.compute_output_shape(x.shape)
        np.testing.assert_allclose(y_ours, y_theirs.numpy(), rtol=1e-12, atol=1e-14)
        ours.zero_gradients()
        ours_grads = [ours.backward(upstream), *ours.gradients]
        for mine, reference in zip(ours_grads, grads, strict=True):
            np.testing.assert_allclose(mine, reference.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_forward_equals_keras_in_float32(keras_env, rank):
    rng = np.random.default_rng(5)
    kwargs = dict(filters=6, kernel_size=3, groups=3, padding="same", strides=2,
                  activation="relu")
    with keras_env.precision("float32"):
        ours = CLASSES[rank](**kwargs)
        theirs = getattr(keras_env.keras.layers, f"Conv{rank}D")(**kwargs)
        x = rng.normal(size=(2, *(7,) * rank, 6)).astype("float32")
        ours.build((None, *x.shape[1:]))
        theirs.build(x.shape)
        theirs.set_weights(ours.get_weights())
        y_ours, y_theirs = ours(x), np.asarray(theirs(x))
        ours.zero_gradients()
        grad_x = ours.backward(np.ones_like(y_ours))
    assert y_ours.dtype == y_theirs.dtype == grad_x.dtype == np.float32
    assert ours.kernel_gradient.dtype == np.float32
    np.testing.assert_allclose(y_ours, y_theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("shape", "kwargs"), [
    ((7, 6), dict(filters=3, kernel_size=3, groups=3, padding="same", activation="tanh",
                  kernel_regularizer=mr.regularizers.L2(0.02))),
    ((5, 4, 4), dict(filters=4, kernel_size=2, groups=2, strides=2, padding="same",
                     bias_regularizer=mr.regularizers.L2(0.01))),
    ((5, 5, 4), dict(filters=8, kernel_size=3, groups=4, dilation_rate=2, use_bias=False)),
    ((3, 4, 3, 4), dict(filters=2, kernel_size=2, groups=2, activation="sigmoid")),
], ids=["Conv1D", "Conv2D", "Conv2D-depthwise-like", "Conv3D"])
def test_gradients_match_finite_differences(float64, shape, kwargs):
    rng = np.random.default_rng(7)
    layer = _make(shape, kwargs)
    layer.set_weights([rng.normal(size=w.shape) / 2 for w in layer.get_weights()])
    results = check_layer(layer, rng.normal(size=(2, *shape)), seed=3)
    assert len(results) == 1 + len(layer.weights)
    worst = max(results, key=lambda r: r.relative_error)
    assert worst.relative_error < 1e-6, str(worst)


def test_a_shared_grouped_layer_adds_its_two_gradients(float64):
    """The first backward of a step writes ∂L/∂W (into the gradient array), a second adds."""
    rng = np.random.default_rng(4)
    layer = _make((6, 6, 4), dict(filters=4, kernel_size=3, groups=2))
    x = rng.normal(size=(2, 6, 6, 4))
    upstream = rng.normal(size=layer(x).shape)
    layer.zero_gradients()
    once_x = layer.backward(upstream)
    once = [g.copy() for g in layer.gradients]
    layer.forward(x)
    twice_x = layer.backward(upstream)
    np.testing.assert_array_equal(twice_x, once_x)
    for grad, first in zip(layer.gradients, once, strict=True):
        np.testing.assert_allclose(grad, 2 * first, rtol=1e-14)


def test_groups_one_takes_the_one_matmul_path(float64, monkeypatch):
    """groups=1 never reaches the grouped code (the same path and numbers as before)."""
    def refuse(*args, **kwargs):
        raise AssertionError("groups=1 took the grouped path")

    monkeypatch.setattr(BaseConv, "_grouped_patch_matrix", refuse)
    monkeypatch.setattr(BaseConv, "_grouped_backward_from_z", refuse)
    layer = _make((6, 6, 4), dict(filters=4, kernel_size=3))
    assert layer.groups == 1 and layer.kernel.shape == (3, 3, 4, 4)
    y = layer(np.ones((2, 6, 6, 4)))
    layer.zero_gradients()
    assert layer.backward(np.ones_like(y)).shape == (2, 6, 6, 4)


def test_filters_and_channels_must_be_divisible_by_groups(keras_env):
    keras = keras_env.keras
    for make in (Conv2D, keras.layers.Conv2D):
        with pytest.raises(ValueError, match=r"(?i)number of filters.*groups=2, filters=3"):
            make(3, 3, groups=2)
        with pytest.raises(ValueError, match=r"(?i)number of input channels.*groups=2.*3 "
                                             "channels"):
            make(4, 3, groups=2).build((None, 8, 8, 3))
    with pytest.raises(ValueError, match="`groups` must be a positive int, got 0"):
        Conv1D(4, 3, groups=0)
    with pytest.raises(ValueError, match="The number of groups must be a positive integer"):
        keras.layers.Conv1D(4, 3, groups=0)


def test_inputs_with_other_channels_are_refused():
    layer = Conv2D(4, 3, groups=2)
    layer(np.ones((1, 5, 5, 6), dtype="float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 6"):
        layer(np.ones((1, 5, 5, 3), dtype="float32"))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_get_config_is_keras_get_config(keras_env, rank):
    kwargs = dict(filters=6, kernel_size=2, groups=3, padding="same")
    ours = CLASSES[rank](**kwargs)
    theirs = getattr(keras_env.keras.layers, f"Conv{rank}D")(**kwargs)
    config, keras_config = ours.get_config(), theirs.get_config()
    assert config["groups"] == keras_config["groups"] == 3
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in keras_config.items() if k != "name"}
    for source in (config, keras_config):
        assert CLASSES[rank].from_config(source).groups == 3


def test_a_grouped_model_file_is_a_keras_file(keras_env, tmp_path):
    """minired's ``.keras`` file loads in Keras, and Keras' in minired, with the same outputs."""
    keras = keras_env.keras
    inputs = mr.Input((8, 8, 4))
    hidden = Conv2D(6, 3, groups=2, padding="same", activation="relu")(inputs)
    hidden = Conv2D(6, 3, groups=6, strides=2)(hidden)
    model = mr.Model(inputs, mr.layers.Dense(2)(mr.layers.Flatten()(hidden)))
    x = np.random.default_rng(3).normal(size=(3, 8, 8, 4)).astype("float32")
    model.save(tmp_path / "ours.keras")
    theirs = keras.models.load_model(tmp_path / "ours.keras")
    assert [layer.groups for layer in theirs.layers[1:3]] == [2, 6]
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    theirs.save(tmp_path / "theirs.keras")
    back = mr.models.load_model(tmp_path / "theirs.keras")
    assert [layer.groups for layer in back.layers[1:3]] == [2, 6]
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
