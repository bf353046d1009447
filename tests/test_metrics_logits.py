"""Cross-entropy metrics read the logits behind a softmax or sigmoid output, as Keras'.

Keras on TensorFlow attaches the logits ``z`` to the tensor a softmax or sigmoid returns,
and its cross-entropy kernels read them, for the compiled *metrics* as for the loss. So in
``fit``, ``evaluate``, ``train_on_batch`` and ``test_on_batch`` a cross-entropy metric is
computed from ``z`` with its own formula (``"bce"`` on a softmax output is the sigmoid
cross-entropy of the softmax's ``z``), which differs from the probabilities' value where
they saturate. minired hands those metrics the same ``z`` its losses read
(``MeanMetricWrapper.update_state_from_logits``). Every case compares the logs with real
Keras in float64, on plain and on saturated outputs (weights ×40: logits in the tens).
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

keras = pytest.importorskip("keras")
from comparisons.keras_env import precision  # noqa: E402  (needs Keras)

RTOL = 1e-9      # float64 on both sides; the sums run in other orders


def _data(target: str, n: int = 16, units: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    labels = rng.integers(0, units, n)
    if target == "sparse":
        return x, labels
    if target == "binary":
        return x, rng.integers(0, 2, (n, units)).astype("float64")
    return x, np.eye(units)[labels]


def _twins(build, scale: float):
    """The same model built by ``build(mr)`` and ``build(keras)``, with minired's initial
    weights times ``scale`` in both."""
    ours, theirs = build(mr), build(keras)
    weights = [w * scale for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def _compile(models, loss, metrics, weighted_metrics=None) -> None:
    for model, lib in zip(models, (mr, keras), strict=True):
        def made(specs, lib=lib):
            if specs is None:
                return None
            if specs and isinstance(specs[0], list):
                return [made(s) for s in specs]
            return [s if isinstance(s, str) else s(lib) for s in specs]

        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.01), loss=loss,
                      metrics=made(metrics), weighted_metrics=made(weighted_metrics))


def _assert_logs_equal(ours: dict, theirs: dict) -> None:
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        np.testing.assert_allclose(ours[key], value, rtol=RTOL, atol=1e-12, err_msg=key)


def _assert_evaluate_and_fit_equal(models, x, y, sample_weight=None, epochs=2) -> None:
    ours, theirs = models
    _assert_logs_equal(ours.evaluate(x, y, sample_weight=sample_weight, verbose=0,
                                     return_dict=True),
                       theirs.evaluate(x, y, sample_weight=sample_weight, verbose=0,
                                       return_dict=True))
    kwargs = {"epochs": epochs, "batch_size": 8, "shuffle": False, "verbose": 0,
              "sample_weight": sample_weight, "validation_data": (x[:8], y[:8])
              if not isinstance(y, list) else (x[:8], [t[:8] for t in y])}
    _assert_logs_equal(ours.fit(x, y, **kwargs).history, theirs.fit(x, y, **kwargs).history)


def _dense(activation: str, units: int = 3):
    return lambda lib: lib.Sequential([lib.Input((4,)),
                                       lib.layers.Dense(units, activation=activation)])


# Every metric that reads the logits in Keras, with others that must not change.
ONE_HOT_METRICS = [
    "bce", "binary_crossentropy", "categorical_crossentropy", "accuracy", "kl_divergence",
    lambda lib: lib.metrics.BinaryCrossentropy(name="bce_object"),
    lambda lib: lib.metrics.BinaryCrossentropy(label_smoothing=0.1, name="bce_smooth"),
    lambda lib: lib.metrics.CategoricalCrossentropy(from_logits=False, name="cce_object"),
    lambda lib: lib.metrics.CategoricalCrossentropy(label_smoothing=0.2, name="cce_smooth"),
    lambda lib: lib.metrics.categorical_crossentropy,
    lambda lib: lib.metrics.categorical_focal_crossentropy,     # Keras: probabilities
]


@pytest.mark.parametrize("scale", [1.0, 40.0])
@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_one_hot_metrics_equal_keras(activation, scale):
    """Softmax and sigmoid outputs, one-hot targets: "bce" on a softmax is the sigmoid
    cross-entropy of its logits, "categorical_crossentropy" on a sigmoid the softmax one;
    saturated outputs (scale 40) separate the logits from the probabilities."""
    with precision("float64"):
        models = _twins(_dense(activation), scale)
        _compile(models, "categorical_crossentropy", ONE_HOT_METRICS)
        _assert_evaluate_and_fit_equal(models, *_data("one_hot"))


def test_bce_on_softmax_is_the_sigmoid_cross_entropy_of_its_logits():
    """The brief's number: not the probabilities' value, the logits'."""
    with precision("float64"):
        model = _dense("softmax")(mr)
        model.compile("sgd", "categorical_crossentropy", metrics=["bce"])
        x, y = _data("one_hot")
        z = x @ model.get_weights()[0] + model.get_weights()[1]
        from_logits = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        from_probabilities = mr.metrics.BinaryCrossentropy()(y, model.predict(x, verbose=0))
        logged = model.evaluate(x, y, verbose=0, return_dict=True)["bce"]
        np.testing.assert_allclose(logged, from_logits, rtol=1e-12)
        assert abs(logged - from_probabilities) > 1e-3


