"""Misuse that used to give silent wrong numbers, and errors that now come early and clear.

Each test here failed before the "trust under misuse" work: a wrong number a learner trusts
is worse than a crash, so every case either computes what Keras computes or stops with a
ValueError/TypeError that names the argument, what was expected and what came.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minired as mr
from minired.callbacks import Callback
from minired.gradcheck import check_model
from minired.layers import Dense, Dropout


def make_model(outputs: int = 3, activation: str = "softmax", seed: int = 0,
               loss: str = "categorical_crossentropy", optimizer="sgd") -> mr.Sequential:
    mr.utils.set_random_seed(seed)
    model = mr.Sequential([mr.Input((4,)), Dense(5, activation="tanh"),
                           Dense(outputs, activation=activation)])
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 4)), np.eye(3)[rng.integers(0, 3, 20)]


class StepCounter(Callback):
    """Counts the training steps that started."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.steps += 1


# -- silent wrong results ---------------------------------------------------------------------

def test_class_weight_never_weights_the_validation_loss(float64, data):
    """Keras turns class weights into sample weights for the training data only."""
    x, y = data
    heavy = {0: 1.0, 1: 1.0, 2: 10.0}
    model = make_model()
    history = model.fit(x, y, epochs=1, batch_size=20, validation_split=0.25, shuffle=False,
                        class_weight=heavy, verbose=0)
    unweighted = model.evaluate(x[15:], y[15:], verbose=0)[0]          # end-of-epoch weights
    np.testing.assert_allclose(history.history["val_loss"][0], unweighted, rtol=1e-12)
    weighted = model.evaluate(x[15:], y[15:], verbose=0, sample_weight=np.array(
        [heavy[c] for c in np.argmax(y[15:], axis=1)]))[0]
    assert abs(weighted - unweighted) > 0.1             # the two would be told apart
    # ...while the training loss is weighted: the same fit without class_weight differs.
    plain = make_model().fit(x, y, epochs=1, batch_size=20, validation_split=0.25,
                             shuffle=False, verbose=0)
    assert abs(plain.history["loss"][0] - history.history["loss"][0]) > 0.1


