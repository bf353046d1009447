"""Layers: each has ``forward(inputs, training)`` and ``backward(grad_outputs)`` (or, for
your own layers, ``call``: see :class:`Layer`)."""

from minired.layers.activation import Activation
from minired.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from minired.layers.attention import (
    AdditiveAttention,
    Attention,
    GroupedQueryAttention,
    GroupQueryAttention,
    MultiHeadAttention,
)
from minired.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from minired.layers.dense import Dense
from minired.layers.dropout import Dropout
from minired.layers.einsum_dense import EinsumDense
from minired.layers.embedding import Embedding
from minired.layers.flatten import Flatten
from minired.layers.identity import Identity
from minired.layers.input_layer import Input, InputLayer
from minired.layers.input_spec import InputSpec
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
from minired.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from minired.layers.pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from minired.layers.preprocessing import (
    AugMix,
    AutoContrast,
    CategoryEncoding,
    CenterCrop,
    ContrastLimitedAdaptiveHistogramEqualization,
    CutMix,
    Discretization,
    Equalization,
    HashedCrossing,
    Hashing,
    IntegerLookup,
    MaxNumBoundingBoxes,
    MelSpectrogram,
    MixUp,
    Normalization,
    Pipeline,
    RandAugment,
    RandomBrightness,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomContrast,
    RandomCrop,
    RandomElasticTransform,
    RandomErasing,
    RandomFlip,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPerspective,
    RandomPosterization,
    RandomRotation,
    RandomSaturation,
    RandomSharpness,
    RandomShear,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
    Solarization,
    STFTSpectrogram,
    StringLookup,
    TextVectorization,
)
from minired.layers.recurrent import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    ConvLSTM1D,
    ConvLSTM2D,
    ConvLSTM3D,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)
from minired.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
)
from minired.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from minired.layers.reversible_embedding import ReversibleEmbedding
from minired.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from minired.layers.spectral_normalization import SpectralNormalization
from minired.layers.time_distributed import TimeDistributed
from minired.layers.wrapper import Wrapper

# Keras' other names for the same classes: keras.layers.Convolution2D is keras.layers.Conv2D.
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
Convolution3D, Convolution3DTranspose = Conv3D, Conv3DTranspose
MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D
GlobalAvgPool3D, GlobalMaxPool3D = GlobalAveragePooling3D, GlobalMaxPooling3D


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
    "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "InputSpec", "Layer",
    "EinsumDense",
    # a function of yours as a layer
    "Lambda",
    # merging: one output from a list of inputs
    "Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract",
    "add", "average", "concatenate", "maximum", "minimum", "multiply", "subtract",
    "Dot", "dot",
    # activation layers with arguments (PReLU learns its slope)
    "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax",
    # attention
    "AdditiveAttention", "Attention", "MultiHeadAttention", "GroupQueryAttention",
    "GroupedQueryAttention",
    # preprocessing: fixed transformations of the inputs
    "Normalization", "Rescaling",
    # preprocessing: audio signals to spectrograms
    "MelSpectrogram", "STFTSpectrogram",
    # preprocessing: text, categories and image sizes
    "CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing", "Hashing",
    "IntegerLookup",
    "Resizing", "StringLookup", "TextVectorization",
    # image augmentation: random changes of each image while training
    "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
    "RandomColorDegeneration", "RandomGrayscale", "RandomHue", "RandomInvert",
    "RandomPosterization", "RandomSaturation", "RandomSharpness", "Solarization",
    "RandomShear", "RandomColorJitter", "AutoContrast", "Equalization",
    "RandomErasing", "RandomGaussianBlur", "Pipeline", "RandAugment", "MixUp", "CutMix",
    "RandomPerspective",
    "RandomTranslation", "RandomZoom",
    "RandomElasticTransform", "AugMix", "ContrastLimitedAdaptiveHistogramEqualization",
    "MaxNumBoundingBoxes",
    # convolutional: kernels sliding over sequences and images
    "Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    # pooling: shrink the spatial axes (max, average, global)
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
    # normalization: statistics of the batch (moving averages at inference)
    "BatchNormalization", "LayerNormalization",
    "GroupNormalization", "RMSNormalization", "UnitNormalization",
    # reshaping and spatial regularization
    "Reshape", "UpSampling2D", "ZeroPadding2D", "SpatialDropout2D",
    "SpatialDropout1D", "SpatialDropout3D", "AlphaDropout",
    "Cropping1D", "Cropping2D", "Permute", "RepeatVector", "UpSampling1D", "ZeroPadding1D",
    # regularization without weights: noise while training, a penalty on the activity
    "ActivityRegularization", "GaussianDropout", "GaussianNoise", "Identity",
    # embedding: integer indices -> learned vectors; masking: skip the padded time steps
    "Embedding", "Masking", "ReversibleEmbedding",
    # recurrent: a cell run over the time steps of a sequence
    "GRU", "LSTM", "SimpleRNN", "Bidirectional", "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell",
    "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    # wrappers: a layer applied to every time step; a kernel kept at spectral norm 1
    "TimeDistributed", "Wrapper", "SpectralNormalization",
    # Keras' (de)serialization of a layer's config
    "serialize", "deserialize",
    # Keras' other names for some of the classes above (the same objects)
    "Convolution1D", "Convolution2D", "Convolution1DTranspose", "Convolution2DTranspose",
    "SeparableConvolution1D", "SeparableConvolution2D", "MaxPool1D", "MaxPool2D",
    "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    # 3-D layers (volumes, videos: inputs (batch, depth, rows, cols, channels)) and aliases
    "Conv3D", "Conv3DTranspose", "MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling3D",
    "GlobalMaxPooling3D", "UpSampling3D", "ZeroPadding3D", "Cropping3D",
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
    "Convolution3D", "Convolution3DTranspose", "MaxPool3D", "AvgPool3D", "GlobalAvgPool3D",
    "GlobalMaxPool3D",
]
