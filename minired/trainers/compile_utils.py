"""``compile`` for models with several outputs: which loss, weight and metrics go where.

Keras' rules, for a model whose outputs are named by ``keys`` (the output layers' names, or
the keys of a dict of outputs):

- ``loss``: one loss for every output, a list with one per output, or a dict by output
  name (an output left out, or given ``None``, has no loss);
- ``loss_weights``: the same shapes; the total loss is ``L = Σᵢ wᵢ Lᵢ + penalties``;
- ``metrics``: with one output, a list of metrics for it; with several, a list with one entry
  (a metric or a list of metrics) per output, or a dict by output name;
- ``weighted_metrics``: the same shapes; these metrics also take the batch's sample weights
  (``sample_weight``, or those ``class_weight`` gives), the others never do;
- names in the logs: ``loss``, then, with more than one loss, ``<output>_loss`` (each
  *unweighted* ``Lᵢ``), and with several outputs ``<output>_<metric>``; a weighted metric
  whose name is taken by a metric of ``metrics`` is logged as ``weighted_<metric>``;
  the outputs of a subclassed model whose ``call`` returns a tuple or a list have no names:
  their losses are logged as ``<loss name>_loss`` (``mse_loss``) and their metrics with no
  prefix (``mae``, ``mae_1``);
- ``model.metrics``: the loss tracker, the compiled metrics held in one
  :class:`CompileMetrics` (named ``compile_metrics``), then the ``<output>_loss`` trackers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import NamedTuple

from minired import losses as losses_module
from minired import metrics as metrics_module
from minired.metrics.metric import Mean, Metric, as_result


class OutputLoss(NamedTuple):
    """The loss of one output."""

    index: int                 #: which output
    key: str                   #: its name in the logs
    loss: losses_module.Loss
    weight: float | None       #: ``wᵢ`` in ``L = Σᵢ wᵢ Lᵢ`` (None: 1, not multiplied)
    tracker: Mean | None       #: ``<output>_loss``, with more than one loss


class CompiledMetric(NamedTuple):
    """One compiled metric: which output it reads, and whether it takes sample weights."""

    index: int                 #: which output
    metric: Metric             #: named as the logs name it
    weighted: bool             #: from ``weighted_metrics``: updated with the sample weights
    #: the name Keras' metric object keeps (no output prefix, no ``weighted_``, no ``_1``):
    #: it orders the list ``evaluate`` returns (see ``Trainer._batch_result``)
    own_name: str | None = None


def per_output(argument: str, value, keys: list[str]) -> list:
    """Spread a compile argument over the outputs: a dict by name, a list with one item per
    output, or (anything else) the same value for each."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in keys]
        if unknown:
            raise ValueError(f"compile: `{argument}` has keys {unknown} that name no output; "
                             f"the model's outputs are {keys}.")
        return [value.get(k) for k in keys]
    if isinstance(value, list | tuple) and len(keys) > 1:
        if len(value) != len(keys):
            raise ValueError(f"compile: `{argument}` must have one entry per output ({len(keys)}"
                             f": {keys}), got {len(value)}: {value!r}.")
        return list(value)
    return [value] * len(keys)


