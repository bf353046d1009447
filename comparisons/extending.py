"""Extending: your own layers, losses, models and metrics, written once, run in both libraries.

Each component below is written **once**, against a library namespace ``lib`` that is
either ``minired`` or ``keras`` (:func:`components`): ``lib.layers.Layer``, ``lib.ops``,
``lib.losses.Loss``, ``lib.Model``, ``lib.metrics.Metric``. minired differentiates what the
code does with its tape (``minired/autodiff``), Keras with TensorFlow's; the same source
must give the same numbers.

``to_keras`` cannot translate a user's class, so every case builds its model twice, from
the same function, once per library (:func:`twin_models`). minired draws the weights
(seeded) and ``keras_model.set_weights`` copies them, after both models are built; both are
compiled with the same arguments (the loss function or object made by the same code, the
optimizer through ``optimizer_to_keras``, the metric objects made by the same class).

Per component, up to two cases:

- ``<name>_gradients`` ("step"): ``predict``, the compiled loss (with the added losses) and
  its gradient for every trainable weight (``loss_and_gradients`` against
  ``tf.GradientTape``), and, for a functional model without added losses, a random
  ``δŷ`` backpropagated to the inputs and the weights (``graphs.vjp_pairs``);
- ``<name>_training`` ("training"): 5 epochs of ``fit`` (``shuffle=False``, 30 samples in
  batches of 8, so a last batch of 6): every History entry, every final weight, and what
  the case adds (a metric's evaluate result, a non-trainable state recomputed from the data).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np

from comparisons.data import (
    N_CLASSES,
    N_FEATURES,
    blobs,
    one_hot,
    random_data,
    regression,
    sample_weights,
)
from comparisons.graphs import vjp_pairs
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.mirror import optimizer_to_keras
from comparisons.registry import Outcome, case
from comparisons.training import EPOCHS, fit_history_pairs

N, BATCH = 30, 8            # batches of 8, 8, 8 and 6
MOMENTUM = 0.9              # of the moving mean of case 7


# -- the user's code, written once -----------------------------------------------------------

def components(lib) -> SimpleNamespace:
    """The user components of every case, written against ``lib`` (``mr`` or ``keras``)."""
    ops = lib.ops

    class Linear(lib.layers.Layer):
        """``y = x W + b``, its weights made in ``build`` (the subclassing guide's layer)."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                     name="b")

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    def log_cosh(y_true, y_pred):
        """``mean(log cosh(ŷ - y))``, written as ``d + softplus(-2d) - log 2``."""
        d = y_pred - y_true
        return ops.mean(d + ops.softplus(-2.0 * d) - float(np.log(2.0)), axis=-1)

    def weighted_squared_error(y_true, y_pred):
        """A squared error whose second target counts a quarter as much as the first."""
        target_weights = ops.convert_to_tensor([1.0, 0.25], dtype=y_pred.dtype)
        return ops.mean(ops.square(y_pred - y_true) * target_weights, axis=-1)

    def absolute_error(y_true, y_pred):
        """A metric function: one value per sample, averaged over the epoch by ``compile``
        (Keras wraps it in a ``MeanMetricWrapper`` named after the function)."""
        return ops.mean(ops.abs(y_pred - y_true), axis=-1)

    class Huber(lib.losses.Loss):
        """The Huber loss with ``ops.where``: quadratic within ``delta``, linear beyond."""

        def __init__(self, delta=0.5, name="my_huber", **kwargs):
            super().__init__(name=name, **kwargs)
            self.delta = delta

        def call(self, y_true, y_pred):
            error = y_pred - y_true
            abs_error = ops.abs(error)
            quadratic = 0.5 * ops.square(error)
            linear = self.delta * abs_error - 0.5 * self.delta ** 2
            return ops.mean(ops.where(abs_error <= self.delta, quadratic, linear), axis=-1)

    class ResidualRegressor(lib.Model):
        """A subclassed model with a skip connection: ``head(dense2(dense1(x)) + x)``."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense1 = lib.layers.Dense(6, activation="tanh", name="dense1")
            self.dense2 = lib.layers.Dense(N_FEATURES, name="dense2")
            self.head = lib.layers.Dense(2, name="head")

        def call(self, inputs):
            h = self.dense1(inputs)
            return self.head(self.dense2(h) + inputs)

    class ActivityRegularization(lib.layers.Layer):
        """Passes its input through and adds ``rate · mean(x²)`` to the model's loss."""

        def __init__(self, rate=1e-2, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(ops.square(inputs)))
            return inputs

    class ValuePenalty(lib.layers.Layer):
        """Adds ``rate · x²`` as an array, one value per activation: the model's loss takes
        its sum (Keras' ``_aggregate_additional_loss``)."""

        def __init__(self, rate=1e-2, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.square(inputs))
            return inputs

    class RunningMeanAbsoluteError(lib.metrics.Metric):
        """``Σ|y - ŷ| / (number of values)`` since the last reset, in two state variables."""

        def __init__(self, name="running_mae", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            error = ops.abs(ops.cast(y_true, self.dtype) - ops.cast(y_pred, self.dtype))
            self.total.assign_add(ops.sum(error))
            self.count.assign_add(ops.sum(ops.ones_like(error)))

        def result(self):
            return self.total / ops.maximum(self.count, 1.0)

        def reset_state(self):
            self.total.assign(0.0)
            self.count.assign(0.0)

    class CategoricalTruePositives(lib.metrics.Metric):
        """How many samples the arg-max class gets right, summed over the epoch (the Keras
        guide's metric, with integer labels)."""

        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                    name="ctp")

        def update_state(self, y_true, y_pred, sample_weight=None):
            predicted = ops.argmax(y_pred, axis=-1)
            hits = ops.equal(ops.cast(ops.reshape(y_true, (-1,)), "int32"),
                             ops.cast(predicted, "int32"))
            self.true_positives.assign_add(ops.sum(ops.cast(hits, self.dtype)))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    class Centering(lib.layers.Layer):
        """Subtracts a moving mean of the batch means, updated in training only: two
        non-trainable weights (the mean and a batch count) changed with ``assign``."""

        def __init__(self, momentum=MOMENTUM, **kwargs):
            super().__init__(**kwargs)
            self.momentum = momentum

        def build(self, input_shape):
            self.moving_mean = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                               trainable=False, name="moving_mean")
            self.batches = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                           name="batches")

        def call(self, inputs, training=None):
            if training:
                batch_mean = ops.mean(inputs, axis=0)
                self.moving_mean.assign(self.momentum * self.moving_mean
                                        + (1.0 - self.momentum) * batch_mean)
                self.batches.assign_add(1.0)
            return inputs - self.moving_mean

    class GatedDense(lib.layers.Layer):
        """A built-in Dense inside a user's layer: ``tanh(x W + b) ⊙ σ(x G)``, with the gate
        ``G`` its own weight."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = lib.layers.Dense(units, activation="tanh", name="inner")

        def build(self, input_shape):
            self.gate = self.add_weight(shape=(input_shape[-1], self.units),
                                        initializer="random_normal", name="gate")

        def call(self, inputs):
            return self.dense(inputs) * ops.sigmoid(ops.matmul(inputs, self.gate))

    class Gating(lib.layers.Layer):
        """A layer of two inputs, given as a list (as the VAE's Sampling layer takes
        ``[z_mean, z_log_var]``): ``a ⊙ σ(b)``."""

        def call(self, inputs):
            a, b = inputs
            return a * ops.sigmoid(b)

    return SimpleNamespace(**{k: v for k, v in locals().items() if k not in ("lib", "ops")})


LIBRARIES = {"minired": components(mr), "keras": components(keras)}


# -- the models of the cases, built the same way in both libraries ---------------------------

def linear_model(lib, c):
    """Sequential: Input(4) -> Linear(6) -> tanh -> Dense(3, softmax)."""
    return lib.Sequential([lib.Input((N_FEATURES,)), c.Linear(6, name="linear"),
                           lib.layers.Activation("tanh", name="tanh"),
                           lib.layers.Dense(N_CLASSES, activation="softmax", name="output")],
                          name="with_linear")


def regressor(lib, c):
    """Sequential: Input(4) -> Dense(8, tanh) -> Dense(2)."""
    return lib.Sequential([lib.Input((N_FEATURES,)),
                           lib.layers.Dense(8, activation="tanh", name="hidden"),
                           lib.layers.Dense(2, name="output")], name="regressor")


def residual_model(lib, c):
    return c.ResidualRegressor(name="residual_regressor")


def activity_model(lib, c):
    """Functional: Dense(8, tanh) -> ActivityRegularization(0.1) -> Dense(2) ->
    ActivityRegularization(0.01): two layers add a loss."""
    inputs = lib.Input((N_FEATURES,), name="features")
    h = lib.layers.Dense(8, activation="tanh", name="hidden")(inputs)
    h = c.ActivityRegularization(0.1, name="hidden_activity")(h)
    outputs = lib.layers.Dense(2, name="output")(h)
    outputs = c.ActivityRegularization(0.01, name="output_activity")(outputs)
    return lib.Model(inputs, outputs, name="activity")


def value_penalty_model(lib, c):
    """Functional: Dense(3, tanh) -> ValuePenalty(0.01) -> Dense(2)."""
    inputs = lib.Input((N_FEATURES,), name="features")
    h = lib.layers.Dense(3, activation="tanh", name="hidden")(inputs)
    h = c.ValuePenalty(0.01, name="penalty")(h)
    return lib.Model(inputs, lib.layers.Dense(2, name="output")(h), name="value_penalty")


def classifier(lib, c):
    """Sequential: Input(4) -> Dense(8, relu) -> Dense(3, softmax)."""
    return lib.Sequential([lib.Input((N_FEATURES,)),
                           lib.layers.Dense(8, activation="relu", name="hidden"),
                           lib.layers.Dense(N_CLASSES, activation="softmax", name="output")],
                          name="classifier")


def centering_model(lib, c):
    """Functional: Centering -> Dense(8, relu) -> Dense(3, softmax)."""
    inputs = lib.Input((N_FEATURES,), name="features")
    h = c.Centering(name="centering")(inputs)
    h = lib.layers.Dense(8, activation="relu", name="hidden")(h)
    outputs = lib.layers.Dense(N_CLASSES, activation="softmax", name="output")(h)
    return lib.Model(inputs, outputs, name="centered")


def gated_model(lib, c):
    """Functional: GatedDense(6) -> Dense(3, softmax)."""
    inputs = lib.Input((N_FEATURES,), name="features")
    h = c.GatedDense(6, name="gated")(inputs)
    outputs = lib.layers.Dense(N_CLASSES, activation="softmax", name="output")(h)
    return lib.Model(inputs, outputs, name="gated")


def gating_model(lib, c):
    """Functional, two inputs: Gating([Dense(5)(features), Dense(5)(context)]) ->
    Dense(3, softmax)."""
    features = lib.Input((N_FEATURES,), name="features")
    context = lib.Input((3,), name="context")
    values = lib.layers.Dense(5, activation="tanh", name="values")(features)
    gates = lib.layers.Dense(5, name="gates")(context)
    gated = c.Gating(name="gating")([values, gates])
    outputs = lib.layers.Dense(N_CLASSES, activation="softmax", name="output")(gated)
    return lib.Model([features, context], outputs, name="gating")


# -- the data --------------------------------------------------------------------------------

def class_data(dtype: str, seed: int = 0):
    """Blob inputs and one-hot labels."""
    x, labels = blobs(N, dtype, seed=seed)
    return x, one_hot(labels, dtype)


def label_data(dtype: str, seed: int = 0):
    """Blob inputs and integer labels."""
    return blobs(N, dtype, seed=seed)


def class_and_context_data(dtype: str, seed: int = 0):
    """``[blob inputs (4), standard-normal context (3)]`` and one-hot labels."""
    x, y = class_data(dtype, seed)
    return [x, random_data(dtype, N, 3, seed=seed + 10)], y


def value_data(dtype: str, seed: int = 0):
    """Inputs and two real targets (``y = x·A + noise``)."""
    return regression(N, dtype, seed=seed)


# -- twins and what is compared --------------------------------------------------------------

def twin_models(build: Callable, x, loss: Callable | None, metrics: Callable | None = None,
                optimizer: Callable = lambda: mr.optimizers.SGD(learning_rate=0.05,
                                                                 momentum=0.9)):
    """The compiled minired model and its Keras twin with minired's (seeded) weights.

    ``build(lib, components)`` makes the model; ``loss(components)`` and
    ``metrics(components)`` the compile arguments, made by the same code in each library.
    Both models are built by a call on the first sample of ``x`` before the weights are
    copied.
    """
    models = {}
    for name, lib in (("minired", mr), ("keras", keras)):
        c = LIBRARIES[name]
        if name == "minired":
            mr.utils.set_random_seed(0)
        model = build(lib, c)
        model(keras.tree.map_structure(lambda a: a[:1], x))   # built: a subclassed model
        # has no weights before its first call
        models[name] = model
    model, keras_model = models["minired"], models["keras"]
    keras_model.set_weights(model.get_weights())
    for name, m in models.items():
        c = LIBRARIES[name]
        m.compile(optimizer=optimizer() if name == "minired" else
                  optimizer_to_keras(model.optimizer),
                  loss=None if loss is None else loss(c),
                  metrics=None if metrics is None else metrics(c))
    return model, keras_model


def trainable_gradient_pairs(model, keras_model, x, y, sample_weight=None) -> list:
    """The total loss (compiled loss + added losses) and ``∂L/∂w`` of every trainable
    weight, labelled by the Keras variable's path."""
    loss, grads = model.loss_and_gradients(x, y, sample_weight=sample_weight)
    trainable = {id(w) for w in model.trainable_weights}
    grads = [g for w, g in zip(model.weights, grads, strict=True) if id(w) in trainable]
    variables = keras_model.trainable_variables
    with tf.GradientTape() as tape:
        y_pred = keras_model(x, training=False)
        k_loss = keras_model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                          training=False)
    k_grads = tape.gradient(k_loss, variables)
    return [("loss", np.array(loss), np.array(float(k_loss))),
            *((f"∂L/∂{v.path}", g, np.asarray(kg))
              for v, g, kg in zip(variables, grads, k_grads, strict=True))]


