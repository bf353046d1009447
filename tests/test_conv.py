"""Conv1D and Conv2D, and the patch helpers (im2col) they share with pooling.

First the definition, written loop by loop, against the one-matmul forward; then the
helpers; the arguments, errors and configs (against Keras' own ``get_config()``); the
layers inside models; every gradient against finite differences (float64, hypothesis);
last, forward values and gradients side by side with Keras under ``tf.GradientTape``.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import (
    RELU_MARGIN,
    STEP,
    TOLERANCE,
    bounded_floats,
    gradient_settings,
    nonzero_arrays,
    regularizers,
    seeds,
    signed_floats,
)

import minired as mr
from minired.gradcheck import check_layer, check_model
from minired.layers.convolutional import Conv1D, Conv2D, im2col


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras``, ``tf`` and ``precision(dtype)`` for both."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


# -- the definition, loop by loop -----------------------------------------------------------------

def reference_conv2d(x, kernel, bias, strides, dilation, padding):
    """``z[n,i,j,f] = Σ_{a,b,c} xp[n, i·s + a·d, j·s + b·d, c] W[a,b,c,f] + b[f]``, one
    term at a time, with ``xp`` padded by TensorFlow's rule (written out again here)."""
    n_samples, height, width, channels = x.shape
    kh, kw, _, filters = kernel.shape
    pads, outs = [], []
    for size, k, s, d in zip((height, width), (kh, kw), strides, dilation, strict=True):
        extent = (k - 1) * d + 1
        if padding == "valid":
            before, after, out = 0, 0, (size - extent) // s + 1
        elif padding == "same":
            out = -(-size // s)
            total = max((out - 1) * s + extent - size, 0)
            before, after = total // 2, total - total // 2
        else:                                                  # causal: all zeros before
            before, after, out = extent - 1, 0, -(-size // s)
        pads.append((before, after))
        outs.append(out)
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    z = np.zeros((n_samples, *outs, filters))
    for n, i, j, f in itertools.product(range(n_samples), range(outs[0]), range(outs[1]),
                                        range(filters)):
        total = bias[f]
        for a, b, c in itertools.product(range(kh), range(kw), range(channels)):
            total += (xp[n, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1],
                         c] * kernel[a, b, c, f])
        z[n, i, j, f] = total
    return z


def reference_conv1d(x, kernel, bias, strides, dilation, padding):
    """Conv1D is Conv2D over an image one row high."""
    z = reference_conv2d(x[:, None], kernel[None], bias, (1, strides[0]), (1, dilation[0]),
                         padding)
    return z[:, 0]


CASES_2D = [  # (input (N, H, W, C), kernel (kh, kw), filters, strides, dilation, padding)
    ((2, 5, 5, 1), (3, 3), 2, (1, 1), (1, 1), "valid"),
    ((2, 6, 7, 3), (3, 2), 4, (2, 3), (1, 1), "valid"),
    ((1, 6, 7, 2), (3, 3), 3, (2, 2), (1, 1), "same"),      # odd padding: one more after
    ((2, 7, 6, 2), (4, 2), 2, (1, 1), (1, 1), "same"),
    ((1, 8, 8, 2), (3, 2), 2, (1, 1), (2, 3), "valid"),
    ((2, 7, 8, 1), (3, 3), 3, (1, 1), (2, 2), "same"),
    ((1, 4, 4, 2), (1, 1), 3, (3, 2), (1, 1), "same"),
    ((1, 3, 3, 2), (3, 3), 2, (1, 1), (1, 1), "valid"),     # one window: a Dense
]
CASES_1D = [
    ((2, 9, 2), (3,), 3, (1,), (1,), "valid"),
    ((2, 9, 2), (4,), 2, (2,), (1,), "same"),
    ((1, 10, 3), (3,), 2, (1,), (3,), "same"),
    ((2, 8, 1), (3,), 2, (1,), (2,), "causal"),
    ((1, 7, 2), (2,), 2, (3,), (1,), "causal"),
]


@pytest.mark.parametrize(("layer_class", "reference", "case"),
                         [(Conv2D, reference_conv2d, case) for case in CASES_2D]
                         + [(Conv1D, reference_conv1d, case) for case in CASES_1D])
def test_the_one_matmul_forward_is_the_definition(float64, layer_class, reference, case):
    shape, kernel_size, filters, strides, dilation, padding = case
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    layer = layer_class(filters, kernel_size, strides=strides, dilation_rate=dilation,
                        padding=padding)
    layer.build((None, *shape[1:]))
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    z = layer(x)
    np.testing.assert_allclose(z, reference(x, layer.kernel, layer.bias, strides, dilation,
                                            padding), rtol=1e-12, atol=1e-12)
    assert z.shape == layer.compute_output_shape(shape)


def test_a_conv_by_hand():
    """A 2×2 kernel of ones sums each 2×2 block; ∂L/∂W of Σz is the sum of each tap's
    inputs; δx counts the windows that read each pixel."""
    x = np.arange(9.0, dtype="float32").reshape(1, 3, 3, 1)
    layer = Conv2D(1, 2, kernel_initializer="ones", bias_initializer="ones")
    z = layer(x)
    np.testing.assert_array_equal(z[0, :, :, 0], [[0 + 1 + 3 + 4 + 1, 1 + 2 + 4 + 5 + 1],
                                                  [3 + 4 + 6 + 7 + 1, 4 + 5 + 7 + 8 + 1]])
    dx = layer.backward(np.ones_like(z))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(layer.kernel_gradient[:, :, 0, 0], [[8, 12], [20, 24]])
    np.testing.assert_array_equal(layer.bias_gradient, [4])
    layer(x)
    layer.backward(np.ones_like(z))                       # a second call adds its gradient
    np.testing.assert_array_equal(layer.bias_gradient, [8])


# -- the helpers ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("size", "kernel", "stride", "dilation", "expected"), [
    (5, 3, 1, 1, (1, 1)), (4, 4, 1, 1, (1, 2)), (6, 3, 2, 1, (0, 1)), (7, 3, 2, 1, (1, 1)),
    (5, 3, 1, 2, (2, 2)), (4, 1, 3, 1, (0, 0)), (2, 5, 1, 1, (2, 2)), (1, 3, 2, 1, (1, 1)),
])
def test_same_padding_follows_tensorflow(size, kernel, stride, dilation, expected):
    """``total = max((ceil(n/s) - 1)·s + (k-1)·d + 1 - n, 0)``, the odd one after."""
    assert im2col.pad_amounts(size, kernel, stride, dilation, "same") == expected
    assert im2col.output_size(size, kernel, stride, dilation, "same") == math.ceil(size / stride)
    assert im2col.pad_amounts(size, kernel, stride, dilation, "valid") == (0, 0)
    assert im2col.pad_amounts(size, kernel, stride, dilation, "causal") == (
        (kernel - 1) * dilation, 0)


