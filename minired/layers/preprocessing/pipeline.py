"""Pipeline: several preprocessing layers applied in turn, as one layer."""

from __future__ import annotations

import numpy as np

from minired.autodiff import layer_calls
from minired.layers.layer import Layer, takes_input_gradient
from minired.saving import serialization_lib


class Pipeline(Layer):
    """Apply ``layers`` one after the other (Keras' augmentation container).

    In formulas::

        a = layer_K(… layer_2(layer_1(x)))

    Backward: the layers' backward passes in reverse order,
    ``δx = δ_1(δ_2(… δ_K(δa)))``.

    As Keras' ``Pipeline.call(inputs, training=True)``, a plain call ``pipeline(x)``
    passes ``training=True`` to its layers (the random ones augment); inside a model,
    ``fit`` trains and ``predict`` passes ``training=False``. A layer object may appear only
    once (each keeps the cache of its own last call for the backward pass).

    Args:
        layers: a list of layers (typically the image augmentation layers).
        name: layer name.

    Example:
        >>> import minired as mr
        >>> pipeline = Pipeline([mr.layers.RandomInvert((1.0, 1.0)),
        ...                      mr.layers.Solarization(value_range=(0, 255))])
        >>> pipeline(np.array([[[[10.], [200.]]]], dtype="float32"))[0, 0, :, 0]
        array([ 10., 200.], dtype=float32)
    """

    _keras_build_config = True

    def __init__(self, layers: list, name: str | None = None) -> None:
        super().__init__(name=name)
        if not isinstance(layers, list | tuple) or not all(isinstance(layer, Layer)
                                                          for layer in layers):
            raise TypeError(f"Pipeline: `layers` must be a list of layers, got {layers!r}.")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("Pipeline: each layer may appear only once in `layers`.")
        self._pipeline_layers = list(layers)

    @property
    def layers(self) -> list:
        """The layers, in the order they are applied."""
        return self._pipeline_layers

    def __call__(self, inputs, *args, training: bool | None = None, **kwargs):
        if training is None and not layer_calls._TRAINING:
            training = True              # Keras' `call(self, inputs, training=True)` default
        return super().__call__(inputs, *args, training=training, **kwargs)

    def build(self, input_shape: tuple) -> None:
        shape = tuple(input_shape)
        for layer in self._pipeline_layers:
            if not layer.built:
                layer.build(shape)
                layer.built = True
            shape = tuple(layer.compute_output_shape(shape))
        super().build(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        for layer in self._pipeline_layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def forward(self, inputs: np.ndarray, training: bool | None = False) -> np.ndarray:
        if training is None:                 # a model called directly: Keras' default
            training = True
        outputs = inputs
        for layer in self._pipeline_layers:
            outputs = layer._forward_with_mask(outputs, training, None)
        return outputs

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True):
        """``δx`` (None with ``input_gradient=False``), and the layers' weight gradients."""
        grad = grad_outputs
        for index in reversed(range(len(self._pipeline_layers))):
            layer = self._pipeline_layers[index]
            if index == 0 and not input_gradient and takes_input_gradient(type(layer)):
                return layer.backward(grad, input_gradient=False)
            grad = layer.backward(grad)
        return grad if input_gradient else None

    def get_config(self) -> dict:
        """Keras' keys: ``layers`` (each serialized) and ``name`` only."""
        return {"layers": serialization_lib.serialize_keras_object(self._pipeline_layers),
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        layers = config.get("layers")
        if not isinstance(layers, list | tuple):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a "
                             f"list of serialized layers. Received config with layers={layers}.")
        layers = [serialization_lib.deserialize_keras_object(layer)
                  if isinstance(layer, dict) else layer for layer in layers]
        return cls(layers=layers, name=config.get("name"))