def step_pairs(model, keras_model, x, y, sample_weight=None, vjp: bool = False) -> list:
    """``predict``, the loss and its gradients, and (``vjp``) a random ``δŷ`` backpropagated."""
    pairs = [("predict", model.predict(x, verbose=0), keras_model.predict(x, verbose=0))]
    pairs += trainable_gradient_pairs(model, keras_model, x, y, sample_weight)
    if vjp:
        pairs += vjp_pairs(model, keras_model, x)
    return pairs


def fit_pairs(model, keras_model, x, y, after: Callable | None = None, **fit_kwargs) -> Outcome:
    """Fit both alike (5 epochs, batches of 8, ``shuffle=False``); compare the epochs run,
    the History keys and values (and the epochs logging them), every final weight
    (labelled by the Keras path) and ``after(model, keras_model)``.

    (:func:`comparisons.training.compare_fit` does the same for models ``to_keras`` can
    translate; a subclassed model has no ``unique_layers`` to label its weights with.)
    """
    pairs, curves = fit_history_pairs(model, keras_model, x, y,
                                      **{"batch_size": BATCH, **fit_kwargs})
    paths = [v.path for v in keras_model.weights]
    for path, w, v in zip(paths, model.get_weights(), keras_model.get_weights(), strict=True):
        pairs.append((f"final weight {path}", w, v))
    if after is not None:
        pairs += after(model, keras_model)
    return Outcome(pairs, curves=curves)


