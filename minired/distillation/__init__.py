"""Knowledge distillation, Keras' ``keras.distillation``: a small **student** model learns
from the labels and from a large, frozen **teacher**.

- :class:`Distiller` (``distiller.py``): the model that trains the student on
  ``L = α L_S + (1 - α) Σ_k w_k D_k``;
- :class:`LogitsDistillation`, :class:`FeatureDistillation` and their base
  :class:`DistillationLoss` (``distillation_loss.py``): the losses ``D_k``.
"""

from minired.distillation.distillation_loss import (
    DistillationLoss,
    FeatureDistillation,
    LogitsDistillation,
)
from minired.distillation.distiller import Distiller

__all__ = ["DistillationLoss", "Distiller", "FeatureDistillation", "LogitsDistillation"]
