"""The functional API: ``mr.Input``, layers called on symbolic tensors, ``mr.Model(inputs,
outputs)``.

First what a learner meets (inputs, shapes, errors at call time, building a model), then
graphs (shared layers, forks, feature extraction, models inside models, Sequential),
summaries and weights, then training with several inputs and outputs. Tests named
``..._as_keras`` build the same graph with Keras 3 and compare (skipped without Keras). The
last section runs the models of Keras' functional-API guide, written against ``keras.``
names, with minired.
"""

from __future__ import annotations

import copy
import pickle
import re

import numpy as np
import pytest
from strategies import STEP, TOLERANCE

import minired as mr
from minired.gradcheck import check_model
from minired.layers import Dense
from minired.layers.keras_tensor import KerasTensor


@pytest.fixture(scope="module")
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``precision(dtype)`` for both libraries."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def leaves(structure) -> list[np.ndarray]:
    """The arrays of a prediction (one, a list/tuple, or a dict by sorted key)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in leaves(structure[key])]
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in leaves(item)]
    return [np.asarray(structure)]


def sample_inputs(model, n: int = 5, seed: int = 0):
    """Random arrays for every input of ``model``, in the structure it takes them."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(n, *t.shape[1:])) for t in model.inputs]
    if isinstance(model.input, dict):
        return dict(zip(model.input_names, arrays, strict=True))
    return arrays if len(arrays) > 1 else arrays[0]


def assert_gradients_match(model, x, y) -> None:
    results = check_model(model, x, y, h=STEP)
    worst = max(results, key=lambda r: r.relative_error)
    assert worst.relative_error < TOLERANCE, str(worst)


# -- a zoo of graphs, written once for both libraries (``lib`` is minired or keras) ----------------

def mlp(lib):
    inputs = lib.Input((4,), name="x")
    hidden = lib.layers.Dense(8, activation="tanh", name="hidden")(inputs)
    return lib.Model(inputs, lib.layers.Dense(3, activation="softmax", name="probs")(hidden),
                     name="mlp")


def residual(lib):
    layers = lib.layers
    inputs = lib.Input((4,), name="x")
    h = layers.Dense(6, activation="relu", name="h1")(inputs)
    skip = layers.Dense(6, name="skip")(inputs)
    h = layers.Dense(6, activation="tanh", name="h2")(h)
    total = layers.add([h, skip], name="sum")
    return lib.Model(inputs, layers.Dense(2, name="out")(total), name="residual")


def two_towers(lib):
    """Two inputs through one shared Dense, merged three ways, two outputs."""
    layers = lib.layers
    left, right = lib.Input((5,), name="left"), lib.Input((5,), name="right")
    shared = layers.Dense(4, activation="tanh", name="shared")
    a, b = shared(left), shared(right)
    joined = layers.Concatenate(name="cat")([a, b])
    difference = layers.Subtract(name="diff")([a, b])
    probs = layers.Dense(3, activation="softmax", name="cls")(joined)
    value = layers.Dense(1, name="reg")(layers.Multiply(name="mul")([difference, b]))
    return lib.Model([left, right], [probs, value], name="towers")


def shared_at_two_depths(lib):
    layers = lib.layers
    inputs = lib.Input((3,), name="x")
    twice = layers.Dense(3, activation="tanh", name="twice")
    h = twice(layers.Dense(3, activation="sigmoid", name="middle")(twice(inputs)))
    return lib.Model(inputs, layers.Dense(2, name="out")(h), name="depths")


def fan_out(lib):
    """One tensor read by three layers; an intermediate tensor is also an output."""
    layers = lib.layers
    inputs = lib.Input((4,), name="x")
    branches = [layers.Dense(3, activation=a, name=f"b_{a}")(inputs)
                for a in ("tanh", "sigmoid", "linear")]
    top = layers.Maximum(name="max")(branches[:2])
    bottom = layers.Minimum(name="min")(branches[1:])
    mean = layers.Average(name="avg")([top, bottom, branches[0]])
    return lib.Model(inputs, [layers.Dense(2, name="out")(mean), top], name="fan")


def nested(lib):
    """A functional model and a Sequential, each called as a layer."""
    layers = lib.layers
    enc_in = lib.Input((4,), name="enc_in")
    encoder = lib.Model(enc_in, layers.Dense(3, activation="tanh", name="enc_dense")(enc_in),
                        name="encoder")
    head = lib.Sequential([lib.Input((3,)), layers.Dense(5, activation="relu", name="head_1"),
                           layers.Dense(2, name="head_2")], name="head")
    inputs = lib.Input((4,), name="x")
    both = layers.Concatenate(name="cat")([encoder(inputs),
                                           layers.Dense(3, name="side")(inputs)])
    return lib.Model(inputs, head(layers.Dense(3, name="proj")(both)), name="nested")


def dict_io(lib):
    layers = lib.layers
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    h = layers.Dense(4, activation="tanh", name="h")(layers.Concatenate(name="cat")([a, b]))
    return lib.Model({"b": b, "a": a},
                     {"y": layers.Dense(1, name="dy")(h),
                      "p": layers.Dense(2, activation="softmax", name="dp")(h)}, name="dicts")


def unused_input(lib):
    layers = lib.layers
    used, unused = lib.Input((3,), name="used"), lib.Input((2,), name="unused")
    return lib.Model([used, unused], layers.Dense(2, name="out")(layers.Dense(3, name="h")(used)),
                     name="unused")


GRAPHS = {build.__name__: build for build in (mlp, residual, two_towers, shared_at_two_depths,
                                              fan_out, nested, dict_io, unused_input)}


# -- Input -----------------------------------------------------------------------------------------

def test_input_is_a_symbolic_tensor_with_the_batch_axis_first():
    x = mr.Input((4,))
    assert isinstance(x, KerasTensor)
    assert (x.shape, x.ndim, x.dtype) == ((None, 4), 2, "float32")
    layer = x._keras_history.operation          # the InputLayer behind it
    assert isinstance(layer, mr.layers.InputLayer) and layer.name == x.name


@pytest.mark.parametrize(("kwargs", "shape", "dtype"), [
    ({"shape": (4,)}, (None, 4), "float32"),
    ({"shape": (4,), "batch_size": 8}, (8, 4), "float32"),
    ({"batch_shape": (None, 2, 3)}, (None, 2, 3), "float32"),
    ({"batch_shape": (16, 3)}, (16, 3), "float32"),
    ({"shape": (None, 8)}, (None, None, 8), "float32"),
    ({"shape": (4,), "dtype": "float64"}, (None, 4), "float64"),
    ({"shape": (4,), "dtype": "int32"}, (None, 4), "int32"),
])
def test_input_shape_and_dtype_as_keras(keras_env, kwargs, shape, dtype):
    ours, theirs = mr.Input(**kwargs), keras_env.keras.Input(**kwargs)
    assert ours.shape == tuple(theirs.shape) == shape
    assert ours.dtype == theirs.dtype == dtype


def test_input_name_names_the_tensor_and_its_input_layer():
    x = mr.Input((4,), name="features")
    assert x.name == x._keras_history.operation.name == "features"


def test_input_dtype_follows_floatx(float64):
    assert mr.Input((4,)).dtype == "float64"


def test_a_variable_axis_takes_any_size_at_call_time():
    """``Input((None, 8))``: Dense acts on the last axis at every position, any length."""
    inputs = mr.Input((None, 8))
    outputs = Dense(3)(inputs)
    assert outputs.shape == (None, None, 3)
    model = mr.Model(inputs, outputs)
    for length in (2, 5):
        assert model.predict(np.ones((4, length, 8)), verbose=0).shape == (4, length, 3)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({}, ValueError, r"`shape` is required"),
    ({"shape": (4,), "batch_shape": (None, 4)}, ValueError, r"`shape` or `batch_shape`, not both"),
    ({"batch_size": 8, "batch_shape": (8, 4)}, ValueError, r"`batch_size` or `batch_shape`, not "
                                                           r"both"),
    ({"shape": (0,)}, ValueError, r"positive ints or None"),
    ({"shape": (-2, 3)}, ValueError, r"positive ints or None"),
    ({"shape": (2.5,)}, ValueError, r"positive ints or None"),
])
def test_input_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        mr.Input(**kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"shape": (4,), "batch_shape": (None, 4)},
                                    {"batch_size": 8, "batch_shape": (8, 4)},
                                    {"shape": (-2, 3)}])
def test_input_errors_as_keras(keras_env, kwargs):
    for lib in (mr, keras_env.keras):
        with pytest.raises(ValueError):
            lib.Input(**kwargs)


# -- calling layers on symbolic tensors ------------------------------------------------------------

