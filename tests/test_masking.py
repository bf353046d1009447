"""Keras' masking: producers (Embedding(mask_zero=True), Masking), propagation through
Sequential and functional models, consumers (GlobalAveragePooling1D, merging layers, your
own layers, the loss and the metrics), each against Keras in float64."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer, check_model, numerical_gradient, relative_error
from minired.losses.loss import apply_mask

#: padded sequences of word ids: 0 is the padding
IDS = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2], [5, 0, 0, 0, 0], [9, 9, 6, 0, 0],
                [1, 2, 0, 0, 0], [4, 4, 4, 4, 0]])


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def padded_floats(seed: int = 0) -> np.ndarray:
    """(6, 5, 3) sequences whose padded steps (the zeros of IDS) are all 0.0."""
    x = np.random.default_rng(seed).normal(size=(*IDS.shape, 3))
    return x * (IDS != 0)[..., None]


def same_weights(model, twin) -> None:
    twin.set_weights(model.get_weights())


def assert_fit_equal(model, twin, x, y, **fit_kwargs) -> None:
    """Three epochs of SGD with momentum, no shuffling: History and weights equal Keras'
    (float64, the same formulas: 1e-12 leaves room for roundings only)."""
    ours = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0, **fit_kwargs)
    theirs = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0, **fit_kwargs)
    assert sorted(ours.history) == sorted(theirs.history)
    for key in ours.history:
        np.testing.assert_allclose(ours.history[key], theirs.history[key], rtol=1e-12,
                                   err_msg=key)
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-12, atol=1e-14)


# -- the layer API --------------------------------------------------------------------------------

def test_supports_masking_is_keras_for_each_layer(keras_env):
    keras = keras_env.keras

    def pairs(lib):
        L = lib.layers
        return [L.Dense(2), L.Dropout(0.1), L.Activation("relu"), L.ReLU(), L.Softmax(),
                L.LeakyReLU(), L.ELU(), L.PReLU(), L.BatchNormalization(),
                L.LayerNormalization(), L.Rescaling(2.0), L.Normalization(), L.Flatten(),
                L.Conv1D(2, 2), L.Conv2D(2, 2), L.Reshape((2,)), L.MaxPooling1D(2),
                L.AveragePooling1D(2), L.GlobalAveragePooling1D(), L.GlobalMaxPooling1D(),
                L.GlobalAveragePooling2D(), L.Embedding(3, 2), L.Embedding(3, 2, mask_zero=True),
                L.Masking(), L.Add(), L.Concatenate(), L.Maximum(), L.SpatialDropout2D(0.1),
                L.Layer(),
                # the layers added with masking
                L.Conv1DTranspose(2, 2), L.Conv2DTranspose(2, 2), L.DepthwiseConv2D(2),
                L.SeparableConv2D(2, 2), L.LSTM(2), L.GRU(2), L.SimpleRNN(2),
                L.Bidirectional(L.LSTM(2)), L.MultiHeadAttention(2, 2), L.Attention(),
                L.AdditiveAttention(), L.RandomFlip(), L.RandomRotation(0.1),
                L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1), L.RandomContrast(0.1),
                L.RandomBrightness(0.1), L.RandomCrop(2, 2), L.Lambda(lambda x: x),
                L.Identity(), L.GaussianNoise(0.1), L.GaussianDropout(0.1),
                L.ActivityRegularization(), L.RepeatVector(2), L.Permute((2, 1)),
                L.Cropping1D(1), L.Cropping2D(1), L.UpSampling1D(), L.UpSampling2D(),
                L.ZeroPadding1D(), L.ZeroPadding2D(), L.Dot(1), L.Subtract(), L.Multiply(),
                L.Average(), L.Minimum(), L.MaxPooling2D(), L.AveragePooling2D(2),
                L.GlobalMaxPooling2D()]

    ours, theirs = pairs(mr), pairs(keras)
    for layer, twin in zip(ours, theirs, strict=True):
        assert layer.supports_masking == twin.supports_masking, type(layer).__name__


# -- the attention layers read the masks of their inputs ------------------------------------------

def masked_attention_model(lib, kind: str, scores_output: bool = True,
                           mask_zero: bool = True):
    """Embedding(mask_zero=True) -> MultiHeadAttention(e, e) (``kind="mha"``) or
    Attention([e, f]) of two masked inputs (``"dot"``) or AdditiveAttention (``"additive"``)
    -> GlobalAveragePooling1D -> Dense(2); the attention's output is an output too (its
    mask is the query's)."""
    L = lib.layers
    first = lib.Input((5,))
    e = L.Embedding(10, 4, mask_zero=mask_zero)(first)
    if kind == "mha":
        inputs = first
        attended = L.MultiHeadAttention(2, 3)(e, e)
    else:
        second = lib.Input((5,))
        f = L.Embedding(10, 4, mask_zero=mask_zero)(second)
        inputs = [first, second]
        layer = L.Attention(use_scale=True) if kind == "dot" else L.AdditiveAttention()
        attended = layer([e, f])
    outputs = L.Dense(2)(L.GlobalAveragePooling1D()(attended))
    return lib.Model(inputs, [outputs, attended] if scores_output else outputs)


