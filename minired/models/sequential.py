"""Sequential: a stack of layers, run forwards to predict and backwards to learn."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.layers.input_layer import InputLayer
from minired.layers.keras_tensor import KerasTensor
from minired.layers.layer import Layer
from minired.models.functional import Functional
from minired.models.model import Model


class Sequential(Functional):
    """A model that feeds each layer's output to the next: the simplest graph, a line.

    Notation (as in the course, docs/README.md): ``K`` layers numbered ``k = 1..K`` (``L`` is
    the loss), and ``δv = ∂L/∂v`` for any array ``v``: ``δa``, ``δz``, ``δx``.

    Forward: ``a⁰ = x``, ``aᵏ = layerᵏ(aᵏ⁻¹)``, ``ŷ = aᴷ``.

    Backward (backpropagation): start from ``δaᴷ = ∂L/∂ŷ`` and walk the layers in reverse,
    ``δaᵏ⁻¹ = δxᵏ = layerᵏ.backward(δaᵏ)``; each layer adds its weight gradients on the way.

    Once it knows its input shape, a Sequential calls its layers one after the other on an
    ``Input`` and becomes a :class:`~minired.models.functional.Functional` model with that
    graph: forward, backward and training are the graph's. That graph is a chain, so its two
    passes are the two loops above (``Functional._forward_chain`` and ``_backward_chain``),
    not the general walk of a graph. The same layer object may appear
    twice (shared weights): each call backpropagates with its own inputs, and the weight
    gradient is the sum of both, ``∂L/∂W = Σ_calls xᵀ δz``, as in Keras.

    Args:
        layers: a list of layers; it may start with ``mr.Input(shape)``.
        name: model name.
        trainable: whether the optimizer updates the weights.

    Example:
        >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
        ...                        mr.layers.Dense(3)])
        >>> model.predict(np.zeros((2, 4)), verbose=0).shape
        (2, 3)
    """

    def __init__(self, layers: list[Layer] | None = None, name: str | None = None,
                 trainable: bool = True) -> None:
        self._layers: list[Layer] = []
        Model.__init__(self, name=name, trainable=trainable)
        self._input_layer: InputLayer | None = None
        self.built = False
        if layers is not None and not isinstance(layers, list | tuple):
            raise TypeError(f"Sequential: `layers` must be a list of layers, got {layers!r}.")
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # -- structure ----------------------------------------------------------------------------
    def add(self, layer: Layer, rebuild: bool = True) -> None:
        """Append a layer; an ``Input`` (or a first layer given ``input_shape``) fixes the input
        shape and builds the model.

        The same layer object may be added more than once: its weights are shared, and its
        gradient is the sum over its calls, as in Keras.
        """
        if isinstance(layer, KerasTensor):      # mr.Input(...) gives its InputLayer's tensor
            layer = layer._keras_history.operation
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: `layer` must be a minired Layer, got {layer!r}.")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Sequential.add: an Input can only be the first layer.")
            self._input_layer = layer
            return
        if not self._layers and self._input_layer is None and layer._input_shape_arg is not None:
            self._input_layer = InputLayer(layer._input_shape_arg)   # Dense(8, input_shape=(4,))
        self._layers.append(layer)
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove the last layer and return it.

        Example:
            >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8), mr.layers.Dense(3)])
            >>> model.pop().units, model.output_shape
            (3, (None, 8))
        """
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self) -> None:
        if self._input_layer is not None and self._layers:
            self.build(self._input_layer.batch_shape)

    def build(self, input_shape=None) -> None:
        """Call every layer, in order, on an ``Input`` of ``input_shape`` (batch first): the
        layers create their weights and the model becomes that graph.

        Example:
            >>> model = mr.Sequential([mr.layers.Dense(3)])
            >>> model.build((None, 4))
            >>> model.layers[0].kernel.shape
            (4, 3)
        """
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("build: give `input_shape`, e.g. model.build((None, 4)).")
            input_shape = self._input_layer.batch_shape
        shape = tuple(input_shape)
        if len(shape) < 2:
            raise ValueError(
                f"build: `input_shape` must include the batch dimension, e.g. (None, 4); "
                f"got {shape}."
            )
        if not self._layers:
            raise ValueError("The model has no layers: add some before using it.")
        if self._input_layer is None or self._input_layer.batch_shape != shape:
            self._input_layer = InputLayer(batch_shape=shape)
        inputs = outputs = self._input_layer.output_tensor
        for layer in self._layers:
            outputs = layer(outputs)
        self._init_graph(inputs, outputs)

    @property
    def layers(self) -> list[Layer]:
        """The layers, in order (without the Input; a layer added twice is listed twice)."""
        return list(self._layers)

    @property
    def unique_layers(self) -> list[Layer]:
        """The layers, each once (a layer added twice shares its weights), in order."""
        unique = {id(layer): layer for layer in reversed(self._layers)}
        return [layer for layer in self._layers if unique.pop(id(layer), None) is not None]

    @property
    def input(self):
        """As in Keras, the input of the model's first call as a layer inside another model
        (its own graph's input is ``inputs[0]``)."""
        return Layer.input.fget(self)

    @property
    def output(self):
        """As in Keras, the output of the model's first call as a layer inside another model,
        e.g. ``mr.Model(outer.inputs, outer.get_layer("sequential").output)`` (its own graph's
        output is ``outputs[0]``)."""
        return Layer.output.fget(self)

    @property
    def output_keys(self) -> list[str]:
        return [self._layers[-1].name] if self._layers else ["output"]

    @property
    def input_shape(self):
        if self.built:
            return self.inputs[0].shape
        return None if self._input_layer is None else self._input_layer.batch_shape

    @input_shape.setter
    def input_shape(self, value) -> None:
        pass

    def compute_output_shape(self, input_shape):
        if self.built:
            return super().compute_output_shape(input_shape)
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights in Keras order: each Dense gives kernel (in, out), then bias."""
        self._require_built("get_weights")
        return super().get_weights()

    def set_weights(self, weights: list) -> None:
        """Copy ``weights`` (in :meth:`get_weights` order) into the model, in place."""
        self._require_built("set_weights")
        super().set_weights(weights)

    def _require_built(self, method: str) -> None:
        if not self.built:
            raise ValueError(
                f"{method}: the model is not built yet. Start it with an Input layer, "
                "call model.build(input_shape), or call fit/predict once."
            )

    # -- input checks -------------------------------------------------------------------------
    def _prepare_x(self, x, argument: str, allow_empty: bool = True, method: str = "fit"):
        """Build from the first data seen (a Sequential without ``Input``), then check ``x``."""
        if not self.built and x is not None:
            if not self._layers:
                raise ValueError("The model has no layers: add some before using it.")
            first = x[0] if isinstance(x, list | tuple) and x and all(
                isinstance(a, np.ndarray) for a in x) else x
            if not isinstance(x, dict):
                try:
                    with np.errstate(over="ignore"):
                        shape = np.asarray(first, dtype=config.floatx()).shape
                except (TypeError, ValueError):
                    shape = None
                if shape is not None and len(shape) >= 2:
                    self.build((None, *shape[1:]))
                elif shape is not None:
                    hint = ("For one sample use x[None]; for one feature per sample use "
                            "x.reshape(-1, 1).")
                    raise ValueError(f"`{argument}` must have shape (samples, features...), "
                                     f"got shape {shape}. {hint}")
        if isinstance(x, dict):
            raise TypeError(f"{method}: `{argument}` must be an array; a dict of inputs needs a "
                            "model with named inputs, which Sequential does not have.")
        return super()._prepare_x(x, argument, allow_empty, method)

    # -- saving (Keras' config format: see minired.saving) ------------------------------------
    def get_config(self) -> dict:
        """Keras' Sequential config: the layers in order (the Input first, when there is
        one) and the input shape the model was built with."""
        from minired import dtype_policies
        from minired.saving import serialization_lib

        layers = ([self._input_layer] if self._input_layer is not None else []) + self._layers
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policies.serialize(self.dtype_policy),
                  "layers": [serialization_lib.serialize_keras_object(layer)
                             for layer in layers]}
        if self.built:
            config["build_input_shape"] = list(self._input_layer.batch_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        """Rebuild a Sequential from :meth:`get_config` (minired's or Keras'), new weights."""
        from minired.layers.layer import check_dtype_policy
        from minired.saving import serialization_lib

        check_dtype_policy(config.get("dtype"), cls.__name__)
        with serialization_lib.deserialization_scope(custom_objects):
            model = cls(name=config.get("name"), trainable=config.get("trainable", True))
            for layer_config in config.get("layers", []):
                layer = serialization_lib._deserialize(layer_config)
                if not isinstance(layer, Layer):
                    raise ValueError(f"Sequential.from_config: {layer_config.get('class_name')!r}"
                                     " is not a layer.")
                model.add(layer, rebuild=False)
            model._maybe_rebuild()
            shape = config.get("build_input_shape")
            if not model.built and shape:
                model.build(serialization_lib.shape_from_json(shape))
        return model

    def get_build_config(self) -> dict | None:
        return {"input_shape": list(self._input_layer.batch_shape)} if self.built else None

    def build_from_config(self, config: dict) -> None:
        from minired.saving import serialization_lib

        shape = serialization_lib.shape_from_json(config.get("input_shape"))
        if shape is not None and not self.built:
            self.build(shape)
