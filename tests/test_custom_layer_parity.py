"""Custom layers behave as in Keras (found by running the keras-io guides):

- calling ``build`` by hand marks the layer built (Keras' ``build_wrapper``);
- a subclass of a built-in layer that overrides ``call`` runs that ``call``, and its
  gradients are right (the tape records ``super().call(x)`` as one operation);
- a layer's ``call`` takes several tensors and plain keyword arguments, eager and in a
  functional model, with a gradient for every tensor argument.

The Keras numbers are computed in the tests with real Keras (``keras_env``).
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer, numerical_gradient, relative_error


@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


# -- 1. build() by hand -------------------------------------------------------------------------
class MyDense(mr.layers.Layer):
    """The guide's layer: its build does not call super().build."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones")

    def call(self, x):
        return mr.ops.matmul(x, self.kernel)


def test_calling_build_by_hand_marks_the_layer_built_and_records_the_shape():
    layer = MyDense(4)
    layer.build((None, 3))
    assert layer.built                                        # Keras: True
    assert layer.get_build_config() == {"input_shape": (None, 3)}
    layer(np.ones((2, 3), "float32"))
    assert len(layer.weights) == 1                            # not built a second time


def test_a_built_in_layer_built_by_hand_is_unchanged():
    dense = mr.layers.Dense(2)
    dense.build((None, 3))
    assert dense.built and dense.input_shape == (None, 3) and len(dense.weights) == 2


def test_a_failing_build_leaves_the_layer_unbuilt():
    class Broken(mr.layers.Layer):
        def build(self, input_shape):
            raise ValueError("no")

    layer = Broken()
    with pytest.raises(ValueError, match="no"):
        layer.build((None, 3))
    assert not layer.built


# -- 2. a built-in layer whose call is overridden -----------------------------------------------
class ShiftedDense(mr.layers.Dense):
    def call(self, x):
        return super().call(x) + 100.0


def test_an_overridden_call_runs_eager_functional_and_in_a_subclassed_model():
    x = np.ones((1, 2), "float32")
    assert ShiftedDense(1, kernel_initializer="ones")(x)[0, 0] == 102.0     # Keras: 102

    inputs = mr.Input((2,))
    model = mr.Model(inputs, ShiftedDense(1, kernel_initializer="ones")(inputs))
    assert model.predict(x, verbose=0)[0, 0] == 102.0

    class Wrapper(mr.Model):
        def __init__(self):
            super().__init__()
            self.shifted = ShiftedDense(1, kernel_initializer="ones")

        def call(self, x):
            return self.shifted(x)

    assert Wrapper().predict(x, verbose=0)[0, 0] == 102.0


def test_a_plain_dense_keeps_its_hand_written_passes():
    dense = mr.layers.Dense(2)
    assert not dense._uses_call() and type(dense).forward is mr.layers.Dense.forward
    assert ShiftedDense(2)._uses_call()


def test_an_overridden_call_has_the_right_gradients(float64):
    layer = ShiftedDense(3, activation="tanh")
    x = np.random.default_rng(0).standard_normal((4, 2))
    assert np.all(layer(x) > 98.0)               # tanh(z) + 100: the overriding call ran
    results = check_layer(layer, x)
    assert [r.name.split("/")[1] for r in results] == ["inputs", "weight_0", "weight_1"]
    assert max(r.relative_error for r in results) < 1e-6


def test_an_overridden_call_matches_keras_forward_and_gradients(keras_env):
    keras, tf = keras_env.keras, keras_env.tf

    class KerasShiftedDense(keras.layers.Dense):
        def call(self, x):
            return super().call(x) + 100.0

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    with keras_env.precision("float64"):
        ours, theirs = ShiftedDense(2, activation="tanh"), KerasShiftedDense(2, "tanh")
        ours.build((None, 3))
        theirs.build((None, 3))
        theirs.set_weights(ours.get_weights())
        ours_model = mr.Sequential([mr.Input((3,)), ours])
        ours_model.compile(optimizer="sgd", loss="mse")
        ours_model.zero_gradients()
        prediction = ours_model.forward(x, training=True)
        ours_model.backward(2 * (prediction - y) / y.size)           # ∂mse/∂ŷ
        with tf.GradientTape() as tape:
            keras_prediction = theirs(x)
            loss = tf.reduce_mean((keras_prediction - y) ** 2)
        keras_gradients = tape.gradient(loss, theirs.trainable_weights)
    np.testing.assert_allclose(prediction, keras_prediction.numpy(), rtol=1e-12)
    for gradient, keras_gradient in zip(ours.gradients, keras_gradients, strict=True):
        np.testing.assert_allclose(gradient, keras_gradient.numpy(), rtol=1e-10, atol=1e-14)


def test_a_dense_subclass_is_made_from_its_config():
    class Plain(mr.layers.Dense):
        pass

    layer = Plain.from_config(Plain(3).get_config())
    assert type(layer) is Plain and layer.units == 3


def test_a_dense_subclass_lists_its_own_variable_first_as_keras(keras_env):
    keras = keras_env.keras

    def make(library):
        class DenseWithVar(library.layers.Dense):
            def __init__(self, units, **kwargs):
                super().__init__(units, **kwargs)
                self.my_variable = library.Variable(np.zeros((units,)), name="my_variable",
                                                    dtype="float32")

        layer = DenseWithVar(2)
        layer.build((None, 3))
        return [tuple(np.shape(w)) for w in layer.weights]

    assert make(mr) == make(keras) == [(2,), (3, 2), (2,)]


# -- 3. a call of several arguments -------------------------------------------------------------
class AddTwo(mr.layers.Layer):
    def call(self, a, b):
        return a * b + b


