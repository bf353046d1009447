"""The benchmark runs (``python -m benchmarks --quick``) and writes a well-formed report.

A benchmark is not a test: nothing here looks at how long anything took. The checks are that
the command completes, and that its JSON report holds every case, every contender's times
(one per repetition) and the paired minired/contender ratios, and the machine's details.
Every case runs without Keras (seconds); a second run adds Keras on two cases (a dense one
and the convnet), since importing TensorFlow and tracing every case costs most of a minute.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from benchmarks.cases import ALL_CASES, torch_available

ROOT = Path(__file__).resolve().parent.parent


def run_quick(tmp_path: Path, *options: str) -> dict:
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", str(out),
                           *options], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "minired/" in done.stdout and str(out) in done.stdout       # the table was printed
    return json.loads(out.read_text())


def check_report(report: dict, cases: tuple[str, ...], contenders: set[str]) -> None:
    assert report["schema"] == "minired-benchmarks/1"
    assert report["options"]["repeats"] == 1 and report["options"]["quick"] is True
    machine = report["machine"]
    for key in ("cpu_model", "logical_cores", "blas", "versions", "thread_environment",
                "load_average_start", "load_average_end"):
        assert key in machine, key
    assert {"python", "numpy", "minired"} <= set(machine["versions"])
    assert list(report["cases"]) == list(cases)
    for name, case in report["cases"].items():
        assert {"description", "kind", "unit", "params", "contenders", "ratios"} <= set(case)
        assert "minired" in case["contenders"], name
        expected = contenders if name != "convnet" else contenders & {"minired", "keras",
                                                                      "torch"}
        if case["kind"] == "memory":
            expected = expected - {"matmul_only"}
        assert expected <= set(case["contenders"]), (name, set(case["contenders"]))
        for contender, result in case["contenders"].items():
            if case["kind"] == "memory":
                assert isinstance(result["peak_rss_delta_mib"], float), (name, contender)
            else:
                assert len(result["times_s"]) == 1, (name, contender)
                assert all(math.isfinite(t) and t > 0 for t in result["times_s"])
                assert math.isfinite(result["median_s"])
            if contender != "minired":
                assert f"minired/{contender}" in case["ratios"], (name, contender)


# PyTorch is not a dependency: measured (and so checked) only where it is installed
WITH_TORCH = {"torch"} if torch_available() else set()


def test_quick_benchmark_every_case_without_keras(tmp_path):
    report = run_quick(tmp_path, "--no-keras")
    check_report(report, ALL_CASES, {"minired", "tight_numpy", "matmul_only"} | WITH_TORCH)
    assert report["options"]["keras"] is False


def test_quick_benchmark_with_keras(tmp_path):
    report = run_quick(tmp_path, "--cases", "mlp128,convnet")
    check_report(report, ("mlp128", "convnet"), {"minired", "keras", "tight_numpy",
                                                 "matmul_only"} | WITH_TORCH)
    assert report["machine"]["versions"]["keras"]
