"""compile / fit / evaluate / predict: the training loop of Keras, written out.

One **step** (``train_step``) of ``fit`` on a batch ``(x_b, y_b)``:

1. forward with ``training=True`` (Dropout active) → ``ŷ``;
2. loss ``L = loss(y_b, ŷ) + Σ penalties``;
3. backward → ``∂L/∂w`` for every weight;
4. ``optimizer.apply(∂L/∂w, w)``: the weights move;
5. the epoch's running means take ``L`` (weight ``n_b``, the batch size) and the metrics on
   the ``ŷ`` of step 1, i.e. computed **before** the update, as Keras reports them.
"""

from __future__ import annotations

import numpy as np

from minired import losses as losses_module
from minired import metrics as metrics_module
from minired import optimizers as optimizers_module
from minired.callbacks import CallbackList, History
from minired.metrics.metric import Mean
from minired.trainers import data_adapter
from minired.utils import rng_utils


class Trainer:
    """Keras' training API for :class:`~minired.models.Sequential`."""

    def __init__(self) -> None:
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self._metric_identifiers: list = []
        self._compile_metrics: list | None = None
        self._loss_tracker = Mean(name="loss")

    # -- compile ------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the optimizer, the loss and the metrics.

        Args:
            optimizer: a Keras name (``"sgd"``, ``"adam"``, ``"rmsprop"``...) or an optimizer.
            loss: a Keras name (``"mse"``, ``"categorical_crossentropy"``...) or a Loss.
            metrics: a list of names (``["accuracy"]``) or metric objects.

        Example:
            >>> model.compile(optimizer="adam", loss="categorical_crossentropy",
            ...               metrics=["accuracy"])
        """
        if loss is None:
            raise ValueError(
                "compile: `loss` is required (e.g. 'mse' or 'categorical_crossentropy').")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, list | tuple):
            raise TypeError(
                f"compile: `metrics` must be a list, e.g. ['accuracy'], got {metrics!r}.")
        for metric in metrics:  # fail on a misspelt name now, not at the first fit
            if not (isinstance(metric, str) and metric.lower() in ("accuracy", "acc")):
                metrics_module.get(metric)
        self._metric_identifiers = list(metrics)
        self._compile_metrics = None  # resolved from the data's shapes on first use
        self.compiled = True

    @property
    def metrics(self) -> list:
        """The loss tracker, then the compiled metrics (as ``keras.Model.metrics``)."""
        return [self._loss_tracker, *(self._compile_metrics or [])]

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def _require_compiled(self, method: str) -> None:
        if not self.compiled:
            raise ValueError(f"{method}: call model.compile(optimizer, loss) first.")

    def _build_metrics(self, y: np.ndarray, y_pred_shape: tuple) -> None:
        if self._compile_metrics is None:
            y_pred_stub = np.empty((0, *y_pred_shape[1:]))
            self._compile_metrics = [metrics_module.get(m, y, y_pred_stub)
                                     for m in self._metric_identifiers]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def _logs(self) -> dict[str, float]:
        return {m.name: m.result() for m in self.metrics}

    # -- one step -----------------------------------------------------------------------------
    def train_step(self, x, y, sample_weight=None) -> float:
        """Forward, loss, backward and update on one batch; returns the batch's loss."""
        loss, y_pred = self._forward_backward(x, y, sample_weight, training=True)
        if not np.isfinite(loss):
            return loss  # fit reports where it happened; no update with a broken gradient
        self.optimizer.apply(self.trainable_gradients, self.trainable_weights)
        self._update_trackers(loss, y, y_pred)
        return loss

    def test_step(self, x, y, sample_weight=None) -> float:
        """Forward and loss on one batch, ``training=False``; updates the running means."""
        y_pred = self.forward(x, training=False)
        loss = self.compute_loss(y, y_pred, sample_weight)
        self._update_trackers(loss, y, y_pred)
        return loss

    def compute_loss(self, y, y_pred, sample_weight=None, training: bool = False) -> float:
        """``L = loss(y, ŷ) + Σ penalties`` for the last forward pass, from the logits of the
        softmax/sigmoid output when Keras would read them (see ``_logits_layer_index``)."""
        index = self._logits_layer_index(training)
        if index is not None:
            data_loss = self._loss_from_logits(self.layers[index], y, sample_weight)[0]
        else:
            data_loss = self.loss(y, y_pred, sample_weight)
        return data_loss + sum(float(p) for p in self.losses)

    def _update_trackers(self, loss: float, y, y_pred) -> None:
        self._loss_tracker.update_state(loss, sample_weight=len(y))
        for metric in self._compile_metrics:
            metric.update_state(y, y_pred)

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto",
            callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, class_weight=None, sample_weight=None,
            initial_epoch: int = 0, validation_batch_size=None, validation_freq: int = 1
            ) -> History:
        """Train for ``epochs`` epochs and return a :class:`History`.

        Keras semantics: ``batch_size`` defaults to 32 and the last smaller batch is kept;
        ``validation_split`` holds out the last fraction before shuffling; ``shuffle``
        draws a new order every epoch; the epoch loss and metrics are batch-size-weighted
        means of the values computed before each update; validation runs on the weights at
        the end of the epoch.

        Example:
            >>> history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
            >>> sorted(history.history)
            ['accuracy', 'loss']
        """
        self._require_compiled("fit")
        x = self._prepare_x(x, "x")
        y = self._prepare_y(y, len(x))
        sample_weight = self._prepare_sample_weight(sample_weight, class_weight, y)
        batch_size = data_adapter.check_batch_size(batch_size)
        for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch),
                            ("validation_freq", validation_freq)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"fit: `{name}` must be a non-negative int, got {value!r}.")
        if validation_data is not None:
            x_val, y_val, sw_val = self._unpack_validation_data(validation_data)
        elif validation_split:
            (x, y, sample_weight), (x_val, y_val, sw_val) = data_adapter.train_validation_split(
                (x, y, sample_weight), validation_split)
        else:
            x_val = None
        verbose = _resolve_verbose(verbose)
        steps = data_adapter.num_batches(len(x), batch_size)
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     model=self, verbose=verbose, epochs=epochs, steps=steps)
        self._build_metrics(y, self.compute_output_shape(x.shape))
        self.stop_training = False
        generator = rng_utils.global_generator()  # reset by set_random_seed

        callback_list.on_train_begin()
        epoch_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            order = generator.permutation(len(x)) if shuffle else np.arange(len(x))
            for step, batch in enumerate(data_adapter.batch_slices(order, batch_size)):
                callback_list.on_train_batch_begin(step)
                sw = None if sample_weight is None else sample_weight[batch]
                loss = self.train_step(x[batch], y[batch], sw)
                if not np.isfinite(loss):
                    raise ValueError(
                        f"fit: the loss became {loss} at epoch {epoch + 1}/{epochs}, batch "
                        f"{step + 1}/{steps}. Lower the learning rate or check the data."
                    )
                callback_list.on_train_batch_end(step, self._logs())
                if self.stop_training:  # a callback may stop in the middle of an epoch
                    break
            epoch_logs = _sorted(self._logs())
            if x_val is not None and (epoch + 1) % max(validation_freq, 1) == 0:
                val_logs = self._evaluate_arrays(
                    x_val, y_val, sw_val, validation_batch_size or batch_size, callback_list)
                epoch_logs.update({f"val_{k}": v for k, v in _sorted(val_logs).items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callback_list.on_train_end(epoch_logs)
        return self.history  # set by CallbackList, as in Keras

    def _prepare_sample_weight(self, sample_weight, class_weight, y):
        if sample_weight is not None and class_weight is not None:
            raise ValueError("fit: give `sample_weight` or `class_weight`, not both.")
        if class_weight is not None:
            return data_adapter.class_weight_to_sample_weights(y, class_weight)
        if sample_weight is None:
            return None
        sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if len(sample_weight) != len(y):
            raise ValueError(f"`sample_weight` must have one weight per sample ({len(y)}), "
                             f"got {len(sample_weight)}.")
        return sample_weight

    def _unpack_validation_data(self, validation_data):
        if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
            raise ValueError("fit: `validation_data` must be a tuple (x_val, y_val) or "
                             "(x_val, y_val, sample_weight), got "
                             f"{type(validation_data).__name__}.")
        x_val = self._prepare_x(validation_data[0], "validation_data[0]")
        y_val = self._prepare_y(validation_data[1], len(x_val), "validation_data[1]")
        sw_val = validation_data[2] if len(validation_data) == 3 else None
        return x_val, y_val, sw_val

    # -- evaluate / predict -------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 callbacks=None, return_dict: bool = False):
        """Return the loss (and metrics) on ``(x, y)``, with ``training=False``.

        Returns a float when there are no metrics, else ``[loss, *metrics]``, or a dict
        with ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        x = self._prepare_x(x, "x")
        y = self._prepare_y(y, len(x))
        batch_size = data_adapter.check_batch_size(batch_size)
        verbose = _resolve_verbose(verbose)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1,
                                     steps=data_adapter.num_batches(len(x), batch_size))
        logs = self._evaluate_arrays(x, y, sample_weight, batch_size, callback_list)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _evaluate_arrays(self, x, y, sample_weight, batch_size, callback_list) -> dict:
        self._build_metrics(y, self.compute_output_shape(x.shape))
        self.reset_metrics()
        callback_list.on_test_begin()
        for step, batch in enumerate(data_adapter.batch_slices(np.arange(len(x)), batch_size)):
            callback_list.on_test_batch_begin(step)
            sw = None if sample_weight is None else np.asarray(sample_weight)[batch]
            self.test_step(x[batch], y[batch], sw)
            callback_list.on_test_batch_end(step, self._logs())
        logs = self._logs()
        callback_list.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None) -> np.ndarray:
        """Return the model's outputs for ``x`` (``training=False``: no dropout)."""
        x = self._prepare_x(x, "x")
        batch_size = data_adapter.check_batch_size(batch_size)
        verbose = _resolve_verbose(verbose)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1,
                                     steps=data_adapter.num_batches(len(x), batch_size))
        callback_list.on_predict_begin()
        outputs = []
        for step, batch in enumerate(data_adapter.batch_slices(np.arange(len(x)), batch_size)):
            callback_list.on_predict_batch_begin(step)
            outputs.append(self.forward(x[batch], training=False))
            callback_list.on_predict_batch_end(step, {"outputs": outputs[-1]})
        callback_list.on_predict_end()
        return np.concatenate(outputs, axis=0)

    # -- single batches -----------------------------------------------------------------------
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns its loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x = self._prepare_x(x, "x")
        y = self._prepare_y(y, len(x))
        sample_weight = self._prepare_sample_weight(sample_weight, class_weight, y)
        self._build_metrics(y, self.compute_output_shape(x.shape))
        self.reset_metrics()
        loss = self.train_step(x, y, sample_weight)
        if not np.isfinite(loss):
            raise ValueError(f"train_on_batch: the loss became {loss}.")
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, ``training=False``."""
        self._require_compiled("test_on_batch")
        x = self._prepare_x(x, "x")
        y = self._prepare_y(y, len(x))
        self._build_metrics(y, self.compute_output_shape(x.shape))
        self.reset_metrics()
        self.test_step(x, y, sample_weight)
        return self._batch_result(return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        return self.forward(self._prepare_x(x, "x"), training=False)

    def _batch_result(self, return_dict: bool):
        logs = self._logs()
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values


def _resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2, got {verbose!r}.")
    return int(verbose)


def _sorted(logs: dict) -> dict:
    return {k: logs[k] for k in sorted(logs)}


