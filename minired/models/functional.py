"""Functional: a model whose layers form a graph, built with ``mr.Model(inputs, outputs)``.

Forward runs the layer calls (the graph's nodes) in topological order; backward runs them in
reverse. The one new idea next to a stack of layers is the **fork**: a tensor read by several
layers receives a gradient from each of them, and by the chain rule its gradient is their
sum (``δt = Σ_readers δt|reader``).
"""

from __future__ import annotations

import bisect
import inspect
from typing import Any, NamedTuple

import numpy as np

from minired import keras_numerics
from minired.autodiff import layer_calls
from minired.layers.activity import activity_penalty, is_float_array
from minired.layers.input_layer import InputLayer
from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import (
    Layer,
    assign_weights,
    check_mask,
    map_arrays,
    penalties_of,
    takes_input_gradient,
)
from minired.layers.node import Node, flatten_tensors
from minired.models import model_inputs
from minired.models.graph import map_graph
from minired.models.model import Model
from minired.trainers.trainer import Trainer


class Functional(Model):
    """A model defined by its input and output tensors.

    Forward, for the nodes ``n = 1..K`` in topological order (each after the nodes it reads)::

        value[t] = x                       for each model input t
        value[outputs of n] = layerₙ.forward(value[inputs of n])
        ŷ = value[model outputs]

    Backward, from ``δŷ = ∂L/∂ŷ`` (one per output), for ``n = K..1``::

        δ(inputs of n) = layerₙ.backward(δ(output of n))      (the call's own cache)
        δt += that δ, for each input tensor t of n            (sum at a fork)

    A layer called several times (shared) is several nodes: each backpropagates with its
    own cache and adds its share to the layer's weight gradients.

    Args:
        inputs: a tensor from ``mr.Input``, a list of them, or a dict ``{name: tensor}``.
        outputs: the tensor(s) computed from ``inputs`` by calling layers: one, a list or a
            dict.
        name: model name.
        trainable: whether the optimizer updates the model's weights. Given here, it is the
            model's own flag, as in Keras (setting ``model.trainable`` later also sets it on
            every layer).

    Example:
        >>> inputs = mr.Input((4,))
        >>> hidden = mr.layers.Dense(8, activation="relu")(inputs)
        >>> outputs = mr.layers.Dense(3, activation="softmax")(hidden)
        >>> model = mr.Model(inputs, outputs)
        >>> [layer.name for layer in model.layers][1:] == [hidden._keras_history[0].name,
        ...                                               outputs._keras_history[0].name]
        True
    """

    _takes_several_inputs = True      # one tensor, a list or a dict, as its inputs

    # The graph knows its outputs from the start: the Trainer's versions, not those a
    # subclassed Model uses to learn what its call() returns.
    _flat_outputs = Trainer._flat_outputs
    _output_shapes = Trainer._output_shapes
    _loss_output_order = Trainer._loss_output_order
    _resolve_compiled_outputs = Trainer._resolve_compiled_outputs

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True,
                 **kwargs) -> None:
        self._operations: list[Layer] = []     # the graph's layers (see _init_graph)
        super().__init__(name=name, trainable=trainable, **kwargs)   # kwargs: dtype...
        self._init_graph(inputs, outputs)

    #: Whether the graph is a chain (see :func:`graph_is_chain`), set by :meth:`_init_graph`.
    _is_chain = False

    def _init_graph(self, inputs, outputs) -> None:
        """Find the graph between ``inputs`` and ``outputs`` (see :mod:`.graph`)."""
        for argument, structure in (("inputs", inputs), ("outputs", outputs)):
            flat = flatten_tensors(structure)
            if not flat:
                raise ValueError(f"Model: `{argument}` cannot be empty, got {structure!r}.")
            for tensor in flat:
                if not isinstance(tensor, KerasTensor):
                    raise ValueError(
                        f"Model: all `{argument}` values must be symbolic tensors (from "
                        f"mr.Input, or a layer called on one), got {type(tensor).__name__}: "
                        f"{tensor!r}.")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs: list[KerasTensor] = flatten_tensors(inputs)
        self.outputs: list[KerasTensor] = flatten_tensors(outputs)
        self._nodes_by_depth, self._operations = map_graph(self.inputs, self.outputs)
        self._nodes: list[Node] = [node for nodes in self._nodes_by_depth.values()
                                   for node in nodes if not node.is_input]
        self._index_producers()
        input_ids = {id(t) for t in self.inputs}   # the calls that read only model inputs
        self._reads_inputs_only = [all(id(t) in input_ids for t in node.input_tensors)
                                   for node in self._nodes]
        self._init_masking()
        self._is_chain = graph_is_chain(self._nodes, self.inputs, self.outputs)
        self.output_names = [t._keras_history.operation.name for t in self.outputs]
        # What a dict of input arrays is keyed by: the keys of a dict of inputs (sorted, the
        # order of ``inputs``), else the inputs' names.
        self.input_names = (sorted(inputs) if isinstance(inputs, dict) else
                            [t.name or t._keras_history.operation.name for t in self.inputs])
        self.built = True

    def _init_masking(self) -> None:
        """Decide once whether a mask can appear in this graph (``_uses_masks``): a layer
        that may make one (``Embedding(mask_zero=True)``, ``Masking``, a layer of yours with
        ``compute_mask``) or a model used as a layer that does. Without, :meth:`forward`
        runs the plain loop, with no per-step work for masks."""
        self._uses_masks = any(
            node.operation._uses_masks if isinstance(node.operation, Functional)
            else node.operation._may_make_mask() for node in self._nodes)

    def _index_producers(self) -> None:
        """``id(tensor)`` -> the index of the call that makes it, for :meth:`_logits_call`."""
        self._producer = {id(t): index for index, node in enumerate(self._nodes)
                          for t in node.outputs}

    # -- copies -------------------------------------------------------------------------------
    # ``copy.deepcopy`` and ``pickle`` copy the graph's tensors, but an id() is a memory
    # address: the copy's tensors have new ones. The index is left out of the copy and
    # rebuilt from the copied nodes (as the optimizer's index of its variables).

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_producer", None)            # absent while a Sequential has no graph
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "_nodes" in state:
            self._index_producers()

    # -- structure ----------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """Every layer of the graph, in Keras' order (the InputLayers first); the nodes
        that stand for Keras operations (``_keras_operation``, e.g. ConvNeXt's
        ``inputs + branch``) are in the graph but, as in Keras, not layers."""
        return [op for op in self._operations if not getattr(op, "_keras_operation", False)]

    @property
    def unique_layers(self) -> list[Layer]:
        """The layers that compute something (no InputLayer), each once."""
        return [layer for layer in self._operations if not isinstance(layer, InputLayer)]

    @property
    def output_keys(self) -> list[str]:
        """The outputs' names in losses, metrics and logs: the keys of a dict of outputs, or
        the names of the layers that make them."""
        if isinstance(self._outputs_struct, dict) and all(
                isinstance(t, KerasTensor) for t in self._outputs_struct.values()):
            return sorted(self._outputs_struct)
        return list(self.output_names)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @input_shape.setter
    def input_shape(self, value) -> None:   # Layer.__init__ sets it; the graph defines it
        pass

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` of :attr:`layers`.

        Example:
            >>> model.get_layer(index=0) is model.layers[0]
            True
        """
        if index is not None and name is not None:
            raise ValueError("get_layer: give `name` or `index`, not both.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: was asked for index {index} but the model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"get_layer: no such layer: {name!r}. Existing layers are: "
                             f"{[layer.name for layer in self.layers]}.")
        raise ValueError("get_layer: provide either a layer `name` or an `index`.")

    def build(self, input_shape=None) -> None:
        """A functional model is built when it is made; nothing to do."""

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs, training: bool = False, mask=None):
        """Run the graph on arrays: one array per model input (a list when there are several).

        Returns the output array, or a list of them in the order of :attr:`outputs`. Each
        call is recorded as ``(layer, cache)`` in ``self.calls``, in the order of execution.
        With masks (``mask``, one per input, or a layer that makes one), see
        :meth:`_forward_masked`.
        """
        if mask is not None or self._uses_masks:
            return self._forward_masked(inputs, training, mask)
        arrays = self._flatten_inputs(inputs)
        if self._is_chain:
            return self._forward_chain(arrays[0], training)
        values = dict(zip(map(id, self.inputs), arrays, strict=True))
        calls, activity = [], {}
        for index, node in enumerate(self._nodes):
            layer = node.operation
            arguments = map_arrays(lambda tensor: values[id(tensor)], node.call_arguments)
            result = layer.forward(arguments, training=training)
            calls.append((layer, layer.cache))
            outputs = _as_list(result, len(node.outputs))
            if layer.activity_regularizer is not None:
                activity[index] = _activity_penalties(layer, outputs)
            values.update(zip(map(id, node.outputs), outputs, strict=True))
        self.cache = GraphCache(calls, [(x.shape, x.dtype) for x in arrays], None, activity)
        outputs = [values[id(t)] for t in self.outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def _forward_chain(self, x: np.ndarray, training: bool) -> np.ndarray:
        """:meth:`forward` for a chain (see :func:`graph_is_chain`, a Sequential's graph): each
        layer reads the output of the one before it, ``aᵏ = layerᵏ(aᵏ⁻¹)``."""
        a, calls, activity = x, [], {}
        for index, node in enumerate(self._nodes):
            layer = node.operation
            a = layer.forward(a, training=training)
            if not isinstance(a, np.ndarray):     # one output given as [a], as the walk reads it
                a = _as_list(a, 1)[0]
            calls.append((layer, layer.cache))
            if layer.activity_regularizer is not None:
                activity[index] = _activity_penalties(layer, [a])
        self.cache = GraphCache(calls, [(x.shape, x.dtype)], None, activity)
        return a

    def _forward_masked(self, inputs, training: bool, mask):
        """:meth:`forward` carrying masks through the graph, as Keras does.

        For each call, ``previous_mask`` is the mask of its inputs (None where none); a
        layer that takes a mask receives it (:meth:`~minired.layers.Layer._takes_mask`),
        and the mask of its outputs is ``layer.compute_mask(inputs, previous_mask)`` when
        the layer supports masking (else the mask is dropped, with Keras' warning). A
        model used as a layer passes the masks its own graph computed. Masks are boolean
        arrays, not differentiated: the backward pass is the one without masks. The masks
        of the outputs are kept in ``self.cache.output_masks`` (the loss and metrics read
        them).
        """
        arrays = self._flatten_inputs(inputs)
        values = dict(zip(map(id, self.inputs), arrays, strict=True))
        masks: dict[int, np.ndarray] = {}
        if mask is not None:
            given = self._flatten_inputs(mask if isinstance(mask, list | dict)
                                         else [mask])
            for tensor, array, input_mask in zip(self.inputs, arrays, given, strict=True):
                if input_mask is not None:
                    masks[id(tensor)] = check_mask(input_mask, array, self.name)
        calls, activity = [], {}
        for index, node in enumerate(self._nodes):
            layer = node.operation
            arguments = map_arrays(lambda tensor: values[id(tensor)], node.call_arguments)
            previous = map_arrays(lambda tensor: masks.get(id(tensor)), node.call_inputs)
            if isinstance(layer, Functional):
                flat = flatten_tensors(previous)
                given = previous if any(m is not None for m in flat) else None
                result = layer.forward(arguments, training=training, mask=given)
                out_masks = layer.cache.output_masks or [None] * len(node.outputs)
            else:
                given = previous
                if node.arguments is not None and layer._reads_argument_masks:
                    # the mask of each argument (MultiHeadAttention's query, value, key)
                    given = node.arguments.map(lambda tensor: masks.get(id(tensor)))
                    given = given if given.tensors() else None
                result = layer._forward_with_mask(arguments, training, given)
                first = arguments.first if node.arguments is not None else arguments
                out_mask = layer._output_mask(first, previous)
                if isinstance(out_mask, np.ndarray) and len(node.outputs) > 1:
                    out_mask = [out_mask] + [None] * (len(node.outputs) - 1)   # Keras' zip
                out_masks = ([None] * len(node.outputs) if out_mask is None
                             else _as_list(out_mask, len(node.outputs)))
            calls.append((layer, layer.cache))
            outputs = _as_list(result, len(node.outputs))
            if layer.activity_regularizer is not None:
                activity[index] = _activity_penalties(layer, outputs)
            values.update(zip(map(id, node.outputs), outputs, strict=True))
            for tensor, out_mask in zip(node.outputs, out_masks, strict=True):
                if out_mask is not None:
                    masks[id(tensor)] = np.asarray(out_mask, dtype=bool)
        output_masks = [masks.get(id(t)) for t in self.outputs]
        self.cache = GraphCache(calls, [(x.shape, x.dtype) for x in arrays], output_masks,
                                activity)
        outputs = [values[id(t)] for t in self.outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def output_masks(self) -> list:
        """The mask of each output in the last forward pass (None for an output without),
        in the order of :attr:`outputs`: what Keras attaches to the outputs as
        ``_keras_mask``.

        Example:
            >>> inputs = mr.Input((3,))
            >>> model = mr.Model(inputs, mr.layers.Embedding(5, 2, mask_zero=True)(inputs))
            >>> _ = model(np.array([[4, 1, 0]]))
            >>> model.output_masks()
            [array([[ True,  True, False]])]
        """
        if self.cache is None:
            return [None] * len(self.outputs)
        return list(self.cache.output_masks or [None] * len(self.outputs))

    @property
    def calls(self) -> list[tuple[Layer, Any]]:
        """``(layer, cache)`` for each layer call of the last forward pass, in order. A model
        used as a layer contributes the calls it made, in their place (so a loss can read
        the logits of a softmax inside it, as in Keras)."""
        return [] if self.cache is None else [call for _, call in _flat_calls(self.cache.calls)]

    def backward(self, grad_outputs, top=None, input_gradients: bool = True):
        """Backpropagate ``δŷ`` through the calls of the last forward pass; return ``δx``
        (None with ``input_gradients=False``: training needs only ``∂L/∂w``).

        Args:
            grad_outputs: ``δŷ = ∂L/∂ŷ`` (a list, one per output, when there are several;
                ``None`` for an output without a loss).
            top: for each output, ``None`` or the index in :attr:`calls` of the call whose
                ``δz = ∂L/∂z`` is given instead (a cross-entropy read the logits of that
                call: it runs ``backward_from_z``). One int or None for a one-output model.
        """
        grad_outputs = _as_list(grad_outputs, len(self.outputs))
        tops = _as_list(top, len(self.outputs)) if top is not None else [None] * len(
            self.outputs)
        grads_z: dict[int, np.ndarray] = {}        # index in calls -> δz given by the loss
        for grad, index in zip(grad_outputs, tops, strict=True):
            if grad is not None and index is not None:
                grads_z[index] = grad if index not in grads_z else grads_z[index] + grad
        return self._backward([g if index is None else None
                               for g, index in zip(grad_outputs, tops, strict=True)], grads_z,
                              input_gradients)

    def _backward(self, grad_outputs: list, grads_z: dict[int, np.ndarray],
                  input_gradients: bool = True):
        """``backward`` from ``δŷ`` per output (or None) and ``δz`` by index in :attr:`calls`.

        Without ``input_gradients``, a call that reads only the model's inputs skips its
        ``δx`` (when its layer can: :func:`~minired.layers.layer.takes_input_gradient`):
        nothing reads it.
        """
        if self._is_chain:
            return self._backward_chain(grad_outputs[0], grads_z, input_gradients)
        grads: dict[int, np.ndarray] = {}          # id(tensor) -> δ, summed over its readers
        for tensor, grad in zip(self.outputs, grad_outputs, strict=True):
            if grad is not None:
                _accumulate(grads, tensor, grad)
        starts = _call_starts(self.cache.calls)
        node_grads_z: dict[int, dict[int, np.ndarray]] = {}   # per node: δz by its own calls
        for index, grad_z in grads_z.items():
            node_index = bisect.bisect_right(starts, index) - 1   # the node that made it
            node_grads_z.setdefault(node_index, {})[index - starts[node_index]] = grad_z
        for index in reversed(range(len(self._nodes))):
            node = self._nodes[index]
            grad_a = [grads.pop(id(t), None) for t in node.outputs]
            needed = input_gradients or not self._reads_inputs_only[index]
            inputs_grad = self._backward_call(index, grad_a, node_grads_z.get(index, {}),
                                              needed)
            if inputs_grad is not None:
                for tensor, grad in zip(node.input_tensors, _as_list(
                        inputs_grad, len(node.input_tensors)), strict=True):
                    if grad is not None:           # None: an integer input, no gradient
                        _accumulate(grads, tensor, grad)
        if not input_gradients:
            return None
        result = [grads.get(id(t), np.zeros(shape, dtype)) for t, (shape, dtype) in
                  zip(self.inputs, self.cache.input_shapes, strict=True)]
        return result[0] if len(result) == 1 else result

    def _backward_chain(self, grad: np.ndarray | None, grads_z: dict[int, np.ndarray],
                        input_gradients: bool):
        """:meth:`_backward` for a chain: walk the calls in reverse, the ``δx`` of each is
        the ``δa`` of the one before it, ``δaᵏ⁻¹ = layerᵏ.backward(δaᵏ)``."""
        for index in reversed(range(len(self._nodes))):
            here_z = {0: grads_z[index]} if index in grads_z else {}    # the loss gave δz
            # the first call reads the model's inputs: their δx only if asked for
            grad = self._backward_call(index, [grad], here_z, index > 0 or input_gradients)
        if not input_gradients:
            return None
        shape, dtype = self.cache.input_shapes[0]
        return np.zeros(shape, dtype) if grad is None else grad

    def _backward_call(self, index: int, grad_a: list, here_z: dict[int, np.ndarray],
                       needed: bool):
        """The backward pass of call ``index``, the same in both walks: put back the cache
        that call left on its layer, and return ``δx``, the gradient of its inputs.

        ``grad_a`` is ``δa`` of each of its outputs (None: no gradient reached it), to which
        the activity penalties add ``∂R/∂a``; ``here_z`` the ``δz`` the loss gave, by the
        index of the call inside it (0 for a layer); ``needed`` whether ``δx`` is read (the
        calls that read only the model's inputs skip it in training).
        """
        layer, layer.cache = self.cache.calls[index]
        for k, penalty, backward in self.cache.activity.get(index, ()):
            own = backward(penalty.dtype.type(1))            # δa_k += ∂R/∂a_k
            grad_a[k] = own if grad_a[k] is None else grad_a[k] + own
        if isinstance(layer, Functional):      # a model used as a layer: one pass inside
            if here_z or any(g is not None for g in grad_a):
                return layer._backward(grad_a, here_z, needed)
            return None
        skip = {} if needed or not takes_input_gradient(type(layer)) else {
            "input_gradient": False}
        inputs_grad = layer.backward_from_z(here_z[0], **skip) if here_z else None
        # A call with add_loss values backpropagates them even if its outputs get no
        # gradient.
        if any(g is not None for g in grad_a) or _added_losses(layer.cache):
            more = layer.backward(grad_a[0] if len(grad_a) == 1 else grad_a, **skip)
            inputs_grad = more if inputs_grad is None else _add(inputs_grad, more)
        return inputs_grad

    def _logits_call(self, output_index: int, loss, training: bool) -> int | None:
        """The index in :attr:`calls` of the call whose logits ``z`` the loss on output
        ``output_index`` reads, or None. Within a ``fit`` the graph and its layers stay the
        same, so the answer is found at the first step and kept in the step plan
        (:class:`~minired.trainers.step_plan.StepPlan`) for the others.

        Walk back from the call that made the output over the calls that return their input
        itself (an inactive Dropout, see :func:`~minired.keras_numerics.logits_call`). If
        that leads to a model used as a layer, look inside it the same way: Keras reads the
        logits of a softmax in a nested model too.
        """
        plan = self._step_plan
        if plan is None:
            return self._find_logits_call(output_index, loss, training)
        key = (output_index, id(loss), training)
        kept = plan.logits_calls.get(key)
        if kept is None or kept[0] is not loss:     # (the reader is kept: its id stays its)
            kept = plan.logits_calls[key] = loss, self._find_logits_call(output_index, loss,
                                                                         training)
        return kept[1]

    def _find_logits_call(self, output_index: int, loss, training: bool) -> int | None:
        """:meth:`_logits_call`, looked for in this step's calls."""
        chain = []
        tensor = self.outputs[output_index]
        index = self._producer.get(id(tensor))
        while index is not None:
            chain.insert(0, index)
            node = self._nodes[index]
            if not node.operation.passes_logits_through(training):
                break
            index = self._producer.get(id(node.input_tensors[0]))
        starts = _call_starts(self.cache.calls)
        found = keras_numerics.logits_call([self.cache.calls[i] for i in chain], loss,
                                           training)
        if found is not None and isinstance(self.cache.calls[chain[found]][1],
                                            layer_calls.CallCache):
            # A built-in layer whose call you override (ShiftedDense(..., "softmax")): its
            # call ran on the tape, and what it returns need not be the softmax's output.
            return None
        if found is not None:
            return starts[chain[found]]
        if not chain or not isinstance(self.cache.calls[chain[0]][0], Functional):
            return None
        inner, inner.cache = self.cache.calls[chain[0]]     # that call's own calls
        read = self._nodes[chain[1]].input_tensors[0] if len(chain) > 1 else tensor
        inner_index = inner._logits_call(self._nodes[chain[0]].outputs.index(read), loss,
                                         training)
        return None if inner_index is None else starts[chain[0]] + inner_index

    # -- calling the model --------------------------------------------------------------------
    def __call__(self, inputs, training: bool | None = None, mask=None):
        """On symbolic tensors, add this model to another graph (a model used as a layer);
        on arrays, run it and return the outputs (the structure of ``outputs``). ``mask``
        gives the inputs a mask (one per input), as Keras' ``Functional.call``; the masks
        of the outputs are then :meth:`output_masks`."""
        if any(isinstance(t, KerasTensor) for t in flatten_tensors(inputs)):
            if mask is not None:
                raise ValueError(f"Model {self.name!r}: in a graph, the mask comes with the "
                                 "tensors, not as the `mask` argument.")
            return self._symbolic_call(inputs)
        prepared = self._prepare_x(inputs, "inputs", method="call")     # builds, checks
        if layer_calls.inside_recording():
            # inside a layer's call: one op on its tape (the traced inputs, not copies)
            if mask is not None:
                raise ValueError(f"Model {self.name!r}: called inside a layer's call, it takes "
                                 "no `mask` argument in minired (its backward would not see "
                                 "the mask); apply the mask to the inputs yourself.")
            return self._pack_outputs(layer_calls.record_layer_call(
                self, inputs, layer_calls.current_training(training)))
        # training=None (not given) reaches the layers as None, as in Keras: each takes the
        # default of its own call (False for Dropout, True for the image augmentation layers)
        outputs = self.forward(prepared, training=training, mask=mask)
        return self._pack_outputs(outputs)

    def _symbolic_call(self, inputs):
        """Called on symbolic tensors, a model returns them in the structure of its
        ``outputs`` (a list of one stays a list, as in Keras)."""
        outputs = super()._symbolic_call(inputs)
        return _pack(self._outputs_struct, iter(flatten_tensors(outputs)))

    def _pack_outputs(self, flat):
        """Arrange flat outputs like the ``outputs`` the model was made with; as Keras, a
        list (or tuple) of one output gives that output itself."""
        packed = _pack(self._outputs_struct, iter(_as_list(flat, len(self.outputs))))
        return packed[0] if isinstance(packed, list | tuple) and len(packed) == 1 else packed

    def _check_call_shape(self, input_shape) -> None:
        """A model called as a layer takes tensors that fit its inputs (see
        :func:`~minired.models.model_inputs.check_shape`)."""
        for index, (tensor, shape) in enumerate(zip(
                self.inputs, self._flatten_inputs(input_shape), strict=True)):
            model_inputs.check_shape(self.name, tensor, tuple(shape), index)

    def _flatten_inputs(self, structure) -> list:
        """One value (an array, or a shape) per model input, in the order of :attr:`inputs`,
        from one value, a list, or a dict keyed by :attr:`input_names`."""
        if isinstance(structure, dict):
            missing = [name for name in self.input_names if name not in structure]
            if missing:
                raise ValueError(f"Model {self.name!r}: a dict of inputs must have the keys "
                                 f"{self.input_names}; missing {missing} (got keys "
                                 f"{sorted(structure)}).")
            return [structure[name] for name in self.input_names]
        try:
            return _as_list(structure, len(self.inputs))
        except ValueError:
            got = len(structure) if isinstance(structure, list) else 1
            raise ValueError(f"Model {self.name!r} expects {len(self.inputs)} input(s) "
                             f"{self.input_names}, but it received {got}.") from None

    def compute_output_shape(self, input_shape):
        """The output shape(s) for inputs of ``input_shape`` (one shape, or a list)."""
        shapes: dict[int, Any] = dict(zip(map(id, self.inputs), self._flatten_inputs(
            input_shape), strict=True))
        for node in self._nodes:
            if node.arguments is not None:      # a call(a, b, factor=3.0) of your own layer
                result = node.operation._output_shape_of(map_arrays(
                    lambda tensor: KerasTensor(shapes[id(tensor)], tensor.dtype),
                    node.arguments))
            else:
                argument = map_arrays(lambda tensor: tuple(shapes[id(tensor)]),
                                      node.call_inputs)
                result = node.operation.compute_output_shape(argument)
            shapes.update(zip(map(id, node.outputs), _as_list(result, len(node.outputs)),
                              strict=True))
        outputs = [tuple(shapes[id(t)]) for t in self.outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def _prepare_x(self, x, argument: str, allow_empty: bool = True, method: str = "fit"):
        """Check the inputs and return them as one array, or a list in the order of
        :attr:`inputs` (see :mod:`minired.models.model_inputs`)."""
        arrays = model_inputs.prepare(self, x, argument, allow_empty, method)
        return arrays[0] if len(arrays) == 1 else arrays

    # -- weights ------------------------------------------------------------------------------
    def zero_gradients(self) -> None:
        """Each layer zeroes its own gradients (a Dense only marks them: see
        :meth:`minired.layers.layer.Layer.zero_gradients`)."""
        for layer in self.unique_layers:
            layer.zero_gradients()

    def _fill_unwritten_gradients(self) -> None:
        """Each layer fills with zeros the gradients its backward did not write."""
        for layer in self.unique_layers:
            layer._fill_unwritten_gradients()

    def _weight_triples(self) -> list[tuple[np.ndarray, np.ndarray, Any]]:
        """Every layer's weights, in the order of :attr:`layers`, each array once."""
        seen, triples = set(), []
        for layer in self.unique_layers:
            for triple in layer._weight_triples():
                if id(triple[0]) not in seen:
                    seen.add(id(triple[0]))
                    triples.append(triple)
        return triples

    def set_weights(self, weights: list) -> None:
        """Copy ``weights`` (in :meth:`get_weights` order) into the model, in place."""
        assign_weights(self.weights, weights, "set_weights")

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for w, _ in self._trainable_pairs()]

    @property
    def trainable_gradients(self) -> list[np.ndarray]:
        return [g for _, g in self._trainable_pairs()]

    def _trainable_pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if not self.trainable:
            return []
        seen, pairs = set(), []
        for layer in self.unique_layers:
            for weight, gradient in layer._trainable_pairs():
                if id(weight) not in seen:
                    seen.add(id(weight))
                    pairs.append((weight, gradient))
        return pairs

    @property
    def losses(self) -> list[float]:
        """The values layers passed to ``add_loss`` in the last forward pass (one per call),
        then the penalties of every regularized weight, each weight once."""
        return [*self._call_losses(), *penalties_of(self._weight_triples())]

    def _call_losses(self) -> list:
        """The ``add_loss`` values of the last forward pass and the penalties of the activity
        regularizers, in call order."""
        return [] if self.cache is None else _graph_losses(self.cache)

    # -- saving (Keras' config format: see minired.saving) ------------------------------------
    _keras_node_kwargs = {"mask": None}    # what Keras records for a call of a model

    def get_config(self) -> dict:
        """Keras' functional config: each layer with the calls (``inbound_nodes``) that are
        part of this model, then the ``input_layers`` and ``output_layers``, each tensor as
        ``[layer name, node index, tensor index]``. ``Model.from_config`` rebuilds it.

        A subclass whose ``__init__`` builds its own graph (``__init__(self, units)``, not
        ``__init__(self, inputs, outputs, ...)``) gets, as in Keras, a layer's base config
        (``name``, ``trainable``, ``dtype``): override ``get_config`` to add its arguments.
        """
        if not functional_like_constructor(type(self)):
            return Layer.get_config(self)
        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """Rebuild a functional model from :meth:`get_config` (minired's or Keras'): new
        layers, new weights, the same graph. A subclass with its own ``__init__`` is
        made, as in Keras, by ``cls(**config)``."""
        from minired.saving import serialization_lib

        functional = all(k in config for k in ("name", "layers", "input_layers",
                                               "output_layers"))
        if not (functional and functional_like_constructor(cls)):
            return Model.from_config.__func__(cls, config)    # cls(**config), as a layer
        with serialization_lib.deserialization_scope(custom_objects):
            return functional_from_config(cls, config)

    def get_build_config(self) -> dict:
        return {"input_shape": None}       # a functional model is built by its graph

    def build_from_config(self, config: dict) -> None:
        """Nothing to build: the graph made the weights."""


def functional_like_constructor(cls) -> bool:
    """Whether ``cls.__init__`` takes a functional model's arguments (``inputs, outputs,
    name, trainable``, or ``*args, **kwargs``), so that its config can be the graph's
    (Keras' ``functional_like_constructor``)."""
    if cls.__init__ is Functional.__init__:
        return True
    spec = inspect.getfullargspec(cls.__init__)
    return (spec.args[1:] == inspect.getfullargspec(Functional.__init__).args[1:]
            or (spec.varargs is not None and spec.varkw is not None))


def inject_functional_model_class(cls: type) -> type:
    """Put :class:`Functional` in place of :class:`Model` among the bases of ``cls`` (and of
    its bases), as Keras does for a subclass of ``Model`` whose ``__init__`` calls
    ``super().__init__(inputs, outputs)``: its instances are functional models."""
    if cls is Model:
        return Functional
    if not issubclass(cls, Model) or issubclass(cls, Functional):
        return cls          # already functional, or a base outside the models
    cls.__bases__ = tuple(inject_functional_model_class(base) for base in cls.__bases__)
    return cls


class GraphCache(NamedTuple):
    """What one forward pass of a model keeps for its backward pass."""

    calls: list            #: ``(layer, cache)`` per layer call, in the order they ran
    input_shapes: list     #: ``(shape, dtype)`` per input: δx is 0 for an unused input
    output_masks: list | None = None   #: the mask of each output (None: no masks at all)
    #: per call (by index) with an activity regularizer, ``(k, R, backward)`` for each of its
    #: float outputs ``a_k`` (see :mod:`minired.layers.activity`)
    activity: dict = {}


def graph_is_chain(nodes: list[Node], inputs: list, outputs: list) -> bool:
    """Whether the graph is a chain, as every Sequential's: one input, one output, and each
    call (of a layer, not a model) reads only the one tensor the call before it made (the
    first reads the input; the last makes the output). Its passes are then plain loops
    (:meth:`Functional._forward_chain`, :meth:`Functional._backward_chain`)."""
    if len(inputs) != 1 or len(outputs) != 1 or not nodes:
        return False
    previous = inputs[0]
    for node in nodes:
        if (isinstance(node.operation, Functional) or node.arguments is not None
                or node.call_inputs is not previous or len(node.outputs) != 1):
            return False
        previous = node.outputs[0]
    return previous is outputs[0]


def _as_list(value, length: int) -> list:
    """A structure of ``length`` items (arrays, shapes or gradients) as a flat list: a
    single item (an array, or a shape tuple) becomes ``[item]``."""
    is_shape = isinstance(value, tuple) and all(d is None or isinstance(d, int | np.integer)
                                                for d in value)
    if isinstance(value, list | tuple) and not is_shape:
        if len(value) != length:
            raise ValueError(f"Expected {length} values, got {len(value)}.")
        return list(value)
    if length != 1:
        raise ValueError(f"Expected a list of {length} values, got one {type(value).__name__}.")
    return [value]


def _flat_calls(calls: list) -> list[tuple[tuple[int, ...], tuple]]:
    """Each layer call with its path, in order: its index in ``calls``, then, for the calls a
    model used as a layer made, their path inside that model."""
    flat = []
    for index, (layer, cache) in enumerate(calls):
        if isinstance(cache, GraphCache):
            flat.extend(((index, *path), call) for path, call in _flat_calls(cache.calls))
        else:
            flat.append(((index,), (layer, cache)))
    return flat


def _call_starts(calls: list) -> list[int]:
    """For each of ``calls``, the index in the flat list (:func:`_flat_calls`) of its first
    call."""
    starts, position = [], 0
    for _, cache in calls:
        starts.append(position)
        position += len(_flat_calls(cache.calls)) if isinstance(cache, GraphCache) else 1
    return starts


def _accumulate(grads: dict, tensor: KerasTensor, grad: np.ndarray) -> None:
    """``δt += grad``: a tensor read by several layers sums their gradients (a fork)."""
    key = id(tensor)
    grads[key] = grad if key not in grads else grads[key] + grad


def _added_losses(cache) -> list:
    """The ``add_loss`` values of one call (a layer written with ``call``), or []."""
    return cache.losses if isinstance(cache, layer_calls.CallCache) else []


def _graph_losses(graph: GraphCache) -> list:
    """The losses one forward pass added, in the order of the calls (a model used as a
    layer: the losses of its own calls): each call's ``add_loss`` values, then the
    penalties of its activity regularizer."""
    losses = []
    for index, (_, cache) in enumerate(graph.calls):
        losses += _graph_losses(cache) if isinstance(cache, GraphCache) else _added_losses(cache)
        losses += [penalty for _, penalty, _ in graph.activity.get(index, ())]
    return losses


def _activity_penalties(layer, outputs: list) -> list:
    """``(k, R, backward)`` for each float output ``a_k`` of one call of ``layer``, whose
    ``activity_regularizer`` is set (:func:`~minired.layers.activity.activity_penalty`); the
    penalties also become the layer's :attr:`losses`, as after a call of its own."""
    penalties = [(k, *activity_penalty(layer.activity_regularizer, a))
                 for k, a in enumerate(outputs) if is_float_array(a)]
    layer._last_losses = [*_added_losses(layer.cache), *(value for _, value, _ in penalties)]
    return penalties


def _add(a, b):
    if isinstance(a, list):
        return [x + y for x, y in zip(a, b, strict=True)]
    return a + b


def _pack(structure, flat):
    """Fill ``structure`` with the items of ``flat``, taken in the flat order (a dict's keys
    sorted); a dict keeps its own key order, as Keras' ``pack_sequence_as``."""
    if isinstance(structure, dict):
        packed = {key: _pack(structure[key], flat) for key in sorted(structure)}
        return {key: packed[key] for key in structure}
    if isinstance(structure, list | tuple):
        return type(structure)(_pack(item, flat) for item in structure)
    return next(flat)


# -- the functional config (Keras' ``Functional.get_config`` / ``functional_from_config``) -----
def _counts_own_node(operation) -> int:
    """Keras numbers the calls of a functional model (not a Sequential) from 1: its node 0
    is the one linking its own inputs to its outputs."""
    from minired.models.sequential import Sequential

    return 1 if isinstance(operation, Functional) and not isinstance(operation,
                                                                     Sequential) else 0


def functional_config(model: Functional) -> dict:
    from minired.saving import serialization_lib

    own = {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}

    def own_index(operation, node_index: int) -> int:
        """The index of a call among the calls of ``operation`` that are in this model."""
        return sum(id(node) in own for node in operation._inbound_nodes[:node_index])

    def tensor_config(tensor) -> dict:
        operation, node_index, tensor_index = tensor._keras_history
        return {"class_name": "__keras_tensor__", "config": {
            "shape": list(tensor.shape), "dtype": tensor.dtype,
            "keras_history": [operation.name, own_index(operation, node_index), tensor_index]}}

    layers = []
    for layer in model._operations:       # the layers and the operations' nodes
        entry = serialization_lib.serialize_keras_object(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [node_config(layer, node, tensor_config)
                                  for node in layer._inbound_nodes
                                  if id(node) in own and not node.is_input]
        layers.append(entry)

    def layer_reference(tensor) -> list:
        operation, node_index, tensor_index = tensor._keras_history
        return [operation.name, own_index(operation, node_index) + _counts_own_node(operation),
                tensor_index]

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": map_arrays(layer_reference, model._inputs_struct),
            "output_layers": map_arrays(layer_reference, model._outputs_struct)}


def node_config(layer, node: Node, tensor_config) -> dict:
    """One call as Keras writes it: ``{"args": [...], "kwargs": {...}}``, each symbolic
    tensor as ``tensor_config`` writes it (a call of your own layer may have more
    arguments than its inputs: ``AddTwo()(a, b)``, ``Scale()(x, factor=3.0)``)."""
    kwargs = dict(getattr(layer, "_keras_node_kwargs", {}))
    if node.arguments is None:
        return {"args": [map_arrays(tensor_config, node.call_inputs)], "kwargs": kwargs}
    arguments = node.arguments.map(tensor_config)     # Keras fills in no defaults here
    return {"args": list(arguments.args), "kwargs": arguments.kwargs}


class _NotReadyError(Exception):
    """A call reads a tensor that an earlier call in the file has not made yet."""


def functional_from_config(cls, config: dict):
    from minired.saving import serialization_lib

    for key in ("layers", "input_layers", "output_layers"):
        if key not in config:
            raise ValueError(f"A functional model config needs {key!r}; got keys "
                             f"{sorted(config)}.")
    created: dict[str, Layer] = {}
    outputs: dict[str, list] = {}     # layer name -> the outputs of each of its calls
    pending: dict[str, list] = {}
    for layer_data in config["layers"]:
        name = layer_data.get("name")
        layer = serialization_lib._deserialize(layer_data)
        if not isinstance(layer, Layer):
            raise ValueError(f"The config of {name!r} does not describe a layer.")
        created[name] = layer
        outputs[name] = ([[layer.output_tensor]] if isinstance(layer, InputLayer)
                         else [None] * _counts_own_node(layer))
        pending[name] = list(layer_data.get("inbound_nodes", []))

    def tensor(reference, offset: bool):
        if not (isinstance(reference, list | tuple) and len(reference) == 3
                and isinstance(reference[0], str)):
            raise ValueError(f"Invalid tensor reference in a model config: {reference!r}.")
        name, node_index, tensor_index = reference
        if name not in created:
            raise ValueError(f"The model config refers to an unknown layer {name!r}.")
        index = node_index + (_counts_own_node(created[name]) if offset else 0)
        calls = outputs[name]
        if not 0 <= index < len(calls) or calls[index] is None:
            raise _NotReadyError(name)
        return calls[index][tensor_index]

    def revive(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return tensor(value["config"]["keras_history"], offset=True)
        if isinstance(value, dict):
            return {key: revive(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [revive(item) for item in value]
        return value

    while any(pending.values()):
        progress = False
        for name, nodes in pending.items():
            while nodes:
                node_data = nodes[0]
                if isinstance(node_data, list):
                    raise ValueError("This model config uses the Keras 2 node format, which "
                                     "minired does not read; save it again with Keras 3.")
                try:
                    args = revive(node_data.get("args", []))
                except _NotReadyError:
                    break
                try:
                    kwargs = revive(node_data.get("kwargs", {}))
                except _NotReadyError:
                    break
                kwargs = {k: v for k, v in kwargs.items()
                          if not (k in ("training", "mask") and v is None)}
                if not args:
                    raise ValueError(f"Layer {name!r} is called without arguments in the "
                                     "model config.")
                result = created[name](*args, **kwargs)
                outputs[name].append(flatten_tensors(result))
                nodes.pop(0)
                progress = True
        if not progress:
            stuck = sorted(name for name, nodes in pending.items() if nodes)
            raise ValueError("Invalid functional model config: the calls of the layers "
                             f"{stuck} read tensors no call makes (a loop or a missing layer).")

    def references(structure):
        if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
            return tensor(structure, offset=False)
        if isinstance(structure, dict):
            return {key: references(value) for key, value in structure.items()}
        return [references(value) for value in structure]

    try:
        inputs = references(config["input_layers"])
        model_outputs = references(config["output_layers"])
    except _NotReadyError as missing:
        raise ValueError(f"The model config's inputs or outputs refer to a call of "
                         f"{missing} that does not exist.") from None
    model_cls = Functional if cls.__name__ == "Model" else cls
    return model_cls(inputs, model_outputs, name=config.get("name"),
                     trainable=config.get("trainable", True))
