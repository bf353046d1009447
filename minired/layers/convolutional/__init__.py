"""Convolutional layers: Conv1D (sequences) and Conv2D (images), and their transposes.

- ``im2col.py``: the patch extraction both use (and pooling can use): every window of the
  input as one array view, its backward (``scatter_patches``), and TensorFlow's padding rule.
- ``base_conv.py``: the forward and backward passes, shared by the two layers (one matmul
  each way over the patches).
- ``conv1d.py``, ``conv2d.py``, ``conv3d.py``: the layers, with the math in Conv2D's
  docstring (``conv3d_transpose.py``: the 3-D transpose, on the same base).
- ``base_conv_transpose.py``, ``conv1d_transpose.py``, ``conv2d_transpose.py``: the
  transposed convolutions (a convolution's two passes swapped: the same helpers), with the
  math in Conv2DTranspose's docstring.
- ``base_depthwise_conv.py``, ``depthwise_conv1d.py``, ``depthwise_conv2d.py``: each channel
  filtered on its own (one product per kernel offset), with the math in DepthwiseConv2D's
  docstring; ``base_separable_conv.py``, ``separable_conv1d.py``, ``separable_conv2d.py``:
  that depthwise step then a 1×1 convolution, with the math in SeparableConv2D's docstring.
"""

from minired.layers.convolutional.conv1d import Conv1D
from minired.layers.convolutional.conv1d_transpose import Conv1DTranspose
from minired.layers.convolutional.conv2d import Conv2D
from minired.layers.convolutional.conv2d_transpose import Conv2DTranspose
from minired.layers.convolutional.conv3d import Conv3D
from minired.layers.convolutional.conv3d_transpose import Conv3DTranspose
from minired.layers.convolutional.depthwise_conv1d import DepthwiseConv1D
from minired.layers.convolutional.depthwise_conv2d import DepthwiseConv2D
from minired.layers.convolutional.separable_conv1d import SeparableConv1D
from minired.layers.convolutional.separable_conv2d import SeparableConv2D

__all__ = ["Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D",
           "Conv3DTranspose", "DepthwiseConv1D",
           "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"]