class Scale(mr.layers.Layer):
    def call(self, x, factor=2.0):
        return x * factor


def test_a_call_takes_several_tensors_and_keyword_arguments_eager():
    a, b = np.full((1, 3), 2.0, "float32"), np.ones((1, 3), "float32")
    np.testing.assert_array_equal(AddTwo()(a, b), [[3.0, 3.0, 3.0]])
    np.testing.assert_array_equal(AddTwo()(a, b=b), [[3.0, 3.0, 3.0]])
    np.testing.assert_array_equal(Scale()(b, factor=3.0), [[3.0, 3.0, 3.0]])
    np.testing.assert_array_equal(Scale()(b), [[2.0, 2.0, 2.0]])


def test_a_call_of_several_arguments_matches_keras_in_a_functional_model(keras_env):
    keras = keras_env.keras

    class KerasAddTwo(keras.layers.Layer):
        def call(self, a, b):
            return a * b + b

    class KerasScale(keras.layers.Layer):
        def call(self, x, factor=2.0):
            return x * factor

    def build(library, add_two, scale):
        i1, i2 = library.Input((3,)), library.Input((3,))
        return library.Model([i1, i2], scale(add_two(i1, b=i2), factor=3.0))

    rng = np.random.default_rng(2)
    x = [rng.standard_normal((4, 3)).astype("float32") for _ in range(2)]
    ours, theirs = build(mr, AddTwo(), Scale()), build(keras, KerasAddTwo(), KerasScale())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-6)
    nodes = [layer["inbound_nodes"] for layer in ours.get_config()["layers"][2:]]
    keras_nodes = [layer["inbound_nodes"] for layer in theirs.get_config()["layers"][2:]]
    assert [n[0]["kwargs"].keys() for n in nodes] == [n[0]["kwargs"].keys()
                                                       for n in keras_nodes]
    assert nodes[1][0]["kwargs"]["factor"] == 3.0
    again = mr.Model.from_config(ours.get_config(), custom_objects={"AddTwo": AddTwo,
                                                                    "Scale": Scale})
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0))


def test_each_tensor_argument_gets_its_gradient(float64):
    from minired.autodiff.layer_calls import CallArguments

    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    upstream = rng.standard_normal((4, 3))
    layer = AddTwo()
    arguments = CallArguments((a, b), {})

    def f() -> float:
        return float(np.sum(layer.forward(arguments) * upstream))

    f()
    grad_a, grad_b = layer.backward(upstream)
    np.testing.assert_allclose(grad_a, upstream * b)                 # ∂(ab + b)/∂a = b
    assert relative_error(grad_a, numerical_gradient(f, a)) < 1e-6
    assert relative_error(grad_b, numerical_gradient(f, b)) < 1e-6


def test_a_functional_model_backpropagates_to_every_tensor_argument(float64):
    i1, i2 = mr.Input((3,)), mr.Input((3,))
    model = mr.Model([i1, i2], Scale()(AddTwo()(i1, i2), factor=3.0))
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    model.forward([a, b])
    grad_a, grad_b = model.backward(np.ones((2, 3)))
    np.testing.assert_allclose(grad_a, 3.0 * b)
    np.testing.assert_allclose(grad_b, 3.0 * (a + 1.0))


def test_plain_values_cannot_be_positional_as_in_keras():
    with pytest.raises(ValueError, match="Only input tensors may be passed as positional"):
        Scale()(np.ones((1, 3)), 3.0)
    with pytest.raises(ValueError, match="Only input tensors may be passed as positional"):
        mr.layers.Dense(2)(np.ones((1, 3)), True)


def test_wrong_arguments_name_the_call():
    with pytest.raises(TypeError, match=r"Scale.call\(self, x, factor=2.0\) cannot take"):
        Scale()(np.ones((1, 3)), size=3.0)
    with pytest.raises(TypeError, match="is called on one input"):
        mr.layers.Dense(2)(np.ones((1, 3)), np.ones((1, 3)))


def test_training_is_passed_to_a_call_that_takes_it():
    class Seen(mr.layers.Layer):
        def call(self, x, scale=1.0, training=None):
            return x * scale + (1.0 if training else 0.0)

    x = np.zeros((1, 2), "float32")
    np.testing.assert_array_equal(Seen()(x, scale=2.0, training=True), [[1.0, 1.0]])
    np.testing.assert_array_equal(Seen()(x, scale=2.0), [[0.0, 0.0]])


class ScaleWithCounter(mr.layers.Layer):
    """``x · w``, one weight per feature, and a counter that does not train (picklable:
    defined at module level)."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        self.counter = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                       name="counter")

    def call(self, x):
        return x * self.w


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_model_with_your_layer_keeps_its_variables_and_trains_as_the_original(how):
    """NumPy copies only the numbers of an array subclass: a Variable's name, ``trainable``
    and gradient buffer must travel with them, or the copy cannot train its own layer."""
    import copy
    import pickle

    inputs = mr.Input((3,))
    model = mr.Model(inputs, mr.layers.Dense(1)(ScaleWithCounter()(inputs)))
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.default_rng(0).normal(size=(2, 8, 3)).astype("float32")[0], np.ones((8, 1))
    model.fit(x, y, epochs=1, verbose=0)
    twin = copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model))
    layer, twin_layer = model.layers[1], twin.layers[1]
    assert [(v.name, v.trainable) for v in twin_layer.weights] == [("w", True), ("counter", False)]
    assert twin_layer.w is not layer.w and twin_layer.w.gradient is not layer.w.gradient
    for m in (model, twin):
        m.fit(x, y, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
