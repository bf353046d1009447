"""fit, evaluate and predict on data that comes in batches: generators, PyDataset, tf.data."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr

N, BATCH = 20, 8


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, 3)), rng.normal(size=(N, 1))


def model(lib=mr):
    inputs = lib.Input((3,))
    outputs = lib.layers.Dense(1)(lib.layers.Dense(4, activation="tanh")(inputs))
    built = lib.Model(inputs, outputs)
    built.set_weights([np.full(w.shape, 0.1 * (i + 1)) for i, w in
                       enumerate(built.get_weights())])
    return built


class Batches(mr.utils.PyDataset):
    """The arrays in batches of BATCH, in order; counts the on_epoch_end calls."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y, self.epochs_ended = x, y, 0

    def __len__(self):
        return -(-len(self.x) // BATCH)

    def __getitem__(self, index):
        part = slice(index * BATCH, (index + 1) * BATCH)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def batches_of(x, y):
    for start in range(0, len(x), BATCH):
        yield x[start:start + BATCH], y[start:start + BATCH]


def fit_on(source, **kwargs):
    trained = model()
    trained.compile(optimizer=mr.optimizers.SGD(0.05), loss="mse")
    history = trained.fit(source, epochs=3, verbose=0, **kwargs).history
    return history, trained.get_weights()


def test_a_pydataset_trains_exactly_as_the_same_batches_of_arrays():
    x, y = data()
    expected = fit_on(x, y=y, batch_size=BATCH, shuffle=False)
    dataset = Batches(x, y)
    got = fit_on(dataset, shuffle=False)          # shuffle=True draws a new batch order
    assert got[0] == expected[0]
    for a, b in zip(got[1], expected[1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert dataset.epochs_ended == 3


def test_a_generator_with_steps_per_epoch_continues_across_epochs():
    """3 epochs of 2 steps read 6 batches of an endless generator: the same 6 batches as
    an epoch-by-epoch loop over them."""
    x, y = data()

    def endless():
        while True:
            yield from batches_of(x, y)

    history, weights = fit_on(endless(), steps_per_epoch=2)
    assert len(history["loss"]) == 3
    reference = model()
    reference.compile(optimizer=mr.optimizers.SGD(0.05), loss="mse")
    stream = endless()
    for _ in range(3 * 2):
        reference.train_on_batch(*next(stream))
    for a, b in zip(weights, reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_generator_that_runs_out_stops_the_training_with_keras_warning():
    x, y = data()
    with pytest.warns(UserWarning, match="Your input ran out of data; interrupting training"):
        history, _ = fit_on(batches_of(x, y))
    assert len(history["loss"]) == 1            # one pass, then nothing more to read


def test_validation_from_a_pydataset_and_evaluate_and_predict_on_sources():
    x, y = data()
    trained = model()
    trained.compile(optimizer="sgd", loss="mse")
    history = trained.fit(x, y, epochs=2, verbose=0, validation_data=Batches(x, y)).history
    assert history["val_loss"][-1] == pytest.approx(trained.evaluate(x, y, verbose=0),
                                                    rel=1e-6)
    assert trained.evaluate(Batches(x, y), verbose=0) == pytest.approx(
        trained.evaluate(x, y, batch_size=BATCH, verbose=0), rel=1e-12)
    np.testing.assert_array_equal(trained.predict(Batches(x, y), verbose=0),
                                  trained.predict(x, verbose=0))
    np.testing.assert_array_equal(trained.predict(batches_of(x, y), verbose=0),
                                  trained.predict(x, verbose=0))
    assert trained.evaluate(Batches(x, y), steps=1, verbose=0) == pytest.approx(
        trained.evaluate(x[:BATCH], y[:BATCH], verbose=0), rel=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"y": np.zeros((N, 1))}, r"`y` is not supported when `x` is a generator or a dataset"),
    ({"validation_split": 0.2}, r"`validation_split` is only supported for arrays"),
    ({"steps_per_epoch": 0}, r"`steps_per_epoch` must be a positive int"),
])
def test_what_does_not_fit_a_data_source_is_named(kwargs, message):
    x, y = data()
    with pytest.raises(ValueError, match=message):
        fit_on(Batches(x, y), **kwargs)


def test_a_bad_batch_is_refused_before_its_step():
    x, y = data()

    def bad():
        yield x[:BATCH], y[:BATCH]
        yield x[:BATCH], np.zeros((BATCH, 5))

    trained = model()
    trained.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"`y \(a batch of the data\)` does not fit the loss"):
        trained.fit(bad(), epochs=1, verbose=0)


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")   # Keras ignores it too
def test_a_tf_data_dataset_and_a_generator_train_as_in_keras():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision, tf

    x, y = data()
    with precision("float64"):
        ours, theirs = model(), model(keras)
        ours.compile(optimizer=mr.optimizers.SGD(0.05), loss="mse")
        theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
        history_ours = ours.fit(dataset, epochs=3, verbose=0).history
        history_theirs = theirs.fit(dataset, epochs=3, verbose=0).history
        np.testing.assert_allclose(history_ours["loss"], history_theirs["loss"], rtol=1e-12)

        def endless():
            while True:
                yield from batches_of(x, y)

        history_ours = ours.fit(endless(), steps_per_epoch=2, epochs=3, verbose=0).history
        history_theirs = theirs.fit(endless(), steps_per_epoch=2, epochs=3, verbose=0).history
        np.testing.assert_allclose(history_ours["loss"], history_theirs["loss"], rtol=1e-12)
        for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-11)
