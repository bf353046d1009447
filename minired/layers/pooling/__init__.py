"""Pooling layers: shrink the spatial axes of ``(N, *spatial, C)`` inputs, as ``keras.layers``.

- ``windows.py``: the windows a pooling layer slides over its input (a view, no copy),
  TensorFlow's "same" padding rule, and the backward that adds window gradients back;
- ``base_pooling.py``: the arguments and shapes max and average pooling share;
- ``max_pooling.py``: :class:`MaxPooling1D`, :class:`MaxPooling2D`, the largest value of
  each window (its gradient goes to the first maximum, as TensorFlow);
- ``average_pooling.py``: :class:`AveragePooling1D`, :class:`AveragePooling2D`, the mean of
  each window (with "same" padding, of the real values only);
- ``global_pooling.py``: :class:`GlobalAveragePooling1D`/``2D`` and
  :class:`GlobalMaxPooling1D`/``2D``, one value per channel (ties share the gradient).

- ``max_pooling3d.py``, ``average_pooling3d.py``, ``global_pooling3d.py``: the 3D layers,
  on the same bases (MaxPooling3D's ties follow TensorFlow's MaxPool3DGrad: see there).
- ``base_adaptive_pooling.py``, ``adaptive_average_pooling.py``, ``adaptive_max_pooling.py``:
  :class:`AdaptiveAveragePooling1D`/``2D``/``3D`` and :class:`AdaptiveMaxPooling1D`/``2D``/
  ``3D``, pooled to a fixed ``output_size`` over Keras' bins, one axis after the other.

No layer here has weights; inputs are channels-last.
"""

from minired.layers.pooling.adaptive_average_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
)
from minired.layers.pooling.adaptive_max_pooling import (
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from minired.layers.pooling.average_pooling import AveragePooling1D, AveragePooling2D
from minired.layers.pooling.average_pooling3d import AveragePooling3D
from minired.layers.pooling.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
)
from minired.layers.pooling.global_pooling3d import GlobalAveragePooling3D, GlobalMaxPooling3D
from minired.layers.pooling.max_pooling import MaxPooling1D, MaxPooling2D
from minired.layers.pooling.max_pooling3d import MaxPooling3D

__all__ = [
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
    "AveragePooling3D", "GlobalAveragePooling3D", "GlobalMaxPooling3D", "MaxPooling3D",
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
]
