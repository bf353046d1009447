"""The faster paths of a training step give the numbers of the plain ones, bit for bit.

- the cross-entropies from logits compute ``ℓ`` and ``∂ℓ/∂z`` from one log-softmax
  (``values_and_gradients``), equal to ``values`` and ``gradients`` called apart;
- the finiteness check of the inputs computes ``Σ x²`` (the BLAS's dot; ``np.sum`` for
  strided or float16 arrays) and checks values one by one only when that is not finite
  (no boolean array as large as ``x``);
- a running mean's division and a scalar's weighting skip the array broadcasting;
- a Dense writes the first part of its gradients instead of adding it to zeros;
- each step releases the last step's caches before its forward (their memory is reused).
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.activations import log_softmax, softmax
from minired.losses.categorical_crossentropy import log_softmax_and_softmax
from minired.metrics.metric import Mean, divide_no_nan, reduce_to_samplewise_values
from minired.models.model_inputs import all_finite, first_non_finite


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 10), (5, 3, 4), (1, 2)])
def test_log_softmax_and_softmax_are_the_two_functions(dtype, shape):
    rng = np.random.default_rng(0)
    z = (rng.standard_normal(shape) * 40).astype(dtype)
    z[0] = 0.0                                   # ties at the maximum
    log_p, p = log_softmax_and_softmax(z)
    assert _same_bits(log_p, log_softmax(z)) and _same_bits(p, softmax(z))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 10), (6, 3, 5)])
@pytest.mark.parametrize("loss", [
    mr.losses.SparseCategoricalCrossentropy(),
    mr.losses.CategoricalCrossentropy(),
    mr.losses.CategoricalCrossentropy(label_smoothing=0.1),
    mr.losses.BinaryCrossentropy(),              # the base class's default: the two methods
], ids=lambda loss: f"{loss.name}{getattr(loss, 'label_smoothing', '') or ''}")
@pytest.mark.parametrize("from_logits", [True, False])
def test_values_and_gradients_equal_the_separate_methods(dtype, shape, loss, from_logits):
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal(shape) * 30).astype(dtype)
    y_pred = logits if from_logits else softmax(logits)
    labels = rng.integers(0, shape[-1], shape[:-1])
    if isinstance(loss, mr.losses.SparseCategoricalCrossentropy):
        y = labels
    elif isinstance(loss, mr.losses.BinaryCrossentropy):
        y = (rng.random(shape) > 0.5).astype(dtype)
    else:
        y = np.eye(shape[-1], dtype=dtype)[labels]
    y_true, y_pred, _ = loss._prepare_along_axis(y, y_pred)
    values, gradients = loss.values_and_gradients(y_true, y_pred, from_logits)
    assert _same_bits(values, loss.values(y_true, y_pred, from_logits))
    assert _same_bits(gradients, loss.gradients(y_true, y_pred, from_logits))


def test_compute_with_gradient_reports_the_value_without_it():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((16, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 16)
    weights = rng.random(16)
    loss = mr.losses.SparseCategoricalCrossentropy()
    value, grad = loss.compute(labels, z, weights, from_logits=True)
    assert value == loss.compute(labels, z, weights, from_logits=True, gradient=False)[0]
    expected = softmax(z)
    expected[np.arange(16), labels] -= 1
    expected *= (weights.astype(np.float32) / np.float32(16))[:, None]
    assert _same_bits(grad, expected)


# -- the finiteness check of the inputs ----------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_all_finite_without_a_full_size_temporary(dtype, layout):
    # float32/64 and contiguous: Σ x² by the BLAS; float16 or strided: np.sum
    def arranged(values):
        values = np.asarray(values, dtype=dtype)
        return values if layout == "contiguous" else np.asfortranarray(values)[:, ::2]
    x = arranged(np.ones((4, 6)))
    assert all_finite(x) and first_non_finite(x) is None
    # finite values whose Σ x² (or sum) overflows: the element check decides, no warning
    big = arranged(np.full((5, 4), np.finfo(dtype).max))
    with np.errstate(all="raise"):
        assert all_finite(big)
    for bad in (np.nan, np.inf, -np.inf):
        y = x.copy(order="K")
        y[2, 1] = bad
        assert not all_finite(y)
        assert first_non_finite(y) == (2, 1)


@pytest.mark.parametrize("block_bytes", [1, 24, 1 << 22])
def test_first_non_finite_is_argwheres_first(block_bytes):
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.standard_normal((50, 3, 2))
        for _ in range(rng.integers(1, 4)):
            x[tuple(rng.integers(0, n) for n in x.shape)] = rng.choice([np.nan, np.inf])
        expected = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        assert first_non_finite(x, block_bytes=block_bytes) == expected


def test_fit_still_names_the_first_bad_input():
    model = mr.Sequential([mr.layers.Input((3,)), mr.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.zeros((10, 3), dtype=np.float32)
    x[7, 2], x[8, 0] = np.inf, np.nan
    with pytest.raises(ValueError, match=r"`x` contains NaN or inf \(first at index \(7, 2\)\)"):
        model.fit(x, np.zeros(10), verbose=0)


# -- the running means ---------------------------------------------------------------------

@pytest.mark.parametrize("numerator, denominator", [
    (np.float32(1), np.float32(3)), (np.float32(2), np.float32(0)), (np.float32(2), -0.0),
    (np.float64(1), np.float64(7)), (np.float32(np.nan), np.float32(2)),
    (np.float32(1), np.float32(np.nan)),
])
def test_scalar_divide_no_nan_is_the_array_one(numerator, denominator):
    broadcast = divide_no_nan(np.array([numerator]), np.array([denominator]))[0]
    result = divide_no_nan(np.asarray(numerator), np.asarray(denominator))
    assert isinstance(result, np.ndarray) and result.ndim == 0
    assert _same_bits(result, np.asarray(broadcast))


def test_scalar_weighting_is_the_broadcast_one():
    values, weights = reduce_to_samplewise_values(0.1, 32, np.mean, "float32")
    assert _same_bits(values, np.float32(0.1) * np.float32(32))
    assert _same_bits(weights, np.float32(32))
    mean = Mean()
    for loss, n in ((0.7, 32), (0.3, 32), (0.9, 4)):
        mean.update_state(loss, sample_weight=n)
    total = np.float32(0.7) * np.float32(32) + np.float32(0.3) * np.float32(32)
    total += np.float32(0.9) * np.float32(4)
    assert mean.result() == float(total / np.float32(68))


# -- gradients written, not zeroed then added (Layer.zero_gradients / _add_to_gradient) --------
def test_marked_gradients_read_as_zeros():
    """zero_gradients only marks a Dense's arrays; reading them fills what no backward wrote."""
    layer = mr.layers.Dense(3)
    layer.build((None, 4))
    for gradient in (layer.kernel_gradient, layer.bias_gradient):
        gradient.fill(7.0)                       # last step's numbers, still in memory
    layer.zero_gradients()
    assert layer.kernel_gradient[0, 0] == 7.0    # not filled: marked
    assert all(np.all(g == 0) for g in layer.gradients)


