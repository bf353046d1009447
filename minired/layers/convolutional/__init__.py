"""Convolutional layers: Conv1D (sequences) and Conv2D (images).

- ``im2col.py``: the patch extraction both use (and pooling can use): every window of the
  input as one array view, its backward (``scatter_patches``), and TensorFlow's padding rule.
- ``base_conv.py``: the forward and backward passes, shared by the two layers (one matmul
  each way over the patches).
- ``conv1d.py``, ``conv2d.py``: the layers, with the math in Conv2D's docstring.
"""

from minired.layers.convolutional.conv1d import Conv1D
from minired.layers.convolutional.conv2d import Conv2D

__all__ = ["Conv1D", "Conv2D"]
