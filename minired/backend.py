"""Moved to :mod:`minired.keras_numerics`; kept only for code not yet switched over."""

from operator import pow as tf_pow  # a plain `**`: see keras_numerics, section 3

from minired.keras_numerics import as_keras_constant as tf_cast

__all__ = ["tf_cast", "tf_pow"]