def register(name: str, doc: str, build: Callable, data: Callable, loss: Callable | None,
             metrics: Callable | None = None, optimizer: Callable | None = None,
             weighted: bool = False, vjp: bool = False, after: Callable | None = None,
             gradients: bool = True) -> None:
    """Register ``extending/<name>_gradients`` (step) and ``extending/<name>_training``.

    ``weighted``: both use per-sample weights (``data.sample_weights``, in [0, 2)).
    ``after(dtype, x, y)`` makes the ``after`` of :func:`fit_pairs` for the training case.
    """
    extra = {} if optimizer is None else {"optimizer": optimizer}

    def setup(dtype):
        x, y = data(dtype)
        model, keras_model = twin_models(build, x, loss, metrics, **extra)
        weights = sample_weights(N, dtype) if weighted else None
        return x, y, weights, model, keras_model

    def gradient_case(dtype: str) -> Outcome:
        with precision(dtype):
            x, y, weights, model, keras_model = setup(dtype)
            return Outcome(step_pairs(model, keras_model, x, y, weights, vjp))

    def training_case(dtype: str) -> Outcome:
        with precision(dtype):
            x, y, weights, model, keras_model = setup(dtype)
            fit_kwargs = {} if weights is None else {"sample_weight": weights}
            return fit_pairs(model, keras_model, x, y,
                             after=None if after is None else after(dtype, x, y),
                             **fit_kwargs)

    runs = [("training", training_case, "training",
             f"{EPOCHS} epochs of fit: History and final weights")]
    if gradients:
        runs.insert(0, ("gradients", gradient_case, "step",
                        "predict, loss and every ∂L/∂w" + (", δx for a random δŷ" if vjp
                                                          else "")))
    for suffix, function, kind, what in runs:
        function.__doc__ = f"{doc} ({what})."
        case("extending", f"{name}_{suffix}", kind=kind)(function)


