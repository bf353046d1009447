"""A function of yours where Keras takes a callable: an activation.

``Dense(1, activation=f)`` with ``def f(x): return ops.tanh(x) ** 2``: the forward is ``f``,
the backward comes from the tape (:mod:`minired.activations.custom`). Checked against finite
differences (float64) and against Keras itself, for the same weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_function, check_layer


def squashed_with(ops):
    """``f(x) = tanh(x)²`` written with ``ops`` (``mr.ops`` or ``keras.ops``)."""
    def squashed(x):
        return ops.tanh(x) ** 2
    return squashed


def bump(x):
    """``f(x) = x·e^{-x²} + sin(x)``, written with NumPy ufuncs and operators."""
    return x * np.exp(-x * x) + np.sin(x)


def bump_with(ops):
    def bump(x):
        return x * ops.exp(-x * x) + ops.sin(x)
    return bump


squashed = squashed_with(mr.ops)


@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


# -- finite differences --------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [squashed, bump], ids=["mr.ops", "numpy"])
def test_the_tape_gives_the_derivative_of_a_function_of_yours(float64, fn):
    z = np.random.default_rng(0).normal(size=(5, 4)) * 2
    f = mr.activations.get(fn)
    assert check_function(f, f.backward, z).relative_error < 1e-8


@pytest.mark.parametrize("fn", [squashed, bump], ids=["mr.ops", "numpy"])
def test_dense_with_a_custom_activation_passes_the_gradient_check(float64, fn):
    x = np.random.default_rng(1).normal(size=(6, 3))
    results = check_layer(mr.layers.Dense(4, activation=fn), x)
    assert [r.name.split("/")[-1] for r in results] == ["inputs", "weight_0", "weight_1"]
    assert max(r.relative_error for r in results) < 1e-7, [str(r) for r in results]


# -- the same layers in Keras ----------------------------------------------------------------------

def _layers(library, kind: str, fn):
    """The same layer in minired and in Keras (``library``), with ``fn`` as its activation."""
    if kind == "Dense":
        return library.layers.Dense(4, activation=fn)
    if kind == "Conv2D":
        return library.layers.Conv2D(3, 2, activation=fn)
    return library.layers.Activation(fn)


@pytest.mark.parametrize("kind", ["Dense", "Conv2D", "Activation"])
def test_forward_and_gradients_equal_keras(keras_env, kind):
    """The same weights, input and upstream gradient δa: a, δx and every ∂L/∂w as Keras'
    tf.GradientTape gives them (float64: measured within 1e-15)."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 4, 2) if kind == "Conv2D" else (5, 3))
    with keras_env.precision("float64"):
        ours = _layers(mr, kind, bump)
        theirs = _layers(keras, kind, bump_with(keras.ops))
        a = ours(x)
        theirs.build(x.shape)
        theirs.set_weights(ours.get_weights())
        upstream = rng.normal(size=a.shape)
        ours.zero_gradients()
        grad_x = ours.backward(upstream)
        inputs = tf.Variable(x)
        with tf.GradientTape() as tape:
            their_a = theirs(inputs)
        their_grads = tape.gradient(their_a, [inputs, *theirs.weights],
                                    output_gradients=tf.constant(upstream))
    np.testing.assert_allclose(a, np.asarray(their_a), rtol=1e-12, atol=1e-14)
    for mine, keras_grad in zip([grad_x, *ours.gradients], their_grads, strict=True):
        np.testing.assert_allclose(mine, np.asarray(keras_grad), rtol=1e-12, atol=1e-14)


def test_training_with_a_custom_activation_equals_keras(keras_env):
    """fit with the function in a Dense and in an Activation layer: the same losses and
    weights as Keras after 3 epochs of SGD (float32: measured within 3e-7)."""
    keras = keras_env.keras
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")

    def model(library):
        fn = squashed_with(library.ops)
        net = library.Sequential([library.Input((3,)),
                                  library.layers.Dense(5, activation=fn),
                                  library.layers.Activation(bump_with(library.ops)),
                                  library.layers.Dense(1)])
        net.compile(optimizer=library.optimizers.SGD(0.1), loss="mse")
        return net

    ours, theirs = model(mr), model(keras)
    theirs.set_weights(ours.get_weights())
    history = ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    their_history = theirs.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    np.testing.assert_allclose(history["loss"], their_history["loss"], rtol=2e-6)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-5, atol=1e-6)


def test_a_layer_as_activation_equals_keras(keras_env):
    """Keras takes any callable, a layer too: ``Dense(4, activation=LeakyReLU(0.2))``."""
    keras, tf = keras_env.keras, keras_env.tf
    x = np.random.default_rng(4).normal(size=(5, 3))
    with keras_env.precision("float64"):
        ours = mr.layers.Dense(4, activation=mr.layers.LeakyReLU(0.2))
        theirs = keras.layers.Dense(4, activation=keras.layers.LeakyReLU(0.2))
        a = ours(x)
        theirs.build(x.shape)
        theirs.set_weights(ours.get_weights())
        ours.zero_gradients()
        grad_x = ours.backward(np.ones_like(a))
        inputs = tf.Variable(x)
        with tf.GradientTape() as tape:
            their_a = theirs(inputs)
        their_grads = tape.gradient(their_a, [inputs, *theirs.weights])
    np.testing.assert_allclose(a, np.asarray(their_a), rtol=1e-12)
    for mine, keras_grad in zip([grad_x, *ours.gradients], their_grads, strict=True):
        np.testing.assert_allclose(mine, np.asarray(keras_grad), rtol=1e-12, atol=1e-14)


