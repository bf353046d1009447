"""The rest of Keras' metric catalog side by side with Keras (skipped without Keras):
cross-entropies, KL, Poisson, hinges, cosine, log-cosh, correlations, IoU and the rates at
a given rate (PrecisionAtRecall...), and the loss functions ``keras.metrics`` re-exports.

Each metric of both libraries is built with the same arguments and fed the same batches,
with and without sample weights; the result after every batch must agree to 1e-12
(relative) in float64 and 1e-6 in float32, ``get_config()`` must be Keras' and rebuild the
metric. Then: the string names ``compile`` takes, a short ``fit`` logging the same values
as Keras', ``.keras`` files both ways, and the errors for bad arguments and inputs.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import minired as mr

TOLERANCE = {"float64": 1e-12, "float32": 1e-6}


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``precision(dtype)`` for both libraries."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def batches(kind: str, dtype: str, seed: int = 0, n_batches: int = 3, n: int = 7, c: int = 4):
    """Three batches ``(y_true, y_pred, sample_weight)`` of a kind of data."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        weights = rng.random(n).astype(dtype)
        if kind == "binary":                                 # 3 independent 0/1 labels
            y, p = (rng.random((n, 3)) > 0.5).astype(dtype), rng.random((n, 3)).astype(dtype)
            p[0, :] = [0.0, 1.0, 0.5]                        # clipped and edge values
        elif kind == "binary_logits":
            y = (rng.random((n, 3)) > 0.5).astype(dtype)
            p = (3 * rng.normal(size=(n, 3))).astype(dtype)
        elif kind == "binary_column":                        # one output, for the rates
            y, p = (rng.random((n, 1)) > 0.5).astype(dtype), rng.random((n, 1)).astype(dtype)
            p[:3, 0] = [0.0, 1.0, 0.5]
        elif kind in ("onehot", "onehot_logits", "sparse", "sparse_logits"):
            labels = rng.integers(0, c, n)
            y = labels if kind.startswith("sparse") else np.eye(c, dtype=dtype)[labels]
            p = (rng.random((n, c)) if not kind.endswith("logits")
                 else 3 * rng.normal(size=(n, c))).astype(dtype)
            p[0] = 0.25                                      # a row of ties
        elif kind == "sparse_void":                          # labels 255: "void" pixels
            y = np.where(rng.random(n) < 0.3, 255, rng.integers(0, c, n))
            p = rng.random((n, c)).astype(dtype)
        elif kind == "onehot_axis1":                         # classes on axis 1 of (n, c, 3)
            y = np.eye(c, dtype=dtype)[rng.integers(0, c, (n, 3))].transpose(0, 2, 1).copy()
            p = rng.random((n, c, 3)).astype(dtype)
        elif kind == "distribution":
            y, p = rng.random((n, c)), rng.random((n, c))
            y, p = (y / y.sum(1, keepdims=True)).astype(dtype), (p / p.sum(1, keepdims=True)
                                                                  ).astype(dtype)
        elif kind == "counts":
            y, p = rng.poisson(2.0, (n, 3)).astype(dtype), (3 * rng.random((n, 3))).astype(dtype)
        elif kind == "pm_one":                               # hinge labels -1 / 1
            y = np.where(rng.random((n, 3)) > 0.5, 1.0, -1.0).astype(dtype)
            p = rng.normal(size=(n, 3)).astype(dtype)
        elif kind == "regression":                           # five targets
            y, p = rng.normal(size=(n, 5)).astype(dtype), rng.normal(size=(n, 5)).astype(dtype)
        elif kind == "segmentation":                          # class ids of 4x4 images,
            y = rng.integers(-1, 5, (n, 4, 4))                # some outside [0, 3): skipped
            p = rng.integers(0, 4, (n, 4, 4))
            weights = rng.integers(0, 3, (n, 4, 4))           # one integer weight per pixel
        elif kind == "segmentation_scores":                   # one-hot pixels, float weights
            y = np.eye(3, dtype=dtype)[rng.integers(0, 3, (n, 4, 4))]
            p = rng.random((n, 4, 4, 3)).astype(dtype)
            weights = rng.random((n, 4, 4)).astype(dtype)
        elif kind == "sparse_ids":                            # integer labels, integer weights
            y, p = rng.integers(0, c, n), rng.random((n, c)).astype(dtype)
            weights = rng.integers(0, 4, n)
        else:
            raise ValueError(kind)
        out.append((y, p, weights))
    return out