def test_calling_a_layer_on_a_symbolic_tensor_builds_it_and_records_the_call():
    x = mr.Input((4,))
    dense = Dense(3)
    assert not dense.built
    y = dense(x)
    assert dense.built and dense.kernel.shape == (4, 3)      # built for 4 features
    assert isinstance(y, KerasTensor) and y.shape == (None, 3)
    assert y._keras_history.operation is dense               # where y came from
    (node,) = dense._inbound_nodes
    assert node.input_tensors == [x] and node.outputs == [y]


OUTPUT_SHAPES = [
    ("Dense", {"units": 3}, [(None, 4)], (None, 3)),
    ("Dense", {"units": 3}, [(None, 5, 4)], (None, 5, 3)),
    ("Dense", {"units": 3}, [(7, 4)], (7, 3)),
    ("Flatten", {}, [(None, 2, 3)], (None, 6)),
    ("Dropout", {"rate": 0.5}, [(None, 2, 3)], (None, 2, 3)),
    ("Activation", {"activation": "softmax"}, [(None, 4)], (None, 4)),
    ("Concatenate", {}, [(None, 2), (None, 3)], (None, 5)),
    ("Concatenate", {"axis": 1}, [(None, 2, 3), (None, 4, 3)], (None, 6, 3)),
    ("Add", {}, [(None, 1, 4), (None, 3, 4)], (None, 3, 4)),
    ("Multiply", {}, [(None, 3, 4), (None, 4)], (None, 3, 4)),
    ("Subtract", {}, [(None, 4), (None, 4)], (None, 4)),
    ("Average", {}, [(None, 4), (None, 4), (None, 4)], (None, 4)),
    ("Maximum", {}, [(None, None, 4), (None, 2, 4)], (None, None, 4)),
]


@pytest.mark.parametrize(("name", "kwargs", "shapes", "expected"), OUTPUT_SHAPES)
def test_output_shapes_on_symbolic_tensors_as_keras(keras_env, name, kwargs, shapes, expected):
    def output_shape(lib):
        tensors = [lib.Input(batch_shape=shape) for shape in shapes]
        layer = getattr(lib.layers, name)(**kwargs)
        return tuple(layer(tensors if len(tensors) > 1 else tensors[0]).shape)

    assert output_shape(mr) == output_shape(keras_env.keras) == expected


def test_a_built_dense_refuses_another_number_of_features_as_keras(keras_env):
    """Keras' input_spec: a Dense built for 4 features raises at the call, not at fit."""
    for lib in (mr, keras_env.keras):
        dense = lib.layers.Dense(3, name="four_in")
        dense(lib.Input((4,)))
        with pytest.raises(ValueError, match=r"layer '?four_in'? is incompatible with the layer: "
                                             r"expected axis -1 of input shape to have value 4"):
            dense(lib.Input((5,)))
        with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1"):
            dense(np.ones(4))
        assert tuple(dense(lib.Input((2, 4))).shape) == (None, 2, 3)   # any leading axes


def test_a_built_dense_refuses_arrays_of_another_width():
    dense = Dense(3)
    dense(np.ones((2, 4), dtype="float32"))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4, but "
                                         r"received input with shape \(None, 5\)"):
        dense(np.ones((2, 5), dtype="float32"))


def test_a_built_merge_layer_checks_every_call():
    """A merge layer has no weights: each call is checked as the first one was (Keras checks
    only the first call of Concatenate and Subtract, and fails later, at run time)."""
    concatenate = mr.layers.Concatenate()
    concatenate([mr.Input((2,)), mr.Input((3,))])
    with pytest.raises(ValueError, match=r"matching shapes except for the concatenation axis"):
        concatenate([mr.Input((2, 3)), mr.Input((3, 3))])
    subtract = mr.layers.Subtract()
    a = mr.Input((2,))
    subtract([a, a])
    with pytest.raises(ValueError, match=r"exactly 2 inputs"):
        subtract([a, a, a])
    add = mr.layers.Add()
    add([a, a])
    with pytest.raises(ValueError, match=r"incompatible shapes"):
        add([a, mr.Input((3,))])
    assert add([mr.Input((5,)), mr.Input((5,))]).shape == (None, 5)   # new shapes are fine


def test_merge_layers_take_a_list():
    with pytest.raises(ValueError, match=r"should be called on a list of inputs"):
        mr.layers.Add()(mr.Input((4,)))


@pytest.mark.parametrize("name", ["Dense", "Flatten"])
def test_other_layers_take_one_tensor_as_keras(keras_env, name):
    for lib in (mr, keras_env.keras):
        layer = getattr(lib.layers, name)(**({"units": 3} if name == "Dense" else {}))
        with pytest.raises(ValueError, match=r"expects 1 input.*received 2 input tensors"):
            layer([lib.Input((4,)), lib.Input((4,))])


def test_a_list_of_one_tensor_is_not_one_tensor():
    """Keras fails on ``Dense(3)([x])`` with a message about shapes; minired says why."""
    with pytest.raises(ValueError, match=r"expects 1 input, but it received 1 input tensor in "
                                         r"a list: call it on one tensor"):
        mr.layers.Dropout(0.5)([mr.Input((4,))])


def test_symbolic_tensors_and_arrays_do_not_mix():
    with pytest.raises(TypeError, match=r"mix of symbolic tensors and arrays"):
        mr.layers.Add()([mr.Input((4,)), np.ones((1, 4))])


def test_a_symbolic_tensor_holds_no_values():
    x = mr.Input((4,))
    with pytest.raises(TypeError, match=r"holds no values"):
        np.asarray(x)
    with pytest.raises(TypeError, match=r"use the merge layers"):
        x + x  # noqa: B018
    with pytest.raises(TypeError, match=r"neither True nor False"):
        bool(x)


# -- building a model ------------------------------------------------------------------------------

def test_model_returns_a_functional_model_of_its_graph():
    inputs = mr.Input((4,), name="x")
    hidden = Dense(8, activation="relu", name="hidden")(inputs)
    outputs = Dense(3, name="out")(hidden)
    model = mr.Model(inputs=inputs, outputs=outputs, name="net")
    assert isinstance(model, mr.models.Functional) and model.name == "net"
    assert model.inputs == [inputs] and model.outputs == [outputs]
    assert model.input is inputs and model.output is outputs
    assert [layer.name for layer in model.layers] == ["x", "hidden", "out"]
    assert model.input_shape == (None, 4) and model.output_shape == (None, 3)
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    expected = model.get_layer("out")(model.get_layer("hidden")(x))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model(x), expected, rtol=1e-6)


STRUCTURES = {
    "tensor": (lambda t: t[0], np.ndarray),
    "list": (lambda t: [t[0], t[1]], list),
    "list of one": (lambda t: [t[0]], np.ndarray),      # Keras unpacks it
    "tuple": (lambda t: (t[0], t[1]), tuple),
    "dict": (lambda t: {"second": t[1], "first": t[0]}, dict),
}


@pytest.mark.parametrize("structure", STRUCTURES)
def test_predict_and_call_return_the_structure_of_outputs_as_keras(keras_env, structure):
    pack, kind = STRUCTURES[structure]

    def build(lib):
        inputs = lib.Input((3,))
        tensors = [lib.layers.Dense(2, name="d0")(inputs), lib.layers.Dense(4, name="d1")(inputs)]
        return lib.Model(inputs, pack(tensors))

    x = np.ones((5, 3))
    with keras_env.precision("float64"):
        ours, theirs = build(mr), build(keras_env.keras)
        theirs.set_weights(ours.get_weights())
        predicted, expected = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
        called = ours(x)
    for value in (predicted, expected, called):
        assert type(value) is kind
    if kind is dict:
        assert list(predicted) == list(expected) == list(called) == ["second", "first"]
    for ours_array, theirs_array in zip(leaves(predicted), leaves(expected), strict=True):
        np.testing.assert_allclose(ours_array, theirs_array, rtol=1e-12)


def test_symbolic_call_of_a_model_returns_the_structure_of_outputs_as_keras(keras_env):
    """A model called on tensors: a list of one stays a list, a dict stays a dict."""
    for lib in (mr, keras_env.keras):
        inputs = lib.Input((3,))
        out = lib.layers.Dense(2)(inputs)
        as_list = lib.Model(inputs, [out])(lib.Input((3,)))
        as_dict = lib.Model(inputs, {"k": out})(lib.Input((3,)))
        assert isinstance(as_list, list) and len(as_list) == 1
        assert isinstance(as_dict, dict) and list(as_dict) == ["k"]


