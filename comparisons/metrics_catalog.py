"""Metrics: the Keras catalog reported by ``fit``, epoch by epoch, as Keras reports it.

Each case compiles a small model with a list of metrics (strings and objects) and lets
:func:`~comparisons.training.compare_fit` compare every History entry, its key included,
over 5 epochs. The Keras twin made by :func:`~comparisons.mirror.to_keras` is recompiled
here with Keras metric objects built from the *same* class names and arguments (the mirror
copies only metric names), so ``AUC(curve="PR")`` really meets ``AUC(curve="PR")``.

Metric objects are given explicit names: an unnamed ``Precision()`` is called
``precision``, ``precision_1``... by a per-session counter, which differs between the two
libraries after other cases ran (``tests/test_metrics_catalog.py`` checks the default
names from a fresh counter).
"""

from __future__ import annotations

import numpy as np

from comparisons.data import N_FEATURES, blobs, one_hot, regression, sample_weights
from comparisons.keras_env import keras, mr, precision
from comparisons.mirror import loss_to_keras, optimizer_to_keras, to_keras
from comparisons.registry import case
from comparisons.training import classifier, compare_fit


def build(spec, library):
    """A metric of ``library`` (``mr`` or ``keras``) from a spec: a string is passed as it
    is, ``(class_name, kwargs)`` builds that class, ``(function_name, None)`` gives the
    function (``metrics=[keras.metrics.hinge]``); a name ``"losses.X"`` is taken from
    ``library.losses`` (a loss object as a metric)."""
    if isinstance(spec, str):
        return spec
    class_name, kwargs = spec
    module = library.metrics
    if class_name.startswith("losses."):
        module, class_name = library.losses, class_name.removeprefix("losses.")
    if kwargs is None:
        return getattr(module, class_name)
    return getattr(module, class_name)(**kwargs)


def fit_with_metrics(model, specs, x, y, losses, weighted_specs=None, **fit_kwargs):
    """Compile ``model`` with SGD, ``losses`` and the metrics ``specs`` (a list, or a list
    of lists for several outputs), and ``weighted_specs`` as ``weighted_metrics``, make the
    Keras twin alike, and compare their fits."""
    def metrics(library, given):
        if given is None:
            return None
        if given and isinstance(given[0], list):
            return [[build(s, library) for s in output] for output in given]
        return [build(s, library) for s in given]

    model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.05, momentum=0.5),
                  loss=losses, metrics=metrics(mr, specs),
                  weighted_metrics=metrics(mr, weighted_specs))
    keras_model = to_keras(model)
    keras_losses = [loss_to_keras(out.loss) for out in model._output_losses]
    keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                        loss=keras_losses if len(keras_losses) > 1 else keras_losses[0],
                        metrics=metrics(keras, specs),
                        weighted_metrics=metrics(keras, weighted_specs))
    return compare_fit(model, x, y, keras_model=keras_model, batch_size=16, **fit_kwargs)