def test_patches_is_a_view_and_scatter_patches_is_its_adjoint():
    """``<patches(x), g> = <x, scatter_patches(g)>``: col2im is the transpose of im2col."""
    rng = np.random.default_rng(1)
    for shape, kernel, strides, dilation, padding in [
            ((2, 7, 6, 3), (3, 2), (2, 1), (1, 1), "same"),
            ((1, 9, 8, 2), (2, 3), (1, 1), (3, 2), "valid"),
            ((3, 8, 2), (3,), (1,), (2,), "causal"), ((2, 9, 1), (4,), (3,), (1,), "same")]:
        x = rng.normal(size=shape)
        windows = im2col.patches(x, kernel, strides, dilation, padding)
        if padding == "valid":
            assert np.shares_memory(windows, x)                   # no copy
        g = rng.normal(size=windows.shape)
        back = im2col.scatter_patches(g, x.shape, kernel, strides, dilation, padding)
        assert back.shape == x.shape
        np.testing.assert_allclose(np.sum(windows * g), np.sum(x * back), rtol=1e-12)


def test_max_of_patches_with_a_minus_infinity_padding():
    """What max pooling needs from the helper: a padding that never wins the max."""
    x = -np.arange(1.0, 5.0).reshape(1, 4, 1)
    windows = im2col.patches(x, (3,), (2,), padding="same", pad_value=-np.inf)
    np.testing.assert_array_equal(windows.max(axis=(2, 3))[0], [-1.0, -3.0])


# -- arguments, errors, configs ------------------------------------------------------------------