def shared_layer_model(seed: int = 0) -> tuple[mr.Sequential, Dense]:
    mr.utils.set_random_seed(seed)
    shared = Dense(4, activation="tanh", kernel_regularizer=mr.regularizers.L2(0.01),
                   bias_initializer="random_normal")
    model = mr.Sequential([mr.Input((4,)), shared, shared, Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model, shared


def test_a_layer_used_twice_shares_its_weights_once(float64):
    model, shared = shared_layer_model()
    assert len(model.layers) == 3                       # Keras keeps both entries in .layers
    assert [w.shape for w in model.get_weights()] == [(4, 4), (4,), (4, 3), (3,)]
    assert model.weights[0] is shared.kernel
    assert model.count_params() == 4 * 4 + 4 + 4 * 3 + 3
    assert len(model.losses) == 1                       # its penalty counts once


def test_a_layer_used_twice_gets_the_sum_of_both_calls_gradients(float64, data):
    """Checked against finite differences: each call backpropagates with its own inputs."""
    x, y = data
    model, _ = shared_layer_model()
    results = check_model(model, x[:6], y[:6])
    assert max(r.relative_error for r in results) < 1e-6, [str(r) for r in results]


def test_a_layer_used_twice_trains_as_one_set_of_weights(float64, data):
    x, y = data
    model, shared = shared_layer_model()
    before = shared.kernel.copy()
    _, grads = model.loss_and_gradients(x, y)
    model.fit(x, y, epochs=1, batch_size=20, shuffle=False, verbose=0)
    lr = model.optimizer.learning_rate
    np.testing.assert_allclose(shared.kernel, before - lr * grads[0], rtol=1e-12)


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_empty_data_is_refused(method):
    model = make_model()
    with pytest.raises(ValueError, match=rf"{method}: `x` has no samples \(shape \(0, 4\)\)"):
        getattr(model, method)(np.zeros((0, 4)), np.zeros((0, 3)), **(
            {"verbose": 0} if method in ("fit", "evaluate") else {}))


def test_predict_on_no_samples_returns_an_empty_array_of_the_output_shape():
    predictions = make_model().predict(np.zeros((0, 4)), verbose=0)
    assert predictions.shape == (0, 3) and predictions.dtype == np.float32


@pytest.mark.parametrize(("where", "argument"), [
    ("fit", "sample_weight"), ("evaluate", "sample_weight"),
    ("validation", r"validation_data\[2\]"),
])
def test_sample_weight_of_the_wrong_length_is_refused_before_any_step(data, where, argument):
    x, y = data
    counter = StepCounter()
    model = make_model()
    with pytest.raises(ValueError, match=rf"`{argument}` must have one weight per sample, shape "
                                         rf"\(\d+,\), got shape \(\d+,\)"):
        if where == "fit":
            model.fit(x, y, sample_weight=np.ones(19), verbose=0, callbacks=[counter])
        elif where == "evaluate":
            model.evaluate(x, y, sample_weight=np.ones(21), verbose=0)
        else:
            model.fit(x[:10], y[:10], validation_data=(x[10:], y[10:], np.ones(4)), verbose=0,
                      callbacks=[counter])
    assert counter.steps == 0


def test_softmax_over_one_unit_warns_as_keras_does():
    model = make_model(outputs=1)
    with pytest.warns(SyntaxWarning, match=r"expected y_pred\.shape to be \(batch_size, "
                                           r"num_classes\) with num_classes > 1\. Received: "
                                           r"y_pred\.shape=\(4, 1\)\. Consider using "
                                           r"'binary_crossentropy'"):
        model.evaluate(np.zeros((4, 4)), np.ones((4, 1)), verbose=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")           # the overflow itself
def test_weights_made_non_finite_by_the_last_update_are_named_at_validation(data):
    """The training loss of the only batch was finite; the update then broke the weights."""
    x, y = data
    model = make_model(loss="mse", activation="linear")
    model.compile(optimizer=mr.optimizers.SGD(1e38), loss="mse")
    with pytest.raises(ValueError, match=r"fit: the validation loss became (nan|inf) at epoch "
                                         r"1/3: the update of batch 1/1 made the weights NaN or "
                                         r"inf \(the training loss before it was finite\)\. Lower "
                                         r"the learning rate"):
        model.fit(x[:10], y[:10] * 100, batch_size=10, epochs=3, verbose=0,
                  validation_data=(x[10:], y[10:]))


def test_fitting_one_model_does_not_move_the_initial_weights_of_the_next(data):
    x, y = data

    def second_model_weights(fit_first: bool, dropout_first: bool):
        mr.utils.set_random_seed(7)
        first = mr.Sequential([mr.Input((4,)), Dense(5), *([Dropout(0.5)] if dropout_first
                                                            else []), Dense(3)])
        if fit_first:
            first.compile(optimizer="sgd", loss="mse")
            first.fit(x, y, epochs=2, batch_size=4, verbose=0)           # shuffles, drops out
        return mr.Sequential([mr.Input((4,)), Dense(3)]).get_weights()[0]

    reference = second_model_weights(fit_first=False, dropout_first=False)
    np.testing.assert_array_equal(second_model_weights(True, False), reference)
    np.testing.assert_array_equal(second_model_weights(True, True), reference)


# -- errors that come early and say what to do ------------------------------------------------

def test_validation_targets_of_the_wrong_shape_fail_before_the_first_step(data):
    x, y = data
    counter = StepCounter()
    with pytest.raises(ValueError, match=r"`validation_data\[1\]` does not fit the loss and the "
                                         r"model's output \(None, 3\): .*`y_true` must have the "
                                         r"shape of `y_pred` \(10, 3\), got \(10, 4\)"):
        make_model().fit(x[:10], y[:10], validation_data=(x[10:], np.eye(4)[np.arange(10) % 4]),
                         verbose=0, callbacks=[counter])
    assert counter.steps == 0


def test_validation_labels_out_of_range_fail_before_the_first_step(data):
    x, _ = data
    labels = np.arange(20) % 3
    counter = StepCounter()
    model = make_model(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"`validation_data\[1\]` does not fit the loss.*labels "
                                         r"in `y_true` must lie in \[0, 3\)"):
        model.fit(x[:10], labels[:10], validation_data=(x[10:], labels[10:] + 1), verbose=0,
                  callbacks=[counter])
    assert counter.steps == 0


def test_compile_with_no_optimizer():
    with pytest.raises(ValueError, match=r"compile: `optimizer` must be an optimizer name \(e\.g\. "
                                         r"'adam'\) or an optimizer object, got None"):
        make_model().compile(optimizer=None, loss="mse")


def test_fit_without_targets(data):
    with pytest.raises(ValueError, match=r"fit: `y` is required"):
        make_model().fit(data[0], verbose=0)


def test_several_arrays_for_a_one_input_model(data):
    x, y = data
    with pytest.raises(ValueError, match=r"fit: this model has 1 input, but `x` is a list of 2 "
                                         r"arrays \(shapes \[\(20, 4\), \(20, 4\)\]\)"):
        make_model().fit([x, x], y, verbose=0)


def test_a_list_holding_one_array_is_that_array(data):
    x, y = data
    model = make_model()
    np.testing.assert_array_equal(model.predict([x], verbose=0), model.predict(x, verbose=0))


def test_predict_on_one_sample_without_a_batch_axis_suggests_x_none():
    with pytest.raises(ValueError, match=r"`x` must have shape \(samples, features\.\.\.\), got "
                                         r"shape \(4,\)\. This looks like one sample of shape "
                                         r"\(4,\): add the batch axis with x\[None\]"):
        make_model().predict(np.ones(4), verbose=0)


def test_one_feature_without_its_axis_is_given_it_as_keras_does():
    """Keras adds a missing last axis of size 1 (``x`` of shape (5,) feeds ``Input((1,))``)."""
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((1,)), Dense(2)])
    x = np.arange(5.0)
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  model.predict(x.reshape(-1, 1), verbose=0))