@pytest.mark.parametrize("kind", ["mha", "dot", "additive"])
def test_attention_layers_read_the_masks_of_their_inputs_as_keras(keras_env, kind):
    """Keras fills MultiHeadAttention's query_mask/value_mask/key_mask and Attention's
    mask=[query_mask, value_mask] from the masks of the inputs; the output's mask is the
    query's. Outputs, masks and two epochs of SGD equal Keras' in float64."""
    keras = keras_env.keras
    x = IDS if kind == "mha" else [IDS, IDS[::-1].copy()]
    y = np.random.default_rng(8).normal(size=(len(IDS), 2))
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model, twin = masked_attention_model(mr, kind), masked_attention_model(keras, kind)
        same_weights(model, twin)
        expected = twin(x)
        for ours, theirs in zip(model(x), expected, strict=True):
            np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-12, atol=1e-14)
        assert model.output_masks()[0] is None
        np.testing.assert_array_equal(model.output_masks()[1], IDS != 0)
        np.testing.assert_array_equal(model.output_masks()[1],
                                      np.asarray(expected[1]._keras_mask))
        unmasked = masked_attention_model(mr, kind, mask_zero=False)
        same_weights(model, unmasked)
        assert not np.allclose(model(x)[0], unmasked(x)[0])    # the masks change the result
        model = masked_attention_model(mr, kind, scores_output=False)
        twin = masked_attention_model(keras, kind, scores_output=False)
        same_weights(model, twin)
        model.compile(optimizer=mr.optimizers.SGD(0.1), loss="mse")
        twin.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        kwargs = {"epochs": 2, "batch_size": 4, "shuffle": False, "verbose": 0}
        ours, theirs = model.fit(x, y, **kwargs), twin.fit(x, y, **kwargs)
        np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
        for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
            np.testing.assert_allclose(weight, keras_weight, rtol=1e-12, atol=1e-14)


def test_attention_scores_output_gets_no_mask_as_in_keras(keras_env):
    """With return_attention_scores the output's mask is the query's, the scores get none
    (Keras zips compute_mask's one mask with the outputs); causal and input masks combine."""
    keras = keras_env.keras

    def build(lib):
        first, second = lib.Input((5,)), lib.Input((5,))
        q = lib.layers.Embedding(10, 4, mask_zero=True)(first)
        v = lib.layers.Embedding(10, 4, mask_zero=True)(second)
        out, scores = lib.layers.Attention()([q, v], return_attention_scores=True,
                                             use_causal_mask=True)
        return lib.Model([first, second], [out, scores])

    x = [IDS, IDS[::-1].copy()]
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model, twin = build(mr), build(keras)
        same_weights(model, twin)
        expected = twin(x)
        for ours, theirs in zip(model(x), expected, strict=True):
            np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(model.output_masks()[0],
                                      np.asarray(expected[0]._keras_mask))
        assert model.output_masks()[1] is None
        assert getattr(expected[1], "_keras_mask", None) is None


def test_keras_default_rule_and_the_setter():
    class PassesMask(mr.layers.Layer):
        def compute_mask(self, inputs, previous_mask):
            return previous_mask

    assert PassesMask().supports_masking and not mr.layers.Layer().supports_masking
    layer = mr.layers.Flatten()
    layer.supports_masking = True
    assert layer.supports_masking and not mr.layers.Flatten().supports_masking
    mask = np.array([[True, False]])
    assert mr.layers.Dense(2).compute_mask(np.zeros((1, 2, 3)), mask) is mask


