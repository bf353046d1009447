"""DepthwiseConv1D/2D and SeparableConv1D/2D.

First the definition, written loop by loop, against the layers; then every gradient
against finite differences (float64); then the arguments, errors and configs (against
Keras' own ``get_config()``), files read by the other library, and last forward values,
gradients and a few epochs of training side by side with Keras.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer
from minired.layers.convolutional import im2col

LAYERS = ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
#: Gradient checks: finite differences with h = 1e-6 on smooth (tanh / linear) layers
#: agree to about 1e-9; 1e-6 is the project's usual bound (tests/strategies.py TOLERANCE).
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras``, ``tf`` and ``precision(dtype)`` for both."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def make(kind: str, filters: int = 4, **kwargs):
    """A minired layer of class ``kind`` (the separable ones take ``filters`` first)."""
    cls = getattr(mr.layers, kind)
    return cls(filters, **kwargs) if kind.startswith("Separable") else cls(**kwargs)


def input_shape(kind: str, size=(7, 6), channels: int = 3) -> tuple:
    return (2, size[0], channels) if kind.endswith("1D") else (2, *size, channels)


# -- the definition, loop by loop -----------------------------------------------------------------

def reference_depthwise(x, kernel, strides, dilation, padding):
    """``a[n, *o, c·M + m] = Σ_u xp[n, o·s + u·d, c] W[u, c, m]``, one output position and
    one kernel tap at a time, with ``xp`` padded by TensorFlow's rule (written out here)."""
    rank = x.ndim - 2
    pads, outs = [], []
    for size, k, s, d in zip(x.shape[1:-1], kernel.shape[:rank], strides, dilation,
                             strict=True):
        extent = (k - 1) * d + 1
        if padding == "valid":
            before, after, out = 0, 0, (size - extent) // s + 1
        else:
            out = -(-size // s)
            total = max((out - 1) * s + extent - size, 0)
            before, after = total // 2, total - total // 2
        pads.append((before, after))
        outs.append(out)
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    channels, multiplier = kernel.shape[-2:]
    z = np.zeros((x.shape[0], *outs, channels * multiplier))
    for o in itertools.product(*(range(n) for n in outs)):
        for u in itertools.product(*(range(k) for k in kernel.shape[:rank])):
            pixel = tuple(oi * s + ui * d for oi, ui, s, d in zip(o, u, strides, dilation,
                                                                   strict=True))
            for c in range(channels):
                for m in range(multiplier):
                    z[(slice(None), *o, c * multiplier + m)] += (
                        xp[(slice(None), *pixel, c)] * kernel[(*u, c, m)])
    return z


@pytest.mark.parametrize(("kind", "kwargs"), [
    ("DepthwiseConv2D", {"kernel_size": 3, "padding": "same", "strides": 2,
                         "depth_multiplier": 2}),
    ("DepthwiseConv2D", {"kernel_size": (2, 3), "strides": (1, 2)}),
    ("DepthwiseConv2D", {"kernel_size": 2, "padding": "same", "dilation_rate": 2,
                         "strides": 2, "depth_multiplier": 3}),
    ("DepthwiseConv1D", {"kernel_size": 4, "padding": "same", "strides": 3,
                         "depth_multiplier": 2}),
    ("SeparableConv2D", {"kernel_size": 3, "padding": "same", "strides": 2,
                         "depth_multiplier": 2}),
    ("SeparableConv1D", {"kernel_size": 2, "dilation_rate": 3}),
])
def test_the_layers_are_the_definition(float64, kind, kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=input_shape(kind, (7, 8)))
    layer = make(kind, 5, bias_initializer="random_normal", **kwargs)
    out = layer(x)
    if kind.startswith("Depthwise"):
        expected = reference_depthwise(x, layer.kernel, layer.strides, layer.dilation_rate,
                                       layer.padding) + layer.bias
    else:      # depthwise without bias, then the 1×1 pointwise convolution, then the bias
        d = reference_depthwise(x, layer.depthwise_kernel, layer.strides,
                                layer.dilation_rate, layer.padding)
        expected = d @ layer.pointwise_kernel.reshape(-1, 5) + layer.bias
    assert out.shape == expected.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-13)