@pytest.mark.parametrize("scale", [1.0, 40.0])
def test_binary_metrics_on_sigmoid_equal_keras(scale):
    """Sigmoid output, 0/1 targets: the binary cross-entropies and the binary focal one
    (its cross-entropy from the logits, its focal factor from σ(z))."""
    with precision("float64"):
        models = _twins(_dense("sigmoid", units=2), scale)
        _compile(models, "binary_crossentropy", [
            "bce", "binary_crossentropy", "binary_accuracy",
            lambda lib: lib.metrics.BinaryCrossentropy(name="bce_object"),
            lambda lib: lib.metrics.binary_focal_crossentropy,
            lambda lib: lib.metrics.binary_crossentropy])
        _assert_evaluate_and_fit_equal(models, *_data("binary", units=2))


@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_sparse_metrics_equal_keras(activation):
    """Integer labels, saturated: the sparse cross-entropy reads the logits, except with
    ``ignore_class`` (Keras multiplies the probabilities by the labels' mask first)."""
    with precision("float64"):
        models = _twins(_dense(activation), 40.0)
        _compile(models, "sparse_categorical_crossentropy", [
            "sparse_categorical_crossentropy", "accuracy",
            lambda lib: lib.metrics.SparseCategoricalCrossentropy(name="scce_object"),
            lambda lib: lib.metrics.SparseCategoricalCrossentropy(ignore_class=0,
                                                                  name="scce_ignore_0")])
        _assert_evaluate_and_fit_equal(models, *_data("sparse"))


def test_weighted_metrics_equal_keras():
    """Sample weights reach the weighted cross-entropies computed from the logits."""
    with precision("float64"):
        models = _twins(_dense("softmax"), 40.0)
        _compile(models, "categorical_crossentropy", ["bce"], weighted_metrics=[
            "bce", "categorical_crossentropy",
            lambda lib: lib.metrics.BinaryCrossentropy(name="w_bce")])
        x, y = _data("one_hot")
        weights = np.random.default_rng(1).uniform(0.0, 2.0, len(x))
        _assert_evaluate_and_fit_equal(models, x, y, sample_weight=weights)


def test_masked_sequence_metrics_equal_keras():
    """A masked sequence (Masking, then a softmax Dense on every step): the metrics read
    the logits and leave the masked steps out."""
    with precision("float64"):
        def build(lib):
            return lib.Sequential([lib.Input((5, 4)), lib.layers.Masking(0.0),
                                   lib.layers.Dense(3, activation="softmax")])

        models = _twins(build, 40.0)
        _compile(models, "categorical_crossentropy",
                 ["bce", "categorical_crossentropy",
                  lambda lib: lib.metrics.CategoricalCrossentropy(name="cce_object")])
        rng = np.random.default_rng(2)
        x = rng.normal(size=(8, 5, 4))
        x[:, 3:] = 0.0           # the last two steps masked
        x[0, 1] = 0.0
        y = np.eye(3)[rng.integers(0, 3, (8, 5))]
        _assert_evaluate_and_fit_equal(models, x, y)


