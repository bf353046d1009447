"""Sequential and its training API, held to Keras' semantics (KERAS_PARITY §8, §11).

The ``fit`` tests recompute what ``fit`` must do by hand: the same batches, the loss of each
batch *before* its update (``loss_and_gradients``), a plain SGD step ``w <- w - lr·g``, and
the batch-size-weighted mean over the epoch. They run in float64 so the comparison is exact
to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.callbacks import Callback, History
from minired.layers import Dense, Dropout

LR = 0.1


# -- helpers ----------------------------------------------------------------------------------

def make_model(seed: int = 0, n_features: int = 4, hidden: int = 5, outputs: int = 3,
               output_activation: str = "softmax", dropout: float | None = None,
               kernel_regularizer=None) -> mr.Sequential:
    mr.utils.set_random_seed(seed)
    layers = [mr.Input((n_features,)),
              Dense(hidden, activation="tanh", kernel_regularizer=kernel_regularizer,
                    bias_initializer="random_normal")]
    if dropout is not None:
        layers.append(Dropout(dropout))
    layers.append(Dense(outputs, activation=output_activation, bias_initializer="random_normal"))
    return mr.Sequential(layers)


def classification_data(n: int = 10, n_features: int = 4, n_classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    return x, np.eye(n_classes)[rng.integers(0, n_classes, n)]


def compiled(model: mr.Sequential, loss="categorical_crossentropy", metrics=("accuracy",)):
    model.compile(optimizer=mr.optimizers.SGD(LR), loss=loss, metrics=list(metrics))
    return model


def replay_sgd(model, x, y, batch_size, epochs, sample_weight=None, training=False):
    """What ``fit(shuffle=False)`` must do with SGD, written out; returns (losses, accuracies)."""
    epoch_losses, epoch_accuracies = [], []
    for _ in range(epochs):
        total = count = correct = 0.0
        for start in range(0, len(x), batch_size):
            batch = slice(start, start + batch_size)
            sw = None if sample_weight is None else sample_weight[batch]
            before = model.predict(x[batch], verbose=0)             # pre-update predictions
            loss, grads = model.loss_and_gradients(x[batch], y[batch], training=training,
                                                   sample_weight=sw)
            for weight, grad in zip(model.weights, grads, strict=True):
                weight -= grad * LR
            n_b = len(x[batch])
            total += loss * n_b
            count += n_b
            correct += np.sum(np.argmax(before, -1) == np.argmax(y[batch], -1))
        epoch_losses.append(total / count)
        epoch_accuracies.append(correct / count)
    return epoch_losses, epoch_accuracies


def cross_entropy_from_logits(z, y):
    """Per-sample -Σ y log softmax(z)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return -np.sum(y * (shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))), axis=-1)


