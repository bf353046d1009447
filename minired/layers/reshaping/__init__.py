"""Reshaping layers: move, add or repeat values without learning anything, as Keras.

- ``reshape.py``: :class:`Reshape`, a new shape per sample (one ``-1`` allowed);
- ``zero_padding.py``: :class:`ZeroPadding2D`, zeros around each image;
- ``up_sampling.py``: :class:`UpSampling2D`, each row and column repeated (nearest).

(:class:`~minired.layers.Flatten` is the simplest reshaping layer; it lives in
``minired/layers/flatten.py``.)
"""

from minired.layers.reshaping.reshape import Reshape
from minired.layers.reshaping.up_sampling import UpSampling2D
from minired.layers.reshaping.zero_padding import ZeroPadding2D

__all__ = ["Reshape", "UpSampling2D", "ZeroPadding2D"]
