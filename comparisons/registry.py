"""The comparison cases: how one is declared, measured and judged.

A case is a small function ``case(dtype) -> Outcome`` that builds the same thing in minired
and in Keras and returns the arrays to compare as ``(label, minired, keras)`` triples.
Declaring one takes a decorator::

    @case("forward", "relu")
    def relu_forward(dtype):
        ...
        return Outcome([("outputs", ours, theirs)])

Every array is judged by its **relative difference per array**,
``max|minired - keras| / max|keras|``, so an element that nearly cancels cannot dominate.
A case passes when every array's relative difference is below the bound of its kind:

=================  =========  =========
kind               float64    float32
=================  =========  =========
``"step"``         1e-10      1e-5       forward values, gradients, single optimizer steps
``"training"``     1e-10      1e-4       losses and weights after several epochs of fit
``"statistical"``  5          5          random draws, in standard errors (see below)
=================  =========  =========

A ``"statistical"`` case compares sample statistics with their expectations, each expressed
in standard errors derived from the sample size: each pair is ``(label, z, 0.0)``, e.g.
``z = (p̂ - p) / sqrt(p(1-p)/n)`` for a fraction or ``(x̄ - μ) / (σ/√n)`` for a mean (all of
them are in ``comparisons/sampling.py``), so the judged difference is ``|z|``. The bound 5
is a 5-sigma test (a correct sampler exceeds it with probability 6e-7); it is independent
of the precision because the draws are, and it is not a loosened numeric tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from minired.utils import set_random_seed

TOLERANCES = {
    "step": {"float64": 1e-10, "float32": 1e-5},
    "training": {"float64": 1e-10, "float32": 1e-4},
    # |z| in binomial standard errors: a 5-sigma bound, derived from sampling, not rounding.
    "statistical": {"float64": 5.0, "float32": 5.0},
}
PRECISIONS = ("float64", "float32")


@dataclass
class Outcome:
    """What a case measured: arrays to compare, and optional curves to plot.

    Args:
        pairs: ``(label, minired_array, keras_array)`` triples.
        curves: for training cases, ``{"minired": [...], "keras": [...]}`` loss curves per
            epoch or step, drawn in the report.
        notes: a line shown in the report (what the case shows).
    """

    pairs: list[tuple[str, np.ndarray, np.ndarray]]
    curves: dict[str, list[float]] | None = None
    notes: str = ""


@dataclass
class Measurement:
    """The judged result of one case in one precision."""

    area: str
    name: str
    dtype: str
    max_abs: float
    max_rel: float
    tolerance: float
    worst: str
    outcome: Outcome | None = None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.max_rel < self.tolerance


@dataclass
class Case:
    """A registered comparison."""

    area: str
    name: str
    function: Callable[[str], Outcome]
    kind: str = "step"
    precisions: tuple[str, ...] = PRECISIONS
    doc: str = field(default="")

    @property
    def id(self) -> str:
        return f"{self.area}/{self.name}"

    def run(self, dtype: str) -> Measurement:
        """Run the case in ``dtype`` and judge it."""
        tolerance = TOLERANCES[self.kind][dtype]
        # Seed first, so layers built by the case draw the same weights whatever ran before.
        set_random_seed(0)
        outcome = self.function(dtype)
        return judge(self, dtype, outcome, tolerance)


def judge(case: Case, dtype: str, outcome: Outcome, tolerance: float) -> Measurement:
    """Compute the largest absolute and per-array relative difference of ``outcome``."""
    max_abs, max_rel, worst = 0.0, 0.0, ""
    for label, ours, theirs in outcome.pairs:
        ours = np.asarray(ours, dtype=np.float64)
        theirs = np.asarray(theirs, dtype=np.float64)
        if ours.shape != theirs.shape:
            return Measurement(case.area, case.name, dtype, np.inf, np.inf, tolerance, label,
                               outcome, error=f"{label}: shape {ours.shape} vs {theirs.shape}")
        if not (np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))):
            same = np.array_equal(ours, theirs, equal_nan=True)
            if not same:
                return Measurement(case.area, case.name, dtype, np.inf, np.inf, tolerance,
                                   label, outcome, error=f"{label}: non-finite values differ")
            continue
        abs_diff = float(np.max(np.abs(ours - theirs), initial=0.0))
        scale = float(np.max(np.abs(theirs), initial=0.0))
        rel_diff = abs_diff / scale if scale > 0 else abs_diff
        max_abs = max(max_abs, abs_diff)
        if rel_diff >= max_rel:
            max_rel, worst = rel_diff, label
    return Measurement(case.area, case.name, dtype, max_abs, max_rel, tolerance, worst, outcome)


CASES: dict[str, Case] = {}


def case(area: str, name: str, kind: str = "step",
         precisions: tuple[str, ...] = PRECISIONS) -> Callable:
    """Register ``function(dtype) -> Outcome`` as the comparison ``area/name``."""
    if kind not in TOLERANCES:
        raise ValueError(f"case kind must be one of {sorted(TOLERANCES)}, got {kind!r}.")

    def register(function: Callable[[str], Outcome]) -> Callable[[str], Outcome]:
        registered = Case(area, name, function, kind, precisions,
                          (function.__doc__ or "").strip().splitlines()[0]
                          if function.__doc__ else "")
        if registered.id in CASES:
            raise ValueError(f"comparison {registered.id!r} is registered twice.")
        CASES[registered.id] = registered
        return function

    return register


def all_cases() -> dict[str, Case]:
    """Import every area module (each registers its cases) and return the registry."""
    from comparisons import (  # noqa: F401  (imported for their @case registrations)
        activations_catalog,
        applications_core,
        applications_efficient,
        applications_mobile,
        attention,
        attention_more,
        audio,
        augmentation,
        augmentation2,
        catalog_misc,
        constraints,
        conv_lstm,
        conv_transpose,
        distillation,
        dropout,
        dtype_policies,
        extending,
        forward,
        gradients,
        graphs,
        grouped_conv,
        image_more,
        initializers,
        instance_api,
        keras_arguments,
        layers_catalog,
        layers_catalog2,
        layers_catalog3,
        lora,
        masking,
        metrics_catalog,
        misc_api,
        misc_names,
        ops_catalog,
        ops_catalog2,
        ops_catalog3,
        ops_catalog4,
        optimizer_options,
        optimizers,
        optimizers_more,
        preprocessing,
        quantizers,
        recurrent,
        saturation,
        separable,
        spectral,
        structured,
        subclass_models,
        training,
        vision,
        vision3d,
        wrappers,
    )

    return CASES