def test_inputs_as_a_list_and_as_a_dict():
    a, b = mr.Input((3,), name="a"), mr.Input((2,), name="b")
    out = Dense(1)(mr.layers.Concatenate()([a, b]))
    xa, xb = np.ones((4, 3)), np.zeros((4, 2))
    as_list = mr.Model([a, b], out)
    expected = as_list.predict([xa, xb], verbose=0)
    np.testing.assert_array_equal(as_list.predict({"a": xa, "b": xb}, verbose=0), expected)
    as_dict = mr.Model({"first": a, "second": b}, out)
    assert as_dict.inputs == [a, b] and as_dict.input_names == ["first", "second"]
    np.testing.assert_array_equal(as_dict.predict({"second": xb, "first": xa}, verbose=0),
                                  expected)
    np.testing.assert_array_equal(as_dict.predict([xa, xb], verbose=0), expected)


def test_a_dict_of_inputs_is_matched_by_its_keys_as_keras(keras_env):
    """Keras warns when the keys differ from the Inputs' names, then goes by the keys."""
    def build(lib):
        a, b = lib.Input((3,)), lib.Input((2,))
        out = lib.layers.Dense(1)(lib.layers.Concatenate()([a, b]))
        return lib.Model({"b_key": b, "a_key": a}, out)

    x = {"a_key": np.ones((4, 3)), "b_key": np.arange(8.0).reshape(4, 2)}
    with keras_env.precision("float64"):
        ours = build(mr)
        with pytest.warns(UserWarning, match="keys in the dict must match"):
            theirs = build(keras_env.keras)
        theirs.set_weights(ours.get_weights())
        np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                                   rtol=1e-12)


def test_a_model_can_start_from_intermediate_tensors():
    """``Model(h, y)`` with ``h`` made by a layer: the layers after ``h``, their weights
    shared. (Keras also gives such a model an InputLayer of its own, a copy of ``h``:
    minired takes ``h`` itself as the input.)"""
    inputs = mr.Input((4,))
    hidden = Dense(3, name="first")(inputs)
    outputs = Dense(2, name="second")(hidden)
    full, tail = mr.Model(inputs, outputs), mr.Model(hidden, outputs)
    assert [layer.name for layer in tail.layers] == ["second"]
    assert tail.inputs == [hidden] and tail.layers[0] is full.layers[2]
    x = np.random.default_rng(0).normal(size=(5, 4))
    h = full.get_layer("first")(x)
    np.testing.assert_allclose(tail.predict(h, verbose=0), full.predict(x, verbose=0),
                               rtol=1e-6)


def test_an_input_no_output_uses_is_still_an_input():
    model = unused_input(mr)
    assert [layer.name for layer in model.layers] == ["used", "h", "unused", "out"]
    x = sample_inputs(model)
    assert model.predict(x, verbose=0).shape == (5, 2)
    with pytest.raises(ValueError, match=r"2 inputs"):
        model.predict(x[0], verbose=0)


def graph_error_cases(lib) -> dict:
    """Ways to get a graph wrong, each a function that builds the bad model."""
    layers = lib.layers

    def disconnected():
        a, b = lib.Input((4,)), lib.Input((4,))
        return lib.Model(a, layers.Add()([a, layers.Dense(4)(b)]))

    def disconnected_input():
        return lib.Model(lib.Input((4,)), layers.Dense(2)(lib.Input((4,))))

    def duplicate_names():
        x = lib.Input((4,))
        return lib.Model(x, layers.Dense(2, name="same")(layers.Dense(2, name="same")(x)))

    def array_as_input():
        return lib.Model(np.zeros((1, 4)), layers.Dense(2)(lib.Input((4,))))

    def array_as_output():
        return lib.Model(lib.Input((4,)), np.zeros((1, 4)))

    return {"disconnected": disconnected, "disconnected input": disconnected_input,
            "duplicate names": duplicate_names, "array as input": array_as_input,
            "array as output": array_as_output}


@pytest.mark.parametrize(("case", "match"), [
    ("disconnected", r"Graph disconnected: the outputs depend on the Input"),
    ("disconnected input", r"Graph disconnected: the outputs depend on the Input"),
    ("duplicate names", r'The name "same" is used 2 times in the model'),
    ("array as input", r"all `inputs` values must be symbolic tensors"),
    ("array as output", r"all `outputs` values must be symbolic tensors"),
])
def test_graph_errors_name_the_problem(case, match):
    with pytest.raises(ValueError, match=match):
        graph_error_cases(mr)[case]()


@pytest.mark.parametrize("case", list(graph_error_cases(mr)))
def test_graph_errors_raise_where_keras_raises(keras_env, case):
    with pytest.raises(ValueError):
        graph_error_cases(keras_env.keras)[case]()
    with pytest.raises(ValueError):
        graph_error_cases(mr)[case]()


def test_model_needs_inputs_and_outputs():
    x = mr.Input((4,))
    with pytest.raises(TypeError, match=r"mr.Model needs `inputs` and `outputs`"):
        mr.Model()          # Keras would make a subclassing model; minired has none
    with pytest.raises(ValueError, match=r"needs both `inputs` and `outputs`"):
        mr.Model(inputs=x)
    with pytest.raises(ValueError, match=r"`inputs` cannot be empty"):
        mr.Model([], Dense(2)(x))


# -- looking inside: layers, get_layer, layer.input/output -----------------------------------------

def test_get_layer_by_name_or_index():
    model = two_towers(mr)
    assert model.get_layer("shared") is model.layers[2]
    assert model.get_layer(index=0).name == "left"
    assert model.get_layer(index=-1) is model.layers[-1]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, r"provide either a layer `name` or an `index`"),
    ({"name": "nope"}, r"no such layer: 'nope'. Existing layers are: \['left', 'right'"),
    ({"index": 9}, r"asked for index 9 but the model only has 8 layers"),
    ({"name": "shared", "index": 1}, r"not both"),
])
def test_get_layer_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        two_towers(mr).get_layer(**kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"name": "nope"}, {"index": 9}])
def test_get_layer_errors_as_keras(keras_env, kwargs):
    for lib in (mr, keras_env.keras):
        with pytest.raises(ValueError):
            two_towers(lib).get_layer(**kwargs)


def test_layer_input_and_output_are_those_of_its_first_call():
    a, b = mr.Input((3,), name="a"), mr.Input((3,), name="b")
    shared = Dense(2)
    first, second = shared(a), shared(b)
    assert shared.input is a and shared.output is first      # the first call, as Keras
    assert shared._inbound_nodes[1].outputs == [second]
    add = mr.layers.Add()
    total = add([first, second])
    assert add.input == [first, second] and add.output is total
    with pytest.raises(AttributeError, match=r"has never been called"):
        _ = Dense(2).output


def test_feature_extraction_model_shares_the_weights():
    """``Model(m.inputs, m.get_layer(name).output)``: the activations of a hidden layer,
    with the same weights as ``m``, so training ``m`` changes what it extracts."""
    model = residual(mr)
    features = mr.Model(inputs=model.inputs, outputs=model.get_layer("sum").output)
    assert features.get_layer("h2") is model.get_layer("h2")
    x = sample_inputs(model)
    h = model.get_layer("h2")(model.get_layer("h1")(x)) + model.get_layer("skip")(x)
    np.testing.assert_allclose(features.predict(x, verbose=0), h, rtol=1e-6)
    model.compile(optimizer=mr.optimizers.SGD(0.5), loss="mse")
    model.fit(x, np.ones((5, 2)), epochs=1, verbose=0)
    h = model.get_layer("h2")(model.get_layer("h1")(x)) + model.get_layer("skip")(x)
    np.testing.assert_allclose(features.predict(x, verbose=0), h, rtol=1e-6)


def test_every_layer_output_at_once():
    """The guide's ``[layer.output for layer in model.layers]`` (the Input's too)."""
    model = mlp(mr)
    extractor = mr.Model(inputs=model.input, outputs=[layer.output for layer in model.layers])
    x = sample_inputs(model)
    values = extractor(x)
    assert [v.shape for v in values] == [(5, 4), (5, 8), (5, 3)]
    np.testing.assert_allclose(values[0], x, rtol=1e-6)
    np.testing.assert_allclose(values[-1], model.predict(x, verbose=0), rtol=1e-6)


# -- shared layers and forks -----------------------------------------------------------------------

