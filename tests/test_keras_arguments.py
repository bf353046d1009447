"""Arguments Keras 3 accepts that minired once refused: each one read, run and compared
against Keras (the losses' ``axis``/``ignore_class``/``dtype``, ``Model.summary``'s
options, ``Input``'s sparse/ragged/tensor/optional, ``Flatten(data_format)``, ``Progbar``'s
``stateful_metrics``, ``skip_mismatch``/``max_shard_size`` and ``use_cudnn``)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_loss, relative_error

#: float64 is the same math in another order: 1e-12. float32: a few ulps of 6e-8.
TOLERANCE = {"float64": 1e-12, "float32": 1e-6}


@pytest.fixture
def floatx_of(keras):
    """``floatx_of(dtype)`` sets floatx in both libraries, and Keras' global dtype policy
    (a Keras layer made under float64 fixes it to float64 for good); all restored after."""
    previous = keras.config.floatx(), keras.config.dtype_policy(), mr.config.floatx()

    def set_floatx(dtype: str) -> None:
        keras.config.set_floatx(dtype)
        keras.config.set_dtype_policy(dtype)
        mr.config.set_floatx(dtype)

    yield set_floatx
    keras.config.set_floatx(previous[0])
    keras.config.set_dtype_policy(previous[1])
    mr.config.set_floatx(previous[2])


# -- losses: axis, ignore_class, dtype --------------------------------------------------------

def _probabilities(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _case(kind: str, from_logits: bool, axis: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_pred)`` of shape ``(3, 4, 5)``, the classes along ``axis``."""
    z = rng.normal(size=(3, 4, 5)) * 2
    if kind == "binary":
        y_true = rng.integers(0, 2, size=z.shape).astype(float)
        return y_true, z if from_logits else 1 / (1 + np.exp(-z))
    if kind == "categorical":
        labels = rng.integers(0, z.shape[axis], size=np.delete(z.shape, axis))
        y_true = np.moveaxis(np.eye(z.shape[axis])[labels], -1, axis)
        return y_true, z if from_logits else _probabilities(z, axis)
    labels = rng.integers(0, 5, size=(3, 4))
    labels[0, 1], labels[2, :3] = 255, 255
    return labels, z if from_logits else _probabilities(z, -1)


LOSS_CASES = {
    "cce-axis1": ("CategoricalCrossentropy", "categorical", {"axis": 1}),
    "cce-axis1-smooth": ("CategoricalCrossentropy", "categorical",
                         {"axis": 1, "label_smoothing": 0.2}),
    "cce-axis0": ("CategoricalCrossentropy", "categorical", {"axis": 0}),
    "bce-axis1": ("BinaryCrossentropy", "binary", {"axis": 1, "label_smoothing": 0.1}),
    "scce-ignore": ("SparseCategoricalCrossentropy", "sparse", {"ignore_class": 255}),
    "scce-ignore-last-axis": ("SparseCategoricalCrossentropy", "sparse",
                              {"ignore_class": 255, "axis": 2}),
}


def _keras_value_and_gradient(keras, name, kwargs, y_true, y_pred, weight, reduction, dtype):
    import tensorflow as tf

    variable = tf.Variable(y_pred.astype(dtype))
    loss = getattr(keras.losses, name)(**kwargs, reduction=reduction, dtype=dtype)
    with tf.GradientTape() as tape:
        value = loss(y_true, variable, sample_weight=weight)
    gradient = None if reduction is None else tape.gradient(value, variable).numpy()
    return value.numpy(), gradient


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum",
                                       "mean_with_sample_weight", None])