class Recorder(Callback):
    """Records the batches of each epoch and the weights at the end of each epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.weights: list[list[np.ndarray]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.batches[-1] += 1

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


# -- fit: the epoch loss, batches and order ---------------------------------------------------

def test_fit_epoch_loss_is_the_batch_size_weighted_mean_of_pre_update_losses(float64):
    x, y = classification_data(n=10)
    model = compiled(make_model())
    initial = model.get_weights()
    recorder = Recorder()
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0,
                        callbacks=[recorder])

    model.set_weights(initial)
    losses, accuracies = replay_sgd(model, x, y, batch_size=4, epochs=3)

    assert recorder.batches == [3, 3, 3]                      # 4 + 4 + 2: the last batch is kept
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-13)
    np.testing.assert_allclose(history.history["accuracy"], accuracies, rtol=1e-13)
    for fitted, replayed in zip(recorder.weights[-1], model.get_weights(), strict=True):
        np.testing.assert_allclose(fitted, replayed, rtol=1e-13)


def test_the_weighted_epoch_mean_differs_from_the_plain_mean_of_batch_losses(float64):
    """With batches of 4, 4 and 2 the two means differ, so the test above can tell them apart."""
    x, y = classification_data(n=10)
    model = compiled(make_model())
    batch_losses = []
    for start in range(0, 10, 4):
        loss, grads = model.loss_and_gradients(x[start:start + 4], y[start:start + 4])
        batch_losses.append(loss)
        for weight, grad in zip(model.weights, grads, strict=True):
            weight -= grad * LR
    weighted = np.dot(batch_losses, [4, 4, 2]) / 10
    assert not np.isclose(weighted, np.mean(batch_losses), rtol=1e-6)


def test_fit_default_batch_size_is_32():
    x, y = classification_data(n=70)
    recorder = Recorder()
    compiled(make_model()).fit(x, y, epochs=1, verbose=0, callbacks=[recorder])
    assert recorder.batches == [3]                             # 32 + 32 + 6


def test_fit_with_dropout_reports_the_training_mode_loss(float64):
    """fit runs Dropout in training mode: replaying the same masks gives the same numbers."""
    x, y = classification_data(n=9)
    model = compiled(make_model(dropout=0.4))
    dropout = model.layers[1]
    initial, state = model.get_weights(), dropout.generator.bit_generator.state
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    fitted = model.get_weights()

    model.set_weights(initial)
    dropout.generator.bit_generator.state = state
    losses, _ = replay_sgd(model, x, y, batch_size=4, epochs=2, training=True)
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-13)
    for a, b in zip(fitted, model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    # And the training-mode loss is not the inference-mode one.
    model.set_weights(initial)
    assert history.history["loss"][0] != pytest.approx(replay_sgd(model, x, y, 4, 1)[0][0])


def test_shuffle_changes_the_batches(float64):
    x, y = classification_data(n=10)
    runs = []
    for shuffle in (False, True):
        model = compiled(make_model(seed=1))
        model.fit(x, y, batch_size=4, epochs=2, shuffle=shuffle, verbose=0)
        runs.append(model.get_weights())
    assert not np.allclose(runs[0][0], runs[1][0])


# -- validation -------------------------------------------------------------------------------

def test_validation_split_holds_out_the_last_fraction_before_shuffling(float64):
    x, y = classification_data(n=10)
    split = 7                                                  # floor(10 · (1 - 0.25))
    a = compiled(make_model(seed=2))
    history_a = a.fit(x, y, batch_size=3, epochs=3, validation_split=0.25, verbose=0)
    b = compiled(make_model(seed=2))
    history_b = b.fit(x[:split], y[:split], batch_size=3, epochs=3, verbose=0,
                      validation_data=(x[split:], y[split:]))
    assert history_a.history == history_b.history             # same shuffles, same numbers
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_validation_split_trains_only_on_the_first_samples(float64):
    x, y = classification_data(n=10)
    model = compiled(make_model(seed=3))
    initial = model.get_weights()
    history = model.fit(x, y, batch_size=3, epochs=2, shuffle=False, validation_split=0.3,
                        verbose=0)
    model.set_weights(initial)
    losses, _ = replay_sgd(model, x[:7], y[:7], batch_size=3, epochs=2)
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-13)


def test_val_loss_uses_the_end_of_epoch_weights_without_dropout(float64):
    x, y = classification_data(n=12)
    model = compiled(make_model(seed=4, dropout=0.5))
    recorder = Recorder()
    history = model.fit(x, y, batch_size=5, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[recorder])
    for epoch, weights in enumerate(recorder.weights):
        model.set_weights(weights)
        loss, accuracy = model.evaluate(x[9:], y[9:], verbose=0)
        assert history.history["val_loss"][epoch] == pytest.approx(loss, rel=1e-13)
        assert history.history["val_accuracy"][epoch] == accuracy


def test_validation_data_with_sample_weights_divides_by_n(float64):
    x, y = classification_data(n=8)
    w = np.array([0.0, 1.0, 2.0, 3.0])
    model = compiled(make_model(seed=5), metrics=())
    recorder = Recorder()
    history = model.fit(x[:4], y[:4], epochs=1, verbose=0, validation_data=(x[4:], y[4:], w),
                        callbacks=[recorder])
    model.set_weights(recorder.weights[0])
    expected = np.sum(w * cross_entropy_from_logits(_output_logits(model, x[4:]), y[4:])) / 4
    assert history.history["val_loss"][0] == pytest.approx(expected, rel=1e-12)


# -- what the loss contains and how it is weighted --------------------------------------------

def test_training_loss_includes_regularization_penalties(float64):
    x, y = classification_data(n=6)
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), Dense(3, activation="softmax",
                                                 kernel_regularizer=mr.regularizers.L2(0.125))])
    compiled(model, metrics=())
    kernel, bias = model.get_weights()
    history = model.fit(x, y, batch_size=6, epochs=1, verbose=0)
    data_loss = np.mean(cross_entropy_from_logits(x @ kernel + bias, y))
    penalty = 0.125 * np.sum(kernel ** 2)
    assert history.history["loss"][0] == pytest.approx(data_loss + penalty, rel=1e-13)

    kernel, bias = model.get_weights()                         # evaluate includes it too
    expected = (np.mean(cross_entropy_from_logits(x @ kernel + bias, y))
                + 0.125 * np.sum(kernel ** 2))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-13)


def test_class_weight_divides_by_n_and_leaves_accuracy_unweighted(float64):
    x, y = classification_data(n=6)
    model = compiled(make_model(seed=6))
    initial = model.get_weights()
    per_sample = cross_entropy_from_logits(_output_logits(model, x), y)
    accuracy = np.mean(np.argmax(model.predict(x, verbose=0), -1) == np.argmax(y, -1))
    class_weight = {0: 0.5, 1: 2.0}                            # class 2 missing: weight 1
    w = np.array([class_weight.get(c, 1.0) for c in np.argmax(y, -1)])

    history = model.fit(x, y, batch_size=6, epochs=1, verbose=0, class_weight=class_weight)

    assert history.history["loss"][0] == pytest.approx(np.sum(w * per_sample) / 6, rel=1e-13)
    assert np.sum(w * per_sample) / 6 != pytest.approx(np.sum(w * per_sample) / np.sum(w))
    assert history.history["accuracy"][0] == pytest.approx(accuracy)
    # The update is the weighted gradient, the same as with sample_weight=w.
    fitted = model.get_weights()
    model.set_weights(initial)
    _, grads = model.loss_and_gradients(x, y, sample_weight=w)
    for f, w0, g in zip(fitted, initial, grads, strict=True):
        np.testing.assert_allclose(f, w0 - g * LR, rtol=1e-13)


def test_sample_weight_in_fit_and_evaluate_divides_by_n(float64):
    x, y = classification_data(n=5)
    w = np.array([1.0, 0.0, 3.0, 0.5, 2.0])
    model = compiled(make_model(seed=7), metrics=())
    per_sample = cross_entropy_from_logits(_output_logits(model, x), y)
    expected = np.sum(w * per_sample) / 5
    assert model.evaluate(x, y, sample_weight=w, verbose=0) == pytest.approx(expected, rel=1e-13)
    history = model.fit(x, y, sample_weight=w, batch_size=5, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-13)


def test_class_weight_reads_integer_and_binary_labels():
    from minired.trainers.data_adapter import class_weight_to_sample_weights
    np.testing.assert_array_equal(
        class_weight_to_sample_weights(np.array([0, 2, 1, 2]), {2: 5.0}), [1, 5, 1, 5])
    np.testing.assert_array_equal(
        class_weight_to_sample_weights(np.array([[1.0], [0.0]]), {0: 0.25, 1: 4.0}), [4, 0.25])


def _output_logits(model, x):
    model.predict(x, verbose=0)
    return model.layers[-1].cache.z


# -- History ----------------------------------------------------------------------------------

def test_history_keys_values_and_epochs():
    x, y = classification_data(n=12)
    model = compiled(make_model())
    history = model.fit(x, y, epochs=2, batch_size=4, validation_split=0.25, verbose=0)
    assert isinstance(history, History) and model.history is history
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 2 and all(type(e) is float for e in v) for v in history.history.values())
    assert history.epoch == [0, 1]
    no_validation = compiled(make_model()).fit(x, y, epochs=1, verbose=0)
    assert list(no_validation.history) == ["accuracy", "loss"]


def test_initial_epoch_runs_the_remaining_epochs(float64):
    x, y = classification_data(n=8)
    model = compiled(make_model())
    history = model.fit(x, y, epochs=5, initial_epoch=3, batch_size=4, verbose=0)
    assert history.epoch == [3, 4]
    assert len(history.history["loss"]) == 2
    assert model.optimizer.iterations == 2 * 2


def test_fit_is_silent_with_verbose_0(capsys):
    x, y = classification_data(n=4)
    compiled(make_model()).fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


# -- determinism ------------------------------------------------------------------------------

def _seeded_run(seed: int):
    x, y = classification_data(n=20)
    model = compiled(make_model(seed=seed, dropout=0.3))
    history = model.fit(x, y, batch_size=6, epochs=3, shuffle=True, validation_split=0.2,
                        verbose=0)
    return model.get_weights(), history.history


def test_same_seed_gives_bit_identical_weights_and_history():
    weights_a, history_a = _seeded_run(11)
    weights_b, history_b = _seeded_run(11)
    for a, b in zip(weights_a, weights_b, strict=True):
        np.testing.assert_array_equal(a, b)
    assert history_a == history_b
    weights_c, history_c = _seeded_run(12)
    assert history_c != history_a
    assert not np.array_equal(weights_c[0], weights_a[0])


def test_same_seed_same_initial_weights_and_dropout_masks():
    masks = []
    for _ in range(2):
        mr.utils.set_random_seed(5)
        layer = Dropout(0.5)
        masks.append(layer(np.ones((3, 8), dtype=np.float32), training=True))
    np.testing.assert_array_equal(masks[0], masks[1])


# -- single batches, evaluate, predict --------------------------------------------------------

def test_train_on_batch_returns_the_pre_update_loss_and_takes_one_sgd_step(float64):
    x, y = classification_data(n=5)
    model = compiled(make_model(seed=8))
    initial = model.get_weights()
    expected_loss, grads = model.loss_and_gradients(x, y)
    accuracy = np.mean(np.argmax(model.predict(x, verbose=0), -1) == np.argmax(y, -1))
    loss, acc = model.train_on_batch(x, y)
    assert loss == pytest.approx(expected_loss, rel=1e-14)
    assert acc == pytest.approx(accuracy)
    for w, w0, g in zip(model.get_weights(), initial, grads, strict=True):
        np.testing.assert_allclose(w, w0 - g * LR, rtol=1e-14)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert sorted(logs) == ["accuracy", "loss"]


def test_test_on_batch_and_evaluate_agree_and_do_not_train(float64):
    x, y = classification_data(n=9)
    model = compiled(make_model(seed=9))
    weights = model.get_weights()
    full = model.evaluate(x, y, batch_size=9, verbose=0)
    batched = model.evaluate(x, y, batch_size=2, verbose=0)    # batch-size-weighted mean
    np.testing.assert_allclose(batched, full, rtol=1e-13)
    np.testing.assert_allclose(model.test_on_batch(x, y), full, rtol=1e-13)
    expected = np.mean(cross_entropy_from_logits(_output_logits(model, x), y))
    assert full[0] == pytest.approx(expected, rel=1e-13)
    for w, w0 in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(w, w0)


def test_evaluate_return_forms():
    x, y = classification_data(n=4)
    assert isinstance(compiled(make_model(), metrics=()).evaluate(x, y, verbose=0), float)
    model = compiled(make_model())
    assert len(model.evaluate(x, y, verbose=0)) == 2
    assert sorted(model.evaluate(x, y, verbose=0, return_dict=True)) == ["accuracy", "loss"]
    assert model.metrics_names == ["loss", "compile_metrics"]     # as Keras 3.15 names them


def test_predict_is_deterministic_inference_and_batched(float64):
    x, _ = classification_data(n=7)
    model = make_model(dropout=0.5)                            # predict needs no compile
    out = model.predict(x, batch_size=3, verbose=0)
    np.testing.assert_allclose(out, model.predict(x, batch_size=7, verbose=0), rtol=1e-14)
    np.testing.assert_array_equal(out, model.predict(x, batch_size=3, verbose=0))
    hidden, _, output = model.layers
    z1 = np.tanh(x @ hidden.kernel + hidden.bias)
    z2 = z1 @ output.kernel + output.bias
    expected = np.exp(z2) / np.exp(z2).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(model.predict_on_batch(x), out, rtol=1e-14)
    np.testing.assert_allclose(model(x), out, rtol=1e-14)


def test_model_without_input_builds_on_first_use():
    model = mr.Sequential([Dense(3)])
    assert not model.built
    assert model.predict(np.ones((2, 5)), verbose=0).shape == (2, 3)
    assert model.built and model.input_shape == (None, 5)
    assert model.get_weights()[0].shape == (5, 3)


def test_non_trainable_layers_are_not_updated():
    x, y = classification_data(n=8)
    model = make_model()
    model.layers[0].trainable = False
    compiled(model)
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(model.layers[0].get_weights(), frozen, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(model.layers[1].kernel, make_model().layers[1].kernel)


# -- weights and summary ----------------------------------------------------------------------

def test_get_weights_order_shapes_and_copies():
    model = make_model(n_features=4, hidden=5, outputs=3)
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 5), (5,), (5, 3), (3,)]
    weights[0][...] = 123.0
    assert not np.any(model.layers[0].kernel == 123.0)        # copies, not the arrays


def test_set_weights_round_trip_writes_in_place():
    model = make_model()
    kernel = model.layers[0].kernel
    new = [np.full_like(w, i) for i, w in enumerate(model.get_weights())]
    model.set_weights(new)
    assert model.layers[0].kernel is kernel                   # optimizer state stays attached
    for got, want in zip(model.get_weights(), new, strict=True):
        np.testing.assert_array_equal(got, want)


def test_summary_lists_layers_shapes_and_parameter_counts():
    model = make_model(n_features=4, hidden=5, outputs=3, dropout=0.1)
    model.layers[2].trainable = False
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    for layer, shape, params in zip(model.layers, ["(None, 5)", "(None, 5)", "(None, 3)"],
                                    [4 * 5 + 5, 0, 5 * 3 + 3], strict=True):
        row = next(line for line in text.splitlines() if line.startswith(layer.name + " "))
        assert shape in row and row.rstrip().endswith(str(params))
    assert f"Total params: {25 + 18}" in text
    assert "Trainable params: 25" in text
    assert "Non-trainable params: 18" in text
    assert model.count_params() == 43


def test_summary_of_a_model_not_built_yet_prints_what_keras_prints():
    # Keras 3.15: shapes "?", "0 (unbuilt)" for a layer that will make weights, "0" for
    # the ones Keras builds in their constructor (Dropout, activations, pooling).
    model = mr.Sequential([Dense(2), mr.layers.Dropout(0.1), mr.layers.Flatten(),
                           mr.layers.Activation("relu")])
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    rows = [line.split() for line in lines[0].splitlines()[4:8]]
    assert [row[0] for row in rows] == [layer.name for layer in model.layers]
    assert [row[2:] for row in rows] == [["?", "0", "(unbuilt)"], ["?", "0"],
                                         ["?", "0", "(unbuilt)"], ["?", "0"]]
    assert lines[0].splitlines()[-3:] == [" Total params: 0 (0.00 B)",
                                          " Trainable params: 0 (0.00 B)",
                                          " Non-trainable params: 0 (0.00 B)"]
    assert not model.built                                    # summary builds nothing


def test_summary_counts_the_optimizer_state_once_it_exists_as_keras():
    # The numbers Keras 3.15 prints for this model: Adam's m and v (40 floats), its step
    # counter (int64) and learning rate count once the first update made them.
    model = mr.Sequential([mr.Input((3,)), Dense(2), Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    assert lines[0].splitlines()[-3:] == [" Total params: 20 (80.00 B)",
                                          " Trainable params: 20 (80.00 B)",
                                          " Non-trainable params: 0 (0.00 B)"]
    model.fit(np.ones((4, 3)), np.ones((4, 4)), verbose=0)
    model.summary(print_fn=lines.append)
    assert lines[1].splitlines()[-4:] == [" Total params: 62 (252.00 B)",
                                          " Trainable params: 20 (80.00 B)",
                                          " Non-trainable params: 0 (0.00 B)",
                                          " Optimizer params: 42 (172.00 B)"]
