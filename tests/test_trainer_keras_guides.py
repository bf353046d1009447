"""The training entry points as keras-io's guides use them, compared with Keras.

From "Training & evaluation with the built-in methods" and "Writing your own callbacks":
a model trained only through ``add_loss`` (no targets anywhere), a PyDataset shuffled by
``fit``, ``class_weight`` with a dataset, and ``model.metrics_names``.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

# -- a model trained only through add_loss ----------------------------------------------------


def endpoint_model(lib=mr):
    """The guide's LogisticEndpoint idea: the layer adds ``mean((t - z)²)`` as the loss."""

    class Endpoint(lib.layers.Layer):
        def call(self, inputs):
            targets, logits = inputs
            self.add_loss(lib.ops.mean(lib.ops.square(targets - logits)))
            return logits

    x, t = lib.Input((3,), name="inputs"), lib.Input((2,), name="targets")
    model = lib.Model([x, t], Endpoint()([t, lib.layers.Dense(2)(x)]))
    model.set_weights([np.linspace(-1, 1, 6).reshape(3, 2), np.array([0.1, -0.2])])
    model.compile(optimizer=lib.optimizers.SGD(0.1))          # no loss, no metrics
    return model


def endpoint_data():
    rng = np.random.default_rng(0)
    return {"inputs": rng.normal(size=(8, 3)), "targets": rng.normal(size=(8, 2))}


class XOnly(mr.utils.PyDataset):
    """Batches of x alone (a dict of the model's inputs), no targets."""

    def __init__(self, data, size=4):
        super().__init__()
        self.data, self.size = data, size

    def __len__(self):
        return 8 // self.size

    def __getitem__(self, index):
        part = slice(index * self.size, (index + 1) * self.size)
        return {name: array[part] for name, array in self.data.items()}


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")   # Keras' own warning
def test_an_add_loss_model_is_evaluated_and_trained_without_targets_as_in_keras():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision, tf

    data = endpoint_data()
    with precision("float64"):
        ours, theirs = endpoint_model(), endpoint_model(keras)
        # Keras 3.15 accepts all of these with y=None; minired asked for `y` before.
        for model in (ours, theirs):
            model.results = [model.evaluate(data, verbose=0), model.test_on_batch(data),
                             model.train_on_batch(data), model.evaluate(data, verbose=0)]
        np.testing.assert_allclose(ours.results, theirs.results, rtol=1e-12)
        history_ours = ours.fit(data, validation_data=(data,), epochs=2, verbose=0).history
        history_theirs = theirs.fit(data, validation_data=(data,), epochs=2, verbose=0).history
        assert sorted(history_ours) == sorted(history_theirs) == ["loss", "val_loss"]
        for key in history_ours:
            np.testing.assert_allclose(history_ours[key], history_theirs[key], rtol=1e-12)
        dataset = tf.data.Dataset.from_tensor_slices(data).batch(4)       # x only
        history_ours = ours.fit(dataset, epochs=2, verbose=0).history
        history_theirs = theirs.fit(dataset, epochs=2, verbose=0).history
        np.testing.assert_allclose(history_ours["loss"], history_theirs["loss"], rtol=1e-12)
        np.testing.assert_allclose(ours.evaluate(dataset, verbose=0),
                                   theirs.evaluate(dataset, verbose=0), rtol=1e-12)


def test_an_add_loss_model_reads_x_only_batches_from_a_pydataset_and_a_generator():
    data = endpoint_data()
    model = endpoint_model()
    expected = model.evaluate(data, batch_size=4, verbose=0)
    assert model.evaluate(XOnly(data), verbose=0) == pytest.approx(expected, rel=1e-12)

    def generator():
        yield from (XOnly(data)[0], XOnly(data)[1])

    assert model.evaluate(generator(), verbose=0) == pytest.approx(expected, rel=1e-12)
    history = model.fit(XOnly(data), validation_data=XOnly(data), epochs=2, verbose=0)
    assert sorted(history.history) == ["loss", "val_loss"]