def test_a_layer_without_masking_drops_the_mask_with_keras_warning():
    inputs = mr.Input((5,))
    hidden = mr.layers.Embedding(10, 3, mask_zero=True)(inputs)
    outputs = mr.layers.Dense(1)(mr.layers.Flatten()(hidden))
    model = mr.Model(inputs, outputs)
    with pytest.warns(UserWarning, match=r"Layer 'flatten.*' \(of type Flatten\) was passed "
                      r"an input with a mask attached to it\. However, this layer does not "
                      r"support masking and will therefore destroy the mask information\."):
        model(IDS)
    assert model.output_masks() == [None]


# -- producers ------------------------------------------------------------------------------------

def test_embedding_mask_zero_computes_keras_mask(keras_env):
    keras = keras_env.keras
    layer = mr.layers.Embedding(10, 3, mask_zero=True)
    twin = keras.layers.Embedding(10, 3, mask_zero=True)
    np.testing.assert_array_equal(layer.compute_mask(IDS), np.asarray(twin.compute_mask(IDS)))
    assert mr.layers.Embedding(10, 3).compute_mask(IDS) is None


def test_masking_forward_and_mask_equal_keras(keras_env, float64):
    keras = keras_env.keras
    x = padded_floats()
    x[0, 1, 1] = 0.0                    # one zero feature in a real step: not masked
    x[2, 0] = [1.5, 1.5, 1.5]           # a step of mask_value 1.5 only for the second layer
    for value in (0.0, 1.5):
        layer = mr.layers.Masking(value)
        with keras_env.precision("float64"):
            expected = keras.layers.Masking(value)(x)
        np.testing.assert_array_equal(layer(x), np.asarray(expected))
        np.testing.assert_array_equal(layer.compute_mask(x, None),
                                      np.asarray(expected._keras_mask))


def test_masking_backward_matches_finite_differences_and_keras(keras_env, float64):
    """Finite differences hold on the real steps; on a padded step the mask itself jumps
    (a step of exact zeros), so there δx is Keras' 0 (the gradient of ``where``)."""
    tf = keras_env.tf
    x, real = padded_floats(1), IDS != 0
    layer = mr.layers.Masking()
    results = check_layer(layer, x + 2.0)        # no step equals mask_value: m = 1
    assert max(r.relative_error for r in results) < 1e-8
    upstream = np.random.default_rng(2).normal(size=x.shape)
    layer(x)
    grad = layer.backward(upstream)
    numeric = numerical_gradient(lambda: float(np.sum(layer(x) * upstream)), x)
    assert relative_error(grad[real], numeric[real]) < 1e-8
    assert np.all(grad[~real] == 0)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        with keras_env.precision("float64"):
            total = tf.reduce_sum(keras_env.keras.layers.Masking()(xt) * upstream)
    np.testing.assert_array_equal(grad, tape.gradient(total, xt).numpy())


# -- consumers: global average pooling, merging, your layers --------------------------------------

def test_masked_global_average_pooling_equals_keras_and_its_gradient(keras_env, float64):
    keras, tf = keras_env.keras, keras_env.tf
    x, mask = padded_floats(2) + 1.0, IDS != 0          # padded steps hold 1.0: not skipped
    layer = mr.layers.GlobalAveragePooling1D()
    upstream = np.random.default_rng(3).normal(size=(6, 3))
    xt = tf.constant(x)
    with tf.GradientTape() as tape, keras_env.precision("float64"):
        tape.watch(xt)
        expected = keras.layers.GlobalAveragePooling1D()(xt, mask=tf.constant(mask))
        total = tf.reduce_sum(expected * upstream)
    np.testing.assert_allclose(layer(x, mask=mask), expected.numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.backward(upstream), tape.gradient(total, xt).numpy(),
                               rtol=1e-13)
    numeric = numerical_gradient(lambda: float(np.sum(layer(x, mask=mask) * upstream)), x)
    assert relative_error(layer.backward(upstream), numeric) < 1e-8
    assert layer.compute_mask(x, mask) is None
    np.testing.assert_allclose(layer(x), x.mean(axis=1))   # without the mask: every step


