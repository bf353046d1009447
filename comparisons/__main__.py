"""``python -m comparisons``: run the minired-vs-Keras comparisons and write the report.

    python -m comparisons                  # every case, float64 and float32
    python -m comparisons --list           # the case names
    python -m comparisons gradients/mse training   # cases or whole areas by name
    python -m comparisons --precision float64 --report reports/comparisons

Exits with status 1 if any case fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m comparisons", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="cases (area/name) or areas to run; default all")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--precision", choices=("float64", "float32", "both"), default="both")
    parser.add_argument("--report", type=Path, default=Path("reports/comparisons"),
                        help="folder for summary.md and figures (default reports/comparisons)")
    args = parser.parse_args(argv)

    print("Loading TensorFlow and Keras...", flush=True)
    from comparisons.registry import all_cases

    cases = all_cases()
    if args.list:
        for case in cases.values():
            print(f"{case.id:45s} {case.doc}")
        return 0
    selected = _select(cases, args.names)
    precisions = ("float64", "float32") if args.precision == "both" else (args.precision,)
    runs = [(c, d) for c in selected for d in precisions if d in c.precisions]
    return _run(runs, args.report)


def _select(cases: dict, names: list[str]) -> list:
    if not names:
        return list(cases.values())
    chosen = []
    for name in names:
        matches = [c for c in cases.values() if c.id == name or c.area == name]
        if not matches:
            import difflib

            known = list(cases) + sorted({c.area for c in cases.values()})
            close = difflib.get_close_matches(name, known)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SystemExit(f"Unknown comparison {name!r}.{hint} See --list.")
        chosen += [c for c in matches if c not in chosen]
    return chosen


def _run(runs: list, report_folder: Path) -> int:
    from comparisons.registry import Measurement
    from comparisons.report import write_report

    header = (f"{'':9s} {'area':11s} {'case':30s} {'precision':9s} {'max abs':>10s} "
              f"{'max rel':>10s} {'tolerance':>9s}  result")
    print(header)
    print("-" * len(header))
    measurements = []
    start = time.perf_counter()
    for i, (case, dtype) in enumerate(runs, 1):
        try:
            m = case.run(dtype)
        except Exception as error:  # a crash is a failed comparison, reported like the others
            m = Measurement(case.area, case.name, dtype, float("inf"), float("inf"), 0.0, "",
                            error=f"{type(error).__name__}: {error}")
        measurements.append(m)
        result = "pass" if m.passed else f"FAIL {m.error or ''}"
        print(f"[{i:3d}/{len(runs)}] {m.area:11s} {m.name:30s} {m.dtype:9s} {m.max_abs:10.2e} "
              f"{m.max_rel:10.2e} {m.tolerance:9.0e}  {result}", flush=True)
    failed = [m for m in measurements if not m.passed]
    summary = write_report(measurements, report_folder)
    print("-" * len(header))
    print(f"{len(measurements) - len(failed)} passed, {len(failed)} failed "
          f"in {time.perf_counter() - start:.0f} s. Report: {summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