def test_output_channels_are_channel_major():
    """Channel ``c``, multiplier ``m`` lands at ``c·M + m`` (Keras/TensorFlow's order)."""
    layer = mr.layers.DepthwiseConv2D(1, depth_multiplier=2, use_bias=False)
    x = np.array([1.0, 10.0, 100.0]).reshape(1, 1, 1, 3)
    layer.build(x.shape)
    layer.set_weights([np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).reshape(1, 1, 3, 2)])
    np.testing.assert_array_equal(layer(x).ravel(), [1, 2, 30, 40, 500, 600])


# -- gradients against finite differences ---------------------------------------------------------

GRADIENT_SETTINGS = [
    # (kernel_size, strides, padding, depth_multiplier, dilation_rate)
    (3, 1, "valid", 1, 1), (3, 2, "same", 2, 1), (2, 1, "same", 3, 1), (3, 1, "same", 1, 2),
    (2, 2, "valid", 2, 2), (4, 3, "same", 1, 1), (1, 1, "valid", 2, 1),
]


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize(("kernel", "stride", "padding", "multiplier", "dilation"),
                         GRADIENT_SETTINGS)
def test_gradients_match_finite_differences(float64, kind, kernel, stride, padding,
                                            multiplier, dilation):
    """δx and every weight's gradient, tanh (smooth) so finite differences are exact to
    ~1e-9; regularizers on every weight for odd kernels (their penalty is in the check)."""
    regularized = kernel % 2 == 1
    penalties = ({"depthwise_regularizer": mr.regularizers.L2(0.1),
                  "bias_regularizer": mr.regularizers.L1(0.05)} if regularized else {})
    if regularized and kind.startswith("Separable"):
        penalties["pointwise_regularizer"] = mr.regularizers.L1L2(0.02, 0.03)
    layer = make(kind, 3, kernel_size=kernel, strides=stride, padding=padding,
                 depth_multiplier=multiplier, dilation_rate=dilation, activation="tanh",
                 bias_initializer="random_normal", **penalties)
    x = np.random.default_rng(kernel * 7 + stride).normal(size=input_shape(kind, (8, 7)))
    results = check_layer(layer, x)
    assert len(results) == 1 + len(layer.weights) == (4 if kind.startswith("Separable") else 3)
    assert max(r.relative_error for r in results) < TOLERANCE, max(
        results, key=lambda r: r.relative_error)
    if regularized:
        assert len(layer.losses) == len(layer.weights)


@pytest.mark.parametrize("kind", LAYERS)
def test_unequal_strides_and_no_bias_have_right_gradients(float64, kind):
    strides = 2 if kind.endswith("1D") else (2, 1)
    layer = make(kind, 2, kernel_size=(3 if kind.endswith("1D") else (3, 2)), strides=strides,
                 padding="same", depth_multiplier=2, use_bias=False)
    results = check_layer(layer, np.random.default_rng(1).normal(size=input_shape(kind)))
    assert len(layer.weights) == (2 if kind[0] == "S" else 1)
    assert max(r.relative_error for r in results) < TOLERANCE


@pytest.mark.parametrize("kind", LAYERS)
def test_backward_from_z_and_skipping_the_input_gradient(float64, kind):
    layer = make(kind, 3, kernel_size=2, activation="tanh")
    x = np.random.default_rng(2).normal(size=input_shape(kind))
    out = layer(x)
    delta = np.random.default_rng(3).normal(size=out.shape)
    layer.zero_gradients()
    grad_x = layer.backward(delta)
    full = [g.copy() for g in layer.gradients]
    layer.zero_gradients()
    assert layer.backward(delta, input_gradient=False) is None
    for g, expected in zip(layer.gradients, full, strict=True):
        np.testing.assert_array_equal(g, expected)
    layer.zero_gradients()          # δz given directly: the same as δout through tanh'
    again = layer.backward_from_z(delta * (1 - out ** 2))
    np.testing.assert_allclose(again, grad_x, rtol=1e-14, atol=1e-15)
    layer.backward(delta)           # a second backward adds (a shared layer)
    for g, expected in zip(layer.gradients, full, strict=True):
        np.testing.assert_allclose(g, 2 * expected, rtol=1e-13)