@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_loss_value_and_gradient_match_keras(keras, floatx_of, case, from_logits,
                                             reduction, dtype):
    name, kind, kwargs = LOSS_CASES[case]
    kwargs = {**kwargs, "from_logits": from_logits}
    rng = np.random.default_rng(len(case))
    y_true, y_pred = _case(kind, from_logits, kwargs.get("axis", -1), rng)
    y_pred = y_pred.astype(dtype)
    # per sample, or per loss value when the samples' axis is the one reduced (axis=0)
    weight_shape = (4, 5) if kwargs.get("axis") == 0 else (3, 1)
    weight = rng.uniform(0.1, 2.0, size=weight_shape).astype(dtype)
    floatx_of(dtype)
    ours = getattr(mr.losses, name)(**kwargs, reduction=reduction, dtype=dtype)
    for sample_weight in (None, weight):
        theirs, their_grad = _keras_value_and_gradient(keras, name, kwargs, y_true, y_pred,
                                                       sample_weight, reduction, dtype)
        if reduction is None:
            values = ours(y_true, y_pred, sample_weight)
            assert values.shape == theirs.shape and values.dtype == np.dtype(dtype)
            assert relative_error(values, theirs) <= TOLERANCE[dtype]
            continue
        value, grad = ours.value_and_gradient(y_true, y_pred, sample_weight)
        assert grad.shape == y_pred.shape and grad.dtype == np.dtype(dtype)
        assert relative_error(np.float64(value), theirs) <= TOLERANCE[dtype]
        if not (from_logits and case == "cce-axis1-smooth"):   # see the test below
            assert relative_error(grad, their_grad) <= TOLERANCE[dtype]
        assert ours(y_true, y_pred, sample_weight) == value
        if from_logits:
            # The trainer's fused path: a loss built for probabilities, handed the logits.
            plain = getattr(mr.losses, name)(**{**kwargs, "from_logits": False},
                                             reduction=reduction)
            fused = plain.compute(y_true, y_pred, sample_weight, from_logits=True)
            assert fused[0] == value and np.array_equal(fused[1], grad)


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_loss_gradient_matches_finite_differences(float64, case, from_logits):
    name, kind, kwargs = LOSS_CASES[case]
    y_true, y_pred = _case(kind, from_logits, kwargs.get("axis", -1), np.random.default_rng(1))
    loss = getattr(mr.losses, name)(**kwargs, from_logits=from_logits)
    weight_shape = (4, 5) if kwargs.get("axis") == 0 else (3, 1)
    weight = np.random.default_rng(2).uniform(0.1, 2.0, size=weight_shape)
    for sample_weight in (None, weight):
        # h = 1e-7: probabilities near 0.02 curve log(p) enough that h = 1e-6 leaves a
        # central-difference error of ~1e-6 (it shrinks as h², measured).
        assert check_loss(loss, y_true, y_pred, sample_weight, h=1e-7).relative_error < 1e-6


def test_smoothed_targets_along_another_axis_keep_the_true_gradient(keras, floatx_of):
    """Keras smooths with ``s / (size of the last axis)`` even for ``axis=1``, so the targets
    no longer sum to 1; TensorFlow's logits kernel still returns ``p - y`` (right only when
    ``Σy = 1``). minired keeps the derivative of the value both compute, ``p Σy - y``: it
    differs from Keras' by exactly ``p (Σy - 1) / M`` (a deliberate difference)."""
    import tensorflow as tf

    floatx_of("float64")
    name, kind, kwargs = LOSS_CASES["cce-axis1-smooth"]
    y_true, z = _case(kind, True, 1, np.random.default_rng(4))
    variable = tf.Variable(z)
    with tf.GradientTape() as tape:
        theirs = keras.losses.CategoricalCrossentropy(from_logits=True, **kwargs)(y_true,
                                                                                 variable)
    their_grad = tape.gradient(theirs, variable).numpy()
    value, grad = mr.losses.CategoricalCrossentropy(from_logits=True, **kwargs
                                                    ).value_and_gradient(y_true, z)
    assert relative_error(np.float64(value), theirs.numpy()) <= 1e-12
    s, n_last, n_losses = 0.2, z.shape[-1], z.size / z.shape[1]
    target_sum = (1 - s) + s * z.shape[1] / n_last                     # Σ_c y_c ≠ 1
    expected = their_grad + _probabilities(z, 1) * (target_sum - 1) / n_losses
    assert relative_error(grad, expected) <= 1e-12


def test_ignored_labels_get_no_loss_no_gradient_and_leave_the_mean(float64):
    labels = np.array([[0, 255], [1, 255]])
    z = np.random.default_rng(0).normal(size=(2, 2, 3))
    loss = mr.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)
    value, grad = loss.value_and_gradient(labels, z)
    plain = mr.losses.sparse_categorical_crossentropy([0, 1], z[:, 0], from_logits=True)
    assert value == pytest.approx(plain.mean(), rel=1e-14)        # 2 valid labels, not 4
    assert np.all(grad[:, 1] == 0) and np.all(grad[:, 0] != 0)
    values = mr.losses.sparse_categorical_crossentropy(labels, z, True, ignore_class=255)
    assert np.array_equal(values[:, 1], [0, 0]) and np.allclose(values[:, 0], plain)
    everything = mr.losses.SparseCategoricalCrossentropy(ignore_class=0)
    assert everything.value_and_gradient([0, 0], [[0.5, 0.5]] * 2)[0] == 0.0


