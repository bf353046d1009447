"""Graphs: functional models, ``mr.Model(inputs, outputs)``, against ``keras.Model``.

Each graph is registered up to three times (:func:`graph_cases`):

- ``<graph>_forward``: ``predict``, every output;
- ``<graph>_gradients``: the compiled loss and ``∂L/∂w`` of every weight
  (``loss_and_gradients`` against ``tf.GradientTape``), then a vector-Jacobian product
  through the graph alone: for a random ``δŷ`` per output, ``model.backward(δŷ)`` against
  the tape's gradient of ``Σ ŷ ⊙ δŷ``, for every input (``δx``) and every weight. The
  input gradients see what the weights cannot: a fork at a model input sums there;
- ``<graph>_training``: 5 epochs of ``fit`` with validation data, compared by
  :func:`~comparisons.training.compare_fit` (every History key and value, final weights).

The minired model is built (seeded) and compiled with the case's arguments; ``to_keras``
makes the Keras twin (same graph, names and weights), which is then compiled with **the same
arguments** (loss names, loss weights, metric names), not with minired's reading of them:
how minired spreads ``loss``, ``loss_weights`` and ``metrics`` over the outputs is under
test too.

Data: 20 training samples in batches of 8, so a last batch of 4, and 20 validation samples
(batches of 8, 8, 4 as well). With several losses, the History has ``<output>_loss`` per
output; Keras averages those over the batches *unweighted* (each batch counts once), unlike
``loss`` (see :func:`minired.keras_numerics.output_loss_batch_weight`), and only a last batch
of another size shows the difference.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from comparisons.common import keras_loss_and_gradients
from comparisons.data import blobs, one_hot, random_data, targets
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.mirror import optimizer_to_keras, to_keras
from comparisons.registry import Outcome, case
from comparisons.training import EPOCHS, compare_fit

N, BATCH = 20, 8        # batches of 8, 8 and 4
MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")


# -- the cases of one graph ------------------------------------------------------------------

@dataclass
class Graph:
    """A graph to compare, and how to train it.

    Args:
        build: makes the (uncompiled) minired model, its layers named.
        data: ``data(dtype, n, seed) -> (x, y)``, in the structures the model takes.
        loss, loss_weights, metrics: ``compile``'s arguments, given as they are to both
            libraries (names, lists and dicts only).
        optimizer: makes the minired optimizer (Keras gets the same hyperparameters).
    """

    build: Callable[[], mr.Model]
    data: Callable[[str, int, int], tuple[Any, Any]]
    loss: Any
    loss_weights: Any = None
    metrics: Any = None
    optimizer: Callable = lambda: mr.optimizers.SGD(learning_rate=0.05, momentum=0.9)


def twins(graph: Graph):
    """The compiled minired model and its Keras twin, compiled from the same arguments."""
    mr.utils.set_random_seed(0)
    model = graph.build()
    model.compile(optimizer=graph.optimizer(), loss=copy.deepcopy(graph.loss),
                  loss_weights=copy.deepcopy(graph.loss_weights),
                  metrics=copy.deepcopy(graph.metrics))
    keras_model = to_keras(model)
    keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                        loss=copy.deepcopy(graph.loss),
                        loss_weights=copy.deepcopy(graph.loss_weights),
                        metrics=copy.deepcopy(graph.metrics))
    return model, keras_model


def graph_cases(name: str, doc: str, graph: Graph, gradients: bool = True,
                training: bool = True) -> None:
    """Register ``graphs/<name>_forward``, ``_gradients`` and ``_training``."""

    def forward(dtype: str) -> Outcome:
        with precision(dtype):
            model, keras_model = twins(graph)
            x, _ = graph.data(dtype, N, 0)
            return Outcome(prediction_pairs(model, keras_model, x))

    def gradient(dtype: str) -> Outcome:
        with precision(dtype):
            model, keras_model = twins(graph)
            x, y = graph.data(dtype, N, 0)
            return Outcome(loss_gradient_pairs(model, keras_model, x, y)
                           + vjp_pairs(model, keras_model, x))

    def train(dtype: str) -> Outcome:
        with precision(dtype):
            model, keras_model = twins(graph)
            x, y = graph.data(dtype, N, 0)
            return compare_fit(model, x, y, keras_model=keras_model, batch_size=BATCH,
                               validation_data=graph.data(dtype, N, 1), epochs=EPOCHS)

    runs = [("forward", forward, "step", "predict, every output")]
    if gradients:
        runs.append(("gradients", gradient, "step",
                     "loss, every ∂L/∂w, and δx, ∂/∂w for a random δŷ"))
    if training:
        runs.append(("training", train, "training",
                     f"{EPOCHS} epochs of fit: History and final weights"))
    for suffix, function, kind, what in runs:
        function.__doc__ = f"{doc} ({what})."
        case("graphs", f"{name}_{suffix}", kind=kind)(function)


# -- what is compared ------------------------------------------------------------------------

def prediction_pairs(model, keras_model, x) -> list:
    """``predict`` of each output (in the order of ``model.outputs``)."""
    ours = keras.tree.flatten(model.predict(x, verbose=0))
    theirs = keras.tree.flatten(keras_model.predict(x, verbose=0))
    return [(f"predict {key}", o, t)
            for key, o, t in zip(model.output_keys, ours, theirs, strict=True)]


def loss_gradient_pairs(model, keras_model, x, y) -> list:
    """The compiled loss and its gradient for every trainable weight, labelled by the
    Keras variable's path (``layer/kernel``)."""
    loss, grads = model.loss_and_gradients(x, y)
    k_loss, k_grads = keras_loss_and_gradients(keras_model, x, y)
    paths = [v.path for v in keras_model.trainable_variables]
    return [("loss", np.array(loss), np.array(k_loss)),
            *((f"∂L/∂{path}", g, kg) for path, g, kg in zip(paths, grads, k_grads,
                                                           strict=True))]