@pytest.mark.parametrize("kind", LAYERS)
def test_float32_stays_float32(kind):
    layer = make(kind, 3, kernel_size=3, padding="same")
    out = layer(np.ones(input_shape(kind), dtype="float32"))
    layer.zero_gradients()
    grad_x = layer.backward(np.ones_like(out))
    assert out.dtype == grad_x.dtype == np.float32
    assert all(w.dtype == g.dtype == np.float32 for w, g in zip(layer.weights, layer.gradients,
                                                                  strict=True))


# -- arguments, shapes, errors and configs --------------------------------------------------------

def test_keras_defaults_weights_and_shapes():
    layer = mr.layers.SeparableConv2D(8, 3, depth_multiplier=2)
    assert (layer.strides, layer.padding, layer.dilation_rate, layer.data_format) == (
        (1, 1), "valid", (1, 1), "channels_last")
    layer.build((None, 9, 9, 3))
    assert [w.shape for w in layer.weights] == [(3, 3, 3, 2), (1, 1, 6, 8), (8,)]
    assert layer.compute_output_shape((None, 9, 9, 3)) == (None, 7, 7, 8)
    depthwise = mr.layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=4)
    depthwise.build((None, 9, 9, 3))
    assert [w.shape for w in depthwise.weights] == [(3, 3, 3, 4), (12,)]
    assert depthwise.compute_output_shape((None, 9, 9, 3)) == (None, 5, 5, 12)
    assert mr.layers.DepthwiseConv1D(3).compute_output_shape((None, None, 2)) == (None, None, 2)


