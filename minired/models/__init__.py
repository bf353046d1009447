"""Models: ``Sequential``."""

from minired.models.sequential import Sequential

__all__ = ["Sequential"]
