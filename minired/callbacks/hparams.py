"""HParams: show a hyperparameter search in TensorBoard's HParams tab.

Each run of the search writes its hyperparameter values and its final metrics into its own
folder; once, the search can also describe itself (every hyperparameter with the values it
tries, and the metrics to compare). TensorBoard's HParams tab then shows one row per run,
a parallel-coordinates view and scatter plots of metric against hyperparameter::

    import itertools, os
    from minired.callbacks import hparams

    GRID = {"learning_rate": [0.0003, 0.003, 0.03], "units": [8, 32, 128]}
    hparams.log_config("logs/grid", GRID, metrics=["val_accuracy"])       # once
    for i, values in enumerate(itertools.product(*GRID.values())):
        run = dict(zip(GRID, values))
        model = build_model(**run)
        run_dir = os.path.join("logs/grid", f"run-{i}")
        history = model.fit(x, y, validation_data=(x_val, y_val), epochs=20, verbose=0,
                            callbacks=[mr.callbacks.TensorBoard(run_dir)])  # curves (optional)
        hparams.log_run(run_dir, run, {"val_accuracy": history.history["val_accuracy"][-1]})

Then ``tensorboard --logdir logs/grid``. The summaries are those of
``tensorboard.plugins.hparams`` (tags ``_hparams_/experiment`` and
``_hparams_/session_start_info``), made by its own functions; TensorFlow is not needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from minired.callbacks.tensorboard import EventFileWriter, require_tensorboard

HParamValue = bool | int | float | str


def log_config(log_dir: str | os.PathLike, hparams: Mapping[str, Sequence[HParamValue]],
               metrics: Sequence[str]) -> None:
    """Describe the search once, in the folder above the runs: hyperparameters and metrics.

    TensorBoard then offers exactly these hyperparameters (with their values as filters)
    and these metrics as columns. Optional: without it TensorBoard infers both from the
    runs, and lists as metrics every scalar found in them (``epoch_loss``...).

    Args:
        log_dir: the folder that holds the runs' folders (what ``--logdir`` points to).
        hparams: each hyperparameter's name and the list of values the search tries, e.g.
            ``{"learning_rate": [0.001, 0.01], "units": [8, 32]}``.
        metrics: the names of the metrics :func:`log_run` records, e.g. ``["val_accuracy"]``.

    Example:
        >>> import tempfile
        >>> log_config(tempfile.mkdtemp(), {"units": [8, 32], "dropout": [0.0, 0.5]},
        ...            metrics=["val_accuracy"])
    """
    require_tensorboard()
    from tensorboard.plugins.hparams import summary_v2 as hp

    for name, values in hparams.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise TypeError(f"log_config: hparams[{name!r}] must be the list of values the "
                            f"search tries, e.g. [0.001, 0.01], got {values!r}.")
    if isinstance(metrics, str):
        raise TypeError(f"log_config: `metrics` must be a list of names, e.g. [{metrics!r}].")
    summary = hp.hparams_config_pb(
        hparams=[hp.HParam(name, hp.Discrete(_same_type(values)))
                 for name, values in hparams.items()],
        metrics=[hp.Metric(name) for name in metrics])
    writer = EventFileWriter(str(log_dir))
    writer.write(summary, step=0)
    writer.close()


def log_run(log_dir: str | os.PathLike, hparams: Mapping[str, HParamValue],
            metrics: Mapping[str, float]) -> None:
    """Record one run of the search: its hyperparameter values and its final metrics.

    Writes, into ``log_dir``, the run's start information (its hyperparameter values) and
    each metric as a scalar at step 0. ``log_dir`` may be the folder given to a
    :class:`~minired.callbacks.TensorBoard` for the same run: its ``train`` and
    ``validation`` curves then sit under the same row of the HParams tab.

    Args:
        log_dir: this run's folder, inside the search's folder.
        hparams: the run's value of each hyperparameter, e.g. ``{"units": 32}``
            (bool, int, float or str; NumPy numbers are accepted).
        metrics: the run's results, e.g. ``{"val_accuracy": 0.93}``.

    Example:
        >>> import os, tempfile
        >>> run_dir = os.path.join(tempfile.mkdtemp(), "run-0")
        >>> log_run(run_dir, {"units": 32, "dropout": 0.5}, {"val_accuracy": 0.93})
        >>> len(os.listdir(run_dir))  # one event file
        1
    """
    require_tensorboard()
    from tensorboard.plugins.hparams import summary_v2 as hp

    writer = EventFileWriter(str(log_dir))
    writer.write(hp.hparams_pb(dict(hparams)), step=0)
    for name, value in metrics.items():
        writer.scalar(name, value, step=0)
    writer.close()


def _same_type(values: Sequence[HParamValue]) -> list[HParamValue]:
    """The values as Python scalars of one type: TensorBoard stores every number as a float,
    and its ``Discrete`` domain wants one type (``[0, 0.5]`` becomes ``[0.0, 0.5]``)."""
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return values

