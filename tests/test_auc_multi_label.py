"""``AUC(multi_label=True)`` side by side with Keras' (skipped without Keras).

A multi-label AUC keeps one set of counts per column of ``(N, C)`` data (variables of shape
``(T, C)``) and reports the mean of the C areas, or their ``label_weights`` mean. Both
libraries are fed the same random multi-label batches, with and without sample weights;
the result after every batch must agree to 1e-12 (relative) in float64 and 1e-6 in float32,
and so must the four count variables, their names, order and shapes, and ``get_config()``.
Then a model compiled with the metric is fitted in both, the ``.keras`` file goes both ways,
and bad arguments fail as in Keras (with minired's own messages).
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

# The confusion counts are sums of sample weights over the batches, added in TensorFlow's
# order by Keras and in NumPy's by minired: equal to rounding, 1e-6 relative in float32.
# The counts' absolute bound is 10x that: a count near 0 has no relative scale.
TOLERANCE = {"float64": 1e-12, "float32": 1e-6}
VARIABLE_NAMES = ["true_positives", "false_positives", "true_negatives", "false_negatives"]


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``precision(dtype)`` for both libraries."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def batches(dtype: str, weights: str | None, seed: int = 0, n: int = 9, c: int = 4):
    """Three batches ``(y_true, y_pred, sample_weight)`` of ``c`` labels, with the edge
    scores 0, 0.5 and 1, ties, and a label column that is all negative in one batch;
    ``weights`` is None, ``"rows"`` (one per sample) or ``"cells"`` (one per score)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(3):
        y = (rng.random((n, c)) > 0.5).astype(dtype)
        p = rng.random((n, c)).astype(dtype)
        p[:3, 0] = [0.0, 1.0, 0.5]
        p[3] = 0.25                                   # a row of ties
        if i == 1:
            y[:, -1] = 0                              # no positive of the last label
        w = {None: None, "rows": rng.random(n), "cells": rng.random((n, c))}[weights]
        out.append((y, p, None if w is None else w.astype(dtype)))
    return out


def _plain(config: dict) -> dict:
    """Keras keeps label_weights as a tensor: compare configs as plain values."""
    return {k: np.asarray(v).tolist() if hasattr(v, "shape") else v for k, v in config.items()}


SPECS = [
    {},                                                     # buckets (even thresholds)
    {"num_thresholds": 7},
    {"thresholds": [0.1, 0.5, 0.9]},                        # comparisons with each threshold
    {"thresholds": [0.25, 0.5, 0.75]},                      # given, but even: buckets
    {"curve": "PR"},
    {"curve": "PR", "thresholds": [0.3, 0.5, 0.6]},
    {"curve": "PR", "summation_method": "minoring"},
    {"curve": "PR", "summation_method": "majoring", "num_thresholds": 11},
    {"curve": "ROC", "summation_method": "minoring"},
    {"curve": "ROC", "summation_method": "majoring", "thresholds": [0.2, 0.7]},
    {"curve": "PRGAIN"},
    {"label_weights": [1.0, 2.0, 0.5, 0.0]},
    {"label_weights": [1.0, 2.0, 0.5, 3.0], "curve": "PR"},
    {"label_weights": [0.2, 0.0, 1.0, 1.0], "thresholds": [0.4, 0.6],
     "summation_method": "minoring"},
    {"num_labels": 4, "from_logits": True},
]


# Every weighting for the two ways of counting (buckets, comparisons); one each for the rest.
CASES = [(kwargs, weights) for i, kwargs in enumerate(SPECS)
         for weights in ([None, "rows", "cells"] if i in (0, 2) else [(None, "rows",
                                                                       "cells")[i % 3]])]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("kwargs", "weights"), CASES,
                         ids=[f"{i}-{w}" for i, (_, w) in enumerate(CASES)])
