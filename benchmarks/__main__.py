"""``python -m benchmarks``: time minired against Keras, PyTorch (if installed), a tight
hand-written NumPy loop of the same math and a loop of only its matrix products.

    python -m benchmarks                      # every case, 5 interleaved repetitions
    python -m benchmarks --quick              # tiny sizes, 1 repetition (the CI smoke run)
    python -m benchmarks --cases mlp128,convnet --repeats 9 --json /tmp/bench.json
    python -m benchmarks --no-keras
    python -m benchmarks --threads 1          # every library on one thread
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.cases import ALL_CASES


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and 1 repetition (a smoke run: the times mean little)")
    parser.add_argument("--cases", default=",".join(ALL_CASES),
                        help=f"comma-separated, from: {','.join(ALL_CASES)} (default: all)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repetitions per case (default 5; 1 with --quick)")
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write the JSON report "
                             "(default reports/benchmarks/latest.json in the repository)")
    parser.add_argument("--no-keras", action="store_true", help="leave Keras/TensorFlow out")
    parser.add_argument("--threads", type=int, default=None,
                        help="cap every library's compute threads at N (NumPy's BLAS through "
                             "threadpoolctl, TensorFlow's intra/inter-op pools, torch); "
                             "default: each library's own default, recorded in the report")
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in args.cases if c not in ALL_CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(ALL_CASES)}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def main(argv: list[str] | None = None) -> dict:
    from benchmarks import report, runner

    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    json_path = args.json or runner.ROOT / "reports" / "benchmarks" / "latest.json"
    result = runner.run(args.cases, args.repeats, args.quick, not args.no_keras, json_path,
                        argv, threads=args.threads)
    print(report.table(result))
    print(f"\nJSON report: {json_path}")
    return result


if __name__ == "__main__":
    main()
