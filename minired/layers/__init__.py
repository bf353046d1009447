"""Layers: each has ``forward(inputs, training)`` and ``backward(grad_outputs)``."""

from minired.layers.activation import Activation
from minired.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from minired.layers.dense import Dense
from minired.layers.dropout import Dropout
from minired.layers.flatten import Flatten
from minired.layers.input_layer import Input, InputLayer
from minired.layers.layer import Layer
from minired.layers.merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from minired.layers.preprocessing import Normalization, Rescaling

__all__ = [
    "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer",
    # merging: one output from a list of inputs
    "Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract",
    "add", "average", "concatenate", "maximum", "minimum", "multiply", "subtract",
    # activation layers with arguments (PReLU learns its slope)
    "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax",
    # preprocessing: fixed transformations of the inputs
    "Normalization", "Rescaling",
]
