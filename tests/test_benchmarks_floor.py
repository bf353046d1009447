"""The benchmark's floor computes what minired computes: from the same weights, on the same
batches, the hand-written loop (``benchmarks/tight_numpy.py``) reports minired's losses and
moves the weights as minired does, for both of its losses and optimizers. A floor that skipped
work would be faster than any engine could be, and its ratios would mean nothing.

float32, so to rounding: the hand loop writes Adam's and SGD's updates in another order of
operations (``b1·m + (1 - b1)·g`` where Keras and minired write ``m + (g - m)·(1 - b1)``).
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from benchmarks.cases import classification_data, dense_stack, initial_weights, regression_data
from benchmarks.tight_numpy import TightMLP

STEPS, BATCH = 4, 16


@pytest.mark.parametrize("task", ["classify", "classify_keras_order", "regress"])
def test_hand_loop_follows_minired(task):
    if task.startswith("classify"):
        sizes, out, loss = [20, 16, 8, 4], "softmax", "sparse_categorical_crossentropy"
        x, y = classification_data(STEPS * BATCH, d=20, classes=4)
        optimizer = mr.optimizers.Adam(learning_rate=1e-2)
        loop_args = {"loss": "softmax_ce", "optimizer": "adam", "learning_rate": 1e-2,
                     "adam_order": "keras" if task.endswith("keras_order") else "fast"}
    else:
        sizes, out, loss = [12, 16, 8, 1], None, "mse"
        x, y = regression_data(STEPS * BATCH, d=12)
        optimizer = mr.optimizers.SGD(learning_rate=0.05, momentum=0.9)
        loop_args = {"loss": "mse", "optimizer": "sgd_momentum", "learning_rate": 0.05}
    weights = initial_weights(sizes, out)
    model = dense_stack(mr, sizes, out)
    model.set_weights(weights)
    model.compile(optimizer=optimizer, loss=loss)
    loop = TightMLP(weights, **loop_args)
    moved = False
    for step in range(STEPS):
        batch = slice(step * BATCH, (step + 1) * BATCH)
        ours = float(model.train_on_batch(x[batch], y[batch]))
        theirs = loop.train_batch(x, y, np.arange(batch.start, batch.stop))
        np.testing.assert_allclose(theirs, ours, rtol=1e-5, err_msg=f"loss at step {step}")
    for i, (w, w0, v) in enumerate(zip(model.get_weights(), weights, loop.params, strict=True)):
        np.testing.assert_allclose(v - w0, w - w0, rtol=1e-4, atol=1e-6,
                                   err_msg=f"displacement of weight {i}")
        moved = moved or bool(np.any(w != w0))
    assert moved


def test_convnet_floor_multiplies_what_minired_multiplies():
    """The convnet's floor (``ConvMatmulFloor``) multiplies matrices of the shapes and
    layouts minired's step multiplies: per convolution its patch matrix ``cols`` (copied
    column by column for up to 3 channels, row by row above) and ``z``, per Dense its input
    and output, as a training step on a batch leaves them in each layer's cache."""
    from benchmarks.tight_numpy import ConvMatmulFloor

    layers = mr.layers
    model = mr.Sequential([
        mr.Input(shape=(12, 12, 1)),
        layers.Conv2D(4, kernel_size=(3, 3), activation="relu"),     # 1 channel: by column
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(6, kernel_size=(2, 3), activation="relu"),     # 4 channels: by row
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 12, 12, 1), dtype=np.float32)
    model.train_on_batch(x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, BATCH)])
    floor = ConvMatmulFloor(model)
    buffers = floor._buffers_for(BATCH)
    computing = [layer for layer in model.layers if hasattr(layer, "kernel")]
    assert [spec.kind for spec in floor.layers] == ["Conv2D", "Conv2D", "Dense"]
    for layer, spec, arrays in zip(computing, floor.layers, buffers, strict=True):
        assert spec.kernel.shape == layer.kernel.shape
        assert spec.first == (layer is computing[0])
        if spec.kind == "Conv2D":
            cols, _ = layer._patch_matrix(layer.cache.x)        # what minired multiplies
            assert cols.shape == arrays.x.shape
            assert (cols.flags.c_contiguous, cols.flags.f_contiguous) == (
                arrays.x.flags.c_contiguous, arrays.x.flags.f_contiguous)
        else:
            assert layer.cache.x.shape == arrays.x.shape
        assert layer.cache.z.reshape(-1, layer.kernel.shape[-1]).shape == arrays.z.shape
    assert not buffers[0].x.flags.c_contiguous and buffers[1].x.flags.c_contiguous
    floor.epoch(BATCH + 3, BATCH)                               # a last, smaller batch too
