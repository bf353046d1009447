"""The 3-D layers (Conv3D, Conv3DTranspose, 3-D pooling, UpSampling3D, ZeroPadding3D,
Cropping3D): the 2-D layers' machinery with a third spatial axis.

Forward values and gradients side by side with Keras under ``tf.GradientTape`` (float64
where TensorFlow has float64 kernels, float32 always), every gradient against finite
differences in float64, configs, ``.keras`` files both ways, a short ``fit``, and the
refused arguments and inputs. Shapes are tiny: volumes of a few voxels.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from strategies import STEP, TOLERANCE

import minired as mr
from minired.gradcheck import check_layer

L = mr.layers


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras``, ``tf`` and ``precision(dtype)`` for both."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


# -- settings: (class name, kwargs, input shape without the batch) ---------------------------------

CONV = [
    ("Conv3D", dict(filters=3, kernel_size=2), (3, 4, 3, 2)),
    ("Conv3D", dict(filters=2, kernel_size=(3, 2, 2), padding="same", activation="tanh"),
     (3, 4, 3, 2)),
    ("Conv3D", dict(filters=2, kernel_size=2, strides=(2, 1, 2), padding="same",
                    use_bias=False), (3, 4, 5, 1)),
    ("Conv3D", dict(filters=3, kernel_size=(1, 3, 2), strides=2, activation="relu"),
     (4, 5, 4, 2)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2), (2, 3, 2, 2)),
    ("Conv3DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same",
                             activation="tanh"), (2, 2, 3, 2)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=(2, 3, 2), strides=(2, 1, 3),
                             output_padding=(1, 0, 2)), (2, 3, 2, 1)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=4, strides=2, padding="same",
                             output_padding=1, use_bias=False), (2, 2, 2, 2)),
]
#: TensorFlow's CPU Conv3D has dilation in float32 (oneDNN) only, and its CPU
#: Conv3DTranspose none at all (minired's dilated transpose is checked by finite differences).
DILATED = [
    ("Conv3D", dict(filters=2, kernel_size=2, dilation_rate=(2, 1, 2), padding="same"),
     (4, 3, 4, 2)),
    ("Conv3D", dict(filters=2, kernel_size=(2, 2, 1), dilation_rate=2, activation="tanh"),
     (4, 4, 3, 1)),
]
#: TensorFlow has no float64 MaxPool3D or AvgPool3D kernel: compared in float32 only.
POOL = [
    ("MaxPooling3D", dict(), (4, 4, 4, 2)),
    ("MaxPooling3D", dict(pool_size=(2, 3, 2), strides=1), (3, 4, 3, 2)),
    ("MaxPooling3D", dict(pool_size=3, strides=2, padding="same"), (4, 5, 3, 1)),
    ("AveragePooling3D", dict(pool_size=2), (4, 4, 5, 2)),
    ("AveragePooling3D", dict(pool_size=(3, 2, 2), strides=1, padding="same"), (3, 4, 3, 2)),
    ("AveragePooling3D", dict(pool_size=3, strides=2, padding="same"), (4, 5, 3, 1)),
]
OTHERS = [
    ("GlobalAveragePooling3D", dict(), (2, 3, 2, 3)),
    ("GlobalAveragePooling3D", dict(keepdims=True), (2, 3, 2, 3)),
    ("GlobalMaxPooling3D", dict(), (2, 3, 2, 3)),
    ("GlobalMaxPooling3D", dict(keepdims=True), (2, 3, 2, 3)),
    ("UpSampling3D", dict(), (2, 2, 3, 2)),
    ("UpSampling3D", dict(size=(1, 3, 2)), (2, 2, 3, 2)),
    ("ZeroPadding3D", dict(), (2, 2, 3, 2)),
    ("ZeroPadding3D", dict(padding=(1, 0, 2)), (2, 2, 3, 2)),
    ("ZeroPadding3D", dict(padding=((0, 1), (2, 0), (1, 3))), (2, 2, 3, 2)),
    ("Cropping3D", dict(), (3, 4, 3, 2)),
    ("Cropping3D", dict(cropping=(0, 1, 1)), (3, 4, 3, 2)),
    ("Cropping3D", dict(cropping=((1, 0), (0, 2), (1, 1))), (3, 4, 3, 2)),
]


def twins(keras_env, kind: str, kwargs: dict, shape: tuple, dtype: str, rng):
    """minired's layer and Keras', built, with the same random weights."""
    ours = getattr(L, kind)(**kwargs)
    theirs = getattr(keras_env.keras.layers, kind)(**kwargs)
    ours.build((None, *shape))
    theirs.build((None, *shape))
    ours.set_weights([(rng.normal(size=w.shape) / 3).astype(dtype)
                      for w in ours.get_weights()])
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def forward_and_gradients(keras_env, ours, theirs, x, rng):
    """The outputs, δx and every weight's gradient for one random upstream δa."""
    tf = keras_env.tf
    x_tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        y_theirs = theirs(x_tensor)
    upstream = rng.normal(size=y_theirs.shape).astype(x.dtype)
    grads = tape.gradient(y_theirs, [x_tensor, *theirs.trainable_weights],
                          output_gradients=tf.constant(upstream))
    y_ours = ours(x)
    assert y_ours.shape == tuple(y_theirs.shape) == ours.compute_output_shape(x.shape)
    mine = [y_ours, ours.backward(upstream), *(g.copy() for g in ours.gradients)]
    return mine, [y_theirs.numpy(), *(np.asarray(g) for g in grads)]