def test_a_mask_of_the_wrong_shape_is_refused():
    layer = mr.layers.GlobalAveragePooling1D()
    with pytest.raises(ValueError, match=r"`mask` must have the shape of the inputs without "
                       r"their last axis, \(6, 5\).*got \(6, 4\)"):
        layer(padded_floats(), mask=np.ones((6, 4), bool))
    inputs = mr.Input((5, 3))
    model = mr.Model(inputs, mr.layers.GlobalAveragePooling1D()(inputs))
    with pytest.raises(ValueError, match=r"got \(5, 6\)"):
        model(padded_floats(), mask=np.ones((5, 6), bool))
    with pytest.raises(TypeError, match="keyword arguments \\['mask'\\]"):
        mr.layers.Dense(2)(padded_floats(), mask=np.ones((6, 5), bool))   # as Keras


def two_masked_inputs(lib, merge):
    first, second = lib.Input((5,), dtype="int32"), lib.Input((5,), dtype="int32")
    a = lib.layers.Embedding(10, 3, mask_zero=True)(first)
    b = lib.layers.Embedding(10, 3, mask_zero=True)(second)
    b_plain = lib.layers.Embedding(10, 3)(second)
    merged = merge(lib)([a, b])
    half = merge(lib)([a, b_plain])               # one input without a mask
    return lib.Model([first, second], [merged, half])


@pytest.mark.parametrize("merge", [lambda lib: lib.layers.Add(),
                                   lambda lib: lib.layers.Average(),
                                   lambda lib: lib.layers.Subtract(),
                                   lambda lib: lib.layers.Concatenate(),
                                   lambda lib: lib.layers.Concatenate(axis=1)])
def test_merging_masked_inputs_gives_keras_values_and_masks(keras_env, merge):
    keras = keras_env.keras
    second = IDS[::-1].copy()
    with keras_env.precision("float64"):
        model, twin = two_masked_inputs(mr, merge), two_masked_inputs(keras, merge)
        same_weights(model, twin)
        ours, theirs = model([IDS, second]), twin([IDS, second])
        for value, mask, expected in zip(ours, model.output_masks(), theirs, strict=True):
            np.testing.assert_allclose(value, np.asarray(expected), rtol=1e-14)
            keras_mask = getattr(expected, "_keras_mask", None)
            if keras_mask is None:
                assert mask is None
            else:
                np.testing.assert_array_equal(mask, np.asarray(keras_mask))


def test_merge_compute_mask_checks_as_keras():
    layer = mr.layers.Add()
    x, m = np.zeros((1, 2, 3)), np.array([[True, False]])
    assert layer.compute_mask([x, x], None) is None
    assert layer.compute_mask([x, x], [m, None]) is None
    with pytest.raises(ValueError, match="`mask` should be a list"):
        layer.compute_mask([x, x], m)
    with pytest.raises(ValueError, match="should have the same length"):
        layer.compute_mask([x, x], [m])


def custom_classes(lib):
    """A layer of your own that reads the mask (call(x, mask=None)) and passes on a new one
    (compute_mask), written for minired and for Keras with the same code."""

    class MaskedScale(lib.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs, mask=None):
            out = inputs * self.w
            if mask is not None:
                out = out * lib.ops.cast(lib.ops.expand_dims(mask, -1), out.dtype)
            return out

        def compute_mask(self, inputs, previous_mask):
            if previous_mask is None:
                return None
            return lib.ops.logical_and(previous_mask,
                                       lib.ops.greater(lib.ops.sum(inputs, axis=-1), -1.0))

    return MaskedScale


def custom_stack(lib, sequential: bool):
    scale = custom_classes(lib)
    layers = [lib.layers.Embedding(10, 3, mask_zero=True), scale(),
              lib.layers.Dense(2)]
    if sequential:
        return lib.Sequential([lib.Input((5,), dtype="int32"), *layers])
    inputs = lib.Input((5,), dtype="int32")
    x = inputs
    for layer in layers:
        x = layer(x)
    return lib.Model(inputs, x)


