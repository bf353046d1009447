"""The report as a plain-text table."""

from __future__ import annotations

ORDER = ("minired", "keras", "torch", "tight_numpy", "matmul_only")
UNSTABLE = 2.0        # max/min of a contender's times above which the table warns


def _ratio_cell(result: dict, name: str) -> str:
    if name == "minired":
        return "1.00 (ref)"
    ratio = result["ratios"].get(f"minired/{name}", {})
    median, per_rep = ratio.get("median"), ratio.get("per_repetition")
    if median is None:
        return "n/a"
    if per_rep and len(per_rep) > 1:
        return f"{median:.2f} [{min(per_rep):.2f}-{max(per_rep):.2f}]"
    return f"{median:.2f}"


def _blas_cell(machine: dict) -> str:
    """NumPy's BLAS kernels, e.g. "openblas Haswell kernels (OPENBLAS_CORETYPE=Haswell)"."""
    pools = machine["blas"].get("threadpools")
    pools = [p for p in pools if p.get("user_api") == "blas"] if isinstance(pools, list) else []
    if not pools:
        return "NumPy's BLAS: see the JSON report"
    cell = f"NumPy's BLAS: {pools[0]['internal_api']} {pools[0]['architecture']} kernels"
    forced = machine["blas"].get("OPENBLAS_CORETYPE")
    return cell + (f" (OPENBLAS_CORETYPE={forced})" if forced else "")


def table(report: dict) -> str:
    machine = report["machine"]
    lines = [
        f"minired benchmarks: {machine['cpu_model']}, {machine['usable_cores']} usable cores; "
        f"{_blas_cell(machine)}; load average {machine['load_average_start']} at start, "
        f"{machine['load_average_end']} at end",
        f"repetitions: {report['options']['repeats']} (interleaved); "
        "ratio = median over repetitions of minired time / contender time "
        "[min-max of the paired ratios]; < 1 means minired is faster",
        "",
        f"{'case':<9} {'contender':<12} {'median':>11} {'min':>11} {'samples/s':>11}  "
        "minired/contender",
    ]
    for case_name, result in report["cases"].items():
        names = sorted(result["contenders"], key=lambda n: ORDER.index(n)
                       if n in ORDER else len(ORDER))
        lines.append(f"-- {case_name}: {result['description']}; unit: {result['unit']}")
        for name in names:
            c = result["contenders"][name]
            if result["kind"] == "memory":
                lines.append(f"{case_name:<9} {name:<12} {c['peak_rss_delta_mib']:>9.1f}MiB "
                             f"{'':>11} {'':>11}  {_ratio_cell(result, name)}")
            else:
                rate = f"{c['samples_per_s']:>11.0f}" if c["samples_per_s"] else f"{'':>11}"
                lines.append(f"{case_name:<9} {name:<12} {c['median_s']:>10.3f}s "
                             f"{c['min_s']:>10.3f}s {rate}  {_ratio_cell(result, name)}")
    unstable = [f"{case_name}/{name}" for case_name, result in report["cases"].items()
                if result["kind"] == "time"
                for name, c in result["contenders"].items()
                if max(c["times_s"]) > UNSTABLE * min(c["times_s"])]
    if unstable:
        lines += ["", f"!! unstable: times varied more than {UNSTABLE:g}x across repetitions for "
                  + ", ".join(unstable) + (
                      ". The machine's load changed during the run: trust the paired ratios "
                      "more than the times, or rerun." if report["options"].get("threads") else
                      ". On a busy machine multi-threaded BLAS stalls (threads waiting for a "
                      "core); compare with --threads 1.")]
    return "\n".join(lines)
