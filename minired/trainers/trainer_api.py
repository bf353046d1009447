"""Keras 3's trainer methods that a ``train_step`` of your own calls: ``compute_loss``,
``compute_metrics``, ``get_metrics_result``, ``predict_step``, and the deprecated
``compiled_loss`` / ``compiled_metrics`` (see :mod:`minired.trainers.keras_steps`).

The functions are methods of :class:`~minired.trainers.trainer.Trainer`.
"""

from __future__ import annotations

import warnings

import numpy as np

from minired import ops
from minired.autodiff import layer_calls


def compute_loss(model, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
    """``L = Σᵢ wᵢ lossᵢ(yᵢ, ŷᵢ) + Σ model.losses``, Keras' signature.

    Inside a ``GradientTape`` (a ``train_step`` of your own) the loss is recorded on the
    tape, so ``tape.gradient(loss, model.trainable_variables)`` gives ``∂L/∂w``; outside, a
    number for the last forward pass. ``x`` and ``training`` are not used, as in Keras.

    Example (``model`` compiled with a cross-entropy, ``x``, ``y`` a batch):
        >>> with mr.autodiff.GradientTape() as tape:
        ...     loss = model.compute_loss(y=y, y_pred=model(x, training=True))
        >>> grads = tape.gradient(loss, model.trainable_variables)
        >>> reference, expected = model.loss_and_gradients(x, y, training=True)
        >>> bool(np.isclose(float(loss), reference))
        True
        >>> all(np.allclose(g, e, atol=1e-6) for g, e in zip(grads, expected))
        True
    """
    del x
    if not model._output_losses and not model.losses:
        raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
    ys, predictions = model._flat_outputs(y), model._flat_outputs(y_pred)
    if not layer_calls.inside_recording():
        values = model._output_loss(ys, predictions, sample_weight, training,
                                    gradient=False)[0]
        return model._total_loss(values)
    total = 0.0
    for out in model._output_losses:
        weights = (sample_weight[out.index] if isinstance(sample_weight, list)
                   else sample_weight)
        value = out.loss(ys[out.index], predictions[out.index], sample_weight=weights)
        total = total + (value if out.weight is None else value * out.weight)
    for added in model._call_losses():      # add_loss values of this call: on the tape
        total = total + ops.sum(added)
    return total + _recorded_penalties(model)


def _recorded_penalties(model):
    """``Σ R(w)`` of the regularized weights, recorded on the active tape as one operation
    whose VJP is each regularizer's own gradient, ``δw = δ · ∂R/∂w`` (the built-in
    layers' weights are plain arrays the tape knows only as inputs of records)."""
    from minired.autodiff.tape import Record, active_tape
    from minired.autodiff.tensor import traced

    pairs = [(w, r) for w, _, r in model._weight_triples() if r is not None]
    if not pairs:
        return 0.0
    value = traced(np.asarray(sum(r(w) for w, r in pairs)))

    def vjp(grad):
        return tuple(r.gradient(w) * grad for w, r in pairs)

    active_tape().records.append(Record(value, tuple(w for w, _ in pairs), vjp))
    return value


def compute_metrics(model, x, y, y_pred, sample_weight=None) -> dict:
    """Update the compiled metrics with ``(y, ŷ)`` and return :func:`get_metrics_result`
    (Keras: the loss tracker is not updated here; a step of your own updates it)."""
    container = model._metrics_container
    if container is not None:
        if model._compile_metrics is None:         # first use: built from the data's shapes
            model._build_metrics(model._flat_outputs(y), x)
        container.update_state(y, y_pred, sample_weight)
    return get_metrics_result(model)


def get_metrics_result(model) -> dict:
    """``{name: result}`` for every metric of ``model.metrics``; a metric whose result is
    a dict (the compiled metrics) gives its entries (Keras' ``get_metrics_result``)."""
    results: dict = {}
    for metric in model.metrics:
        result = metric.result()
        if isinstance(result, dict):
            results.update(result)
        else:
            results[metric.name] = result
    return results


def predict_step(model, data):
    """The outputs of one batch, ``model(x, training=False)``: ``data`` is ``x`` or a
    tuple ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (Keras' ``predict_step``)."""
    x = data[0] if isinstance(data, tuple) else data
    return model(x, training=False)


def compiled_loss(model, y, y_pred, sample_weight=None, regularization_losses=None):
    """Keras 2's ``model.compiled_loss(y, y_pred, sample_weight)``, kept (deprecated) by
    Keras 3 on TensorFlow: :func:`compute_loss`, with Keras' warning."""
    warnings.warn("`model.compiled_loss()` is deprecated. Instead, use "
                  "`model.compute_loss(x, y, y_pred, sample_weight, training)`.", stacklevel=2)
    return model.compute_loss(x=None, y=y, y_pred=y_pred, sample_weight=sample_weight)


class CompiledMetrics:
    """Keras 2's ``model.compiled_metrics``, kept (deprecated) by Keras 3 on TensorFlow:
    ``update_state(y, y_pred, sample_weight)`` updates every metric of ``model.metrics``,
    as Keras' shim does: a ``Mean`` (the loss tracker) with ``y_pred``, the others with
    ``(y, y_pred)``."""

    def __init__(self, model) -> None:
        self._model = model

    def update_state(self, y, y_pred, sample_weight=None) -> None:
        from minired.metrics.metric import Mean

        warnings.warn("`model.compiled_metrics()` is deprecated. Instead, use e.g.:\n"
                      "```\nfor metric in self.metrics:\n    metric.update_state(y, y_pred)\n"
                      "```\n", stacklevel=2)
        for metric in self._model.metrics:
            if isinstance(metric, Mean):
                metric.update_state(y_pred, sample_weight=sample_weight)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
