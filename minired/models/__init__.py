"""Models: ``Model`` (functional graphs) and ``Sequential`` (a straight line of layers)."""

from minired.models.functional import Functional
from minired.models.model import Model
from minired.models.sequential import Sequential

__all__ = ["Functional", "Model", "Sequential"]
