"""Metrics: accuracy rules, how "accuracy" is resolved from shapes, running means, and the
catalog's formulas checked by hand on tiny arrays (``test_metrics_catalog.py`` compares the
same metrics with Keras')."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, batch_sizes, class_counts, integer_labels

import minired as mr
from minired.metrics import (
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    SparseCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)


def test_binary_accuracy_threshold_is_strict():
    """A prediction counts as positive only when ŷ > 0.5: exactly 0.5 is a 0."""
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.5], [0.5], [0.51], [0.49]])
    np.testing.assert_array_equal(binary_accuracy(y, p), [[0.0], [1.0], [1.0], [1.0]])
    np.testing.assert_array_equal(binary_accuracy(y[:, 0], p, threshold=0.3),
                                  [[1.0], [0.0], [1.0], [0.0]])


def test_categorical_accuracy_ties_go_to_the_first_index():
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    p = np.array([[0.4, 0.4, 0.2], [0.4, 0.4, 0.2]])
    np.testing.assert_array_equal(categorical_accuracy(y, p), [1.0, 0.0])


@settings(max_examples=30, deadline=None)
@given(data=st.data(), n=batch_sizes, c=class_counts)
def test_sparse_and_categorical_accuracy_agree(data, n, c):
    labels = data.draw(integer_labels(n, c))
    p = data.draw(arrays((n, c), 0, 1))
    expected = (np.argmax(p, axis=-1) == labels).astype(np.float32)
    np.testing.assert_array_equal(sparse_categorical_accuracy(labels, p), expected)
    np.testing.assert_array_equal(sparse_categorical_accuracy(labels[:, None], p), expected)
    np.testing.assert_array_equal(categorical_accuracy(np.eye(c)[labels], p), expected)


@pytest.mark.parametrize(("y_shape", "p_shape", "cls"), [
    ((8, 1), (8, 1), BinaryAccuracy),
    ((8,), (8, 1), BinaryAccuracy),
    ((8,), (8, 3), SparseCategoricalAccuracy),
    ((8, 1), (8, 3), SparseCategoricalAccuracy),
    ((8, 3), (8, 3), CategoricalAccuracy),
])
@pytest.mark.parametrize("name", ["accuracy", "acc", "Accuracy"])
def test_accuracy_is_resolved_from_the_shapes_and_keeps_its_name(y_shape, p_shape, cls, name):
    metric = mr.metrics.get(name, np.zeros(y_shape), np.zeros(p_shape))
    assert type(metric) is cls
    assert metric.name == name


@pytest.mark.parametrize(("name", "cls"), [
    ("binary_accuracy", BinaryAccuracy), ("CategoricalAccuracy", CategoricalAccuracy),
    ("sparse_categorical_accuracy", SparseCategoricalAccuracy),
])
def test_get_by_name(name, cls):
    metric = mr.metrics.get(name)
    assert type(metric) is cls and metric._direction == "up"


def test_get_passes_metric_objects_through():
    metric = BinaryAccuracy(threshold=0.7)
    assert mr.metrics.get(metric) is metric


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=r"`metrics` entries must be names, metric objects or "
                                        r"functions fn\(y_true, y_pred\), got 3"):
        mr.metrics.get(3)


def test_mean_is_a_weighted_running_mean():
    m = Mean()
    assert m.result() == 0.0                                  # divide_no_nan, as Keras
    m.update_state(2.0, sample_weight=3)
    m.update_state(1.0, sample_weight=1)
    assert m.result() == pytest.approx((2 * 3 + 1 * 1) / 4)
    m.update_state(np.array([4.0, 6.0]))                      # unweighted: count += 2
    assert m.result() == pytest.approx((6 + 1 + 10) / 6)
    m.reset_state()
    assert m.result() == 0.0


def test_mean_accumulates_in_floatx():
    assert Mean().total.dtype == np.float32
    assert Mean(dtype="float64").total.dtype == np.float64


def test_mean_broadcasts_a_scalar_weight_and_averages_extra_axes_first():
    """Keras' reduce_to_samplewise_values: values are averaged down to the weights' rank,
    then weighted; count is the sum of the weights."""
    m = Mean()
    m.update_state([1.0, 3.0], sample_weight=2.0)             # a scalar weight: mean first
    assert (float(m.total), float(m.count)) == (4.0, 2.0)
    m.reset_state()
    m.update_state([[1.0, 3.0], [5.0, 7.0]], sample_weight=[1.0, 0.0])
    assert (float(m.total), float(m.count)) == (2.0, 1.0)     # sample means 2 and 6
    m.reset_state()
    m.update_state([[1.0, 3.0], [5.0, 7.0]], sample_weight=[[1.0, 0.0], [1.0, 1.0]])
    assert (float(m.total), float(m.count)) == (6.5, 1.5)     # (1+0)/2 + (5+7)/2, weights ½+1


def test_sum_is_a_weighted_running_sum():
    m = mr.metrics.Sum()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    m.update_state([[1, 2], [3, 4]])                          # rows are summed: 3 + 7
    assert m.result() == 14.0
    m.reset_state()
    assert m.result() == 0.0


def test_accuracy_metric_accumulates_over_batches_and_weights():
    metric = CategoricalAccuracy()
    metric.update_state(np.eye(3), np.eye(3))                 # 3 right
    metric.update_state(np.eye(3)[[0]], np.eye(3)[[1]])       # 1 wrong
    assert metric.result() == pytest.approx(3 / 4)
    weighted = CategoricalAccuracy()
    weighted.update_state(np.eye(2), np.eye(2)[[0, 0]], sample_weight=np.array([1.0, 3.0]))
    assert weighted.result() == pytest.approx(1 / 4)


def test_binary_accuracy_docstring_example():
    m = BinaryAccuracy()
    m.update_state([[1], [0]], [[0.9], [0.7]])
    assert m.result() == 0.5


# -- the catalog, by hand ------------------------------------------------------------------

Y = np.array([[1.0, 2.0], [3.0, 0.5]])
P = np.array([[2.0, 2.0], [1.0, 1.0]])     # errors: [1, 0] and [-2, 0.5]


@pytest.mark.parametrize(("cls", "per_sample"), [
    (mr.metrics.MeanAbsoluteError, [0.5, 1.25]),
    (mr.metrics.MeanSquaredError, [0.5, 2.125]),
    (mr.metrics.MeanAbsolutePercentageError, [50.0, 100 * (2 / 3 + 1) / 2]),
    (mr.metrics.MeanSquaredLogarithmicError,
     [np.log(3 / 2) ** 2 / 2, (np.log(2 / 4) ** 2 + np.log(2 / 1.5) ** 2) / 2]),
])
def test_error_metrics_average_per_sample_values_over_batches(float64, cls, per_sample):
    m = cls()
    m.update_state(Y, P)
    assert m.result() == pytest.approx(np.mean(per_sample), rel=1e-12)
    m.update_state(Y[:1], P[:1], sample_weight=[2.0])      # sample 0 again, weight 2
    expected = (per_sample[0] + per_sample[1] + 2 * per_sample[0]) / 4
    assert m.result() == pytest.approx(expected, rel=1e-12)
    assert m._direction == "down"


def test_rmse_takes_the_root_of_the_running_mean_not_of_batch_means(float64):
    m = mr.metrics.RootMeanSquaredError()
    m.update_state([[0.0]], [[3.0]])
    m.update_state([[0.0], [0.0]], [[4.0], [0.0]])
    assert m.result() == pytest.approx(np.sqrt((9 + 16 + 0) / 3), rel=1e-12)


def test_r2_score_by_hand(float64):
    y = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    p = np.array([[1.0, 4.0], [2.0, 5.0], [4.0, 6.0]])
    # output 0: SS_res = 1, SS_tot = 2 -> 0.5; output 1: constant target -> -inf -> 0
    assert mr.metrics.R2Score(class_aggregation=None)(y, p) == pytest.approx([0.5, 0.0])
    assert mr.metrics.R2Score()(y, p) == pytest.approx(0.25)
    # variance weighted: Σ SS_tot R² / Σ SS_tot = (2 * 0.5 + 0 * 0) / 2
    assert mr.metrics.R2Score(class_aggregation="variance_weighted_average")(y, p) == 0.5
    # adjusted: n counts values (3 samples x 2 outputs = 6), p = 1
    adjusted = mr.metrics.R2Score(num_regressors=1)(y, p)
    assert adjusted == pytest.approx(1 - (1 - 0.25) * (6 - 1) / (6 - 1 - 1))
    with pytest.warns(UserWarning, match="More independent predictors"):
        assert mr.metrics.R2Score(num_regressors=9)(y, p) == pytest.approx(0.25)


def test_top_k_counts_every_class_tied_at_the_boundary():
    """TF's in_top_k: a hit when fewer than k classes score strictly higher."""
    p = np.array([[0.1, 0.4, 0.4, 0.1], [0.7, 0.1, 0.1, 0.1], [np.nan, 0.1, 0.2, 0.3]])
    labels = np.array([2, 3, 3])
    np.testing.assert_array_equal(
        mr.metrics.sparse_top_k_categorical_accuracy(labels, p, k=1), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(     # class 3 ties with 1 and 2 for the second place
        mr.metrics.top_k_categorical_accuracy(np.eye(4)[labels], p, k=2), [1.0, 1.0, 0.0])
    assert mr.metrics.TopKCategoricalAccuracy().get_config()["k"] == 5


CONFUSION_Y = np.array([0, 1, 1, 1, 0])
CONFUSION_P = np.array([0.6, 0.2, 0.5, 0.9, 0.1])   # 0.5 is not > 0.5: a negative


# At 0.5 the positives are [1, 0, 0, 1, 0]; at 0.3 [1, 0, 1, 1, 0]; at 0.7 [0, 0, 0, 1, 0].
@pytest.mark.parametrize(("cls", "at_half", "counts"), [
    (mr.metrics.TruePositives, 1.0, [2.0, 1.0]), (mr.metrics.FalsePositives, 1.0, [1.0, 0.0]),
    (mr.metrics.TrueNegatives, 1.0, [1.0, 2.0]), (mr.metrics.FalseNegatives, 2.0, [1.0, 2.0]),
])
def test_confusion_counts_by_hand(cls, at_half, counts):
    assert cls()(CONFUSION_Y, CONFUSION_P) == at_half
    m = cls(thresholds=[0.3, 0.7])
    m.update_state(CONFUSION_Y, CONFUSION_P)
    np.testing.assert_array_equal(m.result(), counts)
    m.update_state(CONFUSION_Y, CONFUSION_P, sample_weight=np.full(5, 2.0))
    np.testing.assert_array_equal(m.result(), 3 * np.array(counts))


def test_precision_and_recall_by_hand():
    assert mr.metrics.Precision()(CONFUSION_Y, CONFUSION_P) == pytest.approx(1 / 2)  # 0.9 | 0.6
    assert mr.metrics.Recall()(CONFUSION_Y, CONFUSION_P) == pytest.approx(1 / 3)
    np.testing.assert_allclose(mr.metrics.Recall(thresholds=[0.0, 0.15, 1.0])(
        CONFUSION_Y, CONFUSION_P), [1.0, 1.0, 0.0])
    assert mr.metrics.Precision()(np.zeros(3), np.zeros(3)) == 0.0       # 0/0 -> 0


def test_precision_top_k_and_class_id():
    y = np.array([[0, 0, 1], [0, 1, 0]])
    p = np.array([[0.2, 0.5, 0.3], [0.9, 0.8, 0.7]])
    # top_k=1 keeps [0.5] and [0.9]: both wrong; top_k=2 adds 0.3 and 0.8: both right
    assert mr.metrics.Precision(top_k=1)(y, p) == 0.0
    assert mr.metrics.Precision(top_k=2)(y, p) == 0.5
    # class_id=1: labels [0, 1], scores [0.5, 0.8]; 0.5 is not > 0.5, so no false positive
    assert mr.metrics.Recall(class_id=1)(y, p) == 1.0
    assert mr.metrics.Precision(class_id=1)(y, p) == 1.0
    assert mr.metrics.Precision(class_id=1, thresholds=0.4)(y, p) == 0.5


def test_auc_roc_and_pr_by_hand(float64):
    y, p = [0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9]
    # thresholds (-ε, 0.5, 1+ε): TPR = (1, 1/2, 0), FPR = (1, 0, 0) -> 1 · (1 + 1/2)/2
    assert mr.metrics.AUC(num_thresholds=3)(y, p) == pytest.approx(0.75)
    # perfectly separated: ROC 1; PR interpolation 1 (flat precision 1 between thresholds)
    separated = ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert mr.metrics.AUC()(*separated) == pytest.approx(1.0)
    assert mr.metrics.AUC(curve="PR")(*separated) == pytest.approx(1.0)
    m = mr.metrics.AUC(num_thresholds=5)
    assert m.thresholds == [-1e-7, 0.25, 0.5, 0.75, 1 + 1e-7]


def test_bucket_counts_equal_threshold_comparisons_inside_0_1(float64):
    """Keras counts evenly spaced thresholds with buckets: same counts as comparing, except
    for predictions outside [0, 1], which the buckets clip."""
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 50), np.round(rng.random(50), 1)   # many ties on thresholds
    p[:3] = [0.0, 1.0, 0.5]
    even = mr.metrics.TruePositives(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0])
    uneven = mr.metrics.TruePositives(thresholds=[0.0, 0.25, 0.5, 0.75, 0.99])
    assert even._thresholds_distributed_evenly and not uneven._thresholds_distributed_evenly
    np.testing.assert_array_equal(even(y, p)[:4], uneven(y, p)[:4])
    outside = np.array([1.5])
    assert mr.metrics.TruePositives(thresholds=[0.0, 0.5, 1.0])([1], outside)[2] == 0.0
    assert mr.metrics.TruePositives(thresholds=[0.0, 1.0])([1], outside)[1] == 1.0


