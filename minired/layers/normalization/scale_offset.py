"""The learned scale ``γ`` (``gamma``) and offset ``β`` (``beta``) shared by the
normalization layers: their arguments, their creation and their place in the weights."""

from __future__ import annotations

import numpy as np

from minired import constraints, initializers, regularizers
from minired.saving import serialization_lib

#: ``_constrained_weights`` of a layer with ``γ`` and ``β`` (see Layer).
SCALE_OFFSET_CONSTRAINTS = (("gamma", "gamma_constraint"), ("beta", "beta_constraint"))


def set_scale_offset_arguments(layer, center, scale, beta_initializer, gamma_initializer,
                               beta_regularizer, gamma_regularizer, beta_constraint=None,
                               gamma_constraint=None) -> None:
    """Keep on ``layer`` whether it has ``β`` (``center``) and ``γ`` (``scale``), and how they
    start, are penalized and are constrained (resolved by name, as Keras)."""
    layer.center = bool(center)
    layer.scale = bool(scale)
    layer.beta_initializer = initializers.get(beta_initializer)
    layer.gamma_initializer = initializers.get(gamma_initializer)
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def scale_offset_constraints_config(layer) -> dict:
    """``beta_constraint`` and ``gamma_constraint`` as Keras writes them in a config."""
    serialize = serialization_lib.serialize_keras_object
    return {"beta_constraint": serialize(layer.beta_constraint),
            "gamma_constraint": serialize(layer.gamma_constraint)}


def build_scale_offset(layer, shape: tuple, dtype) -> None:
    """Create ``layer.gamma`` (with ``scale``) and ``layer.beta`` (with ``center``) of
    ``shape`` from their initializers, each with a zero gradient array beside it."""
    if layer.scale:
        layer.gamma = np.asarray(layer.gamma_initializer(shape, dtype=dtype))
        layer.gamma_gradient = np.zeros_like(layer.gamma)
    if layer.center:
        layer.beta = np.asarray(layer.beta_initializer(shape, dtype=dtype))
        layer.beta_gradient = np.zeros_like(layer.beta)


def scale_offset_triples(layer) -> list:
    """``(weight, gradient, regularizer)`` of ``γ`` then ``β`` (Keras' weight order), those
    the layer has."""
    triples = []
    if layer.scale:
        triples.append((layer.gamma, layer.gamma_gradient, layer.gamma_regularizer))
    if layer.center:
        triples.append((layer.beta, layer.beta_gradient, layer.beta_regularizer))
    return triples
