"""Model: ``mr.Model(inputs, outputs)``, a graph of layers that can be trained.

As in Keras, ``mr.Model(inputs=..., outputs=...)`` returns a
:class:`~minired.models.functional.Functional` model, and
:class:`~minired.models.Sequential` is a functional model whose graph is a straight line.
Every model is also a layer, so a model can be called inside another one.
"""

from __future__ import annotations

import inspect

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

    # -- saving (see minired.saving) ----------------------------------------------------------
    def compile(self, *args, **kwargs) -> None:
        """:meth:`Trainer.compile`, remembering the arguments so that a saved model can be
        compiled the same way when it is loaded (Keras' ``compile_config``)."""
        arguments = inspect.signature(Trainer.compile).bind(self, *args, **kwargs).arguments
        super().compile(*args, **kwargs)
        self._compile_arguments = {k: v for k, v in arguments.items() if k != "self"}

    def get_compile_config(self) -> dict:
        """The compile arguments as Keras writes them (``{}`` if not compiled)."""
        from minired.saving.serialization_lib import serialize_keras_object

        arguments = getattr(self, "_compile_arguments", None)
        if not self.compiled or arguments is None:
            return {}
        return {
            "optimizer": serialize_keras_object(self.optimizer),
            "loss": serialize_keras_object(arguments.get("loss")),
            "loss_weights": serialize_keras_object(arguments.get("loss_weights")),
            "metrics": serialize_keras_object(arguments.get("metrics")),
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False,
        }

    def compile_from_config(self, config: dict) -> None:
        """Compile from :meth:`get_compile_config` (minired's or Keras')."""
        from minired.saving import serialization_lib

        config = dict(config)
        if config.pop("weighted_metrics", None) is not None:
            raise ValueError("The file compiles the model with `weighted_metrics`, which "
                             "minired does not implement; load it with compile=False.")
        for key in ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"):
            config.pop(key, None)           # how Keras runs the step, not what it computes
        arguments = {key: serialization_lib._deserialize(value)
                     for key, value in config.items()}
        try:
            self.compile(**arguments)
        except (TypeError, ValueError) as error:
            raise ValueError(f"The saved compile arguments do not work in minired: {error} "
                             "Load the model with compile=False and compile it yourself."
                             ) from None

    def to_json(self, **kwargs) -> str:
        """The model's architecture as Keras' JSON (``mr.models.model_from_json`` reads it,
        and so does ``keras.models.model_from_json``)."""
        import json

        from minired.saving.serialization_lib import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)

    def save(self, filepath, overwrite: bool = True, zipped: bool = True) -> None:
        """Save the model as a ``.keras`` archive: architecture, compile arguments, weights
        and optimizer state. ``keras.saving.load_model(filepath)`` opens it."""
        from minired.saving import saving_lib

        if not zipped:
            raise ValueError("minired saves zipped .keras archives only (zipped=True).")
        saving_lib.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights (and optimizer state) to a ``.weights.h5`` file, Keras' layout."""
        from minired.saving import saving_lib

        saving_lib.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath) -> None:
        """Load weights from a ``.weights.h5`` file or a ``.keras`` archive (all shapes are
        checked before any weight changes)."""
        from minired.saving import saving_lib

        saving_lib.load_weights(self, filepath)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """A model from its config: ``mr.Model.from_config(model.get_config())``."""
        from minired.models.functional import Functional

        if cls is Model:
            if "input_layers" not in config:
                raise ValueError("Model.from_config needs a functional model's config (with "
                                 "'layers', 'input_layers' and 'output_layers').")
            return Functional.from_config(config, custom_objects=custom_objects)
        return super().from_config(config)
