"""Keras 3's instance API written by users: an optimizer of your own and a ``train_step`` of
your own train as in Keras.

- ``custom_optimizer``: an optimizer written as Keras' guide writes one (``build`` with
  ``add_variable_from_reference`` / ``add_optimizer_variables``, ``update_step`` with
  ``self.assign``/``assign_add``/``assign_sub``), trained by ``fit`` in both libraries;
- ``custom_train_step``: keras-io's "Customizing what happens in fit()" (TensorFlow
  version): ``train_step(self, data)`` with a gradient tape, ``compute_loss``,
  ``optimizer.apply`` and ``compute_metrics``. Keras' twin takes ``tf.GradientTape``, ours
  ``mr.autodiff.GradientTape``: the only line that differs.

The class of each is made by a function of the library (``mr`` or ``keras``), so both run
the same source.
"""

from __future__ import annotations

import numpy as np

from comparisons.data import blobs, one_hot
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.mirror import to_keras
from comparisons.registry import Outcome, case
from comparisons.training import classifier


def momentum_optimizer_class(lib):
    """The optimizer of ``keras.optimizers.Optimizer``'s docstring (SGD with momentum),
    with the three assignments and an Adam-like second moment made by
    ``add_optimizer_variables``, so that every method a guide uses runs."""
    ops = lib.ops

    class MomentumRMS(lib.optimizers.Optimizer):
        def __init__(self, learning_rate=0.01, momentum=0.9, rho=0.8, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)
            self.momentum = momentum
            self.rho = rho

        def build(self, variables):
            super().build(variables)
            self.momentums = [self.add_variable_from_reference(v, name="momentum")
                              for v in variables]
            self.squares = self.add_optimizer_variables(variables, "square",
                                                        initializer="ones")

        def update_step(self, gradient, variable, learning_rate):
            # Python constants multiply the tensors directly: Keras' ops.cast(0.8, "float64")
            # on TensorFlow rounds 0.8 to float32 first, minired's ops.cast does not (a
            # difference of minired.ops reported to the lead, not of the optimizer API).
            lr = ops.cast(learning_rate, variable.dtype)
            gradient = ops.cast(gradient, variable.dtype)
            index = self._get_variable_index(variable)
            m, s = self.momentums[index], self.squares[index]
            self.assign(s, ops.add(ops.multiply(s, self.rho),
                                   ops.multiply(ops.square(gradient), 1 - self.rho)))
            self.assign(m, ops.subtract(ops.multiply(m, self.momentum),
                                        ops.multiply(ops.divide(gradient, ops.sqrt(s)), lr)))
            self.assign_add(variable, m)
            self.assign_sub(variable, ops.multiply(variable, ops.multiply(lr, 0.01)))

        def get_config(self):
            return {**super().get_config(), "momentum": self.momentum, "rho": self.rho}

    return MomentumRMS


def _data(dtype):
    x, labels = blobs(48, dtype, seed=3)
    return x, one_hot(labels, dtype)


@case("instance_api", "custom_optimizer", kind="training")
def custom_optimizer(dtype):
    """A Keras-style optimizer of your own (add_variable_from_reference, assign...) in fit."""
    with precision(dtype):
        return _custom_optimizer(dtype)


def _custom_optimizer(dtype):
    x, y = _data(dtype)
    model = classifier()
    keras_model = to_keras(model)
    model.compile(optimizer=momentum_optimizer_class(mr)(learning_rate=0.05),
                  loss="categorical_crossentropy")
    keras_model.compile(optimizer=momentum_optimizer_class(keras)(learning_rate=0.05),
                        loss="categorical_crossentropy")
    ours = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    theirs = keras_model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    pairs = [("loss per epoch", np.array(ours.history["loss"]),
              np.array(theirs.history["loss"]))]
    pairs += [(f"final weight {i}", w, v) for i, (w, v) in enumerate(
        zip(model.get_weights(), keras_model.get_weights(), strict=True))]
    pairs += [(f"optimizer variable {i}", np.asarray(a), np.asarray(b)) for i, (a, b) in
              enumerate(zip(model.optimizer.variables, keras_model.optimizer.variables,
                            strict=True))]
    return Outcome(pairs, curves={"minired": ours.history["loss"],
                                  "keras": theirs.history["loss"]})


