"""Smoke tests: the examples of the course (examples/) run and learn what they claim to learn."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str):
    """Import ``examples/<name>.py`` as a module without running its ``__main__`` block."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_is_learned(capsys):
    accuracy = load_example("xor").main()
    assert accuracy == 1.0
    assert "XOR: pérdida" in capsys.readouterr().out


def test_digits_reach_95_percent_test_accuracy(capsys):
    accuracy = load_example("digits").main()
    assert accuracy >= 0.95
    assert "exactitud en test" in capsys.readouterr().out


def test_digits_convnet_reaches_98_percent_test_accuracy(capsys):
    accuracy = load_example("digits_cnn").main()
    assert accuracy >= 0.98
    assert "exactitud en test" in capsys.readouterr().out


def test_digits_convnet_on_28x28_digits_is_the_keras_io_mnist_network(capsys):
    module = load_example("digits_cnn")
    x_train, x_test, _, _ = module.split(28)
    assert x_train.shape[1:] == x_test.shape[1:] == (28, 28, 1)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    model = module.mnist_convnet()
    assert model.count_params() == 34_826               # keras.io's summary: 34,826 params
    accuracy = module.main_synthetic28(epochs=2)
    assert 0.3 < accuracy <= 1.0
    out = capsys.readouterr().out
    assert "época 2:" in out and "s por época" in out


def test_hyperparameter_search_ranks_every_combination(capsys):
    module = load_example("hyperparameters")
    results = module.main(epochs=3)
    combinations = 1
    for values in module.GRID.values():
        combinations *= len(values)
    assert len(results) == combinations
    accuracies = [r["val_accuracy"] for r in results]
    assert accuracies == sorted(accuracies, reverse=True)   # best first
    assert 0.0 <= results[0]["test_accuracy"] <= 1.0
    assert "exact. val." in capsys.readouterr().out


def test_digits_with_logdir_writes_what_tensorboard_shows(tmp_path, monkeypatch, capsys):
    """``examples/digits.py --logdir``: epoch scalars equal to the run's History, and weight
    and gradient histograms every epoch, read back with TensorBoard's own reader."""
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    module = load_example("digits")
    histories = []
    fit = module.mr.Sequential.fit
    monkeypatch.setattr(module.mr.Sequential, "fit",
                        lambda self, *a, **k: histories.append(fit(self, *a, **k)) or histories[-1])
    module.main(log_dir=str(tmp_path))
    history = histories[0].history
    runs = {}
    for run in ("train", "validation"):
        runs[run] = event_accumulator.EventAccumulator(
            str(tmp_path / run), size_guidance={event_accumulator.TENSORS: 0})
        runs[run].Reload()
    epochs = len(history["loss"])
    for run, prefix in (("train", ""), ("validation", "val_")):
        events = runs[run].Tensors("epoch_loss")
        assert [e.step for e in events] == list(range(epochs))
        np.testing.assert_allclose([float(e.tensor_proto.float_val[0]) for e in events],
                                   history[f"{prefix}loss"], rtol=1e-6)
    histogram_tags = [t for t in runs["train"].Tags()["tensors"] if t.endswith("/histogram")]
    assert any("/gradient/" in t for t in histogram_tags)
    assert any("kernel/histogram" in t and "/gradient/" not in t for t in histogram_tags)
    assert len(runs["train"].Tensors(histogram_tags[0])) == epochs    # histogram_freq=1


def test_hyperparameter_search_with_logdir_writes_one_hparams_run_per_combination(tmp_path,
                                                                                  capsys):
    metadata = pytest.importorskip("tensorboard.plugins.hparams.metadata")
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    module = load_example("hyperparameters")
    results = module.main(epochs=2, log_dir=str(tmp_path))
    runs = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert len(runs) == len(results)
    accumulator = event_accumulator.EventAccumulator(str(tmp_path / "run-0"))
    accumulator.Reload()
    content = accumulator.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    info = metadata.parse_session_start_info_plugin_data(content)
    first = dict(zip(module.GRID, next(itertools.product(*module.GRID.values())), strict=True))
    assert {name: value.number_value for name, value in info.hparams.items()} == first