@pytest.mark.parametrize("sequential", [False, True])
def test_your_layer_reads_and_makes_masks_as_in_keras(keras_env, sequential):
    keras = keras_env.keras
    rng = np.random.default_rng(4)
    y = rng.normal(size=(*IDS.shape, 2))
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model, twin = custom_stack(mr, sequential), custom_stack(keras, sequential)
        same_weights(model, twin)
        expected = twin(IDS)
        np.testing.assert_allclose(model(IDS), np.asarray(expected), rtol=1e-14)
        np.testing.assert_array_equal(model.output_masks()[0],
                                      np.asarray(expected._keras_mask))
        model.compile(optimizer=mr.optimizers.SGD(0.1, momentum=0.9), loss="mse",
                      metrics=["mae"])
        twin.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse",
                     metrics=["mae"])
        assert_fit_equal(model, twin, IDS, y)


# -- the loss and the metrics ---------------------------------------------------------------------

def masking_sequence_model(lib):
    return lib.Sequential([lib.Input((5, 3)), lib.layers.Masking(),
                           lib.layers.Dense(4, activation="tanh"), lib.layers.Dense(2)])


def test_masking_dense_per_timestep_loss_fit_equals_keras(keras_env):
    keras = keras_env.keras
    x = padded_floats(5)
    y = np.random.default_rng(6).normal(size=(*IDS.shape, 2))
    weights = np.random.default_rng(7).uniform(0.5, 2.0, size=(6, 1))
    with keras_env.precision("float64"):
        for sample_weight in (None, weights):
            mr.utils.set_random_seed(0)
            model, twin = masking_sequence_model(mr), masking_sequence_model(keras)
            same_weights(model, twin)
            model.compile(optimizer=mr.optimizers.SGD(0.05, momentum=0.9), loss="mse",
                          metrics=["mae"], weighted_metrics=["mse"])
            twin.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="mse",
                         metrics=["mae"], weighted_metrics=["mse"])
            assert_fit_equal(model, twin, x, y, sample_weight=sample_weight)
            ours = model.evaluate(x, y, verbose=0, return_dict=True)
            theirs = twin.evaluate(x, y, verbose=0, return_dict=True)
            for key in ours:
                np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)


def embedding_tagger(lib):
    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
    outputs = lib.layers.Dense(3, activation="softmax")(lib.layers.Dropout(0.0)(hidden))
    return lib.Model(inputs, outputs)