def test_keras_defaults_and_shapes():
    layer = Conv2D(8, 3)
    assert (layer.kernel_size, layer.strides, layer.dilation_rate) == ((3, 3), (1, 1), (1, 1))
    assert (layer.padding, layer.data_format, layer.groups) == ("valid", "channels_last", 1)
    y = layer(np.zeros((2, 10, 12, 3), dtype="float32"))
    assert y.shape == (2, 8, 10, 8) and y.dtype == np.float32
    assert layer.kernel.shape == (3, 3, 3, 8) and layer.bias.shape == (8,)
    assert layer.count_params() == 3 * 3 * 3 * 8 + 8
    assert layer.weights == [layer.kernel, layer.bias]
    assert Conv2D(2, (1, 4), strides=(2, 3), padding="same").compute_output_shape(
        (None, 7, 7, 1)) == (None, 4, 3, 2)
    assert Conv2D(2, 3).compute_output_shape((None, None, 9, 1)) == (None, None, 7, 2)
    assert Conv1D(4, 5, use_bias=False)(np.zeros((3, 9, 2), dtype="float32")).shape == (3, 5, 4)
    assert Conv1D(4, 2, padding="causal", strides=2).compute_output_shape((5, 9, 2)) == (5, 5, 4)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Conv2D(2, 3, strides=2, dilation_rate=2),
     r"`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (lambda: Conv2D(2, 3, data_format="channels_first"), "channels_last"),
    (lambda: Conv2D(3, 3, groups=2), "number of filters must be evenly divisible"),
    (lambda: Conv2D(2, 3, padding="causal"), "padding"),
    (lambda: Conv1D(2, 3, padding="full"), "padding"),
    (lambda: Conv2D(0, 3), "filters"),
    (lambda: Conv2D(2, (3, 0)), "kernel_size"),
    (lambda: Conv2D(2, (3, 3, 3)), "kernel_size"),
    (lambda: Conv1D(2, 3, strides=0), "strides"),
    (lambda: Conv1D(2, 3, lora_rank=4), "lora_rank"),
])
def test_refused_arguments_say_why(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_keras_refuses_the_same_arguments(keras_env):
    keras = keras_env.keras
    with pytest.raises(ValueError, match="`strides > 1` not supported in conjunction"):
        keras.layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding"):
        keras.layers.Conv2D(2, 3, padding="causal")


def test_wrong_inputs_are_refused_with_the_shape_it_expects():
    layer = Conv2D(4, 3)
    layer(np.zeros((2, 8, 8, 1), dtype="float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 1"):
        layer(np.zeros((2, 8, 8, 3), dtype="float32"))
    with pytest.raises(ValueError, match="expected ndim=4"):
        layer(np.zeros((2, 8, 1), dtype="float32"))
    with pytest.raises(ValueError, match="zero or negative"):
        layer(np.zeros((2, 2, 8, 1), dtype="float32"))
    with pytest.raises(ValueError, match="zero or negative"):
        Conv1D(2, 3, dilation_rate=3)(np.zeros((1, 6, 1), dtype="float32"))
    with pytest.raises(ValueError, match=r"\(batch, steps, channels\)"):
        Conv1D(2, 3)(np.zeros((1, 6, 6, 1), dtype="float32"))
    model = mr.Sequential([mr.Input((8, 8, 3)), Conv2D(2, 3)])
    with pytest.raises(ValueError, match="expected axis -1"):
        model.layers[0](mr.Input((8, 8, 2)))


CONFIGS = [
    ("Conv2D", {"filters": 4, "kernel_size": 3}),
    ("Conv2D", {"filters": 2, "kernel_size": (2, 4), "strides": (2, 1), "padding": "same",
                "activation": "relu", "use_bias": False, "kernel_initializer": "he_normal",
                "kernel_regularizer": "l2", "data_format": "channels_last"}),
    ("Conv2D", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "bias_initializer": "ones",
                "bias_regularizer": mr.regularizers.L1(0.1), "name": "c"}),
    ("Conv1D", {"filters": 4, "kernel_size": 5}),
    ("Conv1D", {"filters": 4, "kernel_size": 2, "padding": "causal", "dilation_rate": 4,
                "activation": "tanh"}),
]


def _to_keras(value, keras):
    """Our regularizer objects as Keras' (the other arguments are plain values)."""
    if isinstance(value, mr.regularizers.Regularizer):
        return keras.regularizers.get({"class_name": type(value).__name__,
                                       "config": value.get_config()})
    return value


@pytest.mark.parametrize(("kind", "kwargs"), CONFIGS)
def test_get_config_is_keras_get_config(keras_env, kind, kwargs):
    keras = keras_env.keras
    ours = {"Conv1D": Conv1D, "Conv2D": Conv2D}[kind](**kwargs)
    theirs = getattr(keras.layers, kind)(**{k: _to_keras(v, keras) for k, v in kwargs.items()})
    config, keras_config = ours.get_config(), theirs.get_config()
    assert sorted(config) == sorted(keras_config)
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in keras_config.items() if k != "name"}
    # and each side reads it back: minired's own, Keras', and through JSON (tuples as lists)
    for source in (config, keras_config, json.loads(json.dumps(config))):
        again = type(ours).from_config(source)
        assert {**again.get_config(), "name": None} == {**config, "name": None}
    assert type(ours).from_config(config).name == ours.name


