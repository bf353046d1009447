"""A ``train_step(self, data)`` or ``test_step(self, data)`` of your own, run by ``fit`` and
``evaluate`` as Keras runs it (keras-io's "Customizing what happens in fit()").

Keras' step takes one batch, ``data = (x, y)`` (``(x, y, sample_weight)`` with weights),
and returns the logs, a dict such as ``{"loss": ..., "accuracy": ...}``: the logs the
callbacks and ``History`` see are those the last step returned. Its gradients come from a
tape; in minired that tape is ``mr.autodiff.GradientTape``, which sees the model's
weights (``tape.gradient(loss, self.trainable_variables)``)::

    class CustomModel(mr.Sequential):
        def train_step(self, data):
            x, y = data
            with mr.autodiff.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(gradients, self.trainable_variables)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

minired's own steps take ``(x, y, sample_weight)``, with ``y`` a list of one target per
output; a step with one argument besides ``self`` is Keras' kind.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from minired.metrics.metric import as_result


def is_keras_step(model, name: str) -> bool:
    """Whether ``type(model).<name>`` is a step of your own written as Keras writes it,
    ``def train_step(self, data)`` (looked up once per class and step)."""
    return _is_keras_step(type(model), name)


@functools.cache
def _is_keras_step(cls: type, name: str) -> bool:
    from minired.trainers.trainer import Trainer

    step = getattr(cls, name)
    return step is not getattr(Trainer, name) and len(inspect.signature(step).parameters) == 2


def has_keras_step(model) -> bool:
    """Whether ``model`` has a ``train_step`` or a ``test_step`` of your own (Keras' kind):
    they get the targets given to ``fit``/``evaluate`` even without a compiled loss."""
    return is_keras_step(model, "train_step") or is_keras_step(model, "test_step")


def batch_data(model, x, y: list | None, sample_weight) -> tuple:
    """The batch as Keras hands it to a step: ``(x, y)``, or ``(x, y, sample_weight)``;
    ``y`` one array for a model with one output (None when there are no targets)."""
    if y is not None and all(t is None for t in y):
        y = None
    elif y is not None and len(y) == 1:
        y = y[0]
    data = (model._structured(x), y)
    return data if sample_weight is None else (*data, sample_weight)


def run(model, name: str, x, y: list | None, sample_weight) -> float:
    """Call the step ``name`` of your own on the batch; keep the logs it returns (the
    model's logs until the next :meth:`reset_metrics`) and return their ``"loss"`` (0.0
    when they have none)."""
    logs = getattr(model, name)(batch_data(model, x, y, sample_weight))
    if not isinstance(logs, dict):
        raise TypeError(f"{type(model).__name__}.{name}(data) must return a dict of logs "
                        f"(e.g. {{m.name: m.result() for m in self.metrics}}), got "
                        f"{type(logs).__name__}.")
    model._keras_step_logs = logs
    loss = logs.get("loss")
    return 0.0 if loss is None or isinstance(loss, dict) else float(np.asarray(loss))


def logs_of(step_logs: dict) -> dict[str, float]:
    """The logs a step returned, as numbers; a dict of results (Keras' CompileMetrics)
    spread into its entries, as Keras' ``get_metrics_result``."""
    logs: dict[str, float] = {}
    for key, value in step_logs.items():
        if isinstance(value, dict):
            logs.update(logs_of(value))
        else:
            logs[key] = as_result(value)
    return logs