def test_a_branch_the_loss_does_not_reach_has_zero_gradients():
    """An output without a loss: its Dense is never backpropagated, and reads 0, not the
    numbers left in its arrays."""
    inputs = mr.Input((4,))
    hidden = mr.layers.Dense(5, activation="tanh")(inputs)
    with_loss = mr.layers.Dense(2, name="with_loss")(hidden)
    without = mr.layers.Dense(3, name="without")(hidden)
    model = mr.Model(inputs, {"with_loss": with_loss, "without": without})
    model.compile(optimizer="sgd", loss={"with_loss": "mse"})
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((6, 2))
    unreached = model.get_layer("without")
    unreached.kernel_gradient.fill(3.0)
    unreached.bias_gradient.fill(3.0)
    _, grads = model.loss_and_gradients(x, {"with_loss": y})
    assert np.all(unreached.kernel_gradient == 0) and np.all(unreached.bias_gradient == 0)
    assert any(np.any(g != 0) for g in grads)


class _EagerDense(mr.layers.Dense):
    """A Dense that zeroes its gradients with a fill and adds every call (the plain way)."""

    _writes_gradients = False


@pytest.mark.parametrize("shared", [False, True])
def test_writing_the_first_part_is_adding_to_zeros(shared):
    """Bit for bit the same training as zero-filling then adding, with a layer called once
    and with one called twice (written by its first backward, added to by the second)."""
    def train(dense_class):
        mr.utils.set_random_seed(3)
        inputs = mr.Input((6,))
        first = dense_class(6, activation="relu")
        h = first(first(inputs)) if shared else first(inputs)
        model = mr.Model(inputs, dense_class(3, activation="softmax")(h))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        rng = np.random.default_rng(4)
        x = rng.standard_normal((40, 6)).astype(np.float32)
        y = rng.integers(0, 3, 40)
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        return model.get_weights()

    for plain, written in zip(train(_EagerDense), train(mr.layers.Dense), strict=True):
        assert _same_bits(plain, written)


