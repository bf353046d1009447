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
"""

from minired.layers.preprocessing.normalization import Normalization
from minired.layers.preprocessing.random_brightness import RandomBrightness
from minired.layers.preprocessing.random_contrast import RandomContrast
from minired.layers.preprocessing.random_crop import RandomCrop
from minired.layers.preprocessing.random_flip import RandomFlip
from minired.layers.preprocessing.random_rotation import RandomRotation
from minired.layers.preprocessing.random_translation import RandomTranslation
from minired.layers.preprocessing.random_zoom import RandomZoom
from minired.layers.preprocessing.rescaling import Rescaling

__all__ = ["Normalization", "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip",
           "RandomRotation", "RandomTranslation", "RandomZoom", "Rescaling"]