def assert_equal_keras(keras_env, settings, dtype: str, tolerance: float, draw=None):
    rng = np.random.default_rng(0)
    with keras_env.precision(dtype):
        for kind, kwargs, shape in settings:
            ours, theirs = twins(keras_env, kind, kwargs, shape, dtype, rng)
            x = (rng.normal(size=(2, *shape)) if draw is None else draw(rng, shape))
            mine, reference = forward_and_gradients(keras_env, ours, theirs, x.astype(dtype),
                                                    rng)
            assert len(mine) == len(reference) == 2 + len(ours.trainable_weights)
            for a, b in zip(mine, reference, strict=True):
                assert a.dtype == np.dtype(dtype)
                np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance,
                                           err_msg=f"{kind} {kwargs}")


def test_forward_and_gradients_equal_keras_in_float64(keras_env):
    assert_equal_keras(keras_env, CONV + OTHERS, "float64", 1e-12)


def test_forward_and_gradients_equal_keras_in_float32(keras_env):
    """float32: the sums are added in another order than TensorFlow's (oneDNN), hence 1e-5."""
    assert_equal_keras(keras_env, CONV + DILATED + POOL + OTHERS, "float32", 1e-5)


def test_max_pooling3d_ties_follow_tensorflow(keras_env):
    """Integers in {0, 1, 2}: most windows hold several maxima. TensorFlow's MaxPool3DGrad
    gives the whole δa to each of them (unlike its 2-D kernel, which picks the first),
    overlapping windows included; GlobalMaxPooling3D splits δa between them."""
    ties = [kind for kind in POOL + OTHERS[2:4] if "Max" in kind[0]]
    assert_equal_keras(keras_env, ties, "float32", 1e-6,
                       draw=lambda rng, shape: rng.integers(0, 3, (2, *shape)))


def test_max_pooling3d_gives_each_tie_the_whole_gradient():
    layer = L.MaxPooling3D(pool_size=2)
    x = np.zeros((1, 2, 2, 2, 1), dtype="float32")
    x[0, 0, 0, 0] = x[0, 1, 1, 1] = 1.0
    assert layer(x).ravel().tolist() == [1.0]
    grad = layer.backward(np.full((1, 1, 1, 1, 1), 3.0, dtype="float32"))
    assert grad.ravel().tolist() == [3.0, 0, 0, 0, 0, 0, 0, 3.0]


# -- gradients against finite differences ---------------------------------------------------------

