"""compile / fit / evaluate / predict: the training loop of Keras, written out.

One **step** (``train_step``) of ``fit`` on a batch ``(x_b, y_b)``:

1. forward with ``training=True`` (Dropout active) → ``ŷ``;
2. loss ``L = loss(y_b, ŷ) + Σ penalties``;
3. backward → ``∂L/∂w`` for every weight;
4. ``optimizer.apply(∂L/∂w, w)``: the weights move (with a loss scale ``s``, from
   ``loss_scale_factor`` or a LossScaleOptimizer, the gradients passed are those of ``s·L``,
   ``s·∂L/∂w``, and ``apply`` divides them by ``s``);
5. the epoch's running means take ``L`` (weight ``n_b``, the batch size) and the metrics on
   the ``ŷ`` of step 1, i.e. computed **before** the update, as Keras reports them.

After the last epoch ``fit`` calls ``optimizer.finalize_variable_values``: with
``use_ema=True`` the moving averages of the weights replace them, as in Keras.

Everything a user can get wrong (shapes, labels that do not fit the loss, sample weights,
validation data, NaN) is checked before the first step, so an error never costs an epoch.
"""

from __future__ import annotations

import collections
import contextlib
import math
import numbers
import warnings
from collections.abc import Iterator

import numpy as np

from minired import config, keras_numerics
from minired import optimizers as optimizers_module
from minired.callbacks import CallbackList, History
from minired.layers import workspace
from minired.layers.layer import Layer, held_metrics
from minired.metrics.metric import Mean, as_result
from minired.optimizers.variable_paths import remember_paths
from minired.trainers import compile_utils, data_adapter, epoch_iterator, keras_steps, trainer_api
from minired.trainers.data_adapter import num_samples
from minired.trainers.step_plan import StepPlan
from minired.utils import interrupts, rng_utils


