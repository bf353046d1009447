"""ActivityRegularization: the identity, whose outputs add a penalty to the loss."""

from __future__ import annotations

from minired.layers.activity import recorded_activity_penalty
from minired.layers.layer import Layer
from minired.regularizers import L1L2


class ActivityRegularization(Layer):
    """Pass the inputs on unchanged and add a penalty on them to the loss, as Keras' layer
    (an ``L1L2`` activity regularizer, normalized by the batch size).

    Forward and backward, for a batch of ``N`` samples::

        a = x                                    the output is the input
        R = (l1 Σ|a| + l2 Σ a²) / N              added to the loss (``self.losses``)
        δx = δa + ∂R/∂a = δa + (l1 sign(a) + 2 l2 a) / N

    ``R`` is added with :meth:`~minired.layers.Layer.add_loss` during the call, so it reaches
    the model's loss as every added loss does, and its gradient is the hand-written
    ``∂R/∂a`` above, recorded on the call's tape (seeded with ``∂L/∂R = 1``): the penalty of
    any layer's ``activity_regularizer`` (:mod:`minired.layers.activity`). The sums and
    ``∂R/∂a`` are :class:`~minired.regularizers.L1L2`'s, with Keras' coefficients (rounded
    to float32 even for float64 inputs, as TensorFlow casts them).

    Args:
        l1: the L1 coefficient, a float >= 0.
        l2: the L2 coefficient, a float >= 0.
        name: layer name.

    Example:
        >>> layer = ActivityRegularization(l1=0.5)
        >>> layer(np.array([[1.0, -3.0], [2.0, 0.0]]))
        array([[ 1., -3.],
               [ 2.,  0.]], dtype=float32)
        >>> float(layer.losses[0])               # 0.5 · (1 + 3 + 2 + 0) / 2
        1.5
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def __init__(self, l1: float = 0.0, l2: float = 0.0, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.regularizer = L1L2(l1=l1, l2=l2)        # checks l1, l2 as Keras does
        self.l1, self.l2 = l1, l2

    def call(self, inputs):
        self.add_loss(recorded_activity_penalty(self.regularizer, inputs))
        return inputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
