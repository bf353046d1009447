"""Normalization layers: rescale activations with statistics of the data they see.

``BatchNormalization`` normalizes each channel with the mean and variance of the current
batch while training (and keeps moving averages of them), and with those moving averages
at inference. Its scale ``γ`` and offset ``β`` are trained; the moving statistics are
non-trainable weights, saved with the others.
"""

from minired.layers.normalization.batch_normalization import BatchNormalization

__all__ = ["BatchNormalization"]
