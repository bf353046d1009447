"""Ops: a user's layer built from the NumPy-like and linear-algebra ``keras.ops`` of the
second catalogue (``diff``, ``trapezoid``, ``cholesky``, ``solve_triangular``, ``cdist``,
``nanstd``, ``logaddexp2``, ``fmax``...), written once, run in both libraries.

The layer whitens a summary of each sequence with a learned covariance (a Cholesky factor
and a triangular solve) and measures its distances to learned prototypes, the kind of code
a Keras user writes in ``call()``; minired differentiates it with its tape, Keras with
TensorFlow's. As in :mod:`comparisons.ops_catalog`, the model is built twice from the same
function, minired's seeded weights are copied to Keras, and both are compared on
``predict``, the loss and every ``∂L/∂w`` (step), then after 5 epochs of ``fit``
(training).
"""

from __future__ import annotations

from types import SimpleNamespace

from comparisons.ops_catalog import sequence_data, user_layer_cases

STEPS, FEATURES, PROTOTYPES = 6, 4, 3


def components(lib) -> SimpleNamespace:
    """The user's layer, written against ``lib`` (``mr`` or ``keras``)."""
    ops = lib.ops

    class WhitenedPrototypes(lib.layers.Layer):
        """Distances of whitened sequence summaries to ``prototypes`` learned points.

        The summary of a sequence is the area under each feature over time (``trapezoid``)
        and the spread of its steps (``nanstd`` of ``diff``, with the steps whose change
        ``isclose`` to 0 ignored as NaN). With ``Σ = A Aᵀ + 2I`` and ``L = cholesky(Σ)``,
        the area is whitened, ``z = L⁻¹ area`` (``solve_triangular``), and compared with the
        prototypes (``cdist``); the output joins ``logaddexp2(−d, −1)`` and the spread,
        floored at 0.1 by ``fmax``.
        """

        def __init__(self, prototypes, **kwargs):
            super().__init__(**kwargs)
            self.prototypes = prototypes

        def build(self, input_shape):
            features = input_shape[-1]
            self.factor = self.add_weight(shape=(features, features),
                                          initializer="glorot_uniform", name="factor")
            self.centres = self.add_weight(shape=(self.prototypes, features),
                                           initializer="glorot_uniform", name="centres")

        def call(self, inputs):
            area = ops.trapezoid(inputs, axis=1)                         # (batch, features)
            steps = ops.diff(inputs, axis=1)
            # the layer's own design, not a test tolerance: near-flat steps (|Δ| ≤ 0.05)
            # count as missing, so nanstd skips them
            steps = ops.where(ops.isclose(steps, 0.0, atol=0.05), float("nan"), steps)
            spread = ops.fmax(ops.nanstd(steps, axis=1), 0.1)
            features = ops.shape(inputs)[-1]
            sigma = ops.matmul(self.factor, ops.transpose(self.factor))
            sigma = sigma + 2.0 * ops.eye(features)
            low = ops.cholesky(sigma)
            z = ops.transpose(ops.solve_triangular(low, ops.transpose(area), lower=True))
            d = ops.cdist(z, self.centres)                               # (batch, prototypes)
            return ops.concatenate([ops.logaddexp2(-d, -1.0), spread], axis=-1)

        def get_config(self):
            return {**super().get_config(), "prototypes": self.prototypes}

    return SimpleNamespace(WhitenedPrototypes=WhitenedPrototypes)


def prototype_model(lib, c):
    """Sequences → the custom layer → a softmax over 3 classes."""
    return lib.Sequential([lib.Input((STEPS, FEATURES)),
                           c.WhitenedPrototypes(PROTOTYPES, name="prototypes"),
                           lib.layers.Dense(3, activation="softmax", name="head")])


user_layer_cases("whitened_prototypes", "trapezoid, diff, isclose, nanstd, fmax, cholesky, "
                 "solve_triangular, cdist, logaddexp2", components, prototype_model, sequence_data)
