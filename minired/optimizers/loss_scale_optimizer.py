"""``LossScaleOptimizer``: dynamic loss scaling around another optimizer, as Keras'.

In float16 small gradients underflow to 0. Loss scaling trains on ``s·L`` instead of ``L``:
every gradient comes out multiplied by ``s`` (``∂(sL)/∂w = s·∂L/∂w``), far from the
underflow, and is divided by ``s`` again just before the update. A *dynamic* scale is
adjusted as training goes: halved when a gradient overflows (and that step is skipped),
doubled after a run of good steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minired.optimizers.optimizer import Optimizer
from minired.variables import Variable

# The shared arguments Keras' LossScaleOptimizer accepts only at their default (old files
# still write them): set them on the inner optimizer instead.
_BASE_DEFAULTS = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """An optimizer that scales the loss by a dynamic factor ``s`` to prevent underflow.

    ``fit`` differentiates ``s·L`` (:meth:`scale_loss`), so the gradients it passes are
    ``s·∂L/∂w``. One step (:meth:`apply`) then does, as Keras::

        if every gradient is finite:
            inner_optimizer.apply(g / s)                 # the update, unscaled
            if step_counter == dynamic_growth_steps - 1:
                step_counter <- 0,  s <- 2·s             # a run of good steps: grow
            else:
                step_counter <- step_counter + 1
        else:                                            # overflow: skip the update
            step_counter <- 0,  s <- s / 2

    ``s`` starts at ``initial_scale`` and is a float32 Variable. Its powers of two make the
    scaling exact: ``(s·g)/s == g`` bit for bit unless ``s·g`` overflows.

    Its :attr:`variables` are its own (``iterations`` and a learning rate that it does not
    use, ``step_counter``, ``dynamic_scale``) followed by the inner optimizer's, as in
    Keras; :attr:`learning_rate` and :attr:`iterations` are the inner optimizer's.

    Args:
        inner_optimizer: the optimizer that updates the weights. Its ``loss_scale_factor``
            is set to None (the gradients must not be unscaled twice).
        initial_scale: the first loss scale ``s`` (default ``2**15``).
        dynamic_growth_steps: after this many steps with finite gradients, ``s`` doubles.
        name: the optimizer's name (default ``"loss_scale_optimizer"``, made unique).

    Example:
        >>> from minired.optimizers import SGD
        >>> opt = LossScaleOptimizer(SGD(learning_rate=0.5), initial_scale=4.0)
        >>> w = np.array([1.0, 2.0], dtype="float32")
        >>> opt.apply([np.array([4.0, 8.0], dtype="float32")], [w])   # s·g, with s = 4
        >>> w, float(opt.dynamic_scale)
        (array([0.5, 1. ], dtype=float32), 4.0)
        >>> opt.apply([np.array([np.inf, 0.0], dtype="float32")], [w])  # skipped, s halves
        >>> w, float(opt.dynamic_scale)
        (array([0.5, 1. ], dtype=float32), 2.0)
    """

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`.")
        for key, default in _BASE_DEFAULTS.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{key}`. Instead, set "
                                 f"`{key}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError("LossScaleOptimizer: `inner_optimizer` must be an optimizer "
                            f"instance, got {inner_optimizer!r}.")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None   # not unscaled twice

    def build(self, variables: Sequence[np.ndarray]) -> None:
        """Create ``step_counter`` (int64, 0) and ``dynamic_scale`` (float32,
        ``initial_scale``), then build the inner optimizer on ``variables``."""
        if self.built:
            return
        self.step_counter = Variable(0, dtype="int64", trainable=False, name="step_counter")
        self.dynamic_scale = Variable(self.initial_scale, dtype="float32", trainable=False,
                                      name="dynamic_scale")
        self.inner_optimizer.build(variables)
        self._trainable_variables = list(variables)
        self._index_variables()
        self.built = True

    @property
    def variables(self) -> list[np.ndarray]:
        """Its own variables, then the inner optimizer's (Keras' order)."""
        own = [self._iterations, self._learning_rate]
        if self.built:
            own += [self.step_counter, self.dynamic_scale]
        return own + self.inner_optimizer.variables

    def apply(self, grads: Sequence[np.ndarray | None],
              trainable_variables: Sequence[np.ndarray] | None = None) -> None:
        """One step: the inner update with ``g / s`` if every gradient is finite (then
        ``s`` may double), or no update and ``s <- s/2`` (see the class docstring)."""
        if not self.built:
            if trainable_variables is None:
                raise ValueError("LossScaleOptimizer.apply: `trainable_variables` is None "
                                 "but the optimizer is not built yet; pass the variables.")
            self.build(list(trainable_variables))
        grads = list(grads)
        finite = all(np.all(np.isfinite(g)) for g in grads if g is not None)
        if not finite:
            self.step_counter.fill(0)
            self.dynamic_scale.fill(self.dynamic_scale * np.float32(0.5))
            return
        scale = self.dynamic_scale.item()   # float32
        unscaled = [None if g is None else np.asarray(g) / np.asarray(g).dtype.type(scale)
                    for g in grads]
        self.inner_optimizer.apply(unscaled, trainable_variables)
        if int(self.step_counter) == self.dynamic_growth_steps - 1:
            self.step_counter.fill(0)
            self.dynamic_scale.fill(self.dynamic_scale * np.float32(2.0))
        else:
            self.step_counter.fill(int(self.step_counter) + 1)

    def scale_loss(self, loss):
        """``loss * s``: the current ``dynamic_scale`` (``initial_scale`` before the
        optimizer is built)."""
        scale = self.dynamic_scale.item() if self.built else self.initial_scale
        return loss * scale

    @property
    def learning_rate(self):
        """The inner optimizer's learning rate (settable)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        """The inner optimizer's :attr:`~minired.optimizers.Optimizer.iterations`."""
        return self.inner_optimizer.iterations

    def finalize_variable_values(self, var_list: Sequence[np.ndarray]) -> None:
        """The inner optimizer's (the EMA weights replace the model's if it uses EMA)."""
        self.inner_optimizer.finalize_variable_values(var_list)

    def check_own_variables(self, values: list, variables: list[np.ndarray]) -> list:
        """Check saved state (Keras' order: its own four, then the inner optimizer's); a
        file that holds more than the unbuilt variables builds the optimizer first."""
        if not self.built and len(values) > len(self.variables):
            self.build(variables)
        expected = self.variables
        if len(values) != len(expected):
            raise ValueError(
                f"Optimizer {self.name!r} (LossScaleOptimizer) has {len(expected)} state "
                f"variables for this model, but the file has {len(values)}.")
        for i, (target, value) in enumerate(zip(expected, values, strict=True)):
            if np.shape(value) != np.shape(target):
                raise ValueError(f"Optimizer {self.name!r}: state variable {i} has shape "
                                 f"{np.shape(value)} in the file, {np.shape(target)} here.")
        return values

    def get_config(self) -> dict:
        """``name``, the inner optimizer (serialized), ``initial_scale`` and
        ``dynamic_growth_steps``: the shared arguments are the inner optimizer's."""
        from minired.saving.serialization_lib import serialize_keras_object

        return {
            "name": self.name,
            "inner_optimizer": serialize_keras_object(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict) -> LossScaleOptimizer:
        """A fresh LossScaleOptimizer around a fresh inner optimizer."""
        from minired.optimizers import deserialize

        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"))
        return cls(inner, **config)
