"""EinsumDense (and the adaptive poolings) against finite differences and Keras: outputs,
gradients, configs, ``.keras`` files both ways, a short fit, and the refused arguments."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer

L = mr.layers


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


#: ``(kind, kwargs, input shape per sample)``: every setting checked against Keras.
EINSUM = [
    ("EinsumDense", dict(equation="ab,bc->ac", output_shape=4, bias_axes="c"), (3,)),
    ("EinsumDense", dict(equation="ab,bc->ac", output_shape=2, activation="tanh"), (5,)),
    ("EinsumDense", dict(equation="abc,cd->abd", output_shape=(None, 4), bias_axes="d",
                         activation="relu"), (3, 5)),
    ("EinsumDense", dict(equation="abc,cde->abde", output_shape=(3, 2, 4), bias_axes="de"),
     (3, 5)),
    ("EinsumDense", dict(equation="abc,cde->abde", output_shape=(3, 2, 4), bias_axes="e"),
     (3, 5)),
    ("EinsumDense", dict(equation="abc,cde->abde", output_shape=(3, 2, 4), bias_axes="bd"),
     (3, 5)),
    ("EinsumDense", dict(equation="abcd,cde->abe", output_shape=(3, 4), bias_axes="be",
                         activation="sigmoid"), (3, 2, 5)),
    ("EinsumDense", dict(equation="abc,bd->ad", output_shape=3, bias_axes="d"), (4, 2)),
    ("EinsumDense", dict(equation="abc,cd->ad", output_shape=3), (4, 2)),    # b summed alone
    ("EinsumDense", dict(equation="...b,bc->...c", output_shape=3, bias_axes="c"), (2, 4, 5)),
    ("EinsumDense", dict(equation="ab...,bc->ac...", output_shape=3, bias_axes="c"), (4, 2)),
    ("EinsumDense", dict(equation="abc,bcd->abd", output_shape=(3, 2), bias_axes="bd"),
     (3, 4)),
]
IDS = [f"{kwargs['equation']},{kwargs.get('bias_axes')}" for _, kwargs, _ in EINSUM]


def twins(keras_env, kind: str, kwargs: dict, shape: tuple, dtype: str, rng):
    """minired's layer and Keras', built, with the same random weights."""
    ours = getattr(L, kind)(**kwargs)
    theirs = getattr(keras_env.keras.layers, kind)(**kwargs)
    ours.build((None, *shape))
    theirs.build((None, *shape))
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights([rng.normal(size=w.shape).astype(dtype) for w in ours.get_weights()])
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
    assert y_ours.shape == tuple(y_theirs.shape)
    assert ours.compute_output_shape(x.shape) == tuple(theirs.compute_output_shape(x.shape))
    mine = [y_ours, ours.backward(upstream), *(g.copy() for g in ours.gradients)]
    return mine, [y_theirs.numpy(), *(np.asarray(g) for g in grads)]


def assert_equal_keras(keras_env, settings, dtype: str, tolerance: float):
    rng = np.random.default_rng(0)
    with keras_env.precision(dtype):
        for kind, kwargs, shape in settings:
            ours, theirs = twins(keras_env, kind, kwargs, shape, dtype, rng)
            x = rng.normal(size=(3, *shape)).astype(dtype)
            mine, reference = forward_and_gradients(keras_env, ours, theirs, x, rng)
            assert len(mine) == len(reference) == 2 + len(ours.trainable_weights)
            for a, b in zip(mine, reference, strict=True):
                assert a.dtype == np.dtype(dtype)
                np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance,
                                           err_msg=f"{kind} {kwargs}")


def test_einsum_dense_equals_keras_in_float64(keras_env):
    assert_equal_keras(keras_env, EINSUM, "float64", 1e-12)


def test_einsum_dense_equals_keras_in_float32(keras_env):
    """float32: the einsums add in another order than TensorFlow's, hence 1e-5."""
    assert_equal_keras(keras_env, EINSUM, "float32", 1e-5)