def test_matches_keras_batch_by_batch(keras_env, dtype, weights, kwargs):
    keras = keras_env.keras
    with keras_env.precision(dtype):
        ours = mr.metrics.AUC(multi_label=True, name="auc", **kwargs)
        theirs = keras.metrics.AUC(multi_label=True, name="auc", **kwargs)
        assert ours.get_config() == _plain(theirs.get_config())
        data = batches(dtype, weights)
        if kwargs.get("from_logits"):                   # logits: scores far outside [0, 1]
            data = [(y, 6 * p - 3, w) for y, p, w in data]
        for y, p, w in data:
            ours.update_state(y, p, sample_weight=w)
            theirs.update_state(y, p, sample_weight=w)
            expected = float(theirs.result())
            # a real average, not an empty one (PRGAIN's areas can be negative)
            assert np.isfinite(expected) and expected != 0
            np.testing.assert_allclose(ours.result(), expected, rtol=TOLERANCE[dtype])
        for mine, keras_variable, name in zip(ours.variables, theirs.variables,
                                              VARIABLE_NAMES, strict=True):
            assert mine.name == name and keras_variable.path.endswith("/" + name)
            assert mine.shape == tuple(keras_variable.shape) == (ours.num_thresholds, 4)
            assert mine.dtype == keras_variable.dtype == dtype
            np.testing.assert_allclose(mine, keras_variable.numpy(), rtol=TOLERANCE[dtype],
                                       atol=TOLERANCE[dtype] * 10)


def test_label_aucs_are_averaged_as_keras_says(keras_env):
    """The result is the (weighted) mean of C single-label AUCs: check it with minired's
    own single-label AUC on each column."""
    with keras_env.precision("float64"):
        (y, p, w), *_ = batches("float64", "rows")
        weights = np.array([1.0, 2.0, 0.5, 3.0])
        per_label = []
        for c in range(4):
            single = mr.metrics.AUC(curve="PR")
            single.update_state(y[:, c], p[:, c], sample_weight=w)
            per_label.append(single.result())
        multi = mr.metrics.AUC(multi_label=True, curve="PR")
        multi.update_state(y, p, sample_weight=w)
        assert multi.result() == pytest.approx(np.mean(per_label), rel=1e-12)
        weighted = mr.metrics.AUC(multi_label=True, curve="PR", label_weights=weights)
        weighted.update_state(y, p, sample_weight=w)
        assert weighted.result() == pytest.approx(np.dot(per_label, weights) / weights.sum(),
                                                  rel=1e-12)
        zero = mr.metrics.AUC(multi_label=True, label_weights=[0.0, 0.0, 0.0, 0.0])
        zero.update_state(y, p)
        assert zero.result() == 0.0                     # Keras' divide_no_nan


def test_variables_built_at_first_batch_or_from_num_labels(keras_env):
    keras = keras_env.keras
    lazy, keras_lazy = mr.metrics.AUC(multi_label=True), keras.metrics.AUC(multi_label=True)
    assert lazy.variables == [] and keras_lazy.variables == []
    lazy.reset_state()                                  # nothing to reset yet: no error
    assert lazy.result() == 0.0
    y, p, _ = batches("float32", None, c=3)[0]
    lazy.update_state(y, p)
    keras_lazy.update_state(y, p)
    assert [v.shape for v in lazy.variables] == [tuple(v.shape) for v in keras_lazy.variables]
    assert lazy.get_config()["num_labels"] is None      # Keras keeps the argument as given
    eager = mr.metrics.AUC(multi_label=True, num_labels=5, num_thresholds=10)
    assert [v.shape for v in eager.variables] == [(10, 5)] * 4
    single = mr.metrics.AUC(num_thresholds=10)
    assert [v.name for v in single.variables] == VARIABLE_NAMES
    assert [v.shape for v in single.variables] == [(10,)] * 4


def test_reset_state_zeroes_the_counts_and_keeps_their_shape(keras_env):
    keras = keras_env.keras
    ours, theirs = mr.metrics.AUC(multi_label=True), keras.metrics.AUC(multi_label=True)
    data = batches("float32", "cells")
    for metric in (ours, theirs):
        metric.update_state(*data[0])
        metric.reset_state()
    assert all(np.all(v == 0) and v.shape == (200, 4) for v in ours.variables)
    assert ours.result() == float(theirs.result()) == 0.0
    for metric in (ours, theirs):
        metric.update_state(*data[1])
    assert ours.result() == pytest.approx(float(theirs.result()), rel=1e-6)


