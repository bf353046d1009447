"""Layers: each has ``forward(inputs, training)`` and ``backward(grad_outputs)`` (or, for
your own layers, ``call``: see :class:`Layer`)."""

from minired.layers.activation import Activation
from minired.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from minired.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from minired.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from minired.layers.dense import Dense
from minired.layers.dropout import Dropout
from minired.layers.embedding import Embedding
from minired.layers.flatten import Flatten
from minired.layers.identity import Identity
from minired.layers.input_layer import Input, InputLayer
from minired.layers.lambda_layer import Lambda
from minired.layers.layer import Layer
from minired.layers.masking import Masking
from minired.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from minired.layers.normalization import BatchNormalization, LayerNormalization
from minired.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from minired.layers.preprocessing import (
    Normalization,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
)
from minired.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from minired.layers.regularization import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
)
from minired.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from minired.layers.spatial_dropout import SpatialDropout2D


def serialize(layer) -> dict:
    """``layer`` as Keras' JSON-able dict (:func:`~minired.saving.serialize_keras_object`)."""
    from minired.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    """The layer a :func:`serialize` dict describes; your classes come from
    ``custom_objects`` or the registered ones, as Keras."""
    from minired.saving.serialization_lib import deserialize_keras_object

    layer = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(layer, Layer):
        raise ValueError("`mr.layers.deserialize` was passed a `config` object that is not a "
                         f"layer. Received: {config!r}")
    return layer


__all__ = [
    "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer",
    # a function of yours as a layer
    "Lambda",
    # merging: one output from a list of inputs
    "Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract",
    "add", "average", "concatenate", "maximum", "minimum", "multiply", "subtract",
    "Dot", "dot",
    # activation layers with arguments (PReLU learns its slope)
    "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax",
    # attention
    "AdditiveAttention", "Attention", "MultiHeadAttention",
    # preprocessing: fixed transformations of the inputs
    "Normalization", "Rescaling",
    # image augmentation: random changes of each image while training
    "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom",
    # convolutional: kernels sliding over sequences and images
    "Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    # pooling: shrink the spatial axes (max, average, global)
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
    # normalization: statistics of the batch (moving averages at inference)
    "BatchNormalization", "LayerNormalization",
    # reshaping and spatial regularization
    "Reshape", "UpSampling2D", "ZeroPadding2D", "SpatialDropout2D",
    "Cropping1D", "Cropping2D", "Permute", "RepeatVector", "UpSampling1D", "ZeroPadding1D",
    # regularization without weights: noise while training, a penalty on the activity
    "ActivityRegularization", "GaussianDropout", "GaussianNoise", "Identity",
    # embedding: integer indices -> learned vectors; masking: skip the padded time steps
    "Embedding", "Masking",
    # recurrent: a cell run over the time steps of a sequence
    "GRU", "LSTM", "SimpleRNN", "Bidirectional",
    # Keras' (de)serialization of a layer's config
    "serialize", "deserialize",
]