def test_per_timestep_cross_entropy_and_accuracy_skip_the_padding_as_keras(keras_env):
    """Sparse cross-entropy from the softmax's logits, with the mask, and accuracy (SGD:
    with Adam the Embedding's dense gradient differs from TensorFlow's sparse slices, a
    difference the README describes)."""
    keras = keras_env.keras
    labels = np.random.default_rng(8).integers(0, 3, size=IDS.shape)
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(1)
        model, twin = embedding_tagger(mr), embedding_tagger(keras)
        same_weights(model, twin)
        for m, lib in ((model, mr), (twin, keras)):
            m.compile(optimizer=lib.optimizers.SGD(0.5, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        assert_fit_equal(model, twin, IDS, labels)


def pooled_classifier(lib):
    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
    pooled = lib.layers.GlobalAveragePooling1D()(hidden)
    return lib.Model(inputs, lib.layers.Dense(1, activation="sigmoid")(pooled))


def test_embedding_mask_zero_pooling_dense_fit_equals_keras(keras_env):
    keras = keras_env.keras
    y = np.array([[1.0], [0.0], [1.0], [0.0], [1.0], [1.0]])
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(2)
        model, twin = pooled_classifier(mr), pooled_classifier(keras)
        same_weights(model, twin)
        for m, lib in ((model, mr), (twin, keras)):
            m.compile(optimizer=lib.optimizers.SGD(0.5, momentum=0.9),
                      loss="binary_crossentropy", metrics=["accuracy"])
        assert_fit_equal(model, twin, IDS, y)
        np.testing.assert_allclose(model.predict(IDS, verbose=0), twin.predict(IDS, verbose=0),
                                   rtol=1e-13)
    assert model.output_masks() == [None]          # the pooling consumed the mask


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_apply_mask_and_the_masked_loss_equal_keras(keras_env, reduction, float64):
    keras, tf = keras_env.keras, keras_env.tf
    from keras.src.losses import loss as keras_loss

    mask = IDS != 0
    weights = np.random.default_rng(9).uniform(0.5, 2.0, size=(6, 1))
    for sample_weight in (None, weights):
        np.testing.assert_allclose(
            apply_mask(sample_weight, mask, np.float64, reduction),
            np.asarray(keras_loss.apply_mask(sample_weight, mask, "float64", reduction)),
            rtol=1e-15)
        y_true = np.random.default_rng(10).normal(size=(*IDS.shape, 2))
        y_pred = np.random.default_rng(11).normal(size=(*IDS.shape, 2))
        predictions = tf.constant(y_pred)
        predictions._keras_mask = tf.constant(mask)
        with keras_env.precision("float64"):
            expected = keras.losses.MeanSquaredError(reduction=reduction)(
                y_true, predictions, sample_weight=sample_weight)
        ours = mr.losses.MeanSquaredError(reduction=reduction).compute(
            y_true, y_pred, sample_weight, gradient=False, mask=mask)[0]
        np.testing.assert_allclose(ours, float(expected), rtol=1e-13)


def test_the_masked_loss_gradient_matches_finite_differences(float64):
    mask = IDS != 0
    y_true = np.random.default_rng(12).integers(0, 3, size=IDS.shape)
    y_pred = np.random.default_rng(13).normal(size=(*IDS.shape, 3))
    loss = mr.losses.SparseCategoricalCrossentropy(from_logits=True)
    weights = np.random.default_rng(14).uniform(0.5, 2.0, size=(6, 1))
    for sample_weight in (None, weights):
        value, grad = loss.compute(y_true, y_pred, sample_weight, mask=mask)
        numeric = numerical_gradient(
            lambda sw=sample_weight: loss.compute(y_true, y_pred, sw, gradient=False,
                                                  mask=mask)[0], y_pred)
        assert relative_error(grad, numeric) < 1e-8
        assert np.all(grad[~mask] == 0)                  # padded steps: no gradient
    with pytest.raises(ValueError, match=r"mask of the predictions must have the shape of the "
                       r"loss values \(6, 5\), got \(6, 4\)"):
        loss.compute(y_true, y_pred, mask=np.ones((6, 4), bool))


def test_a_masked_model_gradient_matches_finite_differences(float64):
    mr.utils.set_random_seed(3)
    model = embedding_tagger(mr)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    labels = np.random.default_rng(15).integers(0, 3, size=IDS.shape)
    results = check_model(model, IDS, labels)
    assert max(r.relative_error for r in results) < 1e-7


def test_a_metric_given_a_mask_skips_the_masked_values_as_keras(keras_env, float64):
    keras, tf = keras_env.keras, keras_env.tf
    y_true = np.random.default_rng(16).integers(0, 3, size=IDS.shape)
    y_pred = np.random.default_rng(17).normal(size=(*IDS.shape, 3))
    predictions = tf.constant(y_pred)
    predictions._keras_mask = tf.constant(IDS != 0)
    with keras_env.precision("float64"):
        twin = keras.metrics.SparseCategoricalAccuracy()
        twin.update_state(y_true, predictions)
    metric = mr.metrics.SparseCategoricalAccuracy()
    metric.update_state(y_true, y_pred, mask=IDS != 0)
    np.testing.assert_allclose(metric.result(), float(twin.result()), rtol=1e-15)


# -- explicit masks, nested models, the cost without masks ----------------------------------------

def test_a_model_takes_masks_for_its_inputs_as_keras(keras_env):
    keras = keras_env.keras

    def pooled(lib):
        inputs = lib.Input((5, 3))
        return lib.Model(inputs, lib.layers.GlobalAveragePooling1D()(lib.layers.Dense(2)(inputs)))

    x = padded_floats(18) + 1.0
    with keras_env.precision("float64"):
        model, twin = pooled(mr), pooled(keras)
        same_weights(model, twin)
        np.testing.assert_allclose(model(x, mask=IDS != 0),
                                   np.asarray(twin(x, mask=IDS != 0)), rtol=1e-14)


def test_a_nested_model_passes_its_masks_on(keras_env):
    keras = keras_env.keras

    def nested(lib):
        inner_in = lib.Input((5,), dtype="int32")
        inner = lib.Model(inner_in, lib.layers.Embedding(10, 3, mask_zero=True)(inner_in))
        outer_in = lib.Input((5,), dtype="int32")
        return lib.Model(outer_in, lib.layers.GlobalAveragePooling1D()(inner(outer_in)))

    with keras_env.precision("float64"):
        model, twin = nested(mr), nested(keras)
        same_weights(model, twin)
        np.testing.assert_allclose(model(IDS), np.asarray(twin(IDS)), rtol=1e-14)


def test_a_model_without_masks_runs_the_plain_path():
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3), mr.layers.Dense(1)])
    assert not model._uses_masks
    model(np.zeros((2, 4)))
    assert model.cache.output_masks is None
    embedding = mr.Sequential([mr.Input((5,)), mr.layers.Embedding(10, 2),
                               mr.layers.GlobalAveragePooling1D()])
    assert not embedding._uses_masks
    assert mr.Sequential([mr.Input((5, 3)), mr.layers.Masking()])._uses_masks


