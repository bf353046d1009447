"""keras-io's "endpoint layer pattern", compared with Keras.

1. A metric held by a layer (or by a subclassed model) and updated in its ``call`` is one
   of the model's metrics: in ``model.metrics``, reset each epoch, in the logs, ``History``
   and what ``evaluate`` returns, under its own name (``val_`` for validation).
2. A subclassed model takes a dict (nested too) of arrays in fit / evaluate / predict and
   the ``*_on_batch`` methods, and its ``call`` receives the same structure.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

# -- 1. metrics held by layers ----------------------------------------------------------------


def endpoint_model(lib):
    """keras-io's LogisticEndpoint: the layer adds its loss and updates its accuracy."""

    class LogisticEndpoint(lib.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = lib.losses.BinaryCrossentropy(from_logits=True)
            self.accuracy_fn = lib.metrics.BinaryAccuracy(name="accuracy")

        def call(self, logits, targets=None, sample_weights=None):
            if targets is not None:
                self.add_loss(self.loss_fn(targets, logits, sample_weights))
                self.accuracy_fn.update_state(targets, logits, sample_weights)
            return lib.ops.softmax(logits)

    inputs = lib.Input((4,), name="inputs")
    targets = lib.Input((3,), name="targets")
    logits = lib.layers.Dense(3)(inputs)
    model = lib.Model([inputs, targets], LogisticEndpoint(name="predictions")(logits, targets))
    model.set_weights([np.linspace(-1, 1, 12).reshape(4, 3), np.array([0.1, -0.2, 0.0])])
    model.compile(optimizer=lib.optimizers.SGD(0.5))
    return model


def endpoint_data(n=20):
    rng = np.random.default_rng(1)
    return {"inputs": rng.normal(size=(n, 4)), "targets": (rng.random((n, 3)) > 0.5) * 1.0}


def results(model, data: tuple, validation: tuple) -> dict:
    """Everything a script reads of the metrics, in the order it comes; ``data`` is ``(x,)``
    or ``(x, y)``, ``validation`` the ``validation_data``."""
    history = model.fit(*data, validation_data=validation, epochs=2, batch_size=8,
                        shuffle=False, verbose=0).history
    return {"history keys": list(history), "history": history,
            "metrics_names": model.metrics_names,
            "evaluate": model.evaluate(*data, verbose=0),
            "evaluate dict": model.evaluate(*data, verbose=0, return_dict=True),
            "train_on_batch": model.train_on_batch(*data, return_dict=True),
            "test_on_batch": model.test_on_batch(*data)}


def assert_same(ours: dict, theirs: dict) -> None:
    for key in ("history keys", "metrics_names"):
        assert ours[key] == theirs[key], key
    for key in ("history", "evaluate dict", "train_on_batch"):
        assert list(ours[key]) == list(theirs[key]), key          # the keys, in order
        for name in ours[key]:
            np.testing.assert_allclose(ours[key][name], theirs[key][name], rtol=1e-10,
                                       err_msg=f"{key}: {name}")
    for key in ("evaluate", "test_on_batch"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-10, err_msg=key)


def test_a_metric_updated_in_an_endpoint_layer_is_reported_as_in_keras():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision

    data, validation = endpoint_data(), endpoint_data(12)
    with precision("float64"):
        ours = results(endpoint_model(mr), (data,), (validation,))
        theirs = results(endpoint_model(keras), (data,), (validation,))
    # Keras 3.15: ['accuracy', 'loss', 'val_accuracy', 'val_loss'], and
    # metrics_names ['loss', 'accuracy'] (minired reported the loss alone).
    assert ours["history keys"] == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert_same(ours, theirs)


def nested_metrics_model(lib):
    """A subclassed model holding a metric, and a layer holding a layer that holds one."""

    class Inner(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner_mean = lib.metrics.Mean(name="inner_mean")

        def call(self, x):
            self.inner_mean.update_state(x)
            return x

    class Outer(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.outer_mean = lib.metrics.Mean(name="outer_mean")

        def call(self, x):
            self.outer_mean.update_state(2.0 * x)
            return self.inner(x)

    class Model(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(1)
            self.outer = Outer()
            self.model_mean = lib.metrics.Mean(name="model_mean")

        def call(self, x):
            z = self.dense(x)
            self.model_mean.update_state(3.0 * z + 1.0)
            return self.outer(z)

    model = Model()
    model(np.zeros((1, 3)))
    model.set_weights([np.array([[0.3], [-0.2], [0.5]]), np.array([0.1])])
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    return model


def test_the_metrics_of_a_subclassed_model_and_its_nested_layers_as_in_keras():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    with precision("float64"):
        ours = results(nested_metrics_model(mr), (x, y), (x[:8], y[:8]))
        theirs = results(nested_metrics_model(keras), (x, y), (x[:8], y[:8]))
    # Keras 3.15 lists the nested layer's metric twice (once under each layer that holds
    # it, its _flatten_layers walk), so evaluate's list has it twice too.
    assert ours["metrics_names"] == ["loss", "compile_metrics", "model_mean", "outer_mean",
                                     "inner_mean", "inner_mean"]
    assert len(ours["evaluate"]) == 6
    assert_same(ours, theirs)


@pytest.mark.filterwarnings("ignore:Your input ran out of data")      # Keras' own warnings
@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
def test_a_layer_metric_counts_only_the_batches_of_a_generator_as_in_keras():
    """Each batch from a generator is checked against the model's output shape, which runs
    ``call`` on a sample of zeros: that must not reach the metric (Keras traces it)."""
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))

    def batches():
        yield from ((x[i:i + 8], y[i:i + 8]) for i in range(0, 20, 8))

    with precision("float64"):
        logs = [nested_metrics_model(lib).fit(batches(), verbose=0).history
                for lib in (mr, keras)]
    assert list(logs[0]) == list(logs[1])
    for name in logs[0]:
        np.testing.assert_allclose(logs[0][name], logs[1][name], rtol=1e-10, err_msg=name)


def test_layer_metrics_are_reset_each_epoch_and_listed_before_compile():
    model = endpoint_model(mr)
    endpoint = model.layers[-1]
    uncompiled = mr.Model(model.inputs, model.outputs)
    assert [m.name for m in uncompiled.metrics] == ["accuracy"]     # as Keras: compiled or not
    data = endpoint_data()
    first = model.evaluate(data, verbose=0, return_dict=True)
    assert endpoint.accuracy_fn.count == 20              # the 20 samples, once
    model.predict(data, verbose=0)                       # predict updates, never resets
    assert endpoint.accuracy_fn.count == 40
    assert model.evaluate(data, verbose=0, return_dict=True) == first     # reset first
    assert model.metrics[-1] is endpoint.accuracy_fn


# -- 2. a subclassed model takes a dict -------------------------------------------------------


def dict_model(lib):
    """``call`` reads a nested dict: ``{"a": x_a, "b": (x_b, scale)}``."""

    class TwoBranches(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense_a = lib.layers.Dense(1)
            self.dense_b = lib.layers.Dense(1)

        def call(self, inputs):
            x_b, scale = inputs["b"]
            return self.dense_a(inputs["a"]) + self.dense_b(x_b) * scale

    model = TwoBranches()
    model({"a": np.zeros((1, 2)), "b": (np.zeros((1, 3)), np.zeros((1, 1)))})
    model.set_weights([np.array([[0.3], [-0.2]]), np.zeros(1),
                       np.array([[0.1], [0.2], [-0.4]]), np.array([0.05])])
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    return model


def dict_data(n=20):
    rng = np.random.default_rng(4)
    x = {"a": rng.normal(size=(n, 2)), "b": (rng.normal(size=(n, 3)), rng.normal(size=(n, 1)))}
    return x, rng.normal(size=(n, 1))


def dict_results(model, x, y):
    def batches():
        # (a tuple in the dict: Keras' tf.data reads no list from a generator)
        yield from (({"a": x["a"][i:i + 8], "b": tuple(b[i:i + 8] for b in x["b"])},
                     y[i:i + 8]) for i in range(0, 20, 8))

    return {"fit": model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0,
                             validation_split=0.25).history,
            "fit validation_data": model.fit(x, y, batch_size=8, shuffle=False, verbose=0,
                                             validation_data=(x, y)).history,
            "fit generator": model.fit(batches(), verbose=0).history,
            "evaluate": model.evaluate(x, y, batch_size=8, verbose=0),
            "predict": model.predict(x, batch_size=8, verbose=0),
            "train_on_batch": model.train_on_batch(x, y),
            "test_on_batch": model.test_on_batch(x, y),
            "predict_on_batch": model.predict_on_batch(x),
            "weights": model.get_weights()}


@pytest.mark.filterwarnings("ignore:Your input ran out of data")      # Keras' own warnings
@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
def test_a_subclassed_model_trains_on_a_nested_dict_as_in_keras():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision

    x, y = dict_data()
    with precision("float64"):
        ours, theirs = dict_results(dict_model(mr), x, y), dict_results(dict_model(keras), x, y)
    for key in ours:
        if isinstance(ours[key], dict):
            assert list(ours[key]) == list(theirs[key]), key
            for name in ours[key]:
                np.testing.assert_allclose(ours[key][name], theirs[key][name], rtol=1e-10)
        elif key == "weights":
            for mine, keras_weight in zip(ours[key], theirs[key], strict=True):
                np.testing.assert_allclose(mine, keras_weight, rtol=1e-10)
        else:
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-10, err_msg=key)


def test_shuffled_batches_take_the_same_rows_of_every_array():
    class Difference(mr.Model):
        def __init__(self):
            super().__init__()
            self.dense = mr.layers.Dense(1)

        def call(self, inputs):          # a - b == y row by row: the loss is 0 when aligned
            return inputs["a"] - inputs["b"][0] + 0.0 * self.dense(inputs["a"])

    rows = np.arange(30.0)[:, None]
    model = Difference()
    model.compile(optimizer="sgd", loss="mse")
    x = {"b": [2.0 * rows], "a": rows}
    history = model.fit(x, -rows, batch_size=4, epochs=2, shuffle=True, verbose=0,
                        validation_split=0.2)
    assert history.history["loss"] == [0.0, 0.0]
    assert history.history["val_loss"] == [0.0, 0.0]
    np.testing.assert_array_equal(model.predict(x, batch_size=7, verbose=0), -rows)


def test_a_dict_of_inputs_is_checked_array_by_array():
    model = dict_model(mr)
    x, y = dict_data(8)
    nan = {"a": x["a"], "b": [x["b"][0], np.full((8, 1), np.nan)]}
    with pytest.raises(ValueError, match=r"`x\['b'\]\[1\]` contains NaN or inf"):
        model.fit(nan, y, verbose=0)
    short = {"a": x["a"][:7], "b": x["b"]}
    with pytest.raises(ValueError, match=r"the same number of samples, got x\['a'\]: 7, "
                                         r"x\['b'\]\[0\]: 8, x\['b'\]\[1\]: 8"):
        model.evaluate(short, y, verbose=0)
    with pytest.raises(TypeError, match=r"`x\['a'\]` must be a numeric array"):
        model.predict({"a": [["one", "two"]] * 8, "b": x["b"]}, verbose=0)
    with pytest.raises(ValueError, match=r"`x` is an empty dict"):
        model.predict_on_batch({})
    with pytest.raises(ValueError, match=r"`validation_data\[0\]` must have the structure of "
                                         r"`x`"):
        model.fit(x, y, validation_data=([x["a"], *x["b"]], y), verbose=0)