@case("metrics", "classifier_catalog", kind="training")
def classifier_catalog(dtype):
    """Softmax classifier, one-hot labels: accuracy, top-k (float32: TF's in_top_k has no
    float64 kernel), precision/recall/counts over thresholds, ROC and PR AUC, F-scores, mae."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x_val, val_labels = blobs(40, dtype, seed=1)
        specs = [
            "accuracy", "mae", "mse",
            ("Precision", {"name": "precision"}),
            ("Recall", {"thresholds": [0.3, 0.6], "name": "recall"}),
            ("Precision", {"top_k": 1, "name": "precision_top_1"}),
            ("Recall", {"class_id": 2, "name": "recall_class_2"}),
            ("AUC", {"name": "auc"}),
            ("AUC", {"curve": "PR", "num_thresholds": 50, "name": "pr_auc"}),
            ("TruePositives", {"name": "tp"}), ("FalsePositives", {"name": "fp"}),
            ("TrueNegatives", {"name": "tn"}), ("FalseNegatives", {"name": "fn"}),
            ("F1Score", {"average": "macro"}),
            ("FBetaScore", {"beta": 0.5, "average": "weighted", "threshold": 0.4}),
            ("F1Score", {"name": "f1_per_class"}),
        ]
        if dtype == "float32":
            specs += ["top_k_categorical_accuracy",
                      ("TopKCategoricalAccuracy", {"k": 2, "name": "top_2"})]
        return fit_with_metrics(classifier(), specs, x, one_hot(labels, dtype),
                                "categorical_crossentropy",
                                validation_data=(x_val, one_hot(val_labels, dtype)))


@case("metrics", "binary_catalog", kind="training")
def binary_catalog(dtype):
    """Sigmoid output, 0/1 labels: binary accuracy, AUC (ROC, PR, minoring), precision,
    recall, the four counts (over several thresholds), F1 with a threshold.

    No validation data here: Keras' History entry of a count over several thresholds
    holds its variable's buffer, so with validation_data the *training* key ends up with
    the validation counts (``tn`` == ``val_tn``), a Keras aliasing bug minired does not copy.
    """
    with precision(dtype):
        x, labels = blobs(96, dtype)
        y = (labels == 0).astype(dtype).reshape(-1, 1)
        specs = [
            "accuracy", "binary_accuracy",
            ("AUC", {"name": "auc"}), ("AUC", {"curve": "PR", "name": "pr_auc"}),
            ("AUC", {"curve": "PR", "summation_method": "minoring", "num_thresholds": 20,
                     "name": "pr_auc_minoring"}),
            ("AUC", {"thresholds": [0.25, 0.5, 0.75], "name": "auc_even"}),
            ("Precision", {"thresholds": [0.0, 0.5, 1.0], "name": "precision"}),
            ("Recall", {"name": "recall"}),
            ("TruePositives", {"name": "tp"}), ("FalsePositives", {"name": "fp"}),
            ("TrueNegatives", {"thresholds": [0.2, 0.8], "name": "tn"}),
            ("FalseNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0], "name": "fn"}),
            ("F1Score", {"threshold": 0.5}),
        ]
        model = classifier(output_units=1, output_activation="sigmoid")
        return fit_with_metrics(model, specs, x, y, "binary_crossentropy")


@case("metrics", "sparse_catalog", kind="training")
def sparse_catalog(dtype):
    """Integer labels: sparse accuracy and (float32 only) sparse top-k with k=1 and k=2."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        specs = ["accuracy", "sparse_categorical_accuracy"]
        if dtype == "float32":
            specs += [("SparseTopKCategoricalAccuracy", {"k": 1, "name": "top_1"}),
                      ("SparseTopKCategoricalAccuracy", {"k": 2, "name": "top_2"})]
        return fit_with_metrics(classifier(), specs, x, labels,
                                "sparse_categorical_crossentropy")


@case("metrics", "regression_catalog", kind="training")
def regression_catalog(dtype):
    """Two linear targets: mae, mse, mape, msle, RMSE, R² (three aggregations)."""
    with precision(dtype):
        x, y = regression(96, dtype)
        x_val, y_val = regression(40, dtype, seed=1)
        specs = [
            "mae", "mse", "mape", "msle", "MeanSquaredLogarithmicError",
            ("RootMeanSquaredError", {}), ("MeanAbsoluteError", {}),
            ("MeanAbsolutePercentageError", {"name": "percent"}),
            ("R2Score", {}),
            ("R2Score", {"class_aggregation": "variance_weighted_average", "name": "r2_var"}),
            ("R2Score", {"class_aggregation": None, "name": "r2_each"}),
        ]
        # Not R2Score(num_regressors=p): Keras' adjusted score tests a tensor in a Python
        # `if`, which fails inside fit's tf.function (it works eagerly; see the tests).
        model = classifier(output_units=2, output_activation="linear")
        return fit_with_metrics(model, specs, x, y, "mse", validation_data=(x_val, y_val))


