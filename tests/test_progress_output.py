"""What ``fit(verbose=1)`` prints, byte for byte in shape, against what Keras prints.

The progress bar's unit tests (``test_callbacks.py``) drive ``Progbar`` with a fake clock.
Here a real ``fit`` runs in a fresh process, once with its output piped to a file and once
in a pseudo-terminal, next to the same script under ``import keras as mr``. Numbers and
timings differ between runs, so they are normalised away; everything else must be the same:
the epoch headers, the bar (ANSI colours, ``━`` characters, its width), the ``\\b``/``\\r``
redraws, the per-step time, the metric names and their order, and one line per epoch.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
if sys.argv[1] == "keras":
    import keras as mr
else:
    import minired as mr
mr.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
y = np.eye(3)[np.random.default_rng(1).integers(0, 3, 64)].astype("float32")
model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=3, batch_size=16, verbose=1, validation_split=0.25)
"""


def run(library: str, terminal: bool) -> str:
    """The script's standard output, piped or through a pseudo-terminal."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", SCRIPT, library]
    if not terminal:
        return subprocess.run(command, capture_output=True, env=env, timeout=120,
                              check=True).stdout.decode()      # bytes: keep every "\r"
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=follower, stderr=subprocess.DEVNULL, env=env) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:          # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")   # the terminal's own newline


def shape(output: str) -> str:
    """``output`` with its numbers, timings and redraw lengths made neutral."""
    output = re.sub(r"\d+(\.\d+)?(s|ms|us)/step", "T/step", output)   # per-step time
    output = re.sub(r"\b\d+(\.\d+)?s\b", "Ts", output)                  # elapsed or ETA
    output = re.sub(r"\d+(\.\d+)?", "N", output)                        # counts, metrics
    return re.sub("\b+", "<back>", output)                               # one redraw


@pytest.fixture(scope="module")
def keras_output() -> str:
    pytest.importorskip("keras")
    return run("keras", terminal=False)


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
def test_fit_prints_what_keras_prints(keras_output, terminal):
    ours = run("minired", terminal)
    assert shape(ours) == shape(keras_output)
    assert "\x1b[32m" in ours and "━" in ours and "T/step" in shape(ours)   # not vacuous
    assert "accuracy: N - loss: N - val_accuracy: N - val_loss: N" in shape(ours)


def test_one_line_per_epoch_when_not_a_terminal():
    """Piped to a file, each epoch is a header line and one progress line: the redraws
    (``\\b``, ``\\r``) stay inside that line."""
    lines = run("minired", terminal=False).rstrip("\n").split("\n")
    assert [line for line in lines if line.startswith("Epoch")] == [
        "Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert len(lines) == 6
    assert all("val_loss" in line for line in lines[1::2])