# -- 1. a layer of your own with add_weight --------------------------------------------------

register("linear_layer", "A Linear layer (add_weight in build, ops.matmul) before a Dense",
         linear_model, class_data, lambda c: "categorical_crossentropy",
         metrics=lambda c: ["accuracy"], vjp=True)


# -- 2. a loss function ----------------------------------------------------------------------

register("loss_function", "compile(loss=fn), fn a log-cosh written with ops",
         regressor, value_data, lambda c: c.log_cosh)
register("loss_function_sample_weight",
         "compile(loss=fn), a weighted squared error, with per-sample weights in [0, 2)",
         regressor, value_data, lambda c: c.weighted_squared_error, weighted=True)


# -- 3. a Loss subclass ----------------------------------------------------------------------

register("loss_subclass", "A Loss subclass overriding call(): Huber (delta 0.5) with ops.where",
         regressor, value_data, lambda c: c.Huber(delta=0.5))


# -- 4. a subclassed model -------------------------------------------------------------------

register("subclassed_model", "A subclassed Model, call() = head(dense2(dense1(x)) + x)",
         residual_model, value_data, lambda c: "mse",
         optimizer=lambda: mr.optimizers.Adam(learning_rate=0.02))


# -- 5. add_loss -----------------------------------------------------------------------------

