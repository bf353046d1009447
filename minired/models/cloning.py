"""clone_model: the same architecture with new weights, as ``keras.models.clone_model``.

Each layer is copied by ``clone_function(layer)``, by default
``layer.__class__.from_config(layer.get_config())``: the same arguments, new weights (drawn
again by the initializers). The graph is then replayed call by call on new inputs, so a
shared layer stays shared and a model used as a layer is cloned in turn. Copy the weights
yourself if you want them: ``clone.set_weights(model.get_weights())``.

Your own layers need no registration here: the configs are read with the model's own
classes (and functions) at hand, as if passed in ``custom_objects``.
"""

from __future__ import annotations

import types

from minired.autodiff.layer_calls import CallArguments
from minired.layers.input_layer import InputLayer
from minired.layers.layer import Layer, map_arrays
from minired.layers.node import flatten_tensors
from minired.saving import object_registration, serialization_lib


def _default_clone(layer):
    return layer.__class__.from_config(layer.get_config())


def own_objects(model) -> dict:
    """``{name in a file: class or function}`` for your classes among ``model``'s layers
    (and their sublayers), the objects their attributes hold (a regularizer, an
    activation...), the model's own class and the losses and metrics it was compiled with:
    what reading its config (and its compile config) back may need."""
    found: dict[str, object] = {}
    seen: set[int] = set()

    def add(value) -> None:
        if isinstance(value, types.FunctionType) or hasattr(value, "get_config"):
            key = value if isinstance(value, types.FunctionType) else type(value)
            if not key.__module__.startswith("minired."):      # minired's are found anyway
                found.setdefault(object_registration.get_registered_name(key), key)
        if isinstance(value, Layer) and id(value) not in seen:
            seen.add(id(value))
            for attribute in list(vars(value).values()):
                for item in attribute if isinstance(attribute, list | tuple) else [attribute]:
                    add(item)

    def add_compile_argument(value) -> None:
        for item in value.values() if isinstance(value, dict) else (
                value if isinstance(value, list | tuple) else [value]):
            if isinstance(item, dict | list | tuple):
                add_compile_argument(item)
            else:
                add(item)

    add(model)
    add_compile_argument(getattr(model, "_compile_arguments", None) or {})
    return found


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive: bool = False, **kwargs):
    """Return a new model with ``model``'s architecture and new weights; a compiled
    ``model`` gives a clone compiled the same way (from its compile config: a new optimizer,
    new metrics), as Keras does.

    Args:
        model: a Sequential or functional model.
        input_tensors: optional symbolic inputs (from ``mr.Input``) to build the clone on.
        clone_function: ``layer -> new layer``; default: from the layer's config.
        call_function: ``(layer, inputs) -> outputs``, to change how a layer is called.
        recursive: clone models used as layers layer by layer with ``clone_function`` too
            (default: such a model is cloned whole, by ``clone_function``).

    Example:
        >>> clone = mr.models.clone_model(model)
        >>> [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
        True
    """
    from minired.models.functional import Functional

    if kwargs:
        raise ValueError(f"clone_model: unexpected arguments {sorted(kwargs)}.")
    if not isinstance(model, Functional):
        raise ValueError("clone_model: `model` must be a Sequential or functional model, got "
                         f"{type(model).__name__}.")
    with serialization_lib.deserialization_scope(own_objects(model)):
        clone = _clone(model, input_tensors, clone_function, call_function, recursive)
        if model.compiled:     # as Keras: compiled the same way, with a new optimizer
            clone.compile_from_config(model.get_compile_config())
    return clone


def _clone(model, input_tensors, clone_function, call_function, recursive: bool):
    from minired.models.functional import Functional, functional_like_constructor
    from minired.models.sequential import Sequential

    if (clone_function is None and call_function is None and input_tensors is None
            and (isinstance(model, Sequential) or functional_like_constructor(type(model)))):
        return type(model).from_config(model.get_config())
    clone = clone_function or _default_clone
    clones: dict[int, object] = {}

    def cloned(layer):
        if id(layer) not in clones:
            if recursive and isinstance(layer, Functional):
                clones[id(layer)] = clone_model(layer, clone_function=clone_function,
                                                call_function=call_function, recursive=True)
            else:
                clones[id(layer)] = clone(layer)
        return clones[id(layer)]

    def call(layer, inputs):
        return call_function(layer, inputs) if call_function else layer(inputs)

    if isinstance(model, Sequential):
        if not model.built:
            return Sequential([cloned(layer) for layer in model.layers], name=model.name)
        inputs = input_tensors
        if inputs is None:
            inputs = InputLayer.from_config(model._input_layer.get_config()).output_tensor
        outputs = inputs
        for layer in model.layers:
            outputs = call(cloned(layer), outputs)
        result = Sequential(name=model.name, trainable=model.trainable)
        result._init_graph(inputs, outputs)     # the clone is this graph
        result._layers = [cloned(layer) for layer in model.layers]
        result._input_layer = flatten_tensors(inputs)[0]._keras_history.operation
        return result

    tensors: dict[int, object] = {}
    if input_tensors is None:
        new_inputs = [InputLayer.from_config(t._keras_history.operation.get_config())
                      .output_tensor for t in model.inputs]
    else:
        new_inputs = flatten_tensors(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(f"clone_model: the model has {len(model.inputs)} inputs, but "
                             f"{len(new_inputs)} input_tensors were given.")
    tensors.update(zip(map(id, model.inputs), new_inputs, strict=True))
    for node in model._nodes:
        arguments = map_arrays(lambda t: tensors[id(t)], node.call_arguments)
        if isinstance(arguments, CallArguments):    # layer(x, initial_state=...), attention
            layer = cloned(node.operation)
            outputs = (call_function(layer, *arguments.args, **arguments.kwargs)
                       if call_function else layer(*arguments.args, **arguments.kwargs))
        else:
            outputs = call(cloned(node.operation), arguments)
        tensors.update(zip(map(id, node.outputs), flatten_tensors(outputs), strict=True))
    inputs_struct = map_arrays(lambda t: tensors[id(t)], model._inputs_struct)
    outputs_struct = map_arrays(lambda t: tensors[id(t)], model._outputs_struct)
    # As Keras: a subclass whose __init__ builds its own graph clones as a Functional.
    model_cls = type(model) if functional_like_constructor(type(model)) else Functional
    return model_cls(inputs_struct, outputs_struct, name=model.name,
                     trainable=model.trainable)
