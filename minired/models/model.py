"""Model: ``mr.Model(inputs, outputs)``, a graph of layers that can be trained, or your own
subclass of ``mr.Model`` with a ``call()``.

As in Keras, ``mr.Model(inputs=..., outputs=...)`` returns a
:class:`~minired.models.functional.Functional` model, and
:class:`~minired.models.Sequential` is a functional model whose graph is a straight line.
Every model is also a layer, so a model can be called inside another one.

A **subclassed** model sets its layers as attributes in ``__init__`` and writes ``call``;
like any layer written with ``call``, it runs forward on a tape and backward through it
(see :mod:`minired.autodiff.layer_calls`), so ``fit``, ``evaluate`` and ``predict`` work
on it unchanged. ``call`` may return one array, or a tuple, list or dict of them (several
outputs): the model learns which from the first data it is given, as Keras does.

A subclass whose ``__init__`` builds a graph and calls ``super().__init__(inputs, outputs)``
becomes, as in Keras, a subclass of :class:`~minired.models.functional.Functional` (its
class gets ``Functional`` among its bases): a functional model with the subclass's own
attributes and methods.
"""

from __future__ import annotations

import inspect

import numpy as np

from minired.autodiff import layer_calls
from minired.layers.layer import Layer
from minired.models import state_tree
from minired.trainers.trainer import Trainer


