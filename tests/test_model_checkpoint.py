"""ModelCheckpoint and BackupAndRestore, against Keras' behaviour and messages."""

from __future__ import annotations

import os

import numpy as np
import pytest

import minired as mr


def data(n: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ rng.normal(size=(4, 1))).astype("float32")


def model(seed: int = 0):
    mr.utils.set_random_seed(seed)
    m = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                       mr.layers.Dense(1)])
    m.compile(optimizer=mr.optimizers.Adam(0.01), loss="mse")
    return m


def test_filepath_templates_make_one_file_per_epoch(tmp_path):
    x, y = data()
    checkpoint = mr.callbacks.ModelCheckpoint(
        str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras"))
    history = model().fit(x, y, validation_data=(x, y), epochs=3, verbose=0,
                          callbacks=[checkpoint])
    expected = {f"ckpt-{e + 1:02d}-{v:.2f}.keras" for e, v in
                enumerate(history.history["val_loss"])}
    assert set(os.listdir(tmp_path)) == expected
    mr.models.load_model(tmp_path / sorted(expected)[-1])


def test_save_best_only_with_keras_messages(tmp_path, capsys):
    x, y = data()
    checkpoint = mr.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), verbose=1,
                                              save_best_only=True, monitor="loss",
                                              initial_value_threshold=1e9)
    m = model()
    m.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    out = capsys.readouterr().out
    assert "Epoch 1: loss improved from 1000000000.00000 to" in out
    assert f"saving model to {tmp_path / 'best.keras'}" in out
    assert "Epoch 2: finished saving model to" in out
    saved = mr.models.load_model(tmp_path / "best.keras")
    for a, b in zip(saved.get_weights(), m.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    checkpoint.best = -1.0            # nothing can improve on it now
    m.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    assert "loss did not improve from -1.00000" in capsys.readouterr().out


def test_the_messages_are_keras_messages(tmp_path, capsys):
    keras = pytest.importorskip("keras")
    from comparisons.mirror import to_keras

    x, y = data()
    m = model()
    k = to_keras(m)
    for library, net in (("mr", m), ("keras", k)):
        callback = (mr.callbacks if library == "mr" else keras.callbacks).ModelCheckpoint(
            str(tmp_path / f"{library}.keras"), verbose=1, save_best_only=True,
            monitor="loss", mode="min")
        net.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0,
                callbacks=[callback])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    mine = [line.replace("mr.keras", "X") for line in lines[:len(lines) // 2]]
    theirs = [line.replace("keras.keras", "X") for line in lines[len(lines) // 2:]]
    assert [line.split(" to ")[0] for line in mine] == [line.split(" to ")[0]
                                                        for line in theirs]


def test_save_weights_only_and_save_freq(tmp_path):
    x, y = data()
    checkpoint = mr.callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}-{batch}.weights.h5"),
                                              save_weights_only=True, save_freq=3)
    model().fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["w-1-3.weights.h5"]
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        mr.callbacks.ModelCheckpoint("x.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        mr.callbacks.ModelCheckpoint("x.txt")
    with pytest.raises(ValueError, match="save_freq"):
        mr.callbacks.ModelCheckpoint("x.keras", save_freq="batch")


class Interrupt(mr.callbacks.Callback):
    def __init__(self, at_epoch: int):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("save_freq", ["epoch", 3])
def test_backup_and_restore_resumes_an_interrupted_fit(tmp_path, save_freq):
    """Backed up every epoch, the resumed run is the uninterrupted one to the last bit
    (shuffle=False: the order of a shuffled epoch is not part of the backup, in Keras
    either). Backed up every 3 batches, it restarts the epoch of the last backup, from the
    weights of that backup (Keras' rule)."""
    x, y = data()
    fit = {"epochs": 5, "batch_size": 8, "shuffle": False, "verbose": 0}
    whole = model().fit(x, y, **fit).history["loss"]
    m = model()
    backup = mr.callbacks.BackupAndRestore(tmp_path / "backup", save_freq=save_freq)
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, callbacks=[backup, Interrupt(3)], **fit)
    assert os.path.exists(tmp_path / "backup" / "latest.weights.h5")
    fresh = model(seed=99)                        # a new process would start from scratch
    resumed = fresh.fit(x, y, callbacks=[mr.callbacks.BackupAndRestore(
        tmp_path / "backup", save_freq=save_freq)], **fit)
    if save_freq == "epoch":
        assert resumed.history["loss"] == whole[3:]
        assert fresh.optimizer.iterations == 5 * 4
        reference = model()
        reference.fit(x, y, **fit)
        for a, b in zip(fresh.get_weights(), reference.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        # the last backup was after 12 batches, at the end of epoch index 2 (before its
        # on_epoch_end): epoch 2 is trained again from there
        assert resumed.epoch == [2, 3, 4]
        assert fresh.optimizer.iterations == 12 + 3 * 4
    assert not os.path.exists(tmp_path / "backup")      # delete_checkpoint=True
