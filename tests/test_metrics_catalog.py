"""The metric catalog side by side with Keras' metric objects (skipped without Keras).

Each metric of both libraries is built with the same arguments and fed the same batches,
with and without sample weights; the result after every batch must agree to 1e-12
(relative) in float64 and 1e-6 in float32, and ``get_config()`` must be Keras'. Then the
names ``fit`` logs: strings, objects, default names, repeats, several outputs.
"""

from __future__ import annotations

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
    """Three batches ``(y_true, y_pred, sample_weight)`` of a kind of data, with ties and
    the edge values 0, 0.5 and 1 planted in the scores."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        if kind == "binary":
            y = (rng.random((n, 1)) > 0.5).astype(dtype)
            p = rng.random((n, 1)).astype(dtype)
            p[:3, 0] = [0.0, 1.0, 0.5]
        elif kind in ("onehot", "sparse"):
            labels = rng.integers(0, c, n)
            y = labels if kind == "sparse" else np.eye(c, dtype=dtype)[labels]
            p = rng.random((n, c)).astype(dtype)
            p[0] = 0.25                                      # a row of ties
        else:                                                # regression, two targets
            y = (rng.normal(size=(n, 2)) + 1).astype(dtype)
            p = (rng.normal(size=(n, 2)) + 1).astype(dtype)
        out.append((y, p, rng.random(n).astype(dtype)))
    return out


SPECS = [
    ("MeanAbsoluteError", {}, "regression"), ("MeanSquaredError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "regression"),
    ("R2Score", {}, "regression"), ("R2Score", {"class_aggregation": None}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 2},
     "regression"),
    ("Accuracy", {}, "binary"), ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "binary"),
    ("CategoricalAccuracy", {}, "onehot"), ("SparseCategoricalAccuracy", {}, "sparse"),
    ("TopKCategoricalAccuracy", {}, "onehot"), ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 1}, "sparse"),
    ("TruePositives", {}, "binary"), ("FalsePositives", {"thresholds": [0.2, 0.6]}, "binary"),
    ("TrueNegatives", {}, "onehot"),
    ("FalseNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary"),
    ("Precision", {}, "binary"), ("Recall", {}, "binary"),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, "binary"),
    ("Precision", {"thresholds": [0.3, 0.7]}, "onehot"), ("Precision", {"top_k": 2}, "onehot"),
    ("Recall", {"class_id": 1}, "onehot"), ("Recall", {"top_k": 1, "class_id": 2}, "onehot"),
    ("AUC", {}, "binary"), ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"num_thresholds": 7}, "onehot"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "binary"),
    ("AUC", {"curve": "ROC", "summation_method": "majoring"}, "binary"),
    ("AUC", {"curve": "PRGAIN"}, "binary"),
    ("AUC", {"thresholds": [0.1, 0.5, 0.9]}, "binary"),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, "binary"),
    ("AUC", {"from_logits": True, "label_weights": [1.0, 2.0, 0.5, 1.0]}, "onehot"),
    ("F1Score", {}, "onehot"), ("F1Score", {"average": "micro"}, "onehot"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "onehot"),
    ("F1Score", {"threshold": 0.3}, "binary"),
    ("FBetaScore", {"average": "weighted", "beta": 2.0}, "onehot"),
]


def _fresh_name_counters(keras) -> None:
    """Restart the session-wide counters behind automatic names, in both libraries."""
    from minired.utils import naming

    keras.backend.clear_session()
    naming._NAME_COUNTS.clear()


def _plain(config: dict) -> dict:
    """Keras keeps AUC's label_weights as a tensor: compare configs as plain values."""
    return {k: np.asarray(v).tolist() if hasattr(v, "shape") else v for k, v in config.items()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("class_name", "kwargs", "kind"), SPECS,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(SPECS)])
def test_metric_matches_keras_batch_by_batch(keras_env, dtype, class_name, kwargs, kind):
    keras = keras_env.keras
    _fresh_name_counters(keras)         # unnamed Precision() etc.: both "precision"
    with keras_env.precision(dtype):
        ours = getattr(mr.metrics, class_name)(**kwargs)
        theirs = getattr(keras.metrics, class_name)(**kwargs)
        assert ours.get_config() == _plain(theirs.get_config())
        top_k = "TopK" in class_name
        for weighted in (False, True):
            ours.reset_state()
            theirs.reset_state()
            for y, p, w in batches(kind, dtype):
                sample_weight = w if weighted else None
                ours.update_state(y, p, sample_weight=sample_weight)
                # TF's in_top_k has no float64 kernel: Keras gets float32 scores
                # (0/1 results, the same ties), minired keeps float64.
                theirs.update_state(y, p.astype(np.float32) if top_k else p,
                                    sample_weight=sample_weight)
                expected = np.asarray(theirs.result(), dtype=float)
                np.testing.assert_allclose(ours.result(), expected, rtol=TOLERANCE[dtype],
                                           atol=TOLERANCE[dtype] * np.max(np.abs(expected)))


