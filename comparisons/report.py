"""The report folder: a Markdown summary and one figure per training comparison."""

from __future__ import annotations

from pathlib import Path

from comparisons.registry import Measurement


def write_report(measurements: list[Measurement], folder: Path) -> Path:
    """Write ``summary.md`` and ``figures/*.png`` into ``folder``; return the summary's path."""
    folder.mkdir(parents=True, exist_ok=True)
    figures = folder / "figures"
    figures.mkdir(exist_ok=True)
    for old in figures.glob("*.png"):  # figures of an earlier run would mislead
        old.unlink()
    drawn = {}
    for m in measurements:
        if m.outcome is not None and m.outcome.curves:
            drawn[(m.area, m.name, m.dtype)] = _draw_curves(m, figures)

    passed = sum(m.passed for m in measurements)
    lines = [
        "# minired vs Keras: comparison report",
        "",
        f"**{passed} of {len(measurements)} comparisons pass.** Each row is one case in one "
        "precision; *rel* is the largest per-array relative difference "
        "max|minired − keras| / max|keras|, judged against the tolerance.",
        "",
        "| area | case | precision | max abs diff | max rel diff | tolerance | worst array "
        "| result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measurements:
        result = "pass" if m.passed else f"**FAIL** {m.error or ''}"
        lines.append(f"| {m.area} | {m.name} | {m.dtype} | {m.max_abs:.3e} | {m.max_rel:.3e} | "
                     f"{m.tolerance:.0e} | {m.worst} | {result} |")
    notes = [m for m in measurements if m.outcome is not None and m.outcome.notes]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {m.area}/{m.name} ({m.dtype}): {m.outcome.notes}" for m in notes]
    if drawn:
        lines += ["", "## Training curves", ""]
        for (area, name, dtype), path in drawn.items():
            image = path.relative_to(folder)
            lines += [f"### {area}/{name} ({dtype})", "", f"![{name}]({image})", ""]
    summary = folder / "summary.md"
    summary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary


def relative_curve_difference(ours, theirs):
    """``|minired − keras| / max|keras|`` per epoch: the registry's per-array measure, spread out.

    Its largest value is the relative difference the case is judged by (see
    ``comparisons.registry.judge``), so it can be read against the relative tolerance.
    """
    import numpy as np

    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    n = min(len(ours), len(theirs))
    difference = np.abs(ours[:n] - theirs[:n])
    scale = float(np.max(np.abs(theirs[:n]), initial=0.0))
    return difference / scale if scale > 0 else difference


def _draw_curves(m: Measurement, figures: Path) -> Path:
    """Loss curves of both libraries on one plot, and their relative difference on a log scale.

    The labels are bilingual (Spanish first, for the course in docs/, then English).
    """
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ours = np.asarray(m.outcome.curves["minired"], dtype=np.float64)
    theirs = np.asarray(m.outcome.curves["keras"], dtype=np.float64)
    steps = np.arange(1, len(ours) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 6), sharex=True)
    top.plot(np.arange(1, len(theirs) + 1), theirs, "o-", label="Keras", linewidth=3, alpha=0.5)
    top.plot(steps, ours, "x--", label="minired", color="black")
    top.set_ylabel("pérdida (loss)")
    top.set_title(f"{m.area}/{m.name} ({m.dtype})")
    top.legend()
    relative = relative_curve_difference(ours, theirs)
    # An exact match (difference 0) has no logarithm: draw it at the bottom of the axis.
    floor = 1e-18
    bottom.semilogy(steps[:len(relative)], np.maximum(relative, floor), "o-", color="tab:red",
                    label="diferencia relativa (relative difference)")
    bottom.axhline(m.tolerance, color="gray", linestyle=":",
                   label="tolerancia relativa (relative tolerance)")
    bottom.set_ylabel("|minired − Keras| / max|Keras|")
    bottom.set_xlabel("época (epoch)")
    bottom.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    bottom.legend()
    fig.tight_layout()
    path = figures / f"{m.area}_{m.name}_{m.dtype}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