GRADIENT_CASES = [*CONV, *DILATED, *POOL, *OTHERS,
                  ("Conv3DTranspose", dict(filters=2, kernel_size=2, dilation_rate=(2, 1, 1),
                                           padding="same", activation="tanh"), (3, 2, 2, 2)),
                  ("Conv3D", dict(filters=2, kernel_size=2,
                                  kernel_regularizer=mr.regularizers.L2(0.1),
                                  bias_regularizer=mr.regularizers.L1(0.2),
                                  bias_initializer="random_normal"), (2, 3, 3, 2))]


@pytest.mark.parametrize(("kind", "kwargs", "shape"), GRADIENT_CASES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(GRADIENT_CASES)])
def test_gradients_match_finite_differences(float64, kind, kwargs, shape):
    """Standard-normal inputs: no ties in max pooling, and relu's kink is almost never
    within the step of a pre-activation (the seed is fixed)."""
    layer = getattr(L, kind)(**kwargs)
    x = np.random.default_rng(len(shape) + len(kwargs)).normal(size=(2, *shape))
    results = check_layer(layer, x, h=STEP)
    assert len(results) == 1 + len(layer.trainable_weights)
    assert max(r.relative_error for r in results) < TOLERANCE, results


# -- a small 3-D convnet: config, files, fit -----------------------------------------------------

def convnet(library, pool: bool = True):
    """(4, 6, 6, 1) volumes: Conv3D → MaxPooling3D → ZeroPadding3D → Conv3DTranspose →
    Cropping3D → UpSampling3D → Conv3D(strided) → GlobalAveragePooling3D → Dense softmax."""
    layers = library.layers
    return library.Sequential([
        library.Input((4, 6, 6, 1)),
        layers.Conv3D(3, 2, padding="same", activation="relu",
                      kernel_regularizer=library.regularizers.L2(0.01)),
        *([layers.MaxPooling3D(2)] if pool else [layers.Conv3D(3, 2, strides=2)]),
        layers.ZeroPadding3D((0, 1, 1)),
        layers.Conv3DTranspose(2, 2, strides=2, activation="tanh"),
        layers.Cropping3D(((0, 1), (1, 1), (1, 0))),
        layers.UpSampling3D((1, 1, 2)),
        layers.Conv3D(4, 3, strides=2, activation="tanh"),
        layers.GlobalAveragePooling3D(),
        layers.Dense(3, activation="softmax"),
    ])


def test_a_3d_convnet_fits_as_in_keras(keras_env):
    """float64 (so without MaxPooling3D, which TensorFlow has in float32 only), SGD with
    momentum, three epochs: History and the trained weights, to 1e-9 (three epochs amplify
    the 1e-16 differences of summation order)."""
    keras = keras_env.keras
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 4, 6, 6, 1))
    y = np.eye(3)[rng.integers(0, 3, 12)]
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model = convnet(mr, pool=False)
        model.compile(optimizer=mr.optimizers.SGD(0.1, momentum=0.9),
                      loss="categorical_crossentropy")
        twin = convnet(keras, pool=False)
        twin.set_weights(model.get_weights())
        twin.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                     loss="categorical_crossentropy")
        ours = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-9)
    assert ours.history["loss"][-1] != ours.history["loss"][0]
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-9, atol=1e-11)