@pytest.mark.parametrize(("build", "match"), [
    (lambda: mr.layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: mr.layers.DepthwiseConv2D(3, depth_multiplier=1.5), "depth_multiplier"),
    (lambda: mr.layers.SeparableConv2D(0, 3), "filters"),
    (lambda: mr.layers.SeparableConv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: mr.layers.DepthwiseConv2D(0), "kernel_size"),
    (lambda: mr.layers.DepthwiseConv2D(3, strides=0), "strides"),
    (lambda: mr.layers.DepthwiseConv1D(3, padding="causal"), "padding"),
    (lambda: mr.layers.SeparableConv1D(2, 3, padding="full"), "padding"),
    (lambda: mr.layers.DepthwiseConv2D(3, data_format="channels_first"), "data_format"),
    (lambda: mr.layers.SeparableConv2D(2, 3, data_format="channels_first"), "data_format"),
    (lambda: mr.layers.DepthwiseConv2D(3, depthwise_initialiser="ones"), "Unrecognized"),
    (lambda: mr.layers.DepthwiseConv2D(3, activation="nope"), "nope"),
])
def test_refused_arguments_say_why(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("kind", LAYERS)
def test_wrong_inputs_are_refused_with_the_shape_it_expects(kind):
    layer = make(kind, 2, kernel_size=3)
    with pytest.raises(ValueError, match="ndim"):
        layer(np.ones((2, 5, 5, 5, 3), dtype="float32"))
    layer(np.ones(input_shape(kind, (6, 6), channels=3), dtype="float32"))
    with pytest.raises(ValueError, match="axis -1 of input shape to have value 3"):
        layer(np.ones(input_shape(kind, (6, 6), channels=4), dtype="float32"))
    with pytest.raises(ValueError, match="zero or negative"):
        layer(np.ones(input_shape(kind, (2, 2)), dtype="float32"))
    with pytest.raises(ValueError, match="zero or negative"):
        make(kind, 2, kernel_size=3, dilation_rate=2).build(input_shape(kind, (4, 4)))


CONFIGS = [
    ("DepthwiseConv2D", {"kernel_size": 3}),
    ("DepthwiseConv2D", {"kernel_size": (2, 3), "strides": 2, "padding": "same",
                         "depth_multiplier": 3, "activation": "relu", "use_bias": False,
                         "depthwise_initializer": "he_normal", "bias_initializer": "ones",
                         "depthwise_regularizer": mr.regularizers.L2(0.01),
                         "bias_regularizer": mr.regularizers.L1(0.02), "name": "dw"}),
    ("DepthwiseConv1D", {"kernel_size": 4, "dilation_rate": 2, "padding": "SAME"}),
    ("SeparableConv2D", {"filters": 8, "kernel_size": 3}),
    ("SeparableConv2D", {"filters": 4, "kernel_size": (3, 1), "strides": (2, 2),
                         "padding": "same", "dilation_rate": 1, "depth_multiplier": 2,
                         "activation": "tanh", "pointwise_initializer": "zeros",
                         "pointwise_regularizer": mr.regularizers.L1L2(0.1, 0.2),
                         "depthwise_regularizer": "l2"}),
    ("SeparableConv1D", {"filters": 2, "kernel_size": 5, "strides": 3}),
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
    assert list(config) == list(keras_config)                   # the same keys, same order
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in keras_config.items() if k != "name"}
    for source in (config, keras_config, json.loads(json.dumps(config))):
        again = type(ours).from_config(source)
        assert {**again.get_config(), "name": None} == {**config, "name": None}
    keras_again = getattr(keras.layers, kind).from_config(config).get_config()
    assert {**keras_again, "name": None} == {**keras_config, "name": None}


def test_from_config_reads_an_activity_regularizer():
    config = mr.layers.SeparableConv2D(2, 3).get_config()
    layer = mr.layers.SeparableConv2D.from_config({**config, "activity_regularizer": "l2"})
    assert isinstance(layer.activity_regularizer, mr.regularizers.L2)


def xception_block(rank: int = 2) -> mr.Model:
    """A small keras-io-like model: SeparableConv, DepthwiseConv, pooling, a Dense head."""
    size = (8, 8, 3) if rank == 2 else (10, 3)
    inputs = mr.Input(size)
    x = getattr(mr.layers, f"SeparableConv{rank}D")(4, 3, padding="same",
                                                    activation="relu")(inputs)
    x = getattr(mr.layers, f"DepthwiseConv{rank}D")(3, strides=2, padding="same",
                                                    depth_multiplier=2, activation="tanh")(x)
    x = getattr(mr.layers, f"SeparableConv{rank}D")(3, 2, depth_multiplier=2)(x)
    x = getattr(mr.layers, f"GlobalAveragePooling{rank}D")()(x)
    return mr.Model(inputs, mr.layers.Dense(2, activation="softmax")(x))


@pytest.mark.parametrize("rank", [1, 2])
def test_a_keras_file_both_ways(keras_env, tmp_path, rank):
    """minired's ``.keras`` file loads in Keras (same predictions) and Keras' in minired."""
    keras = keras_env.keras
    mr.utils.set_random_seed(0)
    model = xception_block(rank)
    x = np.random.default_rng(3).normal(size=(4, *model.input_shape[1:])).astype("float32")
    model.save(tmp_path / "ours.keras")
    theirs = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)       # float32: summed in another order
    names = [layer.name for layer in model.layers[1:3]]
    assert [w.path for w in theirs.weights][:5] == [
        f"{names[0]}/depthwise_kernel", f"{names[0]}/pointwise_kernel", f"{names[0]}/bias",
        f"{names[1]}/kernel", f"{names[1]}/bias"]
    theirs.set_weights([np.random.default_rng(i).normal(size=w.shape).astype("float32")
                        for i, w in enumerate(theirs.get_weights())])
    theirs.save(tmp_path / "theirs.keras")
    loaded = mr.models.load_model(tmp_path / "theirs.keras")
    for ours_w, keras_w in zip(loaded.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(ours_w, keras_w)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert [type(layer).__name__ for layer in loaded.layers][1:4] == [
        f"SeparableConv{rank}D", f"DepthwiseConv{rank}D", f"SeparableConv{rank}D"]


# -- side by side with Keras ----------------------------------------------------------------------

#: (strides, dilation_rate): TensorFlow's depthwise kernels take equal strides on both axes
#: only (minired also computes unequal ones, checked above against the definition).
STRIDES_DILATIONS = [(1, 1), (2, 1), (3, 1), (1, 2), (2, 2)]


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("stride", "dilation"), STRIDES_DILATIONS)
def test_forward_and_gradients_equal_keras_in_float64(keras_env, kind, padding, stride,
                                                      dilation):
    """Kernels odd and even, square and not, depth multipliers 1-3, with and without a
    bias: the output, δx and every weight's gradient under tf.GradientTape, to 1e-12."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(stride * 10 + dilation)
    rank = 1 if kind.endswith("1D") else 2
    kernels = (2, 3) if rank == 1 else (3, (2, 3))
    with keras_env.precision("float64"):
        for i, (kernel, multiplier) in enumerate(itertools.product(kernels, (1, 2, 3))):
            kwargs = {"kernel_size": kernel, "strides": stride, "dilation_rate": dilation,
                      "padding": padding, "depth_multiplier": multiplier,
                      "use_bias": i % 2 == 0, "activation": ("tanh", "relu", None)[i % 3]}
            if kind.startswith("Separable"):
                kwargs["filters"] = 4
            ours, theirs = getattr(mr.layers, kind)(**kwargs), getattr(keras.layers,
                                                                        kind)(**kwargs)
            shape = input_shape(kind, (9, 8))
            ours.build(shape)
            theirs.build(shape)
            ours.set_weights([rng.normal(size=w.shape) / 2 for w in ours.get_weights()])
            theirs.set_weights(ours.get_weights())
            x = rng.normal(size=shape)
            x_tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(x_tensor)
                y_theirs = theirs(x_tensor)
            upstream = rng.normal(size=y_theirs.shape)
            grads = tape.gradient(y_theirs, [x_tensor, *theirs.trainable_weights],
                                  output_gradients=tf.constant(upstream))
            y_ours = ours(x)
            assert y_ours.shape == tuple(y_theirs.shape) == ours.compute_output_shape(shape)
            np.testing.assert_allclose(y_ours, y_theirs.numpy(), rtol=1e-12, atol=1e-13)
            ours.zero_gradients()
            ours_grads = [ours.backward(upstream), *ours.gradients]
            for mine, reference in zip(ours_grads, grads, strict=True):
                np.testing.assert_allclose(mine, reference.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", LAYERS)
def test_forward_equals_keras_in_float32(keras_env, kind):
    keras = keras_env.keras
    with keras_env.precision("float32"):
        ours = make(kind, 8, kernel_size=3, padding="same", strides=2, depth_multiplier=2,
                    activation="relu", bias_initializer="random_normal")
        theirs = getattr(keras.layers, kind).from_config(ours.get_config())
        x = np.random.default_rng(5).normal(size=input_shape(kind, (9, 9))).astype("float32")
        ours.build(x.shape)
        theirs.build(x.shape)
        theirs.set_weights(ours.get_weights())
        y_ours, y_theirs = ours(x), np.asarray(theirs(x))
    assert y_ours.dtype == y_theirs.dtype == np.float32
    # float32: the same sums in another order (a few ulps)
    np.testing.assert_allclose(y_ours, y_theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rank", [1, 2])
def test_training_equals_keras_in_float64(keras_env, rank):
    """Three epochs of fit (Adam, regularizers on): History and every final weight."""
    from comparisons.training import compare_fit

    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        inputs = mr.Input((8, 8, 3) if rank == 2 else (10, 3))
        x = getattr(mr.layers, f"SeparableConv{rank}D")(
            4, 3, padding="same", activation="relu", depth_multiplier=2,
            depthwise_regularizer=mr.regularizers.L2(0.01),
            pointwise_regularizer=mr.regularizers.L1(0.01))(inputs)
        x = getattr(mr.layers, f"DepthwiseConv{rank}D")(
            3, strides=2, padding="same", activation="tanh",
            bias_regularizer=mr.regularizers.L2(0.01))(x)
        x = getattr(mr.layers, f"GlobalAveragePooling{rank}D")()(x)
        model = mr.Model(inputs, mr.layers.Dense(3, activation="softmax")(x))
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        rng = np.random.default_rng(0)
        data = rng.normal(size=(24, *model.input_shape[1:]))
        labels = np.eye(3)[rng.integers(0, 3, 24)]
        outcome = compare_fit(model, data, labels, epochs=3, batch_size=8)
    assert len(outcome.pairs) > 10
    for label, ours, theirs in outcome.pairs:
        np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs,
                                   dtype=float), rtol=1e-10, atol=1e-12, err_msg=label)


def test_windows_of_the_depthwise_helpers_are_im2col_patches(float64):
    """The per-offset depthwise sum equals an einsum over im2col's patches view."""
    from minired.layers.convolutional.base_depthwise_conv import depthwise_forward

    rng = np.random.default_rng(4)
    x, kernel = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 2, 3, 2))
    args = ((3, 2), (2, 1), (1, 2), "same")
    z = depthwise_forward(im2col.pad(x, *args), kernel, im2col._Windows(x.shape, *args))
    expected = np.einsum("nijabc,abcm->nijcm", im2col.patches(x, *args), kernel)
    np.testing.assert_allclose(z, expected.reshape(*expected.shape[:3], -1), rtol=1e-13)