def test_f1_and_fbeta_by_hand(float64):
    y = np.array([[1, 0], [0, 1], [0, 1]])
    p = np.array([[0.9, 0.8], [0.2, 0.7], [0.6, 0.4]])
    # threshold 0.5: class 0 TP 1 FP 1 FN 0; class 1 TP 1 FP 1 FN 1
    f1 = mr.metrics.F1Score(threshold=0.5)(y, p)
    np.testing.assert_allclose(f1, [2 * 0.5 / 1.5, 0.5], rtol=1e-6)
    # threshold None: the row's top score only -> class 0 TP 1 FP 1; class 1 TP 1 FN 1
    np.testing.assert_allclose(mr.metrics.F1Score()(y, p), [2 / 3, 2 / 3], rtol=1e-6)
    micro = mr.metrics.FBetaScore(beta=2.0, threshold=0.5, average="micro")(y, p)
    precision, recall = 2 / 4, 2 / 3
    assert micro == pytest.approx(5 * precision * recall / (4 * precision + recall), rel=1e-6)
    weighted = mr.metrics.F1Score(threshold=0.5, average="weighted")(y, p)
    assert weighted == pytest.approx((1 * 2 / 3 + 2 * 0.5) / 3, rel=1e-6)
    with pytest.raises(ValueError, match="beta"):
        mr.metrics.FBetaScore(beta=2)


