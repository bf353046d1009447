"""The comparison report's figure plots what the registry judges: the relative difference."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from comparisons.registry import Measurement, Outcome  # noqa: E402
from comparisons.report import relative_curve_difference, write_report  # noqa: E402


def test_relative_curve_difference_is_scaled_by_the_largest_keras_value():
    relative = relative_curve_difference([2.0002, 1.0, 0.5], [2.0, 1.0, 0.4])
    np.testing.assert_allclose(relative, [1e-4, 0.0, 0.05], rtol=1e-9, atol=1e-15)
    # Its largest value is the per-array difference the case is judged by.
    assert relative.max() == pytest.approx(np.max(np.abs(np.subtract([2.0002, 1.0, 0.5],
                                                                     [2.0, 1.0, 0.4]))) / 2.0)


def test_report_draws_the_relative_difference_against_the_relative_tolerance(tmp_path):
    import matplotlib.pyplot as plt

    outcome = Outcome([("loss", np.array([2.0002, 1.0]), np.array([2.0, 1.0]))],
                      curves={"minired": [2.0002, 1.0], "keras": [2.0, 1.0]})
    measurement = Measurement("training", "toy", "float32", 2e-4, 1e-4, 1e-4, "loss", outcome)
    figures = []
    original = plt.Figure.savefig
    plt.Figure.savefig = lambda fig, *a, **k: (figures.append(fig), original(fig, *a, **k))[1]
    try:
        summary = write_report([measurement], tmp_path)
    finally:
        plt.Figure.savefig = original
    assert (tmp_path / "figures" / "training_toy_float32.png").exists()
    assert "training_toy_float32.png" in summary.read_text(encoding="utf-8")
    bottom = figures[0].axes[1]
    difference, tolerance = bottom.get_lines()[:2]
    np.testing.assert_allclose(difference.get_ydata(), [1e-4, 1e-18], rtol=1e-9)
    assert tolerance.get_ydata()[0] == 1e-4
    assert "max|Keras|" in bottom.get_ylabel()