def test_from_config_refuses_a_keras_only_argument():
    config = Conv2D(2, 3).get_config()
    with pytest.raises(ValueError, match="lora_rank"):
        Conv2D.from_config({**config, "lora_rank": 4})


def test_initializer_fans_of_conv_kernels_are_keras_fans(keras_env):
    from keras.src.initializers.random_initializers import compute_fans as keras_fans

    from minired.initializers.random_initializers import compute_fans

    for shape in [(3, 2, 5), (5, 1, 8), (3, 3, 1, 32), (5, 4, 16, 8), (1, 1, 3, 2)]:
        assert compute_fans(shape) == tuple(int(f) for f in keras_fans(shape))
    # Glorot: U[-limit, limit] with limit = sqrt(6 / (fan_in + fan_out)); He: σ = sqrt(2/fan_in)
    shape = (5, 5, 16, 64)
    fan_in, fan_out = (int(f) for f in keras_fans(shape))
    limit = math.sqrt(6 / (fan_in + fan_out))
    ours = mr.initializers.GlorotUniform(seed=0)(shape)
    theirs = np.asarray(keras_env.keras.initializers.GlorotUniform(seed=0)(shape))
    for w in (ours, theirs):
        assert limit * 0.99 < np.abs(w).max() <= limit
    ours = mr.initializers.HeNormal(seed=0)(shape)
    theirs = np.asarray(keras_env.keras.initializers.HeNormal(seed=0)(shape))
    for w in (ours, theirs):                       # truncated at 2σ/0.8796, variance 2/fan_in
        # A statistic, not rounding: the std of n = 25,600 draws has a relative standard
        # error of about 1/sqrt(2n) = 0.0044, so 0.03 is a bound of ~7 standard errors.
        np.testing.assert_allclose(w.std(), math.sqrt(2 / fan_in), rtol=0.03)
        assert np.abs(w).max() <= 2 * math.sqrt(2 / fan_in) / 0.87962566103423978 + 1e-6


# -- inside models -------------------------------------------------------------------------------

def small_cnn():
    return mr.Sequential([
        mr.Input((8, 8, 1)),
        Conv2D(4, 3, activation="relu", name="c1"),
        Conv2D(3, 3, strides=2, padding="same", name="c2"),
        mr.layers.Flatten(name="flat"),
        mr.layers.Dense(3, activation="softmax", name="out"),
    ], name="cnn")


def test_summary_shows_the_output_shapes_and_the_model_trains():
    model = small_cnn()
    lines = []
    model.summary(print_fn=lines.append)
    table = "\n".join(lines)
    for row in ("(None, 6, 6, 4)", "(None, 3, 3, 3)", "(None, 27)", "(None, 3)"):
        assert row in table
    assert model.count_params() == (9 * 4 + 4) + (9 * 4 * 3 + 3) + (27 * 3 + 3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8, 8, 1)).astype("float32")
    y = np.eye(3)[rng.integers(0, 3, 32)]
    model.compile(optimizer=mr.optimizers.Adam(0.01), loss="categorical_crossentropy")
    losses = model.fit(x, y, epochs=15, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0]                 # it learns (32 random examples)


def test_a_functional_model_with_conv_layers(float64):
    inputs = mr.Input((9, 2))
    a = Conv1D(3, 3, padding="causal", activation="tanh")(inputs)
    b = Conv1D(3, 2, strides=2, padding="same")(a)
    outputs = mr.layers.Dense(2)(mr.layers.Flatten()(b))
    model = mr.Model(inputs, outputs)
    assert a.shape == (None, 9, 3) and b.shape == (None, 5, 3)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 9, 2)), rng.normal(size=(4, 2))
    assert model.predict(x, verbose=0).shape == (4, 2)
    model.compile(optimizer="sgd", loss="mse")
    results = check_model(model, x, y, h=STEP)
    assert max(r.relative_error for r in results) < TOLERANCE