def test_every_metric_name_resolves_to_its_class():
    for name, cls in mr.metrics._BY_NAME.items():
        if cls in (mr.metrics.Metric, mr.metrics.MeanMetricWrapper):
            continue
        if cls.__init__.__defaults__ is None or cls.__init__.__code__.co_argcount > 1 + len(
                cls.__init__.__defaults__):     # IoU(num_classes, ...): a name cannot build it
            with pytest.raises(TypeError, match="needs arguments"):
                mr.metrics.get(name)
            continue
        metric = mr.metrics.get(name)
        assert type(metric) is cls, name
    assert type(mr.metrics.get("accuracy")) is mr.metrics.Accuracy     # without shapes
    assert type(mr.metrics.get("mae")) is mr.metrics.MeanAbsoluteError
    assert mr.metrics.get("mae").name == "mean_absolute_error"
    assert type(mr.metrics.get("f1_score")) is mr.metrics.F1Score
    with pytest.raises(ValueError, match="Unknown metric 'rmse'"):
        mr.metrics.get("rmse")          # Keras has no "rmse": root_mean_squared_error


def test_compile_checks_names_without_building_metrics():
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])
    with pytest.raises(ValueError, match="Unknown metric 'maee'. Did you mean 'mae'"):
        model.compile(loss="mse", metrics=["maee"])


