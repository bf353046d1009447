"""``keras.applications.resnet50``: ResNet50 and its preprocessing, under its own name.

The same objects as :mod:`minired.applications.resnet` (Keras keeps this module for scripts
written before ResNet101 and ResNet152 joined it).
"""

from minired.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "preprocess_input", "decode_predictions"]