def test_a_shared_layer_has_one_set_of_weights_and_sums_its_gradients(float64):
    """Shared: ∂L/∂W = Σ_calls ∂L/∂W|call, which is the sum of the gradients of two
    separate copies of the layer holding the same weights."""
    def siamese(share: bool):
        left, right = mr.Input((3,)), mr.Input((3,))
        first = Dense(4, activation="tanh")
        second = first if share else Dense(4, activation="tanh")
        joined = mr.layers.Concatenate()([first(left), second(right)])
        model = mr.Model([left, right], Dense(2, activation="softmax")(joined))
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        return model

    rng = np.random.default_rng(0)
    x, y = [rng.normal(size=(6, 3)), rng.normal(size=(6, 3))], np.eye(2)[[0, 1, 1, 0, 1, 0]]
    shared, copies = siamese(True), siamese(False)
    kernel, bias, head_kernel, head_bias = shared.get_weights()
    copies.set_weights([kernel, bias, kernel, bias, head_kernel, head_bias])
    assert len(shared.get_weights()) == 4 and len(copies.get_weights()) == 6

    _, grads = shared.loss_and_gradients(x, y)
    _, copy_grads = copies.loss_and_gradients(x, y)
    np.testing.assert_allclose(grads[0], copy_grads[0] + copy_grads[2], rtol=1e-12)
    np.testing.assert_allclose(grads[1], copy_grads[1] + copy_grads[3], rtol=1e-12)
    assert_gradients_match(shared, x, y)


def test_a_tensor_read_by_several_layers(float64):
    """Fan-out: three layers read x; the forward pass is each branch on the same x, the
    backward pass sums their gradients at x (checked numerically)."""
    model = fan_out(mr)
    x = sample_inputs(model)
    out, top = model.predict(x, verbose=0)
    b_tanh, b_sigmoid, b_linear = (model.get_layer(f"b_{a}")(x)
                                   for a in ("tanh", "sigmoid", "linear"))
    np.testing.assert_allclose(top, np.maximum(b_tanh, b_sigmoid), rtol=1e-12)
    mean = (np.maximum(b_tanh, b_sigmoid) + np.minimum(b_sigmoid, b_linear) + b_tanh) / 3
    np.testing.assert_allclose(out, model.get_layer("out")(mean), rtol=1e-12)
    model.compile(optimizer="sgd", loss=["mse", "mse"], loss_weights=[1.0, 0.5])
    assert_gradients_match(model, x, [np.ones((5, 2)), np.zeros((5, 3))])


# -- models used as layers -------------------------------------------------------------------------

def encoder_decoder():
    enc_in = mr.Input((6,), name="enc_in")
    encoder = mr.Model(enc_in, Dense(2, activation="tanh", name="code")(enc_in), name="encoder")
    dec_in = mr.Input((2,), name="dec_in")
    decoder = mr.Model(dec_in, Dense(6, name="rebuilt")(dec_in), name="decoder")
    inputs = mr.Input((6,), name="img")
    autoencoder = mr.Model(inputs, decoder(encoder(inputs)), name="autoencoder")
    return encoder, decoder, autoencoder


def test_a_model_called_inside_another_reuses_its_layers_and_weights():
    encoder, decoder, autoencoder = encoder_decoder()
    assert [layer.name for layer in autoencoder.layers] == ["img", "encoder", "decoder"]
    weights = autoencoder.weights
    assert len(weights) == 4
    assert all(w is v for w, v in zip(weights, encoder.weights + decoder.weights, strict=True))
    x = sample_inputs(autoencoder)
    np.testing.assert_allclose(autoencoder.predict(x, verbose=0),
                               decoder.predict(encoder.predict(x, verbose=0), verbose=0),
                               rtol=1e-6)
    autoencoder.compile(optimizer=mr.optimizers.SGD(0.1), loss="mse")
    before = encoder.get_weights()[0]
    autoencoder.fit(x, x, epochs=2, verbose=0)
    assert not np.allclose(encoder.get_weights()[0], before)     # trained through the outer


def test_a_sequential_inside_a_functional_model(float64):
    head = mr.Sequential([Dense(4, activation="tanh"), Dense(2)], name="head")  # no Input
    inputs = mr.Input((3,))
    model = mr.Model(inputs, Dense(1, name="top")(head(inputs)))
    assert head.built and head.input_shape == (None, 3)
    assert [layer.name for layer in model.layers][1:] == ["head", "top"]
    x = sample_inputs(model)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               model.get_layer("top")(head.predict(x, verbose=0)), rtol=1e-12)
    model.compile(optimizer="sgd", loss="mse")
    assert_gradients_match(model, x, np.ones((5, 1)))


def test_nested_models_called_twice_backpropagate_each_call(float64):
    """The same inner model at two places: its weight gradients sum over both calls."""
    enc_in = mr.Input((3,))
    inner = mr.Model(enc_in, Dense(3, activation="tanh")(Dense(4, activation="sigmoid")(enc_in)))
    inputs = mr.Input((3,))
    twice = inner(inner(inputs))
    outputs = Dense(2, activation="softmax")(mr.layers.Add()([twice, inner(inputs)]))
    model = mr.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert len(inner._inbound_nodes) == 3 and len(model.get_weights()) == 6
    assert_gradients_match(model, sample_inputs(model), np.eye(2)[[0, 1, 1, 0, 1]])


def test_a_model_with_several_outputs_used_as_a_layer(float64):
    inner_in = mr.Input((3,))
    hidden = Dense(4, activation="tanh")(inner_in)
    inner = mr.Model(inner_in, [Dense(2)(hidden), Dense(3, activation="sigmoid")(hidden)])
    inputs = mr.Input((3,))
    first, second = inner(inputs)
    assert (first.shape, second.shape) == ((None, 2), (None, 3))
    used_once = mr.Model(inputs, Dense(1)(first))            # `second` reaches no loss
    used_once.compile(optimizer="sgd", loss="mse")
    assert_gradients_match(used_once, sample_inputs(used_once), np.ones((5, 1)))
    both = mr.Model(inputs, [Dense(2, activation="softmax")(
        mr.layers.Concatenate()([first, second])), second])
    both.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    assert_gradients_match(both, sample_inputs(both), [np.eye(2)[[0, 1, 0, 1, 1]],
                                                       np.zeros((5, 3))])


def test_a_model_used_as_a_layer_checks_its_inputs_as_keras(keras_env):
    for lib in (mr, keras_env.keras):
        enc_in = lib.Input((4,), name="enc_in")
        encoder = lib.Model(enc_in, lib.layers.Dense(2)(enc_in), name="encoder")
        with pytest.raises(ValueError, match=r"Input 0 with name 'enc_in' of layer '?encoder'? "
                                             r"is incompatible with the layer: expected "
                                             r"shape=\(None, 4\), found shape=\(None, 5\)"):
            encoder(lib.Input((5,)))
        with pytest.raises(ValueError, match=r"expects 1"):
            encoder([lib.Input((4,)), lib.Input((4,))])
        assert tuple(encoder([lib.Input((4,))]).shape) == (None, 2)     # a list of one