@pytest.mark.parametrize("metric", [
    mr.metrics.AUC(curve="PR", num_thresholds=7), mr.metrics.Precision(thresholds=[0.2, 0.4]),
    mr.metrics.F1Score(average="macro", threshold=0.4), mr.metrics.R2Score(num_regressors=2),
    mr.metrics.SparseTopKCategoricalAccuracy(k=3), mr.metrics.BinaryAccuracy(threshold=0.3),
], ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    assert type(metric).from_config(metric.get_config()).get_config() == metric.get_config()


def test_history_keys_follow_keras_naming():
    """A string keeps the string typed; an object its own name; repeats get _1."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", metrics=[
        "mae", mr.metrics.MeanAbsoluteError(), "mae", "root_mean_squared_error",
        mr.metrics.R2Score(name="r2")])
    history = model.fit(x, y, epochs=1, verbose=0).history
    assert sorted(history) == ["loss", "mae", "mae_1", "mean_absolute_error", "r2",
                               "root_mean_squared_error"]
    assert history["mae"] == history["mae_1"] == history["mean_absolute_error"]


# -- a metric of yours: add_weight / add_variable as in Keras ---------------------------------

@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def count_metric(library):
    """The classic custom metric (Keras guides): a counter made with add_weight's defaults."""
    class Count(library.metrics.Metric):
        def __init__(self, name="count", **kwargs):
            super().__init__(name=name, **kwargs)
            self.n = self.add_weight(name="n", initializer="zeros")     # shape=() by default

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign_add(1.0)

        def result(self):
            return self.n

    return Count


def test_add_weight_and_add_variable_have_keras_signatures(keras_env):
    import inspect

    for method in ("add_weight", "add_variable"):
        ours = inspect.signature(getattr(mr.metrics.Metric, method))
        theirs = inspect.signature(getattr(keras_env.keras.metrics.Metric, method))
        assert [(p.name, p.default) for p in ours.parameters.values()] == [
            (p.name, p.default) for p in theirs.parameters.values()], method


def test_a_count_metric_from_add_weight_gives_keras_numbers_in_fit_and_evaluate(keras_env):
    """10 samples in batches of 4: 3 batches, the counter reset at each epoch and for
    evaluate (Keras' numbers, computed here). (With validation_data, Keras' history shows the
    validation count under ``count`` too: its logs hold the Variable ``result()`` returned,
    which the validation pass then resets and counts again.)"""
    keras = keras_env.keras
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 3)).astype("float32"), rng.normal(size=(10, 1)).astype("float32")
    results = []
    for library in (mr, keras):
        model = library.Sequential([library.Input((3,)), library.layers.Dense(1)])
        metric = count_metric(library)()
        model.compile(optimizer="sgd", loss="mse", metrics=[metric])
        history = model.fit(x, y, batch_size=4, epochs=2, verbose=0).history
        evaluated = model.evaluate(x[:6], y[:6], batch_size=4, verbose=0, return_dict=True)
        results.append((history["count"], evaluated["count"], metric.n.shape,
                        str(metric.n.dtype)))
    assert results[0] == results[1] == ([3.0, 3.0], 2.0, (), "float32")


def test_add_variable_dtype_defaults_to_floatx_as_keras(keras_env):
    """Keras' add_variable(dtype=None) makes a floatx Variable, whatever the metric's dtype."""
    dtypes = []
    for library in (mr, keras_env.keras):
        metric = count_metric(library)(dtype="float64")
        dtypes.append((str(metric.n.dtype), str(metric.dtype),
                       str(metric.add_variable((2,), "ones", dtype="int32").dtype)))
    assert dtypes[0] == dtypes[1] == ("float32", "float64", "int32")


def test_add_weight_without_an_initializer_is_refused():
    """Keras' default initializer=None fails too (with a TensorFlow conversion error)."""
    class Bare(mr.metrics.Metric):
        def __init__(self):
            super().__init__(name="bare")
            self.n = self.add_weight(name="n")

    with pytest.raises(ValueError, match=r"Metric 'bare': add_weight\(\) and add_variable\(\) "
                                         r"need an `initializer` \(e.g. initializer='zeros'\), "
                                         r"got None"):
        Bare()