def test_loss_functions_match_keras(keras, floatx_of):
    floatx_of("float64")
    for (name, kind, kwargs) in LOSS_CASES.values():
        fn = {"CategoricalCrossentropy": "categorical_crossentropy",
              "BinaryCrossentropy": "binary_crossentropy",
              "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy"}[name]
        for from_logits in (True, False):
            y_true, y_pred = _case(kind, from_logits, kwargs.get("axis", -1),
                                   np.random.default_rng(3))
            theirs = np.asarray(getattr(keras.losses, fn)(y_true, y_pred, from_logits=from_logits,
                                                          **kwargs))
            ours = getattr(mr.losses, fn)(y_true, y_pred, from_logits=from_logits, **kwargs)
            assert ours.shape == theirs.shape
            assert relative_error(ours, theirs) <= 1e-12
            assert getattr(mr.metrics, fn) is getattr(mr.losses, fn)


def test_loss_signatures_and_configs_match_keras(keras):
    for name in mr.losses.__all__:
        ours, theirs = getattr(mr.losses, name), getattr(keras.losses, name, None)
        if not inspect.isclass(theirs) or not issubclass(theirs, keras.losses.Loss):
            continue
        keras_parameters = inspect.signature(theirs).parameters
        assert set(keras_parameters) <= set(inspect.signature(ours).parameters), name
        assert inspect.signature(ours).parameters["dtype"].default is None, name
    for name, _, kwargs in LOSS_CASES.values():
        config = getattr(keras.losses, name)(**kwargs, dtype="float32").get_config()
        assert getattr(mr.losses, name)(**kwargs, dtype="float32").get_config() == config
        again = getattr(mr.losses, name).from_config(config)
        assert again.get_config() == config


def test_loss_dtype_is_checked(keras):
    assert mr.losses.MeanSquaredError(dtype="float32").dtype == "float32"
    assert mr.losses.Huber(dtype=mr.dtype_policies.DTypePolicy("float32")).dtype == "float32"
    with pytest.raises(ValueError, match="float64"):
        mr.losses.CategoricalCrossentropy(dtype="float64")


def test_loss_axis_errors_match_keras(keras):
    labels, z = np.zeros((2, 3), dtype=int), np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="Only axis=-1 is currently supported"):
        keras.losses.SparseCategoricalCrossentropy(axis=1)(labels, z)
    with pytest.raises(ValueError, match="Only axis=-1 is currently supported"):
        mr.losses.SparseCategoricalCrossentropy(axis=1)(labels, z)
    for library in (keras, mr):
        with pytest.raises(ValueError, match="`axis` must be of type `int`"):
            library.losses.categorical_crossentropy(np.eye(3), np.eye(3), axis=True)


def _segmentation_model(library, loss, seed: int = 0):
    rng = np.random.default_rng(seed)
    model = library.Sequential([library.Input((4, 3)),
                                library.layers.Dense(5, activation="softmax")])
    model.set_weights([rng.normal(size=(3, 5)) * 0.5, rng.normal(size=5) * 0.1])
    model.compile(optimizer=library.optimizers.SGD(0.5), loss=loss)
    return model


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_with_ignore_class_and_axis_trains_like_keras(keras, floatx_of, dtype):
    floatx_of(dtype)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 3)).astype(dtype)
    labels = rng.integers(0, 5, size=(6, 4))
    labels[rng.uniform(size=labels.shape) < 0.3] = 255
    one_hot = np.moveaxis(np.eye(5)[np.minimum(labels, 4)], -1, 1)     # (6, 5, 4)
    cases = [("SparseCategoricalCrossentropy", {"ignore_class": 255}, labels, None),
             ("CategoricalCrossentropy", {"axis": 1, "label_smoothing": 0.1}, one_hot, 1)]
    for name, kwargs, y, permute in cases:
        histories, weights = [], []
        for library in (keras, mr):
            loss = getattr(library.losses, name)(**kwargs)
            model = _segmentation_model(library, loss)
            if permute:        # channels first: (6, 4, 5) -> (6, 5, 4)
                model = library.Sequential([model, library.layers.Permute((2, 1))])
                model.compile(optimizer=library.optimizers.SGD(0.5), loss=loss)
            history = model.fit(x, y.astype(dtype), batch_size=3, epochs=2, shuffle=False,
                                verbose=0)
            histories.append(history.history["loss"])
            weights.append(model.get_weights())
        tolerance = TOLERANCE[dtype] * 10     # float32: 4 SGD steps of rounding
        assert relative_error(np.array(histories[1]), np.array(histories[0])) <= tolerance
        for ours, theirs in zip(weights[1], weights[0], strict=True):
            assert relative_error(ours, theirs) <= tolerance


