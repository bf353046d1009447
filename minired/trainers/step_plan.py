"""The weights a training step reads, listed once for all the steps of one ``fit`` (and which
call's logits its cross-entropies read)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minired.layers.layer import add_penalty_gradients_of, penalties_of


class StepPlan:
    """What every training step reads about the model's weights, listed once.

    A step needs the trainable weights with their gradients ``(w, ∂L/∂w)`` (the optimizer
    updates them) and the regularized weights (``R(w)`` joins the loss, ``∂R/∂w`` the
    gradient). A model finds them by walking its layers; doing so three times in every step
    costs more than the arithmetic of a small model. Keras fixes them once, when it traces
    ``train_step``; ``fit`` does the same with a plan made at its first step and kept until
    it ends. So a layer frozen in the middle of a ``fit`` stays trained until the next one
    (in Keras, until ``compile``: freeze, then compile, then fit).

    Example:
        >>> model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2, kernel_regularizer="l2")])
        >>> plan = StepPlan(model)
        >>> [w.shape for w in plan.weights], len(plan.regularized)
        ([(3, 2), (2,)], 1)
    """

    def __init__(self, model: Any) -> None:
        pairs = model._trainable_pairs()
        self.weights: list[np.ndarray] = [w for w, _ in pairs]      #: what the optimizer updates
        self.gradients: list[np.ndarray] = [g for _, g in pairs]    #: ∂L/∂w of each, same order
        #: ``(w, ∂L/∂w, R)`` for each regularized weight, in the order of ``model.losses``
        self.regularized = [t for t in model._weight_triples() if t[2] is not None]
        #: ``(output, id(reader), training)`` -> ``(reader, call)``: the call whose logits a
        #: cross-entropy reads (or None), found at the first step that asks (a graph model's;
        #: see :meth:`~minired.models.functional.Functional._logits_call`)
        self.logits_calls: dict[tuple, tuple] = {}

    def penalties(self) -> list:
        """``R(w)`` of each regularized weight: the terms the model's ``losses`` ends with."""
        return penalties_of(self.regularized)

    def add_penalty_gradients(self) -> None:
        """``∂L/∂w += ∂R/∂w`` for each regularized weight (once per step)."""
        add_penalty_gradients_of(self.regularized)
