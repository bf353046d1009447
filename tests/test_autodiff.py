"""The tape (minired.autodiff), and layers and models written with ``call()`` on it.

Gradient checks run in float64 against central finite differences (mr.gradcheck), with
the project's bound of 1e-6 in relative error per array.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minired as mr
from minired import ops
from minired.autodiff import GradientTape, Tensor
from tests.strategies import STEP, TOLERANCE, arrays, gradient_settings, nonzero_arrays


# -- the tape --------------------------------------------------------------------------------
def test_a_value_read_twice_gets_the_sum_of_its_contributions(float64):
    with GradientTape() as tape:
        x = tape.watch(np.array([1.0, -2.0, 3.0]))
        y = ops.sum(x * x + x)            # x is read three times: 2x + 1
    np.testing.assert_array_equal(tape.gradient(y, x), [3.0, -3.0, 7.0])


def test_a_broadcast_operand_gets_the_sum_over_the_broadcast_axes(float64):
    with GradientTape() as tape:
        z = tape.watch(np.arange(6.0).reshape(3, 2))
        b = tape.watch(np.array([10.0, 20.0]))
        c = tape.watch(np.array([[1.0], [2.0], [3.0]]))
        out = (z + b) * c
    grad_b, grad_c = tape.gradient(out, [b, c])
    np.testing.assert_array_equal(grad_b, [6.0, 6.0])                       # Σ over rows of c
    np.testing.assert_array_equal(grad_c, [[31.0], [35.0], [39.0]])         # Σ of each row


def test_an_unused_source_gets_zeros_and_seeds_are_used(float64):
    with GradientTape() as tape:
        x = tape.watch(np.ones(3))
        unused = tape.watch(np.ones((2, 2)))
        y = 2.0 * x
    grad_x, grad_unused = tape.gradient(y, [x, unused], output_gradient=np.array([1.0, 2, 3]))
    np.testing.assert_array_equal(grad_x, [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(grad_unused, np.zeros((2, 2)))


def test_the_tape_matches_the_hand_derived_dense_backward(float64):
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    delta = rng.normal(size=(4, 2))
    with GradientTape() as tape:
        xs, Ws, bs = tape.watch(x), tape.watch(W), tape.watch(b)
        y = ops.tanh(ops.matmul(xs, Ws) + bs)
    grad_x, grad_W, grad_b = tape.gradient(y, [xs, Ws, bs], output_gradient=delta)
    delta_z = delta * (1 - np.tanh(x @ W + b) ** 2)
    np.testing.assert_allclose(grad_W, x.T @ delta_z, rtol=1e-13)
    np.testing.assert_allclose(grad_b, delta_z.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(grad_x, delta_z @ W.T, rtol=1e-13)


def test_outside_a_tape_everything_is_a_plain_array():
    w = mr.Variable(np.ones((2, 2)))
    for value in (ops.matmul(np.ones((1, 2)), w), w + 1, np.exp(w), ops.sum(w)):
        assert type(value) is np.ndarray


def test_numpy_calls_on_recorded_arrays_are_recorded_or_refused(float64):
    with GradientTape() as tape:
        x = tape.watch(np.array([[1.0, 2.0], [3.0, 4.0]]))
        y = np.sum(np.exp(x).T[0] * 2.0)          # np.sum, np.exp, .T, [0]: all recorded
        with pytest.raises(TypeError, match="not differentiable by minired's tape"):
            np.fft.fft(x)
        with pytest.raises(TypeError, match="NumPy method minired's tape does not follow"):
            ops.sum(x.view() * 2.0)
        with pytest.raises(TypeError, match="in-place"):
            np.add(x, 1.0, out=x)
        z = x
        z += 1.0                                  # rebinds, as on a TensorFlow tensor
    assert isinstance(y, Tensor) and z is not x and float(x[0, 0]) == 1.0
    np.testing.assert_allclose(tape.gradient(y, x), [[2 * np.e, 0.0], [2 * np.e ** 3, 0.0]])


def test_a_variable_assigns_in_place_and_refuses_a_new_shape():
    w = mr.Variable(np.zeros(3), name="w")
    w.assign_add(np.ones(3))
    w.assign_sub(np.full(3, 0.5))
    assert w.tolist() == [0.5, 0.5, 0.5] and w.name == "w"
    with pytest.raises(ValueError, match="must match"):
        w.assign(np.zeros(4))
    with pytest.raises(ValueError, match="`shape` argument should be specified"):
        mr.Variable("zeros")


# -- layers written with call ----------------------------------------------------------------
class Linear(mr.layers.Layer):
    """``a = x W + b``, written with ops."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", name="b")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class Block(mr.layers.Layer):
    """A taped layer mixing ops, a built-in Dense called twice (shared), a taped sublayer
    and an added loss: every way gradients reach a weight."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.inner = Linear(units)
        self.dense = mr.layers.Dense(units, activation="tanh")

    def call(self, inputs):
        h = ops.tanh(self.inner(inputs))
        self.add_loss(0.1 * ops.mean(ops.square(h)))
        return self.dense(self.dense(h) * h) + ops.sum(inputs, axis=-1, keepdims=True)


@given(x=nonzero_arrays((3, 4), low=0.1), seed=st.integers(0, 1000), units=st.integers(1, 3))
@gradient_settings
def test_a_taped_layer_passes_the_gradient_check(float64, x, seed, units):
    mr.utils.set_random_seed(seed)
    layer = Block(units)
    results = mr.gradcheck.check_layer(layer, x, h=STEP)
    assert len(results) == 1 + 4                   # inputs; inner w, b; dense kernel, bias
    assert max(r.relative_error for r in results) < TOLERANCE, results


class Residual(mr.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = Block(3)
        self.head = mr.layers.Dense(2)
        self.scale = mr.Variable(np.array(0.5), name="scale")

    def call(self, inputs, training=False):
        return self.head(self.block(inputs)) * self.scale + inputs[:, :2]


# Inputs of at least 0.1 in size: the first weights' gradient is proportional to x, and a
# central difference cannot resolve a gradient of 1e-7 (its rounding noise is ~1e-11).
@given(x=nonzero_arrays((5, 3), low=0.1), y=arrays((5, 2)), seed=st.integers(0, 1000))
@gradient_settings
def test_a_subclassed_model_passes_the_gradient_check(float64, x, y, seed):
    mr.utils.set_random_seed(seed)
    model = Residual()
    model.compile(optimizer="sgd", loss="mse")
    results = mr.gradcheck.check_model(model, x, y, h=STEP)
    assert len(results) == 7 and max(r.relative_error for r in results) < TOLERANCE, results


def test_weights_are_ordered_as_keras_orders_them(float64):
    model = Residual()
    model(np.zeros((1, 3)))
    names = [getattr(w, "name", None) for w in model.weights]
    assert names == ["scale", "w", "b", None, None, None, None]   # own, then sublayers
    assert model.layers == [model.block, model.head]


def test_layer_calls_inside_call_are_replayed_with_their_own_cache(float64):
    """The shared Dense inside Block runs twice per call; each of its records keeps its own
    cache, so its backward sees the right inputs (else the check above would fail)."""
    layer = Block(2)
    layer(np.ones((2, 4)))
    records = [r for r in layer.cache.tape.records if len(r.inputs) == 3]   # x, kernel, bias
    assert len(records) == 2


def test_a_custom_training_loop_with_the_tape_equals_fit_s_gradients(float64):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    model = Residual()
    model.compile(optimizer="sgd", loss="mse")
    loss, grads = model.loss_and_gradients(x, y)
    loss_fn = mr.losses.MeanSquaredError()
    with GradientTape() as tape:
        prediction = model(x)
        value = loss_fn(y, prediction) + sum(model.losses)
    tape_grads = tape.gradient(value, model.trainable_weights)
    assert float(value) == pytest.approx(loss, rel=1e-14)
    for a, b in zip(tape_grads, grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


class Counter(mr.layers.Layer):
    def build(self, input_shape):
        self.seen = self.add_weight(shape=(), initializer="zeros", trainable=False)
        self.gain = self.add_weight(shape=(), initializer="ones")

    def call(self, inputs, training=False):
        if training:
            self.seen.assign_add(ops.shape(inputs)[0])
        return inputs * self.gain


def test_non_trainable_weights_are_left_to_the_layer_and_trainable_false_freezes(float64):
    inputs = mr.Input((2,))
    counter = Counter()
    model = mr.Model(inputs, mr.layers.Dense(1)(counter(inputs)))
    assert float(counter.seen) == 0.0          # inferring the output shape changed nothing
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((10, 2)), np.ones((10, 1)), batch_size=4, epochs=2, verbose=0)
    assert float(counter.seen) == 20.0 and len(model.trainable_weights) == 3
    counter.trainable = False
    gain = float(counter.gain)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((10, 2)), np.zeros((10, 1)), epochs=1, verbose=0)
    assert float(counter.gain) == gain and len(model.trainable_weights) == 2


class DropoutInside(mr.Model):
    def __init__(self):
        super().__init__()
        self.dropout = mr.layers.Dropout(0.5)

    def call(self, inputs):                      # no `training` argument: it is passed down
        return self.dropout(inputs)


def test_training_reaches_the_layers_a_call_uses():
    model = DropoutInside()
    x = np.ones((50, 4), dtype="float32")
    assert np.array_equal(model(x), x)
    assert np.mean(model(x, training=True) == 0) > 0.2


def test_a_subclassed_model_trains_as_the_same_sequential_model(float64):
    """The same layers, seeds and data: the tape through call() and the Sequential's own
    backward give the same epochs. Both losses read the softmax's logits, as Keras on
    TensorFlow does (reading the clipped probabilities differs by ~1e-8 here)."""

    class Net(mr.Model):
        def __init__(self):
            super().__init__(name="net")
            self.hidden = mr.layers.Dense(16, activation="relu")
            self.out = mr.layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 2))
    y = np.digitize(x[:, 0] + x[:, 1], [-0.5, 0.5])        # three bands: classes 0, 1, 2
    histories, evaluations = [], []
    for make in (Net, lambda: mr.Sequential([mr.Input((2,)), mr.layers.Dense(16, "relu"),
                                             mr.layers.Dense(3, "softmax")])):
        mr.utils.set_random_seed(0)
        model = make()
        model.compile(optimizer=mr.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        histories.append(model.fit(x, y, epochs=10, batch_size=16, verbose=0).history)
        evaluations.append(model.evaluate(x, y, verbose=0) + [model.predict(x, verbose=0)])
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=1e-13)
    assert histories[0]["accuracy"] == histories[1]["accuracy"]
    assert histories[0]["accuracy"][-1] > 0.9
    np.testing.assert_allclose(evaluations[0][0], evaluations[1][0], rtol=1e-13)
    np.testing.assert_allclose(evaluations[0][2], evaluations[1][2], rtol=1e-13)


def test_mistakes_get_clear_errors():
    with pytest.raises(TypeError, match="subclass mr.Model and write its call"):
        mr.Model()

    class TwoOutputs(mr.Model):
        def call(self, inputs):
            return [inputs, inputs]

    model = TwoOutputs()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="targets of each of the 2 outputs"):
        model.fit(np.ones((2, 2)), np.ones((2, 2)), verbose=0)
    with pytest.raises(ValueError, match="overwrite_with_gradient"):
        mr.layers.Layer().add_weight(shape=(2,), overwrite_with_gradient=True)
    with pytest.raises(NotImplementedError, match="does not have a `call\\(\\)`"):
        mr.layers.Layer().call(np.ones(2))


def test_the_gradient_with_respect_to_an_intermediate_value(float64):
    """As TensorFlow's tape: an op's output can be a source too."""
    with GradientTape() as tape:
        x = tape.watch(np.array([1.0, 2.0]))
        y = x * 3
        loss = ops.sum(y * y)
    grad_y, grad_x = tape.gradient(loss, [y, x])
    np.testing.assert_array_equal(grad_y, [6.0, 12.0])
    np.testing.assert_array_equal(grad_x, [18.0, 36.0])