def resolve_losses(loss, loss_weights, keys: list[str], output_order: list[str] | None = None,
                   named: bool = True) -> list[OutputLoss]:
    """One :class:`OutputLoss` per output that has a loss, in Keras' order (``output_order``
    is the order a dict of outputs was written in).

    With ``named=False`` (a subclassed model whose ``call`` returns a tuple or a list: its
    outputs have no names), the per-output losses are logged after the loss, as Keras does:
    ``mse_loss`` for ``"mse"`` (the name given, or the loss's own name), and a loss dict
    names no output."""
    if not named and isinstance(loss, dict):
        raise ValueError(f"compile: `loss` is a dict {loss!r}, but the model's call() returns "
                         f"{len(keys)} outputs as a tuple or a list, which have no names: "
                         "give a list with one loss per output.")
    if loss is None:        # allowed when the model adds its own losses (Keras' add_loss)
        if loss_weights is not None:
            raise ValueError("compile: `loss_weights` needs a `loss`.")
        return []
    if isinstance(loss, list | tuple) and len(keys) == 1:
        if len(loss) != 1:
            raise ValueError(f"compile: the model has 1 output, but `loss` lists {len(loss)} "
                             "losses.")
        loss = loss[0]
    losses = per_output("loss", loss, keys)
    if loss_weights is None:
        weights = [None] * len(keys)
    elif isinstance(loss_weights, list | tuple) and len(keys) == 1:
        weights = list(loss_weights)
        if len(weights) != 1:
            raise ValueError(f"compile: `loss_weights` must match the number of losses, got 1 "
                             f"loss and {len(weights)} weights.")
    else:
        weights = per_output("loss_weights", loss_weights, keys)
    resolved = [(i, losses_module.get(item), weights[i]) for i, item in enumerate(losses)
                if item is not None]
    if not resolved:
        raise ValueError("compile: `loss` gives no output a loss.")
    many = len(resolved) > 1
    # Keras lists the per-output losses in the order of the outputs, except for a dict of
    # outputs, where a loss dict's order wins over the order the outputs were written in.
    order = keys if output_order is None else list(loss) if isinstance(loss, dict) else (
        output_order)
    resolved.sort(key=lambda r: order.index(keys[r[0]]))
    given = dict(enumerate(losses))

    def logged(i: int, item) -> str:
        if named:
            return keys[i]
        return given[i] if isinstance(given[i], str) else item.name

    return [OutputLoss(i, keys[i], item, None if w is None else float(w),
                       Mean(name=f"{logged(i, item)}_loss") if many else None)
            for i, item, w in resolved]


def check_metrics(metrics, keys: list[str], argument: str = "metrics") -> list[list]:
    """The metric identifiers of each output (names are checked now, resolved later from
    the shapes of the data, as ``"accuracy"`` needs); ``argument`` is ``"metrics"`` or
    ``"weighted_metrics"``, for the error messages."""
    if metrics is None:
        return [[] for _ in keys]
    if isinstance(metrics, str) or not isinstance(metrics, list | tuple | dict):
        raise TypeError(
            f"compile: `{argument}` must be a list, e.g. ['accuracy'], got {metrics!r}.")
    if len(keys) == 1:
        items = list(metrics.values()) if isinstance(metrics, dict) else list(metrics)
        per = [[m for item in items for m in (item if isinstance(item, list | tuple)
                                              else [item]) if m is not None]]
    else:
        if isinstance(metrics, list | tuple) and len(metrics) != len(keys):
            raise ValueError(
                f"compile: the model has {len(keys)} outputs {keys}: `{argument}` must be a list "
                f"with one entry (a metric or a list of metrics) per output, or a dict by "
                f"output name, got {metrics!r}.")
        per = [[] if item is None else list(item) if isinstance(item, list | tuple)
               else [item] for item in per_output(argument, metrics, keys)]
    for output_metrics in per:
        for metric in output_metrics:     # a misspelt name fails now, not at the first fit
            if not (isinstance(metric, str) and metric.lower() in ("accuracy", "acc")):
                metrics_module.check(metric)
    return per


def build_metrics(per_output_ids: list[list], weighted_ids: list[list], ys: list,
                  y_pred_stubs: list, keys: list[str], named: bool = True
                  ) -> list[CompiledMetric]:
    """The compiled metrics (those of ``metrics``, then those of ``weighted_metrics``), named
    as Keras logs them: a metric given as a string takes that string as its name (``"mae"``,
    not ``"mean_absolute_error"``), an object keeps its own; with several outputs the name is
    prefixed by the output's (``out_accuracy``); a name already taken gets ``_1``, ``_2``...
    (``["mae", "mae"]`` logs ``mae``, ``mae_1``), except a weighted metric's, which becomes
    ``weighted_<name>`` first (``metrics=["mae"], weighted_metrics=["mae"]`` logs ``mae``
    and ``weighted_mae``), as Keras' ``CompileMetrics.result``. Outputs without names
    (``named=False``: a subclassed model's tuple of outputs) prefix nothing."""
    built, taken = [], {}

    def unique(name: str) -> str:
        if name in taken:
            taken[name] += 1
            return f"{name}_{taken[name] - 1}"
        taken[name] = 1
        return name

    for weighted, per_output in ((False, per_output_ids), (True, weighted_ids)):
        for i, identifiers in enumerate(per_output):
            for identifier in identifiers:
                metric = metrics_module.get(identifier, ys[i], y_pred_stubs[i])
                own = identifier if isinstance(identifier, str) else metric.name
                prefix = f"{keys[i]}_" if len(keys) > 1 and named else ""
                logged = f"weighted_{own}" if weighted and prefix + own in taken else own
                metric.name = unique(prefix + logged)
                built.append(CompiledMetric(i, metric, weighted, own))
    return built