def test_a_frozen_inner_model_keeps_its_weights_during_the_outer_fit():
    encoder, decoder, autoencoder = encoder_decoder()
    encoder.trainable = False
    assert encoder.get_layer("code").trainable is False        # set on its layers, as Keras
    assert len(autoencoder.trainable_weights) == 2 and len(autoencoder.weights) == 4
    autoencoder.compile(optimizer=mr.optimizers.SGD(0.1), loss="mse")
    frozen, free = encoder.get_weights(), decoder.get_weights()
    x = sample_inputs(autoencoder)
    autoencoder.fit(x, x, epochs=2, verbose=0)
    for before, after in zip(frozen, encoder.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert not np.allclose(free[0], decoder.get_weights()[0])
    lines: list[str] = []
    autoencoder.summary(print_fn=lines.append)
    assert " Trainable params: 18" in lines[0] and " Non-trainable params: 14" in lines[0]
    encoder.trainable = True
    assert encoder.get_layer("code").trainable and len(autoencoder.trainable_weights) == 4


def test_trainable_is_set_on_every_layer_of_a_model_as_keras(keras_env):
    def flags(lib):
        model = nested(lib)
        encoder = model.get_layer("encoder")
        encoder.trainable = False
        after_freeze = [layer.trainable for layer in encoder.layers]
        model.trainable = False
        all_frozen = [layer.trainable for layer in model.layers]
        model.trainable = True
        inputs = lib.Input((2,))
        built_frozen = lib.Model(inputs, lib.layers.Dense(1)(inputs), trainable=False)
        return (after_freeze, all_frozen, [layer.trainable for layer in model.layers],
                [layer.trainable for layer in built_frozen.layers],
                len(model.trainable_weights), len(built_frozen.trainable_weights))

    assert flags(mr) == flags(keras_env.keras)


def test_a_cross_entropy_reads_the_logits_of_a_softmax_inside_a_nested_model(keras_env):
    """Keras computes the loss from the logits z of the softmax even through a nested model
    (and a Sequential around it): a confidently wrong prediction costs 400 = logsumexp(200,
    -200) + 200, not the clipped -log(1e-7) = 16.1."""
    x, y = np.array([[1.0]]), np.array([[0.0, 1.0]])

    def nested_softmax(lib):
        inner_in = lib.Input((1,))
        inner = lib.Model(inner_in, lib.layers.Dense(2, activation="softmax")(inner_in))
        inner.set_weights([np.array([[200.0, -200.0]]), np.zeros(2)])
        outer_in = lib.Input((1,))
        outer = lib.Model(outer_in, lib.layers.Dropout(0.5)(inner(outer_in)))
        wrapped = lib.Sequential([lib.Input((1,)), outer])
        for model in (outer, wrapped):
            model.compile(optimizer="sgd", loss="categorical_crossentropy")
        return outer, wrapped

    with keras_env.precision("float64"):
        for lib in (mr, keras_env.keras):
            for model in nested_softmax(lib):
                assert model.evaluate(x, y, verbose=0) == pytest.approx(400.0, rel=1e-12)
        for model in nested_softmax(mr):
            loss, (grad_kernel, grad_bias) = model.loss_and_gradients(x, y)
            assert loss == pytest.approx(400.0, rel=1e-12)
            np.testing.assert_allclose(grad_kernel, [[1.0, -1.0]])   # δz = p - y = (1, -1)
            np.testing.assert_allclose(grad_bias, [1.0, -1.0])


# -- Sequential ------------------------------------------------------------------------------------

def test_sequential_pop_removes_the_last_layer_and_rebuilds():
    model = mr.Sequential([mr.Input((4,)), Dense(5, name="a"), Dense(3, name="b")])
    removed = model.pop()
    assert removed.name == "b" and [layer.name for layer in model.layers] == ["a"]
    assert model.output_shape == (None, 5)
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 5)
    model.add(Dense(7, name="c"))
    assert model.output_shape == (None, 7) and len(model.get_weights()) == 4
    model.pop()
    model.pop()
    with pytest.raises(TypeError, match=r"There are no layers in the model"):
        model.pop()


def test_sequential_pop_as_keras(keras_env):
    def popped(lib):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(5, name="a"),
                                lib.layers.Dense(3, name="b")])
        name = model.pop().name
        return name, [layer.name for layer in model.layers], tuple(model.output_shape)

    assert popped(mr) == popped(keras_env.keras)


def test_sequential_with_the_same_layer_twice_as_keras(keras_env):
    """One layer object added twice: listed twice, one set of weights, two calls."""
    def build(lib):
        twice = lib.layers.Dense(4, activation="tanh", name="twice")
        return lib.Sequential([lib.Input((4,)), twice, twice, lib.layers.Dense(1, name="out")])

    x = np.random.default_rng(0).normal(size=(5, 4))
    with keras_env.precision("float64"):
        ours, theirs = build(mr), build(keras_env.keras)
        assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers] \
            == ["twice", "twice", "out"]
        assert len(ours.get_weights()) == len(theirs.get_weights()) == 4
        theirs.set_weights(ours.get_weights())
        np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                                   rtol=1e-12)
        ours.compile(optimizer="sgd", loss="mse")
        assert_gradients_match(ours, x, np.ones((5, 1)))


def test_a_sequential_used_as_a_layer_has_the_input_and_output_of_that_call_as_keras(keras_env):
    for lib in (mr, keras_env.keras):
        seq = lib.Sequential([lib.Input((4,)), lib.layers.Dense(2, name="s1"),
                              lib.layers.Dense(3, name="s2")], name="seq")
        with pytest.raises(AttributeError, match=r"has never been called"):
            seq.output      # noqa: B018
        inputs = lib.Input((4,))
        model = lib.Model(inputs, lib.layers.Dense(1, name="top")(seq(inputs)))
        assert seq.input is inputs
        features = lib.Model(model.inputs, model.get_layer("seq").output)
        assert [layer.name for layer in features.layers][1:] == ["seq"]
        inner_features = lib.Model(seq.inputs, seq.get_layer("s1").output)
        assert [layer.name for layer in inner_features.layers][1:] == ["s1"]


def _passes(model, x, y):
    """Outputs, δx and every ∂L/∂w of one forward and backward pass in training mode (the
    loss reads the softmax's logits: the backward starts from δz)."""
    y_pred = model.forward(x, training=True)
    values, grads, tops = model._output_loss([y], [y_pred], None, True, gradient=True)
    model.zero_gradients()
    grad_x = model.backward(grads[0], top=tops[0])
    model._fill_unwritten_gradients()
    return [y_pred, grad_x, *(np.copy(g) for g in model.gradients)]


def test_a_chain_runs_two_plain_loops_with_the_numbers_of_the_graph_walk(float64):
    """A Sequential's graph is a chain (``Functional._is_chain``): its forward and backward
    are two loops over the layers. Outputs, δx and the weight gradients are those of the
    general walk of the same graph, bit for bit: with a layer called twice, an activity
    regularizer and a softmax whose logits the loss reads."""
    twice = Dense(4, activation="tanh", name="twice")
    model = mr.Sequential([mr.Input((4,)), twice, Dense(6, activation="relu",
                           activity_regularizer="l2"), Dense(4), twice,
                           Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy")
    assert model._is_chain
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 3, 5)
    chain = _passes(model, x, y)
    model._is_chain = False                      # the same graph, walked as any graph
    walked = _passes(model, x, y)
    assert len(chain) == 2 + 2 * 4
    for a, b in zip(chain, walked, strict=True):
        np.testing.assert_array_equal(a, b)


def test_graphs_that_are_not_chains():
    """Forks, several inputs or outputs, and models inside models walk the graph."""
    a, b = mr.Input((3,)), mr.Input((3,))
    hidden = Dense(2)(a)
    fork = mr.Model(a, mr.layers.Add()([Dense(2)(hidden), hidden]))
    two_inputs = mr.Model([a, b], mr.layers.Add()([a, b]))
    two_outputs = mr.Model(a, [Dense(1)(a), Dense(1)(a)])
    inner = mr.Sequential([mr.Input((3,)), Dense(2)])
    nested = mr.Sequential([mr.Input((3,)), inner, Dense(1)])
    assert inner._is_chain and mr.Model(a, Dense(1)(Dense(2)(a)))._is_chain
    assert not any(m._is_chain for m in (fork, two_inputs, two_outputs, nested))


def test_sequential_layer_names_must_be_unique():
    with pytest.raises(ValueError, match=r'The name "same" is used 2 times'):
        mr.Sequential([mr.Input((4,)), Dense(2, name="same"), Dense(2, name="same")])


# -- summary ---------------------------------------------------------------------------------------

def keras_summary_rows(model) -> tuple[list[str], list[list[str]]]:
    """(column titles, rows of cells) of Keras' summary table (printed wide: no wrapping)."""
    chunks: list[str] = []
    model.summary(line_length=250, print_fn=lambda text, line_break=True: chunks.append(text))
    lines = "".join(chunks).splitlines()
    header = next(line for line in lines if "Layer (type)" in line)
    titles = [cell.strip() for cell in header.strip("┃").split("┃")]
    rows = [[cell.strip() for cell in line.strip("│").split("│")]
            for line in lines if line.startswith("│")]
    return titles, rows


def summary_rows(model) -> tuple[list[str], list[list[str]]]:
    """The same for minired's summary (columns cut where the titles start)."""
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    lines = lines[0].splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Layer (type)"))
    titles = [t for t in ("Layer (type)", "Output Shape", "Param #", "Connected to")
              if t in lines[at]]
    starts = [lines[at].index(t) for t in titles]
    rows = []
    for line in lines[at + 2:]:
        if line.startswith("─"):
            break
        rows.append([line[s:e].strip() for s, e in zip(starts, [*starts[1:], None],
                                                           strict=True)])
    return titles, rows


@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS.keys())
def test_summary_as_keras(keras_env, monkeypatch, build):
    """Same rows: layer (type), output shape, parameters, and "Connected to" (left out, as
    Keras does, when the graph is a plain line of calls)."""
    monkeypatch.setenv("COLUMNS", "300")          # Keras fits its table to the terminal
    assert summary_rows(build(mr)) == keras_summary_rows(build(keras_env.keras))


def test_summary_says_what_each_layer_reads():
    titles, rows = summary_rows(two_towers(mr))
    assert titles[-1] == "Connected to"
    connected = {row[0]: row[-1] for row in rows}
    assert connected["left (InputLayer)"] == "-"
    assert connected["shared (Dense)"] == "left[0][0], right[0][0]"        # two calls
    assert connected["cat (Concatenate)"] == "shared[0][0], shared[1][0]"  # their outputs
    titles, _ = summary_rows(mlp(mr))
    assert titles == ["Layer (type)", "Output Shape", "Param #"]          # a line: no column