def test_a_compiled_loss_still_needs_targets_everywhere():
    x, y = np.ones((4, 3)), np.zeros((4, 1))
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"evaluate: `y` is required"):
        model.evaluate(x, verbose=0)
    for method in (model.train_on_batch, model.test_on_batch):
        with pytest.raises(ValueError, match=r"`y` is required"):
            method(x)
    with pytest.raises(ValueError, match=r"`validation_data` must be a tuple \(x_val, y_val\)"):
        model.fit(x, y, validation_data=(x,), verbose=0)
    with pytest.raises(ValueError, match=r"each batch of the data must hold the targets"):
        model.fit(iter([x]), verbose=0)


# -- a PyDataset is shuffled by fit -----------------------------------------------------------


class Recorded(mr.utils.PyDataset):
    """Six batches; records which index each read asked for."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def __len__(self):
        return 6

    def __getitem__(self, index):
        self.seen.append(index)
        return np.full((2, 3), float(index)), np.full((2, 1), float(index))


def epochs_read(shuffle=True, epochs=3, seed=7):
    mr.utils.set_random_seed(seed)
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    dataset = Recorded()
    model.fit(dataset, epochs=epochs, verbose=0, shuffle=shuffle)
    return [dataset.seen[i:i + 6] for i in range(0, len(dataset.seen), 6)]


def test_fit_shuffles_the_batches_of_a_pydataset_each_epoch_as_keras():
    # Keras 3.15 (TensorFlow) reads [0, 1, 5, 2, 3, 0, 4, 1, 2, 5, 1, 4, 0, 3] in 2 epochs:
    # batches 0 and 1 once to learn the shapes, then a new permutation of 0..5 each epoch
    # (PyDatasetAdapter._finite_generator: random.shuffle of the batch indices).
    epochs = epochs_read()
    assert all(sorted(order) == list(range(6)) for order in epochs)    # each batch once
    assert len({tuple(order) for order in epochs}) == 3                # a new order each epoch
    assert epochs != [list(range(6))] * 3
    assert epochs_read() == epochs                    # minired's seeded "shuffle" stream
    assert epochs_read(seed=8) != epochs
    assert epochs_read(shuffle=False) == [list(range(6))] * 3


def test_evaluate_and_validation_read_a_pydataset_in_order():
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    validation = Recorded()
    model.fit(Recorded(), validation_data=validation, epochs=2, verbose=0)
    evaluated = Recorded()
    model.evaluate(evaluated, verbose=0)
    assert validation.seen == [*range(6), *range(6)]
    assert evaluated.seen == list(range(6))


# -- class_weight with a dataset --------------------------------------------------------------

X_CW = np.linspace(-1, 1, 32).reshape(8, 4)
Y_CW = np.array([0, 1, 2, 0, 1, 2, 0, 1])
CLASS_WEIGHT = {0: 1.0, 1: 2.0, 2: 0.5}


def softmax_model(lib=mr):
    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, activation="softmax")])
    model.set_weights([np.linspace(-0.5, 0.5, 12).reshape(4, 3), np.zeros(3)])
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


class Labelled(mr.utils.PyDataset):
    def __len__(self):
        return 2

    def __getitem__(self, index):
        return X_CW[4 * index:4 * index + 4], Y_CW[4 * index:4 * index + 4]


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")   # Keras' own warning
def test_class_weight_weighs_each_batch_of_a_dataset_as_keras():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision, tf

    with precision("float64"):
        dataset = tf.data.Dataset.from_tensor_slices((X_CW, Y_CW)).batch(4)
        ours, theirs = softmax_model(), softmax_model(keras)
        history_ours = ours.fit(dataset, class_weight=CLASS_WEIGHT, epochs=2, verbose=0)
        history_theirs = theirs.fit(dataset, class_weight=CLASS_WEIGHT, epochs=2, verbose=0)
        np.testing.assert_allclose(history_ours.history["loss"],
                                   history_theirs.history["loss"], rtol=1e-12)
        arrays = softmax_model().fit(X_CW, Y_CW, batch_size=4, shuffle=False, epochs=2,
                                     class_weight=CLASS_WEIGHT, verbose=0)
        np.testing.assert_allclose(history_ours.history["loss"], arrays.history["loss"],
                                   rtol=1e-12)
        pydataset = softmax_model().fit(Labelled(), shuffle=False, epochs=2,
                                        class_weight=CLASS_WEIGHT, verbose=0)
        np.testing.assert_allclose(pydataset.history["loss"], arrays.history["loss"],
                                   rtol=1e-12)


class Weighted(mr.utils.PyDataset):
    """One batch that carries its own sample weights."""

    def __len__(self):
        return 1

    def __getitem__(self, index):
        return X_CW, Y_CW, np.ones(8)


def test_class_weight_with_a_dataset_is_refused_where_keras_refuses_it():
    x, y = X_CW[:4], Y_CW[:4]
    model = softmax_model()
    # Keras: "You cannot `class_weight` and `sample_weight` at the same time."
    with pytest.raises(ValueError, match=r"holds sample weights.*and `class_weight`"):
        model.fit(Weighted(), class_weight=CLASS_WEIGHT, verbose=0)
    # Keras: "Argument `class_weight` is not supported for Python generator inputs."
    with pytest.raises(ValueError, match=r"`class_weight` is not supported when `x` is a gen"):
        model.fit(iter([(x, y)]), class_weight=CLASS_WEIGHT, verbose=0)
    with pytest.raises(TypeError, match=r"`class_weight` must be a dict"):
        model.fit(Labelled(), class_weight=[1.0, 2.0, 0.5], verbose=0)


# -- model.metrics_names ----------------------------------------------------------------------


def names_along_the_way(lib, **compile_kwargs):
    """``metrics_names`` uncompiled, compiled, and after an evaluate (two outputs when the
    loss is a list)."""
    inputs = lib.Input((4,))
    if isinstance(compile_kwargs.get("loss"), list):
        outputs = [lib.layers.Dense(1, name="a")(inputs), lib.layers.Dense(1, name="b")(inputs)]
        y = [np.zeros(8), np.zeros(8)]
    else:
        outputs, y = lib.layers.Dense(3, activation="softmax")(inputs), np.zeros(8)
    model = lib.Model(inputs, outputs)
    seen = [model.metrics_names]
    model.compile(optimizer="sgd", **compile_kwargs)
    seen.append(model.metrics_names)
    model.evaluate(np.ones((8, 4)), y, verbose=0)
    seen.append(model.metrics_names)
    return seen


@pytest.mark.parametrize("compile_kwargs", [
    {"loss": "sparse_categorical_crossentropy", "metrics": ["sparse_categorical_accuracy"]},
    {"loss": "sparse_categorical_crossentropy", "metrics": ["acc", "accuracy"]},
    {"loss": "sparse_categorical_crossentropy"},
    {"loss": "sparse_categorical_crossentropy", "metrics": []},
    {"loss": ["mse", "mae"], "metrics": [["mae"], ["mse"]]},
    {"loss": ["mse", "mae"]},
    {"loss": ["mse", None], "metrics": [["mae"], []]},
])
def test_metrics_names_as_keras(compile_kwargs):
    # Keras 3.15: [], ['loss', 'compile_metrics'], ['loss', 'compile_metrics'] for the first;
    # with two losses, 'a_loss', 'b_loss' join after the first evaluate.
    pytest.importorskip("keras")
    from comparisons.keras_env import keras

    assert names_along_the_way(mr, **compile_kwargs) == names_along_the_way(keras,
                                                                            **compile_kwargs)


def test_the_compile_metrics_object_holds_each_metric_and_the_logs_still_name_them():
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy", "mse"])
    x, y = np.ones((8, 4)), np.eye(3)[np.zeros(8, dtype=int)]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    container = model.metrics[1]
    assert container.result() == {name: logs[name] for name in ("accuracy", "mse")}
    assert [m.name for m in container.metrics] == ["accuracy", "mse"]
    model.reset_metrics()
    assert container.metrics[0].result() == 0.0
    # As Keras' CompileMetrics, it updates its metrics itself (a custom train_step does so).
    container.update_state(y, model.predict(x, verbose=0))
    assert container.result() == pytest.approx({name: logs[name] for name in ("accuracy", "mse")})
    # A callback that watches a compiled metric still finds its direction inside it.
    stop = mr.callbacks.EarlyStopping(monitor="val_accuracy", patience=0)
    model.fit(x, y, validation_data=(x, y), epochs=3, callbacks=[stop], verbose=0)
    assert stop.monitor_op is not None