@pytest.mark.parametrize("kind", ["DepthwiseConv2D", "SeparableConv2D"])
def test_unequal_strides_equal_keras_in_float32(keras_env, kind):
    """TensorFlow's float64 depthwise kernel refuses strides that differ between rows and
    columns (so the float64 comparisons use equal ones); its float32 kernel computes them:
    the output, δx and every weight's gradient, to float32 rounding."""
    tf = keras_env.tf
    with keras_env.precision("float32"):
        ours = make(kind, 4, kernel_size=3, strides=(1, 2), padding="same",
                    depth_multiplier=2, activation="tanh", bias_initializer="random_normal")
        theirs = getattr(keras_env.keras.layers, kind).from_config(ours.get_config())
        x = np.random.default_rng(6).normal(size=(2, 7, 6, 3)).astype("float32")
        y_ours = ours(x)
        theirs.build(x.shape)
        theirs.set_weights(ours.get_weights())
        upstream = np.random.default_rng(7).normal(size=y_ours.shape).astype("float32")
        x_tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tensor)
            y_theirs = theirs(x_tensor)
        grads = tape.gradient(y_theirs, [x_tensor, *theirs.trainable_weights],
                              output_gradients=tf.constant(upstream))
        ours.zero_gradients()
        ours_grads = [ours.backward(upstream), *ours.gradients]
    assert y_ours.shape == (2, 7, 3, 6 if kind == "DepthwiseConv2D" else 4)     # 3 channels · 2
    # float32: the same sums in another order (a few ulps of values of order 1-10)
    np.testing.assert_allclose(y_ours, y_theirs.numpy(), rtol=1e-5, atol=1e-5)
    for mine, reference in zip(ours_grads, grads, strict=True):
        np.testing.assert_allclose(mine, reference.numpy(), rtol=1e-5, atol=1e-5)