def test_a_keras_file_loads_in_keras_and_back(keras_env, tmp_path):
    keras = keras_env.keras
    mr.utils.set_random_seed(1)
    model = convnet(mr)
    x = np.random.default_rng(0).normal(size=(3, 4, 6, 6, 1)).astype("float32")
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert [type(layer).__name__ for layer in theirs.layers] == [
        type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    keras_model = convnet(keras)                         # Keras' own weights this time
    keras_model.save(tmp_path / "theirs.keras")
    back = mr.models.load_model(tmp_path / "theirs.keras")
    assert back.layers[0].kernel.shape == (2, 2, 2, 1, 3)       # (kd, kh, kw, C, F)
    assert back.layers[3].kernel.shape == (2, 2, 2, 2, 3)       # (kd, kh, kw, F, C)
    np.testing.assert_allclose(back.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


CONFIGS = [
    ("Conv3D", dict(filters=3, kernel_size=3)),
    ("Conv3D", dict(filters=2, kernel_size=(1, 2, 3), strides=(1, 2, 1), padding="same",
                    activation="relu", use_bias=False, kernel_initializer="he_normal",
                    name="c3")),
    ("Conv3DTranspose", dict(filters=2, kernel_size=3, strides=2, output_padding=(1, 0, 1),
                             bias_initializer="ones")),
    ("MaxPooling3D", dict()),
    ("MaxPooling3D", dict(pool_size=(1, 2, 3), strides=1, padding="same")),
    ("AveragePooling3D", dict(pool_size=2, strides=(1, 2, 1))),
    ("GlobalAveragePooling3D", dict(keepdims=True)),
    ("GlobalMaxPooling3D", dict()),
    ("UpSampling3D", dict(size=(1, 2, 3))),
    ("ZeroPadding3D", dict(padding=2)),
    ("ZeroPadding3D", dict(padding=(1, 0, 2))),
    ("Cropping3D", dict(cropping=((0, 1), (2, 0), (1, 1)))),
]


@pytest.mark.parametrize(("kind", "kwargs"), CONFIGS)
def test_get_config_is_keras_get_config(keras_env, kind, kwargs):
    ours = getattr(L, kind)(**kwargs)
    theirs = getattr(keras_env.keras.layers, kind)(**kwargs)
    config, keras_config = ours.get_config(), theirs.get_config()
    assert sorted(config) == sorted(keras_config)
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in keras_config.items() if k != "name"}
    for source in (config, keras_config, json.loads(json.dumps(config))):
        again = type(ours).from_config(source)
        assert {**again.get_config(), "name": None} == {**config, "name": None}


def test_the_defaults_aliases_and_weight_layouts_are_keras():
    conv = L.Conv3D(4, 3)
    assert (conv.strides, conv.padding, conv.dilation_rate, conv.data_format) == (
        (1, 1, 1), "valid", (1, 1, 1), "channels_last")
    conv.build((None, 5, 5, 5, 2))
    assert [w.shape for w in conv.weights] == [(3, 3, 3, 2, 4), (4,)]
    transpose = L.Conv3DTranspose(4, 3)
    transpose.build((None, 5, 5, 5, 2))
    assert [w.shape for w in transpose.weights] == [(3, 3, 3, 4, 2), (4,)]
    assert L.MaxPooling3D().pool_size == (2, 2, 2) and L.UpSampling3D().size == (2, 2, 2)
    assert L.ZeroPadding3D().padding == L.Cropping3D().cropping == ((1, 1),) * 3
    aliases = {"Convolution3D": L.Conv3D, "Convolution3DTranspose": L.Conv3DTranspose,
               "MaxPool3D": L.MaxPooling3D, "AvgPool3D": L.AveragePooling3D,
               "GlobalAvgPool3D": L.GlobalAveragePooling3D,
               "GlobalMaxPool3D": L.GlobalMaxPooling3D}
    for alias, cls in aliases.items():
        assert getattr(L, alias) is cls and alias in L.__all__ and cls.__name__ in L.__all__


def test_keras_binds_the_same_aliases(keras_env):
    keras_layers = keras_env.keras.layers
    for alias, target in (("Convolution3D", "Conv3D"),
                          ("Convolution3DTranspose", "Conv3DTranspose"),
                          ("MaxPool3D", "MaxPooling3D"), ("AvgPool3D", "AveragePooling3D"),
                          ("GlobalAvgPool3D", "GlobalAveragePooling3D"),
                          ("GlobalMaxPool3D", "GlobalMaxPooling3D")):
        assert getattr(keras_layers, alias) is getattr(keras_layers, target)
        assert getattr(L, alias) is getattr(L, target)


def test_constraints_apply_after_each_step():
    """kernel_constraint and bias_constraint as the 2-D convolutions: projected after the
    optimizer's step."""
    model = mr.Sequential([
        mr.Input((3, 3, 3, 1)),
        L.Conv3D(2, 2, kernel_constraint=mr.constraints.NonNeg(),
                 bias_constraint=mr.constraints.NonNeg()),
        L.Conv3DTranspose(1, 2, kernel_constraint=mr.constraints.MaxNorm(0.1)),
    ])
    model.compile(optimizer=mr.optimizers.SGD(1.0), loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(4, 3, 3, 3, 1)), rng.normal(size=(4, 3, 3, 3, 1)), epochs=2,
              verbose=0)
    conv, transpose = model.layers
    assert conv.kernel.min() >= 0 and conv.bias.min() >= 0
    norms = np.sqrt(np.sum(transpose.kernel ** 2, axis=0))      # MaxNorm's default axis=0
    assert norms.max() <= 0.1 + 1e-6
    assert conv.get_config()["kernel_constraint"]["class_name"] == "NonNeg"


