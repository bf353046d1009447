"""Preprocessing layers: fixed transformations of the inputs, inside the model.

``Normalization`` standardizes each feature with a mean and variance learned by ``adapt``
(or given); ``Rescaling`` multiplies and shifts (``x / 255``). Neither has trainable
weights, and both backpropagate, so they can sit anywhere in a model.
"""

from minired.layers.preprocessing.normalization import Normalization
from minired.layers.preprocessing.rescaling import Rescaling

__all__ = ["Normalization", "Rescaling"]