SPECS = [
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1, "dtype": "float64"}, "binary"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot_logits"),
    ("CategoricalCrossentropy", {"axis": 1, "label_smoothing": 0.1}, "onehot_axis1"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 255, "from_logits": True}, "sparse_void"),
    ("KLDivergence", {}, "distribution"), ("Poisson", {}, "counts"),
    ("CosineSimilarity", {}, "regression"), ("CosineSimilarity", {"axis": 0}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("Hinge", {}, "binary"), ("Hinge", {}, "pm_one"), ("SquaredHinge", {}, "pm_one"),
    ("SquaredHinge", {}, "regression"), ("CategoricalHinge", {}, "onehot"),
    ("PearsonCorrelation", {}, "regression"), ("PearsonCorrelation", {"axis": 0}, "regression"),
    ("ConcordanceCorrelation", {}, "regression"),
    ("ConcordanceCorrelation", {"axis": 0}, "regression"),
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, "segmentation"),
    ("IoU", {"num_classes": 4, "target_class_ids": [1], "sparse_y_pred": False}, "sparse_ids"),
    ("MeanIoU", {"num_classes": 3}, "segmentation"),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 0}, "segmentation"),
    ("MeanIoU", {"num_classes": 4, "sparse_y_pred": False, "dtype": "float32"}, "sparse"),
    ("BinaryIoU", {}, "binary_column"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3, "dtype": "float64"},
     "binary_column"),
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 2], "dtype": "float32"}, "onehot"),
    ("OneHotMeanIoU", {"num_classes": 3, "dtype": "float64"}, "segmentation_scores"),
    ("OneHotMeanIoU", {"num_classes": 4, "ignore_class": 2, "dtype": "float32"}, "onehot"),
    ("PrecisionAtRecall", {"recall": 0.5}, "binary_column"),
    ("PrecisionAtRecall", {"recall": 0.8, "num_thresholds": 7, "class_id": 1}, "onehot"),
    ("RecallAtPrecision", {"precision": 0.6, "num_thresholds": 7}, "binary"),
    ("RecallAtPrecision", {"precision": 0.9}, "binary_column"),
    ("SensitivityAtSpecificity", {"specificity": 0.4, "num_thresholds": 1}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.7}, "binary_column"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "class_id": 1}, "onehot"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5, "num_thresholds": 2}, "binary"),
]


def _fresh_name_counters(keras) -> None:
    """Restart the session-wide counters behind automatic names, in both libraries."""
    from minired.utils import naming

    keras.backend.clear_session()
    naming._NAME_COUNTS.clear()


@pytest.mark.filterwarnings("ignore:You are passing weight as `float`")   # BinaryIoU, below
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("class_name", "kwargs", "kind"), SPECS,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(SPECS)])
def test_metric_matches_keras_batch_by_batch(keras_env, dtype, class_name, kwargs, kind):
    keras = keras_env.keras
    kwargs = {"name": "m", **kwargs}    # (the default names: test_default_names_...)
    with keras_env.precision(dtype):
        ours = getattr(mr.metrics, class_name)(**kwargs)
        theirs = getattr(keras.metrics, class_name)(**kwargs)
        assert ours.get_config() == theirs.get_config()
        assert ours._direction == theirs._direction
        again = type(ours).from_config(ours.get_config())
        assert again.get_config() == ours.get_config()
        # along the batch (axis=0) one value per column: sample weights cannot apply
        for weighted in (False,) if kwargs.get("axis") == 0 else (False, True):
            ours.reset_state()
            theirs.reset_state()
            assert ours.result() == pytest.approx(float(theirs.result()))
            for y, p, w in batches(kind, dtype):
                sample_weight = w if weighted else None
                ours.update_state(y, p, sample_weight=sample_weight)
                theirs.update_state(y, p, sample_weight=sample_weight)
                expected = np.asarray(theirs.result(), dtype=float)
                np.testing.assert_allclose(ours.result(), expected, rtol=TOLERANCE[dtype],
                                           atol=TOLERANCE[dtype] * np.max(np.abs(expected)))


