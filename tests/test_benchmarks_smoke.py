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
        # the convnet has no hand loop: its floor is its matrix products
        expected = contenders if name != "convnet" else contenders - {"tight_numpy"}
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


def test_stages_time_every_stage_of_both_loops():
    """``python -m benchmarks.stages`` finds every stage it names in both loops (a renamed
    method would leave its stage at 0, or fail to patch), and the stages lie within the
    step: each time is positive and ``rest`` (the step minus the stages) is not negative."""
    from benchmarks import stages

    result = stages.measure(batch_size=32, samples=96, epochs=1)
    assert set(result) == {"minired", "hand_loop"}
    for loop, times in result.items():
        assert set(times) == {*stages.STAGES, "rest", "step"}, loop
        for stage in stages.STAGES:
            assert times[stage] > 0, (loop, stage)
        assert times["rest"] >= 0, loop
        assert math.isclose(sum(times[s] for s in stages.STAGES) + times["rest"],
                            times["step"], rel_tol=1e-9), loop


def test_stages_command_prints_its_table():
    done = subprocess.run([sys.executable, "-m", "benchmarks.stages", "--quick",
                           "--batch-sizes", "32,64", "--samples", "128"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    for batch_size in (32, 64):
        assert f"-- batch {batch_size}:" in done.stdout
    rows = [line.split() for line in done.stdout.splitlines()
            if line.split() and line.split()[0] in {"gather", "step", "ratio"}]
    assert [row[0] for row in rows] == ["gather", "step", "ratio"] * 2


def test_stages_command_prints_the_convnet_table():
    done = subprocess.run([sys.executable, "-m", "benchmarks.stages", "--case", "convnet",
                           "--quick", "--batch-sizes", "16", "--samples", "40"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "-- convnet (the benchmark's keras-io MNIST convnet), batch 16:" in done.stdout
    rows = [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]
    assert rows[0][:2] == ["conv2d", "forward"], rows[0]
    assert [row[0] for row in rows[-4:-2]] == ["optimizer", "rest"]
    assert rows[-2][0] == "step" and rows[-1][:3] == ["matrix", "products", "alone"]


def test_stages_of_the_convnet_add_up():
    """``--case convnet`` times every layer's forward and backward (a layer whose method the
    model does not call would stay at 0) and the optimizer, within the step, and times the
    products alone."""
    from benchmarks import stages

    result = stages.measure_convnet(batch_size=16, samples=40, epochs=1)
    layer_stages = [s for s in result if s.endswith((" forward", " backward"))]
    assert len(layer_stages) == 2 * 7                   # the convnet's 7 layers, both ways
    for stage in [*layer_stages, "optimizer", "matrix products"]:
        assert result[stage] > 0, stage
    assert result["rest"] >= 0
    parts = [s for s in result if s not in ("rest", "step", "matrix products")]
    assert math.isclose(sum(result[s] for s in parts) + result["rest"], result["step"],
                        rel_tol=1e-9)


def test_a_stage_called_within_itself_counts_once():
    """``Conv2D.backward`` calls ``backward_from_z``, both timed as the layer's backward:
    the inner call's time is already inside the outer one's and must not be added again."""
    import time

    from benchmarks import stages

    class Layer:
        def backward(self):
            return self.backward_from_z()

        def backward_from_z(self):
            time.sleep(0.05)

    layer, totals = Layer(), {"backward": 0.0}
    with stages.stages_timed([(layer, "backward", "backward"),
                              (layer, "backward_from_z", "backward")], totals):
        layer.backward()
    assert 0.05 <= totals["backward"] < 0.09          # once: 0.05 s, not twice