def lstm_tagger(lib):
    return lib.Sequential([lib.Input((5,), dtype="int32"),
                           lib.layers.Embedding(10, 3, mask_zero=True),
                           lib.layers.LSTM(4, return_sequences=True),
                           lib.layers.Dense(2, activation="softmax")])


def test_embedding_mask_zero_into_an_lstm_trains_as_keras(keras_env):
    """The mask reaches the LSTM through the protocol (its ``forward`` takes ``mask``), it
    passes the mask on (``return_sequences``), and the loss and accuracy skip the padding."""
    from minired.layers.layer import Layer

    keras = keras_env.keras
    if not Layer._takes_mask(mr.layers.LSTM(2)):
        pytest.fail("minired's LSTM does not take a mask: connect it (forward(..., mask=None))")
    labels = np.random.default_rng(20).integers(0, 2, size=IDS.shape)
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(5)
        model, twin = lstm_tagger(mr), lstm_tagger(keras)
        same_weights(model, twin)
        expected = twin(IDS)
        np.testing.assert_allclose(model(IDS), np.asarray(expected), rtol=1e-12)
        np.testing.assert_array_equal(model.output_masks()[0], np.asarray(expected._keras_mask))
        for m, lib in ((model, mr), (twin, keras)):
            m.compile(optimizer=lib.optimizers.SGD(0.5, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        assert_fit_equal(model, twin, IDS, labels)


# -- config and saving ----------------------------------------------------------------------------

def test_configs_are_keras_configs(keras_env):
    keras = keras_env.keras
    for ours, theirs in ((mr.layers.Masking(1.5, name="m"), keras.layers.Masking(1.5, name="m")),
                         (mr.layers.Embedding(10, 4, mask_zero=True, name="e"),
                          keras.layers.Embedding(10, 4, mask_zero=True, name="e"))):
        assert json.loads(json.dumps(ours.get_config())) == json.loads(
            json.dumps(theirs.get_config()))
        again = type(ours).from_config(theirs.get_config())
        assert again.get_config() == ours.get_config()


def test_masked_models_cross_load_with_keras(tmp_path, keras_env):
    keras = keras_env.keras
    mr.utils.set_random_seed(4)
    inputs = mr.Input((5, 3))
    hidden = mr.layers.Dense(2)(mr.layers.Masking()(inputs))
    model = mr.Model(inputs, mr.layers.GlobalAveragePooling1D()(hidden))
    x = padded_floats(19)                          # padded steps are zeros: masked
    model.save(tmp_path / "m.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    classifier = keras.Sequential([keras.Input((5,), dtype="int32"),
                                   keras.layers.Embedding(10, 4, mask_zero=True),
                                   keras.layers.GlobalAveragePooling1D(),
                                   keras.layers.Dense(1)])
    classifier.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    assert back.layers[0].mask_zero
    np.testing.assert_allclose(back.predict(IDS, verbose=0), classifier.predict(IDS, verbose=0),
                               rtol=1e-6)


def test_eager_calls_outside_a_model_take_the_mask_explicitly():
    """Deliberate difference: minired's arrays carry no ``_keras_mask``; a layer called
    by hand is given the mask (``layer(x, mask=m)``) and computes it with compute_mask."""
    embedding = mr.layers.Embedding(10, 3, mask_zero=True)
    vectors = embedding(IDS)
    assert not hasattr(vectors, "_keras_mask")
    mask = embedding.compute_mask(IDS)
    pooled = mr.layers.GlobalAveragePooling1D()(vectors, mask=mask)
    np.testing.assert_allclose(pooled[2], vectors[2, 0], rtol=1e-6)   # one real step