def test_two_outputs_equal_keras():
    """Two outputs, a softmax and a sigmoid: each metric reads its own output's logits."""
    with precision("float64"):
        def build(lib):
            inputs = lib.Input((4,))
            hidden = lib.layers.Dense(5, activation="tanh", name="hidden")(inputs)
            kind = lib.layers.Dense(3, activation="softmax", name="kind")(hidden)
            flag = lib.layers.Dense(1, activation="sigmoid", name="flag")(hidden)
            return lib.Model(inputs, [kind, flag])

        models = _twins(build, 6.0)
        _compile(models, ["categorical_crossentropy", "binary_crossentropy"],
                 [["bce", "categorical_crossentropy", "accuracy"],
                  ["binary_crossentropy", "bce",
                   lambda lib: lib.metrics.BinaryCrossentropy(name="bce_object")]])
        x, y = _data("one_hot")
        flags = (x[:, :1] > 0).astype("float64")
        _assert_evaluate_and_fit_equal(models, x, [y, flags])


def test_train_and_test_on_batch_equal_keras():
    with precision("float64"):
        models = _twins(_dense("softmax"), 40.0)
        _compile(models, "categorical_crossentropy", ["bce", "categorical_crossentropy"])
        ours, theirs = models
        x, y = _data("one_hot")
        _assert_logs_equal(ours.test_on_batch(x, y, return_dict=True),
                           theirs.test_on_batch(x, y, return_dict=True))
        _assert_logs_equal(ours.train_on_batch(x, y, return_dict=True),
                           theirs.train_on_batch(x, y, return_dict=True))


def test_dropout_after_softmax_reads_logits_only_when_inactive():
    """KERAS_PARITY item 20: an inactive Dropout after the softmax passes its logits on
    (``evaluate``: the logits path, equal to Keras); an active one makes a new tensor, so
    in training the metric reads the probabilities, as the loss does (in both libraries
    the cross-entropy metric then equals the loss, the clipped value)."""
    with precision("float64"):
        def build(lib):
            # Six classes, rate 0.3: no row loses all of them (its probabilities would sum
            # to 0, a NaN in both libraries) with these seeds.
            return lib.Sequential([lib.Input((4,)), lib.layers.Dense(6, activation="softmax"),
                                   lib.layers.Dropout(0.3)])

        models = _twins(build, 40.0)
        _compile(models, "categorical_crossentropy", ["bce", "categorical_crossentropy"])
        ours, theirs = models
        x, y = _data("one_hot", units=6)
        mr.utils.set_random_seed(0)
        keras.utils.set_random_seed(0)
        _assert_logs_equal(ours.evaluate(x, y, verbose=0, return_dict=True),
                           theirs.evaluate(x, y, verbose=0, return_dict=True))
        for model in models:
            logs = model.train_on_batch(x, y, return_dict=True)
            np.testing.assert_allclose(logs["categorical_crossentropy"], logs["loss"],
                                       rtol=1e-12)
            # Bounded by -log ε per class: the probabilities' value, not the logits' one.
            assert logs["loss"] < -np.log(1e-7) + 1e-9


def test_subclassed_model_equal_keras():
    """A subclassed model whose ``call`` ends with a softmax Dense: the same logits."""
    with precision("float64"):
        def build(lib):
            class Classifier(lib.Model):
                def __init__(self):
                    super().__init__()
                    self.hidden = lib.layers.Dense(5, activation="relu")
                    self.out = lib.layers.Dense(3, activation="softmax")

                def call(self, inputs):
                    return self.out(self.hidden(inputs))

            model = Classifier()
            model(np.zeros((1, 4)))
            return model

        models = _twins(build, 6.0)
        _compile(models, "categorical_crossentropy", ["bce", "categorical_crossentropy"])
        _assert_evaluate_and_fit_equal(models, *_data("one_hot"), epochs=1)