@case("metrics", "two_outputs", kind="training")
def two_outputs(dtype):
    """Two outputs: History keys ``<output>_<metric>``, a string named as typed, an object
    by its name, and a repeat numbered ``_1``."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        mr.utils.set_random_seed(0)
        inputs = mr.Input((N_FEATURES,))
        hidden = mr.layers.Dense(8, activation="relu", name="hidden")(inputs)
        kind = mr.layers.Dense(3, activation="softmax", name="kind")(hidden)
        size = mr.layers.Dense(1, name="size")(hidden)
        model = mr.Model(inputs, [kind, size])
        y = [one_hot(labels, dtype), x[:, :1] + labels[:, None].astype(dtype)]
        specs = [["accuracy", ("AUC", {"name": "auc"}), "mae", "mae"],
                 ["mae", ("MeanAbsoluteError", {}), ("RootMeanSquaredError", {}),
                  ("R2Score", {})]]
        return fit_with_metrics(model, specs, x, y, ["categorical_crossentropy", "mse"])


# -- the rest of Keras' catalog: cross-entropies, hinges, IoU, correlations, rates at rates --
# Keras on TensorFlow computes its cross-entropy *metrics* in fit from the logits behind a
# softmax/sigmoid output, and so does minired (saturated_cross_entropies shows it where the
# probabilities saturate).

@case("metrics", "probabilistic_catalog", kind="training")
def probabilistic_catalog(dtype):
    """Softmax classifier, one-hot labels: cross-entropy, KL, Poisson, categorical hinge,
    cosine similarity (by string and object), one-hot IoU, precision at recall, specificity
    at sensitivity of one class, concordance along the classes. (Not Pearson's: a sample
    whose scores are all equal, as a dead ReLU layer gives, has σ = 0 and makes the epoch's
    value NaN in both libraries.)"""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x_val, val_labels = blobs(40, dtype, seed=1)
        specs = [
            "categorical_crossentropy", "kl_divergence", "poisson", "categorical_hinge",
            "cosine_similarity", "CategoricalCrossentropy",
            ("CategoricalCrossentropy", {"label_smoothing": 0.1, "name": "cce_smooth"}),
            ("KLDivergence", {"name": "kld"}), ("Poisson", {"name": "pois"}),
            ("OneHotIoU", {"num_classes": 3, "target_class_ids": [0, 2], "name": "iou_02"}),
            ("OneHotMeanIoU", {"num_classes": 3, "name": "miou"}),
            ("PrecisionAtRecall", {"recall": 0.6, "name": "p_at_r"}),
            ("SpecificityAtSensitivity", {"sensitivity": 0.5, "class_id": 1,
                                          "name": "spec_at_sens_1"}),
            ("ConcordanceCorrelation", {"name": "ccc"}),
        ]
        return fit_with_metrics(classifier(), specs, x, one_hot(labels, dtype),
                                "categorical_crossentropy",
                                validation_data=(x_val, one_hot(val_labels, dtype)))


@case("metrics", "saturated_cross_entropies", kind="training")
def saturated_cross_entropies(dtype):
    """Softmax classifier with weights ×5 (saturated probabilities): the cross-entropy
    metrics read the logits behind the softmax, as in Keras on TensorFlow ("bce" is then
    the sigmoid cross-entropy of those logits); the categorical focal one and the others
    read the probabilities. Validation data for evaluate's path."""
    return saturated_fit(dtype, [
        "bce", "binary_crossentropy", "categorical_crossentropy", "accuracy",
        ("BinaryCrossentropy", {"name": "bce_object"}),
        ("CategoricalCrossentropy", {"from_logits": False, "name": "cce_object"}),
        ("categorical_crossentropy", None), ("categorical_focal_crossentropy", None),
    ])


