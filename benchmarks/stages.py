"""``python -m benchmarks.stages``: where one training step's time goes, stage by stage, in
minired's ``fit`` and in the hand-written NumPy loop (``benchmarks/tight_numpy.py``), on the
benchmark's MLP 784-256-128-10 (relu, softmax, sparse categorical cross-entropy, Adam).

    python -m benchmarks.stages                       # batch 32 and 128, 5 epochs each
    python -m benchmarks.stages --batch-sizes 128 --epochs 9 --threads 1
    python -m benchmarks.stages --quick               # tiny sizes (the CI smoke run)

Each stage is timed by a timer around the method that does it, for every step of an epoch:

    stage         minired (fit)                              hand loop (TightMLP)
    gather        BatchBuffers.take                          _gather
    forward       Functional.forward                         _forward
    loss          Trainer._output_loss                       _loss_and_output_gradient
    backward      Functional.backward                        _backward
    optimizer     Optimizer.apply                            _update
    rest          the epoch's time outside those: minired's train_step bookkeeping (gradient
                  marks, loss tracker, step plan) and fit's loop; the hand loop's own loop

The two loops alternate epoch by epoch; each number is the median over the epochs of the
stage's time per step. A timer costs about 0.2 µs a call, five calls a step in each loop.
minired's forward includes its output softmax, which the hand loop computes in its loss.
The README's "How fast" quotes this table for what is left between the two.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from unittest import mock

from benchmarks.cases import MLP, SEED, classification_data, dense_stack, initial_weights
from benchmarks.tight_numpy import TightMLP

STAGES = ("gather", "forward", "loss", "backward", "optimizer")


def timed(function: Callable, totals: dict[str, float], stage: str) -> Callable:
    """``function`` with its time added to ``totals[stage]`` at every call."""
    def call(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[stage] += time.perf_counter() - start
    return call


@contextlib.contextmanager
def stages_timed(methods: list[tuple[object, str, str]], totals: dict[str, float]):
    """Within the block, each ``(owner, method name, stage)`` adds its time to
    ``totals[stage]`` (see :func:`timed`); the methods are put back afterwards."""
    with contextlib.ExitStack() as stack:
        for owner, name, stage in methods:
            stack.enter_context(mock.patch.object(owner, name,
                                                  timed(getattr(owner, name), totals, stage)))
        yield


def minired_epoch(x, y, batch_size: int) -> Callable[[dict], None]:
    """A compiled minired model (warmed up by one epoch) and a function that runs one
    ``fit`` epoch with its stages timed into the dict it is given."""
    import minired as mr
    from minired.models.functional import Functional
    from minired.optimizers.optimizer import Optimizer
    from minired.trainers.data_adapter import BatchBuffers
    from minired.trainers.trainer import Trainer

    model = dense_stack(mr, MLP, "softmax")
    model.set_weights(initial_weights(MLP, "softmax"))
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)          # warm-up
    methods = [(BatchBuffers, "take", "gather"), (Functional, "forward", "forward"),
               (Trainer, "_output_loss", "loss"), (Functional, "backward", "backward"),
               (Optimizer, "apply", "optimizer")]

    def epoch(totals: dict) -> None:
        with stages_timed(methods, totals):
            model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return epoch


def hand_loop_epoch(x, y, batch_size: int) -> Callable[[dict], None]:
    """The hand loop from the same weights (warmed up by one epoch) and a function that
    runs one epoch with its stages timed into the dict it is given."""
    loop = TightMLP(initial_weights(MLP, "softmax"), seed=SEED)
    loop.train_epoch(x, y, batch_size)                                    # warm-up
    methods = [(loop, "_gather", "gather"), (loop, "_forward", "forward"),
               (loop, "_loss_and_output_gradient", "loss"), (loop, "_backward", "backward"),
               (loop, "_update", "optimizer")]

    def epoch(totals: dict) -> None:
        with stages_timed(methods, totals):
            loop.train_epoch(x, y, batch_size)
    return epoch


def measure(batch_size: int, samples: int, epochs: int) -> dict[str, dict[str, float]]:
    """``{"minired": {stage: µs per step}, "hand_loop": {...}}``, each with ``"step"`` (the
    whole step) and ``"rest"``, medians over ``epochs`` alternated epochs."""
    x, y = classification_data(samples)
    steps = -(-samples // batch_size)
    runs = {"minired": minired_epoch(x, y, batch_size),
            "hand_loop": hand_loop_epoch(x, y, batch_size)}
    per_epoch: dict[str, list[dict]] = {name: [] for name in runs}
    for _ in range(epochs):
        for name, run in runs.items():
            totals: dict[str, float] = defaultdict(float)
            start = time.perf_counter()
            run(totals)
            step = (time.perf_counter() - start) / steps * 1e6
            times = {stage: totals[stage] / steps * 1e6 for stage in STAGES}
            times["rest"] = step - sum(times.values())
            times["step"] = step
            per_epoch[name].append(times)
    return {name: {stage: statistics.median(t[stage] for t in epochs_times)
                   for stage in (*STAGES, "rest", "step")}
            for name, epochs_times in per_epoch.items()}


def table(batch_size: int, result: dict[str, dict[str, float]]) -> str:
    mine, hand = result["minired"], result["hand_loop"]
    lines = [f"-- batch {batch_size}: µs per step (medians over the epochs)",
             f"{'stage':10s} {'minired':>9s} {'hand loop':>10s} {'difference':>11s}"]
    for stage in (*STAGES, "rest", "step"):
        lines.append(f"{stage:10s} {mine[stage]:9.1f} {hand[stage]:10.1f} "
                     f"{mine[stage] - hand[stage]:+11.1f}")
    lines.append(f"{'ratio':10s} {mine['step'] / hand['step']:9.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[int, dict]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stages", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", default="32,128", help="comma-separated (32,128)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="timed epochs of each loop, alternated (default 5; 1 with --quick)")
    parser.add_argument("--samples", type=int, default=None,
                        help="samples per epoch (default 30000, the benchmark's; 512 with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="cap NumPy's BLAS at N threads (threadpoolctl)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    epochs = args.epochs or (1 if args.quick else 5)
    samples = args.samples or (512 if args.quick else 30_000)
    if epochs < 1 or samples < 1 or any(b < 1 for b in batch_sizes):
        parser.error("--epochs, --samples and every batch size must be at least 1")
    limiter = None          # threadpoolctl's cap on the BLAS, kept alive until the end
    if args.threads:
        from benchmarks.runner import limit_threads

        limiter = limit_threads(args.threads, with_keras=False, with_torch=False)
    results = {}
    for batch_size in batch_sizes:
        results[batch_size] = measure(batch_size, samples, epochs)
        print(table(batch_size, results[batch_size]), flush=True)
    del limiter
    return results


if __name__ == "__main__":
    main()
