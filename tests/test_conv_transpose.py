"""Conv1DTranspose and Conv2DTranspose: a convolution's two passes swapped.

First the definition, written loop by loop, against the layer's col2im forward; the output
sizes (Keras' formula); every gradient against finite differences (float64); then values
and gradients side by side with Keras under ``tf.GradientTape``, a few epochs of ``fit``,
configs and ``.keras`` files both ways; last, the refused arguments and inputs.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from strategies import STEP, TOLERANCE

import minired as mr
from minired.gradcheck import check_layer
from minired.layers import Conv1DTranspose, Conv2DTranspose
from minired.layers.convolutional import im2col


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras``, ``tf`` and ``precision(dtype)`` for both."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def layer_class(rank: int) -> type:
    return Conv1DTranspose if rank == 1 else Conv2DTranspose


# -- the definition, loop by loop -----------------------------------------------------------------

def reference_transpose(x, kernel, bias, strides, dilation, out_size, padding):
    """Each input pixel adds ``x[n, i] · W[a, :, :]ᵀ`` at ``i·s + a·d - p`` (``p`` the
    "same" padding of the convolution from ``out_size`` back, TensorFlow's rule), for every
    tap ``a``; outputs outside ``out_size`` are dropped. One loop per pixel and tap."""
    rank = x.ndim - 2
    before = [im2col.pad_amounts(o, k, s, d, padding)[0] for o, k, s, d in zip(
        out_size, kernel.shape[:rank], strides, dilation, strict=True)]
    z = np.zeros((x.shape[0], *out_size, kernel.shape[-2]))
    for i in itertools.product(*(range(n) for n in x.shape[1:-1])):
        for a in itertools.product(*(range(k) for k in kernel.shape[:rank])):
            o = tuple(i_ * s + a_ * d - p for i_, a_, s, d, p in zip(
                i, a, strides, dilation, before, strict=True))
            if all(0 <= o_ < n for o_, n in zip(o, out_size, strict=True)):
                z[(slice(None), *o)] += x[(slice(None), *i)] @ kernel[a].T
    return z + bias


DEFINITION_CASES = [      # rank, kernel, strides, dilation, padding, output_padding
    (2, (3, 3), (2, 2), (1, 1), "same", None),
    (2, (2, 3), (2, 1), (1, 1), "valid", None),
    (2, (4, 2), (3, 2), (1, 1), "same", (1, 1)),
    (2, (3, 2), (1, 1), (2, 1), "same", None),
    (2, (2, 2), (3, 3), (1, 1), "valid", None),          # output (n-1)·s + max(k, s)
    (2, (3, 3), (2, 2), (1, 1), "valid", (1, 0)),
    (1, (3,), (2,), (1,), "same", (0,)),
    (1, (4,), (1,), (2,), "valid", None),
]


@pytest.mark.parametrize(("rank", "kernel", "strides", "dilation", "padding", "output_padding"),
                         DEFINITION_CASES)
def test_the_col2im_forward_is_the_definition(float64, rank, kernel, strides, dilation,
                                              padding, output_padding):
    rng = np.random.default_rng(0)
    layer = layer_class(rank)(3, kernel, strides=strides, dilation_rate=dilation,
                              padding=padding, output_padding=output_padding,
                              bias_initializer="random_normal")
    x = rng.normal(size=(2, *(4, 5)[:rank], 2))
    z = layer(x)
    expected = reference_transpose(x, layer.kernel, layer.bias, strides, dilation,
                                   z.shape[1:-1], padding)
    np.testing.assert_allclose(z, expected, rtol=1e-13, atol=1e-13)


def test_a_transposed_convolution_by_hand():
    """One channel, kernel [1, 2, 3], stride 2: each input stamps its multiple of the
    kernel two steps after the previous one, overlapping by one."""
    layer = Conv1DTranspose(1, 3, strides=2, use_bias=False)
    layer.build((None, 2, 1))
    layer.set_weights([np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1)])
    out = layer(np.array([[[1.0], [10.0]]], dtype="float32"))
    assert out[0, :, 0].tolist() == [1.0, 2.0, 3.0 + 10.0, 20.0, 30.0]


@pytest.mark.parametrize(("size", "kernel", "stride", "dilation", "padding", "output_padding",
                          "expected"), [
    (5, 3, 1, 1, "valid", None, 7),          # (n-1)·s + e
    (5, 2, 3, 1, "valid", None, 15),         # (n-1)·s + max(e, s)
    (5, 3, 2, 1, "valid", 1, 12),            # (n-1)·s + e + o
    (5, 3, 1, 2, "valid", None, 9),          # e = (k-1)·d + 1 = 5
    (5, 3, 2, 1, "same", None, 10),          # n·s
    (5, 4, 2, 1, "same", 1, 9),              # (n-1)·s + e % 2 + o
    (5, 3, 2, 1, "same", 0, 9),
    (None, 3, 2, 1, "same", None, None),
])
def test_output_size_is_keras_formula(size, kernel, stride, dilation, padding, output_padding,
                                      expected):
    layer = Conv1DTranspose(2, kernel, strides=stride, dilation_rate=dilation, padding=padding,
                            output_padding=output_padding)
    assert layer.compute_output_shape((None, size, 3)) == (None, expected, 2)


def test_the_weights_and_arguments_have_keras_layouts_and_defaults():
    layer = Conv2DTranspose(5, (2, 3))
    assert (layer.strides, layer.padding, layer.output_padding, layer.dilation_rate,
            layer.data_format) == ((1, 1), "valid", None, (1, 1), "channels_last")
    layer.build((None, 4, 4, 3))
    assert layer.kernel.shape == (2, 3, 5, 3)             # (kh, kw, filters, in_channels)
    assert [w.shape for w in layer.weights] == [(2, 3, 5, 3), (5,)]
    assert layer.kernel.dtype == np.float32


def test_float32_stays_float32_and_the_cache_keeps_a_only_when_needed():
    x = np.ones((2, 3, 3, 2), dtype="float32")
    relu = Conv2DTranspose(2, 3, strides=2, padding="same", activation="relu")
    out = relu(x)
    assert out.dtype == np.float32 and relu.cache.a is None
    assert relu.backward(np.ones_like(out)).dtype == np.float32
    sigmoid = Conv2DTranspose(2, 3, activation="sigmoid")
    assert sigmoid(x) is sigmoid.cache.a


# -- gradients against finite differences ---------------------------------------------------------

GRADIENT_CASES = [        # rank, size, kwargs
    (2, (3, 4), dict(kernel_size=3, strides=2, padding="same", activation="tanh")),
    (2, (3, 3), dict(kernel_size=(2, 3), strides=(2, 1), padding="valid")),
    (2, (2, 3), dict(kernel_size=4, strides=2, padding="same", output_padding=1,
                     activation="sigmoid")),
    (2, (3, 2), dict(kernel_size=2, strides=3, padding="valid", use_bias=False)),
    (2, (3, 3), dict(kernel_size=3, strides=2, padding="valid", output_padding=(1, 0),
                     kernel_regularizer=mr.regularizers.L2(0.1),
                     bias_regularizer=mr.regularizers.L2(0.2))),
    (2, (3, 3), dict(kernel_size=(3, 2), dilation_rate=(2, 1), padding="same",
                     activation="tanh")),
    (2, (4, 4), dict(kernel_size=1, strides=2, padding="same", output_padding=0)),
    (1, (5,), dict(kernel_size=3, strides=2, padding="same", activation="tanh")),
    (1, (4,), dict(kernel_size=4, strides=3, padding="valid", output_padding=2)),
    (1, (4,), dict(kernel_size=2, dilation_rate=3, padding="valid")),
]


@pytest.mark.parametrize(("rank", "size", "kwargs"), GRADIENT_CASES)
@pytest.mark.parametrize("filters", [1, 4])       # 1: the column-by-column patch copy of δz
def test_gradients_match_finite_differences(float64, rank, size, kwargs, filters):
    rng = np.random.default_rng(len(size) + filters)
    layer = layer_class(rank)(filters, bias_initializer="random_normal", **kwargs)
    x = rng.normal(size=(2, *size, 3))
    results = check_layer(layer, x, h=STEP)
    assert len(results) == 3 if layer.use_bias else 2      # inputs, kernel (, bias)
    assert max(r.relative_error for r in results) < TOLERANCE, results


def test_a_model_of_conv_and_conv_transpose_has_the_right_gradients(float64):
    """An autoencoder shape: Conv2D strided down, Conv2DTranspose back up, softmax head."""
    mr.utils.set_random_seed(3)
    model = mr.Sequential([
        mr.Input((6, 6, 2)),
        mr.layers.Conv2D(3, 3, strides=2, padding="same", activation="tanh"),
        Conv2DTranspose(4, 3, strides=2, padding="same", activation="tanh"),
        Conv2DTranspose(3, 2, padding="same", activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 6, 2))
    y = np.eye(3)[rng.integers(0, 3, (2, 6, 6))]
    results = mr.gradcheck.check_model(model, x, y, h=STEP)
    assert max(r.relative_error for r in results) < TOLERANCE


# -- against Keras --------------------------------------------------------------------------------

def keras_twins(keras_env, rank: int, filters: int, **kwargs):
    keras_class = getattr(keras_env.keras.layers, f"Conv{rank}DTranspose")
    return layer_class(rank)(filters, **kwargs), keras_class(filters, **kwargs)


def forward_and_gradients(keras_env, ours, theirs, x, rng):
    """Both layers' outputs, then δx, ∂L/∂W, ∂L/∂b for the same random upstream δa."""
    tf = keras_env.tf
    ours.build((None, *x.shape[1:]))
    theirs.build(x.shape)
    ours.set_weights([(rng.normal(size=w.shape) / 3).astype(x.dtype)
                      for w in ours.get_weights()])
    theirs.set_weights(ours.get_weights())
    x_tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        y_theirs = theirs(x_tensor)
    upstream = rng.normal(size=y_theirs.shape).astype(x.dtype)
    grads = tape.gradient(y_theirs, [x_tensor, *theirs.trainable_weights],
                          output_gradients=tf.constant(upstream))
    y_ours = ours(x)
    assert y_ours.shape == tuple(y_theirs.shape) == ours.compute_output_shape(x.shape)
    return ([y_ours, ours.backward(upstream), *ours.gradients],
            [y_theirs.numpy(), *(g.numpy() for g in grads)])


def settings(rank: int, dilations: tuple):
    """Kernels 1-4, strides 1-3, each padding, output_padding None and every allowed value,
    the dilations given (not with strides > 1: Keras refuses both)."""
    for k, s, d, padding in itertools.product((1, 2, 3, 4), (1, 2, 3), dilations,
                                              ("valid", "same")):
        if s > 1 and d > 1:
            continue
        for op in (None, *range(s)):
            yield dict(kernel_size=(k,) * rank if rank == 1 else (k, max(k - 1, 1)),
                       strides=s, dilation_rate=d, padding=padding, output_padding=op)


def impossible(rank: int, size: tuple, kwargs: dict) -> bool:
    """"same" with an even extent and output_padding 0 gives (n-1)·s outputs, which the
    convolution back maps to n - 1: TensorFlow refuses it, and so does minired."""
    layer = layer_class(rank)(2, **kwargs)
    try:
        layer.compute_output_shape((None, *size, 3))
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("rank", [1, 2])
def test_forward_and_gradients_equal_keras_in_float64(keras_env, rank):
    """Every setting Keras allows without dilation, to 1e-12: TensorFlow's float64
    transposed convolution has no CPU kernel for dilation_rate > 1 (see the float32 test)."""
    rng = np.random.default_rng(rank)
    size = (5, 4)[:rank]
    checked = 0
    with keras_env.precision("float64"):
        for kwargs in settings(rank, (1,)):
            ours, theirs = keras_twins(keras_env, rank, 3, activation="tanh", **kwargs)
            x = rng.normal(size=(2, *size, 2))
            if impossible(rank, size, kwargs):
                with pytest.raises(Exception):       # noqa: B017 (TensorFlow's own error)
                    theirs(x)
                continue
            mine, reference = forward_and_gradients(keras_env, ours, theirs, x, rng)
            for a, b in zip(mine, reference, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13, err_msg=str(kwargs))
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("rank", [1, 2])
def test_forward_and_gradients_equal_keras_in_float32_with_dilation(keras_env, rank):
    """float32, where TensorFlow (oneDNN) has the dilated kernels too: float32 rounding
    (the sums are added in another order), hence 1e-5."""
    rng = np.random.default_rng(10 + rank)
    size = (6, 5)[:rank]
    with keras_env.precision("float32"):
        for kwargs in settings(rank, (1, 2)):
            if kwargs["dilation_rate"] == 1 and kwargs["strides"] == 3:
                continue                              # covered in float64
            if impossible(rank, size, kwargs):
                continue
            ours, theirs = keras_twins(keras_env, rank, 4, activation="relu", **kwargs)
            x = rng.normal(size=(2, *size, 3)).astype("float32")
            mine, reference = forward_and_gradients(keras_env, ours, theirs, x, rng)
            for a, b in zip(mine, reference, strict=True):
                assert a.dtype == np.float32
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=str(kwargs))