class CompileMetrics(Metric):
    """The compiled metrics as one object, as Keras lists them in ``model.metrics``.

    ``model.metrics_names`` is then ``['loss', 'compile_metrics']`` however many metrics
    were compiled; the logs, ``History`` and ``evaluate`` still name each metric.
    The metrics come in when the data is first seen (see :func:`build_metrics`).

    Example:
        >>> container = CompileMetrics()
        >>> container.by_output = [CompiledMetric(0, mr.metrics.MeanAbsoluteError(name="mae"),
        ...                                       weighted=False)]
        >>> container.update_state(np.zeros(2), np.array([1.0, 3.0]))
        >>> container.name, container.result()
        ('compile_metrics', {'mae': 2.0})
    """

    def __init__(self, n_outputs: int = 1) -> None:
        super().__init__(name="compile_metrics")
        self.n_outputs = n_outputs
        #: the compiled metrics, from :func:`build_metrics`
        self.by_output: list[CompiledMetric] = []

    @property
    def metrics(self) -> list[Metric]:
        return [compiled.metric for compiled in self.by_output]

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Update each metric with the targets and predictions of its output (a list, one
        per output, for several outputs). As Keras, only the weighted metrics take
        ``sample_weight`` (one array for every output, or a list with one per output)."""
        several = self.n_outputs > 1
        ys, predictions = (y_true, y_pred) if several else ([y_true], [y_pred])
        update_compiled_metrics(self.by_output, ys, predictions, sample_weight)

    def result(self) -> dict:
        """Each metric's result, by name."""
        return {metric.name: as_result(metric.result()) for metric in self.metrics}


def update_compiled_metrics(compiled: list[CompiledMetric], ys: list, predictions: list,
                            sample_weight=None, masks: list | None = None,
                            logits_of: Callable | None = None) -> None:
    """``metric.update_state(yᵢ, ŷᵢ)`` for each compiled metric of output ``i``; a weighted
    one also takes the sample weights of its output (``sample_weight`` is one array for
    every output, a list with one per output, or None). With ``masks`` (the mask of each
    output, or None), the metrics that read a mask in Keras (the :class:`MeanMetricWrapper`
    ones: accuracies, errors) also take their output's mask.

    A cross-entropy metric (``metric.uses_output_logits``) given ``logits_of(i, metric)``
    (the model's: the logits ``z`` behind a softmax or sigmoid output ``i``, or None) reads
    ``z`` instead of ``ŷᵢ``, with ``metric.update_state_from_logits``, as its loss does."""
    for index, metric, weighted, _ in compiled:
        extra = {}
        if masks is not None and masks[index] is not None and isinstance(
                metric, metrics_module.MeanMetricWrapper) and "mask" in inspect.signature(
                type(metric).update_state).parameters:
            extra["mask"] = masks[index]
        if weighted:
            extra["sample_weight"] = (sample_weight[index] if isinstance(sample_weight, list)
                                      else sample_weight)
        logits = (logits_of(index, metric) if logits_of is not None
                  and metric.uses_output_logits else None)
        if logits is None:
            metric.update_state(ys[index], predictions[index], **extra)
        else:
            metric.update_state_from_logits(ys[index], logits, **extra)
