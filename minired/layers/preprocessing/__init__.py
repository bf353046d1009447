"""Preprocessing layers: fixed transformations of the inputs, inside the model.

``Normalization`` standardizes each feature with a mean and variance learned by ``adapt``
(or given); ``Rescaling`` multiplies and shifts (``x / 255``). Neither has trainable
weights, and both backpropagate, so they can sit anywhere in a model.

The image augmentation layers (``RandomFlip``, ``RandomRotation``, ``RandomZoom``,
``RandomTranslation``, ``RandomContrast``, ``RandomBrightness``, ``RandomShear``; the colour
ones ``RandomGrayscale``, ``RandomHue``, ``RandomSaturation``, ``RandomColorDegeneration``,
``RandomSharpness``, ``RandomInvert``, ``RandomPosterization``, ``Solarization``,
``RandomColorJitter``; ``RandomErasing``, ``RandomGaussianBlur``, ``RandomPerspective``,
``MixUp``, ``CutMix``; the
containers ``Pipeline`` and ``RandAugment``; most in Keras' two steps
``get_random_transformation``/``transform_images``) change each image at random
while training (``fit``) and are the identity at inference (``RandomCrop`` crops at random
while training and, as Keras 3, returns its input uncropped at inference; ``AutoContrast``
applies at inference too, as Keras'; ``Equalization`` equalizes while training); the geometric ones
share the
resampling of :mod:`~minired.layers.preprocessing.image_transform`.

Text and categories: ``TextVectorization`` (sentences to token indices or bag-of-words
vectors), ``StringLookup`` and ``IntegerLookup`` (tokens to vocabulary indices, on the
shared ``IndexLookup``), ``CategoryEncoding`` (indices to one-hot/multi-hot/count) and
``Discretization`` (numbers to buckets), ``Hashing`` (values to buckets by TensorFlow's
FarmHash fingerprint); their vocabularies and boundaries come from
``adapt`` or are given. Image sizes: ``Resizing`` and ``CenterCrop`` (with backward passes).

Audio: ``STFTSpectrogram`` (the short-time Fourier transform as a strided convolution with
trainable cosine and sine kernels) and ``MelSpectrogram`` (STFT, power, mel filter bank,
decibels; no weights), both with backward passes.
"""

from minired.layers.preprocessing.aug_mix import AugMix
from minired.layers.preprocessing.auto_contrast import AutoContrast
from minired.layers.preprocessing.category_encoding import CategoryEncoding
from minired.layers.preprocessing.center_crop import CenterCrop
from minired.layers.preprocessing.contrast_limited_adaptive_histogram_equalization import (
    ContrastLimitedAdaptiveHistogramEqualization,
)
from minired.layers.preprocessing.cut_mix import CutMix
from minired.layers.preprocessing.discretization import Discretization
from minired.layers.preprocessing.equalization import Equalization
from minired.layers.preprocessing.hashed_crossing import HashedCrossing
from minired.layers.preprocessing.hashing import Hashing
from minired.layers.preprocessing.integer_lookup import IntegerLookup
from minired.layers.preprocessing.max_num_bounding_boxes import MaxNumBoundingBoxes
from minired.layers.preprocessing.mel_spectrogram import MelSpectrogram
from minired.layers.preprocessing.mix_up import MixUp
from minired.layers.preprocessing.normalization import Normalization
from minired.layers.preprocessing.pipeline import Pipeline
from minired.layers.preprocessing.rand_augment import RandAugment
from minired.layers.preprocessing.random_brightness import RandomBrightness
from minired.layers.preprocessing.random_color_degeneration import RandomColorDegeneration
from minired.layers.preprocessing.random_color_jitter import RandomColorJitter
from minired.layers.preprocessing.random_contrast import RandomContrast
from minired.layers.preprocessing.random_crop import RandomCrop
from minired.layers.preprocessing.random_elastic_transform import RandomElasticTransform
from minired.layers.preprocessing.random_erasing import RandomErasing
from minired.layers.preprocessing.random_flip import RandomFlip
from minired.layers.preprocessing.random_gaussian_blur import RandomGaussianBlur
from minired.layers.preprocessing.random_grayscale import RandomGrayscale
from minired.layers.preprocessing.random_hue import RandomHue
from minired.layers.preprocessing.random_invert import RandomInvert
from minired.layers.preprocessing.random_perspective import RandomPerspective
from minired.layers.preprocessing.random_posterization import RandomPosterization
from minired.layers.preprocessing.random_rotation import RandomRotation
from minired.layers.preprocessing.random_saturation import RandomSaturation
from minired.layers.preprocessing.random_sharpness import RandomSharpness
from minired.layers.preprocessing.random_shear import RandomShear
from minired.layers.preprocessing.random_translation import RandomTranslation
from minired.layers.preprocessing.random_zoom import RandomZoom
from minired.layers.preprocessing.rescaling import Rescaling
from minired.layers.preprocessing.resizing import Resizing
from minired.layers.preprocessing.solarization import Solarization
from minired.layers.preprocessing.stft_spectrogram import STFTSpectrogram
from minired.layers.preprocessing.string_lookup import StringLookup
from minired.layers.preprocessing.text_vectorization import TextVectorization

__all__ = ["MelSpectrogram", "STFTSpectrogram", "CategoryEncoding", "CenterCrop", "Discretization",
           "HashedCrossing", "Hashing", "IntegerLookup",
           "Resizing", "StringLookup", "TextVectorization", "Normalization",
           "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip",
           "RandomRotation", "RandomTranslation", "RandomZoom", "Rescaling",
           "RandomColorDegeneration", "RandomGrayscale", "RandomHue", "RandomInvert",
           "RandomPosterization", "RandomSaturation", "RandomSharpness", "Solarization",
           "RandomShear", "RandomColorJitter", "AutoContrast",
           "Equalization", "RandomErasing", "RandomGaussianBlur", "Pipeline", "RandAugment",
           "MixUp", "CutMix", "RandomPerspective", "RandomElasticTransform", "AugMix",
           "ContrastLimitedAdaptiveHistogramEqualization", "MaxNumBoundingBoxes"]