# -- weights ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS.keys())
def test_layers_weights_and_predictions_as_keras(keras_env, build):
    """``model.layers`` and ``get_weights()`` in Keras' order: weights copied either way
    give the same predictions (float64)."""
    rng = np.random.default_rng(0)
    with keras_env.precision("float64"):
        ours, theirs = build(mr), build(keras_env.keras)
        assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
        assert [w.shape for w in ours.get_weights()] == [tuple(w.shape)
                                                         for w in theirs.get_weights()]
        x = sample_inputs(ours)
        theirs.set_weights(ours.get_weights())
        for a, b in zip(leaves(ours.predict(x, verbose=0)), leaves(theirs.predict(x, verbose=0)),
                        strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        theirs.set_weights([rng.normal(size=w.shape) * 0.5 for w in theirs.get_weights()])
        ours.set_weights(theirs.get_weights())
        for a, b in zip(leaves(ours.predict(x, verbose=0)), leaves(theirs.predict(x, verbose=0)),
                        strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_set_weights_checks_the_count_and_every_shape():
    model = two_towers(mr)
    weights = model.get_weights()
    with pytest.raises(ValueError, match=r"must be a list of 6 arrays"):
        model.set_weights(weights[:-1])
    with pytest.raises(ValueError, match=r"weight 0 must have shape \(5, 4\), got \(4, 5\)"):
        model.set_weights([weights[0].T, *weights[1:]])


# -- training with several inputs and outputs ------------------------------------------------------

def two_heads(lib, dict_outputs: bool = False):
    """Inputs ``a`` and ``b``; outputs ``cls`` (3-class softmax) and ``bin`` (a sigmoid)."""
    layers = lib.layers
    a, b = lib.Input((4,), name="a"), lib.Input((3,), name="b")
    h = layers.Dense(6, activation="tanh", name="h")(layers.Concatenate(name="cat")([a, b]))
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    skip = layers.Add(name="skip")([layers.Dense(1, name="lin_a")(a),
                                    layers.Dense(1, name="lin_h")(h)])
    binary = layers.Activation("sigmoid", name="bin")(skip)
    outputs = {"bin": binary, "cls": cls} if dict_outputs else [cls, binary]
    return lib.Model([a, b], outputs, name="two_heads")


def two_heads_data(n: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = [rng.normal(size=(n, 4)), rng.normal(size=(n, 3))]
    return x, np.eye(3)[rng.integers(0, 3, n)], rng.integers(0, 2, (n, 1)).astype(float)


CE, BCE = "categorical_crossentropy", "binary_crossentropy"
COMPILES = {
    "loss as str": {"loss": "mse"},
    "loss as list": {"loss": [CE, BCE]},
    "loss as dict": {"loss": {"bin": BCE, "cls": CE}},
    "loss_weights as list": {"loss": [CE, BCE], "loss_weights": [0.3, 2.0]},
    "metrics as list of lists": {"loss": [CE, BCE],
                                 "metrics": [["accuracy", "categorical_accuracy"], ["accuracy"]]},
    "metrics as list": {"loss": [CE, BCE], "metrics": ["accuracy", "binary_accuracy"]},
    "metrics as dict": {"loss": [CE, BCE], "metrics": {"bin": ["binary_accuracy"]}},
    "dict outputs": {"loss": {"bin": BCE, "cls": CE}, "loss_weights": {"bin": 0.5, "cls": 1.0},
                     "metrics": {"bin": "accuracy", "cls": ["accuracy"]}},
}


@pytest.mark.parametrize("case", COMPILES)
def test_history_keys_and_evaluate_as_keras(keras_env, case):
    """The same compile on the same graph and weights: the same History keys, the same
    ``evaluate`` list (order and values, float64), the same History values."""
    kwargs, dict_outputs = COMPILES[case], case == "dict outputs"
    x, y_cls, y_bin = two_heads_data()
    y = {"cls": y_cls, "bin": y_bin} if dict_outputs else [y_cls, y_bin]
    with keras_env.precision("float64"):
        ours, theirs = two_heads(mr, dict_outputs), two_heads(keras_env.keras, dict_outputs)
        theirs.set_weights(ours.get_weights())
        ours.compile(optimizer=mr.optimizers.SGD(0.1), **kwargs)
        theirs.compile(optimizer=keras_env.keras.optimizers.SGD(0.1), **kwargs)
        np.testing.assert_allclose(ours.evaluate(x, y, verbose=0),
                                   theirs.evaluate(x, y, verbose=0), rtol=1e-10)
        fit = {"epochs": 2, "batch_size": 8, "shuffle": False, "verbose": 0,
               "validation_data": (x, y)}
        history, keras_history = ours.fit(x, y, **fit).history, theirs.fit(x, y, **fit).history
    assert sorted(history) == sorted(keras_history)
    for key, values in keras_history.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-9, err_msg=key)


def test_dict_loss_weights_go_by_output_name(keras_env, float64):
    """``loss_weights={"bin": 0.5, "cls": 1.5}`` weighs each output's loss by its name.

    Keras 3.15 matches a dict of loss weights to a *list* of outputs in sorted key order
    (``bin``'s weight goes to the first output, ``cls``): a quirk minired does not copy.
    """
    x, y_cls, y_bin = two_heads_data()
    y = [y_cls, y_bin]
    model = two_heads(mr)
    model.compile(optimizer="sgd", loss=[CE, BCE], loss_weights={"bin": 0.5, "cls": 1.5})
    total, cls_loss, bin_loss = model.evaluate(x, y, verbose=0)
    assert total == pytest.approx(1.5 * cls_loss + 0.5 * bin_loss, rel=1e-12)
    theirs = two_heads(keras_env.keras)
    theirs.set_weights(model.get_weights())
    theirs.compile(optimizer="sgd", loss=[CE, BCE], loss_weights={"bin": 0.5, "cls": 1.5})
    keras_total, keras_cls, keras_bin = theirs.evaluate(x, y, verbose=0)
    assert (keras_cls, keras_bin) == pytest.approx((cls_loss, bin_loss), rel=1e-6)
    assert keras_total == pytest.approx(0.5 * cls_loss + 1.5 * bin_loss, rel=1e-6)


def test_loss_weights_weigh_each_outputs_gradient(float64):
    """∂(w₁L₁ + w₂L₂)/∂θ = w₁ ∂L₁/∂θ + w₂ ∂L₂/∂θ, with each ∂Lᵢ/∂θ from a compile that
    gives only output i a loss."""
    x, y_cls, y_bin = two_heads_data(8)
    model = two_heads(mr)

    def gradients(**compile_kwargs):
        model.compile(optimizer="sgd", **compile_kwargs)
        return model.loss_and_gradients(x, [y_cls, y_bin])

    _, only_cls = gradients(loss={"cls": CE})
    _, only_bin = gradients(loss={"bin": BCE})
    _, both = gradients(loss=[CE, BCE], loss_weights=[0.3, 2.0])
    for g, g_cls, g_bin in zip(both, only_cls, only_bin, strict=True):
        np.testing.assert_allclose(g, 0.3 * g_cls + 2.0 * g_bin, rtol=1e-12, atol=1e-15)
    assert_gradients_match(model, x, [y_cls, y_bin])


def test_fit_with_lists_or_dicts_gives_the_same_training():
    x, y_cls, y_bin = two_heads_data()
    histories = []
    for as_dicts in (False, True):
        mr.utils.set_random_seed(1)
        model = two_heads(mr)
        model.compile(optimizer="sgd", loss={"cls": CE, "bin": BCE}, metrics={"cls": ["accuracy"]})
        if as_dicts:
            data = ({"a": x[0], "b": x[1]}, {"cls": y_cls, "bin": y_bin})
        else:
            data = (x, [y_cls, y_bin])
        histories.append(model.fit(*data, epochs=2, batch_size=8, verbose=0,
                                   validation_data=data).history)
    assert histories[0] == histories[1]
    assert sorted(histories[0]) == ["bin_loss", "cls_accuracy", "cls_loss", "loss",
                                    "val_bin_loss", "val_cls_accuracy", "val_cls_loss",
                                    "val_loss"]


def test_an_output_without_a_loss_needs_no_targets_and_does_not_train_its_head():
    x, y_cls, y_bin = two_heads_data()
    model = two_heads(mr)
    model.compile(optimizer=mr.optimizers.SGD(0.1), loss={"cls": CE})
    lin_a = model.get_layer("lin_a").get_weights()
    for y in ({"cls": y_cls}, [y_cls, None]):
        history = model.fit(x, y, epochs=1, verbose=0)
        assert sorted(history.history) == ["loss"]
    for before, after in zip(lin_a, model.get_layer("lin_a").get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)      # only `bin` reads lin_a
    assert [p.shape for p in model.predict(x, verbose=0)] == [(20, 3), (20, 1)]


def test_evaluate_returns_the_loss_then_each_outputs_loss_then_metrics():
    x, y_cls, y_bin = two_heads_data()
    model = two_heads(mr)
    model.compile(optimizer="sgd", loss=[CE, BCE],
                  metrics=[["categorical_accuracy"], ["binary_accuracy"]])
    as_list = model.evaluate(x, [y_cls, y_bin], verbose=0)
    as_dict = model.evaluate(x, [y_cls, y_bin], verbose=0, return_dict=True)
    names = ["loss", "cls_loss", "bin_loss", "bin_binary_accuracy", "cls_categorical_accuracy"]
    assert sorted(as_dict) == sorted(names)
    assert as_list == [as_dict[name] for name in names]


@pytest.mark.parametrize(("x", "y", "match"), [
    ("one", "list", r"this model has 2 inputs \['a', 'b'\]: give `x` as a list of 2 arrays"),
    ("three", "list", r"this model has 2 inputs, but `x` is a list of 3 arrays"),
    ("dict missing", "list", r"`x` is a dict, so its keys must name the model's inputs "
                             r"\['a', 'b'\]; missing \['b'\]"),
    ("list", "one", r"`y` must give the targets of each of the 2 outputs \['cls', 'bin'\]"),
    ("list", "three", r"`y` must give the targets of each of the 2 outputs.*a list of 3"),
    ("list", "dict unknown", r"`y` is a dict, so its keys must name the model's outputs"),
    ("list", "dict missing", r"`y` is a dict, so its keys must name the model's outputs"),
    ("list", "None", r"`y\['bin'\]` is missing: output 'bin' has a loss, so it needs targets"),
    ("list", "short", r"`y\['bin'\]` must have one target per sample of x \(20\), got 5"),
])
def test_clear_errors_for_inputs_and_targets_that_do_not_fit(x, y, match):
    (xa, xb), y_cls, y_bin = two_heads_data()
    xs = {"one": xa, "three": [xa, xb, xb], "dict missing": {"a": xa}, "list": [xa, xb]}
    ys = {"one": y_cls, "three": [y_cls, y_bin, y_bin], "list": [y_cls, y_bin],
          "dict unknown": {"cls": y_cls, "bin": y_bin, "other": y_bin},
          "dict missing": {"cls": y_cls}, "None": [y_cls, None], "short": [y_cls, y_bin[:5]]}
    model = two_heads(mr)
    model.compile(optimizer="sgd", loss=[CE, BCE])
    with pytest.raises(ValueError, match=match):
        model.fit(xs[x], ys[y], verbose=0)
    with pytest.raises(ValueError, match=match):
        model.evaluate(xs[x], ys[y], verbose=0)
    with pytest.raises(ValueError, match=r"validation_data"):
        model.fit(xs["list"], ys["list"], verbose=0, validation_data=(xs[x], ys[y]))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"loss": {"cls": CE, "other": BCE}}, r"`loss` has keys \['other'\] that name no output"),
    ({"loss": [CE, BCE, CE]}, r"`loss` must have one entry per output \(2: \['cls', 'bin'\]\)"),
    ({"loss": [CE, BCE], "loss_weights": [1.0]}, r"`loss_weights` must have one entry per "
                                                  r"output"),
    ({"loss": [CE, BCE], "metrics": [["accuracy"]] * 3}, r"`metrics` must be a list with one "
                                                          r"entry .* per output"),
])
def test_compile_errors_for_several_outputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        two_heads(mr).compile(optimizer="sgd", **kwargs)