def test_ignore_class_joins_the_padding_mask_as_keras(keras, floatx_of):
    """Embedding(mask_zero=True): Keras ands the predictions' mask with the labels' one."""
    floatx_of("float64")
    ids = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2], [5, 0, 0, 0, 0], [9, 9, 6, 0, 0]])
    labels = np.random.default_rng(0).integers(0, 3, size=ids.shape)
    labels[1, 2], labels[0, 0], labels[2, 3] = 255, 255, 255        # one of them padding
    results = []
    for library in (mr, keras):
        inputs = library.Input((5,), dtype="int32")
        hidden = library.layers.Embedding(10, 4, mask_zero=True)(inputs)
        model = library.Model(inputs, library.layers.Dense(3, activation="softmax")(hidden))
        if library is mr:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(optimizer=library.optimizers.SGD(0.5),
                      loss=library.losses.SparseCategoricalCrossentropy(ignore_class=255))
        history = model.fit(ids, labels, epochs=2, batch_size=2, shuffle=False, verbose=0)
        results.append((np.array(history.history["loss"]), model.get_weights()))
    assert relative_error(results[0][0], results[1][0]) <= 1e-12
    for ours, theirs in zip(results[0][1], results[1][1], strict=True):
        assert relative_error(ours, theirs) <= 1e-12


# -- Flatten(data_format) ---------------------------------------------------------------------

@pytest.mark.parametrize("data_format", [None, "channels_last", "channels_first",
                                         "Channels_First"])
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_flatten_data_format_matches_keras(keras, floatx_of, data_format, shape):
    import tensorflow as tf

    floatx_of("float64")
    x = np.random.default_rng(0).normal(size=shape)
    ours, theirs = mr.layers.Flatten(data_format), keras.layers.Flatten(data_format)
    assert ours.get_config()["data_format"] == theirs.get_config()["data_format"]
    out = ours(x)
    variable = tf.Variable(x)
    upstream = np.random.default_rng(1).normal(size=out.shape)
    with tf.GradientTape() as tape:
        their_out = theirs(variable)
        product = tf.reduce_sum(their_out * upstream)
    assert np.array_equal(out, their_out.numpy())
    ours.forward(x)
    assert np.array_equal(ours.backward(upstream), tape.gradient(product, variable).numpy())
    assert ours.compute_output_shape((None, *shape[1:])) == theirs.compute_output_shape(
        (None, *shape[1:]))


def test_flatten_channels_first_gradient_and_errors(float64, keras):
    from minired.gradcheck import check_layer

    layer = mr.layers.Flatten(data_format="channels_first")
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 2))
    for result in check_layer(layer, x):
        assert result.relative_error < 1e-7, result
    again = mr.layers.Flatten.from_config(layer.get_config())
    assert again.data_format == "channels_first"
    for library in (mr, keras):
        with pytest.raises(ValueError, match="must be one of"):
            library.layers.Flatten(data_format="channels_middle")


def test_flatten_channels_first_model_saves_and_loads_with_keras(keras, tmp_path):
    model = mr.Sequential([mr.Input((2, 3)), mr.layers.Flatten(data_format="channels_first"),
                           mr.layers.Dense(2)])
    x = np.random.default_rng(3).normal(size=(4, 2, 3)).astype("float32")
    path = str(tmp_path / "flatten.keras")
    model.save(path)
    theirs = keras.saving.load_model(path)
    assert theirs.layers[0].data_format == "channels_first"
    assert np.allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    theirs.save(path)
    assert mr.saving.load_model(path).layers[0].data_format == "channels_first"


