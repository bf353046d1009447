"""Masks read by more layers, as Keras 3 reads them: ``Softmax`` (the masked positions get
-1e9 before the softmax and 0 after it). Each against Keras: the outputs, ``δx`` under
``tf.GradientTape``, a float64 gradient check, and a short fit of a model whose
``Embedding(mask_zero=True)`` feeds the layer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_function, numerical_gradient, relative_error

#: padded sequences of word ids: 0 is the padding
IDS = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2], [5, 0, 0, 0, 0], [9, 9, 6, 0, 0],
                [1, 2, 0, 0, 0], [4, 4, 4, 4, 0]])


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def softmax_cases() -> list:
    """``(name, x, mask, axis)``: masks as Keras takes them, broadcast from the right."""
    rng = np.random.default_rng(0)
    x2, x3 = rng.normal(size=(6, 5)) * 3, rng.normal(size=(4, 3, 5)) * 3
    keys = rng.random((4, 1, 5)) > 0.4
    keys[0] = False                                   # a sample whose rows are all masked
    return [
        ("same shape", x2, IDS != 0, -1),
        ("one row all masked", x2, np.zeros((6, 5), bool) | (IDS != 0) * (IDS[:, :1] != 5),
         -1),
        ("broadcast over rows", x3, keys, -1),
        ("last axis only", x3, np.array([True, False, True, True, False]), -1),
        ("float mask > 0.5", x2, rng.random((6, 5)), -1),
        ("integer mask > 0", x2, (IDS % 3).astype("int32"), -1),
        ("axis 1", x3, rng.random((4, 3, 1)) > 0.3, 1),
        ("two axes", x3, rng.random((4, 3, 5)) > 0.3, [1, 2]),
    ]


CASES = softmax_cases()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_masked_softmax_and_its_gradient_equal_keras(keras_env, case, dtype):
    keras, tf = keras_env.keras, keras_env.tf
    _, x, mask, axis = case
    x = x.astype(dtype)
    upstream = np.random.default_rng(1).normal(size=x.shape).astype(dtype)
    xt = tf.constant(x)
    with tf.GradientTape() as tape, keras_env.precision(dtype):
        tape.watch(xt)
        expected = keras.layers.Softmax(axis=axis)(xt, mask=tf.constant(mask))
        total = tf.reduce_sum(expected * upstream)
        expected_grad = tape.gradient(total, xt).numpy()
        layer = mr.layers.Softmax(axis=axis)
        ours = layer(x, mask=mask)
        grad = layer.backward(upstream)
    assert ours.dtype == dtype and grad.dtype == dtype
    tolerance = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(ours, expected.numpy(), rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(grad, expected_grad, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_masked_softmax_gradient_matches_finite_differences(float64, case):
    _, x, mask, axis = case
    layer = mr.layers.Softmax(axis=axis)

    def backward(x, y, upstream):
        layer.forward(x, mask=mask)
        return layer.backward(upstream)

    result = check_function(lambda x: layer.forward(x, mask=mask), backward, x.copy())
    assert result.relative_error < 1e-7, result


def test_masked_softmax_formulas():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    layer = mr.layers.Softmax()
    a = layer(x, mask=mask)
    e = np.exp([1.0, 3.0])
    np.testing.assert_allclose(a, [[e[0] / e.sum(), 0.0, e[1] / e.sum()], [0.0, 0.0, 0.0]],
                               rtol=1e-6)
    upstream = np.array([[1.0, 7.0, -1.0], [1.0, 2.0, 3.0]], dtype="float32")
    s = a[0, [0, 2]]
    row = s * (upstream[0, [0, 2]] - np.sum(upstream[0, [0, 2]] * s))   # δz = s ⊙ (δs - Σ δs s)
    np.testing.assert_allclose(layer.backward(upstream), [[row[0], 0.0, row[1]], [0, 0, 0]],
                               rtol=1e-6)
    np.testing.assert_allclose(layer(x), mr.activations.softmax(x.astype("float32")))
    assert np.all(layer.backward(upstream)[1] != 0)            # without a mask: all read


def test_a_mask_softmax_cannot_broadcast_is_refused_as_keras(keras_env):
    keras = keras_env.keras
    x = np.zeros((6, 5, 3), "float32")
    for mask in [IDS != 0, np.ones((1, 6, 5, 3), bool)]:
        with pytest.raises(ValueError, match="must be broadcastable"):
            keras.layers.Softmax()(x, mask=mask)
        with pytest.raises(ValueError, match="The `mask` must be broadcastable to `inputs`"):
            mr.layers.Softmax()(x, mask=mask)
    inputs = mr.Input((5,))                          # in a model: the Embedding's (N, T) mask
    hidden = mr.layers.Embedding(10, 3, mask_zero=True)(inputs)
    model = mr.Model(inputs, mr.layers.Softmax()(hidden))
    with pytest.raises(ValueError, match=r"inputs.shape=\(6, 5, 3\), mask.shape=\(6, 5\)"):
        model(IDS)


def scores_model(lib):
    """Embedding(mask_zero=True) → Dense(1, tanh) → a sum over the last axis (a layer of your
    own that passes the mask on) → Softmax over the time steps, which reads the mask →
    Reshape to ``(T, 1)`` (which drops the mask, with Keras' warning: a loss on the
    ``(N, T)`` scores would get an ``(N, T)`` mask for ``(N,)`` loss values, an error in
    both libraries)."""

    class SumLast(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, x):
            return lib.ops.sum(x, axis=-1)

    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
    scores = SumLast()(lib.layers.Dense(1, activation="tanh")(hidden))   # tanh: a bias gradient
    # (a softmax ignores a shift: after a plain Dense(1) the bias gradient is 0 + rounding)
    weights = lib.layers.Softmax()(scores)
    return lib.Model(inputs, [weights, lib.layers.Reshape((5, 1))(weights)])


def test_a_model_feeding_softmax_a_mask_trains_as_keras(keras_env):
    keras = keras_env.keras
    y = np.random.default_rng(4).random((*IDS.shape, 1))
    with keras_env.precision("float64"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not support masking")
        model, twin = scores_model(mr), scores_model(keras)
        twin.set_weights(model.get_weights())
        for ours, theirs in zip(model(IDS), twin(IDS), strict=True):
            np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-14, atol=1e-300)
        np.testing.assert_array_equal(model.output_masks()[0], IDS != 0)
        assert model.output_masks()[1] is None
        model = mr.Model(model.inputs, model.outputs[1])
        twin = keras.Model(twin.inputs, twin.outputs[1])
        for lib, net in [(mr, model), (keras, twin)]:
            net.compile(optimizer=lib.optimizers.SGD(0.5, momentum=0.9), loss="mse",
                        metrics=["mae"])
        kwargs = {"epochs": 3, "batch_size": 4, "shuffle": False, "verbose": 0}
        ours, theirs = model.fit(IDS, y, **kwargs), twin.fit(IDS, y, **kwargs)
    for key in theirs.history:
        np.testing.assert_allclose(ours.history[key], theirs.history[key], rtol=1e-12,
                                   err_msg=key)
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-12, atol=1e-14)


# -- Maximum, Minimum, Multiply: Keras' merge of masked values -----------------------------------

MERGES = ["Maximum", "Minimum", "Multiply"]


def merge_cases() -> list:
    """``(name, xs, masks)``: masks of one axis fewer than their inputs (None: no mask)."""
    rng = np.random.default_rng(5)
    m1, m2, m3 = IDS != 0, IDS[::-1] != 0, rng.random((6, 5)) > 0.5
    x = [rng.normal(size=(6, 5, 3)) for _ in range(3)]
    ties = [rng.integers(-1, 2, size=(6, 5, 3)).astype(float) for _ in range(3)]
    return [
        ("both masked", x[:2], [m1, m2]),
        ("one masked", x[:2], [None, m2]),
        ("first masked", x[:2], [m1, None]),
        ("three, one unmasked", x, [m1, None, m3]),
        ("three masked", x, [m1, m2, m3]),
        ("ties", ties, [m1, m2, m3]),
        ("stretched (6, 5, 1)", [x[0][..., :1], x[1]], [m1, m2]),
        ("ranks differ", [x[0][:, 0], x[1]], [None, m2]),   # (6, 3) merged as (6, 1, 3)
    ]


MERGE_CASES = merge_cases()


@pytest.mark.parametrize("case", MERGE_CASES, ids=[c[0] for c in MERGE_CASES])
@pytest.mark.parametrize("merge", MERGES)
def test_masked_merge_values_masks_and_gradients_equal_keras(keras_env, merge, case):
    from keras.src import backend as keras_backend

    keras, tf = keras_env.keras, keras_env.tf
    _, xs, masks = case
    with keras_env.precision("float64"):
        tensors = [tf.constant(x) for x in xs]
        with tf.GradientTape() as tape:
            for tensor, m in zip(tensors, masks, strict=True):
                tape.watch(tensor)
                if m is not None:
                    keras_backend.set_keras_mask(tensor, tf.constant(m))
            expected = getattr(keras.layers, merge)()(tensors)
            upstream = np.random.default_rng(6).normal(size=expected.shape)
            total = tf.reduce_sum(expected * upstream)
        expected_grads = tape.gradient(total, tensors)
        layer = getattr(mr.layers, merge)()
        ours = layer(xs, mask=masks)
        grads = layer.backward(upstream)
    np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-14, atol=1e-300)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(grad, expected_grad.numpy(), rtol=1e-14, atol=1e-300)
    keras_mask = keras_backend.get_keras_mask(expected)
    our_mask = layer.compute_mask(xs, masks)
    if keras_mask is None:
        assert our_mask is None
    else:
        np.testing.assert_array_equal(our_mask, keras_mask.numpy())


@pytest.mark.parametrize("case", MERGE_CASES, ids=[c[0] for c in MERGE_CASES])
@pytest.mark.parametrize("merge", MERGES)
def test_masked_merge_gradients_match_finite_differences(float64, merge, case):
    _, xs, masks = case
    xs = [x + 0.001 * np.arange(x.size).reshape(x.shape) + 0.1 * i     # no ties: a max and
          for i, x in enumerate(xs)]                          # a min have no δ there
    layer = getattr(mr.layers, merge)()
    upstream = np.random.default_rng(7).normal(size=layer(xs, mask=masks).shape)
    layer(xs, mask=masks)
    analytic = layer.backward(upstream)
    for i, x in enumerate(xs):
        numeric = numerical_gradient(lambda: float(np.sum(layer(xs, mask=masks) * upstream)),
                                     x)
        assert relative_error(analytic[i], numeric) < 1e-8, (merge, case[0], i)


def test_masked_merge_formulas():
    x1, x2 = np.array([[[1.0], [5.0]]]), np.array([[[3.0], [4.0]]])
    m1, m2 = np.array([[True, False]]), np.array([[False, False]])
    assert mr.layers.Maximum()([x1, x2], mask=[m1, m2]).ravel().tolist() == [1.0, 5.0]
    assert mr.layers.Minimum()([x1, x2], mask=[m1, m2]).ravel().tolist() == [1.0, 5.0]
    assert mr.layers.Maximum()([x1, x2], mask=[None, m2]).ravel().tolist() == [1.0, 5.0]
    assert mr.layers.Multiply()([x1, x2], mask=[m1, m2]).ravel().tolist() == [1.0, 0.0]
    assert mr.layers.Multiply()([x1, x2], mask=[m1, None]).ravel().tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match=r"must stretch to its input's shape \(1, 2, 1\)"):
        mr.layers.Maximum()([x1, x2], mask=[np.ones((1, 2, 1), bool), m2])


def two_masked_inputs(lib, merge: str):
    """Two padded sequences, each through its Embedding(mask_zero=True), merged, then a
    per-step Dense: the merged mask reaches the loss."""
    first, second = lib.Input((5,), dtype="int32"), lib.Input((5,), dtype="int32")
    a = lib.layers.Embedding(10, 3, mask_zero=True)(first)
    b = lib.layers.Embedding(10, 3, mask_zero=True)(second)
    merged = getattr(lib.layers, merge)()([a, lib.layers.Dense(3)(b)])
    return lib.Model([first, second], lib.layers.Dense(2)(merged))


@pytest.mark.parametrize("merge", MERGES)
def test_a_model_merging_masked_sequences_trains_as_keras(keras_env, merge):
    keras = keras_env.keras
    second = IDS[::-1].copy()
    second[:, 0] = 0                          # a step masked in both inputs
    y = np.random.default_rng(8).normal(size=(*IDS.shape, 2))
    with keras_env.precision("float64"):
        model, twin = two_masked_inputs(mr, merge), two_masked_inputs(keras, merge)
        twin.set_weights(model.get_weights())
        expected = twin([IDS, second])
        np.testing.assert_allclose(model([IDS, second]), np.asarray(expected), rtol=1e-13)
        np.testing.assert_array_equal(model.output_masks()[0],
                                      np.asarray(expected._keras_mask))
        for lib, net in [(mr, model), (keras, twin)]:
            net.compile(optimizer=lib.optimizers.SGD(0.1, momentum=0.9), loss="mse",
                        metrics=["mae"])
        kwargs = {"epochs": 3, "batch_size": 4, "shuffle": False, "verbose": 0}
        ours = model.fit([IDS, second], y, **kwargs)
        theirs = twin.fit([IDS, second], y, **kwargs)
    for key in theirs.history:
        np.testing.assert_allclose(ours.history[key], theirs.history[key], rtol=1e-12,
                                   err_msg=key)
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-12, atol=1e-14)


# -- Lambda: its function receives the mask when it names it; `mask=` gives the output's --------

def lambda_model(lib, mask_argument):
    """Embedding(mask_zero=True) → a Lambda whose function reads the mask (zeroes the padded
    steps, then a cumulative sum over the steps) → Dense per step, then a masked mean."""
    ops = lib.ops

    def zero_padded(x, mask):
        return ops.cumsum(x * ops.cast(ops.expand_dims(mask, -1), x.dtype), axis=1)

    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 3, mask_zero=True)(inputs)
    kwargs = {"output_shape": (5, 3)}              # Keras infers it without the mask: no
    if mask_argument is not None:
        kwargs["mask"] = mask_argument
    steps = lib.layers.Dense(2)(lib.layers.Lambda(zero_padded, **kwargs)(hidden))
    return lib.Model(inputs, lib.layers.GlobalAveragePooling1D()(steps))


@pytest.mark.filterwarnings("ignore:.*does not support masking")   # without `mask=`
@pytest.mark.parametrize("mask_argument", [None, "same", "first two"])
def test_lambda_reads_the_mask_and_gives_its_mask_argument_as_keras(keras_env, mask_argument):
    keras = keras_env.keras
    fixed = np.zeros((4, 5), bool)
    fixed[:, :2] = True
    argument = {None: None, "same": lambda inputs, mask: mask,
                "first two": lambda inputs, mask: fixed}[mask_argument]
    y = np.random.default_rng(9).normal(size=(len(IDS), 2))
    x = IDS[:4]                                  # "first two": a mask of the batch's shape
    with keras_env.precision("float64"):
        model, twin = lambda_model(mr, argument), lambda_model(keras, argument)
        twin.set_weights(model.get_weights())
        np.testing.assert_allclose(model(x), np.asarray(twin(x)), rtol=1e-14)
        for lib, net in [(mr, model), (keras, twin)]:
            net.compile(optimizer=lib.optimizers.SGD(0.2, momentum=0.9), loss="mse")
        kwargs = {"epochs": 3, "batch_size": 4, "shuffle": False, "verbose": 0}
        ours, theirs = model.fit(x, y[:4], **kwargs), twin.fit(x, y[:4], **kwargs)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-12, atol=1e-14)


def test_lambda_mask_formulas():
    x, mask = np.array([[[0.0, 1.0, 2.0], [3.0, 3.0, 3.0]]]), np.array([[True, False]])
    seen = []
    layer = mr.layers.Lambda(lambda x, mask: seen.append(mask) or x * 2.0,
                             mask=lambda inputs, mask: ~mask)
    inputs = mr.Input((2, 3))
    model = mr.Model(inputs, layer(mr.layers.Masking(mask_value=3.0)(inputs)))
    np.testing.assert_allclose(model(x), x * 2.0 * [[[1.0], [0.0]]])   # Masking zeroes
    np.testing.assert_array_equal(seen[-1], [[True, False]])     # Masking: step 2 is all 3.0
    np.testing.assert_array_equal(model.output_masks()[0], [[False, True]])
    assert mr.layers.Lambda(lambda x: x).compute_mask(x, mask) is None      # no `mask=`


# -- BatchNormalization in training: the moments of the real positions only ----------------------

def padded_floats(seed: int) -> np.ndarray:
    """(6, 5, 3) sequences; the padded steps (the zeros of IDS) hold values far from the
    others, which would move the statistics if they were counted."""
    x = np.random.default_rng(seed).normal(size=(*IDS.shape, 3)) + 1.0
    return np.where((IDS != 0)[..., None], x, 50.0)


@pytest.mark.parametrize("options", [{}, {"axis": 1, "scale": False}, {"center": False}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_masked_batch_normalization_in_training_equals_keras(keras_env, dtype, options):
    keras, tf = keras_env.keras, keras_env.tf
    x, mask = padded_floats(10).astype(dtype), IDS != 0
    if options.get("axis") == 1:
        x = np.concatenate([x, padded_floats(16).astype(dtype)[..., :1]], axis=-1)  # (6, 5, 4)
    upstream = np.random.default_rng(11).normal(size=x.shape).astype(dtype)
    with keras_env.precision(dtype):
        layer = mr.layers.BatchNormalization(momentum=0.5, **options)
        twin = keras.layers.BatchNormalization(momentum=0.5, **options)
        layer.build((None, *x.shape[1:]))
        twin.build((None, *x.shape[1:]))
        rng = np.random.default_rng(12)
        weights = [w + rng.normal(size=w.shape).astype(dtype) * 0.3 for w in layer.get_weights()]
        weights = [np.abs(w) if i >= len(weights) - 1 else w for i, w in enumerate(weights)]
        layer.set_weights(weights)
        twin.set_weights(weights)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            expected = twin(xt, training=True, mask=tf.constant(mask))
            total = tf.reduce_sum(expected * upstream)
        expected_grads = tape.gradient(total, [xt, *twin.trainable_weights])
        ours = layer(x, training=True, mask=mask)
        layer.zero_gradients()
        grad = layer.backward(upstream)
    tolerance = 1e-5 if dtype == "float32" else 1e-13    # float32: sums in another order
    np.testing.assert_allclose(ours, expected.numpy(), rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(grad, expected_grads[0].numpy(), rtol=tolerance, atol=tolerance)
    for ours_grad, keras_grad in zip(layer.gradients, expected_grads[1:], strict=False):
        np.testing.assert_allclose(ours_grad, keras_grad.numpy(), rtol=tolerance,
                                   atol=tolerance)
    for ours_weight, keras_weight in zip(layer.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(ours_weight, keras_weight, rtol=tolerance, atol=tolerance)


def test_masked_batch_normalization_gradient_matches_finite_differences(float64):
    x, mask = padded_floats(13), IDS != 0
    layer = mr.layers.BatchNormalization(gamma_initializer="random_normal",
                                         beta_initializer="random_normal")
    layer.build((None, 5, 3))
    upstream = np.random.default_rng(14).normal(size=x.shape)

    def f() -> float:
        return float(np.sum(layer.forward(x, training=True, mask=mask) * upstream))

    f()
    layer.zero_gradients()
    analytic = layer.backward(upstream)
    analytic_weights = [g.copy() for g in layer.gradients[:2]]
    assert relative_error(analytic, numerical_gradient(f, x)) < 1e-7
    for weight, grad in zip(layer.weights[:2], analytic_weights, strict=True):
        assert relative_error(grad, numerical_gradient(f, weight)) < 1e-7


def test_masked_batch_normalization_formulas():
    x = np.array([[[1.0], [3.0], [100.0]]])              # the third step is padding
    mask = np.array([[True, True, False]])
    layer = mr.layers.BatchNormalization(momentum=0.0, epsilon=1e-3)
    a = layer(x, training=True, mask=mask)
    d = 2.0 + 1e-7                                       # D = Σ w + ε₇
    mean = 4.0 / d
    variance = ((1.0 - mean) ** 2 + (3.0 - mean) ** 2) / d
    np.testing.assert_allclose(layer.moving_mean.value, [mean], rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.value, [variance], rtol=1e-6)
    np.testing.assert_allclose(a.ravel(), (x.ravel() - mean) / np.sqrt(variance + 1e-3),
                               rtol=1e-6)
    np.testing.assert_allclose(layer(x, mask=mask), layer(x))      # inference: not read
    with pytest.raises(ValueError, match="one dimension less than the inputs"):
        layer(x, training=True, mask=np.ones((1, 3, 1), bool))


def normalized_model(lib):
    """Embedding(mask_zero=True) → BatchNormalization (in fit: masked statistics) → Dense per
    step → masked mean → Dense."""
    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 3, mask_zero=True,
                                  embeddings_initializer="random_normal")(inputs)
    steps = lib.layers.Dense(4, activation="tanh")(lib.layers.BatchNormalization()(hidden))
    return lib.Model(inputs, lib.layers.Dense(1)(lib.layers.GlobalAveragePooling1D()(steps)))


def test_a_model_with_masked_batch_normalization_trains_as_keras(keras_env):
    keras = keras_env.keras
    y = np.random.default_rng(15).normal(size=(len(IDS), 1))
    with keras_env.precision("float64"):
        model, twin = normalized_model(mr), normalized_model(keras)
        twin.set_weights(model.get_weights())
        for lib, net in [(mr, model), (keras, twin)]:
            net.compile(optimizer=lib.optimizers.SGD(0.1, momentum=0.9), loss="mse")
        kwargs = {"epochs": 3, "batch_size": 3, "shuffle": False, "verbose": 0}
        ours, theirs = model.fit(IDS, y, **kwargs), twin.fit(IDS, y, **kwargs)
        np.testing.assert_allclose(model.predict(IDS, verbose=0),
                                   twin.predict(IDS, verbose=0), rtol=1e-12)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-12, atol=1e-14)