def test_from_logits_metric_on_softmax_warns_and_reads_the_logits():
    """``from_logits=True`` on a softmax output: warned, as Keras warns, and computed from
    the softmax's own logits, as Keras does (not a softmax of the probabilities)."""
    with precision("float64"):
        models = _twins(_dense("softmax"), 40.0)
        _compile(models, "categorical_crossentropy", [
            lambda lib: lib.metrics.CategoricalCrossentropy(from_logits=True, name="cce")])
        x, y = _data("one_hot")
        with pytest.warns(UserWarning, match="from_logits=True"):
            ours = models[0].evaluate(x, y, verbose=0, return_dict=True)
        with pytest.warns(UserWarning, match="from_logits=True"):
            theirs = models[1].evaluate(x, y, verbose=0, return_dict=True)
        _assert_logs_equal(ours, theirs)


def test_metrics_without_cross_entropy_unchanged():
    """Metrics that are not cross-entropies never ask for the logits."""
    names = ["mae", "kl_divergence", "poisson", "categorical_hinge", "cosine_similarity"]
    assert not any(mr.metrics.get(name).uses_output_logits for name in names)
    assert not mr.metrics.MeanMetricWrapper(mr.losses.categorical_focal_crossentropy
                                            ).uses_output_logits
    assert mr.metrics.MeanMetricWrapper(mr.losses.binary_focal_crossentropy).uses_output_logits
    assert mr.metrics.get("bce").uses_output_logits
    assert not mr.metrics.SparseCategoricalCrossentropy(ignore_class=1).uses_output_logits


def test_update_state_from_logits_matches_from_logits_metric():
    """``update_state_from_logits`` is the metric with ``from_logits=True``, weights and
    masks included."""
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 3)) * 30
    y = np.eye(3)[rng.integers(0, 3, 6)]
    weights = rng.uniform(size=6)
    ours = mr.metrics.CategoricalCrossentropy()
    ours.update_state_from_logits(y, z, sample_weight=weights)
    reference = mr.metrics.CategoricalCrossentropy(from_logits=True)
    reference.update_state(y, z, sample_weight=weights)
    assert ours.result() == reference.result()
    sparse = mr.metrics.SparseCategoricalCrossentropy()
    sparse.update_state_from_logits(y.argmax(-1), z, mask=np.array([1, 1, 0, 1, 0, 1]) > 0)
    expected = mr.metrics.SparseCategoricalCrossentropy(from_logits=True)
    expected.update_state(y.argmax(-1)[[0, 1, 3, 5]], z[[0, 1, 3, 5]])
    np.testing.assert_allclose(sparse.result(), expected.result(), rtol=1e-6)


@pytest.mark.parametrize("scale", [1.0, 40.0])
@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_loss_objects_as_metrics_equal_keras(activation, scale):
    """A loss object in ``metrics`` (``metrics=[keras.losses.BinaryCrossentropy()]``) is
    logged under the loss's name (a second one of the same name gets ``_1``), as the mean of
    its batch values; a cross-entropy reads the logits, the categorical focal one and the
    others the probabilities, as in Keras."""
    metrics = [
        lambda lib: lib.losses.CategoricalCrossentropy(),
        lambda lib: lib.losses.BinaryCrossentropy(label_smoothing=0.1),
        lambda lib: lib.losses.CategoricalCrossentropy(name="cce"),
        lambda lib: lib.losses.CategoricalFocalCrossentropy(),
        lambda lib: lib.losses.KLDivergence(),
        lambda lib: lib.losses.MeanSquaredError(),
        lambda lib: lib.losses.categorical_crossentropy]      # named like the first
    if activation == "sigmoid":   # after a softmax: a documented difference (README)
        metrics.append(lambda lib: lib.losses.BinaryFocalCrossentropy())
    with precision("float64"):
        models = _twins(_dense(activation), scale)
        _compile(models, "mse", metrics)
        _assert_evaluate_and_fit_equal(models, *_data("one_hot"))


def test_sparse_loss_object_as_metric_equal_keras():
    with precision("float64"):
        models = _twins(_dense("softmax"), 40.0)
        _compile(models, "sparse_categorical_crossentropy",
                 [lambda lib: lib.losses.SparseCategoricalCrossentropy()])
        _assert_evaluate_and_fit_equal(models, *_data("sparse"))