register("add_loss", "Two layers calling add_loss(rate·mean(x²)), plus a compiled MSE",
         activity_model, value_data, lambda c: "mse")
register("add_loss_only", "The add_loss model compiled with no loss: only the added losses",
         activity_model, value_data, None)
register("add_loss_array", "add_loss of an array (rate·x², one value per activation): summed",
         value_penalty_model, value_data, lambda c: "mse")


# -- 6. a metric of your own -----------------------------------------------------------------

def evaluate_after(dtype: str, x, y) -> Callable:
    """``after`` for a metric's training case: ``evaluate`` on the training data once fit
    is done (Keras resets the metrics first: the result covers these batches only)."""

    def after(model, keras_model):
        return [("evaluate [loss, metric]",
                 np.array(model.evaluate(x, y, batch_size=BATCH, verbose=0)),
                 np.array(keras_model.evaluate(x, y, batch_size=BATCH, verbose=0)))]

    return after


register("metric_running_mae",
         "A Metric subclass (add_variable, update_state, result, reset_state): running MAE",
         regressor, value_data, lambda c: "mse",
         metrics=lambda c: [c.RunningMeanAbsoluteError()], after=evaluate_after,
         gradients=False)
register("metric_function", "compile(metrics=[fn]), fn(y_true, y_pred) written with ops",
         regressor, value_data, lambda c: "mse", metrics=lambda c: [c.absolute_error],
         after=evaluate_after, gradients=False)
