"""The layers' scratch memory (minired.layers.workspace): reused within one ``fit``, freed at
its end, and invisible in the numbers: a fit with it trains bit for bit as one without."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import minired as mr
from minired.layers import workspace


def test_scratch_reuses_memory_only_inside_a_block():
    owner, other = object(), object()
    with workspace.reused_during():
        a = workspace.scratch(owner, "cols", (4, 3), np.float32)
        assert a.shape == (4, 3) and a.dtype == np.float32
        again = workspace.scratch(owner, "cols", (4, 3), np.float32)
        assert np.shares_memory(a, again)
        smaller = workspace.scratch(owner, "cols", (2, 3), np.float32)   # a last batch
        assert np.shares_memory(a, smaller)
        assert not np.shares_memory(a, workspace.scratch(owner, "other", (4, 3), np.float32))
        assert not np.shares_memory(a, workspace.scratch(other, "cols", (4, 3), np.float32))
        as_float64 = workspace.scratch(owner, "cols", (4, 3), np.float64)
        assert as_float64.dtype == np.float64 and not np.shares_memory(a, as_float64)
        larger = workspace.scratch(owner, "cols", (8, 3), np.float64)    # grows
        assert larger.shape == (8, 3)
    assert workspace._arrays.get() is None                     # the block's memory is let go
    outside = workspace.scratch(owner, "cols", (4, 3), np.float32)
    assert not np.shares_memory(outside, workspace.scratch(owner, "cols", (4, 3), np.float32))


def convnet(shared: bool) -> mr.Model:
    """Both copies of _patch_matrix (1 channel: by column; 8: by row), a max pooling (its
    scratch arrays: ``beats`` and ``k_where_beats`` forward, ``won`` backward), a transposed
    convolution (its backward reads a patch matrix of δz; its forward and the backward of
    the others scatter ``product``) and, with ``shared``, one convolution called twice in a
    step."""
    inputs = mr.Input((9, 9, 1))
    h = mr.layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    h = mr.layers.MaxPooling2D(3)(h)                                      # 3×3×8
    conv = mr.layers.Conv2D(8, 3, padding="same", activation="tanh")
    h = conv(h)
    if shared:
        h = conv(h)
    h = mr.layers.Conv2DTranspose(4, 3, strides=2)(h)                     # 7×7×4
    h = mr.layers.Conv1D(3, 2)(mr.layers.Reshape((7, 7 * 4))(h))
    outputs = mr.layers.Dense(3, activation="softmax")(mr.layers.Flatten()(h))
    return mr.Model(inputs, outputs)


@pytest.mark.parametrize("shared", [False, True])
def test_fit_trains_the_same_with_and_without_reused_memory(shared, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(23, 9, 9, 1)).astype("float32")     # 23: a last batch of 7
    y = rng.integers(0, 3, size=23)
    histories, weights = [], []
    for reuse in (True, False):
        if not reuse:      # every scratch array new, as before the workspace existed
            monkeypatch.setattr(workspace, "reused_during", contextlib.nullcontext)
        mr.utils.set_random_seed(1)
        model = convnet(shared)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.25, verbose=0,
                            shuffle=True)
        histories.append(history.history)
        weights.append(model.get_weights())
    assert histories[0] == histories[1]
    for reused, fresh in zip(*weights, strict=True):
        np.testing.assert_array_equal(reused, fresh)


def test_fit_reuses_the_patch_matrices_and_frees_them_at_its_end():
    seen = []

    class Look(mr.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            arrays = workspace._arrays.get()
            seen.append({key: (flat.__array_interface__["data"][0], flat.size)
                         for key, flat in arrays.items()})

    model = convnet(shared=False)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((16, 9, 9, 1), "float32")
    model.fit(x, np.zeros(16, int), batch_size=8, epochs=2, verbose=0, callbacks=[Look()])
    names = sorted(name for _, name in seen[0])
    assert len(seen) == 4 and names == ["beats", "cols", "cols", "cols", "cols",
                                        "k_where_beats", "product", "won"]
    assert all(step == seen[0] for step in seen)     # the same memory at every step
    assert workspace._arrays.get() is None