@pytest.mark.parametrize(("kind", "kwargs", "shape"), EINSUM, ids=IDS)
def test_einsum_dense_matches_finite_differences(float64, kind, kwargs, shape):
    layer = getattr(L, kind)(**kwargs)
    layer.build((None, *shape))
    rng = np.random.default_rng(3)
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    x = rng.normal(size=(2, *shape))
    results = check_layer(layer, x)
    assert len(results) == 1 + len(layer.trainable_weights)
    for result in results:
        assert result.relative_error < 1e-7, result


def test_einsum_dense_is_dense_for_ab_bc_ac(float64):
    x = np.random.default_rng(0).normal(size=(4, 3))
    layer = L.EinsumDense("ab,bc->ac", 5, bias_axes="c", activation="relu")
    dense = L.Dense(5, activation="relu")
    layer.build((None, 3))
    dense.build((None, 3))
    dense.set_weights([w + 0.1 for w in layer.get_weights()])
    layer.set_weights(dense.get_weights())
    # einsum and matmul add the 3 products in their own orders: equal up to the rounding
    # bound of a sum of n = 3 terms, n·ε·Σ|terms| (relu moves no value further)
    kernel, bias = dense.get_weights()
    bound = 3 * np.finfo(np.float64).eps * (np.abs(x) @ np.abs(kernel) + np.abs(bias))
    assert np.all(np.abs(layer(x) - dense(x)) <= bound)


def test_kernel_and_bias_shapes_and_fans_are_keras(keras_env):
    """The kernel/bias shapes of Keras' _analyze_einsum_string, and glorot_uniform's limit
    from the fans over the input and output letters (not the kernel's last two axes)."""
    keras = keras_env.keras
    for kind, kwargs, shape in EINSUM:
        ours, theirs = getattr(L, kind)(**kwargs), getattr(keras.layers, kind)(**kwargs)
        ours.build((None, *shape))
        theirs.build((None, *shape))
        assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
        assert ours.compute_output_shape((None, *shape)) == tuple(
            theirs.compute_output_shape((None, *shape)))
    layer = L.EinsumDense("abc,cde->abde", (3, 20, 30), kernel_initializer="glorot_uniform")
    layer.build((None, 3, 10))
    limit = np.sqrt(6.0 / (10 + 600))                   # fan_in 10, fan_out 20·30
    assert np.abs(layer.kernel).max() <= limit
    assert np.abs(layer.kernel).max() > 0.9 * limit
    assert layer.kernel_initializer.input_axes is None     # the config keeps the user's


CONFIGS = [
    dict(equation="ab,bc->ac", output_shape=4),
    dict(equation="abc,cde->abde", output_shape=(3, 2, 4), bias_axes="de", activation="relu",
         kernel_initializer="he_normal", bias_initializer="ones", kernel_regularizer="l2",
         bias_regularizer="l1", kernel_constraint="non_neg", bias_constraint="max_norm",
         name="ed"),
    dict(equation="...b,bc->...c", output_shape=[None], bias_axes="c"),
]


@pytest.mark.parametrize("kwargs", CONFIGS)
def test_get_config_is_keras_get_config(keras_env, kwargs):
    keras = keras_env.keras
    ours, theirs = L.EinsumDense(**kwargs), keras.layers.EinsumDense(**kwargs)
    config, keras_config = ours.get_config(), theirs.get_config()
    assert sorted(config) == sorted(keras_config)
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in keras_config.items() if k != "name"}
    for source in (config, keras_config, json.loads(json.dumps(keras_config))):
        again = L.EinsumDense.from_config(source)
        assert {**again.get_config(), "name": None} == {**config, "name": None}


def model(library):
    layers = library.layers
    return library.Sequential([
        library.Input((3, 4)),
        layers.EinsumDense("abc,cde->abde", (3, 2, 5), bias_axes="de", activation="tanh"),
        layers.EinsumDense("abcd,cde->abe", (3, 2), bias_axes="e",
                           kernel_regularizer=library.regularizers.L2(0.01)),
        layers.Flatten(),
        layers.Dense(1),
    ])


