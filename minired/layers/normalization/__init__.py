"""Normalization layers: rescale activations with statistics of the data they see.

``BatchNormalization`` normalizes each channel with the mean and variance of the current
batch while training (and keeps moving averages of them), and with those moving averages
at inference. Its scale ``γ`` and offset ``β`` are trained; the moving statistics are
non-trainable weights, saved with the others. ``LayerNormalization`` normalizes each sample
over its features with that sample's own statistics, the same in training and inference.
"""

from minired.layers.normalization.batch_normalization import BatchNormalization
from minired.layers.normalization.layer_normalization import LayerNormalization

__all__ = ["BatchNormalization", "LayerNormalization"]
