"""Muon, ScheduleFreeAdamW and MultiOptimizer: the same steps, and the same ``fit``, as Keras.

The step cases reuse :func:`comparisons.optimizers.compare_steps` (a (4, 3) kernel and a (3,)
bias, six rounds of gradients). There Muon gives the kernel its Newton-Schulz step and the
bias the AdamW step, and the MultiOptimizer picks each variable's optimizer by its shape.

The training cases fit the small classifier of :mod:`comparisons.training` in both
libraries. The weights of minired's layers are plain arrays: their Keras paths
(``"sequential/output/kernel"``), by which Muon and an OptimizerMap choose, are written
down first with :func:`~minired.optimizers.variable_paths.remember_paths`.
ScheduleFreeAdamW's Keras twin is built before ``fit`` (see the class docstring: Keras'
``fit`` on TensorFlow would start its ``z`` at 0 instead of at the weights).
"""

from __future__ import annotations

from collections.abc import Callable

from comparisons.data import blobs, one_hot
from comparisons.keras_env import keras, mr, precision
from comparisons.mirror import to_keras
from comparisons.optimizers import LR, compare_steps
from comparisons.registry import Outcome, case
from comparisons.training import classifier, compare_fit
from minired.optimizers.variable_paths import remember_paths

# -- single steps ------------------------------------------------------------------------------

@case("optimizers", "muon", kind="step")
def muon(dtype):
    """Muon: Newton-Schulz step on the kernel, AdamW step on the bias, default decays."""
    return compare_steps(dtype, lambda o: o.Muon(learning_rate=LR))


@case("optimizers", "muon_options", kind="step")
def muon_options(dtype):
    """Muon without Nesterov or rms_rate, 3 iterations, its own decays and Adam lr ratio."""
    return compare_steps(dtype, lambda o: o.Muon(
        learning_rate=LR, nesterov=False, rms_rate=None, ns_steps=3, momentum=0.9,
        adam_lr_ratio=0.5, weight_decay=0.1, adam_weight_decay=None, adam_beta_1=0.8,
        adam_beta_2=0.95, epsilon=1e-4))


@case("optimizers", "schedule_free_adamw", kind="step")
def schedule_free_adamw(dtype):
    """ScheduleFreeAdamW: Adam-like z steps, averaged x, weights y between them."""
    return compare_steps(dtype, lambda o: o.ScheduleFreeAdamW(learning_rate=LR))


@case("optimizers", "schedule_free_adamw_warmup", kind="step")
def schedule_free_adamw_warmup(dtype):
    """ScheduleFreeAdamW with a 4-step warmup, weight decay and other betas."""
    return compare_steps(dtype, lambda o: o.ScheduleFreeAdamW(
        learning_rate=LR, warmup_steps=4, weight_decay=0.1, beta_1=0.8, beta_2=0.95,
        epsilon=1e-3))


@case("optimizers", "multi_optimizer", kind="step")
def multi_optimizer(dtype):
    """MultiOptimizer: SGD+momentum for the kernel, Adam for the bias (chosen by shape)."""
    def make(o):
        sgd, adam = o.SGD(learning_rate=LR, momentum=0.9), o.Adam(learning_rate=LR)
        return o.MultiOptimizer(lambda v: sgd if len(v.shape) == 2 else adam)
    return compare_steps(dtype, make)


# -- fit ---------------------------------------------------------------------------------------

def fit_with(dtype: str, make: Callable, build_keras_optimizer: bool = False) -> Outcome:
    """Fit :func:`~comparisons.training.classifier` on 96 blob samples (batches of 16) with
    ``make(mr.optimizers)`` and ``make(keras.optimizers)``; compare History and weights."""
    with precision(dtype):
        x, labels = blobs(96, dtype)
        y = one_hot(labels, dtype)
        model = classifier()
        keras_model = to_keras(model)          # not compiled yet: same weights
        model.compile(optimizer=make(mr.optimizers), loss="categorical_crossentropy")
        keras_model.compile(optimizer=make(keras.optimizers), loss="categorical_crossentropy")
        remember_paths(model)
        if build_keras_optimizer:
            keras_model.optimizer.build(keras_model.trainable_variables)
        return compare_fit(model, x, y, keras_model=keras_model, batch_size=16)


@case("optimizers", "muon_fit", kind="training")
def muon_fit(dtype):
    """fit with Muon; the output layer excluded by path (it takes the AdamW step)."""
    return fit_with(dtype, lambda o: o.Muon(learning_rate=0.02, exclude_layers=["output"]))


@case("optimizers", "schedule_free_adamw_fit", kind="training")
def schedule_free_adamw_fit(dtype):
    """fit with ScheduleFreeAdamW (Keras' optimizer built before fit)."""
    return fit_with(dtype, lambda o: o.ScheduleFreeAdamW(learning_rate=0.01),
                    build_keras_optimizer=True)


@case("optimizers", "multi_optimizer_fit", kind="training")
def multi_optimizer_fit(dtype):
    """fit with an OptimizerMap: Adam for the output layer's path, SGD for the rest."""
    return fit_with(dtype, lambda o: o.MultiOptimizer(o.OptimizerMap(
        o.SGD(learning_rate=0.05, momentum=0.9), {".*/output/.*": o.Adam(learning_rate=0.01)})))
