"""Layers: each has ``forward(inputs, training)`` and ``backward(grad_outputs)``."""

from minired.layers.activation import Activation
from minired.layers.dense import Dense
from minired.layers.dropout import Dropout
from minired.layers.flatten import Flatten
from minired.layers.input_layer import Input, InputLayer
from minired.layers.layer import Layer

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer"]
