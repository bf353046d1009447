"""Gradients through graphs: forks, shared layers and merges, against finite differences.

A functional model adds two ideas to backpropagation through a stack of layers:

- a **fork**, a tensor read by several layers, gets the *sum* of their gradients,
  ``δt = Σ_readers δt|reader``;
- a **shared layer**, called more than once, gets the sum over its calls,
  ``∂L/∂W = Σ_calls ∂L/∂W|call``.

First both on models small enough to differentiate by hand, then on random graphs drawn by
hypothesis (1-2 inputs, 2-6 Dense and merge calls with forks, sometimes a Dense called
twice, 1-2 outputs with a loss each, heads sometimes inside a model of their own, random
loss weights), checked in float64 against central differences to ``TOLERANCE`` per array
(see ``strategies.py`` for the value ranges and ``test_gradients.py`` for the checks on
single layers and Sequential models).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import (
    HIDDEN_ACTIVATIONS,
    RELU_MARGIN,
    STEP,
    arrays,
    batch_sizes,
    class_counts,
    dense_parameters,
    feature_counts,
    gradient_settings,
    one_hot_labels,
    unit_counts,
)
from test_gradients import assert_gradients_match, assume_resolvable

import minired as mr
from minired.gradcheck import check_model, compare, numerical_gradient

Dense = mr.layers.Dense


# -- by hand ---------------------------------------------------------------------------------------

def test_a_fork_sums_the_gradients_of_its_readers(float64):
    """h = x W₀ is read by two layers: ŷ = h W₁ + h W₂, L = mean((ŷ - y)²).

    δŷ = 2(ŷ - y)/(N·D); the fork h gets δh = δŷ W₁ᵀ + δŷ W₂ᵀ, so ∂L/∂W₀ = xᵀ δh.
    """
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    W0, W1, W2 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    inputs = mr.Input((3,))
    h = Dense(4, use_bias=False)(inputs)
    outputs = mr.layers.Add()([Dense(2, use_bias=False)(h), Dense(2, use_bias=False)(h)])
    model = mr.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([W0, W1, W2])

    loss, (grad_W0, grad_W1, grad_W2) = model.loss_and_gradients(x, y)

    h_value = x @ W0
    y_pred = h_value @ W1 + h_value @ W2
    grad_y = 2 * (y_pred - y) / y.size
    grad_h = grad_y @ W1.T + grad_y @ W2.T                  # the sum at the fork
    assert loss == pytest.approx(np.mean((y_pred - y) ** 2), rel=1e-12)
    np.testing.assert_allclose(grad_W0, x.T @ grad_h, rtol=1e-12)
    np.testing.assert_allclose(grad_W1, h_value.T @ grad_y, rtol=1e-12)
    np.testing.assert_allclose(grad_W2, h_value.T @ grad_y, rtol=1e-12)


def test_a_layer_called_twice_sums_its_weight_gradient_over_the_calls(float64):
    """ŷ = (x W) W with one W: ∂L/∂W = xᵀ (δŷ Wᵀ) + (x W)ᵀ δŷ, one term per call."""
    rng = np.random.default_rng(1)
    x, y, W = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.normal(size=(2, 2))
    shared = Dense(2, use_bias=False)
    inputs = mr.Input((2,))
    model = mr.Model(inputs, shared(shared(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([W])

    _, (grad_W,) = model.loss_and_gradients(x, y)

    grad_y = 2 * ((x @ W) @ W - y) / y.size
    first_call, second_call = x.T @ (grad_y @ W.T), (x @ W).T @ grad_y
    np.testing.assert_allclose(grad_W, first_call + second_call, rtol=1e-12)
    assert len(model.get_weights()) == 1                   # one W, however many calls


def test_an_input_read_twice_by_one_merge_gets_both_gradients(float64):
    """ŷ = x ⊙ x through Multiply([x, x]): δx = 2 x δŷ, the two readers are one layer."""
    x, upstream = np.array([[1.0, -2.0, 3.0]]), np.array([[0.5, 1.0, -1.0]])
    inputs = mr.Input((3,))
    model = mr.Model(inputs, mr.layers.Multiply()([inputs, inputs]))
    np.testing.assert_array_equal(model.forward(x), x * x)
    np.testing.assert_array_equal(model.backward(upstream), 2 * x * upstream)


# -- random graphs ---------------------------------------------------------------------------------

ELEMENTWISE = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
#: Output activations of a head under mean squared error (no kink: relu stays in the body).
MSE_HEAD_ACTIVATIONS = ("linear", "tanh", "sigmoid", "softmax")
#: A head is a Dense, or a Dense inside a model called as a layer.
HEAD_KINDS = ("Dense", "NestedDense")
#: Smallest gap between the inputs of a Maximum/Minimum (its kink is where they tie).
TIE_MARGIN = 1e-3


@dataclass
class GraphCase:
    """A random functional model as data, so that hypothesis can draw and shrink it.

    Tensors are numbered: the inputs first, then one per call, in order. A call is
    ``(layer index, [tensor indices it reads])``; a Dense that appears in two calls is shared.
    """

    input_widths: list[int]
    layer_specs: list = field(default_factory=list)     # (class name, kwargs)
    calls: list = field(default_factory=list)           # (layer index, [tensor indices])
    outputs: list[int] = field(default_factory=list)    # tensor indices
    losses: list[str] = field(default_factory=list)     # one per output
    loss_weights: list[float] | None = None
    dict_compile: bool = False                          # loss (and weights) as dicts
    weights: dict = field(default_factory=dict)         # layer index -> [kernel, bias]
    x: list = field(default_factory=list)
    y: list = field(default_factory=list)

    def build(self) -> tuple[mr.Model, list]:
        """The compiled model (float64, weights set) and all its symbolic tensors."""
        layers = [self._layer(index) for index in range(len(self.layer_specs))]
        tensors = [mr.Input((width,), name=f"x{i}") for i, width in enumerate(self.input_widths)]
        for layer_index, parents in self.calls:
            arguments = [tensors[i] for i in parents]
            tensors.append(layers[layer_index](arguments if len(parents) > 1 else arguments[0]))
        inputs = tensors[:len(self.input_widths)]
        outputs = [tensors[i] for i in self.outputs]
        model = mr.Model(inputs if len(inputs) > 1 else inputs[0],
                         outputs if len(outputs) > 1 else outputs[0])
        loss, loss_weights = self.losses, self.loss_weights
        if self.dict_compile:
            loss = dict(zip(model.output_names, loss, strict=True))
            if loss_weights is not None:
                loss_weights = dict(zip(model.output_names, loss_weights, strict=True))
        model.compile(optimizer=mr.optimizers.SGD(0.1), loss=loss, loss_weights=loss_weights)
        for index, layer in enumerate(layers):
            if index in self.weights and layer in model.unique_layers:
                layer.set_weights(self.weights[index][:len(layer.weights)])
        return model, tensors

    def _layer(self, index: int):
        """A layer from its spec; a "NestedDense" is a Dense inside a model of its own, called
        as a layer (a cross-entropy reads its softmax's logits inside it)."""
        name, kwargs = self.layer_specs[index]
        if name != "NestedDense":
            return getattr(mr.layers, name)(**kwargs)
        inputs = mr.Input((self.weights[index][0].shape[0],))
        return mr.Model(inputs, Dense(**kwargs)(inputs))

    def data(self) -> tuple:
        """``(x, y)`` as the model takes them: one array, or a list."""
        return (self.x if len(self.x) > 1 else self.x[0],
                self.y if len(self.y) > 1 else self.y[0])


@st.composite
def graph_cases(draw) -> GraphCase:
    """A random DAG: 1-2 inputs, 2-6 body calls (Dense, element-wise merges, Concatenate)
    reading any earlier tensor, at least one fork, sometimes a Dense called again, and 1-2
    outputs, each a new head (a Dense under MSE, or a softmax under cross-entropy; sometimes
    inside a model of its own) or, for the second, a body tensor under MSE."""
    n = draw(batch_sizes)
    case = GraphCase([draw(feature_counts) for _ in range(draw(st.integers(1, 2)))])
    widths = list(case.input_widths)                   # the width of every tensor so far
    readers = [0] * len(widths)                        # how many calls read each tensor

    def add_call(layer_index: int, parents: list[int], width: int) -> None:
        case.calls.append((layer_index, parents))
        for parent in parents:
            readers[parent] += 1
        widths.append(width)
        readers.append(0)

    def add_dense(parent: int, units: int, activation: str, kind: str = "Dense") -> None:
        case.layer_specs.append((kind, {"units": units, "activation": activation,
                                        "use_bias": draw(st.booleans())}))
        index = len(case.layer_specs) - 1
        case.weights[index] = list(draw(dense_parameters(widths[parent], units)))
        add_call(index, [parent], units)

    def tensor() -> st.SearchStrategy[int]:
        return st.integers(0, len(widths) - 1)          # any tensor made so far

    for _ in range(draw(st.integers(2, 6))):
        kind = draw(st.sampled_from(("Dense", "Dense", "Concatenate", *ELEMENTWISE)))
        if kind == "Dense":
            add_dense(draw(tensor()), draw(unit_counts), draw(st.sampled_from(HIDDEN_ACTIVATIONS)))
        elif kind == "Concatenate":
            parents = draw(st.lists(tensor(), min_size=2, max_size=3))
            case.layer_specs.append(("Concatenate", {}))
            add_call(len(case.layer_specs) - 1, parents, sum(widths[i] for i in parents))
        else:   # inputs of one width; the same tensor may come twice (a fork into one layer)
            first = draw(tensor())
            same_width = [i for i, width in enumerate(widths) if width == widths[first]]
            count = 2 if kind == "Subtract" else draw(st.integers(2, 3))
            parents = [first, *draw(st.lists(st.sampled_from(same_width), min_size=count - 1,
                                             max_size=count - 1))]
            case.layer_specs.append((kind, {}))
            add_call(len(case.layer_specs) - 1, parents, widths[first])
    if max(readers) < 2:                               # make sure there is a fork
        add_dense(draw(st.sampled_from([i for i, r in enumerate(readers) if r == 1])),
                  draw(unit_counts), draw(st.sampled_from(HIDDEN_ACTIVATIONS)))
    shareable = [(index, parent) for index, (name, _) in enumerate(case.layer_specs)
                 if name == "Dense" for parent, width in enumerate(widths)
                 if width == case.weights[index][0].shape[0]]
    if shareable and draw(st.booleans()):              # call a Dense a second time
        index, parent = draw(st.sampled_from(shareable))
        add_call(index, [parent], case.layer_specs[index][1]["units"])

    body = list(range(len(case.input_widths), len(widths)))
    raw_layers: set[int] = set()                       # outputs must come from distinct layers
    for head in range(draw(st.integers(1, 2))):
        parent = body[-1] if head == 0 else draw(st.sampled_from(body))
        choice = draw(st.sampled_from(("mse head", "cross-entropy head", "raw")[:2 + head]))
        layer_index = case.calls[parent - len(case.input_widths)][0]
        shared = sum(call[0] == layer_index for call in case.calls) > 1
        if choice == "raw" and not shared and layer_index not in raw_layers:
            raw_layers.add(layer_index)
            case.outputs.append(parent)
            case.losses.append("mse")
            case.y.append(draw(arrays((n, widths[parent]))))
        elif choice == "cross-entropy head":
            classes = draw(class_counts)
            add_dense(parent, classes, "softmax", draw(st.sampled_from(HEAD_KINDS)))
            case.outputs.append(len(widths) - 1)
            case.losses.append("categorical_crossentropy")
            case.y.append(draw(one_hot_labels(n, classes)))
        else:
            units = draw(unit_counts)
            add_dense(parent, units, draw(st.sampled_from(MSE_HEAD_ACTIVATIONS)),
                      draw(st.sampled_from(HEAD_KINDS)))
            case.outputs.append(len(widths) - 1)
            case.losses.append("mse")
            case.y.append(draw(arrays((n, units))))
    if draw(st.booleans()):
        case.loss_weights = [draw(st.floats(0.2, 2.0)) for _ in case.outputs]
    case.dict_compile = draw(st.booleans())
    case.x = [draw(arrays((n, width))) for width in case.input_widths]
    return case


def clear_of_kinks(model: mr.Model, tensors: list, case: GraphCase) -> bool:
    """Whether no relu sees a pre-activation within RELU_MARGIN of 0 and no Maximum/Minimum
    sees two inputs within TIE_MARGIN of each other (every call, shared ones included)."""
    x, _ = case.data()
    model.forward(x)
    for layer, cache in model.calls:
        activation = getattr(layer, "activation", None)
        if activation is not None and activation.__name__ == "relu" and np.min(
                np.abs(cache.z), initial=np.inf) <= RELU_MARGIN:
            return False
    selects = [parents for layer_index, parents in case.calls
               if case.layer_specs[layer_index][0] in ("Maximum", "Minimum")]
    if not selects:
        return True
    # A feature-extraction model on the same layers gives the values the merges read.
    probe = mr.Model(model.inputs, [tensors[i] for parents in selects for i in parents])
    values = iter(probe.predict(x, verbose=0) if len(probe.outputs) > 1
                  else [probe.predict(x, verbose=0)])
    for parents in selects:
        read = dict(zip(parents, [next(values) for _ in parents], strict=True))
        for i in read:                       # the same tensor twice: max(t, t) = t, no kink
            for j in read:
                if i < j and np.min(np.abs(read[i] - read[j])) <= TIE_MARGIN:
                    return False
    return True


@settings(gradient_settings, max_examples=25)
@given(case=graph_cases())
def test_random_graph_weight_gradients_match_numerical_gradients(float64, case):
    """``loss_and_gradients`` (every weight, summed over forks, calls and weighted losses)
    against central differences of the total loss."""
    model, tensors = case.build()
    assume(clear_of_kinks(model, tensors, case))
    x, y = case.data()
    results = check_model(model, x, y, h=STEP)
    assume_resolvable(results, model.loss_and_gradients(x, y)[0])
    assert len(results) == len(model.get_weights())
    assert_gradients_match(results)


@settings(gradient_settings, max_examples=25)
@given(case=graph_cases(), seed=st.integers(0, 2**32 - 1))
def test_random_graph_input_gradients_match_numerical_gradients(float64, case, seed):
    """``model.backward`` returns ``δx`` for every input: the vector-Jacobian product of the
    whole graph, ``f(x) = Σ_k Σ ŷ_k ⊙ δŷ_k`` for random ``δŷ_k``, checked element by element
    (an input read by several layers sums their gradients)."""
    model, tensors = case.build()
    assume(clear_of_kinks(model, tensors, case))
    xs = [x.copy() for x in case.x]
    argument = xs if len(xs) > 1 else xs[0]

    def outputs() -> list[np.ndarray]:
        value = model.forward(argument)
        return value if len(model.outputs) > 1 else [value]

    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(value.shape) for value in outputs()]
    grads = model.backward(upstream if len(upstream) > 1 else upstream[0])
    grads = grads if len(xs) > 1 else [grads]

    def f() -> float:
        return float(sum(np.sum(value * u) for value, u in zip(outputs(), upstream, strict=True)))

    results = [compare(f"x{i}", grad, numerical_gradient(f, x, STEP))
               for i, (grad, x) in enumerate(zip(grads, xs, strict=True))]
    assume_resolvable(results, float(sum(np.sum(np.abs(v * u)) for v, u in zip(
        outputs(), upstream, strict=True))))
    assert_gradients_match(results)
