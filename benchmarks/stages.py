"""``python -m benchmarks.stages``: where one training step's time goes, stage by stage, in
minired's ``fit`` and in the hand-written NumPy loop (``benchmarks/tight_numpy.py``), on the
benchmark's MLP 784-256-128-10 (relu, softmax, sparse categorical cross-entropy, Adam).

    python -m benchmarks.stages                       # batch 32 and 128, 5 epochs each
    python -m benchmarks.stages --batch-sizes 128 --epochs 9 --threads 1
    python -m benchmarks.stages --quick               # tiny sizes (the CI smoke run)
    python -m benchmarks.stages --adam-order keras    # the hand loop's Adam in Keras' order

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

    python -m benchmarks.stages --case convnet --threads 1      # batch 128, 6000 samples

times the benchmark's convnet instead (the keras-io MNIST example; there is no hand loop for
it): each layer's forward and backward, the optimizer and the rest of minired's step, in ms,
and next to them the same matrix products alone (``ConvMatmulFloor``, the convnet case's
``matmul_only``), in alternated epochs.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from unittest import mock

from benchmarks.cases import (
    MLP,
    SEED,
    classification_data,
    dense_stack,
    image_data,
    initial_weights,
    keras_io_convnet,
)
from benchmarks.tight_numpy import ConvMatmulFloor, TightMLP

STAGES = ("gather", "forward", "loss", "backward", "optimizer")


def timed(function: Callable, totals: dict[str, float], stage: str,
          running: dict[str, int] | None = None) -> Callable:
    """``function`` with its time added to ``totals[stage]`` at every call. With ``running``
    (shared by the timers of a block), a call made while its stage is already being timed
    (``Conv2D.backward`` calling ``backward_from_z``) adds nothing: it is inside that time."""
    running = {} if running is None else running

    def call(*args, **kwargs):
        outermost = not running.get(stage)
        running[stage] = running.get(stage, 0) + 1
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            if outermost:
                totals[stage] += time.perf_counter() - start
            running[stage] -= 1
    return call


@contextlib.contextmanager
def stages_timed(methods: list[tuple[object, str, str]], totals: dict[str, float]):
    """Within the block, each ``(owner, method name, stage)`` adds its time to
    ``totals[stage]`` (see :func:`timed`); the methods are put back afterwards."""
    running: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        for owner, name, stage in methods:
            stack.enter_context(mock.patch.object(
                owner, name, timed(getattr(owner, name), totals, stage, running)))
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


def hand_loop_epoch(x, y, batch_size: int, adam_order: str = "fast"
                    ) -> Callable[[dict], None]:
    """The hand loop from the same weights (warmed up by one epoch) and a function that
    runs one epoch with its stages timed into the dict it is given. ``adam_order``: see
    :class:`~benchmarks.tight_numpy.TightMLP`."""
    loop = TightMLP(initial_weights(MLP, "softmax"), seed=SEED, adam_order=adam_order)
    loop.train_epoch(x, y, batch_size)                                    # warm-up
    methods = [(loop, "_gather", "gather"), (loop, "_forward", "forward"),
               (loop, "_loss_and_output_gradient", "loss"), (loop, "_backward", "backward"),
               (loop, "_update", "optimizer")]

    def epoch(totals: dict) -> None:
        with stages_timed(methods, totals):
            loop.train_epoch(x, y, batch_size)
    return epoch


def stage_times(run: Callable[[dict], None], stages: Iterable[str], steps: int,
                unit: float) -> dict[str, float]:
    """Run one epoch (``run`` fills a dict of seconds per stage) and return each stage's
    time per step in ``unit`` per second (1e6: µs), with ``rest`` (the step minus the
    stages) and ``step``."""
    totals: dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    run(totals)
    step = (time.perf_counter() - start) / steps * unit
    times = {stage: totals[stage] / steps * unit for stage in stages}
    times["rest"] = step - sum(times.values())
    times["step"] = step
    return times


def measure(batch_size: int, samples: int, epochs: int, adam_order: str = "fast"
            ) -> dict[str, dict[str, float]]:
    """``{"minired": {stage: µs per step}, "hand_loop": {...}}``, each with ``"step"`` (the
    whole step) and ``"rest"``, medians over ``epochs`` alternated epochs."""
    x, y = classification_data(samples)
    steps = -(-samples // batch_size)
    runs = {"minired": minired_epoch(x, y, batch_size),
            "hand_loop": hand_loop_epoch(x, y, batch_size, adam_order)}
    per_epoch: dict[str, list[dict]] = {name: [] for name in runs}
    for _ in range(epochs):
        for name, run in runs.items():
            per_epoch[name].append(stage_times(run, STAGES, steps, 1e6))
    return {name: {stage: statistics.median(t[stage] for t in epochs_times)
                   for stage in (*STAGES, "rest", "step")}
            for name, epochs_times in per_epoch.items()}


def convnet_epoch(x, y, batch_size: int) -> tuple[list[str], Callable[[dict], None]]:
    """The benchmark's convnet in minired (compiled as the keras-io example, warmed up by
    one epoch), its stages (each layer's forward and backward, then the optimizer) and a
    function that runs one ``fit`` epoch with those stages timed into the dict it is given.

    A layer's backward is its ``backward`` or its ``backward_from_z`` (the output layer's,
    whose ``δz`` the loss gives), whichever the model calls; a call of one from the other
    is counted once."""
    import minired as mr
    from minired.optimizers.optimizer import Optimizer

    mr.utils.set_random_seed(SEED)
    model = keras_io_convnet(mr)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)          # warm-up
    methods = [(layer, "forward", f"{layer.name} forward") for layer in model.layers]
    methods += [(layer, name, f"{layer.name} backward") for layer in reversed(model.layers)
                for name in ("backward", "backward_from_z") if hasattr(layer, name)]
    methods.append((Optimizer, "apply", "optimizer"))

    def epoch(totals: dict) -> None:
        with stages_timed(methods, totals):
            model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return list(dict.fromkeys(stage for *_, stage in methods)), epoch


def measure_convnet(batch_size: int, samples: int, epochs: int) -> dict[str, float]:
    """ms per step of each stage of minired's convnet step (see :func:`convnet_epoch`), of
    ``rest`` (the step minus its stages) and of the ``step``, and ``matrix products``: the
    same products alone (:class:`~benchmarks.tight_numpy.ConvMatmulFloor`), in the same
    epochs' shapes. Medians over ``epochs``, minired's and the products' alternated."""
    import minired as mr

    x, y = image_data(samples)
    steps = -(-samples // batch_size)
    stage_names, run = convnet_epoch(x, y, batch_size)
    floor = ConvMatmulFloor(keras_io_convnet(mr))
    floor.epoch(samples, batch_size)                                      # warm-up
    per_epoch: list[dict[str, float]] = []
    for _ in range(epochs):
        times = stage_times(run, stage_names, steps, 1e3)
        start = time.perf_counter()
        floor.epoch(samples, batch_size)
        times["matrix products"] = (time.perf_counter() - start) / steps * 1e3
        per_epoch.append(times)
    return {stage: statistics.median(t[stage] for t in per_epoch) for stage in per_epoch[0]}


def convnet_table(batch_size: int, result: dict[str, float]) -> str:
    lines = [f"-- convnet (the benchmark's keras-io MNIST convnet), batch {batch_size}: ms per "
             "step (medians over the epochs)"]
    lines += [f"{stage:24s} {ms:8.2f}" for stage, ms in result.items()
              if stage != "matrix products"]
    lines.append(f"{'matrix products alone':24s} {result['matrix products']:8.2f}   "
                 "(ConvMatmulFloor: the same products, nothing else)")
    return "\n".join(lines)


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
    parser.add_argument("--case", choices=("mlp", "convnet"), default="mlp",
                        help="mlp: minired against the hand loop, stage by stage (default); "
                        "convnet: minired's convnet layer by layer, and its products alone")
    parser.add_argument("--adam-order", choices=("fast", "keras"), default="fast",
                        help="the hand loop's order of Adam's operations: its own (default) "
                        "or Keras', which minired follows (see benchmarks/tight_numpy.py)")
    parser.add_argument("--batch-sizes", default=None,
                        help="comma-separated (default 32,128 for mlp, 128 for convnet)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="timed epochs of each loop, alternated (default 5; 1 with --quick)")
    parser.add_argument("--samples", type=int, default=None,
                        help="samples per epoch (default the benchmark's: 30000 for mlp, "
                        "6000 for convnet; 512 with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="cap NumPy's BLAS at N threads (threadpoolctl)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    convnet = args.case == "convnet"
    batch_sizes = [int(b) for b in (args.batch_sizes or ("128" if convnet else "32,128")
                                    ).split(",") if b.strip()]
    epochs = args.epochs or (1 if args.quick else 5)
    samples = args.samples or (512 if args.quick else 6_000 if convnet else 30_000)
    if epochs < 1 or samples < 1 or any(b < 1 for b in batch_sizes):
        parser.error("--epochs, --samples and every batch size must be at least 1")
    limiter = None          # threadpoolctl's cap on the BLAS, kept alive until the end
    if args.threads:
        from benchmarks.runner import limit_threads

        limiter = limit_threads(args.threads, with_keras=False, with_torch=False)
    results = {}
    for batch_size in batch_sizes:
        if convnet:
            results[batch_size] = measure_convnet(batch_size, samples, epochs)
            print(convnet_table(batch_size, results[batch_size]), flush=True)
        else:
            results[batch_size] = measure(batch_size, samples, epochs, args.adam_order)
            print(table(batch_size, results[batch_size]), flush=True)
    del limiter
    return results


if __name__ == "__main__":
    main()