def saturated_fit(dtype, specs):
    """:func:`fit_with_metrics` of ``specs`` on a softmax classifier with its weights ×5
    (saturated probabilities), with validation data for evaluate's path."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x_val, val_labels = blobs(40, dtype, seed=1)
        model = classifier()
        model.set_weights([w * 5 for w in model.get_weights()])
        return fit_with_metrics(model, specs, x, one_hot(labels, dtype),
                                "categorical_crossentropy",
                                validation_data=(x_val, one_hot(val_labels, dtype)))


@case("metrics", "loss_objects", kind="training")
def loss_objects(dtype):
    """Loss objects as metrics (``metrics=[keras.losses.BinaryCrossentropy()]``) on a
    saturated softmax classifier: each is logged under its loss's name (the second
    ``categorical_crossentropy`` as ``categorical_crossentropy_1``) as the mean of its batch
    values; the cross-entropies read the logits behind the softmax, the categorical focal
    one and the Kullback-Leibler divergence the probabilities."""
    return saturated_fit(dtype, [
        ("losses.CategoricalCrossentropy", {}),
        ("losses.BinaryCrossentropy", {"label_smoothing": 0.1}),
        ("losses.CategoricalFocalCrossentropy", {}),
        ("losses.KLDivergence", {}),
        ("losses.categorical_crossentropy", None),
    ])


@case("metrics", "binary_probabilistic_catalog", kind="training")
def binary_probabilistic_catalog(dtype):
    """Sigmoid output, 0/1 labels: binary cross-entropy ("bce", smoothed), hinge and squared
    hinge (labels turned into ±1), binary IoU, recall at precision, sensitivity at
    specificity, log-cosh; and loss functions as metrics (``metrics=[mr.metrics.hinge]``)."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x_val, val_labels = blobs(40, dtype, seed=1)
        y = (labels == 0).astype(dtype).reshape(-1, 1)
        y_val = (val_labels == 0).astype(dtype).reshape(-1, 1)
        specs = [
            "binary_crossentropy", "bce", "BCE", "hinge", "squared_hinge", "log_cosh_error",
            ("BinaryCrossentropy", {"label_smoothing": 0.2, "name": "bce_smooth"}),
            ("Hinge", {"name": "hinge_object"}), ("SquaredHinge", {"name": "squared"}),
            ("BinaryIoU", {"name": "biou"}),
            ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3, "name": "biou_1"}),
            ("RecallAtPrecision", {"precision": 0.5, "name": "r_at_p"}),
            ("SensitivityAtSpecificity", {"specificity": 0.5, "num_thresholds": 50,
                                          "name": "sens_at_spec"}),
            ("LogCoshError", {"name": "logcosh"}),
            ("binary_crossentropy", None), ("hinge", None), ("log_cosh", None),
            ("binary_focal_crossentropy", None),
        ]
        model = classifier(output_units=1, output_activation="sigmoid")
        return fit_with_metrics(model, specs, x, y, "binary_crossentropy",
                                validation_data=(x_val, y_val))


@case("metrics", "sparse_probabilistic_catalog", kind="training")
def sparse_probabilistic_catalog(dtype):
    """Integer labels: sparse cross-entropy (plain, ignoring class 0), IoU and mean IoU of
    the argmax of the scores."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        specs = [
            "sparse_categorical_crossentropy",
            ("SparseCategoricalCrossentropy", {"ignore_class": 0, "name": "scce_ignore_0"}),
            ("MeanIoU", {"num_classes": 3, "sparse_y_pred": False, "name": "miou"}),
            ("IoU", {"num_classes": 3, "target_class_ids": [1], "sparse_y_pred": False,
                     "name": "iou_1"}),
        ]
        return fit_with_metrics(classifier(), specs, x, labels,
                                "sparse_categorical_crossentropy")


@case("metrics", "regression_correlation_catalog", kind="training")
def regression_correlation_catalog(dtype):
    """Two linear targets: cosine similarity, log-cosh, Pearson and concordance correlation
    (per sample, and along the batch with ``axis=0``), and their functions, with Huber's
    and the squared hinge's."""
    with precision(dtype):
        x, y = regression(96, dtype)
        x_val, y_val = regression(40, dtype, seed=1)
        specs = [
            "cosine_similarity", "log_cosh_error", "LogCoshError", "pearson_correlation",
            "concordance_correlation",
            ("CosineSimilarity", {"axis": 0, "name": "cosine_batch"}),
            ("PearsonCorrelation", {"axis": 0, "name": "pearson_batch"}),
            ("ConcordanceCorrelation", {"axis": 0, "name": "ccc_batch"}),
            ("pearson_correlation", None), ("concordance_correlation", None),
            ("huber", None), ("squared_hinge", None),
        ]
        model = classifier(output_units=2, output_activation="linear")
        return fit_with_metrics(model, specs, x, y, "mse", validation_data=(x_val, y_val))