# -- the Keras functional-API guide, written against `keras.` names --------------------------------
#
# keras.io/guides/functional_api, with `keras` the minired module. Parts that need layers
# minired does not have are adapted as the comments say: the encoder's Conv2DTranspose stack
# becomes Dense, Embedding + LSTM become a Dense on bag-of-words vectors, Embedding becomes
# a Dense on variable-length sequences of vectors. The toy ResNet runs as written.

def guide_mnist_model(keras):
    layers = keras.layers
    inputs = keras.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def test_guide_introduction_and_training(capsys):
    keras = mr
    inputs = keras.Input(shape=(784,))
    img_inputs = keras.Input(shape=(32, 32, 3))
    assert inputs.shape == (None, 784) and inputs.dtype == "float32"
    assert img_inputs.shape == (None, 32, 32, 3)
    model = guide_mnist_model(keras)
    model.summary()
    assert 'Model: "mnist_model"' in capsys.readouterr().out
    # MNIST's shapes, random values, few samples.
    rng = np.random.default_rng(0)
    x_train = rng.random((300, 784)).astype("float32")
    y_train = rng.integers(0, 10, 300)
    x_test, y_test = x_train[:50], y_train[:50]
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2,
                        verbose=0)
    test_scores = model.evaluate(x_test, y_test, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(test_scores) == 2 and 0 <= test_scores[1] <= 1
    assert model.predict(x_test, verbose=0).shape == (50, 10)


def guide_toy_resnet(keras):
    """"A toy ResNet model", as the guide writes it."""
    layers = keras.layers
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])

    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)

    return keras.Model(inputs, outputs, name="toy_resnet")


def test_guide_toy_resnet(capsys, keras_env):
    """The guide's toy ResNet: Keras' summary (223,242 parameters), the same predictions as
    Keras on the same weights, and a short fit as the guide runs it (CIFAR-10's shapes,
    random values: nothing is downloaded)."""
    keras = mr
    model = guide_toy_resnet(keras)
    model.summary()
    printed = capsys.readouterr().out
    assert "Total params: 223,242" in printed and "(None, 9, 9, 64)" in printed
    twin = guide_toy_resnet(keras_env.keras)
    twin.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    x_train = rng.random((120, 32, 32, 3)).astype("float32")
    y_train = keras.utils.to_categorical(rng.integers(0, 10, 120), 10)
    # float32: seven convolutions, each summing 288-576 products in another order than
    # TensorFlow's kernels (the comparisons check the layers to 1e-5; float64 to 1e-10).
    ours, theirs = model.predict(x_train[:8], verbose=0), twin.predict(x_train[:8], verbose=0)
    assert np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)) < 1e-5
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=["acc"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, validation_split=0.2,
                        verbose=0)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]