def autoencoder(library, filters_last: int = 1):
    layers = library.layers
    return library.Sequential([
        library.Input((8, 8, 1)),
        layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu",
                               kernel_regularizer=library.regularizers.L2(0.01)),
        layers.Conv2DTranspose(filters_last, 3, padding="same", activation="sigmoid"),
    ])


def test_three_epochs_of_fit_equal_keras(keras_env):
    """A small convolutional autoencoder (Adam, binary cross-entropy, an L2 kernel penalty),
    in float64: the History and the trained weights, to 1e-9 (three epochs of Adam amplify
    the 1e-16 differences of summation order)."""
    keras = keras_env.keras
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, 8, 8, 1))
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model = autoencoder(mr)
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="binary_crossentropy")
        twin = autoencoder(keras)
        twin.set_weights(model.get_weights())
        twin.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
        ours = model.fit(x, x, epochs=3, batch_size=4, shuffle=False, verbose=0)
        theirs = twin.fit(x, x, epochs=3, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-9)
    assert ours.history["loss"][-1] < ours.history["loss"][0]
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-9, atol=1e-11)


# -- config and files -----------------------------------------------------------------------------

CONFIGS = [
    ("Conv2DTranspose", dict(filters=3, kernel_size=3)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(2, 4), strides=(2, 3), padding="same",
                             output_padding=(1, 2), activation="relu", use_bias=False,
                             kernel_initializer="he_normal", bias_initializer="ones",
                             kernel_regularizer=mr.regularizers.L2(0.01), name="up")),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2, output_padding=0)),
    ("Conv1DTranspose", dict(filters=4, kernel_size=5, strides=2, padding="same",
                             activation="tanh", bias_regularizer=mr.regularizers.L1(0.1))),
]


