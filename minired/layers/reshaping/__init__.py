"""Reshaping layers: move, add or repeat values without learning anything, as Keras.

- ``reshape.py``: :class:`Reshape`, a new shape per sample (one ``-1`` allowed);
- ``zero_padding.py``: :class:`ZeroPadding2D`, zeros around each image;
- ``up_sampling.py``: :class:`UpSampling2D`, each row and column repeated (nearest);
- ``zero_padding1d.py``, ``up_sampling1d.py``: the same for sequences;
- ``cropping1d.py``, ``cropping2d.py``: :class:`Cropping1D`, :class:`Cropping2D`, the
  inverse of the zero padding (steps, rows and columns dropped at the borders);
- ``repeat_vector.py``: :class:`RepeatVector`, a vector repeated into a sequence;
- ``permute.py``: :class:`Permute`, the axes of each sample reordered;
- ``zero_padding3d.py``, ``up_sampling3d.py``, ``cropping3d.py``: the same for volumes;
- ``arguments.py``: the checks they share (amounts >= 0, the input's rank).

(:class:`~minired.layers.Flatten` is the simplest reshaping layer; it lives in
``minired/layers/flatten.py``.)
"""

from minired.layers.reshaping.cropping1d import Cropping1D
from minired.layers.reshaping.cropping2d import Cropping2D
from minired.layers.reshaping.cropping3d import Cropping3D
from minired.layers.reshaping.permute import Permute
from minired.layers.reshaping.repeat_vector import RepeatVector
from minired.layers.reshaping.reshape import Reshape
from minired.layers.reshaping.up_sampling import UpSampling2D
from minired.layers.reshaping.up_sampling1d import UpSampling1D
from minired.layers.reshaping.up_sampling3d import UpSampling3D
from minired.layers.reshaping.zero_padding import ZeroPadding2D
from minired.layers.reshaping.zero_padding1d import ZeroPadding1D
from minired.layers.reshaping.zero_padding3d import ZeroPadding3D

__all__ = ["Cropping1D", "Cropping2D", "Permute", "RepeatVector", "Reshape", "UpSampling1D",
           "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping3D", "UpSampling3D",
           "ZeroPadding3D"]
