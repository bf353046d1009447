"""compile / fit / evaluate / predict: the training loop of Keras, written out.

One **step** (``train_step``) of ``fit`` on a batch ``(x_b, y_b)``:

1. forward with ``training=True`` (Dropout active) → ``ŷ``;
2. loss ``L = loss(y_b, ŷ) + Σ penalties``;
3. backward → ``∂L/∂w`` for every weight;
4. ``optimizer.apply(∂L/∂w, w)``: the weights move;
5. the epoch's running means take ``L`` (weight ``n_b``, the batch size) and the metrics on
   the ``ŷ`` of step 1, i.e. computed **before** the update, as Keras reports them.

Everything a user can get wrong (shapes, labels that do not fit the loss, sample weights,
validation data, NaN) is checked before the first step, so an error never costs an epoch.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from minired import config, keras_numerics
from minired import losses as losses_module
from minired import metrics as metrics_module
from minired import optimizers as optimizers_module
from minired.callbacks import CallbackList, History
from minired.layers.layer import Layer
from minired.metrics.metric import Mean
from minired.trainers import data_adapter
from minired.utils import rng_utils


class Trainer:
    """Keras' training API, for any model that implements the contract below.

    :class:`~minired.models.Sequential` is one such model. A model provides:

    - ``forward(x, training)``: ``ŷ``, recording each layer call as ``(layer, cache)`` in
      ``self.calls``, in order;
    - ``backward(grad_outputs, top=None)``: backpropagation through ``self.calls`` in reverse,
      from ``δa = ∂L/∂ŷ`` (or from ``δz = ∂L/∂z`` of the call ``top``);
    - ``unique_layers``, ``trainable_weights``, ``trainable_gradients`` and ``losses``
      (the penalties), ``compute_output_shape(shape)``;
    - ``_prepare_x(x, argument, allow_empty, method)``: the checked input array.

    The methods below raise NotImplementedError until a model defines them.
    """

    calls: list[tuple[Layer, object]]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement forward().")

    def backward(self, grad_outputs: np.ndarray, top: int | None = None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement backward().")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        raise NotImplementedError(f"{type(self).__name__} must implement compute_output_shape().")

    def _prepare_x(self, x, argument: str, allow_empty: bool = True, method: str = "fit"
                   ) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement _prepare_x().")

    @property
    def unique_layers(self) -> list[Layer]:
        raise NotImplementedError(f"{type(self).__name__} must implement unique_layers.")

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self.unique_layers for w in layer.trainable_weights]

    @property
    def trainable_gradients(self) -> list[np.ndarray]:
        return [g for layer in self.unique_layers if layer.trainable for g in layer.gradients]

    @property
    def losses(self) -> list[float]:
        """Regularization penalties of every layer, on the current weights."""
        return [p for layer in self.unique_layers for p in layer.losses]

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
        if optimizer is None:
            raise ValueError("compile: `optimizer` must be an optimizer name (e.g. 'adam') or an "
                             "optimizer object, got None. Leave it out for Keras' default, "
                             "'rmsprop'.")
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
        """``L = loss(y, ŷ) + Σ penalties`` for the last forward pass."""
        data_loss = self._output_loss(y, y_pred, sample_weight, training, gradient=False)[0]
        return data_loss + sum(float(p) for p in self.losses)

    def _forward_backward(self, x, y, sample_weight, training: bool):
        """One forward and one backward pass; returns ``(L, ŷ)`` and leaves ``∂L/∂w`` in the
        layers' gradient arrays.

        ``∂L/∂w`` is the sum over every call of the layer (zeroed first), plus ``∂R/∂w`` of
        its penalty, added once.
        """
        y_pred = self.forward(x, training=training)
        data_loss, grad, top = self._output_loss(y, y_pred, sample_weight, training,
                                                 gradient=True)
        for layer in self.unique_layers:
            layer.zero_gradients()
        self.backward(grad, top=top)
        for layer in self.unique_layers:
            layer.add_penalty_gradients()
        return data_loss + sum(float(p) for p in self.losses), y_pred

    def _output_loss(self, y, y_pred, sample_weight, training: bool, gradient: bool):
        """The data loss (and where backpropagation starts), read where Keras reads it.

        When the model ends in a softmax or a sigmoid and the loss is a cross-entropy, Keras
        on TensorFlow computes the loss from the logits ``z`` of that layer (no clipping, no
        ``log(0)``): the gradient is then the simple, stable ``δz = p - y`` and the
        activation's own backward is skipped. :func:`~minired.keras_numerics.logits_call`
        finds that call.

        Returns:
            ``(L_data, grad, top)``: ``grad`` is ``δa = ∂L/∂ŷ`` with ``top=None``, or
            ``δz = ∂L/∂z`` of the call ``self.calls[top]``; ``grad`` is None when ``gradient``
            is false.
        """
        top = keras_numerics.logits_call(self.calls, self.loss, training)
        from_logits = None
        if top is not None:
            layer, cache = self.calls[top]
            if self.loss.from_logits:
                warnings.warn(
                    f"{self.loss.name} received from_logits=True, but the output comes from a "
                    f"{layer.activation.__name__} activation and does not hold logits; as Keras "
                    "does, the layer's real logits are used.", stacklevel=4)
            y_pred, from_logits = cache.z, True
        value, grad = self.loss.compute(y, y_pred, sample_weight, from_logits, gradient)
        return value, grad, top

    def _update_trackers(self, loss: float, y, y_pred) -> None:
        self._loss_tracker.update_state(loss, sample_weight=len(y))
        for metric in self._compile_metrics:
            metric.update_state(y, y_pred)

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto",
            callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, class_weight=None, sample_weight=None,
            initial_epoch: int = 0, validation_batch_size=None,
            validation_freq: int | list[int] = 1
            ) -> History:
        """Train for ``epochs`` epochs and return a :class:`History`.

        Keras semantics: ``batch_size`` defaults to 32 and the last smaller batch is kept;
        ``validation_split`` holds out the last fraction before shuffling; ``shuffle``
        draws a new order every epoch; the epoch loss and metrics are batch-size-weighted
        means of the values computed before each update; validation runs on the weights at
        the end of the epoch, every ``validation_freq`` epochs, and never uses
        ``class_weight``.

        Example:
            >>> history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
            >>> sorted(history.history)
            ['accuracy', 'loss']
        """
        self._require_compiled("fit")
        if y is None:
            raise ValueError("fit: `y` is required: give the targets, one per sample of `x` "
                             "(minired trains on arrays, not on datasets or generators).")
        x = self._prepare_x(x, "x", allow_empty=False, method="fit")
        y = self._prepare_y(y, len(x))
        if sample_weight is not None and class_weight is not None:
            raise ValueError("fit: give `sample_weight` or `class_weight`, not both.")
        sample_weight = self._prepare_sample_weight(sample_weight, len(x))
        batch_size = data_adapter.check_batch_size(batch_size)
        for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"fit: `{name}` must be a non-negative int, got {value!r}.")
        _check_validation_freq(validation_freq)
        if validation_data is not None:
            x_val, y_val, sw_val = self._unpack_validation_data(validation_data)
        elif validation_split:
            (x, y, sample_weight), (x_val, y_val, sw_val) = data_adapter.train_validation_split(
                (x, y, sample_weight), validation_split)
        else:
            x_val = y_val = sw_val = None
        if class_weight is not None:  # after the split: validation never uses class weights
            sample_weight = data_adapter.class_weight_to_sample_weights(y, class_weight)
        self._check_targets(y, "y", x.shape)
        if x_val is not None:
            self._check_targets(y_val, "validation_data[1]" if validation_data is not None
                                else "y (its validation part)", x_val.shape)
        verbose = _resolve_verbose(verbose)
        validation_batch_size = data_adapter.check_batch_size(validation_batch_size,
                                                              default=batch_size)
        steps = data_adapter.num_batches(len(x), batch_size)
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     model=self, verbose=verbose, epochs=epochs, steps=steps)
        self._build_metrics(y, self.compute_output_shape(x.shape))
        self.stop_training = False
        shuffler = rng_utils.generator("shuffle")  # reset by set_random_seed

        callback_list.on_train_begin()
        epoch_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            order = shuffler.permutation(len(x)) if shuffle else np.arange(len(x))
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
            if x_val is not None and should_validate(epoch, validation_freq):
                val_logs = self._evaluate_arrays(x_val, y_val, sw_val, validation_batch_size,
                                                 callback_list)
                self._check_validation_loss(val_logs["loss"], epoch, epochs, step, steps)
                epoch_logs.update({f"val_{k}": v for k, v in _sorted(val_logs).items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callback_list.on_train_end(epoch_logs)
        return self.history  # set by CallbackList, as in Keras

    def _check_validation_loss(self, val_loss: float, epoch: int, epochs: int, step: int,
                               steps: int) -> None:
        """A non-finite ``val_loss`` stops ``fit`` with where it came from.

        The training loss of every batch was finite (it is checked before each update), so
        non-finite weights can only come from the update of the epoch's last batch.
        """
        if np.isfinite(val_loss):
            return
        if not all(np.all(np.isfinite(w)) for w in self.trainable_weights):
            raise ValueError(
                f"fit: the validation loss became {val_loss} at epoch {epoch + 1}/{epochs}: the "
                f"update of batch {step + 1}/{steps} made the weights NaN or inf (the training "
                "loss before it was finite). Lower the learning rate, or clip the gradients "
                "(e.g. optimizer=mr.optimizers.SGD(clipnorm=1.0)).")
        raise ValueError(
            f"fit: the validation loss became {val_loss} at epoch {epoch + 1}/{epochs}, with "
            "finite weights: check the validation data.")

    # -- checking the data --------------------------------------------------------------------
    def _prepare_y(self, y, n_samples: int, argument: str = "y") -> np.ndarray:
        """Check that ``y`` is numeric, finite and has one target per sample."""
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
            raise TypeError(f"`{argument}` must be numeric, got dtype {y.dtype}.")
        if y.ndim == 0 or len(y) != n_samples:
            raise ValueError(
                f"`{argument}` must have one target per sample of x ({n_samples}), got "
                f"{'a scalar' if y.ndim == 0 else len(y)}."
            )
        if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
            raise ValueError(f"`{argument}` contains NaN or inf.")
        return y

    def _check_targets(self, y: np.ndarray, argument: str, x_shape: tuple) -> None:
        """Check ``y`` against the loss (shape, label range) before any step.

        The loss's own checks run on ``y`` against a stand-in for the predictions with the
        model's output shape (a broadcast view: no memory), so a wrong ``y`` fails now, not
        at the first step that meets it (an epoch later, for validation data).
        """
        output_shape = self.compute_output_shape(x_shape)
        y_pred = np.broadcast_to(np.zeros((), dtype=config.floatx()), output_shape)
        try:
            self.loss.prepare(y, y_pred)
        except ValueError as error:
            raise ValueError(f"`{argument}` does not fit the loss and the model's output "
                             f"{(None, *output_shape[1:])}: {error}") from None

    def _prepare_sample_weight(self, sample_weight, n_samples: int,
                               argument: str = "sample_weight") -> np.ndarray | None:
        """One finite weight per sample, as an array of shape ``(N,)`` (``(N, 1)`` accepted)."""
        if sample_weight is None:
            return None
        try:
            weights = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"`{argument}` must be numbers, one per sample, got "
                            f"{type(sample_weight).__name__}.") from None
        if weights.ndim == 2 and weights.shape[1] == 1:
            weights = weights[:, 0]
        if weights.ndim != 1 or len(weights) != n_samples:
            raise ValueError(f"`{argument}` must have one weight per sample, shape "
                             f"({n_samples},), got shape {weights.shape}.")
        if not np.all(np.isfinite(weights)):
            bad = int(np.argwhere(~np.isfinite(weights))[0, 0])
            raise ValueError(f"`{argument}` contains {weights[bad]} at index {bad}: every "
                             "sample weight must be a finite number.")
        return weights

    def _unpack_validation_data(self, validation_data):
        if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
            raise ValueError("fit: `validation_data` must be a tuple (x_val, y_val) or "
                             "(x_val, y_val, sample_weight), got "
                             f"{type(validation_data).__name__}.")
        x_val = self._prepare_x(validation_data[0], "validation_data[0]", allow_empty=False)
        y_val = self._prepare_y(validation_data[1], len(x_val), "validation_data[1]")
        sw_val = (self._prepare_sample_weight(validation_data[2], len(x_val),
                                              "validation_data[2]")
                  if len(validation_data) == 3 else None)
        return x_val, y_val, sw_val

    # -- evaluate / predict -------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 callbacks=None, return_dict: bool = False):
        """Return the loss (and metrics) on ``(x, y)``, with ``training=False``.

        Returns a float when there are no metrics, else ``[loss, *metrics]``, or a dict
        with ``return_dict=True``.

        Example:
            >>> loss, accuracy = model.evaluate(x, y, verbose=0)
            >>> 0 <= accuracy <= 1
            True
        """
        self._require_compiled("evaluate")
        if y is None:
            raise ValueError("evaluate: `y` is required: give the targets, one per sample of "
                             "`x`.")
        x = self._prepare_x(x, "x", allow_empty=False, method="evaluate")
        y = self._prepare_y(y, len(x))
        sample_weight = self._prepare_sample_weight(sample_weight, len(x))
        self._check_targets(y, "y", x.shape)
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
            sw = None if sample_weight is None else sample_weight[batch]
            self.test_step(x[batch], y[batch], sw)
            callback_list.on_test_batch_end(step, self._logs())
        logs = self._logs()
        callback_list.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None) -> np.ndarray:
        """Return the model's outputs for ``x`` (``training=False``: no dropout).

        Example:
            >>> model.predict(x[:2], verbose=0).shape
            (2, 3)
        """
        x = self._prepare_x(x, "x", method="predict")
        batch_size = data_adapter.check_batch_size(batch_size)
        verbose = _resolve_verbose(verbose)
        if len(x) == 0:   # nothing to run: an empty array of the output's shape
            output_shape = self.compute_output_shape(x.shape)
            return np.zeros((0, *output_shape[1:]), dtype=x.dtype)
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
        x = self._prepare_x(x, "x", allow_empty=False, method="train_on_batch")
        y = self._prepare_y(y, len(x))
        if sample_weight is not None and class_weight is not None:
            raise ValueError("train_on_batch: give `sample_weight` or `class_weight`, not both.")
        sample_weight = self._prepare_sample_weight(sample_weight, len(x))
        if class_weight is not None:
            sample_weight = data_adapter.class_weight_to_sample_weights(y, class_weight)
        self._check_targets(y, "y", x.shape)
        self._build_metrics(y, self.compute_output_shape(x.shape))
        self.reset_metrics()
        loss = self.train_step(x, y, sample_weight)
        if not np.isfinite(loss):
            raise ValueError(f"train_on_batch: the loss became {loss}.")
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, ``training=False``."""
        self._require_compiled("test_on_batch")
        x = self._prepare_x(x, "x", allow_empty=False, method="test_on_batch")
        y = self._prepare_y(y, len(x))
        sample_weight = self._prepare_sample_weight(sample_weight, len(x))
        self._check_targets(y, "y", x.shape)
        self._build_metrics(y, self.compute_output_shape(x.shape))
        self.reset_metrics()
        self.test_step(x, y, sample_weight)
        return self._batch_result(return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        return self.forward(self._prepare_x(x, "x", method="predict_on_batch"), training=False)

    def _batch_result(self, return_dict: bool):
        logs = self._logs()
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values


def should_validate(epoch: int, validation_freq: int | list[int]) -> bool:
    """Keras' rule: an int validates every ``validation_freq`` epochs (the 2nd, 4th... for 2);
    a list names the epochs, counted from 1.

    Example:
        >>> [epoch + 1 for epoch in range(6) if should_validate(epoch, 2)]
        [2, 4, 6]
        >>> [epoch + 1 for epoch in range(6) if should_validate(epoch, [1, 5])]
        [1, 5]
    """
    if isinstance(validation_freq, numbers.Integral):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


def _check_validation_freq(validation_freq) -> None:
    def positive_int(value) -> bool:
        return (isinstance(value, numbers.Integral) and not isinstance(value, bool)
                and value > 0)

    if positive_int(validation_freq) or (isinstance(validation_freq, list | tuple | range)
                                         and all(positive_int(v) for v in validation_freq)):
        return
    raise ValueError("fit: `validation_freq` must be a positive int (validate every n epochs) "
                     f"or a list of epochs counted from 1, got {validation_freq!r}.")


def _resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2, got {verbose!r}.")
    return int(verbose)


def _sorted(logs: dict) -> dict:
    return {k: logs[k] for k in sorted(logs)}