def _to_keras(value, keras):
    if isinstance(value, mr.regularizers.Regularizer):
        return keras.regularizers.get({"class_name": type(value).__name__,
                                       "config": value.get_config()})
    return value


@pytest.mark.parametrize(("kind", "kwargs"), CONFIGS)
def test_get_config_is_keras_get_config(keras_env, kind, kwargs):
    keras = keras_env.keras
    ours = getattr(mr.layers, kind)(**kwargs)
    theirs = getattr(keras.layers, kind)(**{k: _to_keras(v, keras) for k, v in kwargs.items()})
    config, keras_config = ours.get_config(), theirs.get_config()
    assert sorted(config) == sorted(keras_config)
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in keras_config.items() if k != "name"}
    for source in (config, keras_config, json.loads(json.dumps(config))):
        again = type(ours).from_config(source)
        assert {**again.get_config(), "name": None} == {**config, "name": None}


def test_a_keras_file_loads_in_keras_and_back(keras_env, tmp_path):
    keras = keras_env.keras
    mr.utils.set_random_seed(1)
    inputs = mr.Input((6, 2))
    sequence = Conv1DTranspose(3, 3, strides=2, padding="same", name="up_1d")(inputs)
    model = mr.Model(inputs, mr.layers.Dense(1)(sequence))
    image_model = autoencoder(mr, filters_last=2)
    x_seq = np.random.default_rng(0).normal(size=(3, 6, 2)).astype("float32")
    x_img = np.random.default_rng(1).uniform(size=(3, 8, 8, 1)).astype("float32")
    for m, x, name in ((model, x_seq, "seq"), (image_model, x_img, "img")):
        m.save(tmp_path / f"{name}.keras")
        theirs = keras.saving.load_model(tmp_path / f"{name}.keras")
        assert [type(layer).__name__ for layer in theirs.layers] == [
            type(layer).__name__ for layer in m.layers]
        np.testing.assert_allclose(theirs.predict(x, verbose=0), m.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-6)
        theirs.save(tmp_path / f"{name}_keras.keras")
        back = mr.models.load_model(tmp_path / f"{name}_keras.keras")
        np.testing.assert_array_equal(back.predict(x, verbose=0), m.predict(x, verbose=0))


