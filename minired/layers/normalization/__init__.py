"""Normalization layers: rescale activations with statistics of the data they see.

``BatchNormalization`` normalizes each channel with the mean and variance of the current
batch while training (and keeps moving averages of them), and with those moving averages
at inference. Its scale ``γ`` and offset ``β`` are trained; the moving statistics are
non-trainable weights, saved with the others. ``LayerNormalization`` normalizes each sample
over its features with that sample's own statistics, the same in training and inference;
``GroupNormalization`` does the same for groups of channels (one group: layer
normalization over all the axes; one channel per group: instance normalization);
``RMSNormalization`` only divides by the root mean square (no mean subtracted), and
``UnitNormalization`` scales each sample to length 1 (no weights).
"""

from minired.layers.normalization.batch_normalization import BatchNormalization
from minired.layers.normalization.group_normalization import GroupNormalization
from minired.layers.normalization.layer_normalization import LayerNormalization
from minired.layers.normalization.rms_normalization import RMSNormalization
from minired.layers.normalization.unit_normalization import UnitNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization",
           "RMSNormalization", "UnitNormalization"]