class Model(Trainer, Layer):
    """The base of every model: Keras' training API (:class:`Trainer`) on a :class:`Layer`.

    ``Model(inputs, outputs, name=None)`` builds a functional model (see
    :class:`~minired.models.functional.Functional`).

    Example:
        >>> inputs = mr.Input((4,))
        >>> outputs = mr.layers.Dense(2)(inputs)
        >>> model = mr.Model(inputs, outputs)
        >>> type(model).__name__, model.predict(np.ones((3, 4)), verbose=0).shape
        ('Functional', (3, 2))

        A subclassed model:

        >>> class TwoLayers(mr.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = mr.layers.Dense(8, activation="relu")
        ...         self.out = mr.layers.Dense(1)
        ...     def call(self, inputs):
        ...         return self.out(self.hidden(inputs))
        >>> model = TwoLayers()
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, verbose=0)
        >>> len(model.weights), model.predict(np.ones((2, 3)), verbose=0).shape
        (4, (2, 1))

        A subclass that builds its graph in ``__init__`` (Keras' "functional init"):

        >>> class Regressor(mr.Model):
        ...     def __init__(self, units=4, **kwargs):
        ...         inputs = mr.Input((3,))
        ...         hidden = mr.layers.Dense(units, activation="relu")(inputs)
        ...         super().__init__(inputs, mr.layers.Dense(1)(hidden), **kwargs)
        ...         self.units = units
        >>> model = Regressor(units=5)
        >>> isinstance(model, mr.models.Functional), model.units, len(model.layers)
        (True, 5, 3)
    """

    #: A model's ``forward`` runs its graph or its ``call``: not a hand-written computation
    #: that ``Layer.call`` could record (see :func:`minired.layers.layer._hand_written_class`).
    _forward_runs_call = True

    def __new__(cls, *args, **kwargs):
        if cls is Model:
            from minired.models.functional import Functional

            given = len(args) + ("inputs" in kwargs) + ("outputs" in kwargs)
            if given >= 2:
                return super().__new__(Functional)
            if given == 1:
                raise ValueError("mr.Model needs both `inputs` and `outputs`: "
                                 "mr.Model(inputs, outputs).")
            raise TypeError(
                "mr.Model needs `inputs` and `outputs`: mr.Model(inputs, outputs), with "
                "inputs = mr.Input(shape) and outputs the result of calling layers on them; "
                "or subclass mr.Model and write its call() method.")
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs) -> None:
        if functional_init_arguments(args, kwargs):
            # A subclass whose __init__ builds a graph and calls
            # super().__init__(inputs, outputs): as in Keras, its class becomes a subclass of
            # Functional, so the instance is a functional model (with the subclass's own
            # attributes and methods).
            from minired.models.functional import Functional, inject_functional_model_class

            if type(self).call is not Layer.call:
                raise TypeError(
                    f"{type(self).__name__}: a subclass that builds its graph "
                    "(super().__init__(inputs, outputs)) and also writes call() is not "
                    "implemented in minired (Keras would run that call() instead of the "
                    "graph). Leave call() out, or set the layers as attributes in __init__ "
                    "and call them in call() (a subclassed model).")
            inject_functional_model_class(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(f"{type(self).__name__}: super().__init__() of a subclass of "
                            "mr.Model takes keyword arguments such as name=..., or both "
                            "`inputs` and `outputs` (a functional subclass); got "
                            f"{len(args)} positional argument(s) and keywords "
                            f"{sorted(kwargs)}.")
        Trainer.__init__(self)
        Layer.__init__(self, **kwargs)

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates this model's weights.

        As in Keras, setting it also sets it on every layer of the model (and, through a
        model used as a layer, on that model's layers), so ``base.trainable = False``
        freezes all of ``base`` and ``base.layers[1].trainable`` then says ``False``.
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    @property
    def layers(self) -> list[Layer]:
        """The model's layers: for a subclassed model, the layers set as its attributes, in
        the order they were set (Keras' ``_layers``)."""
        return list(self._tracked_layers)

    # -- a subclassed model: what the Trainer needs besides forward/backward -------------------
    # Functional overrides every method of this section with its graph's version.
    #: The structure ``call`` returns, its arrays replaced by None: ``(None, None)``, a list,
    #: or a dict in the order ``call`` wrote it; None for one array (or not known yet). Learnt
    #: from the first data the model is given (see :meth:`_learn_outputs`).
    _output_template = None
    _outputs_learnt = False

    @property
    def output_keys(self) -> list[str]:
        """The names of the outputs in losses, metrics and logs: one output is ``"output"``;
        a dict returned by ``call`` gives its keys (sorted, Keras' flat order); a tuple or a
        list gives ``"output_1"``, ``"output_2"``... (used in error messages only: Keras
        names those outputs after their losses in the logs, see :attr:`_outputs_named`)."""
        template = self._output_template
        if isinstance(template, dict):
            return sorted(template)
        if isinstance(template, list | tuple) and len(template) > 1:
            return [f"output_{i + 1}" for i in range(len(template))]
        return ["output"]

    @property
    def _outputs_named(self) -> bool:
        """Several outputs returned as a tuple or a list have no names (Keras logs their
        losses as ``mse_loss``..., their metrics without a prefix)."""
        return not (isinstance(self._output_template, list | tuple)
                    and len(self._output_template) > 1)

    def _loss_output_order(self) -> list[str] | None:
        """The order of the keys of a dict returned by ``call``."""
        template = self._output_template
        return list(template) if isinstance(template, dict) else None

    def _learn_outputs(self, x) -> None:
        """Learn what ``call`` returns (one array, a tuple, a list or a dict of arrays) by
        running it once on one sample of zeros shaped like ``x`` (no Variable or metric
        changes), as Keras learns it from the first batch; the compiled losses and metrics
        are then spread over the outputs."""
        if self._outputs_learnt:
            return
        from minired.trainers.trainer import _states_kept
        from minired.variables import frozen_variables

        sample = layer_calls.map_structure(
            lambda a: np.zeros((1, *np.shape(a)[1:]), dtype=np.asarray(a).dtype),
            self._structured(x))
        if not self.built:
            self._build_once(_batch_shapes(sample))
        with frozen_variables(), _states_kept(self._layer_metrics()):
            outputs = layer_calls.call_with_training(self, sample, False)
        self._output_template = _output_template(outputs, self.name)
        self._outputs_learnt = True
        if self.compiled:
            self._resolve_compiled_outputs()

    def _resolve_compiled_outputs(self) -> None:
        """:meth:`Trainer._resolve_compiled_outputs`; before ``call`` has run, arguments that
        do not fit one output (``loss=["mse", "mae"]``) wait for the outputs to be known,
        as in Keras (an error then comes at the first ``fit``)."""
        try:
            super()._resolve_compiled_outputs()
        except (TypeError, ValueError):
            if self._outputs_learnt:
                raise
            self._output_losses, self._metric_identifiers = [], [[]]
            self._weighted_metric_identifiers = [[]]
            self._compile_metrics = self._metrics_container = None

    def _flat_outputs(self, value) -> list:
        """One array per output, in the order of :attr:`output_keys`."""
        template = self._output_template
        if isinstance(template, dict):
            return [value[key] for key in sorted(template)]
        if isinstance(template, list | tuple):
            return list(value)
        return [value]

    def _output_shapes(self, x) -> list[tuple]:
        """The shape of each output, in the order of :attr:`output_keys` (``call`` may write
        a dict's keys in any order)."""
        shapes = super()._output_shapes(x)
        template = self._output_template
        if isinstance(template, dict):
            by_key = dict(zip(template, shapes, strict=True))
            return [by_key[key] for key in sorted(template)]
        return shapes

    def _pack_outputs(self, flat):
        """One array per output (in the order of :attr:`output_keys`) in the structure
        ``call`` returns."""
        template = self._output_template
        if isinstance(template, dict):
            by_key = dict(zip(sorted(template), flat, strict=True))
            return {key: by_key[key] for key in template}
        if isinstance(template, list | tuple):
            return type(template)(flat)
        return flat[0] if isinstance(flat, list) and len(flat) == 1 else flat

    @property
    def calls(self) -> list:
        """``(layer, cache)`` of each built-in layer called on the tape of the last
        ``call``, in order."""
        if not isinstance(self.cache, layer_calls.CallCache):
            return []
        return [r.call for r in layer_calls.layer_records(self.cache)]

    def backward(self, grad_outputs, top=None, input_gradients: bool = True):
        """Backpropagate ``δŷ`` through the tape of the last ``call`` (or ``δz`` of the
        call ``top``, see :meth:`_logits_call`); the tape gives ``δx`` in any case. With
        several outputs, ``grad_outputs`` and ``top`` have one entry per output, in the
        order of :attr:`output_keys`."""
        if len(self.output_keys) > 1:       # into the order of the arrays `call` returned
            grad_outputs = layer_calls.flatten(self._pack_outputs(list(grad_outputs)))
            top = layer_calls.flatten(self._pack_outputs(list(top)))
        return layer_calls.backward_call(self, self.cache, grad_outputs, top)

    def _logits_call(self, output_index: int, loss, training: bool) -> int | None:
        """The index in :attr:`calls` of the softmax/sigmoid layer whose output ``call``
        returned (output ``output_index``), for a cross-entropy to read its logits, as Keras
        on TensorFlow does (:func:`~minired.autodiff.layer_calls.output_logits_record`)."""
        output = self._flat_outputs(self.cache.outputs)[output_index]
        return layer_calls.output_logits_record(self.cache, loss, training, output)

    def _prepare_x(self, x, argument: str, allow_empty: bool = True, method: str = "fit"):
        """Check the inputs of a subclassed model: one array, a list of arrays, or a dict
        (nested too) of arrays of numbers, finite, one sample per row (see
        :mod:`minired.models.model_inputs`).

        A dict or a nested structure is returned flat, a list of arrays that the training
        loop batches like any list (the same rows of every array); its structure is kept
        here, and :meth:`_structured` gives it back to each batch before ``call``."""
        from minired.models import model_inputs

        arrays = model_inputs.prepare_free(x, argument, allow_empty, method)
        self._input_structure = model_inputs.input_structure(x)
        if self._input_structure is None:
            arrays = arrays[0] if len(arrays) == 1 else arrays
        self._learn_outputs(arrays)
        return arrays

    #: The nesting of the inputs last given to fit / evaluate / predict (a dict...), or None
    #: for one array or a list of arrays (see :func:`~minired.models.model_inputs.input_structure`).
    _input_structure = None

    def _structured(self, x):
        """A batch of inputs flattened by :meth:`_prepare_x`, in the structure ``call`` was
        given it: ``{"a": x_a}`` stays a dict."""
        if self._input_structure is None:
            return x
        from minired.models import model_inputs

        return model_inputs.pack_inputs(self._input_structure, x)

    def forward(self, inputs, training: bool = False, mask=None):
        """Run ``call`` on a tape (building the model on its first batch); ``mask`` goes to
        a ``call`` that takes it (see :meth:`Layer.forward`)."""
        if not self.built:
            self._build_once(_batch_shapes(inputs))
        return Layer.forward(self, inputs, training=training, mask=mask)

    def build(self, input_shape=None) -> None:
        """Create the weights: run ``call`` once on a sample of zeros of ``input_shape``
        (Keras traces it symbolically), changing no Variable."""
        if input_shape is not None and self._uses_call():
            self.built = True
            self.compute_output_shape(input_shape)
        self.built = True

    def summary(self, line_length: int | None = None, positions=None, print_fn=None,
                expand_nested: bool = False, show_trainable: bool = False,
                layer_range=None) -> None:
        """Print Keras' table: each layer (type), its output shape and parameters, and for a
        functional model what each layer is connected to (see
        :mod:`~minired.models.summary_table`).

        Args:
            line_length, positions: Keras' total width and column positions; minired
                sizes each column to its longest cell, so both are accepted and unused.
            print_fn: called with the whole table (default: ``print``).
            expand_nested: also list the layers of each nested model, indented.
            show_trainable: add a "Trainable" column (Y, N, or - without weights).
            layer_range: ``[first, last]`` name patterns: only the layers between the
                first match of ``first`` and the last match of ``last``.
        """
        from minired.models import summary_table

        print_fn = print_fn or print
        print_fn(summary_table.summary(self, expand_nested=expand_nested,
                                       show_trainable=show_trainable, layer_range=layer_range))

    # -- saving (see minired.saving) ----------------------------------------------------------
    def compile(self, *args, **kwargs) -> None:
        """:meth:`Trainer.compile`, remembering the arguments so that a saved model can be
        compiled the same way when it is loaded (Keras' ``compile_config``)."""
        arguments = inspect.signature(Trainer.compile).bind(self, *args, **kwargs).arguments
        super().compile(*args, **kwargs)
        self._compile_arguments = {k: v for k, v in arguments.items() if k != "self"}

    def get_compile_config(self) -> dict:
        """The compile arguments as Keras writes them (``{}`` if not compiled)."""
        from minired.saving.serialization_lib import serialize_keras_object

        arguments = getattr(self, "_compile_arguments", None)
        if not self.compiled or arguments is None:
            return {}
        return {
            "optimizer": serialize_keras_object(self.optimizer),
            "loss": serialize_keras_object(arguments.get("loss")),
            "loss_weights": serialize_keras_object(arguments.get("loss_weights")),
            "metrics": serialize_keras_object(arguments.get("metrics")),
            "weighted_metrics": serialize_keras_object(arguments.get("weighted_metrics")),
            "run_eagerly": bool(arguments.get("run_eagerly", False)),
            "steps_per_execution": self.steps_per_execution,
            # Keras writes "auto" resolved: False on TensorFlow's CPU
            "jit_compile": arguments.get("jit_compile", "auto") is True,
        }

    def compile_from_config(self, config: dict) -> None:
        """Compile from :meth:`get_compile_config` (minired's or Keras')."""
        from minired.saving import serialization_lib

        config = dict(config)
        for key in ("run_eagerly", "jit_compile", "auto_scale_loss"):
            config.pop(key, None)           # how Keras runs the step, not what it computes
        arguments = {key: serialization_lib._deserialize(value)
                     for key, value in config.items()}
        try:
            self.compile(**arguments)
        except (TypeError, ValueError) as error:
            raise ValueError(f"The saved compile arguments do not work in minired: {error} "
                             "Load the model with compile=False and compile it yourself."
                             ) from None

    def to_json(self, **kwargs) -> str:
        """The model's architecture as Keras' JSON (``mr.models.model_from_json`` reads it,
        and so does ``keras.models.model_from_json``)."""
        import json

        from minired.saving.serialization_lib import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)

    def save(self, filepath, overwrite: bool = True, zipped: bool = True) -> None:
        """Save the model as a ``.keras`` archive: architecture, compile arguments, weights
        and optimizer state. ``keras.saving.load_model(filepath)`` opens it."""
        from minired.saving import saving_lib

        if not zipped:
            raise ValueError("minired saves zipped .keras archives only (zipped=True).")
        saving_lib.save_model(self, filepath, overwrite=overwrite)

    # Keras 3's state as nested dicts by variable path: see minired.models.state_tree
    get_state_tree = state_tree.get_state_tree
    set_state_tree = state_tree.set_state_tree

    def save_weights(self, filepath, overwrite: bool = True, max_shard_size=None) -> None:
        """Save the weights (and optimizer state) to a ``.weights.h5`` file, Keras' layout
        (``max_shard_size``: only None, see :func:`minired.saving.save_weights`)."""
        from minired.saving import saving_lib

        saving_lib.save_weights(self, filepath, overwrite=overwrite,
                                max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch: bool = False) -> None:
        """Load weights from a ``.weights.h5`` file, a ``.keras`` archive or a legacy ``.h5``
        file, as Keras (all shapes are checked before any weight changes). With
        ``skip_mismatch=True`` the layers whose weights do not fit keep theirs, with
        Keras' warning."""
        from minired.saving import saving_lib

        saving_lib.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """A model from its config: ``mr.Model.from_config(model.get_config())``."""
        from minired.models.functional import Functional

        if cls is Model:
            if "input_layers" not in config:
                raise ValueError("Model.from_config needs a functional model's config (with "
                                 "'layers', 'input_layers' and 'output_layers').")
            return Functional.from_config(config, custom_objects=custom_objects)
        return super().from_config(config)


def _output_template(outputs, name: str):
    """What ``call`` returned with its arrays replaced by None (None for one array): a flat
    tuple, list or dict of arrays; a deeper nesting is refused."""
    if not isinstance(outputs, list | tuple | dict):
        return None
    items = list(outputs.values()) if isinstance(outputs, dict) else list(outputs)
    if not items or any(isinstance(item, list | tuple | dict) for item in items):
        shapes = layer_calls.map_structure(np.shape, outputs)
        raise ValueError(f"{name}: call() returned {type(outputs).__name__} of shapes "
                         f"{shapes}; minired trains a subclassed model whose call() returns "
                         "one array, or a flat tuple, list or dict of arrays (no nesting).")
    if isinstance(outputs, dict):
        return dict.fromkeys(outputs)
    return (None,) * len(outputs) if isinstance(outputs, tuple) else [None] * len(outputs)


def functional_init_arguments(args: tuple, kwargs: dict) -> bool:
    """Whether ``Model(...)`` (or ``super().__init__(...)`` in a subclass) was given the
    inputs and outputs of a graph, Keras' test: two positional arguments, one and
    ``outputs=``, or ``inputs=`` and ``outputs=``."""
    return (len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs))


def _batch_shapes(inputs):
    """The shapes of a batch of inputs (an array, a list or a dict, nested too), with the
    batch axis as None."""
    if isinstance(inputs, dict):
        return {key: _batch_shapes(value) for key, value in inputs.items()}
    if isinstance(inputs, list | tuple):
        return [_batch_shapes(a) for a in inputs]
    return (None, *np.shape(inputs)[1:])