# -- Progbar(stateful_metrics=..., unit_name=...) ---------------------------------------------

def _progbar_output(library, capsys, kwargs: dict, updates: list) -> str:
    import re

    bar = library.utils.Progbar(**kwargs)
    for current, values, finalize in updates:
        bar.update(current, values, finalize=finalize)
    output = capsys.readouterr().out
    output = re.sub(r"\d+(s|ms|us)/(step|sample)", r"T/\2", output)      # per-unit time
    output = re.sub(r"\b\d+s\b", "Ts", output)                          # elapsed or ETA
    # the erasing backspaces and padding spaces count the characters of those times
    return re.sub(r" *(\x08+|\n|$)", lambda m: "<back>" if "\b" in m[1] else m[1], output)


@pytest.mark.parametrize("kwargs", [
    {"target": 5, "verbose": 1, "interval": 0},
    {"target": 5, "verbose": 1, "interval": 0, "stateful_metrics": ["acc"]},
    {"target": 5, "verbose": 1, "interval": 0, "stateless_metrics": ["loss"],
     "unit_name": "sample"},
    {"target": 5, "verbose": 2, "stateful_metrics": {"acc"}},
    {"target": None, "verbose": 1, "interval": 0, "stateful_metrics": ["acc"]},
])
def test_progbar_averages_as_keras(keras, capsys, kwargs):
    updates = [(1, [("loss", 0.5), ("acc", 0.25)], None),
               (3, [("loss", 0.125), ("acc", np.float32(0.5))], None),
               (4, [("loss", np.array([0.25, 0.75])), ("acc", 0.0004)], None),
               (5, [("loss", 0.0625), ("acc", 0.75)], True)]
    theirs = _progbar_output(keras, capsys, kwargs, updates)
    ours = _progbar_output(mr, capsys, kwargs, updates)
    assert ours == theirs and "loss" in ours


def test_progbar_refuses_both_metric_lists(keras):
    for library in (keras, mr):
        with pytest.raises(ValueError, match="Only one of `stateful_metrics`"):
            library.utils.Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])
    assert list(inspect.signature(mr.utils.Progbar).parameters) == list(
        inspect.signature(keras.utils.Progbar).parameters)


# -- LSTM/GRU(use_cudnn=...) ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_use_cudnn_as_keras_on_a_cpu(keras, name):
    x = np.zeros((1, 3, 2), dtype="float32")
    for use_cudnn in ("auto", False):
        ours = getattr(mr.layers, name)(2, use_cudnn=use_cudnn)
        assert ours(x).shape == (1, 2) and ours.use_cudnn == use_cudnn
        assert "use_cudnn" not in ours.get_config()
        assert "use_cudnn" not in getattr(keras.layers, name)(2, use_cudnn=use_cudnn).get_config()
    for library in (keras, mr):
        layer = getattr(library.layers, name)(2, use_cudnn=True)
        with pytest.raises(ValueError, match="use_cudnn=True was specified"):
            layer(x)
        with pytest.raises(ValueError, match="Invalid valid received for argument `use_cudnn`"):
            getattr(library.layers, name)(2, use_cudnn="yes")
    default = inspect.signature(getattr(keras.layers, name)).parameters["use_cudnn"].default
    assert inspect.signature(getattr(mr.layers, name)).parameters["use_cudnn"].default == default


# -- load_weights(skip_mismatch=...), save_weights(max_shard_size=...) ------------------------

def _two_dense(library, units: int):
    return library.Sequential([library.Input((4,)), library.layers.Dense(3, name="d1"),
                               library.layers.Dense(units, name="d2")])


