"""Regularization layers without weights, as Keras groups them
(``keras/src/layers/regularization/``):

- ``gaussian_noise.py``: :class:`GaussianNoise`, ``a = x + ε`` while training;
- ``gaussian_dropout.py``: :class:`GaussianDropout`, ``a = x · m``, ``m ~ N(1, rate/(1-rate))``
  while training;
- ``alpha_dropout.py``: :class:`AlphaDropout`, dropout to SELU's saturation value ``α'``
  then ``a = A x' + B`` (mean and variance kept) while training;
- ``activity_regularization.py``: :class:`ActivityRegularization`, the identity that adds
  ``(l1 Σ|a| + l2 Σ a²) / N`` to the loss.

(:class:`~minired.layers.Dropout` and :class:`~minired.layers.SpatialDropout2D` live in
``minired/layers/dropout.py`` and ``spatial_dropout.py``.)
"""

from minired.layers.regularization.activity_regularization import ActivityRegularization
from minired.layers.regularization.alpha_dropout import AlphaDropout
from minired.layers.regularization.gaussian_dropout import GaussianDropout
from minired.layers.regularization.gaussian_noise import GaussianNoise

__all__ = ["ActivityRegularization", "AlphaDropout", "GaussianDropout", "GaussianNoise"]