def test_a_keras_file_loads_in_keras_and_back(keras_env, tmp_path):
    keras = keras_env.keras
    mr.utils.set_random_seed(1)
    ours = model(mr)
    x = np.random.default_rng(0).normal(size=(3, 3, 4)).astype("float32")
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert [type(layer).__name__ for layer in theirs.layers] == [
        type(layer).__name__ for layer in ours.layers]
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    keras_model = model(keras)
    keras_model.save(tmp_path / "theirs.keras")
    back = mr.models.load_model(tmp_path / "theirs.keras")
    assert back.layers[0].kernel.shape == (4, 2, 5)
    assert back.layers[0].bias.shape == (2, 5)
    np.testing.assert_allclose(back.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_a_fit_equals_keras(keras_env):
    """float64, SGD with momentum, 3 epochs: History and the trained weights, to 1e-9
    (three epochs amplify the 1e-16 differences of summation order)."""
    keras = keras_env.keras
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3, 4)), rng.normal(size=(12, 1))
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        ours = model(mr)
        ours.compile(optimizer=mr.optimizers.SGD(0.05, momentum=0.9), loss="mse")
        twin = model(keras)
        twin.set_weights(ours.get_weights())
        twin.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="mse")
        history = ours.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        keras_history = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], keras_history.history["loss"],
                               rtol=1e-9)
    assert history.history["loss"][-1] != history.history["loss"][0]
    for weight, keras_weight in zip(ours.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-9, atol=1e-11)