def vjp_pairs(model, keras_model, x, seed: int = 5) -> list:
    """Backpropagate a random ``δŷ`` (one per output) through the graph, no loss involved:
    ``model.backward(δŷ)`` against the tape's gradient of ``Σ_outputs Σ ŷ ⊙ δŷ``, for every
    input and every trainable weight."""
    xs = keras.tree.flatten(x)           # the order of model.inputs (dict keys sorted)
    outputs = model.forward(xs if len(xs) > 1 else xs[0], training=False)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(o.shape).astype(o.dtype) for o in outputs]
    model.zero_gradients()
    grads_x = model.backward(upstream if len(upstream) > 1 else upstream[0])
    grads_x = grads_x if isinstance(grads_x, list) else [grads_x]
    grads_w = [g.copy() for g in model.trainable_gradients]

    tensors = [tf.constant(a) for a in xs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        k_outputs = keras.tree.flatten(
            keras_model(keras.tree.pack_sequence_as(x, tensors), training=False))
        total = tf.add_n([tf.reduce_sum(o * u) for o, u in zip(k_outputs, upstream,
                                                                strict=True)])
    variables = keras_model.trainable_variables
    k_grads = tape.gradient(total, tensors + variables)
    names = [t.name for t in model.inputs]
    pairs = [(f"δx {name} (random δŷ)", g, np.asarray(kg))
             for name, g, kg in zip(names, grads_x, k_grads[:len(xs)], strict=True)]
    pairs += [(f"∂/∂{v.path} (random δŷ)", g, np.asarray(kg))
              for v, g, kg in zip(variables, grads_w, k_grads[len(xs):], strict=True)]
    return pairs


# -- data --------------------------------------------------------------------------------------

def classes(dtype: str, n: int, seed: int):
    """Blob inputs (4 features) and one-hot labels of 3 classes."""
    x, labels = blobs(n, dtype, seed=seed)
    return x, one_hot(labels, dtype)


def classes_and_extra_input(dtype: str, n: int, seed: int):
    """``[blob inputs (4), standard-normal inputs (3)]`` and one-hot labels."""
    x, y = classes(dtype, n, seed)
    return [x, random_data(dtype, n, 3, seed=seed + 10)], y


def regression_batch(dtype: str, n: int, seed: int):
    """Standard-normal inputs (4) and targets (2)."""
    return random_data(dtype, n, 4, seed=seed), targets("real", n, 2, dtype, seed=seed + 20)


# -- 1. a residual block ---------------------------------------------------------------------

def residual() -> mr.Model:
    """stem -> x; h = Dense(Dense(x)); add([proj(x), h]) -> softmax. The fork at x (read by
    the block and by the projection) sums two gradients into the stem's."""
    inputs = mr.Input((4,), name="features")
    x = mr.layers.Dense(6, activation="relu", name="stem")(inputs)
    h = mr.layers.Dense(6, activation="tanh", name="block_1")(x)
    h = mr.layers.Dense(6, name="block_2")(h)
    x_proj = mr.layers.Dense(6, name="proj")(x)
    merged = mr.layers.add([x_proj, h], name="residual_add")
    outputs = mr.layers.Dense(3, activation="softmax", name="output")(merged)
    return mr.Model(inputs, outputs, name="residual")


graph_cases("residual", "Residual block: add([proj(x), Dense(Dense(x))])",
            Graph(residual, classes, "categorical_crossentropy", metrics=["accuracy"]))


# -- 2. two inputs, concatenated -------------------------------------------------------------

def two_inputs() -> mr.Model:
    a = mr.Input((4,), name="a")
    b = mr.Input((3,), name="b")
    h = mr.layers.Dense(5, activation="relu", name="a_dense")(a)
    joined = mr.layers.concatenate([h, b], name="joined")
    outputs = mr.layers.Dense(3, activation="softmax", name="output")(joined)
    return mr.Model([a, b], outputs, name="two_inputs")


graph_cases("two_inputs", "Two inputs: concatenate([Dense(a), b]) -> softmax",
            Graph(two_inputs, classes_and_extra_input, "categorical_crossentropy",
                  metrics=["accuracy"],
                  optimizer=lambda: mr.optimizers.Adam(learning_rate=0.02)))


# -- 3. two outputs, two losses, loss weights -----------------------------------------------

def two_outputs() -> mr.Model:
    inputs = mr.Input((4,), name="features")
    trunk = mr.layers.Dense(8, activation="tanh", name="trunk")(inputs)
    label = mr.layers.Dense(3, activation="softmax", name="label")(trunk)
    value = mr.layers.Dense(2, name="value")(trunk)
    return mr.Model(inputs, [label, value], name="two_outputs")


def classes_and_values(dtype: str, n: int, seed: int):
    """Blob inputs; targets ``[one-hot labels, two real values]``."""
    x, y = classes(dtype, n, seed)
    return x, [y, targets("real", n, 2, dtype, seed=seed + 20)]


graph_cases("two_outputs",
            "Two outputs: CE on a softmax (with accuracy) and MSE, loss_weights [1.0, 0.3]",
            Graph(two_outputs, classes_and_values, ["categorical_crossentropy", "mse"],
                  loss_weights=[1.0, 0.3], metrics=[["accuracy"], []]))


# -- 4. one Dense shared by two inputs -------------------------------------------------------

def shared_dense() -> mr.Model:
    a = mr.Input((4,), name="a")
    b = mr.Input((4,), name="b")
    shared = mr.layers.Dense(5, activation="tanh", name="shared",
                             kernel_regularizer=mr.regularizers.L2(0.01))
    joined = mr.layers.concatenate([shared(a), shared(b)], name="joined")
    outputs = mr.layers.Dense(3, activation="softmax", name="output")(joined)
    return mr.Model([a, b], outputs, name="shared_dense")


def classes_two_views(dtype: str, n: int, seed: int):
    """Two 4-feature inputs (blobs, and the blobs plus noise) and one-hot labels."""
    x, y = classes(dtype, n, seed)
    return [x, x + random_data(dtype, n, 4, seed=seed + 10)], y


graph_cases("shared_dense",
            "One Dense (L2) applied to two inputs: ∂L/∂W summed over both calls, penalty once",
            Graph(shared_dense, classes_two_views, "categorical_crossentropy",
                  metrics=["accuracy"]))


# -- 5. a model used as a layer --------------------------------------------------------------

def nested() -> mr.Model:
    inner_inputs = mr.Input((4,), name="inner_inputs")
    h = mr.layers.Dense(6, activation="relu", name="inner_1")(inner_inputs)
    inner = mr.Model(inner_inputs, mr.layers.Dense(4, activation="tanh", name="inner_2")(h),
                     name="inner")
    inputs = mr.Input((4,), name="features")
    merged = mr.layers.add([inner(inputs), inputs], name="skip")
    outputs = mr.layers.Dense(3, activation="softmax", name="output")(merged)
    return mr.Model(inputs, outputs, name="outer")


graph_cases("nested", "A functional model called as a layer, inside a skip connection",
            Graph(nested, classes, "categorical_crossentropy", metrics=["accuracy"],
                  optimizer=lambda: mr.optimizers.Adam(learning_rate=0.02)))


# -- 6. feature extraction -------------------------------------------------------------------

def classifier(sequential: bool) -> mr.Model:
    """``Input(4) -> Dense(8, relu, "hidden") -> Dense(3, softmax, "output")``."""
    layers = [mr.layers.Dense(8, activation="relu", name="hidden"),
              mr.layers.Dense(3, activation="softmax", name="output")]
    if sequential:
        return mr.Sequential([mr.Input((4,)), *layers], name="classifier")
    inputs = mr.Input((4,), name="features")
    return mr.Model(inputs, layers[1](layers[0](inputs)), name="classifier")


def feature_extraction(dtype: str, sequential: bool) -> Outcome:
    """Train a classifier; its extractor, made before training, follows the trained weights."""
    with precision(dtype):
        graph = Graph(lambda: classifier(sequential), classes, "categorical_crossentropy",
                      metrics=["accuracy"])
        model, keras_model = twins(graph)
        extractor = mr.Model(inputs=model.inputs, outputs=model.get_layer("hidden").output)
        k_extractor = keras.Model(inputs=keras_model.inputs,
                                  outputs=keras_model.get_layer("hidden").output)
        x, y = graph.data(dtype, N, 0)
        before = extractor.predict(x, verbose=0)
        k_before = k_extractor.predict(x, verbose=0)

        def after(*_):
            ours, theirs = extractor.predict(x, verbose=0), k_extractor.predict(x, verbose=0)
            return [("extractor predict before training", before, k_before),
                    ("extractor predict after training", ours, theirs),
                    ("extractor change (after - before)", ours - before, theirs - k_before),
                    *((f"extractor weight {i}", w, v) for i, (w, v) in enumerate(zip(
                        extractor.get_weights(), k_extractor.get_weights(), strict=True)))]

        return compare_fit(model, x, y, keras_model=keras_model, after=after,
                           batch_size=BATCH, epochs=EPOCHS)


@case("graphs", "feature_extraction", kind="training")
def feature_extraction_functional(dtype):
    """Model(m.inputs, m.get_layer("hidden").output) shares m's weights: train m, compare."""
    return feature_extraction(dtype, sequential=False)


@case("graphs", "feature_extraction_sequential", kind="training")
def feature_extraction_sequential(dtype):
    """The same extractor taken from a Sequential's graph (its layers' .output)."""
    return feature_extraction(dtype, sequential=True)


# -- 7. the same layer twice in a Sequential, apart ------------------------------------------
# (training/shared_layer and gradients/shared_layer have it twice in a row.)

def sequential_shared_apart() -> mr.Sequential:
    shared = mr.layers.Dense(4, activation="tanh", name="shared")
    return mr.Sequential([mr.Input((4,)), shared,
                          mr.layers.Dense(4, activation="relu", name="middle"), shared,
                          mr.layers.Dense(3, activation="softmax", name="output")],
                         name="shared_apart")


graph_cases("sequential_shared_apart",
            "Sequential [shared, middle, shared, output]: one layer at two depths",
            Graph(sequential_shared_apart, classes, "categorical_crossentropy",
                  metrics=["accuracy"]))


# -- 8. each merge layer ---------------------------------------------------------------------

def merge_model(kind: str, tied: bool = False) -> Callable[[], mr.Model]:
    """``x -> Dense(5, tanh), Dense(5, sigmoid), Dense(5) -> merge -> Dense(2)``.

    Subtract takes exactly two inputs, the others three. With ``tied``, the second Dense
    copies the first one's weights and activation: the merge sees exact ties everywhere.
    """

    def build() -> mr.Model:
        inputs = mr.Input((4,), name="features")
        first = mr.layers.Dense(5, activation="tanh", name="first")
        second = mr.layers.Dense(5, activation="tanh" if tied else "sigmoid", name="second")
        third = mr.layers.Dense(5, name="third", bias_initializer="random_normal")
        branches = [first(inputs), second(inputs)]
        if kind != "Subtract":
            branches.append(third(inputs))
        if tied:
            second.set_weights(first.get_weights())
        merged = getattr(mr.layers, kind)(name=kind.lower())(branches)
        return mr.Model(inputs, mr.layers.Dense(2, name="output")(merged),
                        name=f"{kind.lower()}_model")

    return build


for _kind in MERGES:
    graph_cases(_kind.lower(), f"{_kind} of three Dense branches"
                if _kind != "Subtract" else "Subtract of two Dense branches",
                Graph(merge_model(_kind), regression_batch, "mse"), training=False)

for _kind in ("Maximum", "Minimum"):
    graph_cases(f"{_kind.lower()}_ties",
                f"{_kind} with exact ties (two branches, same weights): TensorFlow's rule "
                "gives the whole gradient to the first", Graph(merge_model(_kind, tied=True),
                                                               regression_batch, "mse"),
                training=False)


def broadcast_model(kind: str) -> Callable[[], mr.Model]:
    """``Dense`` on ``(N, 3, 4)`` and on ``(N, 4)``, merged: the ``(N, 4)`` branch is
    broadcast over the 3 positions (so its gradient sums over them), then Flatten, Dense."""

    def build() -> mr.Model:
        a = mr.Input((3, 4), name="sequence")
        b = mr.Input((4,), name="vector")
        merged = getattr(mr.layers, kind)(name=kind.lower())([
            mr.layers.Dense(4, activation="tanh", name="per_position")(a),
            mr.layers.Dense(4, name="per_sample")(b)])
        flat = mr.layers.Flatten(name="flatten")(merged)
        return mr.Model([a, b], mr.layers.Dense(2, name="output")(flat),
                        name=f"{kind.lower()}_broadcast")

    return build


def sequence_and_vector(dtype: str, n: int, seed: int):
    """Inputs ``[(n, 3, 4), (n, 4)]`` and two real targets."""
    return ([random_data(dtype, n, (3, 4), seed=seed), random_data(dtype, n, 4, seed=seed + 10)],
            targets("real", n, 2, dtype, seed=seed + 20))


for _kind in ("Add", "Multiply", "Maximum"):
    graph_cases(f"{_kind.lower()}_broadcast",
                f"{_kind} of (N, 3, 4) and (N, 4): the second broadcast over axis 1",
                Graph(broadcast_model(_kind), sequence_and_vector, "mse"), training=False)


def concatenate_axis_1() -> mr.Model:
    a = mr.Input((2, 4), name="short")
    b = mr.Input((3, 4), name="long")
    joined = mr.layers.Concatenate(axis=1, name="joined")([
        mr.layers.Dense(4, activation="tanh", name="short_dense")(a),
        mr.layers.Dense(4, name="long_dense")(b)])
    flat = mr.layers.Flatten(name="flatten")(joined)
    return mr.Model([a, b], mr.layers.Dense(2, name="output")(flat), name="concatenate_axis_1")


def two_sequences(dtype: str, n: int, seed: int):
    return ([random_data(dtype, n, (2, 4), seed=seed),
             random_data(dtype, n, (3, 4), seed=seed + 10)],
            targets("real", n, 2, dtype, seed=seed + 20))


graph_cases("concatenate_axis_1", "Concatenate(axis=1) of (N, 2, 4) and (N, 3, 4)",
            Graph(concatenate_axis_1, two_sequences, "mse"), training=False)


# -- 9. Dense on a 3-D input -----------------------------------------------------------------

def dense_3d(activation: str | None) -> Callable[[], mr.Model]:
    def build() -> mr.Model:
        inputs = mr.Input((5, 4), name="sequence")
        h = mr.layers.Dense(6, activation="tanh", name="hidden")(inputs)
        outputs = mr.layers.Dense(3, activation=activation, name="output")(h)
        return mr.Model(inputs, outputs, name="dense_3d")

    return build


def sequence_values(dtype: str, n: int, seed: int):
    """Inputs ``(n, 5, 4)`` and real targets ``(n, 5, 3)``."""
    return random_data(dtype, n, (5, 4), seed=seed), random_data(dtype, n, (5, 3), seed + 30)


def sequence_labels(dtype: str, n: int, seed: int):
    """Inputs ``(n, 5, 4)`` and one-hot targets ``(n, 5, 3)``, a class per position."""
    labels = np.random.default_rng(seed + 30).integers(0, 3, (n, 5))
    return random_data(dtype, n, (5, 4), seed=seed), one_hot(labels, dtype)


graph_cases("dense_3d", "Dense on (N, 5, 4) inputs, outputs (N, 5, 3), MSE",
            Graph(dense_3d(None), sequence_values, "mse"))
graph_cases("dense_3d_softmax",
            "Dense on (N, 5, 4) inputs, softmax per position, categorical CE and accuracy",
            Graph(dense_3d("softmax"), sequence_labels, "categorical_crossentropy",
                  metrics=["accuracy"]))


# -- 10. dict inputs and dict outputs --------------------------------------------------------

def dict_io() -> mr.Model:
    a = mr.Input((4,), name="a")
    b = mr.Input((3,), name="b")
    joined = mr.layers.concatenate([mr.layers.Dense(6, activation="relu", name="a_dense")(a),
                                    b], name="joined")
    y = mr.layers.Dense(3, activation="softmax", name="y_head")(joined)
    z = mr.layers.Dense(1, activation="sigmoid", name="z_head")(joined)
    return mr.Model({"a": a, "b": b}, {"y": y, "z": z}, name="dict_io")


def dict_data(dtype: str, n: int, seed: int):
    """``{"a": blobs, "b": noise}`` and ``{"y": one-hot labels, "z": is it class 0}``."""
    x, labels = blobs(n, dtype, seed=seed)
    inputs = {"a": x, "b": random_data(dtype, n, 3, seed=seed + 10)}
    return inputs, {"y": one_hot(labels, dtype),
                    "z": (labels == 0).astype(dtype).reshape(-1, 1)}


graph_cases("dict_io",
            "Dict inputs and outputs: CE and binary CE by name, loss_weights and metrics dicts",
            Graph(dict_io, dict_data, {"y": "categorical_crossentropy",
                                       "z": "binary_crossentropy"},
                  loss_weights={"y": 0.7, "z": 2.0},
                  metrics={"y": ["accuracy"], "z": ["accuracy"]},
                  optimizer=lambda: mr.optimizers.RMSprop(learning_rate=0.01)))
