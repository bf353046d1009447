"""Every bad input raises ValueError or TypeError with a message that names the argument,
what was expected and what came."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.layers import Dense, Dropout


def make_model(loss="categorical_crossentropy", outputs=3, activation="softmax", compile=True):
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), Dense(5, activation="relu"),
                           Dense(outputs, activation=activation)])
    if compile:
        model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(10, 4)).astype("float32"), np.eye(3)[rng.integers(0, 3, 10)]


# -- order of calls ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch",
                                    "loss_and_gradients"])
def test_training_methods_need_compile(method, data):
    model = make_model(compile=False)
    with pytest.raises(ValueError,
                       match=rf"{method}: call model\.compile\(optimizer, loss\) first"):
        getattr(model, method)(*data)


def test_a_model_without_any_loss_is_refused_before_an_update():
    """compile without a loss is Keras' way for models whose layers add_loss; with none,
    fit stops at the first step, before the weights move."""
    model = make_model(compile=False)
    model.compile(optimizer="sgd")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"No loss to compute. Provide a `loss` argument"):
        model.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_methods_that_need_a_built_model():
    model = mr.Sequential([Dense(3)])
    with pytest.raises(ValueError, match=r"get_weights: the model is not built yet"):
        model.get_weights()
    with pytest.raises(ValueError, match=r"set_weights: the model is not built yet"):
        model.set_weights([])


def test_predict_on_a_model_without_layers():
    with pytest.raises(ValueError, match=r"The model has no layers"):
        mr.Sequential().predict(np.zeros((2, 3)), verbose=0)


# -- shapes and values of x and y -------------------------------------------------------------

@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch"])
def test_x_and_y_of_different_lengths(method, data):
    x, y = data
    with pytest.raises(ValueError, match=r"`y` must have one target per sample of x \(10\), "
                                        r"got 9"):
        getattr(make_model(), method)(x, y[:9])


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_feature_count_must_match_the_first_layer(method, data):
    x, y = data
    args = (x[:, :3],) if method == "predict" else (x[:, :3], y)
    with pytest.raises(ValueError, match=r"`x` must have shape \(samples, 4\) to fit the "
                                        r"model's input, got \(10, 3\)"):
        getattr(make_model(), method)(*args)


def test_validation_data_is_checked_like_x(data):
    x, y = data
    with pytest.raises(ValueError, match=r"`validation_data\[0\]` must have shape "
                                        r"\(samples, 4\) .* got \(2, 5\)"):
        make_model().fit(x, y, verbose=0, validation_data=(np.zeros((2, 5)), y[:2]))
    with pytest.raises(ValueError, match=r"`validation_data` must be a tuple \(x_val, y_val\)"):
        make_model().fit(x, y, verbose=0, validation_data=x)


def test_x_must_have_a_batch_axis():
    with pytest.raises(ValueError, match=r"`x` must have shape \(samples, features\.\.\.\), got "
                                        r"shape \(4,\)"):
        make_model().predict(np.zeros(4), verbose=0)


def test_x_must_be_numeric():
    with pytest.raises(TypeError, match=r"`x` must be a numeric array, got list"):
        make_model().predict([["a", "b", "c", "d"]], verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_x_is_rejected(bad, data):
    x, y = data
    x = x.copy()
    x[3, 2] = bad
    with pytest.raises(ValueError, match=r"`x` contains NaN or inf \(first at index \(3, 2\)\)"):
        make_model().fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"`x` contains NaN or inf"):
        make_model().predict(x, verbose=0)


def test_nan_in_y_is_rejected(data):
    x, y = data
    y = y.copy()
    y[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"`y` contains NaN or inf"):
        make_model().fit(x, y, verbose=0)


def test_nan_in_validation_data_is_rejected(data):
    x, y = data
    x_val = x[:2].copy()
    x_val[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"`validation_data\[0\]` contains NaN or inf"):
        make_model().fit(x, y, verbose=0, validation_data=(x_val, y[:2]))


# -- labels that do not fit the loss ----------------------------------------------------------

def test_one_hot_labels_for_sparse_categorical_crossentropy(data):
    x, y = data
    with pytest.raises(ValueError, match=r"`y_true` must hold integer labels of shape \(10,\), "
                                        r"got shape \(10, 3\)\. These look one-hot"):
        make_model(loss="sparse_categorical_crossentropy").fit(x, y, verbose=0)


@pytest.mark.parametrize(("labels", "got"), [([0, 1, 3], r"\[0, 3\]"), ([-1, 0, 2], r"\[-1, 2\]")])
def test_integer_labels_out_of_range(labels, got):
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=rf"labels in `y_true` must lie in \[0, 3\) for 3 "
                                         rf"outputs, got values in {got}"):
        make_model(loss="sparse_categorical_crossentropy").fit(x, np.array(labels), verbose=0)


def test_non_integer_labels_for_sparse_categorical_crossentropy():
    with pytest.raises(ValueError, match=r"`y_true` must hold integer class labels, got "
                                        r"non-integer values such as 1\.5"):
        make_model(loss="sparse_categorical_crossentropy").evaluate(
            np.zeros((2, 4)), np.array([0.0, 1.5]), verbose=0)


def test_targets_outside_0_1_for_binary_crossentropy():
    model = make_model(loss="binary_crossentropy", outputs=1, activation="sigmoid")
    with pytest.raises(ValueError, match=r"targets in `y_true` must lie in \[0, 1\], got values "
                                        r"in \[-1\.0, 2\.0\]"):
        model.fit(np.zeros((3, 4)), np.array([[-1.0], [0.0], [2.0]]), verbose=0)


def test_integer_labels_for_categorical_crossentropy(data):
    x, _ = data
    with pytest.raises(ValueError, match=r"`y_true` must be one-hot with shape \(10, 3\), got "
                                        r"integer labels of shape \(10,\)\. Use "
                                        r"'sparse_categorical_crossentropy'"):
        make_model().fit(x, np.arange(10) % 3, verbose=0)


def test_output_width_must_match_one_hot_labels(data):
    x, _ = data
    with pytest.raises(ValueError, match=r"`y_true` must have the shape of `y_pred` \(10, 3\), "
                                        r"got \(10, 4\)"):
        make_model().evaluate(x, np.eye(4)[np.arange(10) % 4], verbose=0)


# -- unknown names ----------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "kind", "typo", "closest", "listed"), [
    (lambda: Dense(2, activation="rellu"), "activation", "rellu", "relu", "sigmoid"),
    (lambda: Dense(2, kernel_initializer="glorot_unifrom"), "initializer", "glorot_unifrom",
     "glorot_uniform", "he_normal"),
    (lambda: Dense(2, kernel_regularizer="l3"), "regularizer", "l3", "l[12]", "l1l2"),
    (lambda: make_model(compile=False).compile(loss="categorical_crossentropyy"), "loss",
     "categorical_crossentropyy", "categorical_crossentropy", "mean_squared_error"),
    (lambda: make_model(compile=False).compile(optimizer="adamm", loss="mse"), "optimizer",
     "adamm", "adam", "rmsprop"),
    (lambda: make_model(compile=False).compile(loss="mse", metrics=["acuracy"]), "metric",
     "acuracy", "accuracy", "binary_accuracy"),
])
def test_unknown_names_list_what_exists_and_the_closest_match(make, kind, typo, closest, listed):
    with pytest.raises(ValueError, match=rf"Unknown {kind} '{typo}'\. Did you mean '{closest}'\? "
                                         rf"Known names: .*\b{listed}\b"):
        make()


def test_metrics_must_be_a_list():
    with pytest.raises(TypeError, match=r"`metrics` must be a list, e\.g\. \['accuracy'\], got "
                                       r"'accuracy'"):
        make_model(compile=False).compile(loss="mse", metrics="accuracy")


# -- layer arguments --------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_rate_outside_0_1(rate):
    with pytest.raises(ValueError, match=rf"Dropout: `rate` must be a float in \[0, 1\), "
                                         rf"got {rate}"):
        Dropout(rate)


def test_dropout_rate_of_the_wrong_type():
    with pytest.raises(TypeError, match=r"Dropout: `rate` must be a float in \[0, 1\), got '0\.5'"):
        Dropout("0.5")


@pytest.mark.parametrize("shape", [(0,), (4, -1), "abc"])
def test_input_shape_must_be_positive_ints(shape):
    with pytest.raises((ValueError, TypeError), match=r"Input: `shape` must be a tuple of"):
        mr.Input(shape)


def test_sequential_add_checks_its_argument():
    with pytest.raises(TypeError, match=r"Sequential\.add: `layer` must be a minired Layer, "
                                       r"got 'dense'"):
        mr.Sequential(["dense"])
    with pytest.raises(ValueError, match=r"an Input can only be the first layer"):
        mr.Sequential([Dense(2), mr.Input((3,))])


# -- set_weights ------------------------------------------------------------------------------

def test_set_weights_with_the_wrong_count():
    model = make_model()
    with pytest.raises(ValueError, match=r"set_weights: `weights` must be a list of 4 arrays "
                                        r"\(shapes \[\(4, 5\), \(5,\), \(5, 3\), \(3,\)\]\), "
                                        r"got 3"):
        model.set_weights(model.get_weights()[:3])


def test_set_weights_with_a_wrong_shape_changes_nothing():
    model = make_model()
    before = model.get_weights()
    bad = [np.ones_like(w) for w in before]
    bad[2] = np.ones((3, 5))
    with pytest.raises(ValueError, match=r"set_weights: weight 2 must have shape \(5, 3\), "
                                        r"got \(3, 5\)"):
        model.set_weights(bad)
    for w, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)                   # nothing half-written


# -- fit arguments ----------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_batch_size_must_be_a_positive_int(batch_size, data):
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive int or None, got"):
        make_model().fit(*data, batch_size=batch_size, verbose=0)


@pytest.mark.parametrize("split", [1.0, -0.2, 1.5])
def test_validation_split_must_lie_in_0_1(split, data):
    with pytest.raises(ValueError, match=rf"`validation_split` must be a float in \[0, 1\), "
                                         rf"got {split}"):
        make_model().fit(*data, validation_split=split, verbose=0)


def test_validation_split_that_leaves_no_training_samples(data):
    with pytest.raises(ValueError, match=r"`validation_split=0\.95` leaves no samples for "
                                        r"training: the data has only 10 samples"):
        make_model().fit(*data, validation_split=0.95, verbose=0)


@pytest.mark.parametrize("name", ["epochs", "initial_epoch"])
def test_epoch_counts_must_be_non_negative_ints(name, data):
    with pytest.raises(ValueError, match=rf"fit: `{name}` must be a non-negative int, got -1"):
        make_model().fit(*data, verbose=0, **{name: -1})


@pytest.mark.parametrize("validation_freq", [0, -1, 1.5, [0, 2], "2"])
def test_validation_freq_must_be_a_positive_int_or_a_list_of_epochs(validation_freq, data):
    """Keras divides by 0 for validation_freq=0; minired says what it expects."""
    with pytest.raises(ValueError, match=r"fit: `validation_freq` must be a positive int "
                                         r"\(validate every n epochs\) or a list of epochs "
                                         r"counted from 1, got "):
        make_model().fit(*data, verbose=0, validation_split=0.2, validation_freq=validation_freq)


def test_validation_freq_as_a_list_of_epochs_as_keras(data):
    history = make_model().fit(*data, epochs=5, verbose=0, validation_split=0.2,
                               validation_freq=[1, 3])
    assert len(history.history["loss"]) == 5 and len(history.history["val_loss"]) == 2


def test_class_weight_and_sample_weight_together(data):
    with pytest.raises(ValueError, match=r"give `sample_weight` or `class_weight`, not both"):
        make_model().fit(*data, sample_weight=np.ones(10), class_weight={0: 1.0}, verbose=0)


def test_sample_weight_needs_one_weight_per_sample(data):
    with pytest.raises(ValueError, match=r"`sample_weight` must have one weight per sample, "
                                        r"shape \(10,\), got shape \(9,\)"):
        make_model().fit(*data, sample_weight=np.ones(9), verbose=0)


def test_class_weight_must_be_a_dict(data):
    with pytest.raises(TypeError, match=r"`class_weight` must be a dict \{class: weight\}, got "
                                       r"\[1, 2\]"):
        make_model().fit(*data, class_weight=[1, 2], verbose=0)


def test_verbose_must_be_a_known_level(data):
    with pytest.raises(ValueError, match=r"`verbose` must be 'auto', 0, 1 or 2, got 3"):
        make_model().fit(*data, verbose=3)


# -- a loss that blows up ---------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")           # the overflow itself
def test_a_non_finite_loss_stops_fit_naming_the_epoch_and_batch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = np.full((32, 1), 1e4, dtype="float32")
    lr, batch_size, epochs = 2.0, 8, 50

    def regression_model():
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((4,)), Dense(1)])
        model.compile(optimizer=mr.optimizers.SGD(lr), loss="mse")
        return model

    # Find by hand where the loss first stops being finite, with the same SGD steps.
    model = regression_model()
    where = None
    for epoch in range(epochs):
        for batch, start in enumerate(range(0, 32, batch_size)):
            loss, grads = model.loss_and_gradients(x[start:start + batch_size],
                                                   y[start:start + batch_size])
            if not np.isfinite(loss):
                where = (epoch + 1, batch + 1)
                break
            for weight, grad in zip(model.weights, grads, strict=True):
                weight -= grad * np.float32(lr)
        if where:
            break
    assert where is not None, "the set-up must diverge within the epochs"

    model = regression_model()
    with pytest.raises(ValueError, match=rf"fit: the loss became (nan|inf) at epoch "
                                         rf"{where[0]}/{epochs}, batch {where[1]}/4\. "
                                         r"Lower the learning rate"):
        model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)


# -- global settings --------------------------------------------------------------------------

def test_set_floatx_rejects_other_types():
    with pytest.raises(ValueError, match=r"set_floatx: `value` must be one of \('float32', "
                                        r"'float64'\), got 'float16'"):
        mr.config.set_floatx("float16")


def test_set_random_seed_checks_its_argument():
    with pytest.raises(TypeError, match=r"`seed` must be an int, got float"):
        mr.utils.set_random_seed(1.5)
    with pytest.raises(ValueError, match=r"`seed` must be >= 0, got -1"):
        mr.utils.set_random_seed(-1)


def test_to_categorical_checks_the_labels():
    with pytest.raises(ValueError, match=r"to_categorical: labels must lie in \[0, 2\), got "
                                        r"values in \[0, 2\]"):
        mr.utils.to_categorical([0, 2], num_classes=2)