def test_serialized_metrics_are_keras_and_load_in_both(keras_env):
    keras = keras_env.keras
    for class_name, kwargs, _ in SPECS:
        kwargs = {"name": "m", **kwargs}
        ours = mr.metrics.serialize(getattr(mr.metrics, class_name)(**kwargs))
        theirs = keras.metrics.serialize(getattr(keras.metrics, class_name)(**kwargs))
        assert json.loads(json.dumps(ours)) == json.loads(json.dumps(theirs)), class_name
        assert mr.metrics.serialize(mr.metrics.deserialize(theirs)) == ours
        assert keras.metrics.deserialize(ours).get_config() == theirs["config"]


# -- the loss functions keras.metrics re-exports, and the correlation functions ---------------
FUNCTIONS = [
    ("binary_crossentropy", {}, "binary"),
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.2}, "binary_logits"),
    ("categorical_crossentropy", {}, "onehot"),
    ("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot_logits"),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse_logits"),
    ("binary_focal_crossentropy", {}, "binary"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5,
                                   "from_logits": True}, "binary_logits"),
    ("categorical_focal_crossentropy", {}, "onehot"),
    ("categorical_focal_crossentropy", {"alpha": 0.5, "gamma": 3.0, "from_logits": True,
                                        "label_smoothing": 0.1}, "onehot_logits"),
    ("categorical_focal_crossentropy", {"axis": 1}, "onehot_axis1"),
    ("kl_divergence", {}, "distribution"), ("poisson", {}, "counts"),
    ("log_cosh", {}, "regression"), ("hinge", {}, "binary"), ("hinge", {}, "pm_one"),
    ("squared_hinge", {}, "pm_one"), ("categorical_hinge", {}, "onehot"),
    ("huber", {}, "regression"), ("huber", {"delta": 0.3}, "regression"),
    ("pearson_correlation", {}, "regression"), ("pearson_correlation", {"axis": 0}, "regression"),
    ("concordance_correlation", {}, "regression"),
    ("concordance_correlation", {"axis": 0}, "regression"),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "kwargs", "kind"), FUNCTIONS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(FUNCTIONS)])
def test_functions_match_keras_sample_by_sample(keras_env, dtype, name, kwargs, kind):
    keras = keras_env.keras
    with keras_env.precision(dtype):
        y, p, _ = batches(kind, dtype)[0]
        ours = getattr(mr.metrics, name)(y, p, **kwargs)
        theirs = np.asarray(getattr(keras.metrics, name)(y, p, **kwargs))
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=TOLERANCE[dtype],
                                   atol=TOLERANCE[dtype] * np.max(np.abs(theirs)))


def test_the_metric_functions_are_the_losses():
    """As in Keras, ``metrics.hinge`` is ``losses.hinge``: a metric that wraps a loss gives
    exactly the loss's per-sample values."""
    for name in ("binary_crossentropy", "categorical_crossentropy", "kl_divergence", "poisson",
                 "log_cosh", "hinge", "squared_hinge", "categorical_hinge", "huber",
                 "sparse_categorical_crossentropy", "binary_focal_crossentropy",
                 "categorical_focal_crossentropy"):
        assert getattr(mr.metrics, name) is getattr(mr.losses, name)
    y, p, w = batches("onehot", "float32")[0]
    metric = mr.metrics.CategoricalCrossentropy()
    metric.update_state(y, p, sample_weight=w)
    values = mr.losses.categorical_crossentropy(y, p)
    assert metric.result() == pytest.approx(float(np.sum(w * values) / np.sum(w)), rel=1e-6)


# -- names -------------------------------------------------------------------------------------
def test_every_keras_metric_name_and_function_is_in_minired(keras_env):
    from keras.src.metrics import ALL_OBJECTS_DICT

    assert set(mr.metrics._BY_NAME) == set(ALL_OBJECTS_DICT)
    for name, cls in mr.metrics._BY_NAME.items():
        assert ALL_OBJECTS_DICT[name].__name__ == cls.__name__, name
    public = {n for n in dir(keras_env.keras.metrics) if not n.startswith("_")}
    assert public <= set(dir(mr.metrics))