register("metric_true_positives",
         "A Metric subclass counting correct arg-max classes over the epoch",
         classifier, label_data, lambda c: "sparse_categorical_crossentropy",
         metrics=lambda c: [c.CategoricalTruePositives()], after=evaluate_after,
         gradients=False)


# -- 7. a non-trainable weight changed in call -----------------------------------------------

def centering_after(dtype: str, x, y) -> Callable:
    """The Centering layer's state after fit, in both libraries and recomputed from the data
    alone: the moving mean of every batch's mean, batch after batch, and the batch count.
    A gradient step applied to either weight would move it off the recomputation."""
    moving_mean = np.zeros(N_FEATURES, dtype=dtype)
    batches = 0
    for _ in range(EPOCHS):
        for start in range(0, N, BATCH):
            batch_mean = np.mean(x[start:start + BATCH], axis=0)
            moving_mean = MOMENTUM * moving_mean + (1.0 - MOMENTUM) * batch_mean
            batches += 1

    def after(model, keras_model):
        ours, theirs = model.get_layer("centering"), keras_model.get_layer("centering")
        return [("moving_mean", np.asarray(ours.moving_mean), np.asarray(theirs.moving_mean)),
                ("moving_mean vs recomputed from the data", np.asarray(ours.moving_mean),
                 moving_mean),
                ("batches", np.asarray(ours.batches), np.asarray(theirs.batches)),
                ("batches vs counted", np.asarray(ours.batches), np.array(float(batches))),
                ("non-trainable weights (count)", np.array(len(model.non_trainable_weights)),
                 np.array(len(keras_model.non_trainable_weights)))]

    return after


register("non_trainable_state",
         "A layer updating non-trainable weights with assign/assign_add in training",
         centering_model, class_data, lambda c: "categorical_crossentropy",
         metrics=lambda c: ["accuracy"], after=centering_after)


# -- 8. built-in layers inside a layer of your own -------------------------------------------

register("layer_with_sublayer",
         "A layer calling a built-in Dense inside its call(), gated by its own weight",
         gated_model, class_data, lambda c: "categorical_crossentropy",
         metrics=lambda c: ["accuracy"], vjp=True,
         optimizer=lambda: mr.optimizers.Adam(learning_rate=0.02))


# -- 9. a layer of your own taking a list of inputs ------------------------------------------

register("layer_with_two_inputs",
         "A layer whose call() takes a list [a, b] (a ⊙ σ(b)), on two model inputs",
         gating_model, class_and_context_data, lambda c: "categorical_crossentropy",
         metrics=lambda c: ["accuracy"], vjp=True)