def test_constraints_apply_after_each_step(float64):
    layer = L.EinsumDense("ab,bc->ac", 3, bias_axes="c", kernel_constraint="non_neg",
                          bias_constraint=mr.constraints.MaxNorm(0.01))
    net = mr.Sequential([mr.Input((4,)), layer])
    net.compile(optimizer=mr.optimizers.SGD(0.5), loss="mse")
    rng = np.random.default_rng(0)
    net.fit(rng.normal(size=(8, 4)), rng.normal(size=(8, 3)) * 5, epochs=2, verbose=0)
    assert layer.kernel.min() >= 0.0
    assert np.linalg.norm(layer.bias) <= 0.01 + 1e-12


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: L.EinsumDense("ab,bc", 3), ValueError, "Invalid einsum equation"),
    (lambda: L.EinsumDense("aab,bc->ac", 3), ValueError, "repeats a letter"),
    (lambda: L.EinsumDense(3, 3), TypeError, "equation"),
    (lambda: L.EinsumDense("ab,bc->ac", "3"), TypeError, "output_shape"),
])
def test_refused_arguments_say_why(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(("kwargs", "shape", "match"), [
    (dict(equation="ab,bc->ac", output_shape=3, bias_axes="x"), (4,), "Bias dimension 'x'"),
    (dict(equation="ab,bcd->acd", output_shape=(3, 2), bias_axes="d"), (4, 5), "does not fit"),
    (dict(equation="abc,cd->abd", output_shape=(5, 2)), (4, 3), "do not match"),
    (dict(equation="ab,bc->ae", output_shape=3), (4,), "Dimension 'e'"),
    (dict(equation="ab,bx->a", output_shape=()), (4,), "Weight dimension 'x'"),
])
def test_wrong_shapes_are_refused(kwargs, shape, match):
    with pytest.raises(ValueError, match=match):
        L.EinsumDense(**kwargs).build((None, *shape))


def test_a_built_layer_refuses_another_rank():
    layer = L.EinsumDense("abc,cd->abd", (None, 2))
    layer(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(np.ones((2, 4)))


# ================================================================================================
# The adaptive poolings
# ================================================================================================
#: ``(kind, output_size, input shape per sample)``: sizes that divide and that do not (bins
#: of two sizes, overlapping), and outputs larger than the inputs.
ADAPTIVE = [
    (kind + "1D", size, shape) for kind in ("AdaptiveAveragePooling", "AdaptiveMaxPooling")
    for size, shape in ((3, (6, 2)), (3, (7, 2)), (4, (5, 3)), (5, (3, 1)), ((2,), (9, 2)))
] + [
    (kind + "2D", size, shape) for kind in ("AdaptiveAveragePooling", "AdaptiveMaxPooling")
    for size, shape in ((2, (4, 6, 2)), ((3, 2), (7, 5, 2)), ((4, 3), (3, 5, 1)))
] + [
    (kind + "3D", size, shape) for kind in ("AdaptiveAveragePooling", "AdaptiveMaxPooling")
    for size, shape in ((2, (4, 4, 6, 1)), ((2, 3, 2), (3, 5, 4, 2)))
]
ADAPTIVE_IDS = [f"{kind}{size}{shape}" for kind, size, shape in ADAPTIVE]


def adaptive_forward_and_gradients(keras_env, kind, size, x, rng):
    tf = keras_env.tf
    theirs = getattr(keras_env.keras.layers, kind)(size)
    x_tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        y_theirs = theirs(x_tensor)
    upstream = rng.normal(size=y_theirs.shape).astype(x.dtype)
    grad_theirs = tape.gradient(y_theirs, x_tensor, output_gradients=tf.constant(upstream))
    ours = getattr(L, kind)(size)
    y_ours = ours(x)
    assert ours.compute_output_shape(x.shape) == y_ours.shape == tuple(y_theirs.shape)
    return [y_ours, ours.backward(upstream)], [y_theirs.numpy(), grad_theirs.numpy()]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adaptive_poolings_equal_keras(keras_env, dtype):
    """float64 to 1e-12, float32 to 1e-6 (a mean of a few values summed in another order).
    TensorFlow's AvgPool3D and MaxPool3D have no float64 CPU kernel: the 3-D layers run in
    float32 there (their float64 gradients are checked by finite differences below)."""
    rng = np.random.default_rng(0)
    for kind, size, shape in ADAPTIVE:
        run = "float32" if kind.endswith("3D") else dtype
        with keras_env.precision(run):
            x = rng.normal(size=(2, *shape)).astype(run)
            mine, reference = adaptive_forward_and_gradients(keras_env, kind, size, x, rng)
        tolerance = 1e-12 if run == "float64" else 1e-6
        for a, b in zip(mine, reference, strict=True):
            assert a.dtype == np.dtype(run)
            np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance,
                                       err_msg=f"{kind} {size} {shape}")


@pytest.mark.parametrize("kind", ["AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
                                  "AdaptiveMaxPooling3D"])
def test_max_ties_follow_tensorflow(keras_env, kind):
    """Integer-valued inputs (many ties): the first maximum in 1-D/2-D, every tied maximum
    in 3-D, exactly as Keras' tape."""
    rng = np.random.default_rng(1)
    spatial = int(kind[-2])
    shape = {1: (7, 2), 2: (5, 7, 2), 3: (3, 5, 4, 1)}[spatial]
    with keras_env.precision("float32"):
        x = rng.integers(0, 3, size=(2, *shape)).astype("float32")
        mine, reference = adaptive_forward_and_gradients(keras_env, kind, 3, x, rng)
    for a, b in zip(mine, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("kind", "size", "shape"), ADAPTIVE, ids=ADAPTIVE_IDS)
def test_adaptive_poolings_match_finite_differences(float64, kind, size, shape):
    layer = getattr(L, kind)(size)
    x = np.random.default_rng(2).normal(size=(2, *shape))       # no ties: a true gradient
    results = check_layer(layer, x)
    assert len(results) == 1
    assert results[0].relative_error < 1e-7, results[0]


def test_adaptive_poolings_equal_the_op(float64):
    """The layers (their own per-axis bins) and ops.adaptive_*_pool (two pools and a
    gather) give the same numbers."""
    x = np.random.default_rng(3).normal(size=(2, 7, 5, 2))
    np.testing.assert_allclose(L.AdaptiveAveragePooling2D((3, 2))(x),
                               mr.ops.adaptive_average_pool(x, (3, 2)), rtol=1e-14)
    np.testing.assert_array_equal(L.AdaptiveMaxPooling2D((3, 2))(x),
                                  mr.ops.adaptive_max_pool(x, (3, 2)))


ADAPTIVE_CONFIGS = [("AdaptiveAveragePooling1D", dict(output_size=3)),
                    ("AdaptiveMaxPooling2D", dict(output_size=(2, 3), name="p")),
                    ("AdaptiveAveragePooling3D", dict(output_size=[1, 2, 3])),
                    ("AdaptiveMaxPooling3D", dict(output_size=4, data_format="channels_last"))]


@pytest.mark.parametrize(("kind", "kwargs"), ADAPTIVE_CONFIGS)
def test_adaptive_get_config_is_keras_get_config(keras_env, kind, kwargs):
    ours = getattr(L, kind)(**kwargs)
    theirs = getattr(keras_env.keras.layers, kind)(**kwargs)
    config, keras_config = ours.get_config(), theirs.get_config()
    assert sorted(config) == sorted(keras_config)
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in keras_config.items() if k != "name"}
    for source in (config, keras_config, json.loads(json.dumps(keras_config))):
        again = getattr(L, kind).from_config(source)
        assert {**again.get_config(), "name": None} == {**config, "name": None}


