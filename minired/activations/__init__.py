"""Activation functions by Keras name: ``mr.activations.get("relu")``.

Each function ``f`` has its backward pass attached as ``f.backward(z, a, δa) -> δz`` (with
the same keyword arguments as ``f``, e.g. ``relu.backward(z, a, δa, max_value=6.0)``).
:func:`backward_reads_output` says whether that backward reads ``a`` (relu's does not).
A function of yours needs no backward: :func:`get` gives it one from the tape
(:func:`~minired.activations.custom.with_tape_backward`).

The files: ``activations.py`` holds the six of lesson 3 (linear, relu, sigmoid, tanh,
softmax, log_softmax); ``rectifiers.py`` relu's relatives (leaky_relu, relu6, elu, selu);
``smooth.py`` softplus, softsign, silu, gelu, mish, exponential; ``hard.py`` hard_sigmoid,
hard_silu and hard_tanh; ``shrink.py`` hard_shrink, soft_shrink, tanh_shrink and threshold;
``sparse.py`` sparse_plus, sparse_sigmoid and sparsemax (celu sits in ``rectifiers.py``,
log_sigmoid, squareplus and glu in ``smooth.py``); ``custom.py`` the wrapper that
differentiates a function of yours with the tape.
"""

from __future__ import annotations

from collections.abc import Callable

from minired.activations import custom
from minired.activations.activations import (
    backward_reads_output,
    linear,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from minired.activations.hard import hard_sigmoid, hard_silu, hard_tanh
from minired.activations.rectifiers import celu, elu, leaky_relu, relu6, selu
from minired.activations.shrink import hard_shrink, soft_shrink, tanh_shrink, threshold
from minired.activations.smooth import (
    exponential,
    gelu,
    glu,
    log_sigmoid,
    mish,
    silu,
    softplus,
    softsign,
    squareplus,
)
from minired.activations.sparse import sparse_plus, sparse_sigmoid, sparsemax
from minired.utils.naming import lookup

#: The activations of lesson 3, by name (the lesson's exercise loops over them).
ALL_ACTIVATIONS = {fn.__name__: fn for fn in (linear, relu, sigmoid, tanh, softmax, log_softmax)}
#: The rest of Keras' catalog that minired implements, by name.
MORE_ACTIVATIONS = {fn.__name__: fn for fn in (
    leaky_relu, relu6, elu, selu, softplus, softsign, silu, gelu, hard_sigmoid, hard_silu,
    exponential, mish)}
#: The activations Keras 3 added later, by name. ``threshold`` needs its two arguments and
#: ``glu`` halves the last axis; ``sparsemax`` follows the paper where Keras 3.15 errs.
NEWER_ACTIVATIONS = {fn.__name__: fn for fn in (
    celu, glu, hard_shrink, hard_tanh, log_sigmoid, soft_shrink, sparse_plus, sparse_sigmoid,
    sparsemax, squareplus, tanh_shrink, threshold)}
#: Keras' other names for two of them. :func:`get` accepts the names of all four tables.
ALIASES = {"swish": silu, "hard_swish": hard_silu}

swish = silu            # Keras' other name for it: keras.activations.swish is silu
hard_swish = hard_silu  # and keras.activations.hard_swish is hard_silu


def get(identifier: str | dict | Callable | None) -> Callable:
    """Return the activation function for a Keras name, a function, a serialized function
    (a dict, see :func:`serialize`) or ``None`` (linear).

    A built-in activation comes back as it is, with its hand-written ``backward``. Any other
    callable (a function of yours, ``mr.ops.tanh``, ``np.tanh``, a layer) comes back wrapped
    by :func:`~minired.activations.custom.with_tape_backward`: the same forward, and a
    backward from the tape. A function that carries its own ``f.backward(z, a, δa)`` is
    used as it is.

    Example:
        >>> get("relu").__name__, get("swish").__name__
        ('relu', 'silu')
        >>> def squared(x):
        ...     return x ** 2
        >>> f = get(squared)
        >>> f.__wrapped__ is squared, f.backward(np.array([3.0]), None, np.array([1.0]))
        (True, array([6.]))
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return lookup("activation", identifier, _by_name())
    if isinstance(identifier, dict):
        return get(deserialize(identifier))
    if callable(identifier):
        if _has_own_backward(identifier):
            return identifier
        _refuse_a_layer_with_weights(identifier)
        return custom.with_tape_backward(identifier)
    raise TypeError(
        "`activation` must be a string, a function or None, "
        f"got {type(identifier).__name__}: {identifier!r}."
    )


def _by_name() -> dict[str, Callable]:
    """Every name :func:`get` knows (read from the tables at each call, so a test that
    plants a wrong function in one of them is heard)."""
    return {**ALL_ACTIVATIONS, **MORE_ACTIVATIONS, **NEWER_ACTIVATIONS, **ALIASES}


def _refuse_a_layer_with_weights(fn: Callable) -> None:
    """A layer with weights (``PReLU``) given as an activation: its weights would never be
    trained here (Keras tracks them), so it must be a layer of the model instead."""
    from minired.layers.layer import Layer

    if isinstance(fn, Layer) and (fn.weights or (
            not fn.built and type(fn).build is not Layer.build)):
        raise ValueError(
            f"activation: the layer {fn.name!r} ({type(fn).__name__}) has weights, which "
            "nothing would train when it is used as an activation. Add it to the model as a "
            f"layer after this one instead (e.g. Dense(units), then {type(fn).__name__}()).")


def _has_own_backward(fn: Callable) -> bool:
    """Whether ``fn`` carries ``fn.backward(z, a, δa)``: minired's functions do, and the
    wrappers :func:`get` makes. A layer's ``backward(δa)`` is another contract."""
    from minired.layers.layer import Layer

    return callable(getattr(fn, "backward", None)) and not isinstance(fn, Layer)


def serialize(activation: Callable) -> str | dict:
    """The activation as Keras writes it: the name of a built-in one (an alias gives the
    main name), else the serialized function (a dict, from
    :func:`~minired.saving.serialize_keras_object`).

    Example:
        >>> serialize(relu), serialize(swish)
        ('relu', 'silu')
    """
    from minired.saving import serialization_lib

    return serialization_lib.serialize_activation(activation)    # unwraps a function of yours


def deserialize(config: str | dict, custom_objects: dict | None = None) -> Callable:
    """The activation function :func:`serialize` wrote: a Keras name or a serialized function
    (found among minired's activations, the registered objects or ``custom_objects``).

    Example:
        >>> deserialize("relu") is relu
        True
    """
    if isinstance(config, str):
        return lookup("activation", config, {**_by_name(), **(custom_objects or {})})
    if not isinstance(config, dict):
        raise TypeError("`config` must be an activation name or a serialized function (a "
                        f"dict), got {type(config).__name__}: {config!r}.")
    from minired.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects)


__all__ = ["get", "serialize", "deserialize", "backward_reads_output", "linear", "relu", "sigmoid",
           "tanh", "softmax", "log_softmax", "leaky_relu", "relu6", "elu", "selu", "softplus",
           "softsign", "silu", "swish", "gelu", "hard_sigmoid", "hard_silu", "hard_swish",
           "exponential", "mish", "celu", "glu", "hard_shrink", "hard_tanh", "log_sigmoid",
           "soft_shrink", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
           "tanh_shrink", "threshold"]
