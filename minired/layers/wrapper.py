"""Wrapper: the base class of the layers that hold another layer and change how it runs."""

from __future__ import annotations

from minired.layers.layer import Layer
from minired.saving import serialization_lib


class Wrapper(Layer):
    """Abstract base class of a layer that wraps another one (Keras' ``keras.layers.Wrapper``).

    A wrapper holds ``layer`` (its weights are the wrapper's weights) and runs it in its own
    way: :class:`~minired.layers.SpectralNormalization` rescales its kernel first. The base
    class builds the wrapped layer with the wrapper's input shape, takes its output shape,
    zeroes its gradients, and writes the config: the base layer's plus ``"layer"``, the
    wrapped layer serialized. It computes nothing itself: as in Keras, calling a
    ``Wrapper`` raises NotImplementedError. A subclass writes ``call`` (the tape
    differentiates it, as for any layer of yours) or, as the built-in wrappers,
    ``forward`` and ``backward`` around ``self.layer.forward``/``self.layer.backward``.

    Args:
        layer: the layer to wrap (a minired layer).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Example:
        >>> from minired.layers import Dense
        >>> class Twice(Wrapper):                 # a wrapper that doubles the outputs
        ...     def call(self, inputs):
        ...         return 2 * self.layer(inputs)
        >>> layer = Twice(Dense(1, kernel_initializer="ones"))
        >>> layer(np.ones((1, 3))).tolist(), [w.shape for w in layer.weights]
        ([[6.0]], [(3, 1), (1,)])
    """

    def __init__(self, layer: Layer, **kwargs) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer "
                             "type. Please ensure wrapped layer is a valid Keras layer.")
        refuse_inner_activity_regularizer(type(self).__name__, layer)
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: tuple | None = None) -> None:
        """Build the wrapped layer with ``input_shape`` (if it is not built yet)."""
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        super().build(input_shape)

    def _check_call_shape(self, input_shape) -> None:
        self.layer._check_call_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self.layer.compute_output_shape(input_shape)

    def zero_gradients(self) -> None:
        """The wrapped layer zeroes its gradients, then the wrapper its own Variables'."""
        self.layer.zero_gradients()
        for variable in self._own_variables:
            variable.gradient.fill(0)

    # -- saving -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The base layer's config and ``"layer"``, the wrapped layer serialized."""
        return {**super().get_config(),
                "layer": serialization_lib.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("layer"), dict):
            config["layer"] = serialization_lib.deserialize_keras_object(config["layer"])
        return super().from_config(config)


def refuse_inner_activity_regularizer(wrapper: str, *layers: Layer) -> None:
    """Refuse a wrapped layer with an ``activity_regularizer``: Keras calls it as a layer, so
    its penalty joins the loss, but minired's wrappers run its ``forward`` directly and the
    penalty would be lost without a word. Set it on the wrapper instead."""
    for layer in layers:
        if layer is not None and layer.activity_regularizer is not None:
            raise ValueError(f"{wrapper}: the wrapped layer {layer.name!r} has an "
                             "`activity_regularizer`, which minired's wrappers do not apply; "
                             f"give it to the {wrapper} instead.")