def pooling_model(library):
    layers = library.layers
    return library.Sequential([
        library.Input((7, 5, 2)),
        layers.Conv2D(3, 2, activation="tanh"),
        layers.AdaptiveMaxPooling2D((3, 2)),
        layers.Reshape((6, 3)),
        layers.AdaptiveAveragePooling1D(4),
        layers.Flatten(),
        layers.Dense(1),
    ])


def test_adaptive_poolings_fit_as_in_keras(keras_env):
    """float64, SGD, 3 epochs: History and the trained weights to 1e-9 (three epochs
    amplify the 1e-16 differences of summation order)."""
    keras = keras_env.keras
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 7, 5, 2)), rng.normal(size=(8, 1))
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        ours = pooling_model(mr)
        twin = pooling_model(keras)
        twin.set_weights(ours.get_weights())
        ours.compile(optimizer=mr.optimizers.SGD(0.05), loss="mse")
        twin.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        history = ours.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        keras_history = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], keras_history.history["loss"],
                               rtol=1e-9)
    assert history.history["loss"][-1] != history.history["loss"][0]
    for weight, keras_weight in zip(ours.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-9, atol=1e-11)


def test_adaptive_poolings_load_in_keras_and_back(keras_env, tmp_path):
    keras = keras_env.keras
    x = np.random.default_rng(0).normal(size=(3, 7, 5, 2)).astype("float32")
    mr.utils.set_random_seed(0)
    ours = pooling_model(mr)
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert [type(layer).__name__ for layer in theirs.layers] == [
        type(layer).__name__ for layer in ours.layers]
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    twin = pooling_model(keras)
    twin.save(tmp_path / "theirs.keras")
    back = mr.models.load_model(tmp_path / "theirs.keras")
    assert back.layers[1].output_size == (3, 2)
    np.testing.assert_allclose(back.predict(x, verbose=0), twin.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: L.AdaptiveAveragePooling2D((2, 2, 2)), TypeError, "output_size"),
    (lambda: L.AdaptiveMaxPooling1D("3"), TypeError, "output_size"),
    (lambda: L.AdaptiveMaxPooling2D((2, 0)), ValueError, "positive"),
    (lambda: L.AdaptiveAveragePooling3D(2, data_format="channels_first"), ValueError,
     "channels_last"),
    (lambda: L.AdaptiveMaxPooling2D(2)(np.ones((2, 4, 3))), ValueError, "expected ndim=4"),
])
def test_adaptive_refused_arguments_say_why(make, error, match):
    with pytest.raises(error, match=match):
        make()
