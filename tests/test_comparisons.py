"""Every registered minired-vs-Keras comparison, in both precisions, held in CI."""

import pytest

pytest.importorskip("keras")

from comparisons.registry import all_cases  # noqa: E402

RUNS = [(case, dtype) for case in all_cases().values() for dtype in case.precisions]


@pytest.mark.parametrize(("case", "dtype"), RUNS, ids=[f"{c.id}-{d}" for c, d in RUNS])
def test_comparison(case, dtype):
    measurement = case.run(dtype)
    assert measurement.error is None, measurement.error
    if measurement.outcome.curves is not None:   # the report draws both curves
        assert set(measurement.outcome.curves) == {"minired", "keras"}
    assert measurement.max_rel < measurement.tolerance, (
        f"{case.id} ({dtype}): relative difference {measurement.max_rel:.3e} in "
        f"{measurement.worst!r} exceeds {measurement.tolerance:.0e}"
    )


def test_every_area_has_cases():
    areas = {case.area for case in all_cases().values()}
    assert {"forward", "gradients", "optimizers", "training", "saturation", "dropout",
            "initializers", "graphs"} <= areas