def test_keras_top_k_refuses_float64(keras_env):
    """A quirk, not copied: Keras' top-k metrics fail on float64 scores."""
    keras = keras_env.keras
    y, p, _ = batches("onehot", "float64")[0]
    with pytest.raises(Exception, match="double"):
        keras.metrics.TopKCategoricalAccuracy(k=2).update_state(y, p)
    assert 0 <= mr.metrics.TopKCategoricalAccuracy(k=2)(y, p) <= 1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("values", "weights"), [
    ([1.0, 3.0, 5.0], None), ([1.0, 3.0, 5.0], 2.0), ([1.0, 3.0, 5.0], [1.0, 0.0, 0.5]),
    ([[1.0, 2.0], [3.0, 4.0]], [2.0, 1.0]), ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [0.5, 2.0]]),
    ([[[1.0, 2.0]], [[3.0, 4.0]]], [[1.0], [3.0]]), (2.5, 4),
])
@pytest.mark.parametrize("class_name", ["Mean", "Sum"])
def test_mean_and_sum_match_keras_for_every_weight_shape(keras_env, dtype, values, weights,
                                                         class_name):
    keras = keras_env.keras
    with keras_env.precision(dtype):
        ours, theirs = getattr(mr.metrics, class_name)(), getattr(keras.metrics, class_name)()
        for _ in range(2):
            ours.update_state(values, sample_weight=weights)
            theirs.update_state(values, sample_weight=weights)
        assert ours.result() == pytest.approx(float(theirs.result()), rel=TOLERANCE[dtype])


def test_adjusted_r2_matches_keras_eagerly(keras_env):
    """Keras' adjusted R² works eagerly only (it tests a tensor in a Python ``if``, which
    fails inside fit's tf.function); minired's works in both."""
    keras = keras_env.keras
    with keras_env.precision("float64"):
        ours, theirs = mr.metrics.R2Score(num_regressors=3), keras.metrics.R2Score(num_regressors=3)
        for y, p, w in batches("regression", "float64"):
            ours.update_state(y, p, w)
            theirs.update_state(y, p, w)
        assert ours.result() == pytest.approx(float(theirs.result()), rel=1e-12)


def test_every_string_name_resolves_like_keras(keras_env):
    from keras.src.metrics import ALL_OBJECTS_DICT

    for name, cls in mr.metrics._BY_NAME.items():
        assert ALL_OBJECTS_DICT[name].__name__ == cls.__name__, name


def test_default_names_follow_keras_counter(keras_env):
    """Unnamed Precision/Recall/AUC/counts take a session-wide numbered name, as Keras."""
    keras = keras_env.keras
    _fresh_name_counters(keras)
    for class_name in ("Precision", "Precision", "Recall", "AUC", "AUC", "TruePositives",
                       "FalseNegatives", "F1Score", "FBetaScore", "R2Score"):
        assert getattr(mr.metrics, class_name)().name == getattr(keras.metrics, class_name)().name


def _fit_histories(keras_env, specs, outputs: int):
    from comparisons.data import N_FEATURES, blobs, one_hot
    from comparisons.metrics_catalog import fit_with_metrics
    from comparisons.training import classifier

    with keras_env.precision("float64"):
        x, labels = blobs(48, "float64")
        if outputs == 1:
            model, y, losses = classifier(), one_hot(labels, "float64"), "categorical_crossentropy"
        else:
            inputs = mr.Input((N_FEATURES,))
            hidden = mr.layers.Dense(5, activation="relu", name="hidden")(inputs)
            model = mr.Model(inputs, [mr.layers.Dense(3, activation="softmax", name="a")(hidden),
                                      mr.layers.Dense(1, name="b")(hidden)])
            y = [one_hot(labels, "float64"), x[:, :1]]
            losses = ["categorical_crossentropy", "mse"]
        return fit_with_metrics(model, specs, x, y, losses, epochs=2)


def _history_pairs(outcome) -> dict:
    return {label: (ours, theirs) for label, ours, theirs in outcome.pairs
            if label.startswith(("history", "History keys"))}


def test_history_keys_and_values_after_fit_match_keras(keras_env):
    """Strings are logged as typed ("mae", "MAE", "msle"), objects by their name, a repeat
    with _1; every value equal to Keras' over the epochs."""
    specs = ["mae", "MAE", "accuracy", "acc", "msle", "mae", "root_mean_squared_error",
             "categorical_accuracy",
             ("MeanAbsoluteError", {}), ("MeanAbsoluteError", {}), ("AUC", {"name": "auc"}),
             ("F1Score", {"average": "micro"}), ("R2Score", {})]
    pairs = _history_pairs(_fit_histories(keras_env, specs, outputs=1))
    assert not any(label.startswith("History keys") for label in pairs), pairs.keys()
    keys = {label.removeprefix("history ") for label in pairs}
    assert {"mae", "MAE", "acc", "msle", "mae_1", "mean_absolute_error",
            "mean_absolute_error_1", "f1_score", "r2_score"} <= keys
    for label, (ours, theirs) in pairs.items():
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=label)


def test_history_keys_with_two_outputs_match_keras(keras_env):
    specs = [["accuracy", "mae", ("Precision", {"name": "precision"})],
             ["mae", ("RootMeanSquaredError", {}), "mae"]]
    pairs = _history_pairs(_fit_histories(keras_env, specs, outputs=2))
    assert not any(label.startswith("History keys") for label in pairs), pairs.keys()
    keys = {label.removeprefix("history ") for label in pairs}
    assert {"a_accuracy", "a_mae", "a_precision", "b_mae", "b_mae_1",
            "b_root_mean_squared_error"} <= keys
    for label, (ours, theirs) in pairs.items():
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=label)
