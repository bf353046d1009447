"""Preprocessing layers: fixed transformations of the inputs, inside the model.

``Normalization`` standardizes each feature with a mean and variance learned by ``adapt``
(or given); ``Rescaling`` multiplies and shifts (``x / 255``). Neither has trainable
weights, and both backpropagate, so they can sit anywhere in a model.

The image augmentation layers (``RandomFlip``, ``RandomRotation``, ``RandomZoom``,
``RandomTranslation``, ``RandomContrast``, ``RandomBrightness``) change each image at random
while training (``fit``) and are the identity at inference (``RandomCrop`` crops at random
while training and, as Keras 3, returns its input uncropped at inference); the geometric ones
share the
resampling of :mod:`~minired.layers.preprocessing.image_transform`.

Text and categories: ``TextVectorization`` (sentences to token indices or bag-of-words
vectors), ``StringLookup`` and ``IntegerLookup`` (tokens to vocabulary indices, on the
shared ``IndexLookup``), ``CategoryEncoding`` (indices to one-hot/multi-hot/count) and
``Discretization`` (numbers to buckets), ``Hashing`` (values to buckets by TensorFlow's
FarmHash fingerprint); their vocabularies and boundaries come from
``adapt`` or are given. Image sizes: ``Resizing`` and ``CenterCrop`` (with backward passes).
"""

from minired.layers.preprocessing.category_encoding import CategoryEncoding
from minired.layers.preprocessing.center_crop import CenterCrop
from minired.layers.preprocessing.discretization import Discretization
from minired.layers.preprocessing.hashing import Hashing
from minired.layers.preprocessing.integer_lookup import IntegerLookup
from minired.layers.preprocessing.normalization import Normalization
from minired.layers.preprocessing.random_brightness import RandomBrightness
from minired.layers.preprocessing.random_contrast import RandomContrast
from minired.layers.preprocessing.random_crop import RandomCrop
from minired.layers.preprocessing.random_flip import RandomFlip
from minired.layers.preprocessing.random_rotation import RandomRotation
from minired.layers.preprocessing.random_translation import RandomTranslation
from minired.layers.preprocessing.random_zoom import RandomZoom
from minired.layers.preprocessing.rescaling import Rescaling
from minired.layers.preprocessing.resizing import Resizing
from minired.layers.preprocessing.string_lookup import StringLookup
from minired.layers.preprocessing.text_vectorization import TextVectorization

__all__ = ["CategoryEncoding", "CenterCrop", "Discretization", "Hashing", "IntegerLookup",
           "Resizing", "StringLookup", "TextVectorization", "Normalization",
           "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip",
           "RandomRotation", "RandomTranslation", "RandomZoom", "Rescaling"]