def test_a_function_of_yours_named_sigmoid_gives_the_loss_no_logits(keras_env):
    """The loss reads the logits z of minired's own sigmoid or softmax only: a function of
    yours called ``sigmoid`` (here σ(z/2)) is read as probabilities, as in Keras
    (binary cross-entropy of the same weights: Keras 0.7499; reading z gave 0.9048)."""
    keras = keras_env.keras
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = (rng.random((8, 1)) > 0.5).astype("float32")

    def model(library):
        def sigmoid(z):
            return library.ops.sigmoid(z / 2)
        net = library.Sequential([library.Input((3,)),
                                  library.layers.Dense(1, activation=sigmoid)])
        net.compile(optimizer="sgd", loss="binary_crossentropy")
        return net

    ours, theirs = model(mr), model(keras)
    ours.layers[0].kernel[...] = rng.normal(size=(3, 1)) * 3
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0),
                               rtol=1e-6)


def test_a_layer_with_weights_is_refused_as_an_activation():
    """Keras trains the weights of ``Dense(4, activation=PReLU())``; minired would leave them
    as they are, so it says to add the layer to the model instead."""
    with pytest.raises(ValueError, match=r"'p_re_lu(_\d+)?' \(PReLU\) has weights.*as a layer"):
        mr.layers.Dense(4, activation=mr.layers.PReLU())


# -- get, serialize, deserialize -----------------------------------------------------------------

def test_get_returns_a_callable_that_keeps_the_function():
    """Saving reads the user's function from ``__wrapped__`` (its name and module)."""
    f = mr.activations.get(squashed)
    assert callable(f) and callable(f.backward)
    assert f.__wrapped__ is squashed and f.__name__ == "squashed"
    assert mr.activations.get(f) is f                       # wrapped once, not twice
    z = np.array([[0.5, -2.0]], dtype="float32")
    np.testing.assert_array_equal(f(z), np.tanh(z) ** 2)
    assert mr.layers.Dense(2, activation=squashed).activation.__wrapped__ is squashed
    assert not mr.activations.backward_reads_output(f)      # it reruns f on z


def test_a_function_keeps_the_layers_dtype():
    """``np.float64(2) * x`` would turn a float32 layer float64; Keras computes in the
    layer's dtype, so minired casts back (forward and δz)."""
    def doubled(x):
        return np.float64(2.0) * x
    f = mr.activations.get(doubled)
    z = np.ones((2, 3), dtype="float32")
    assert f(z).dtype == np.float32
    assert f.backward(z, None, np.ones_like(z)).dtype == np.float32


def test_a_function_the_tape_cannot_follow_is_named():
    def through_numpy(x):
        return np.asarray(x) * 2.0            # a plain copy: the tape loses x here
    f = mr.activations.get(through_numpy)
    z = np.ones((2, 2))
    np.testing.assert_array_equal(f(z), 2 * z)
    with pytest.raises(TypeError, match=r"activation 'through_numpy': its output is not "
                                        r"computed from its input with operations minired "
                                        r"can differentiate"):
        f.backward(z, None, np.ones_like(z))


def test_serialize_and_deserialize_as_keras(keras_env):
    keras = keras_env.keras
    for fn in ("relu", "swish", "hard_swish", "softmax"):
        mine = mr.activations.serialize(mr.activations.get(fn))
        assert mine == keras.activations.serialize(keras.activations.get(fn))
        assert mr.activations.deserialize(mine) is mr.activations.get(fn)
    written = keras.saving.serialize_keras_object(keras.activations.tanh)   # as Keras writes it
    assert keras.activations.deserialize(written) is keras.activations.tanh
    assert mr.activations.deserialize(written) is mr.activations.tanh
    assert mr.activations.get(written) is mr.activations.tanh


def test_a_registered_function_round_trips():
    @mr.saving.register_keras_serializable(package="test_custom_callables")
    def cubed(x):
        return x ** 3

    wrapped = mr.activations.get(cubed)
    serialized = mr.activations.serialize(wrapped)
    assert isinstance(serialized, dict)
    back = mr.activations.deserialize(serialized)
    assert back is cubed
    assert mr.activations.get(serialized).__wrapped__ is cubed


def test_deserialize_names_what_it_does_not_know():
    with pytest.raises(ValueError, match=r"Unknown activation 'rellu'. Did you mean 'relu'"):
        mr.activations.deserialize("rellu")
    with pytest.raises(TypeError, match=r"`config` must be an activation name or a "
                                        r"serialized function \(a dict\), got int: 3"):
        mr.activations.deserialize(3)