class Trainer:
    """Keras' training API, for any model that implements the contract below.

    :class:`~minired.models.Functional` (and so :class:`~minired.models.Sequential`) is one
    such model. A model provides:

    - ``forward(x, training)``: ``ŷ`` (a list, one per output, when there are several),
      recording each layer call as ``(layer, cache)`` in ``self.calls``, in order;
    - ``backward(grad_outputs, top=None, input_gradients=True)``: backpropagation through
      those calls in reverse, from ``δŷ = ∂L/∂ŷ`` per output (or from ``δz = ∂L/∂z`` of the
      call ``top``); training passes ``input_gradients=False`` (``δx`` is not needed);
    - ``_logits_call(output_index, loss, training)``: the call whose logits a cross-entropy
      (a loss, or a metric) reads (see :func:`~minired.keras_numerics.logits_call`);
    - ``output_keys``, ``trainable_weights``, ``trainable_gradients`` (and
      ``_trainable_pairs()``, both at once), ``_weight_triples()`` (every ``(w, ∂L/∂w, R)``),
      ``losses`` (the added losses, then the penalties; ``_call_losses()``: the added ones
      only), ``zero_gradients()``, ``_fill_unwritten_gradients()``, ``_release_caches()``,
      ``compute_output_shape(shape)``, ``_pack_outputs(flat)``;
    - ``_prepare_x(x, argument, allow_empty, method)``: the checked inputs (one array, or a
      list of arrays in the order of the model's inputs), and ``_structured(x)``: a batch
      of them as ``forward`` takes it (a subclassed model's dict, given back its keys).

    Inside the loop, targets and predictions are lists with one array per output.
    """

    calls: list[tuple[Layer, object]]
    #: The weights the steps read (see :meth:`_plan`): made at a fit's first step, kept
    #: while ``_keep_step_plan`` (the rest of that fit).
    _step_plan: StepPlan | None = None
    _keep_step_plan = False
    #: Whether the step being run (``train_step``: True, ``test_step``: False) ran the model
    #: in training mode: an active Dropout hides the logits from the metrics, as from the loss.
    _step_training = False
    #: compile's execution arguments, as Keras keeps them (minired always runs eagerly)
    run_eagerly = False
    jit_compile = False

    def __init__(self) -> None:
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self._output_losses: list[compile_utils.OutputLoss] = []
        self._metric_identifiers: list[list] = []
        self._weighted_metric_identifiers: list[list] = []
        self.steps_per_execution = 1     # batches per execution (see compile)
        self._compile_metrics: list[compile_utils.CompiledMetric] | None = None
        #: the compiled metrics as one object in ``model.metrics`` (Keras' CompileMetrics)
        self._metrics_container: compile_utils.CompileMetrics | None = None
        self._loss_tracker = Mean(name="loss")

    # -- compile ------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile="auto", auto_scale_loss: bool = True) -> None:
        """Choose the optimizer, the loss(es) and the metrics.

        Args:
            optimizer: a Keras name (``"sgd"``, ``"adam"``, ``"rmsprop"``...) or an optimizer.
            loss: a Keras name (``"mse"``, ``"categorical_crossentropy"``...), a Loss, or a
                function ``fn(y_true, y_pred)`` written with ``mr.ops``; for a model with
                several outputs, also a list (one per output) or a dict by output name.
                None when the model's layers add their own losses (``add_loss``).
            loss_weights: the weights ``wᵢ`` of ``L = Σᵢ wᵢ Lᵢ``: a float, a list or a dict.
            metrics: a list of names (``["accuracy"]``) or metric objects; for several
                outputs, one entry per output (a list) or a dict by output name.
            weighted_metrics: metrics that also take the sample weights (``sample_weight``
                or those made from ``class_weight``), given as ``metrics`` is; the metrics
                of ``metrics`` never do. Logged as ``weighted_<name>`` when ``metrics``
                has a metric of the same name.
            run_eagerly, jit_compile, auto_scale_loss: how Keras runs the step (a traced
                graph or not, XLA, loss scaling for float16), not what it computes: minired
                always runs its NumPy step eagerly, so they are accepted and change nothing.
            steps_per_execution: how many batches one execution runs (default 1). The
                numbers do not change; as in Keras, the batch callbacks (and the progress
                bar) are called once per execution, with its first and last step (see
                :func:`~minired.trainers.epoch_iterator.executions`).

        Example:
            >>> model.compile(optimizer="adam", loss="categorical_crossentropy",
            ...               metrics=["accuracy"])
        """
        if optimizer is None:
            raise ValueError("compile: `optimizer` must be an optimizer name (e.g. 'adam') or an "
                             "optimizer object, got None. Leave it out for Keras' default, "
                             "'rmsprop'.")
        if (isinstance(steps_per_execution, bool)
                or not isinstance(steps_per_execution, int | np.integer)
                or steps_per_execution < 1):
            raise ValueError("compile: `steps_per_execution` must be a positive int, got "
                             f"{steps_per_execution!r}.")
        self.steps_per_execution = int(steps_per_execution)
        # as Keras stores them ("auto" resolves to False without an accelerator)
        self.run_eagerly, self.jit_compile = run_eagerly, jit_compile not in ("auto", False)
        self._compiled_outputs = (loss, loss_weights, metrics, weighted_metrics)
        self._resolve_compiled_outputs()
        self.optimizer = optimizers_module.get(optimizer)
        self.compiled = True

    def _resolve_compiled_outputs(self) -> None:
        """Spread the compiled losses and metrics over the model's outputs (see
        :mod:`~minired.trainers.compile_utils`); a subclassed model whose outputs are not
        known yet at ``compile`` does it again when its first data shows them."""
        loss, loss_weights, metrics, weighted_metrics = self._compiled_outputs
        keys, named = self.output_keys, self._outputs_named
        self._output_losses = compile_utils.resolve_losses(
            loss, loss_weights, keys, self._loss_output_order(), named)
        self._metric_identifiers = compile_utils.check_metrics(metrics, keys)
        self._weighted_metric_identifiers = compile_utils.check_metrics(
            weighted_metrics, keys, "weighted_metrics")
        self.loss = (self._output_losses[0].loss if len(keys) == 1 and self._output_losses
                     else loss)
        self._compile_metrics = None  # resolved from the data's shapes on first use
        # Keras keeps a CompileMetrics whenever either is given, even an empty list.
        self._metrics_container = (None if metrics is None and weighted_metrics is None
                                   else compile_utils.CompileMetrics(len(keys)))

    #: Whether the outputs have names that prefix their metrics in the logs (a subclassed
    #: model whose ``call`` returns a tuple or a list has none: see ``Model``).
    _outputs_named = True

    def _loss_output_order(self) -> list[str] | None:
        """The order a dict of outputs was written in (it orders the per-output losses of a
        loss that is not a dict), or None."""
        outputs = getattr(self, "_outputs_struct", None)
        return list(outputs) if isinstance(outputs, dict) else None

    @property
    def metrics(self) -> list:
        """The model's metric objects, as Keras lists them.

        Once compiled: the loss tracker, the compiled metrics as one object named
        ``compile_metrics`` (when ``compile`` was given ``metrics``), then, once ``fit`` or
        ``evaluate`` has seen the data, the ``<output>_loss`` trackers of a model with
        several losses. Compiled or not, then the metrics the model and its layers hold
        (see :meth:`_layer_metrics`). Each metric's own value is in the logs (``History``).

        Example:
            >>> model.metrics_names              # compiled with metrics=["accuracy"]
            ['loss', 'compile_metrics']
        """
        found = []
        if self.compiled:
            found.append(self._loss_tracker)
            if self._metrics_container is not None:
                found.append(self._metrics_container)
            if self._compile_metrics is not None:     # built: Keras lists these only then
                found.extend(o.tracker for o in self._output_losses if o.tracker is not None)
        return found + self._layer_metrics()

    #: The attributes of a model that hold the training loop's own metrics, not the user's.
    _TRAINER_METRIC_ATTRIBUTES = ("_loss_tracker", "_metrics_container",
                                  "_logged_layer_metrics")
    #: :meth:`_layer_metrics` as taken by the last :meth:`reset_metrics`: the metrics of the
    #: layers that the logs of this fit / evaluate report (read at every step's logs).
    _logged_layer_metrics: list | tuple = ()

    def _layer_metrics(self) -> list:
        """The metrics held by the model (``self.acc = mr.metrics.Mean()``) and by its
        layers, updated in their ``call``; reported in the logs under their own names.

        Keras' order: the model's own, then each layer's :attr:`Layer.metrics` (its own, then
        its sublayers'), the layers taken as Keras' ``_flatten_layers`` walks them, nested
        layers included, so a metric of a nested layer is listed twice, as in Keras. A
        model inside the model is walked through, its own metrics left out (Keras: they
        belong to that model's training)."""
        found = held_metrics(self, skip_attributes=self._TRAINER_METRIC_ATTRIBUTES)
        for layer in _flatten_layers(self):
            if not isinstance(layer, Trainer):
                found.extend(layer.metrics)
        return found

    @property
    def metrics_names(self) -> list[str]:
        """The names of :attr:`metrics`: ``['loss', 'compile_metrics']`` with metrics."""
        return [m.name for m in self.metrics]

    def _each_metric(self) -> list:
        """Every metric the logs name: the loss, the per-output losses, the compiled
        metrics (one by one, outside their container), then the layers' metrics taken by
        the last :meth:`reset_metrics` (each once)."""
        trackers = [o.tracker for o in self._output_losses if o.tracker is not None]
        layer_metrics = [m for i, m in enumerate(self._logged_layer_metrics)
                         if all(m is not k for k in self._logged_layer_metrics[:i])]
        return [self._loss_tracker, *trackers,
                *(compiled.metric for compiled in self._compile_metrics or []),
                *layer_metrics]

    def _require_compiled(self, method: str) -> None:
        if not self.compiled:
            raise ValueError(f"{method}: call model.compile(optimizer, loss) first.")

    def _build_metrics(self, ys: list, x) -> None:
        if self._compile_metrics is None:
            stubs = [np.empty((0, *shape[1:])) for shape in self._output_shapes(x)]
            self._compile_metrics = compile_utils.build_metrics(
                self._metric_identifiers, self._weighted_metric_identifiers, ys, stubs,
                self.output_keys, self._outputs_named)
            if self._metrics_container is not None:
                self._metrics_container.by_output = self._compile_metrics

    def reset_metrics(self) -> None:
        """Zero every metric, as at the start of each epoch and of ``evaluate``.

        The layers' metrics are looked up here, once per epoch (not at every step), and
        their values reported by the logs until the next reset."""
        self._logged_layer_metrics = self._layer_metrics()
        self._keras_step_logs = None       # the logs a step of your own returns
        for metric in self._each_metric():
            metric.reset_state()

    def _logs(self) -> dict[str, float]:
        if getattr(self, "_keras_step_logs", None) is not None:
            return keras_steps.logs_of(self._keras_step_logs)
        return {m.name: as_result(m.result()) for m in self._each_metric()}

    def _output_shapes(self, x) -> list[tuple]:
        """The shape of each output for the inputs ``x`` (arrays)."""
        input_shapes = _shapes_of(self._structured(x))
        with _states_kept(self._logged_layer_metrics):   # a `call` run on zeros may update them
            shapes = self.compute_output_shape(input_shapes)
        return shapes if isinstance(shapes, list) else [shapes]

    def _structured(self, x):
        """The checked inputs ``x`` (one array or a list) as ``forward`` takes them; a
        subclassed model gives a dict its structure back (see ``Model._structured``)."""
        return x

    # -- one step -----------------------------------------------------------------------------
    def train_step(self, x, y: list, sample_weight=None) -> float:
        """Forward, loss, backward and update on one batch; returns the batch's loss."""
        self._release_caches()          # the last step's: its backward is done
        self._step_training = True
        loss, y_pred, output_values = self._forward_backward(x, y, sample_weight, training=True)
        # The running means see every loss, a non-finite one too (as Keras' logs do; fit
        # raises on it, or lets TerminateOnNaN see it). No update with a broken gradient.
        self._update_trackers(loss, output_values, y, y_pred, sample_weight)
        if math.isfinite(loss):         # (a Python float: math's test, not an array's)
            plan = self._plan()
            _scale_gradients(plan.gradients, self.optimizer)
            self.optimizer.apply(plan.gradients, plan.weights)
        return loss

    def _plan(self) -> StepPlan:
        """The trainable and the regularized weights, as this step reads them: listed at the
        first step of a ``fit`` and kept for its other steps (see
        :class:`~minired.trainers.step_plan.StepPlan`), or listed now outside ``fit``."""
        plan = self._step_plan
        if plan is None:
            plan = StepPlan(self)
            if self._keep_step_plan:
                self._step_plan = plan
            optimizer = getattr(self, "optimizer", None)
            if optimizer is not None and not getattr(optimizer, "built", True):
                # before it is built: Muon and OptimizerMap choose by Keras' variable paths
                remember_paths(self)
        return plan

    def test_step(self, x, y: list, sample_weight=None) -> float:
        """Forward and loss on one batch, ``training=False``; updates the running means."""
        self._release_caches()          # the last batch's: no backward will read them
        self._step_training = False
        y_pred = self._flat_outputs(self.forward(self._structured(x), training=False))
        values = self._output_loss(y, y_pred, sample_weight, training=False, gradient=False)[0]
        loss = self._total_loss(values)
        self._update_trackers(loss, values, y, y_pred, sample_weight)
        return loss

    # Keras 3's methods for a step of your own: see minired.trainers.trainer_api
    compute_loss = trainer_api.compute_loss
    compute_metrics = trainer_api.compute_metrics
    get_metrics_result = trainer_api.get_metrics_result
    predict_step = trainer_api.predict_step
    compiled_loss = trainer_api.compiled_loss
    compiled_metrics = property(trainer_api.CompiledMetrics)

    def _run_train_step(self, x, y: list, sample_weight=None) -> float:
        """``train_step``: minired's, or yours written as Keras' (keras_steps)."""
        if keras_steps.is_keras_step(self, "train_step"):
            return keras_steps.run(self, "train_step", x, y, sample_weight)
        return self.train_step(x, y, sample_weight)

    def _run_test_step(self, x, y: list, sample_weight=None) -> float:
        """``test_step``: minired's, or yours written as Keras' (keras_steps)."""
        if keras_steps.is_keras_step(self, "test_step"):
            return keras_steps.run(self, "test_step", x, y, sample_weight)
        return self.test_step(x, y, sample_weight)

    def _total_loss(self, values: list[float], losses: list | None = None) -> float:
        """``Σᵢ wᵢ Lᵢ`` over the outputs, plus ``losses``: the added losses and the penalties
        of the regularizers (by default the model's :attr:`losses`)."""
        data_loss = sum(value if out.weight is None else value * out.weight
                        for value, out in zip(values, self._output_losses, strict=True))
        losses = self.losses if losses is None else losses
        # An added loss that is an array counts as its sum (Keras' _aggregate_additional_loss).
        return data_loss + sum(float(np.sum(p)) for p in losses)

    def _forward_backward(self, x, y: list, sample_weight, training: bool):
        """One forward and one backward pass; returns ``(L, ŷ, [Lᵢ])`` and leaves ``∂L/∂w``
        in the layers' gradient arrays.

        ``∂L/∂w`` is the sum over every call of the layer (zeroed first), plus ``∂R/∂w`` of
        its penalty, added once.
        """
        y_pred = self._flat_outputs(self.forward(self._structured(x), training=training))
        self._check_some_loss()
        values, grads, tops = self._output_loss(y, y_pred, sample_weight, training,
                                                gradient=True)
        self.zero_gradients()
        self.backward(grads if len(grads) > 1 else grads[0],
                      top=tops if len(tops) > 1 else tops[0], input_gradients=False)
        self._fill_unwritten_gradients()        # a weight the backward did not reach: 0
        plan = self._plan()
        plan.add_penalty_gradients()
        return self._total_loss(values, [*self._call_losses(), *plan.penalties()]), y_pred, values

    def _metric_identifiers_given(self) -> bool:
        return any(self._metric_identifiers) or any(self._weighted_metric_identifiers)

    def _needs_targets(self) -> bool:
        """Whether the targets ``y`` are read: a compiled loss or metric reads them. A model
        trained only through ``add_loss`` may be given ``x`` alone (Keras' ``y=None``)."""
        return bool(self._output_losses) or self._metric_identifiers_given()

    def _check_some_loss(self) -> None:
        """Without a compiled loss, the model must have added one (``add_loss``) in the
        forward pass just run: else there is nothing to minimise (Keras' error)."""
        if not self._output_losses and not self.losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`, "
                             "or call `self.add_loss(...)` in a layer's call().")

    def _output_loss(self, y: list, y_pred: list, sample_weight, training: bool,
                     gradient: bool):
        """The loss of each output (and where its backpropagation starts), read where Keras
        reads it.

        When an output comes from a softmax or a sigmoid and its loss is a cross-entropy,
        Keras on TensorFlow computes the loss from the logits ``z`` of that layer (no
        clipping, no ``log(0)``): the gradient is then the simple, stable ``δz = p - y`` and
        the activation's own backward is skipped. ``_logits_call`` finds that call.

        Returns:
            ``([Lᵢ], grads, tops)``, one entry per output: ``grads[i]`` is ``wᵢ δŷᵢ`` with
            ``tops[i] = None``, or ``wᵢ δz`` of the call ``tops[i]``; ``None`` for an output
            without a loss (and for every output when ``gradient`` is false).
        """
        n_outputs = len(y_pred)
        values, grads, tops = [], [None] * n_outputs, [None] * n_outputs
        masks = self._output_masks()
        for out in self._output_losses:
            prediction, from_logits = y_pred[out.index], None
            top = self._logits_read_by(out.loss, out.index, training)
            if top is not None:
                prediction, from_logits = self.calls[top][1].z, True
            weights = (sample_weight[out.index] if isinstance(sample_weight, list)
                       else sample_weight)
            value, grad = out.loss.compute(y[out.index], prediction, weights, from_logits,
                                           gradient, mask=None if masks is None
                                           else masks[out.index])
            if grad is not None and out.weight is not None:
                grad *= np.asarray(out.weight, dtype=grad.dtype)
            values.append(value)
            grads[out.index], tops[out.index] = grad, top
        return values, grads, tops

    def _logits_read_by(self, reader, index: int, training: bool) -> int | None:
        """The call whose logits ``z`` a cross-entropy ``reader`` (a loss, or a metric) on
        output ``index`` reads instead of ``ŷ``, or None: the one rule for losses and
        metrics (``_logits_call``; ``minired.keras_numerics`` item 5). A reader given
        ``from_logits=True`` is warned, as Keras warns, and still reads the real logits."""
        top = self._logits_call(index, reader, training)
        if top is not None and getattr(reader, "from_logits", False):
            layer = self.calls[top][0]
            warnings.warn(
                f"{reader.name} received from_logits=True, but the output comes from "
                f"a {layer.activation.__name__} activation and does not hold logits; "
                "as Keras does, the layer's real logits are used.", stacklevel=6)
        return top

    def _metric_logits(self, index: int, metric) -> np.ndarray | None:
        """The logits ``z`` the cross-entropy ``metric`` on output ``index`` reads in the
        step just run (``metric.uses_output_logits``), or None: then it reads ``ŷ``."""
        top = self._logits_read_by(metric, index, self._step_training)
        return None if top is None else self.calls[top][1].z

    def _update_trackers(self, loss: float, values: list[float], y: list, y_pred: list,
                         sample_weight=None) -> None:
        n = len(y[0]) if y[0] is not None else len(y_pred[0])
        self._loss_tracker.update_state(loss, sample_weight=n)
        for value, out in zip(values, self._output_losses, strict=True):
            if out.tracker is not None:   # unweighted: a Keras quirk, see keras_numerics
                out.tracker.update_state(value,
                                         sample_weight=keras_numerics.output_loss_batch_weight(n))
        compile_utils.update_compiled_metrics(self._compile_metrics, y, y_pred, sample_weight,
                                              self._output_masks(), self._metric_logits)

    def _output_masks(self) -> list | None:
        """The mask of each output in the last forward pass (Keras' ``_keras_mask`` of
        ``y_pred``), which the loss and the metrics read; None for a model in which no
        mask can appear (decided when it was built: no work per step)."""
        if not getattr(self, "_uses_masks", False) or self.cache is None:
            return None
        return self.cache.output_masks

    def _flat_outputs(self, value) -> list:
        """One array per output, as a list (a one-output model's array becomes ``[array]``)."""
        return value if len(self.output_keys) > 1 else [value]

    def loss_and_gradients(self, x, y, training: bool = False, sample_weight=None
                           ) -> tuple[float, list[np.ndarray]]:
        """Return the total loss and ``∂L/∂w`` for every weight, in ``get_weights()`` order.

        ``L = loss(y, ŷ) + Σ penalties``: the same number ``fit`` reports and minimises.
        Needs ``compile`` (for the loss). Does not change any weight.

        Example:
            >>> loss, grads = model.loss_and_gradients(x, y)
            >>> [g.shape for g in grads] == [w.shape for w in model.get_weights()]
            True
        """
        self._require_compiled("loss_and_gradients")
        x = self._prepare_x(x, "x", allow_empty=False, method="loss_and_gradients")
        n = num_samples(x)
        y = self._prepare_y(y, n)
        sample_weight = self._prepare_sample_weight(sample_weight, n)
        self._check_targets(y, "y", x, sample_weight)
        loss = self._forward_backward(x, y, sample_weight, training=training)[0]
        return loss, [g.copy() for g in self.gradients]

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto",
            callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, class_weight=None, sample_weight=None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size=None,
            validation_freq: int | list[int] = 1
            ) -> History:
        """Train for ``epochs`` epochs and return a :class:`History`.

        Keras semantics: ``batch_size`` defaults to 32 and the last smaller batch is kept;
        ``validation_split`` holds out the last fraction before shuffling; ``shuffle``
        draws a new order every epoch; the epoch loss and metrics are batch-size-weighted
        means of the values computed before each update; validation runs on the weights at
        the end of the epoch, every ``validation_freq`` epochs, and never uses
        ``class_weight``. ``x`` may also be a generator, a :class:`~minired.utils.PyDataset`
        or a ``tf.data.Dataset`` of ``(x, y)`` or ``(x, y, sample_weight)`` batches (then
        ``y`` is None); ``steps_per_epoch`` and ``validation_steps`` count batches (see
        :mod:`~minired.trainers.epoch_iterator`); ``shuffle`` draws a new order of a
        PyDataset's batches, and ``class_weight`` weighs those of a PyDataset or a dataset.
        A model compiled without a loss and metrics (trained through ``add_loss``) needs no
        targets: ``y``, ``y_val`` and the batches' ``y`` may be left out.

        Example:
            >>> history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
            >>> sorted(history.history)
            ['accuracy', 'loss']
        """
        self._require_compiled("fit")
        for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"fit: `{name}` must be a non-negative int, got {value!r}.")
        if config.max_epochs() and config.max_epochs() < epochs:   # Keras' debugging cap
            warnings.warn(f"Limiting epochs to {config.max_epochs()}", stacklevel=2)
            epochs = config.max_epochs()
        _check_validation_freq(validation_freq)
        steps_per_epoch = _check_steps(steps_per_epoch, "fit: `steps_per_epoch`")
        validation_steps = _check_steps(validation_steps, "fit: `validation_steps`")
        if epoch_iterator.is_data_source(x):
            return self._fit_source(x, y, epochs, verbose, callbacks, validation_split,
                                    validation_data, shuffle, class_weight, sample_weight,
                                    initial_epoch, steps_per_epoch, validation_steps,
                                    validation_freq)
        if y is None and self._needs_targets():
            raise ValueError("fit: `y` is required: give the targets, one per sample of `x` "
                             "(or give `x` as a generator or dataset of (x, y) batches).")
        x = self._prepare_x(x, "x", allow_empty=False, method="fit")
        y = self._prepare_y(y, num_samples(x))
        if sample_weight is not None and class_weight is not None:
            raise ValueError("fit: give `sample_weight` or `class_weight`, not both.")
        sample_weight = self._prepare_sample_weight(sample_weight, num_samples(x))
        batch_size = data_adapter.check_batch_size(batch_size)
        if epoch_iterator.is_data_source(validation_data):
            x_val = y_val = sw_val = None
        elif validation_data is not None:
            structure = getattr(self, "_input_structure", None)    # of x (a dict...)
            x_val, y_val, sw_val = self._unpack_validation_data(validation_data)
            if getattr(self, "_input_structure", None) != structure:
                # the batches of x and of x_val reach `call` in one structure
                raise ValueError("fit: `validation_data[0]` must have the structure of `x` "
                                 "(the same dict keys, the same nesting), as `call` reads "
                                 "both the same way.")
        elif validation_split:
            (x, y, sample_weight), (x_val, y_val, sw_val) = data_adapter.train_validation_split(
                (x, y, sample_weight), validation_split)
        else:
            x_val = y_val = sw_val = None
        if class_weight is not None:  # after the split: validation never uses class weights
            sample_weight = self._class_weights(y, class_weight, "fit")
        self._check_targets(y, "y", x, sample_weight)
        if x_val is not None:
            self._check_targets(y_val, "validation_data[1]" if validation_data is not None
                                else "y (its validation part)", x_val, sw_val)
        _check_verbose(verbose)
        validation_batch_size = data_adapter.check_batch_size(validation_batch_size,
                                                              default=batch_size)
        shuffler = rng_utils.generator("shuffle")  # reset by set_random_seed
        batches = epoch_iterator.EpochIterator(x, y, sample_weight, batch_size, steps_per_epoch,
                                               shuffle, shuffler, reuse_batches=True)
        if epoch_iterator.is_data_source(validation_data):
            validation = epoch_iterator.EpochIterator(validation_data,
                                                      steps_per_epoch=validation_steps)
        elif x_val is not None:
            validation = epoch_iterator.EpochIterator(x_val, y_val, sw_val,
                                                      validation_batch_size, validation_steps)
        else:
            validation = None
        self._build_metrics(y, x)
        with self._training_run():
            return self._fit_loop(batches, validation, epochs, verbose, callbacks,
                                  initial_epoch, validation_freq)

    def _fit_source(self, x, y, epochs, verbose, callbacks, validation_split, validation_data,
                    shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch,
                    validation_steps, validation_freq) -> History:
        """``fit`` on batches from a generator, a PyDataset or a tf.data.Dataset: each batch
        is checked as it arrives, before its step.

        As in Keras, a PyDataset's batches come in a new order each epoch when ``shuffle``,
        and ``class_weight`` weighs the samples of each batch of a PyDataset or a dataset
        (not of a generator: Keras refuses it there).
        """
        for argument, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(f"fit: `{argument}` is not supported when `x` is a generator "
                                 "or a dataset: give it in each batch, (x, y, sample_weight).")
        if validation_split:
            raise ValueError("fit: `validation_split` is only supported for arrays; give "
                             "`validation_data` instead.")
        if class_weight is not None:
            if isinstance(x, Iterator):
                raise ValueError("fit: `class_weight` is not supported when `x` is a generator "
                                 "(as in Keras): give each batch as (x, y, sample_weight).")
            self._check_class_weight(class_weight, "fit")
        batches = epoch_iterator.EpochIterator(
            x, steps_per_epoch=steps_per_epoch, shuffle=shuffle,
            shuffler=rng_utils.generator("shuffle"), class_weight=class_weight)
        if validation_data is None:
            validation = None
        elif epoch_iterator.is_data_source(validation_data):
            validation = epoch_iterator.EpochIterator(validation_data,
                                                      steps_per_epoch=validation_steps)
        else:
            x_val, y_val, sw_val = self._unpack_validation_data(validation_data)
            self._check_targets(y_val, "validation_data[1]", x_val, sw_val)
            validation = epoch_iterator.EpochIterator(x_val, y_val, sw_val, 32,
                                                      validation_steps)
        with self._training_run():
            return self._fit_loop(batches, validation, epochs, verbose, callbacks,
                                  initial_epoch, validation_freq)

    def _checked_batch(self, batches, batch: tuple, method: str) -> tuple:
        """A batch as ``(x, y, sample_weight)``: arrays' batches were checked up front; a
        batch from a data source is checked now, before its step."""
        if batches.source is None:
            return batch
        x, y, sample_weight = batch
        x = self._prepare_x(x, "x (a batch of the data)", allow_empty=False, method=method)
        if y is None and method != "predict" and self._needs_targets():
            raise ValueError(f"{method}: each batch of the data must hold the targets: "
                             "(x, y) or (x, y, sample_weight), got x alone.")
        if method == "predict":
            return x, None, None
        y = self._prepare_y(y, num_samples(x), "y (a batch of the data)")
        sample_weight = self._prepare_sample_weight(sample_weight, num_samples(x))
        if batches.class_weight is not None:
            if sample_weight is not None:     # Keras' rule: one or the other, never both
                raise ValueError(f"{method}: a batch of the data holds sample weights, "
                                 "(x, y, sample_weight), and `class_weight` is given: give "
                                 "one or the other.")
            sample_weight = self._class_weights(y, batches.class_weight, method)
        self._check_targets(y, "y (a batch of the data)", x, sample_weight)
        self._build_metrics(y, x)
        return x, y, sample_weight

    @contextlib.contextmanager
    def _training_run(self) -> Iterator[None]:
        """What lasts one ``fit`` (or one ``train_on_batch``): the step plan made at its
        first step (see :meth:`_plan`), one Ctrl-C handler for all its updates (each update
        then only counts itself in: see :func:`~minired.utils.interrupts.deferring_handler`),
        subnormal numbers flushed to zero, as TensorFlow trains
        (:func:`~minired.keras_numerics.flush_subnormals`), and the layers' scratch memory
        reused from step to step (:func:`~minired.layers.workspace.reused_during`)."""
        self._keep_step_plan, self._step_plan = True, None
        try:
            with (interrupts.deferring_handler(), keras_numerics.flush_subnormals(),
                  workspace.reused_during()):
                yield
        finally:
            self._keep_step_plan, self._step_plan = False, None

    def _fit_loop(self, batches, validation, epochs: int, verbose, callbacks,
                  initial_epoch: int, validation_freq) -> History:
        """The epochs: a step per batch, then validation and the callbacks."""
        _check_verbose(verbose)
        steps = batches.steps
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     model=self, verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        # With TerminateOnNaN a non-finite loss is not an error: the callback stops the run.
        keras_nan_handling = any(getattr(callback, "handles_non_finite_loss", False)
                                 for callback in callback_list.callbacks)
        # The batch hooks (and the logs built for them) only when a callback has them.
        batch_begin = callback_list.implements("on_train_batch_begin")
        batch_end = callback_list.implements("on_train_batch_end")

        callback_list.on_train_begin()
        # A callback may resume an interrupted run (BackupAndRestore sets it, as in Keras).
        initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch
        self._initial_epoch = None
        epoch_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            step = -1
            for first, last, run in epoch_iterator.executions(batches.enumerate_epoch(),
                                                              self.steps_per_execution):
                if batch_begin:
                    callback_list.on_train_batch_begin(first)
                for step, batch in enumerate(run, start=first):
                    x, y, sw = self._checked_batch(batches, batch, "fit")
                    loss = self._run_train_step(x, y, sw)
                    if not np.isfinite(loss) and not keras_nan_handling:
                        raise ValueError(
                            f"fit: the loss became {loss} at epoch {epoch + 1}/{epochs}, batch "
                            f"{step + 1}/{steps or '?'}. Lower the learning rate or check the "
                            "data.")
                if batch_end:
                    callback_list.on_train_batch_end(last, self._logs())
                if self.stop_training:  # a callback may stop in the middle of an epoch
                    break
            if batches.ran_out:           # a generator had nothing more: Keras stops here
                break
            epoch_logs = _sorted(self._logs())
            if validation is not None and should_validate(epoch, validation_freq):
                val_logs = self._evaluate_batches(validation, callback_list)
                if not keras_nan_handling:
                    self._check_validation_loss(val_logs["loss"], epoch, epochs, step,
                                                steps or step + 1)
                epoch_logs.update({f"val_{k}": v for k, v in _sorted(val_logs).items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if isinstance(self.optimizer, optimizers_module.Optimizer) and epochs > 0:
            # Keras: with use_ema the moving averages become the weights here.
            self.optimizer.finalize_variable_values(self.trainable_weights)
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
    def _prepare_y(self, y, n_samples: int, argument: str = "y") -> list[np.ndarray]:
        """One checked target array per output (``y`` is an array, a list with one array
        per output, or a dict by output name)."""
        keys = self.output_keys
        if not self._needs_targets() and (y is None or not keras_steps.has_keras_step(self)):
            return [None] * len(keys)    # no loss, no metric: the targets are not read
        if y is None:
            raise ValueError(f"`{argument}` is required: give the targets, one per sample.")
        if len(keys) == 1:
            if isinstance(y, dict):
                if set(y) != set(keys):
                    raise ValueError(f"`{argument}` is a dict, so its keys must name the "
                                     f"model's output {keys}, got {sorted(y)}.")
                y = y[keys[0]]
            elif isinstance(y, list | tuple) and len(y) == 1 and isinstance(y[0], np.ndarray):
                y = y[0]
            return [self._check_target(y, n_samples, argument)]
        if isinstance(y, dict):
            with_loss = {keys[o.index] for o in self._output_losses}
            missing = sorted(with_loss - set(y))
            if missing or set(y) - set(keys):
                raise ValueError(f"`{argument}` is a dict, so its keys must name the model's "
                                 f"outputs {keys} (those with a loss: {sorted(with_loss)}), "
                                 f"got {sorted(y)}.")
            items = [y.get(k) for k in keys]
        elif isinstance(y, list | tuple) and len(y) == len(keys):
            items = list(y)
        else:
            got = (f"a {type(y).__name__} of {len(y)}" if isinstance(y, list | tuple)
                   else f"one {type(y).__name__}")
            raise ValueError(f"`{argument}` must give the targets of each of the {len(keys)} "
                             f"outputs {keys}, as a list or a dict by output name; got {got}.")
        return [None if item is None else self._check_target(
            item, n_samples, f"{argument}[{keys[i]!r}]") for i, item in enumerate(items)]

    def _check_target(self, y, n_samples: int, argument: str) -> np.ndarray:
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

    def _check_targets(self, y: list, argument: str, x, sample_weight=None) -> None:
        """Check each output's ``y`` against its loss (shape, label range) before any step.

        The loss's own checks run on ``y`` against a stand-in for the predictions with the
        model's output shape (a broadcast view: no memory), so a wrong ``y`` fails now, not
        at the first step that meets it (an epoch later, for validation data).
        """
        shapes = self._output_shapes(x)
        for out in self._output_losses:
            name = argument if len(shapes) == 1 else f"{argument}[{out.key!r}]"
            if y[out.index] is None:
                raise ValueError(f"`{name}` is missing: output {out.key!r} has a loss, so it "
                                 "needs targets.")
            y_pred = np.broadcast_to(np.zeros((), dtype=config.floatx()), shapes[out.index])
            try:
                out.loss.prepare(y[out.index], y_pred)
            except ValueError as error:
                raise ValueError(f"`{name}` does not fit the loss and the model's output "
                                 f"{(None, *shapes[out.index][1:])}: {error}") from None
            weights = (sample_weight[out.index] if isinstance(sample_weight, list)
                       else sample_weight)
            if weights is not None:     # one loss value per position of the output but the last
                out.loss._match_weights(y_pred[..., 0], weights[:len(y[out.index])])

    def _class_weights(self, y: list, class_weight, method: str) -> np.ndarray:
        """Per-sample weights from ``class_weight`` (one-output models only, as Keras)."""
        self._check_class_weight(class_weight, method)
        if y[0] is None:
            raise ValueError(f"{method}: `class_weight` weighs each sample by its class, so "
                             "it needs the targets `y` and a compiled loss that reads them.")
        return data_adapter.class_weight_to_sample_weights(y[0], class_weight)

    def _check_class_weight(self, class_weight, method: str) -> None:
        """``class_weight`` is a dict, for a model with one output (as Keras)."""
        if len(self.output_keys) > 1:
            raise ValueError(f"{method}: `class_weight` is only supported for models with a "
                             "single output; give `sample_weight` instead.")
        data_adapter.check_class_weight(class_weight)

    def _prepare_sample_weight(self, sample_weight, n_samples: int,
                               argument: str = "sample_weight"):
        """One finite weight per sample: one array for every output, or (several outputs) a
        list or dict by output name with an array, or ``None``, for each."""
        if sample_weight is None:
            return None
        keys = self.output_keys
        if len(keys) > 1 and isinstance(sample_weight, dict):
            unknown = sorted(set(sample_weight) - set(keys))
            if unknown:
                raise ValueError(f"`{argument}` has keys {unknown} that name no output; the "
                                 f"model's outputs are {keys}.")
            sample_weight = [sample_weight.get(k) for k in keys]
        if (len(keys) > 1 and isinstance(sample_weight, list | tuple)
                and all(w is None or np.ndim(w) > 0 for w in sample_weight)):
            if len(sample_weight) != len(keys):
                raise ValueError(f"`{argument}` must have one entry per output ({keys}), got "
                                 f"{len(sample_weight)}.")
            return [None if w is None else self._check_sample_weight(
                w, n_samples, f"{argument}[{k!r}]") for w, k in zip(sample_weight, keys,
                                                                      strict=True)]
        return self._check_sample_weight(sample_weight, n_samples, argument)

    def _check_sample_weight(self, sample_weight, n_samples: int, argument: str) -> np.ndarray:
        """Finite weights with one row per sample: ``(N,)`` (one per sample), or a shape the
        loss broadcasts over its values, e.g. ``(N, T)`` for an output of shape
        ``(N, T, C)`` (the loss checks the axes after the first, as Keras does)."""
        try:
            weights = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"`{argument}` must be numbers, one per sample, got "
                            f"{type(sample_weight).__name__}.") from None
        if weights.ndim == 0 or len(weights) != n_samples:
            raise ValueError(f"`{argument}` must have one weight per sample, shape "
                             f"({n_samples},), got shape {weights.shape}.")
        if not np.all(np.isfinite(weights)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(weights))[0])
            bad = bad[0] if len(bad) == 1 else bad
            raise ValueError(f"`{argument}` contains {weights[bad]} at index {bad}: every "
                             "sample weight must be a finite number.")
        return weights

    def _unpack_validation_data(self, validation_data):
        """``(x_val, y_val[, sample_weight])`` checked; ``(x_val,)`` alone when the model
        reads no targets (trained through ``add_loss`` only, as Keras allows)."""
        lengths = (2, 3) if self._needs_targets() else (1, 2, 3)
        if not isinstance(validation_data, tuple | list) or len(validation_data) not in lengths:
            got = (f"a {type(validation_data).__name__} of {len(validation_data)}"
                   if isinstance(validation_data, tuple | list)
                   else type(validation_data).__name__)
            raise ValueError("fit: `validation_data` must be a tuple (x_val, y_val) or "
                             f"(x_val, y_val, sample_weight), got {got}.")
        x_val = self._prepare_x(validation_data[0], "validation_data[0]", allow_empty=False)
        y_val = validation_data[1] if len(validation_data) > 1 else None
        y_val = self._prepare_y(y_val, num_samples(x_val), "validation_data[1]")
        sw_val = (self._prepare_sample_weight(validation_data[2], num_samples(x_val),
                                              "validation_data[2]")
                  if len(validation_data) == 3 else None)
        return x_val, y_val, sw_val

    # -- evaluate / predict -------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps: int | None = None, callbacks=None, return_dict: bool = False):
        """Return the loss (and metrics) on ``(x, y)``, with ``training=False``.

        Returns a float when there are no metrics, else ``[loss, *metrics]``, or a dict
        with ``return_dict=True``. ``x`` may also be a generator or dataset of ``(x, y)``
        batches; ``steps`` then limits how many are read. ``y`` may be left out when the
        model has no compiled loss or metric (its layers add the loss: ``add_loss``).

        Example:
            >>> loss, accuracy = model.evaluate(x, y, verbose=0)
            >>> 0 <= accuracy <= 1
            True
        """
        self._require_compiled("evaluate")
        steps = _check_steps(steps, "evaluate: `steps`")
        if epoch_iterator.is_data_source(x):
            for argument, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    raise ValueError(f"evaluate: `{argument}` is not supported when `x` is a "
                                     "generator or a dataset: give it in each batch.")
            batches = epoch_iterator.EpochIterator(x, steps_per_epoch=steps)
        else:
            if y is None and self._needs_targets():
                raise ValueError("evaluate: `y` is required: give the targets, one per sample "
                                 "of `x`.")
            x = self._prepare_x(x, "x", allow_empty=False, method="evaluate")
            y = self._prepare_y(y, num_samples(x))
            sample_weight = self._prepare_sample_weight(sample_weight, num_samples(x))
            self._check_targets(y, "y", x, sample_weight)
            self._build_metrics(y, x)
            batches = epoch_iterator.EpochIterator(
                x, y, sample_weight, data_adapter.check_batch_size(batch_size), steps)
        _check_verbose(verbose)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=batches.steps)
        logs = self._evaluate_batches(batches, callback_list)
        return self._batch_result(return_dict, logs)

    def _evaluate_batches(self, batches, callback_list) -> dict:
        """Test steps over one pass of ``batches``; the averaged logs."""
        self.reset_metrics()
        # The batch hooks (and the logs built for them) only when a callback has them.
        batch_begin = callback_list.implements("on_test_batch_begin")
        batch_end = callback_list.implements("on_test_batch_end")
        callback_list.on_test_begin()
        for first, last, run in epoch_iterator.executions(batches.enumerate_epoch(),
                                                          self.steps_per_execution):
            if batch_begin:
                callback_list.on_test_batch_begin(first)
            for batch in run:
                self._run_test_step(*self._checked_batch(batches, batch, "evaluate"))
            if batch_end:
                callback_list.on_test_batch_end(last, self._logs())
        logs = self._logs()
        callback_list.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", steps: int | None = None,
                callbacks=None):
        """Return the model's outputs for ``x`` (``training=False``: no dropout).

        ``x`` may also be a generator or dataset of batches (``x`` or ``(x, ...)``).

        Example:
            >>> model.predict(x[:2], verbose=0).shape
            (2, 3)
        """
        steps = _check_steps(steps, "predict: `steps`")
        if epoch_iterator.is_data_source(x):
            batches = epoch_iterator.EpochIterator(x, steps_per_epoch=steps)
        else:
            x = self._prepare_x(x, "x", method="predict")
            if num_samples(x) == 0:   # nothing to run: an empty array of each output's shape
                return self._pack_outputs([np.zeros((0, *shape[1:]), dtype=config.floatx())
                                           for shape in self._output_shapes(x)])
            batches = epoch_iterator.EpochIterator(
                x, batch_size=data_adapter.check_batch_size(batch_size), steps_per_epoch=steps)
        _check_verbose(verbose)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=batches.steps)
        # The batch hooks (and the outputs gathered for them) only when a callback has them.
        batch_begin = callback_list.implements("on_predict_batch_begin")
        batch_end = callback_list.implements("on_predict_batch_end")
        callback_list.on_predict_begin()
        outputs_by_batch = []
        for first, last, run in epoch_iterator.executions(batches.enumerate_epoch(),
                                                          self.steps_per_execution):
            if batch_begin:
                callback_list.on_predict_batch_begin(first)
            for batch in run:
                x_batch = self._checked_batch(batches, batch, "predict")[0]
                self._release_caches()            # the last batch's: no backward will read them
                if type(self).predict_step is not Trainer.predict_step:     # yours (Keras')
                    outputs = self.predict_step(self._structured(x_batch))   # x, as Keras
                else:
                    outputs = self.forward(self._structured(x_batch), training=False)
                outputs_by_batch.append(self._flat_outputs(outputs))
            if batch_end:  # Keras hands the callback the execution's outputs, concatenated
                callback_list.on_predict_batch_end(last, {"outputs": self._pack_outputs(
                    _concatenated(outputs_by_batch[-len(run):]))})
        callback_list.on_predict_end()
        if not outputs_by_batch:
            raise ValueError("predict: the data gave no batches.")
        return self._pack_outputs(_concatenated(outputs_by_batch))

    # -- single batches -----------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns its loss (and metrics), computed before
        the update. ``y`` may be left out without a compiled loss or metric (``add_loss``)."""
        self._require_compiled("train_on_batch")
        x = self._prepare_x(x, "x", allow_empty=False, method="train_on_batch")
        y = self._prepare_y(y, num_samples(x))
        if sample_weight is not None and class_weight is not None:
            raise ValueError("train_on_batch: give `sample_weight` or `class_weight`, not both.")
        sample_weight = self._prepare_sample_weight(sample_weight, num_samples(x))
        if class_weight is not None:
            sample_weight = self._class_weights(y, class_weight, "train_on_batch")
        self._check_targets(y, "y", x, sample_weight)
        self._build_metrics(y, x)
        self.reset_metrics()
        with self._training_run():                        # as fit trains its steps
            loss = self._run_train_step(x, y, sample_weight)
        if not np.isfinite(loss):
            raise ValueError(f"train_on_batch: the loss became {loss}.")
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, ``training=False``. ``y`` may be left out
        without a compiled loss or metric (``add_loss``)."""
        self._require_compiled("test_on_batch")
        x = self._prepare_x(x, "x", allow_empty=False, method="test_on_batch")
        y = self._prepare_y(y, num_samples(x))
        sample_weight = self._prepare_sample_weight(sample_weight, num_samples(x))
        self._check_targets(y, "y", x, sample_weight)
        self._build_metrics(y, x)
        self.reset_metrics()
        self._run_test_step(x, y, sample_weight)
        return self._batch_result(return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        x = self._prepare_x(x, "x", method="predict_on_batch")
        return self._pack_outputs(self._flat_outputs(
            self.forward(self._structured(x), training=False)))

    def _batch_result(self, return_dict: bool, logs: dict | None = None):
        """The logs as a dict, or as a list in Keras' order (its ``_flatten_metrics_in_order``):
        the value of each name of :attr:`metrics` that is in the logs, a compiled metric
        by the name of Keras' object (``mae``, not ``out_mae`` nor ``weighted_mae``: a
        name met twice gives its value twice), then the rest sorted by name."""
        logs = self._logs() if logs is None else logs
        if return_dict:
            return _sorted(logs)        # Keras' logs come out sorted by name
        trackers = [o.tracker.name for o in self._output_losses if o.tracker is not None]
        metrics = [compiled.own_name or compiled.metric.name
                   for compiled in self._compile_metrics or []]
        layer_metrics = [m.name for m in self._logged_layer_metrics]   # duplicates too
        in_order = ["loss", *metrics, *trackers, *layer_metrics]
        names = [n for n in in_order if n in logs]
        values = [logs[n] for n in names] + [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values


def _scale_gradients(gradients: list[np.ndarray], optimizer) -> None:
    """``∂L/∂w <- s·∂L/∂w`` in place, ``s = optimizer.scale_loss(1)``: Keras' train step
    differentiates ``optimizer.scale_loss(L) = s·L`` (``loss_scale_factor``, or a
    LossScaleOptimizer's scale), whose gradient is ``s·∂L/∂w``; the optimizer divides by
    ``s`` again. The loss the logs show is ``L``, unscaled, as in Keras."""
    scale = optimizer.scale_loss(1.0)
    if scale == 1.0:
        return
    for gradient in gradients:
        gradient *= gradient.dtype.type(scale)


def _concatenated(outputs_by_batch: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The outputs of several batches (a list of arrays per batch, one per output) as one
    array per output, the batches one after the other."""
    return [np.concatenate(parts, axis=0) for parts in zip(*outputs_by_batch, strict=True)]


@contextlib.contextmanager
def _states_kept(metrics) -> Iterator[None]:
    """Leave ``metrics`` as they were before the block: their attributes bound to the same
    objects, their arrays (Variables too) holding the same values.

    Learning an output shape runs ``call`` on a sample of zeros; a metric it updates would
    count those zeros in the logs (Keras traces that call without changing any state)."""
    saved = [(vars(metric).copy(), {name: np.copy(value) for name, value in vars(metric).items()
                                    if isinstance(value, np.ndarray)})
             for metric in metrics]
    try:
        yield
    finally:
        for metric, (attributes, arrays) in zip(metrics, saved, strict=True):
            for name, values in arrays.items():
                np.copyto(attributes[name], values)     # an update made in place
            vars(metric).clear()
            vars(metric).update(attributes)             # an attribute bound anew


def _shapes_of(x):
    """The shape of each array of ``x`` (an array, or a list or dict of them, nested too)."""
    if isinstance(x, dict):
        return {key: _shapes_of(value) for key, value in x.items()}
    if isinstance(x, list | tuple):
        return [_shapes_of(a) for a in x]
    return x.shape


def _flatten_layers(model) -> list[Layer]:
    """Every layer under ``model``, each once, in the order of Keras' ``_flatten_layers``:
    a layer is followed by its sublayers, which are taken in reverse (Keras' deque
    ``extendleft``)."""
    def sublayers(layer) -> list[Layer]:
        return layer.layers if isinstance(layer, Trainer) else layer._tracked_layers

    pending, seen, found = collections.deque(sublayers(model)), set(), []
    while pending:
        layer = pending.popleft()
        if id(layer) not in seen:
            seen.add(id(layer))
            found.append(layer)
            pending.extendleft(sublayers(layer))
    return found


def _check_steps(steps, argument: str) -> int | None:
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"{argument} must be a positive int or None, got {steps!r}.")
    return int(steps)


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


def _check_verbose(verbose) -> None:
    """``verbose`` is 'auto', 0, 1 or 2. It reaches the callbacks' ``params`` as given, as in
    Keras (the progress bar reads 'auto' as 1)."""
    if verbose not in ("auto", 0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2, got {verbose!r}.")


def _sorted(logs: dict) -> dict:
    return {k: logs[k] for k in sorted(logs)}