# -- refused arguments and inputs -----------------------------------------------------------------

@pytest.mark.parametrize(("make", "match"), [
    (lambda: L.Conv3D(2, 3, data_format="channels_first"), "channels_last"),
    (lambda: L.Conv3D(2, (3, 3)), "kernel_size"),
    (lambda: L.Conv3D(2, 3, strides=2, dilation_rate=2), "dilation_rate > 1"),
    (lambda: L.Conv3D(2, 3, padding="causal"), "padding"),
    (lambda: L.Conv3D(3, 3, groups=2), "groups=2, filters=3"),
    (lambda: L.Conv3DTranspose(2, 3, strides=2, output_padding=2), "strictly less than"),
    (lambda: L.Conv3DTranspose(2, 3, data_format="channels_first"), "channels_last"),
    (lambda: L.MaxPooling3D((2, 2)), "pool_size"),
    (lambda: L.AveragePooling3D(2, data_format="channels_first"), "channels_last"),
    (lambda: L.GlobalMaxPooling3D(data_format="channels_first"), "channels_last"),
    (lambda: L.UpSampling3D((2, 0, 2)), "size"),
    (lambda: L.ZeroPadding3D((1, 2)), "padding"),
    (lambda: L.ZeroPadding3D(-1), "negative"),
    (lambda: L.Cropping3D(((1, 1), (1, -1), (0, 0))), "2nd entry of cropping"),
    (lambda: L.Cropping3D(-2), "negative"),
])
def test_refused_arguments_say_why(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("kind", ["Conv3D", "Conv3DTranspose", "MaxPooling3D",
                                  "AveragePooling3D", "GlobalAveragePooling3D",
                                  "GlobalMaxPooling3D", "UpSampling3D", "ZeroPadding3D",
                                  "Cropping3D"])
def test_inputs_of_another_rank_are_refused(kind):
    kwargs = {"Conv3D": dict(filters=2, kernel_size=1),
              "Conv3DTranspose": dict(filters=2, kernel_size=1),
              "AveragePooling3D": dict(pool_size=1)}.get(kind, {})
    layer = getattr(L, kind)(**kwargs)
    with pytest.raises(ValueError, match=r"depth, rows, cols"):
        layer(np.ones((2, 4, 4, 1), dtype="float32"))          # an image, not a volume


def test_wrong_sizes_are_refused():
    conv = L.Conv3D(2, 2)
    conv(np.ones((1, 3, 3, 3, 2), dtype="float32"))
    with pytest.raises(ValueError, match="expected axis -1 .* value 2"):
        conv(np.ones((1, 3, 3, 3, 1), dtype="float32"))
    with pytest.raises(ValueError, match="zero or negative"):
        L.Conv3D(2, (1, 4, 1))(np.ones((1, 3, 3, 3, 1), dtype="float32"))
    with pytest.raises(ValueError, match="does not fit"):
        L.MaxPooling3D((1, 1, 4))(np.ones((1, 3, 3, 3, 1), dtype="float32"))
    with pytest.raises(ValueError, match="should be smaller"):
        L.Cropping3D((0, 2, 0))(np.ones((1, 3, 4, 3, 1), dtype="float32"))