# -- the weights listed once per fit (minired.trainers.step_plan) -----------------------------
class _WithSublayer(mr.layers.Layer):
    """A layer of your own holding a Dense (its gradients are marked and filled through
    ``_tracked_layers``) and adding a loss."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = mr.layers.Dense(4, activation="tanh", kernel_regularizer="l2")

    def call(self, x):
        h = self.inner(x)
        self.add_loss(0.01 * mr.ops.sum(h * h))
        return h


def _planned_model():
    mr.utils.set_random_seed(5)
    inputs = mr.Input((6,))
    h = _WithSublayer()(inputs)
    h = mr.layers.Dense(5, activation="relu", bias_regularizer="l1")(h)
    inner = mr.Sequential([mr.Input((5,)), mr.layers.Dense(3, activation="softmax")])
    unreached = mr.layers.Dense(2, name="unreached")(h)   # an output without a loss
    model = mr.Model(inputs, {"classes": inner(h), "unreached": unreached})
    model.compile(optimizer="adam", loss={"classes": "sparse_categorical_crossentropy"})
    return model


def test_fit_with_its_plan_is_step_by_step_without_one():
    """fit lists the weights once; train_on_batch lists them at every step: the same bits,
    with penalties, added losses, a nested model, a sublayer and a branch without a loss."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((24, 6)).astype(np.float32)
    y = {"classes": rng.integers(0, 3, 24)}
    fitted, stepped = _planned_model(), _planned_model()
    for model in (fitted, stepped):
        model.get_layer("unreached").kernel_gradient.fill(9.0)
    history = fitted.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    losses = []
    for _ in range(2):
        for start in range(0, 24, 8):
            losses.append(stepped.train_on_batch(x[start:start + 8],
                                                 {"classes": y["classes"][start:start + 8]}))
    for a, b in zip(fitted.get_weights(), stepped.get_weights(), strict=True):
        assert _same_bits(a, b)
    assert np.all(fitted.get_layer("unreached").kernel_gradient == 0)
    assert history.history["loss"][-1] == pytest.approx(np.mean(losses[3:]), rel=1e-6)
    assert fitted._step_plan is None                 # the plan lasts one fit


def test_a_layer_frozen_during_fit_is_frozen_from_the_next_fit():
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    first = model.layers[0]

    class Freeze(mr.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            first.trainable = False

    x, y = np.ones((8, 3)), np.zeros((8, 1))
    before = first.kernel.copy()
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[Freeze()])
    after_first_batch = first.kernel.copy()
    assert not np.array_equal(before, after_first_batch)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    np.testing.assert_array_equal(first.kernel, after_first_batch)


def test_batch_hooks_run_only_for_the_callbacks_that_have_them():
    """A callback with the older on_batch_end gets every batch's logs; without any batch
    hook, fit builds no batch logs at all."""
    seen = []

    class Old(mr.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, sorted(logs)))

    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = np.ones((6, 3)), np.zeros((6, 1))
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[Old()])
    assert seen == [(b, ["loss", "mae"]) for b in range(3)]
    calls = []
    model._logs = lambda: calls.append(1) or {}
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert len(calls) == 1                           # the epoch's logs only