def test_default_names_follow_keras_counter(keras_env):
    keras = keras_env.keras
    _fresh_name_counters(keras)
    for class_name, kwargs in [("IoU", {"num_classes": 2, "target_class_ids": [0]}),
                               ("IoU", {"num_classes": 2, "target_class_ids": [1]}),
                               ("MeanIoU", {"num_classes": 2}), ("BinaryIoU", {}),
                               ("OneHotIoU", {"num_classes": 2, "target_class_ids": [0]}),
                               ("OneHotMeanIoU", {"num_classes": 2}),
                               ("PrecisionAtRecall", {"recall": 0.5}),
                               ("PrecisionAtRecall", {"recall": 0.5}),
                               ("SpecificityAtSensitivity", {"sensitivity": 0.5}),
                               ("LogCoshError", {}), ("KLDivergence", {})]:
        ours = getattr(mr.metrics, class_name)(**kwargs)
        assert ours.name == getattr(keras.metrics, class_name)(**kwargs).name


@pytest.mark.parametrize("name", ["bce", "BCE", "binary_crossentropy", "KLDivergence",
                                  "kl_divergence", "log_cosh_error", "cosine_similarity",
                                  "pearson_correlation", "categorical_hinge"])
def test_a_string_gives_the_keras_class_with_its_default_name(keras_env, name):
    ours, theirs = mr.metrics.get(name), keras_env.keras.metrics.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == theirs.name


@pytest.mark.parametrize("name", ["iou", "io_u", "MeanIoU", "precision_at_recall"])
def test_names_of_metrics_that_need_arguments(keras_env, name):
    """``"io_u"`` is Keras' name but IoU needs ``num_classes``: both libraries refuse it
    (minired says what to pass); ``"iou"`` is unknown to both."""
    keras = keras_env.keras
    with pytest.raises((TypeError, ValueError)):
        keras.metrics.get(name)
    error = ValueError if name == "iou" else TypeError
    with pytest.raises(error, match="Did you mean 'io_u'" if name == "iou" else "needs arg"):
        mr.metrics.get(name)


# -- fit: by object and by string --------------------------------------------------------------
def _history_pairs(keras_env, specs, labels_kind: str, weighted=None):
    from comparisons.data import blobs, one_hot, sample_weights
    from comparisons.metrics_catalog import fit_with_metrics
    from comparisons.training import classifier

    with keras_env.precision("float64"):
        x, labels = blobs(48, "float64")
        fit_kwargs = {}
        if labels_kind == "binary":
            model = classifier(output_units=1, output_activation="sigmoid")
            y, loss = (labels == 0).astype("float64")[:, None], "binary_crossentropy"
        elif labels_kind == "sparse":
            model, y, loss = classifier(), labels, "sparse_categorical_crossentropy"
        else:
            model, y, loss = classifier(), one_hot(labels, "float64"), "categorical_crossentropy"
        if weighted:
            fit_kwargs["sample_weight"] = sample_weights(48, "float64")
        outcome = fit_with_metrics(model, specs, x, y, loss, weighted_specs=weighted, epochs=2,
                                   **fit_kwargs)
    return {label: (ours, theirs) for label, ours, theirs in outcome.pairs
            if label.startswith(("history", "History keys"))}


@pytest.mark.parametrize(("labels_kind", "specs", "weighted", "keys"), [
    ("onehot", ["categorical_crossentropy", "kl_divergence", "KLDivergence", "poisson",
                "categorical_hinge", "cosine_similarity", "log_cosh_error",
                ("CategoricalCrossentropy", {"label_smoothing": 0.1}),
                ("OneHotMeanIoU", {"num_classes": 3, "name": "miou"}),
                ("PrecisionAtRecall", {"recall": 0.5, "name": "p_at_r"}),
                ("ConcordanceCorrelation", {})], None,
     {"categorical_crossentropy", "kl_divergence", "KLDivergence", "poisson",
      "categorical_hinge", "cosine_similarity", "log_cosh_error",
      "categorical_crossentropy_1", "miou", "p_at_r", "concordance_correlation"}),
    ("binary", ["bce", "BCE", "hinge", "squared_hinge", ("BinaryIoU", {"name": "biou"}),
                ("RecallAtPrecision", {"precision": 0.6, "name": "r_at_p"})], None,
     {"bce", "BCE", "hinge", "squared_hinge", "biou", "r_at_p"}),
    ("sparse", ["sparse_categorical_crossentropy"],
     [("SparseCategoricalCrossentropy", {"ignore_class": 0, "name": "scce_0"}),
      ("MeanIoU", {"num_classes": 3, "sparse_y_pred": False, "dtype": "float32",
                   "name": "miou"})],
     {"sparse_categorical_crossentropy", "scce_0", "miou"}),
], ids=["onehot", "binary", "sparse-weighted"])
def test_fit_logs_what_keras_logs(keras_env, labels_kind, specs, weighted, keys):
    pairs = _history_pairs(keras_env, specs, labels_kind, weighted)
    assert not any(label.startswith("History keys") for label in pairs), pairs.keys()
    assert keys <= {label.removeprefix("history ") for label in pairs}
    for label, (ours, theirs) in pairs.items():
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=label)


