"""Run the cases: contenders interleaved repetition by repetition, paired ratios, JSON."""

from __future__ import annotations

import datetime
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import cases as cases_module
from benchmarks import machine

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "minired-benchmarks/1"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def paired_ratios(times: dict[str, list[float]], reference: str = "minired") -> dict:
    """For every other contender X: minired/X in each repetition, and their median."""
    ratios = {}
    for other, other_times in times.items():
        if other == reference:
            continue
        per_rep = [a / b for a, b in zip(times[reference], other_times, strict=True)]
        ratios[f"{reference}/{other}"] = {"per_repetition": per_rep,
                                          "median": statistics.median(per_rep)}
    return ratios


def run_time_case(case: cases_module.Case, repeats: int) -> dict:
    """Set every contender up (one untimed warm-up unit each), then time the units
    interleaved: A B C, A B C, ... ``repeats`` times."""
    units = {}
    for contender in case.make():
        start = time.perf_counter()
        units[contender.name] = contender.setup()
        _log(f"  {case.name}: {contender.name} set up and warmed up in "
             f"{time.perf_counter() - start:.1f} s")
    times: dict[str, list[float]] = {name: [] for name in units}
    for rep in range(repeats):
        for name, unit in units.items():
            gc.collect()
            start = time.perf_counter()
            unit()
            times[name].append(time.perf_counter() - start)
        _log(f"  {case.name}: repetition {rep + 1}/{repeats}: "
             + ", ".join(f"{n} {t[-1]:.3f} s" for n, t in times.items()))
    del units
    gc.collect()
    samples = case.params.get("samples")
    contenders = {}
    for name, ts in times.items():
        median = statistics.median(ts)
        contenders[name] = {"times_s": ts, "median_s": median, "min_s": min(ts),
                            "samples_per_s": samples / median if samples else None}
    return {"contenders": contenders, "ratios": paired_ratios(times)}


def run_memory_case(case: cases_module.Case) -> dict:
    """One fresh subprocess per library (see benchmarks/memory.py for the measure)."""
    contenders = {}
    for library in case.params["libraries"]:
        command = [sys.executable, "-m", "benchmarks.memory", library,
                   str(case.params["samples"]), str(case.params["batch_size"])]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"memory subprocess for {library} failed:\n{done.stderr[-3000:]}")
        contenders[library] = json.loads(done.stdout.strip().splitlines()[-1])
        _log(f"  memory: {library}: +{contenders[library]['peak_rss_delta_mib']} MiB")
    ratios = {}
    ref = contenders["minired"]["peak_rss_delta_mib"]
    for name, result in contenders.items():
        if name != "minired":
            other = result["peak_rss_delta_mib"]
            ratios[f"minired/{name}"] = {"per_repetition": None,
                                         "median": ref / other if other > 0 else None}
    return {"contenders": contenders, "ratios": ratios}


def limit_threads(threads: int, with_keras: bool, with_torch: bool) -> object:
    """Cap every library's compute threads at ``threads``; returns threadpoolctl's limiter
    (keep it alive for the run)."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)               # for the memory subprocesses
    limiter = None
    try:
        import threadpoolctl

        limiter = threadpoolctl.threadpool_limits(limits=threads)
    except ImportError:
        _log("threadpoolctl is not installed: NumPy's BLAS threads are not capped in this "
             "process (only in the subprocesses, through the environment)")
    if with_keras:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    if with_torch:
        import torch

        torch.set_num_threads(threads)
    return limiter


def run(case_names: list[str], repeats: int, quick: bool, with_keras: bool,
        json_path: Path, argv: list[str], threads: int | None = None) -> dict:
    with_torch = cases_module.torch_available()
    started = datetime.datetime.now(datetime.UTC)
    load_start = machine.load_average()
    if with_keras:
        cases_module.load_keras()              # imported up front: versions, thread counts
    if with_torch:
        import torch  # noqa: F401
    environment_at_start = {k: os.environ.get(k) for k in machine.THREAD_VARIABLES}
    limiter = limit_threads(threads, with_keras, with_torch) if threads else None
    report = {
        "schema": SCHEMA,
        "command": [os.path.basename(sys.executable), "-m", "benchmarks", *argv],
        "started": started.isoformat(timespec="seconds"),
        "options": {"cases": case_names, "repeats": repeats, "quick": quick,
                    "keras": with_keras, "torch": with_torch,
                    "threads": threads},
        "method": ("each timed unit (a training epoch or a predict call) after one untimed "
                   "warm-up unit per contender; contenders interleaved within each "
                   "repetition (A B C, A B C, ...); gc.collect() before each unit, not timed; "
                   "ratio = minired time / other time in the same repetition, reported as the "
                   "median over repetitions"),
        "machine": machine.describe(with_keras),
        "cases": {},
    }
    report["machine"]["load_average_start"] = load_start
    # as the user set it; --threads then caps the libraries (see "threads" and "blas")
    report["machine"]["thread_environment"] = environment_at_start
    for case in cases_module.build_cases(case_names, quick, with_keras, with_torch):
        _log(f"{case.name}: {case.description} ({case.unit})")
        start = time.perf_counter()
        result = run_memory_case(case) if case.kind == "memory" else run_time_case(case, repeats)
        report["cases"][case.name] = {"description": case.description, "kind": case.kind,
                                      "unit": case.unit, "params": case.params,
                                      "wall_s": time.perf_counter() - start, **result}
    report["machine"]["load_average_end"] = machine.load_average()
    report["finished"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    del limiter
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    return report