def guide_encoder_and_autoencoder(keras):
    """"Use the same graph of layers to define multiple models" (Dense for Conv/Pooling)."""
    layers = keras.layers
    encoder_input = keras.Input(shape=(64,), name="img")
    x = layers.Dense(32, activation="relu")(encoder_input)
    x = layers.Dense(16, activation="relu")(x)
    encoder_output = layers.Dense(8, activation="relu")(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    x = layers.Dense(16, activation="relu")(encoder_output)
    x = layers.Dense(32, activation="relu")(x)
    decoder_output = layers.Dense(64, activation="relu")(x)
    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    return encoder, autoencoder


def test_guide_same_graph_of_layers_for_two_models():
    encoder, autoencoder = guide_encoder_and_autoencoder(mr)
    assert autoencoder.layers[:4] == encoder.layers              # the same layer objects
    x = np.random.default_rng(0).random((32, 64)).astype("float32")
    autoencoder.compile(optimizer="adam", loss="mse")
    autoencoder.fit(x, x, epochs=2, verbose=0)
    assert encoder.predict(x, verbose=0).shape == (32, 8)
    assert autoencoder.predict(x, verbose=0).shape == (32, 64)


def guide_models_are_callable(keras):
    """"All models are callable, just like layers": encoder, decoder, autoencoder."""
    layers = keras.layers
    encoder_input = keras.Input(shape=(64,), name="original_img")
    x = layers.Dense(32, activation="relu")(encoder_input)
    encoder_output = layers.Dense(8, activation="relu")(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(8,), name="encoded_img")
    x = layers.Dense(32, activation="relu")(decoder_input)
    decoder_output = layers.Dense(64, activation="relu")(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(64,), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    return encoder, decoder, autoencoder


def guide_ensemble(keras):
    """The guide's ensembling: three models averaged."""
    layers = keras.layers

    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    return keras.Model(inputs=inputs, outputs=outputs)


def test_guide_models_are_callable_like_layers():
    encoder, decoder, autoencoder = guide_models_are_callable(mr)
    assert [layer.name for layer in autoencoder.layers] == ["img", "encoder", "decoder"]
    x = np.random.default_rng(0).random((32, 64)).astype("float32")
    autoencoder.compile(optimizer="adam", loss="mse")
    autoencoder.fit(x, x, epochs=2, verbose=0)
    np.testing.assert_allclose(autoencoder.predict(x, verbose=0), decoder(encoder(x)), rtol=1e-5)
    ensemble_model = guide_ensemble(mr)
    assert ensemble_model.predict(np.ones((4, 128)), verbose=0).shape == (4, 1)
    assert len(ensemble_model.get_weights()) == 6


def test_guide_models_are_callable_like_layers_as_keras(keras_env):
    """The same code with Keras and the same weights: the same predictions."""
    with keras_env.precision("float64"):
        for build in (lambda k: guide_models_are_callable(k)[2], guide_ensemble):
            ours, theirs = build(mr), build(keras_env.keras)
            theirs.set_weights(ours.get_weights())
            x = np.random.default_rng(1).random((6, ours.input_shape[1]))
            np.testing.assert_allclose(ours.predict(x, verbose=0),
                                       theirs.predict(x, verbose=0), rtol=1e-12)


def guide_ticket_model(keras, num_tags=12, num_words=100, num_departments=4):
    """"Models with multiple inputs and outputs": title and body are bag-of-words vectors
    through a Dense (the guide: Embedding + LSTM on sequences of word ids)."""
    layers = keras.layers
    title_input = keras.Input(shape=(num_words,), name="title")
    body_input = keras.Input(shape=(num_words,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")  # Binary vectors of size `num_tags`

    title_features = layers.Dense(16, activation="relu")(title_input)
    body_features = layers.Dense(8, activation="relu")(body_input)

    # Merge all available features into a single large vector via concatenation
    x = layers.concatenate([title_features, body_features, tags_input])

    # Stick a logistic regression for priority prediction on top of the features
    priority_pred = layers.Dense(1, name="priority")(x)
    # Stick a department classifier on top of the features
    department_pred = layers.Dense(num_departments, name="department")(x)

    # Instantiate an end-to-end model predicting both priority and department
    return keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs=[priority_pred, department_pred],
    )


def ticket_data(num_tags=12, num_words=100, num_departments=4, n=128, one_hot=False):
    """The guide's dummy data (its department targets are random 0/1 vectors; with
    ``one_hot`` each sample gets one department)."""
    rng = np.random.default_rng(0)
    title_data = rng.integers(0, 2, size=(n, num_words)).astype("float32")
    body_data = rng.integers(0, 2, size=(n, num_words)).astype("float32")
    tags_data = rng.integers(0, 2, size=(n, num_tags)).astype("float32")
    priority_targets = rng.random(size=(n, 1))
    dept_targets = rng.integers(0, 2, size=(n, num_departments))
    if one_hot:
        dept_targets = np.eye(num_departments)[rng.integers(0, num_departments, n)]
    return (title_data, body_data, tags_data), (priority_targets, dept_targets)


def test_guide_multiple_inputs_and_outputs():
    keras = mr
    model = guide_ticket_model(keras)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.BinaryCrossentropy(from_logits=True),
            keras.losses.CategoricalCrossentropy(from_logits=True),
        ],
        loss_weights=[1.0, 0.2],
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    (title_data, body_data, tags_data), (priority_targets, dept_targets) = ticket_data()
    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
        verbose=0,
    )
    assert sorted(history.history) == ["department_loss", "loss", "priority_loss"]
    priority, department = model.predict([title_data, body_data, tags_data], verbose=0)
    assert priority.shape == (128, 1) and department.shape == (128, 4)


def test_guide_multiple_inputs_and_outputs_as_keras(keras_env):
    """The ticket model in Keras with the same weights and the list form of compile: the
    same training, epoch by epoch (float64).

    One department per ticket: with several, TensorFlow's gradient of a cross-entropy from
    logits is p - y, which assumes Σy = 1, where minired's is the true gradient p·Σy - y.
    Keras' dict of loss weights: see test_dict_loss_weights_go_by_output_name.
    """
    (title_data, body_data, tags_data), (priority_targets, dept_targets) = ticket_data(
        one_hot=True)
    x, y = [title_data, body_data, tags_data], [priority_targets, dept_targets]
    histories = []
    with keras_env.precision("float64"):
        ours, theirs = guide_ticket_model(mr), guide_ticket_model(keras_env.keras)
        theirs.set_weights(ours.get_weights())
        for lib, net in ((mr, ours), (keras_env.keras, theirs)):
            net.compile(optimizer=lib.optimizers.RMSprop(1e-3),
                        loss=[lib.losses.BinaryCrossentropy(from_logits=True),
                              lib.losses.CategoricalCrossentropy(from_logits=True)],
                        loss_weights=[1.0, 0.2])
            histories.append(net.fit(x, y, epochs=2, batch_size=32, shuffle=False,
                                     verbose=0).history)
    for key, values in histories[1].items():
        np.testing.assert_allclose(histories[0][key], values, rtol=1e-8, err_msg=key)


def test_guide_shared_layers():
    """A layer shared by two inputs (the guide shares an Embedding between two sequences of
    word ids; here a Dense between two variable-length sequences of word vectors)."""
    keras, layers = mr, mr.layers
    # Dense mapping 16-dimensional word vectors to 128-dimensional vectors
    shared_dense = layers.Dense(128)

    # Variable-length sequence of vectors
    text_input_a = keras.Input(shape=(None, 16))
    # Variable-length sequence of vectors
    text_input_b = keras.Input(shape=(None, 16))

    # Reuse the same layer to encode both inputs
    encoded_input_a = shared_dense(text_input_a)
    encoded_input_b = shared_dense(text_input_b)
    assert encoded_input_a.shape == encoded_input_b.shape == (None, None, 128)
    model = keras.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])
    assert len(model.get_weights()) == 2
    a, b = model.predict([np.ones((2, 5, 16)), np.ones((2, 7, 16))], verbose=0)
    assert a.shape == (2, 5, 128) and b.shape == (2, 7, 128)
    np.testing.assert_array_equal(a[:, 0], b[:, 0])


def test_guide_extract_and_reuse_nodes():
    """Feature extraction from every layer (the guide uses VGG19; here the MNIST model)."""
    keras = mr
    model = guide_mnist_model(keras)
    features_list = [layer.output for layer in model.layers]
    feat_extraction_model = keras.Model(inputs=model.input, outputs=features_list)
    img = np.random.random((1, 784)).astype("float32")
    extracted_features = feat_extraction_model(img)
    assert [f.shape for f in extracted_features] == [(1, 784), (1, 64), (1, 64), (1, 10)]
    np.testing.assert_allclose(extracted_features[-1], model(img), rtol=1e-6)


def test_guide_input_is_checked_while_the_graph_is_defined():
    """"Model validation while defining its connectivity graph": a layer checks what it is
    called on, so a model that builds runs."""
    keras, layers = mr, mr.layers
    inputs = keras.Input(shape=(32,))
    x = layers.Dense(64, activation="relu")(inputs)
    dense = layers.Dense(10)
    outputs = dense(x)
    keras.Model(inputs, outputs)
    with pytest.raises(ValueError, match=re.escape("expected axis -1 of input shape to have "
                                                   "value 64")):
        dense(inputs)


@pytest.mark.parametrize("copy_model", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))],
                         ids=["deepcopy", "pickle"])
@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_a_copy_reads_the_logits_of_its_softmax_as_the_original(copy_model, kind):
    # The loss reads the softmax's logits z (δz = p - y, see Trainer._output_loss); the call
    # that makes an output is found through an index keyed by the tensors' id(), which a
    # copy's tensors do not share: the copy rebuilds it, and computes the original's numbers.
    mr.utils.set_random_seed(0)
    if kind == "functional":
        inputs = mr.Input((4,))
        outputs = Dense(3, activation="softmax")(Dense(5, activation="tanh")(inputs))
        model = mr.Model(inputs, outputs)
    else:
        model = mr.Sequential([mr.Input((4,)), Dense(5, activation="tanh"),
                               Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=16)]
    clone = copy_model(model)
    for m in (model, clone):
        m.forward(x, training=True)
        assert m._logits_call(0, m.loss, training=True) == len(m.calls) - 1   # the softmax
    (loss, grads), (clone_loss, clone_grads) = (m.loss_and_gradients(x, y)
                                                for m in (model, clone))
    assert loss == clone_loss
    for ours, theirs in zip(grads, clone_grads, strict=True):
        np.testing.assert_array_equal(ours, theirs)