# -- .keras files ------------------------------------------------------------------------------
def _compiled_pair(keras_env, metrics_of):
    """A small softmax model compiled with ``metrics_of(library)`` in both libraries."""
    from comparisons.mirror import to_keras
    from comparisons.training import classifier

    keras = keras_env.keras
    model = classifier()
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=metrics_of(mr))
    keras_model = to_keras(model)
    keras_model.compile(optimizer="sgd", loss="categorical_crossentropy",
                        metrics=metrics_of(keras))
    return model, keras_model


def _saved_metrics(library):
    return [library.metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2], name="iou"),
            library.metrics.MeanIoU(num_classes=3, sparse_y_true=False, sparse_y_pred=False,
                                    ignore_class=1, name="miou"),
            library.metrics.CategoricalCrossentropy(label_smoothing=0.1, axis=1, name="cce"),
            library.metrics.SparseCategoricalCrossentropy(ignore_class=0, name="scce_obj"),
            library.metrics.PrecisionAtRecall(0.4, num_thresholds=9, name="p_at_r"),
            library.metrics.PearsonCorrelation(name="pearson"),
            library.metrics.CosineSimilarity(name="cos"), "kl_divergence", "poisson"]
    # Not "bce" on this softmax output: in fit and evaluate Keras computes a cross-entropy
    # metric from the logits behind the softmax, so "bce" becomes the sigmoid cross-entropy
    # of those logits; minired's metrics read the probabilities they are given.


def test_keras_files_keep_the_compiled_metrics_both_ways(keras_env, tmp_path):
    from comparisons.data import blobs, one_hot

    keras = keras_env.keras
    with keras_env.precision("float64"):
        model, keras_model = _compiled_pair(
            keras_env, lambda lib: [m for m in _saved_metrics(lib)
                                    if getattr(m, "name", "") != "scce_obj"])
        ours_path, theirs_path = tmp_path / "ours.keras", tmp_path / "theirs.keras"
        model.save(ours_path)
        keras_model.save(theirs_path)
        x, labels = blobs(24, "float64")
        y = one_hot(labels, "float64")
        expected = keras_model.evaluate(x, y, verbose=0, return_dict=True)
        for loaded in (mr.saving.load_model(ours_path), mr.saving.load_model(theirs_path)):
            assert loaded.get_compile_config()["metrics"] == model.get_compile_config()["metrics"]
            got = loaded.evaluate(x, y, verbose=0, return_dict=True)
            assert got.keys() == expected.keys()
            for key in expected:
                assert got[key] == pytest.approx(float(expected[key]), rel=1e-12, abs=1e-12), key
        from_ours = keras.saving.load_model(ours_path)
        got = from_ours.evaluate(x, y, verbose=0, return_dict=True)
        for key in expected:
            assert float(got[key]) == pytest.approx(float(expected[key]), rel=1e-12), key


def test_non_default_loss_like_arguments_survive_a_file(tmp_path):
    """A metric named like a loss keeps the arguments minired's losses lack (axis,
    ignore_class): the saving rules for those losses do not touch the metrics."""
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[mr.metrics.SparseCategoricalCrossentropy(ignore_class=2, name="s"),
                           mr.metrics.CategoricalCrossentropy(axis=0, name="c")])
    model.save(tmp_path / "m.keras")
    metrics = mr.saving.load_model(tmp_path / "m.keras")._compile_arguments["metrics"]
    assert metrics[0].ignore_class == 2 and metrics[1].axis == 0


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "match"), [
    (lambda m: m.IoU(3, [3]), r"Target class id 3 is out of range, which is \[0, 3\)"),
    (lambda m: m.IoU(3, []), "at least one class"),
    (lambda m: m.IoU(3, [-1]), "must lie in"),
    (lambda m: m.MeanIoU(0), "`num_classes` must be an int >= 1"),
    (lambda m: m.MeanIoU(2.5), "`num_classes` must be an int >= 1"),
    (lambda m: m.PrecisionAtRecall(1.5), r"`recall` must be in the range \[0, 1\]"),
    (lambda m: m.RecallAtPrecision(-0.1), "`precision` must be in the range"),
    (lambda m: m.SensitivityAtSpecificity(2), "`specificity` must be in the range"),
    (lambda m: m.SpecificityAtSensitivity(0.5, num_thresholds=0), "`num_thresholds` must be"),
    (lambda m: m.BinaryCrossentropy(label_smoothing=1.5), "label_smoothing"),
])
def test_bad_arguments_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make(mr.metrics)