def test_a_legacy_h5_file_of_keras_loads(keras_env, tmp_path):
    """Keras' legacy HDF5 format: both layers, an output_padding, the weights in place."""
    keras = keras_env.keras
    theirs = keras.Sequential([
        keras.Input((4, 4, 2)),
        keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1,
                                     activation="relu"),
        keras.layers.Reshape((64, 3)),
        keras.layers.Conv1DTranspose(2, 2, strides=2),
    ])
    theirs.save(tmp_path / "model.h5")
    with pytest.warns(UserWarning, match="not\\* compiled"):
        ours = mr.models.load_model(tmp_path / "model.h5")
    assert ours.layers[0].output_padding == (1, 1)
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 2)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# -- refused arguments and inputs -----------------------------------------------------------------

@pytest.mark.parametrize(("make", "match"), [
    (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=2), "strictly less than"),
    (lambda: Conv2DTranspose(2, 3, output_padding=1), "strictly less than"),
    (lambda: Conv1DTranspose(2, 3, strides=2, output_padding=-1), "output_padding"),
    (lambda: Conv2DTranspose(2, 3, output_padding=(0, 0, 0)), "output_padding"),
    (lambda: Conv2DTranspose(2, 3, strides=2, dilation_rate=2), "dilation_rate > 1"),
    (lambda: Conv1DTranspose(2, 3, padding="causal"), "padding"),
    (lambda: Conv2DTranspose(0, 3), "filters"),
    (lambda: Conv2DTranspose(2, (3, 0)), "kernel_size"),
    (lambda: Conv2DTranspose(2, 3, data_format="channels_first"), "channels_last"),
])
def test_refused_arguments_say_why(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_keras_refuses_the_output_padding_too(keras_env):
    for kwargs in (dict(strides=2, output_padding=2), dict(strides=2, dilation_rate=2)):
        with pytest.raises(ValueError):
            keras_env.keras.layers.Conv2DTranspose(2, 3, **kwargs)


def test_wrong_inputs_are_refused_with_the_shape_it_expects():
    layer = Conv2DTranspose(2, 3)
    with pytest.raises(ValueError, match=r"\(batch, rows, cols, channels\)"):
        layer(np.ones((2, 5, 3), dtype="float32"))               # a sequence, not images
    layer(np.ones((2, 4, 4, 3), dtype="float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.ones((2, 4, 4, 5), dtype="float32"))
    with pytest.raises(ValueError, match=r"expected ndim=4 \(batch, rows, cols, channels\)"):
        layer(np.ones((2, 4, 3), dtype="float32"))               # built, then a sequence
    with pytest.raises(ValueError, match=r"\(batch, steps, channels\)"):
        Conv1DTranspose(2, 3)(np.ones((2, 4, 4, 3), dtype="float32"))
    with pytest.raises(ValueError, match="does not map back"):   # "same", even kernel, o=0
        Conv2DTranspose(2, 2, strides=2, padding="same", output_padding=0).build(
            (None, 4, 4, 3))
