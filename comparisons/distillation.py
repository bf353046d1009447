"""Knowledge distillation (``keras.distillation``): a Distiller trains a student on the
labels and on a frozen teacher, in both libraries from the same weights.

The teacher is ``4 → Dense(8, relu) → Dense(3)`` and the student
``4 → Dense(8, tanh) → Dense(3)`` (logits out, so the student's loss is
``SparseCategoricalCrossentropy(from_logits=True)``), both with the same seeded weights in
minired and Keras, fitted 5 epochs on 30 blob samples (batches of 8, the last of 6) with
SGD(0.1). Compared: the History (``loss``, ``accuracy``, ``student_loss``,
``distillation_loss``, ``total_loss``), every final weight (the teacher's must not move),
then ``evaluate`` and ``predict``.

- ``logits_training``: ``LogitsDistillation(T=2.5, loss=KLDivergence())``, Hinton's
  ``T² · KL(softmax(z_T/T) ‖ softmax(z_S/T))``, with ``student_loss_weight=0.3``;
- ``logits_default_loss_training``: ``LogitsDistillation()``, whose default
  ``"kl_divergence"`` is Keras' *function*, applied to the scaled logits (no softmax, no T²);
- ``feature_training``: ``LogitsDistillation(T=2, loss="mse")`` and ``FeatureDistillation``
  between the hidden layers (``t1`` and ``s1``), with weights ``[0.4, 0.9]``.
"""

from __future__ import annotations

import numpy as np

from comparisons.data import blobs
from comparisons.extending import fit_pairs
from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case

N = 30


def teacher_and_student(lib) -> tuple:
    teacher = lib.Sequential([lib.Input((4,)), lib.layers.Dense(8, activation="relu", name="t1"),
                              lib.layers.Dense(3, name="t2")])
    student = lib.Sequential([lib.Input((4,)), lib.layers.Dense(8, activation="tanh", name="s1"),
                              lib.layers.Dense(3, name="s2")])
    return teacher, student


def distiller(lib, variant: str):
    """The Distiller of ``variant``, compiled, with the (shared) seeded weights."""
    teacher, student = teacher_and_student(lib)
    rng = np.random.default_rng(1)
    for model in (teacher, student):
        model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(lib.config.floatx())
                           for w in model.get_weights()])
    D = lib.distillation
    if variant == "logits":
        made = D.Distiller(teacher, student,
                           D.LogitsDistillation(2.5, loss=lib.losses.KLDivergence()),
                           student_loss_weight=0.3)
    elif variant == "logits_default_loss":
        made = D.Distiller(teacher, student, D.LogitsDistillation())
    else:
        made = D.Distiller(
            teacher, student,
            [D.LogitsDistillation(2.0, loss="mse"),
             D.FeatureDistillation(teacher_layer_name="t1", student_layer_name="s1")],
            [0.4, 0.9], student_loss_weight=0.6)
    made.compile(optimizer=lib.optimizers.SGD(0.1),
                 loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
                 metrics=["accuracy"])
    return made


def evaluated_and_predicted(x, y):
    """``after`` for :func:`fit_pairs`: evaluate's dict (all five values) and predict."""
    def after(model, keras_model) -> list:
        ours = model.evaluate(x, y, verbose=0, return_dict=True)
        theirs = keras_model.evaluate(x, y, verbose=0, return_dict=True)
        pairs = [("evaluate keys", np.array([sorted(ours) == sorted(theirs)], dtype=float),
                  np.array([1.0]))]
        pairs += [(f"evaluate {key}", np.array(ours[key]), np.array(theirs.get(key, np.nan)))
                  for key in sorted(ours)]
        pairs.append(("predict", model.predict(x, verbose=0),
                      np.asarray(keras_model.predict(x, verbose=0))))
        return pairs
    return after


def distillation_case(dtype: str, variant: str) -> Outcome:
    with precision(dtype):
        x, y = blobs(N, dtype)
        model, keras_model = distiller(mr, variant), distiller(keras, variant)
        return fit_pairs(model, keras_model, x, y, after=evaluated_and_predicted(x, y))


@case("distillation", "logits_training", kind="training")
def logits_training(dtype: str) -> Outcome:
    """LogitsDistillation with a KLDivergence object (softmax at T=2.5, times T²),
    student_loss_weight 0.3 (5 epochs of fit: History, weights, evaluate, predict)."""
    return distillation_case(dtype, "logits")


@case("distillation", "logits_default_loss_training", kind="training")
def logits_default_loss_training(dtype: str) -> Outcome:
    """LogitsDistillation() with its default 'kl_divergence', Keras' function on the scaled
    logits (5 epochs of fit: History, weights, evaluate, predict)."""
    return distillation_case(dtype, "logits_default_loss")


@case("distillation", "feature_training", kind="training")
def feature_training(dtype: str) -> Outcome:
    """LogitsDistillation(mse) and FeatureDistillation between hidden layers, weights
    [0.4, 0.9], student_loss_weight 0.6 (5 epochs of fit: History, weights, evaluate,
    predict)."""
    return distillation_case(dtype, "feature")