# -- optimizer updates block by block (minired.optimizers.optimizer.cache_blocks) --------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda: mr.optimizers.Adam(learning_rate=0.01),
    lambda: mr.optimizers.Adam(learning_rate=0.01, amsgrad=True),
    lambda: mr.optimizers.AdamW(learning_rate=0.01),
    lambda: mr.optimizers.SGD(learning_rate=0.01),
    lambda: mr.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
    lambda: mr.optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
    lambda: mr.optimizers.RMSprop(learning_rate=0.01),
    lambda: mr.optimizers.Adagrad(learning_rate=0.01),
    lambda: mr.optimizers.Nadam(learning_rate=0.01),
], ids=["adam", "amsgrad", "adamw", "sgd", "nesterov", "rmsprop_centered", "rmsprop",
        "adagrad", "nadam"])
def test_an_update_in_blocks_is_the_update_at_once(monkeypatch, make, dtype):
    """Variables larger than a block (one of them not C-contiguous: updated whole) end
    bit for bit where the same steps on whole arrays put them."""
    from minired.optimizers import optimizer as optimizer_module

    rng = np.random.default_rng(5)
    start = [rng.standard_normal(shape).astype(dtype) for shape in [(300, 700), (7,), (1000,)]]
    grads = [[rng.standard_normal(w.shape).astype(dtype) for w in start] for _ in range(4)]

    def run(block_bytes):
        monkeypatch.setattr(optimizer_module, "BLOCK_BYTES", block_bytes)
        weights = [w.copy() for w in start]
        weights[2] = np.zeros(2 * weights[2].size, dtype)[::2]   # every other element
        weights[2][...] = start[2]
        optimizer = make()
        for step_grads in grads:
            optimizer.apply(step_grads, weights)
        return weights

    blocked, whole = run(4096), run(10**12)
    for a, b in zip(blocked, whole, strict=True):
        assert _same_bits(a, b)
    assert not _same_bits(whole[0], start[0])           # the steps moved the weights


def test_cache_blocks_covers_every_element_once():
    from minired.optimizers.optimizer import cache_blocks

    a = np.arange(100_001, dtype=np.float32)
    seen = np.zeros_like(a)
    scratch = np.empty(100_001, np.float32)
    sizes = []
    for (block, out), (work,) in cache_blocks((a, seen), (scratch,)):
        np.add(block, 1, out=work)
        out += work
        sizes.append(block.size)
    assert np.array_equal(seen, a + 1) and len(sizes) > 1 and sum(sizes) == a.size


# -- fit gathers its batches into reused arrays (data_adapter.BatchBuffers) ---------------------
def _two_input_weights_after_fit(seed: int, shuffle: bool) -> list[np.ndarray]:
    """The weights of a two-input model after 3 epochs of ``fit`` with sample weights and
    37 samples in batches of 8 (a last smaller batch)."""
    mr.utils.set_random_seed(seed)
    a, b = mr.Input((3,)), mr.Input((2,))
    h = mr.layers.Concatenate()([mr.layers.Dense(4, activation="relu")(a), b])
    model = mr.Model([a, b], mr.layers.Dense(1)(h))
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(seed + 1)
    xa, xb = rng.standard_normal((37, 3)), rng.standard_normal((37, 2))
    y, w = rng.standard_normal((37, 1)), rng.random(37)
    model.fit([xa, xb], y, sample_weight=w, batch_size=8, epochs=3, shuffle=shuffle,
              verbose=0)
    return model.get_weights()


def test_reused_batch_arrays_train_as_new_ones(monkeypatch):
    """Shuffled batches and a last smaller one, two inputs and sample weights: the same
    weights, bit for bit, as with a new array per batch."""
    from minired.trainers import epoch_iterator

    def train():
        return _two_input_weights_after_fit(seed=8, shuffle=True)

    reused = train()
    original = epoch_iterator.EpochIterator.__init__
    monkeypatch.setattr(epoch_iterator.EpochIterator, "__init__",
                        lambda self, *args, **kwargs: original(
                            self, *args, **{**kwargs, "reuse_batches": False}))
    for a, b in zip(reused, train(), strict=True):
        assert _same_bits(a, b)


def test_predict_keeps_every_batch_of_a_view_output():
    """predict keeps no batch array for reuse: a Flatten's outputs (views of its inputs)
    stay right."""
    x = np.arange(40, dtype=np.float32).reshape(10, 2, 2)
    model = mr.Sequential([mr.Input((2, 2)), mr.layers.Flatten()])
    assert np.array_equal(model.predict(x, batch_size=3, verbose=0), x.reshape(10, 4))


