"""How a layer written with ``call()`` runs forward and backward: through the tape.

A built-in layer has a hand-written ``forward``/``backward`` pair. A user's layer (or
model) only writes ``call(inputs)``; minired then

1. runs ``call`` while a :class:`~minired.autodiff.tape.GradientTape` records
   (:func:`run_call`): every ``mr.ops`` operation, and every built-in layer the call uses
   (:func:`record_layer_call`, whose VJP is that layer's own ``backward``), lands on it;
2. on the way back (:func:`backward_call`), walks the tape from ``δa = ∂L/∂a`` of the
   outputs and ``1`` for each loss the call passed to ``add_loss``, adds ``∂L/∂w`` to each
   Variable's ``gradient`` and returns ``δx`` for the layer below.

So hand-written and taped layers mix freely: a Dense inside a user's layer backpropagates
with its own ``backward``, a user's layer inside a functional model with the tape.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from minired import keras_numerics
from minired.autodiff.tape import GradientTape, active_tape, record
from minired.autodiff.tensor import Tensor, as_leaf

_TRAINING: list[bool] = []    # the `training` of the calls running now, innermost last


class CallArguments:
    """The arguments of a call that takes more than its inputs: ``layer(a, b, factor=3.0)``
    for ``call(self, a, b, factor=2.0)``.

    The **tensor** arguments (arrays, symbolic tensors, and lists or dicts of them) are the
    call's inputs: a functional model records each as an input of the node, and the tape
    gives each its gradient. The others (``factor=3.0``) are passed as they are.

    Args:
        args: the positional arguments, the layer's ``inputs`` first.
        kwargs: the keyword arguments (without ``training``).

    Example:
        >>> arguments = CallArguments((np.ones(2), np.zeros(2)), {"factor": 3.0})
        >>> [t.tolist() for t in arguments.tensors()], arguments.kwargs
        ([[1.0, 1.0], [0.0, 0.0]], {'factor': 3.0})
    """

    __slots__ = ("args", "kwargs")

    def __init__(self, args: tuple, kwargs: dict) -> None:
        self.args = tuple(args)
        self.kwargs = dict(kwargs)

    @property
    def first(self):
        """The first positional argument (the layer's ``inputs``): what ``build`` reads."""
        return self.args[0]

    def tensors(self) -> list:
        """The tensor leaves, positional arguments first, then keyword arguments sorted by
        name (the order of a node's ``input_tensors`` and of the gradients ``backward``
        returns)."""
        leaves = flatten([*self.args, *(self.kwargs[key] for key in sorted(self.kwargs))])
        return [leaf for leaf in leaves if is_tensor(leaf)]

    def map(self, function) -> CallArguments:
        """Apply ``function`` to each tensor leaf; the other values stay."""
        def leaf(x):
            return function(x) if is_tensor(x) else x
        return CallArguments(map_structure(leaf, self.args), map_structure(leaf, self.kwargs))

    def __repr__(self) -> str:
        return f"CallArguments(args={self.args!r}, kwargs={self.kwargs!r})"


def is_tensor(value) -> bool:
    """Whether a call argument is a tensor (an array, or a symbolic tensor of a graph) rather
    than a plain value such as ``3.0``, ``"sum"`` or None."""
    from minired.layers.keras_tensor import KerasTensor

    return isinstance(value, np.ndarray | np.generic | KerasTensor)


class CallCache(NamedTuple):
    """What a taped call keeps for its backward pass."""

    tape: GradientTape     #: the records of the call
    inputs: Any            #: the watched inputs (the structure the call received)
    outputs: Any           #: the call's outputs, as traced arrays
    losses: list           #: the values passed to ``add_loss`` during the call


def current_training(training: bool | None) -> bool:
    """``training`` as given, or the one of the call this call runs inside (Keras passes it
    down to the layers a ``call`` uses), or False."""
    if training is not None:
        return bool(training)
    return _TRAINING[-1] if _TRAINING else False


def call_with_training(layer, inputs, training: bool):
    """``layer.call(inputs)``, with ``training=`` when its signature takes it; ``inputs`` may
    be :class:`CallArguments` (``layer.call(*args, **kwargs)``)."""
    args, kwargs = ((inputs.args, inputs.kwargs) if isinstance(inputs, CallArguments)
                    else ((inputs,), {}))
    if _accepts_training(type(layer)):
        kwargs = {**kwargs, "training": training}
    _TRAINING.append(training)
    try:
        return layer.call(*args, **kwargs)
    finally:
        _TRAINING.pop()


def run_call(layer, inputs, training: bool):
    """Run ``layer.call`` on a new tape: returns ``(outputs as plain arrays, CallCache)``."""
    with GradientTape() as tape:
        watched = (inputs.map(_watch_float) if isinstance(inputs, CallArguments)
                   else map_structure(_watch_float, inputs))
        outputs = call_with_training(layer, watched, training)
    plain = map_structure(_plain_array, outputs)
    return plain, CallCache(tape, watched, outputs, list(tape.losses))


def backward_call(layer, cache: CallCache, grad_outputs, top: int | None = None):
    """Backpropagate through a taped call: ``∂L/∂w`` added to every weight's gradient
    array, ``δx`` returned (zeros for an input the outputs do not depend on).

    The seeds are ``δa`` for each output and ``1`` for each ``add_loss`` value: the model's
    loss is ``L = loss(y, ŷ) + Σ added losses``, so ``∂L/∂(added loss) = 1``. With ``top``
    (see :func:`output_logits_record`), ``grad_outputs`` is ``δz`` of that softmax/sigmoid
    layer call instead: its ``backward_from_z`` seeds the call's inputs and weights. With
    several outputs, ``grad_outputs`` and ``top`` are lists, one entry per output (in the
    flat order of the outputs).
    """
    outputs = flatten(cache.outputs)
    grads_out = flatten(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    tops = top if isinstance(top, list) else [top] * len(outputs)
    seeds = []
    for output, grad, top_index in zip(outputs, grads_out, tops, strict=True):
        if top_index is None:
            seeds.append((output, grad))
            continue
        record_ = layer_records(cache)[top_index]
        called, called_cache = record_.call
        grads_in = isolated_backward(called, called_cache,
                                     lambda: called.backward_from_z(grad))  # noqa: B023
        seeds += list(zip(record_.inputs, grads_in, strict=True))
    seeds += [(loss, np.ones_like(np.asarray(loss))) for loss in cache.losses]
    grads = cache.tape.backward(seeds)
    for weight, gradient, _ in layer._weight_triples():
        if id(weight) in grads:
            gradient += grads[id(weight)]
    def gradient_of(x):
        if not isinstance(x, Tensor):
            return None                     # an integer input (labels, indices): no δ
        return grads.get(id(x), np.zeros(np.shape(x), np.result_type(x)))

    if isinstance(cache.inputs, CallArguments):     # one δ per tensor argument, in order
        return [gradient_of(x) for x in cache.inputs.tensors()]
    return map_structure(gradient_of, cache.inputs)


def record_layer_call(layer, inputs, training: bool, hand_written: type | None = None):
    """Run a layer with a hand-written ``forward`` inside a recording call, as one op on
    the tape whose VJP is the layer's own ``backward``.

    ``hand_written`` is the class whose ``forward``/``backward`` run (default: the
    layer's own class); a subclass that overrides ``call`` passes its built-in class here
    from ``super().call(x)`` (see :meth:`minired.layers.Layer.call`).

    The op's inputs are the layer's inputs **and its weights**: the VJP runs ``backward``
    on zeroed gradient arrays and hands the tape ``δx`` and each ``∂L/∂w`` (then puts the
    arrays back as they were), so the weights' gradients add up on the tape like any
    other, and ``tape.gradient(loss, layer.weights)`` works. The layer's cache is kept
    with the record, so a layer called twice backpropagates each call with its own cache.
    """
    # Inputs the tape does not follow yet (a constant) become leaves, so the call is recorded
    # and the layer's weights still get their gradient.
    def watch(x):
        return x if isinstance(x, Tensor) else _watch_float(x)

    if isinstance(inputs, CallArguments):    # a built-in layer taking more (attention)
        inputs = inputs.map(watch)
        flat_inputs, plain = inputs.tensors(), inputs.map(_plain_array)
    else:
        inputs = map_structure(watch, inputs)
        flat_inputs, plain = flatten(inputs), map_structure(_plain_array, inputs)
    forward, backward = ((layer.forward, layer.backward) if hand_written is None else
                         (partial(hand_written.forward, layer),
                          partial(hand_written.backward, layer)))
    outputs = forward(plain, training=training)
    cache = layer.cache
    flat_outputs = flatten(outputs)

    weights = layer.weights

    def vjp_for(index: int):
        def vjp(grad):
            grads = [None] * len(flat_outputs)
            grads[index] = grad
            return isolated_backward(layer, cache,
                                     lambda: backward(grads[0] if len(grads) == 1
                                                      else grads))
        return vjp

    recorded = [record(out, (*flat_inputs, *weights), vjp_for(i), call=(layer, cache))
                for i, out in enumerate(flat_outputs)]
    return recorded[0] if not isinstance(outputs, list | tuple) else recorded


def isolated_backward(layer, cache, run) -> tuple:
    """Run ``run()`` (the layer's ``backward`` or ``backward_from_z``) on this call's cache
    with the layer's gradient arrays zeroed, and return ``(*δx, *∂L/∂w)`` for the tape; the
    gradient arrays are then put back as they were (the tape adds the ∂L/∂w itself)."""
    layer.cache = cache
    saved = [g.copy() for g in layer.gradients]
    layer.zero_gradients()
    grad_inputs = run()
    grad_weights = [g.copy() for g in layer.gradients]
    for gradient, before in zip(layer.gradients, saved, strict=True):
        gradient[...] = before
    return (*flatten(grad_inputs), *grad_weights)


def layer_records(cache: CallCache) -> list:
    """The records of built-in layer calls on a call's tape, in order."""
    return [r for r in cache.tape.records if r.call is not None]


def output_logits_record(cache: CallCache, loss, training: bool, output=None) -> int | None:
    """The index in :func:`layer_records` of the softmax/sigmoid layer call whose logits a
    cross-entropy reads, when ``call`` returned that layer's output (maybe through an
    inactive Dropout), as Keras on TensorFlow finds it; else None. ``output``: which of
    the arrays ``call`` returned (default: the one it returned)."""
    producers = {id(r.output): r for r in cache.tape.records}
    output = cache.outputs if output is None else output
    chain, record_ = [], producers.get(id(output))
    while record_ is not None and record_.call is not None:
        chain.insert(0, record_)
        if not record_.call[0].passes_logits_through(training):
            break
        record_ = producers.get(id(record_.inputs[0]))
    found = keras_numerics.logits_call([r.call for r in chain], loss, training)
    if found is None:
        return None
    return next(i for i, r in enumerate(layer_records(cache)) if r is chain[found])


def infer_output_shape(layer, input_shape):
    """The output shape of ``layer.call`` for inputs of ``input_shape``: run it on one
    sample of zeros (no Variable changes, nothing recorded) and read the result's shape,
    with the batch axis as given.

    ``input_shape`` may also be :class:`CallArguments` whose tensors are symbolic: each
    becomes a sample of zeros of its shape and dtype, the other arguments stay."""

    def zeros(shape, dtype=None):
        return np.zeros((1, *[1 if d is None else d for d in shape[1:]]),
                        dtype=dtype or layer._float_dtype())

    if isinstance(input_shape, CallArguments):
        sample = input_shape.map(lambda tensor: zeros(tensor.shape, tensor.dtype))
        batch = input_shape.tensors()[0].shape[0]
        return _output_shapes(layer, sample, batch)
    is_shape = isinstance(input_shape, tuple) and all(
        d is None or isinstance(d, int | np.integer) for d in input_shape)
    sample = zeros(input_shape) if is_shape else map_shapes(zeros, input_shape)
    batch = (input_shape if is_shape else flatten_shapes(input_shape)[0])[0]
    return _output_shapes(layer, sample, batch)


def _output_shapes(layer, sample, batch):
    """The shape(s) of ``layer.call(sample)``, batch axis ``batch``."""
    from minired.variables import frozen_variables

    with frozen_variables():
        outputs = call_with_training(layer, sample, False)
    shapes = [(batch, *np.shape(out)[1:]) for out in flatten(outputs)]
    return shapes[0] if not isinstance(outputs, list | tuple | dict) else shapes


def map_shapes(function, shapes):
    """Apply ``function`` to each shape of a list or dict of shapes."""
    if isinstance(shapes, dict):
        return {key: map_shapes(function, value) for key, value in shapes.items()}
    if isinstance(shapes, list) or (isinstance(shapes, tuple) and shapes
                                    and isinstance(shapes[0], tuple | list)):
        return [map_shapes(function, s) for s in shapes]
    return function(shapes)


def flatten_shapes(shapes) -> list[tuple]:
    """The shapes of a list or dict of shapes, in order."""
    if isinstance(shapes, dict):
        return [s for value in shapes.values() for s in flatten_shapes(value)]
    if isinstance(shapes, list) or (isinstance(shapes, tuple) and shapes
                                    and isinstance(shapes[0], tuple | list)):
        return [s for item in shapes for s in flatten_shapes(item)]
    return [tuple(shapes)]


def inside_recording() -> bool:
    """Whether a layer is called inside a recording call (from a ``call()``)."""
    return active_tape() is not None


def _accepts_training(cls) -> bool:
    parameters = inspect.signature(cls.call).parameters
    return "training" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _watch_float(x):
    """A float array as a traced leaf; an integer one (labels, indices) stays a constant."""
    x = np.asarray(x) if not isinstance(x, np.ndarray) else x
    return as_leaf(x) if np.issubdtype(x.dtype, np.floating) else x


def _plain_array(x):
    """A call's output as a plain ndarray (the tape still holds the traced one)."""
    return x.view(np.ndarray) if isinstance(x, Tensor) else np.asarray(x)


def flatten(structure) -> list:
    """The leaves of a value, a list/tuple or a dict, in order."""
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in flatten(value)]
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(function, structure):
    """Apply ``function`` to each leaf, keeping lists, tuples and dicts."""
    if isinstance(structure, dict):
        return {key: map_structure(function, value) for key, value in structure.items()}
    if isinstance(structure, list | tuple):
        return type(structure)(map_structure(function, item) for item in structure)
    return function(structure)