def guide_classes(lib, tape_class) -> dict:
    """keras-io's "Customizing what happens in fit()" (TensorFlow version), class by class,
    for the library ``lib`` and its tape: ``"simple"`` (compute_loss and the metrics loop),
    ``"lower_level"`` (its own loss and metrics, no compiled loss), ``"sample_weight"``,
    ``"test_step"`` (its own evaluation step) and ``"compute_metrics"`` (the step of
    ``keras.Model.compute_metrics``' docstring)."""

    class Simple(lib.Model):
        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply(gradients, trainable_vars)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    class LowerLevel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lib.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.loss_fn(y, y_pred)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply(gradients, trainable_vars)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    class SampleWeight(lib.Model):
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply(gradients, trainable_vars)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    class TestStep(lib.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    class ComputeMetrics(lib.Model):
        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(gradients, self.trainable_variables)
            self.metrics[0].update_state(loss)           # the loss tracker, "loss"
            return self.compute_metrics(x, y, y_pred, sample_weight=None)

    return {"simple": Simple, "lower_level": LowerLevel, "sample_weight": SampleWeight,
            "test_step": TestStep, "compute_metrics": ComputeMetrics}


def guide_model(lib, tape_class, kind: str, dtype: str, seed: int = 0):
    """The guide's model of ``kind``: ``Input(32) -> Dense(1)``, weights drawn from
    ``seed``, compiled as the guide compiles it."""
    inputs = lib.Input(shape=(32,))
    outputs = lib.layers.Dense(1)(inputs)
    model = guide_classes(lib, tape_class)[kind](inputs, outputs)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.2, (32, 1)).astype(dtype), np.zeros(1, dtype)])
    if kind == "lower_level":
        model.compile(optimizer="adam")
    elif kind == "test_step":
        model.compile(loss="mse", metrics=["mae"])
    else:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def guide_data(dtype: str, n: int = 64):
    """The guide's data, smaller: x (n, 32), y and sample weights (n, 1)."""
    rng = np.random.default_rng(5)
    return (rng.random((n, 32)).astype(dtype), rng.random((n, 1)).astype(dtype),
            rng.random((n, 1)).astype(dtype))


def run_guide(lib, tape_class, kind: str, dtype: str):
    """Train (or, for ``"test_step"``, evaluate) the guide's model of ``kind``; return its
    History (or evaluate's dict) and final weights."""
    x, y, sw = guide_data(dtype)
    model = guide_model(lib, tape_class, kind, dtype)
    if kind == "test_step":
        logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
        return {key: [value] for key, value in logs.items()}, model.get_weights()
    extra = {"sample_weight": sw} if kind == "sample_weight" else {}
    if kind != "lower_level":       # no compiled loss: Keras' test_step could not run
        extra["validation_data"] = (x[:16], y[:16])
    history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0, **extra)
    return history.history, model.get_weights()


@case("instance_api", "custom_train_step", kind="training")
def custom_train_step(dtype):
    """keras-io's custom train_step (tape, compute_loss, apply, metrics) in fit, and the
    step of compute_metrics' docstring."""
    with precision(dtype):
        return _custom_train_step(dtype)


def _custom_train_step(dtype):
    pairs, curves = [], None
    for kind in ("simple", "compute_metrics"):
        ours, our_weights = run_guide(mr, mr.autodiff.GradientTape, kind, dtype)
        theirs, their_weights = run_guide(keras, tf.GradientTape, kind, dtype)
        pairs += [(f"{kind}: History {key}", np.array(ours[key]), np.array(theirs[key]))
                  for key in sorted(theirs)]
        pairs += [(f"{kind}: final weight {i}", w, v) for i, (w, v) in enumerate(
            zip(our_weights, their_weights, strict=True))]
        curves = curves or {"minired": ours["loss"], "keras": theirs["loss"]}
    return Outcome(pairs, curves=curves)