# -- an unshuffled pass slices its batches (data_adapter.batch_ranges) --------------------------
def _record_each_forward(monkeypatch, model, record) -> list:
    """Make each ``model.forward`` first append ``record(inputs)`` to the returned list."""
    records, forward = [], model.forward

    def spy(inputs, training=False):
        records.append(record(inputs))
        return forward(inputs, training=training)

    monkeypatch.setattr(model, "forward", spy)
    return records


def test_unshuffled_batches_are_read_only_views_of_the_data(monkeypatch):
    """predict, evaluate and fit(shuffle=False) read views of the caller's arrays (no copy
    of x per pass), read-only: a layer cannot write into the data. Shuffled batches are
    gathered copies."""
    x = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.arange(10, dtype=np.float32).reshape(10, 1)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    seen = _record_each_forward(monkeypatch, model, lambda inputs: inputs)
    model.predict(x, batch_size=4, verbose=0)
    model.evaluate(x, y, batch_size=4, verbose=0)
    model.fit(x, y, batch_size=4, shuffle=False, epochs=1, verbose=0)
    assert [len(b) for b in seen] == [4, 4, 2] * 3
    for batch in seen:
        assert np.shares_memory(batch, x) and not batch.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        seen[0][0, 0] = 1.0
    assert np.array_equal(x, np.arange(40, dtype=np.float32).reshape(10, 4))
    seen.clear()
    model.fit(x, y, batch_size=4, shuffle=True, epochs=1, verbose=0)
    assert len(seen) == 3 and not any(np.shares_memory(b, x) for b in seen)


def test_unshuffled_fit_trains_as_with_gathered_batches(monkeypatch):
    """fit(shuffle=False) with slices gives the same weights, bit for bit, as gathering
    ``np.arange(N)`` batch by batch (the code before slices), two inputs and sample weights."""
    from minired.trainers import data_adapter

    def train():
        return _two_input_weights_after_fit(seed=3, shuffle=False)

    sliced = train()
    monkeypatch.setattr(data_adapter, "batch_ranges", lambda n, size: data_adapter.batch_indices(
        np.arange(n), size))
    for a, b in zip(sliced, train(), strict=True):
        assert _same_bits(a, b)


# -- a step lets go of the last step's caches first (Layer._release_caches) ----------------------
class _TwoDense(mr.Model):
    """A subclassed model: its tape is its cache, its Dense layers are its sublayers."""

    def __init__(self):
        super().__init__()
        self.hidden = mr.layers.Dense(3, activation="relu")
        self.out = mr.layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))


@pytest.mark.parametrize("kind", ["nested functional", "subclassed"])
def test_each_step_starts_without_the_last_steps_caches(monkeypatch, kind):
    """predict, evaluate and fit release every cache of the previous batch (the model's own,
    a nested model's, each layer's) before the next forward: the forward finds all of them
    None, and after the pass the last batch's caches are there to read."""
    x = np.linspace(-1, 1, 40, dtype=np.float32).reshape(10, 4)
    y = np.linspace(0, 1, 10, dtype=np.float32).reshape(10, 1)
    if kind == "nested functional":
        inner = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2, activation="tanh")])
        inputs = mr.Input((4,))
        model = mr.Model(inputs, mr.layers.Dense(1)(inner(mr.layers.Dense(3)(inputs))))
        watched = [model, *model.unique_layers, *inner.unique_layers]   # inner among them
    else:
        model = _TwoDense()
        model(x[:1])
        watched = [model, model.hidden, model.out]
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)           # every cache is now set
    assert all(layer.cache is not None for layer in watched)
    found = _record_each_forward(monkeypatch, model,
                                 lambda inputs: [layer.cache is None for layer in watched])
    model.predict(x, batch_size=4, verbose=0)
    model.evaluate(x, y, batch_size=4, verbose=0)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert len(found) == 9 and all(all(released) for released in found)
    assert all(layer.cache is not None for layer in watched)     # the last batch's
    assert len(model.calls[0][1].x) == 2                # the first Dense saw the last 2 rows
