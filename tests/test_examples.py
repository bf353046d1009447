"""Smoke tests: the two lessons in examples/ run and learn what they claim to learn."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
    assert "XOR: loss" in capsys.readouterr().out


def test_digits_reach_95_percent_test_accuracy(capsys):
    accuracy = load_example("digits").main()
    assert accuracy >= 0.95
    assert "test accuracy" in capsys.readouterr().out


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
    assert "val acc" in capsys.readouterr().out