def test_a_cnn_with_a_softmax_head_has_the_right_gradients(float64):
    """Through the fused softmax + cross-entropy, Flatten and two convolutions.

    relu has a kink at 0: a central difference across it measures neither slope. The
    weights are drawn again (next seed) until every pre-activation of the relu layer is
    farther than RELU_MARGIN from 0, the condition the property tests ``assume``. (Unseeded,
    about 2% of draws had one within 2e-5 of 0 and failed, on every version of the code.)
    """
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 8, 8, 1)), np.eye(3)[[0, 1, 2, 0, 1]]
    for seed in range(100):      # about 2% of draws fail the margin: 100 never all do
        mr.utils.set_random_seed(seed)
        model = small_cnn()
        model(x)
        if np.min(np.abs(model.get_layer("c1").cache.z)) > RELU_MARGIN:
            break
    else:
        raise AssertionError("no seed in 0-99 keeps every relu z away from its kink")
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    results = check_model(model, x, y, h=STEP)
    assert max(r.relative_error for r in results) < TOLERANCE, max(
        results, key=lambda r: r.relative_error)


def test_a_cnn_file_is_a_keras_file(keras_env, tmp_path, monkeypatch):
    """Keras reads minired's JSON and ``.keras`` archive of a CNN, and minired Keras'.

    Files name their classes through ``mr.layers``: the layers are put there for the test
    (a no-op once ``minired/layers/__init__.py`` exports them)."""
    keras = keras_env.keras
    monkeypatch.setattr(mr.layers, "Conv1D", Conv1D, raising=False)
    monkeypatch.setattr(mr.layers, "Conv2D", Conv2D, raising=False)
    model = small_cnn()
    x = np.random.default_rng(3).normal(size=(4, 8, 8, 1)).astype("float32")
    theirs = keras.models.model_from_json(model.to_json())
    theirs.set_weights(model.get_weights())
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    back = mr.models.model_from_json(theirs.to_json())
    assert [type(layer).__name__ for layer in back.layers] == ["Conv2D", "Conv2D", "Flatten",
                                                               "Dense"]
    theirs.save(tmp_path / "keras_cnn.keras")
    loaded = mr.models.load_model(tmp_path / "keras_cnn.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    inputs = mr.Input((9, 2))
    sequence_model = mr.Model(inputs, Conv1D(3, 2, padding="causal", dilation_rate=2)(inputs))
    assert keras.models.model_from_json(sequence_model.to_json()).count_params() == 15


def test_backward_from_z_skips_the_activation(float64):
    rng = np.random.default_rng(2)
    x, grad_z = rng.normal(size=(2, 6, 6, 2)), rng.normal(size=(2, 4, 4, 3))
    soft, linear = Conv2D(3, 3, activation="softmax"), Conv2D(3, 3)
    soft.build(x.shape)
    linear.build(x.shape)
    linear.set_weights(soft.get_weights())
    soft(x)
    linear(x)
    np.testing.assert_array_equal(soft.backward_from_z(grad_z), linear.backward(grad_z))
    np.testing.assert_array_equal(soft.kernel_gradient, linear.kernel_gradient)


@pytest.mark.parametrize("layer_class", [Conv1D, Conv2D])
def test_the_cache_keeps_x_and_keeps_a_only_for_a_backward_that_reads_it(layer_class):
    """The inputs x, not the k times larger cols (backward makes them again); relu's f'
    needs z alone, so a (as large as z) is not kept; sigmoid's reads a."""
    x = np.random.default_rng(3).normal(size=(2, 7, 2) if layer_class is Conv1D
                                        else (2, 6, 6, 2)).astype("float32")
    relu, sigmoid = layer_class(3, 3, activation="relu"), layer_class(3, 3, activation="sigmoid")
    a = relu(x)
    assert relu.cache._fields == ("x", "z", "a") and relu.cache.x is x
    assert relu.cache.a is None
    np.testing.assert_array_equal(a, np.maximum(relu.cache.z, 0))
    a = sigmoid(x)
    assert sigmoid.cache.a is a


# -- gradients against finite differences --------------------------------------------------------

@st.composite
def conv_cases(draw, rank: int):
    """A layer's arguments and an input that fits: kernel 1-3, then either strides 1-3 or
    a dilation 1-2 (Keras forbids both above 1), any padding, spatial sides up to 7, and
    1-5 channels (both ways of copying ``cols``: see ``BaseConv._patch_matrix``)."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    if draw(st.booleans()):
        strides, dilation = tuple(draw(st.integers(1, 3)) for _ in range(rank)), (1,) * rank
    else:
        strides, dilation = (1,) * rank, tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = draw(st.sampled_from(("valid", "same", "causal") if rank == 1
                                   else ("valid", "same")))
    smallest = [(k - 1) * d + 1 if padding == "valid" else 1
                for k, d in zip(kernel, dilation, strict=True)]
    spatial = tuple(draw(st.integers(low, max(low, 7 if rank == 2 else 9)))
                    for low in smallest)
    shape = (draw(st.integers(1, 2)), *spatial, draw(st.integers(1, 5)))
    return {"kernel_size": kernel, "strides": strides, "dilation_rate": dilation,
            "padding": padding}, shape


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid"])
@gradient_settings
@given(data=st.data(), filters=st.integers(1, 3), use_bias=st.booleans(), seed=seeds)
def test_conv_backward_matches_numerical_gradient(float64, rank, activation, data, filters,
                                                  use_bias, seed):
    """Inputs, kernel and bias (with random L1/L2 penalties), every element, to 1e-6.

    ``|x| >= 0.05`` and ``|W| in [0.1, 1] / fan_in``: no weight sits on the L1 kink, and the
    pre-activations stay moderate (as for Dense in ``test_gradients.py``).
    """
    arguments, shape = data.draw(conv_cases(rank))
    layer = (Conv1D if rank == 1 else Conv2D)(
        filters, activation=activation, use_bias=use_bias,
        kernel_regularizer=data.draw(regularizers()),
        bias_regularizer=data.draw(regularizers()) if use_bias else None, **arguments)
    x = data.draw(nonzero_arrays(shape, 0.05, 2.0))
    layer.build((None, *shape[1:]))
    fan_in = math.prod(layer.kernel.shape[:-1])
    layer.kernel[...] = data.draw(nonzero_arrays(layer.kernel.shape, 0.1, 1.0)) / fan_in
    if use_bias:
        layer.bias[...] = data.draw(st.lists(signed_floats(0.05, 0.5), min_size=filters,
                                             max_size=filters))
    outputs = layer.forward(x)
    if activation == "relu":
        assume(np.min(np.abs(layer.cache.z)) > RELU_MARGIN)
    results = check_layer(layer, x, seed=seed, h=STEP)
    # skip the (rare) near-stationary points where the finite difference is only noise
    upstream = np.random.default_rng(seed).standard_normal(outputs.shape)
    floor = 1e-3 * max(float(np.sum(np.abs(outputs * upstream))) + sum(map(float, layer.losses)),
                       1.0)
    for r in results:
        scale = max(np.abs(r.analytic).max(initial=0.0), np.abs(r.numeric).max(initial=0.0))
        assume(scale == 0.0 or scale > floor)
    assert [r.name for r in results] == [f"{layer.name}/inputs", f"{layer.name}/weight_0",
                                         *([f"{layer.name}/weight_1"] if use_bias else [])]
    worst = max(results, key=lambda r: r.relative_error)
    assert worst.relative_error < TOLERANCE, str(worst)


@gradient_settings
@given(data=st.data(), scale=bounded_floats(0.5, 2.0))
def test_patch_gradients_sum_over_overlapping_windows(data, scale):
    """δx of Σ patches(x)·g, element by element, is the sum of g over the windows that
    read that element (counted here by brute force)."""
    arguments, shape = data.draw(conv_cases(2))
    kernel, strides, dilation, padding = (arguments[k] for k in (
        "kernel_size", "strides", "dilation_rate", "padding"))
    windows = im2col.patches(np.zeros(shape), kernel, strides, dilation, padding)
    g = scale * np.random.default_rng(0).normal(size=windows.shape)
    (top, _), (left, _) = (im2col.pad_amounts(n, k, s, d, padding) for n, k, s, d in zip(
        shape[1:3], kernel, strides, dilation, strict=True))
    expected = np.zeros(shape)
    for i, j, a, b in itertools.product(range(windows.shape[1]), range(windows.shape[2]),
                                        range(kernel[0]), range(kernel[1])):
        row, col = i * strides[0] + a * dilation[0] - top, j * strides[1] + b * dilation[1] - left
        if 0 <= row < shape[1] and 0 <= col < shape[2]:
            expected[:, row, col, :] += g[:, i, j, a, b, :]
    np.testing.assert_allclose(im2col.scatter_patches(g, shape, kernel, strides, dilation,
                                                      padding), expected, atol=1e-12)


# -- side by side with Keras ---------------------------------------------------------------------

STRIDES_DILATIONS = [(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)]
KERNELS = {2: [(3, 3), (2, 4), (1, 1), (5, 2)], 1: [(3,), (4,), (1,), (6,)]}
SIZES = {2: [(7, 8), (5, 6), (3, 4)], 1: [(9,), (8,), (4,)]}


def keras_and_ours(keras_env, rank, filters, **kwargs):
    keras_class = getattr(keras_env.keras.layers, f"Conv{rank}D")
    return (Conv1D if rank == 1 else Conv2D)(filters, **kwargs), keras_class(filters, **kwargs)


@pytest.mark.parametrize(("rank", "padding"), [(2, "valid"), (2, "same"), (1, "valid"),
                                               (1, "same"), (1, "causal")])
@pytest.mark.parametrize(("stride", "dilation"), STRIDES_DILATIONS)
def test_forward_and_gradients_equal_keras_in_float64(keras_env, rank, padding, stride,
                                                      dilation):
    """Every combination Keras allows, over kernels and sizes that make the padding odd
    or even (and windows that do not fit, which both refuse). TensorFlow has float64
    convolution kernels on the CPU, so the comparison is in float64, to 1e-12."""
    tf = keras_env.tf
    rng = np.random.default_rng(stride * 10 + dilation)
    with keras_env.precision("float64"):
        for kernel, size in itertools.product(KERNELS[rank], SIZES[rank]):
            shape = (2, *size, 3)
            ours, theirs = keras_and_ours(keras_env, rank, 4, kernel_size=kernel,
                                          strides=stride, dilation_rate=dilation,
                                          padding=padding, activation="tanh")
            if padding == "valid" and any((k - 1) * dilation + 1 > n
                                          for k, n in zip(kernel, size, strict=True)):
                for layer in (ours, theirs):
                    with pytest.raises(ValueError, match="zero or negative"):
                        layer.build(shape)
                continue
            x = rng.normal(size=shape)
            ours.build((None, *shape[1:]))
            theirs.build(shape)
            ours.set_weights([rng.normal(size=w.shape) / 3 for w in ours.get_weights()])
            theirs.set_weights(ours.get_weights())
            x_tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(x_tensor)
                y_theirs = theirs(x_tensor)
            upstream = rng.normal(size=y_theirs.shape)
            grads = tape.gradient(y_theirs, [x_tensor, *theirs.trainable_weights],
                                  output_gradients=tf.constant(upstream))
            y_ours = ours(x)
            assert y_ours.shape == tuple(y_theirs.shape) == ours.compute_output_shape(shape)
            np.testing.assert_allclose(y_ours, y_theirs.numpy(), rtol=1e-12, atol=1e-14)
            ours_grads = [ours.backward(upstream), *ours.gradients]
            for mine, reference in zip(ours_grads, grads, strict=True):
                np.testing.assert_allclose(mine, reference.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("rank", [1, 2])
def test_forward_equals_keras_in_float32(keras_env, rank):
    rng = np.random.default_rng(5)
    with keras_env.precision("float32"):
        ours, theirs = keras_and_ours(keras_env, rank, 8, kernel_size=3, padding="same",
                                      strides=2, activation="relu")
        x = rng.normal(size=(4, *(9,) * rank, 3)).astype("float32")
        ours.build((None, *x.shape[1:]))
        theirs.build(x.shape)
        theirs.set_weights(ours.get_weights())
        y_ours, y_theirs = ours(x), np.asarray(theirs(x))
    assert y_ours.dtype == y_theirs.dtype == np.float32
    assert ours.kernel.dtype == np.float32
    np.testing.assert_allclose(y_ours, y_theirs, rtol=1e-5, atol=1e-6)