def test_config_round_trip_and_keras_config(keras_env):
    keras = keras_env.keras
    kwargs = {"multi_label": True, "num_labels": 4, "label_weights": [1.0, 2.0, 0.5, 0.0],
              "curve": "PR", "thresholds": [0.2, 0.4, 0.9], "name": "pr"}
    ours = mr.metrics.AUC(**kwargs)
    again = mr.metrics.AUC.from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    from_keras = mr.metrics.AUC.from_config(keras.metrics.AUC(**kwargs).get_config())
    assert from_keras.get_config() == ours.get_config()
    back = keras.metrics.AUC.from_config(ours.get_config())
    assert _plain(back.get_config()) == ours.get_config()
    y, p, w = batches("float32", "rows")[0]
    for metric in (again, from_keras, back):
        metric.update_state(y, p, sample_weight=w)
    assert again.result() == from_keras.result() == pytest.approx(float(back.result()),
                                                                  rel=1e-6)


def multi_label_data(n: int, dtype: str, seed: int = 0):
    from comparisons.data import blobs
    from comparisons.metrics_catalog import multi_labels

    x, labels = blobs(n, dtype, seed=seed)
    return x, multi_labels(labels, x, dtype)


def _fitted_pair(keras_env, dtype: str, metric_kwargs: dict):
    """A sigmoid model compiled with AUC(multi_label=True, ...) and its Keras twin, both
    fitted 3 epochs on the same multi-label data with validation data."""
    from comparisons.mirror import optimizer_to_keras, to_keras
    from comparisons.training import classifier

    keras = keras_env.keras
    x, y = multi_label_data(48, dtype)
    x_val, y_val = multi_label_data(24, dtype, seed=1)
    model = classifier(output_units=3, output_activation="sigmoid")
    model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy",
                  metrics=[mr.metrics.AUC(multi_label=True, **metric_kwargs)])
    keras_model = to_keras(model)
    keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                        loss="binary_crossentropy",
                        metrics=[keras.metrics.AUC(multi_label=True, **metric_kwargs)])
    fit = {"epochs": 3, "batch_size": 16, "shuffle": False, "verbose": 0,
           "validation_data": (x_val, y_val)}
    return model, keras_model, model.fit(x, y, **fit), keras_model.fit(x, y, **fit), (x, y)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_reports_keras_multi_label_auc(keras_env, dtype):
    with keras_env.precision(dtype):
        _, _, ours, theirs, _ = _fitted_pair(
            keras_env, dtype, {"name": "auc", "curve": "PR", "label_weights": [1.0, 0.5, 2.0]})
    assert sorted(ours.history) == sorted(theirs.history)
    assert "auc" in ours.history and "val_auc" in ours.history
    # float64: the same numbers; float32: weights a few ulp apart after 3 epochs, and no
    # score crossing a threshold here, so the areas agree to float32 rounding.
    for key in ("auc", "val_auc"):
        np.testing.assert_allclose(ours.history[key], theirs.history[key],
                                   rtol=TOLERANCE[dtype])


def test_keras_file_cross_loads_the_compiled_metric(keras_env, tmp_path):
    """minired's ``.keras`` loads in Keras with the same compiled AUC, and back."""
    keras = keras_env.keras
    kwargs = {"name": "auc", "num_labels": 3, "label_weights": [1.0, 0.5, 2.0],
              "num_thresholds": 50}
    with keras_env.precision("float64"):
        model, keras_model, _, _, (x, y) = _fitted_pair(keras_env, "float64", kwargs)
        model.save(tmp_path / "ours.keras")
        keras_model.save(tmp_path / "theirs.keras")
        in_keras = keras.saving.load_model(tmp_path / "ours.keras")
        in_minired = mr.saving.load_model(tmp_path / "theirs.keras")
        expected = keras_model.evaluate(x, y, verbose=0, return_dict=True)["auc"]
        assert 0 < expected < 1
        for loaded in (in_keras, in_minired, model):
            assert loaded.evaluate(x, y, verbose=0, return_dict=True)["auc"] == pytest.approx(
                expected, rel=1e-12)
        compiled = next(m for m in in_minired.metrics if m.name == "compile_metrics")
        (auc,) = compiled.metrics
        assert auc.get_config() == mr.metrics.AUC(multi_label=True, **kwargs).get_config()
        # A Keras quirk, not copied: Keras writes label_weights as a tensor it cannot read
        # back, so it refuses its own compiled file (minired reads it, above).
        with pytest.raises(ValueError, match="__tensor__"):
            keras.saving.load_model(tmp_path / "theirs.keras")