def test_keras_refuses_the_same_arguments(keras_env):
    """Each argument refused above is refused by Keras too (except a negative target id,
    which Keras accepts and then reports 0: minired says why instead)."""
    keras = keras_env.keras
    for make in (lambda m: m.IoU(3, [3]), lambda m: m.IoU(3, []),
                 lambda m: m.PrecisionAtRecall(1.5), lambda m: m.RecallAtPrecision(-0.1),
                 lambda m: m.SensitivityAtSpecificity(2),
                 lambda m: m.SpecificityAtSensitivity(0.5, num_thresholds=0)):
        with pytest.raises(ValueError):
            make(keras.metrics)


@pytest.mark.parametrize(("make", "y", "p", "w", "match"), [
    (lambda m: m.IoU(3, [0]), [0, 1, 2], [0, 1], None, "same number of elements"),
    (lambda m: m.MeanIoU(3), [[0, 1], [2, 1]], [[0, 1], [2, 2]], [1, 2], "one weight per"),
    (lambda m: m.SparseCategoricalCrossentropy(), [0, 3], [[0.5, 0.5], [0.2, 0.8]], None,
     r"must lie in \[0, 2\)"),
    (lambda m: m.SparseCategoricalCrossentropy(axis=0), [0, 1], [[0.5, 0.5], [0.2, 0.8]], None,
     "Only axis=-1 is currently supported"),
    (lambda m: m.CategoricalCrossentropy(), [0, 1], [[0.5, 0.5], [0.2, 0.8]], None,
     "sparse_categorical_crossentropy"),
    (lambda m: m.CategoricalCrossentropy(axis=2), [[0, 1]], [[0.5, 0.5]], None,
     "out of range"),
    (lambda m: m.BinaryCrossentropy(), [[2.0]], [[0.5]], None, r"must lie in \[0, 1\]"),
])
def test_bad_inputs_raise_clear_errors(make, y, p, w, match):
    with pytest.raises(ValueError, match=match):
        make(mr.metrics).update_state(np.array(y), np.array(p),
                                      sample_weight=None if w is None else np.array(w))


def test_out_of_range_class_ids_are_skipped_as_in_keras(keras_env):
    """Keras 3 drops labels and predictions outside [0, num_classes) from the confusion
    matrix (a "void" 255 needs no ignore_class); so does minired."""
    keras = keras_env.keras
    y, p = np.array([0, 1, 255, -1, 2, 1]), np.array([0, 1, 1, 0, 5, 1])
    ours, theirs = mr.metrics.MeanIoU(3), keras.metrics.MeanIoU(3)
    ours.update_state(y, p)
    theirs.update_state(y, p)
    np.testing.assert_array_equal(ours.total_cm, np.asarray(theirs.total_cm))
    assert ours.total_cm.sum() == 3 and ours.result() == float(theirs.result())


def test_float_weights_are_truncated_by_the_default_int_dtype_with_a_warning(keras_env):
    keras = keras_env.keras
    y, p, w = [0, 1, 1], [0, 1, 0], np.array([0.5, 1.7, 2.2])
    ours, theirs = mr.metrics.MeanIoU(2), keras.metrics.MeanIoU(2)
    with pytest.warns(UserWarning, match="dtype is `int`"):
        ours.update_state(y, p, sample_weight=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.update_state(y, p, sample_weight=w)
    assert ours.total_cm.dtype == np.int64
    np.testing.assert_array_equal(ours.total_cm, [[0, 0], [2, 1]])
    np.testing.assert_array_equal(ours.total_cm, np.asarray(theirs.total_cm))
    assert ours.result() == float(theirs.result())
