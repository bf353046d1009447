"""Model: ``mr.Model(inputs, outputs)``, a graph of layers that can be trained.

As in Keras, ``mr.Model(inputs=..., outputs=...)`` returns a
:class:`~minired.models.functional.Functional` model, and
:class:`~minired.models.Sequential` is a functional model whose graph is a straight line.
Every model is also a layer, so a model can be called inside another one.
"""

from __future__ import annotations

from minired.layers.layer import Layer
from minired.trainers.trainer import Trainer


class Model(Trainer, Layer):
    """The base of every model: Keras' training API (:class:`Trainer`) on a :class:`Layer`.

    ``Model(inputs, outputs, name=None)`` builds a functional model (see
    :class:`~minired.models.functional.Functional`).

    Example:
        >>> inputs = mr.Input((4,))
        >>> outputs = mr.layers.Dense(2)(inputs)
        >>> model = mr.Model(inputs, outputs)
        >>> type(model).__name__, model.predict(np.ones((3, 4)), verbose=0).shape
        ('Functional', (3, 2))
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model:
            from minired.models.functional import Functional

            given = len(args) + ("inputs" in kwargs) + ("outputs" in kwargs)
            if given >= 2:
                return super().__new__(Functional)
            if given == 1:
                raise ValueError("mr.Model needs both `inputs` and `outputs`: "
                                 "mr.Model(inputs, outputs).")
            raise TypeError(
                "mr.Model needs `inputs` and `outputs`: mr.Model(inputs, outputs), with "
                "inputs = mr.Input(shape) and outputs the result of calling layers on them. "
                "(Subclassing mr.Model with a call() method is not available yet.)")
        return super().__new__(cls)

    def __init__(self, name: str | None = None, trainable: bool = True) -> None:
        Trainer.__init__(self)
        Layer.__init__(self, name=name, trainable=trainable)

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates this model's weights.

        As in Keras, setting it also sets it on every layer of the model (and, through a
        model used as a layer, on that model's layers), so ``base.trainable = False``
        freezes all of ``base`` and ``base.layers[1].trainable`` then says ``False``.
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    @property
    def layers(self) -> list[Layer]:
        """The model's layers (see the subclasses)."""
        return []