@case("metrics", "weighted_catalog", kind="training")
def weighted_catalog(dtype):
    """Sample weights through ``weighted_metrics``, one-hot labels: the running means weigh
    each sample, the confusion matrices and the threshold counts add its weight."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        weights = sample_weights(96, dtype)
        specs = ["categorical_crossentropy"]
        weighted = [
            ("CategoricalCrossentropy", {"name": "w_cce"}), ("KLDivergence", {"name": "w_kld"}),
            ("CategoricalHinge", {"name": "w_hinge"}),
            ("CosineSimilarity", {"name": "w_cosine"}),
            ("ConcordanceCorrelation", {"name": "w_ccc"}),
            ("OneHotMeanIoU", {"num_classes": 3, "dtype": "float32", "name": "w_miou"}),
            ("PrecisionAtRecall", {"recall": 0.5, "class_id": 0, "name": "w_p_at_r"}),
            ("RecallAtPrecision", {"precision": 0.5, "class_id": 2, "num_thresholds": 20,
                                   "name": "w_r_at_p"}),
        ]
        return fit_with_metrics(classifier(), specs, x, one_hot(labels, dtype),
                                "categorical_crossentropy", weighted_specs=weighted,
                                sample_weight=weights)


@case("metrics", "weighted_sparse_catalog", kind="training")
def weighted_sparse_catalog(dtype):
    """Sample weights, integer labels: the sparse cross-entropy leaves the ignored class
    out of the mean (Keras uses that mask only with weights), IoU adds float weights."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        weights = sample_weights(96, dtype)
        specs = ["sparse_categorical_crossentropy"]
        weighted = [
            ("SparseCategoricalCrossentropy", {"name": "w_scce"}),
            ("SparseCategoricalCrossentropy", {"ignore_class": 2, "name": "w_scce_ignore_2"}),
            ("MeanIoU", {"num_classes": 3, "sparse_y_pred": False, "dtype": "float32",
                         "name": "w_miou"}),
        ]
        return fit_with_metrics(classifier(), specs, x, labels,
                                "sparse_categorical_crossentropy", weighted_specs=weighted,
                                sample_weight=weights)


def multi_labels(labels, x, dtype: str):
    """Three overlapping 0/1 labels per sample (class 0, not class 1, a positive first
    feature): multi-label targets for a sigmoid output of 3 units."""
    return np.stack([labels == 0, labels != 1, x[:, 0] > 0], axis=1).astype(dtype)


@case("metrics", "multi_label_auc", kind="training")
def multi_label_auc(dtype):
    """Sigmoid output of 3 units, three 0/1 labels per sample: ``AUC(multi_label=True)``,
    one area per label averaged (plainly, with ``label_weights``), ROC and PR with the three
    summation methods, given thresholds, variables made at the first batch or from
    ``num_labels``; sample weights through ``weighted_metrics``, and validation data for
    evaluate's path.

    Only evenly spaced thresholds here: with uneven ones Keras' multi-label counting calls
    ``np.where`` on a symbolic tensor and fails inside ``fit`` (it works eagerly, and
    ``tests/test_auc_multi_label.py`` compares that path batch by batch)."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        x_val, val_labels = blobs(40, dtype, seed=1)
        y, y_val = multi_labels(labels, x, dtype), multi_labels(val_labels, x_val, dtype)
        specs = [
            ("AUC", {"multi_label": True, "name": "auc_ml"}),
            ("AUC", {"multi_label": True, "num_labels": 3, "curve": "PR",
                     "name": "pr_auc_ml"}),
            ("AUC", {"multi_label": True, "label_weights": [1.0, 2.0, 0.5],
                     "num_thresholds": 50, "name": "auc_ml_weighted"}),
            ("AUC", {"multi_label": True, "curve": "PR", "summation_method": "minoring",
                     "num_thresholds": 20, "name": "pr_auc_ml_minoring"}),
            ("AUC", {"multi_label": True, "summation_method": "majoring",
                     "thresholds": [0.25, 0.5, 0.75], "name": "auc_ml_majoring"}),
            ("AUC", {"name": "auc_flat"}),
        ]
        weighted = [("AUC", {"multi_label": True, "label_weights": [0.0, 1.0, 3.0],
                             "curve": "PR", "name": "w_pr_auc_ml"})]
        model = classifier(output_units=3, output_activation="sigmoid")
        return fit_with_metrics(model, specs, x, y, "binary_crossentropy",
                                weighted_specs=weighted,
                                sample_weight=sample_weights(96, dtype),
                                validation_data=(x_val, y_val))