def test_keras_fails_in_fit_with_uneven_thresholds_minired_does_not(keras_env):
    """A Keras bug, not copied: its multi-label counting with uneven thresholds calls
    ``np.where`` on a symbolic tensor, so it works eagerly but fails inside ``fit``."""
    from comparisons.mirror import to_keras
    from comparisons.training import classifier

    keras = keras_env.keras
    x, y = multi_label_data(32, "float32")
    model = classifier(output_units=3, output_activation="sigmoid")
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=[mr.metrics.AUC(multi_label=True, thresholds=[0.3, 0.8])])
    keras_model = to_keras(model)
    keras_model.compile(optimizer="sgd", loss="binary_crossentropy",
                        metrics=[keras.metrics.AUC(multi_label=True, thresholds=[0.3, 0.8],
                                                   name="auc")])
    with pytest.raises(Exception, match="symbolic"):
        keras_model.fit(x, y, epochs=1, verbose=0)
    history = model.fit(x, y, epochs=1, verbose=0, shuffle=False)
    (key,) = [k for k in history.history if k.startswith("auc")]
    assert 0 < history.history[key][0] < 1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"multi_label": False, "num_labels": 3}, "needed only when `multi_label` is True"),
    ({"multi_label": True, "num_labels": -1}, "num_labels"),
    ({"multi_label": True, "num_labels": 2.5}, "num_labels"),
    ({"multi_label": True, "num_labels": "3"}, "num_labels"),
])
def test_bad_num_labels_fail_as_keras(keras_env, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mr.metrics.AUC(**kwargs)
    with pytest.raises(ValueError):
        keras_env.keras.metrics.AUC(**kwargs)


def test_zero_num_labels_means_at_the_first_batch_as_keras(keras_env):
    ours = mr.metrics.AUC(multi_label=True, num_labels=0)
    theirs = keras_env.keras.metrics.AUC(multi_label=True, num_labels=0)
    assert ours.variables == [] and theirs.variables == []


@pytest.mark.parametrize(("y_shape", "p_shape"), [((6,), (6,)), ((6, 3, 1), (6, 3, 1))])
def test_y_pred_must_have_rank_2(keras_env, y_shape, p_shape):
    y, p = np.zeros(y_shape), np.full(p_shape, 0.5)
    for library in (mr, keras_env.keras):
        with pytest.raises(ValueError, match="`y_pred` must have rank 2"):
            library.metrics.AUC(multi_label=True).update_state(y, p)


def test_shape_mismatches_are_refused(keras_env):
    """Keras fails with TensorFlow's "Incompatible shapes"; minired names the argument."""
    y, p, _ = batches("float32", None, c=3)[0]
    with pytest.raises(ValueError, match="counts 4 labels"):
        mr.metrics.AUC(multi_label=True, num_labels=4).update_state(y, p)
    metric = mr.metrics.AUC(multi_label=True)
    metric.update_state(y, p)
    with pytest.raises(ValueError, match="counts 3 labels"):
        metric.update_state(y[:, :2], p[:, :2])
    with pytest.raises(ValueError, match="same shape"):
        metric.update_state(y[:, :2], p)
    with pytest.raises(ValueError, match="label_weights"):
        mr.metrics.AUC(multi_label=True, label_weights=[1.0, 2.0]).update_state(y, p)
    with pytest.raises(ValueError, match="label_weights"):
        mr.metrics.AUC(multi_label=True, num_labels=3, label_weights=[1.0, 2.0])
    keras = keras_env.keras
    with pytest.raises(Exception, match="Incompatible shapes"):
        keras.metrics.AUC(multi_label=True, num_labels=4).update_state(y, p)
