"""The base class of every layer: the forward/backward contract.

A layer is a function ``a = f(x; w)`` that can also run backwards:

- ``forward(inputs, training=False)`` computes the outputs and keeps in ``self.cache`` what
  the backward pass will need (the inputs ``x``, the pre-activation ``z``, the dropout
  mask...);
- ``backward(grad_outputs)`` receives ``δa = ∂L/∂a``, reads ``self.cache``, **adds** this
  call's gradient of every weight to the array next to the weight (``kernel_gradient``
  beside ``kernel``), and returns ``δx = ∂L/∂x`` for the layer below.

Why *adds*: a model may call the same layer more than once (shared weights). Each call
leaves its own cache, which the model hands back before that call's backward, and the
weight gradient is the sum over the calls, ``∂L/∂W = Σ_calls ∂L/∂W|call``. The model
zeroes the gradients (:meth:`zero_gradients`) before each backward pass, and adds the
gradient of the penalties (``∂R/∂W``, :meth:`add_penalty_gradients`) once at the end.

``backward`` never changes a weight: the optimizer does that, so gradients can be checked.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from minired import config
from minired.layers.keras_tensor import KerasTensor
from minired.layers.node import Node, flatten_tensors
from minired.saving import serialization_lib
from minired.utils.naming import auto_name


class Layer:
    """Base layer: subclasses implement ``build``, ``forward`` and ``backward``.

    Args:
        name: the layer's name; a unique Keras-style name is made when ``None``.
        trainable: whether the optimizer updates this layer's weights.
        input_shape: shape of one sample, accepted on the first layer of a ``Sequential``
            with a warning, as Keras 3 does (prefer ``Input(shape)``).
        input_dim: the same for 1-D samples: ``input_dim=4`` means ``input_shape=(4,)``.

    Example:
        >>> layer = Layer(name="identity")
        >>> layer.name, layer.built, layer.weights
        ('identity', False, [])
    """

    #: Whether the layer is called on a list of tensors (merge layers, models with several
    #: inputs) rather than on one tensor.
    _takes_several_inputs = False

    def __init__(self, name: str | None = None, trainable: bool = True, **kwargs) -> None:
        input_shape, input_dim = kwargs.pop("input_shape", None), kwargs.pop("input_dim", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                             f"{kwargs}.")
        self.name = name if name is not None else auto_name(type(self).__name__)
        self.trainable = trainable
        self.built = False
        self.input_shape: tuple | None = None
        self.cache: Any = None
        self._inbound_nodes: list[Node] = []    # one per call on symbolic tensors
        self._outbound_nodes: list[Node] = []   # the calls that read this layer's outputs
        self._input_shape_arg = _input_shape_argument(type(self).__name__, input_shape,
                                                      input_dim)

    # -- construction -------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of shape ``input_shape`` (batch dimension first)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Return the output shape for ``input_shape``; the default keeps the shape."""
        return tuple(input_shape)

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def passes_logits_through(self, training: bool) -> bool:
        """Whether this call returns its input unchanged, so a loss can still read the
        logits of the softmax/sigmoid before it (see :mod:`minired.keras_numerics`).

        Only an inactive :class:`~minired.layers.Dropout` does; every other layer computes
        something new.
        """
        return False

    def __call__(self, inputs, training: bool = False):
        """Run the layer on arrays, or add it to a graph when called on symbolic tensors.

        On arrays (one, or a list for a merge layer): build on first use, then ``forward``.
        On :class:`~minired.layers.keras_tensor.KerasTensor` (from ``mr.Input``): build on
        first use, check the shapes, record a :class:`~minired.layers.node.Node` and return
        symbolic outputs of shape ``compute_output_shape(...)``; nothing is computed.
        """
        if any(isinstance(t, KerasTensor) for t in flatten_tensors(inputs)):
            return self._symbolic_call(inputs)
        inputs = map_arrays(self._cast_input, inputs)
        shapes = map_arrays(lambda a: (None, *a.shape[1:]), inputs)
        if not self.built:
            self.build(shapes)
        else:
            self._check_call_shape(shapes)
        return self.forward(inputs, training=training)

    def _cast_input(self, array) -> np.ndarray:
        array = np.asarray(array)
        if np.issubdtype(array.dtype, np.floating):
            # Keras autocasts floating inputs to the layer's dtype (float64 -> float32).
            array = array.astype(self._float_dtype(), copy=False)
        return array

    def _symbolic_call(self, inputs):
        """``layer(tensor)`` in a functional model: build, check, record the node."""
        if not all(isinstance(t, KerasTensor) for t in flatten_tensors(inputs)):
            raise TypeError(f"Layer {self.name!r} was called on a mix of symbolic tensors and "
                            "arrays: call it on the outputs of mr.Input and of other layers "
                            "only.")
        if isinstance(inputs, list | tuple | dict) and not self._takes_several_inputs:
            count = len(flatten_tensors(inputs))
            raise ValueError(f"Layer {self.name!r} expects 1 input, but it received {count} "
                             f"input tensor{'s' * (count != 1)} in a {type(inputs).__name__}: "
                             "call it on one tensor, e.g. layer(x).")
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        shapes = map_arrays(lambda t: t.shape, inputs)
        if not self.built:
            self.build(shapes)
        else:
            self._check_call_shape(shapes)
        output_shape = self.compute_output_shape(shapes)
        dtype = str(self._float_dtype())
        if isinstance(output_shape, list):      # several outputs (a model used as a layer)
            outputs = [KerasTensor(s, dtype) for s in output_shape]
        else:
            outputs = KerasTensor(output_shape, dtype)
        Node(self, inputs, outputs)
        return outputs

    def _check_call_shape(self, input_shape) -> None:
        """Refuse inputs this built layer cannot take (Keras' ``input_spec``); the base layer
        takes any shape, layers with weights check the axes their weights depend on."""

    @property
    def input(self):
        """The symbolic input of the layer's first call (a list for several inputs)."""
        return self._node_attribute("input_tensors", "input")

    @property
    def output(self):
        """The symbolic output of the layer's first call, e.g. for feature extraction:
        ``mr.Model(model.inputs, model.get_layer("hidden").output)``."""
        return self._node_attribute("outputs", "output")

    def _node_attribute(self, attribute: str, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer {self.name!r} has never been called on a symbolic "
                                 f"tensor and thus has no defined {what}.")
        values = getattr(self._inbound_nodes[0], attribute)
        return values[0] if len(values) == 1 else values

    # -- weights ------------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """The layer's weight arrays (the arrays themselves, not copies), in Keras order."""
        return [w for w, _, _ in self._weight_triples()]

    @property
    def gradients(self) -> list[np.ndarray]:
        """∂L/∂w for each array of :attr:`weights`, in the same order, summed since the last
        :meth:`zero_gradients`."""
        return [g for _, g, _ in self._weight_triples()]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return self.weights if self.trainable else []

    @property
    def trainable_gradients(self) -> list[np.ndarray]:
        """The gradients of :attr:`trainable_weights`, in the same order."""
        return self.gradients if self.trainable else []

    @property
    def losses(self) -> list[float]:
        """Penalties ``R(w)`` this layer adds to the loss (regularizers), on the current
        weights."""
        return [r(w) for w, _, r in self._weight_triples() if r is not None]

    def _weight_triples(self) -> list[tuple[np.ndarray, np.ndarray, Any]]:
        """``(weight, its gradient, its regularizer or None)`` for every weight array."""
        return []

    def zero_gradients(self) -> None:
        """Set every ∂L/∂w to 0: the start of a backward pass."""
        for gradient in self.gradients:
            gradient.fill(0)

    def add_penalty_gradients(self) -> None:
        """``∂L/∂w += ∂R/∂w`` for each regularized weight: once per backward pass, however
        many times the layer was called (the penalty is in the loss once)."""
        for weight, gradient, regularizer in self._weight_triples():
            if regularizer is not None:
                gradient += regularizer.gradient(weight)

    def get_weights(self) -> list[np.ndarray]:
        """Return copies of the weights."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Copy ``weights`` into the layer's arrays in place (the optimizer keeps its state)."""
        assign_weights(self.weights, weights, f"set_weights on layer {self.name!r}")

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def _float_dtype(self) -> np.dtype:
        return config.dtype()

    # -- saving (Keras' config format: see minired.saving) --------------------------------
    #: Whether the config records the shape the layer was built with (Keras' build_config).
    #: None: when the class defines its own ``build``, as Keras decides.
    _keras_build_config: bool | None = None

    def get_config(self) -> dict:
        """The constructor arguments, with Keras' keys: ``Dense.from_config(d.get_config())``
        makes a layer like ``d`` (new weights). ``dtype`` is Keras' dtype policy."""
        return {"name": self.name, "trainable": self.trainable,
                "dtype": serialization_lib.dtype_policy(self._float_dtype())}

    @classmethod
    def from_config(cls, config: dict):
        """Create a layer from :meth:`get_config`'s output (minired's or Keras')."""
        config = serialization_lib.strip_keras_only(cls, "layers", dict(config))
        check_dtype_policy(config.pop("dtype", None), cls.__name__)
        config = {key: serialization_lib._deserialize(value)
                  if serialization_lib.is_serialized_object(value) else value
                  for key, value in config.items()}
        return cls(**config)

    def get_build_config(self) -> dict | None:
        """``{"input_shape": ...}``, the shape the layer was built with, or None."""
        writes = self._keras_build_config
        if writes is None:
            writes = type(self).build is not Layer.build
        if not writes or not self.built or self.input_shape is None:
            return None
        return {"input_shape": self.input_shape}

    def build_from_config(self, config: dict) -> None:
        """Build (create the weights) from :meth:`get_build_config`'s output."""
        shape = serialization_lib.shape_from_json(config.get("input_shape"))
        if shape is not None:
            self.build(shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def check_dtype_policy(policy, owner: str) -> None:
    """Refuse a saved dtype other than minired's floatx: minired computes every layer in
    ``mr.config.floatx()``, so a float64 model needs ``mr.config.set_floatx("float64")``."""
    name = policy.get("config", {}).get("name") if isinstance(policy, dict) else policy
    if name is not None and name != config.floatx():
        raise ValueError(f"{owner}: the file computes in {name!r}, but mr.config.floatx() is "
                         f"{config.floatx()!r}. Call mr.config.set_floatx({name!r}) before "
                         "loading (minired runs every layer in floatx; mixed precision is not "
                         "available).")


def _input_shape_argument(cls_name: str, input_shape, input_dim) -> tuple | None:
    """Keras 3 still accepts ``input_shape``/``input_dim`` on a layer, with a warning."""
    if input_dim is not None:
        input_shape = (input_dim,)
    if input_shape is None:
        return None
    if isinstance(input_shape, int | np.integer):
        input_shape = (input_shape,)
    if not isinstance(input_shape, tuple | list) or not all(
            isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0
            for d in input_shape):
        raise ValueError(f"{cls_name}: `input_shape` must be a tuple of positive ints "
                         f"(one sample's shape, e.g. (4,)), got {input_shape!r}.")
    warnings.warn(
        "Do not pass an `input_shape`/`input_dim` argument to a layer. When using "
        "Sequential models, prefer using an `Input(shape)` object as the first layer in "
        "the model instead.", UserWarning, stacklevel=4)
    return tuple(int(d) for d in input_shape)


def map_arrays(function, structure):
    """Apply ``function`` to each leaf of a value, a list/tuple (as a list) or a dict."""
    if isinstance(structure, dict):
        return {key: map_arrays(function, value) for key, value in structure.items()}
    if isinstance(structure, list | tuple):
        return [map_arrays(function, item) for item in structure]
    return function(structure)


def assign_weights(targets: list[np.ndarray], values, caller: str) -> None:
    """Check ``values`` against ``targets`` (count, then every shape), then copy them in place.

    Nothing is written unless everything fits, so a bad call leaves the weights as they were.
    """
    if not isinstance(values, list | tuple) or len(values) != len(targets):
        got = len(values) if isinstance(values, list | tuple) else type(values).__name__
        raise ValueError(
            f"{caller}: `weights` must be a list of {len(targets)} arrays "
            f"(shapes {[t.shape for t in targets]}), got {got}."
        )
    values = [np.asarray(v) for v in values]
    for i, (target, value) in enumerate(zip(targets, values, strict=True)):
        if value.shape != target.shape:
            raise ValueError(
                f"{caller}: weight {i} must have shape {target.shape}, got {value.shape}."
            )
    for target, value in zip(targets, values, strict=True):
        target[...] = value