def test_integer_labels_with_a_trailing_axis_for_categorical_crossentropy(data):
    x, _ = data
    labels = (np.arange(20) % 3).reshape(-1, 1)
    with pytest.raises(ValueError, match=r"`y_true` must be one-hot with shape \(20, 3\), got "
                                         r"integer labels of shape \(20, 1\)\. Use "
                                         r"'sparse_categorical_crossentropy'"):
        make_model().fit(x, labels, verbose=0)


def test_dropout_noise_shape_of_another_rank():
    with pytest.raises(ValueError, match=r"Dropout 'drop': `noise_shape` must have the rank of the "
                                         r"inputs \(2, for inputs \(None, 4\)\), got \(1,\)\. Use "
                                         r"None for the axes that keep the input's size, e\.g\. "
                                         r"\(None, 1\)"):
        mr.Sequential([mr.Input((4,)), Dropout(0.5, noise_shape=(1,), name="drop")])


def test_nan_in_sample_weight_says_where(data):
    x, y = data
    weights = np.ones(20)
    weights[13] = np.nan
    with pytest.raises(ValueError, match=r"`sample_weight` contains nan at index 13: every sample "
                                         r"weight must be a finite number"):
        make_model().fit(x, y, sample_weight=weights, verbose=0)


def test_a_value_that_overflows_float32_says_overflow(data):
    x, y = data
    x = x.copy()
    x[2, 1] = 1e39
    with pytest.raises(ValueError, match=r"`x` has the value 1e\+39 at index \(2, 1\), which "
                                         r"overflows float32 \(largest 3\.403e\+38\)"):
        make_model().fit(x, y, verbose=0)


def test_numpy_scalars_are_accepted_where_keras_accepts_them(data):
    x, y = data
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((np.int64(4),)), Dense(np.int64(5)),
                           Dropout(np.float32(0.2)), Dense(np.int32(3), activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=np.int64(2), batch_size=np.int32(8),
                        validation_split=np.float32(0.2), validation_freq=np.int64(1), verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_input_shape_on_the_first_layer_works_with_keras_warning(data):
    x, y = data
    with pytest.warns(UserWarning, match=r"Do not pass an `input_shape`/`input_dim` argument"):
        model = mr.Sequential([Dense(8, input_shape=(4,)), Dense(3)])
    assert model.built and model.input_shape == (None, 4)
    with pytest.warns(UserWarning):
        assert mr.Sequential([Dense(8, input_dim=4)]).input_shape == (None, 4)


def test_unknown_layer_keyword_arguments_are_named():
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Dense: "
                                         r"\{'unit': 3\}"):
        Dense(3, unit=3)


def test_a_well_formed_call_warns_nothing(data):
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_model().fit(x, y, epochs=1, verbose=0, validation_split=0.2)
