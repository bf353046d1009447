"""Lines of real Keras scripts that minired takes as Keras does (or refuses, clearly, where
it cannot do what Keras would): compile's execution arguments, a train_step of your own,
a convolution_op of your own, set_random_seed with TensorFlow loaded."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr


@pytest.fixture(scope="module")
def keras_env():
    from comparisons import keras_env

    return keras_env


def small_model(library):
    return library.Sequential([library.Input((3,)), library.layers.Dense(1)])


@pytest.mark.parametrize("arguments", [{}, {"run_eagerly": True}, {"jit_compile": True},
                                       {"jit_compile": False, "auto_scale_loss": False},
                                       {"steps_per_execution": 4}])
def test_compile_takes_the_execution_arguments_and_writes_them_as_keras(keras_env, arguments):
    configs = []
    for library in (mr, keras_env.keras):
        model = small_model(library)
        model.compile(optimizer="sgd", loss="mse", **arguments)
        config = model.get_compile_config()
        configs.append({key: config[key] for key in ("weighted_metrics", "run_eagerly",
                                                      "steps_per_execution", "jit_compile")})
    assert configs[0] == configs[1]
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)        # and it trains


@pytest.mark.parametrize("steps", [0, -1, 2.0, True, "4"])
def test_compile_refuses_a_steps_per_execution_that_is_not_a_positive_int(steps):
    with pytest.raises(ValueError, match="`steps_per_execution` must be a positive int"):
        small_model(mr).compile(optimizer="sgd", loss="mse", steps_per_execution=steps)


class KerasStyleStep(mr.Sequential):
    """A Keras-style step that only records the batches it is given."""

    def train_step(self, data):
        self.seen.append(("train", data))
        return {"loss": 0.5}

    def test_step(self, data):
        self.seen.append(("test", data))
        return {"loss": 0.25}


def test_a_keras_train_step_of_your_own_is_run_on_data_tuples():
    # keras-io's "Customizing what happens in fit()": fit and evaluate call it with (x, y)
    # and log what it returns (tests/test_instance_api.py trains the guide's steps).
    model = KerasStyleStep([mr.Input((3,)), mr.layers.Dense(1)])
    model.seen = []
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    history = model.fit(np.ones((4, 3)), np.ones((4, 1)), batch_size=4, verbose=0)
    assert history.history == {"loss": [0.5]}
    assert model.evaluate(np.ones((4, 3)), np.ones((4, 1)), verbose=0) == 0.25
    assert [kind for kind, _ in model.seen] == ["train", "test"]
    x, y = model.seen[0][1]
    assert x.shape == (4, 3) and y.shape == (4, 1)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_a_convolution_op_of_your_own_is_refused_where_it_is_written():
    # keras-io's "Customizing the convolution operation of a Conv2D layer": minired's
    # hand-written forward would never call it, and the layer would compute a plain Conv2D.
    with pytest.raises(TypeError, match="StandardizedConv2D.convolution_op: minired's "
                                        "convolution layers do not call"):
        class StandardizedConv2D(mr.layers.Conv2D):
            def convolution_op(self, inputs, kernel):
                return super().convolution_op(inputs, kernel - kernel.mean())


def test_set_random_seed_seeds_tensorflow_when_the_script_loaded_it(keras_env):
    tf = keras_env.tf
    mr.utils.set_random_seed(7)
    ours = float(tf.random.uniform(()))
    tf.random.set_seed(7)
    assert ours == float(tf.random.uniform(()))


def test_keras_backend_functions_scripts_call(keras_env):
    """``from keras import backend as K`` in older scripts: the same answers, and
    clear_session restarts the automatic names as in Keras."""
    keras = keras_env.keras
    for library in (mr, keras):
        K = library.backend
        assert (K.epsilon(), K.floatx(), K.image_data_format()) == (1e-7, "float32",
                                                                   "channels_last")
        library.layers.Dense(2)
        K.clear_session()
        assert [library.layers.Dense(2).name for _ in range(2)] == ["dense", "dense_1"]
        assert [K.get_uid("dense"), K.get_uid("prefix"), K.get_uid("prefix")] == [3, 1, 2]
        assert K.is_keras_tensor(library.Input((3,)))
        assert [K.standardize_dtype(np.float64), K.standardize_dtype(None)] == ["float64",
                                                                                "float32"]
    assert mr.backend.backend() == "numpy"
    with pytest.raises(ValueError, match="only 'channels_last'"):
        mr.backend.set_image_data_format("channels_first")