@pytest.mark.parametrize("loading", ["model", "function"])
def test_skip_mismatch_skips_the_layers_that_do_not_fit_as_keras(keras, tmp_path, loading):
    import warnings

    path = str(tmp_path / "a.weights.h5")
    saved = _two_dense(mr, 2)
    saved.save_weights(path)
    messages = {}
    for library in (keras, mr):
        model = _two_dense(library, 5)
        before = [np.array(w) for w in model.get_weights()]
        with pytest.raises(ValueError, match="d2"):
            model.load_weights(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if loading == "model":
                model.load_weights(path, skip_mismatch=True)
            else:
                library.saving.load_weights(model, path, skip_mismatch=True)
        messages[library] = [str(w.message) for w in caught
                             if "could not be loaded" in str(w.message)]
        after = model.get_weights()
        assert np.array_equal(after[0], saved.get_weights()[0])        # d1 loaded
        assert np.array_equal(after[2], before[2])                      # d2 kept its own
    # Keras' words around each library's own error message
    for library in (keras, mr):
        assert len(messages[library]) == 1
        head, _, tail = messages[library][0].partition(":\n\n")
        assert head == ("A total of 1 objects could not be loaded. Example error message "
                        "for object <Dense name=d2, built=True>")
        assert tail.endswith("List of objects that could not be loaded:\n"
                             "[<Dense name=d2, built=True>]")


def test_max_shard_size_is_refused_clearly(keras, tmp_path):
    model = _two_dense(mr, 2)
    model.save_weights(str(tmp_path / "a.weights.h5"), max_shard_size=None)
    with pytest.raises(ValueError, match="max_shard_size"):
        model.save_weights(str(tmp_path / "a.weights.json"), max_shard_size=1.0)
    with pytest.raises(ValueError, match="max_shard_size"):
        mr.saving.save_weights(model, str(tmp_path / "a.weights.json"), max_shard_size=1.0)
    for name in ("load_weights", "save_weights"):
        theirs = inspect.signature(getattr(keras.Model, name)).parameters
        ours = inspect.signature(getattr(mr.Model, name)).parameters
        assert [p for p in theirs if p != "kwargs"] == list(ours)
        assert all(ours[p].default == theirs[p].default for p in ours)


# -- Input / InputLayer: sparse, ragged, tensor, optional -------------------------------------

def test_input_takes_keras_arguments_at_their_defaults(keras):
    for name in ("Input", "InputLayer"):
        theirs = inspect.signature(getattr(keras.layers, name)).parameters
        ours = inspect.signature(getattr(mr.layers, name)).parameters
        assert list(ours) == list(theirs)
        assert all(ours[p].default == theirs[p].default for p in ours if p != "kwargs")
    kwargs = {"sparse": False, "ragged": None, "optional": False, "name": "x"}
    ours, theirs = mr.Input((3,), **kwargs), keras.Input((3,), **kwargs)
    assert ours.shape == theirs.shape
    layer_config = mr.layers.InputLayer((3,), **kwargs).get_config()
    their_config = keras.layers.InputLayer((3,), **kwargs).get_config()
    assert layer_config == {**their_config, "batch_shape": list(their_config["batch_shape"])}
    assert mr.layers.InputLayer.from_config(layer_config).get_config() == layer_config


@pytest.mark.parametrize("argument", ["sparse", "ragged", "optional"])
def test_input_refuses_what_minired_cannot_represent(argument):
    with pytest.raises(ValueError, match=f"`{argument}=True` is not supported"):
        mr.Input((3,), **{argument: True})
    with pytest.raises(ValueError, match=f"`{argument}=True` is not supported"):
        mr.layers.InputLayer.from_config({"batch_shape": [None, 3], "dtype": "float32",
                                          argument: True, "name": "x"})


def test_input_on_an_existing_tensor_as_keras(keras):
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    predictions = {}
    for library in (keras, mr):
        first = library.Input((4,))
        hidden = library.layers.Dense(3, kernel_initializer="ones")(first)
        start = library.Input(tensor=hidden)
        assert start is hidden and start.shape == (None, 3)
        model = library.Model(start, library.layers.Dense(2, kernel_initializer="ones")(start))
        assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
        predictions[library] = model.predict(x[:, :3], verbose=0)
        for bad in ({"shape": (4,)}, {"batch_size": 2}, {"dtype": "int32"},
                    {"batch_shape": (None, 4)}):
            with pytest.raises(ValueError, match=f"incompatible `{next(iter(bad))}`"):
                library.layers.InputLayer(input_tensor=hidden, **bad)
        with pytest.raises(ValueError, match="must be a KerasTensor"):
            library.layers.InputLayer(input_tensor=np.zeros((2, 3)))
    assert np.allclose(predictions[mr], predictions[keras], atol=1e-6)


# -- Model.summary(expand_nested, show_trainable, layer_range, positions) ---------------------

def _keras_rows(model, **options) -> list[list[str]]:
    chunks: list[str] = []
    model.summary(line_length=250, print_fn=lambda text, line_break=True: chunks.append(text),
                  **options)
    lines = "".join(chunks).splitlines()
    header = next(line for line in lines if "Layer (type)" in line)
    titles = [cell.strip() for cell in header.strip("┃").split("┃")]
    return [titles] + [[cell.strip() for cell in line.strip("│").split("│")]
                       for line in lines if line.startswith("│")]


def _our_rows(model, **options) -> list[list[str]]:
    lines: list[str] = []
    model.summary(print_fn=lines.append, **options)
    lines = lines[0].splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Layer (type)"))
    titles = [t for t in ("Layer (type)", "Output Shape", "Param #", "Connected to",
                          "Trainable") if t in lines[at]]
    starts = [lines[at].index(t) for t in titles]
    rows = [titles]
    for line in lines[at + 2:]:
        if line.startswith("─"):
            break
        rows.append([line[s:e].strip() for s, e in zip(starts, [*starts[1:], None],
                                                       strict=True)])
    return rows


def _nested(library, functional: bool):
    inner = library.Sequential([library.Input((3,)), library.layers.Dense(4, name="a"),
                                library.layers.Dense(2, name="b")], name="inner")
    inner.layers[1].trainable = False
    x = library.Input((3,), name="x")
    frozen = library.layers.Dense(5, name="frozen")
    frozen.trainable = False
    hidden = frozen(inner(x))
    if functional:        # two branches: the "Connected to" column
        hidden = library.layers.Concatenate(name="cat")(
            [hidden, library.layers.Dense(2, name="side")(x)])
    outputs = library.layers.Dense(1, name="out")(library.layers.Dropout(0.1)(hidden))
    return library.Model(x, outputs, name="outer")


@pytest.mark.parametrize("functional", [False, True])
@pytest.mark.parametrize("options", [
    {"expand_nested": True, "show_trainable": True},
    {"expand_nested": True},
    {"show_trainable": True, "positions": None},
    {"layer_range": ["frozen", "out"]},
    {"layer_range": ["inner", "inner"], "expand_nested": True, "show_trainable": True},
])
def test_summary_options_print_keras_rows(keras, monkeypatch, functional, options):
    monkeypatch.setenv("COLUMNS", "300")          # Keras fits its table to the terminal
    mr.backend.clear_session()                    # the automatic names start again
    ours = _our_rows(_nested(mr, functional), **options)
    keras.backend.clear_session()
    assert ours == _keras_rows(_nested(keras, functional), **options)


def test_summary_options_of_a_sequential_and_the_errors(keras, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    for library in (keras, mr):
        library.backend.clear_session()           # the automatic names start again
        model = library.Sequential([library.Input((3,)), _nested(library, False),
                                    library.layers.Dense(2, name="last")])
        rows = (_our_rows if library is mr else _keras_rows)(model, expand_nested=True,
                                                             show_trainable=True)
        if library is keras:
            theirs = rows
        for bad, message in ((["x"], "length 2"), ([1, 2], "string type only"),
                             (["nothing", "last"], "do not match")):
            with pytest.raises(ValueError, match=message):
                model.summary(layer_range=bad, print_fn=lambda *a, **k: None)
    assert rows == theirs
    for name in ("Sequential", "Model"):
        ours = inspect.signature(getattr(mr, name).summary).parameters
        assert list(ours) == list(inspect.signature(getattr(keras, name).summary).parameters)


@pytest.mark.parametrize("loss", [
    {"class": "SparseCategoricalCrossentropy", "kwargs": {"ignore_class": 255}},
    {"class": "CategoricalCrossentropy", "kwargs": {"axis": 1, "label_smoothing": 0.1}},
    {"class": "BinaryCrossentropy", "kwargs": {"axis": 1}},
])
def test_losses_with_the_new_arguments_cross_load_with_keras(keras, tmp_path, loss):
    path = str(tmp_path / "model.keras")
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=getattr(mr.losses, loss["class"])(**loss["kwargs"]))
    model.save(path)
    theirs = keras.saving.load_model(path)
    config = theirs.loss.get_config()
    assert all(config[key] == value for key, value in loss["kwargs"].items())
    theirs.save(path)
    assert mr.saving.load_model(path).loss.get_config() == config
