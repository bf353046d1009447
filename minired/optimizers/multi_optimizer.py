"""MultiOptimizer: each variable updated by the optimizer chosen for it (OptimizerMap)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any

import numpy as np

from minired.optimizers.optimizer import Optimizer
from minired.optimizers.variable_paths import path_of


def _is_loss_scale_optimizer(optimizer: Any) -> bool:
    return type(optimizer).__name__ == "LossScaleOptimizer"


class _MissingPathError(ValueError):
    """A variable with no path was looked up in an :class:`OptimizerMap`."""


class OptimizerMap(MutableMapping):
    """Variable paths (or regular expressions over them) mapped to optimizers.

    ``optimizer_map[path]`` is the optimizer of the key equal to ``path``; failing that, of
    the one key that matches the whole of ``path`` as a regular expression
    (``re.fullmatch``: ``"encoder/.*"`` for everything under ``encoder``); failing that,
    ``default_optimizer``. Two matching keys are a ValueError. A path is Keras'
    ``"sequential/dense/kernel"`` (see :mod:`~minired.optimizers.variable_paths`).

    Args:
        default_optimizer: the optimizer of every variable no key matches.
        optimizer_map: a dict ``{path or pattern: optimizer}`` to start from.

    Example:
        >>> from minired import optimizers
        >>> optimizer_map = OptimizerMap(optimizers.RMSprop(name="rmsprop"))
        >>> optimizer_map["encoder/.*"] = optimizers.SGD(name="sgd")
        >>> optimizer_map["encoder/layer_0/dense"] = optimizers.Adam(name="adam")
        >>> [optimizer_map[p].name for p in ("encoder/layer_0/dense", "encoder/x", "decoder")]
        ['adam', 'sgd', 'rmsprop']
    """

    def __init__(self, default_optimizer: Optimizer,
                 optimizer_map: dict[str, Optimizer] | None = None) -> None:
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("default_optimizer must be a Keras Optimizer instance. "
                            f"Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = optimizer_map or {}

    @property
    def default_optimizer(self) -> Optimizer:
        """The optimizer of the variables no key matches."""
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if matching:
            return self._optimizer_map[matching[0]]
        return self.default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if key in self._optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap with value "
                             f"{self._optimizer_map[key]}. Please make sure to not use "
                             "duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: "
                             f"{optimizer}")
        if _is_loss_scale_optimizer(optimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._optimizer_map)

    def __call__(self, variable: np.ndarray) -> Optimizer:
        """The optimizer of ``variable``, looked up by its path."""
        path = path_of(variable)
        if path is None:
            raise _MissingPathError(
                f"OptimizerMap: the variable of shape {np.shape(variable)} has no path to "
                "look up: a built-in layer's weight gets one from its model, with "
                "mr.optimizers.variable_paths.remember_paths(model).")
        return self[path]

    def get_config(self) -> dict:
        from minired.saving.serialization_lib import serialize_keras_object

        return {"default_optimizer": serialize_keras_object(self._default_optimizer),
                "optimizer_map": serialize_keras_object(self._optimizer_map)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> OptimizerMap:
        from minired.saving.serialization_lib import deserialize_keras_object

        default_optimizer = deserialize_keras_object(config["default_optimizer"],
                                                     custom_objects=custom_objects)
        optimizer_map = deserialize_keras_object(config["optimizer_map"],
                                                 custom_objects=custom_objects)
        return cls(default_optimizer, optimizer_map)


class MultiOptimizer(Optimizer):
    """An optimizer that hands each variable to its own optimizer (Keras' MultiOptimizer).

    At the first step each variable ``w`` gets its optimizer ``optimizer_map(w)``: an
    :class:`OptimizerMap` looks it up by the variable's path; a function of your own
    receives the variable (a minired array: compare it with ``is``, or read the ``path`` of a
    :class:`~minired.Variable`). Each step then does::

        for each optimizer o:   o.apply([g of o's variables], [o's variables])
        iterations <- iterations + 1

    so each optimizer clips, decays and counts its own steps, on its own variables only.

    The weights of minired's built-in layers are plain arrays, without Keras' ``path``: an
    :class:`OptimizerMap` finds their paths in what
    :func:`~minired.optimizers.variable_paths.remember_paths` wrote down for their model,
    so call ``remember_paths(model)`` once before the first step (``fit``).
    The optimizers are listed in :attr:`optimizers`: the map's, then its default, then the
    ones a function returned, each once. A MultiOptimizer has no learning rate of its own:
    reading or setting ``learning_rate`` is an AttributeError, as in Keras.

    Args:
        optimizer_map: an :class:`OptimizerMap`, or a function ``variable -> optimizer``.
        loss_scale_factor: the loss scale of every optimizer inside (it replaces theirs).
        name: the optimizer's name (default ``"multi_optimizer"``, numbered as Keras does).

    Example:
        >>> from minired import optimizers
        >>> w, b = np.ones((2, 2)), np.ones(2)
        >>> sgd, big_sgd = optimizers.SGD(0.5), optimizers.SGD(1.0)
        >>> opt = MultiOptimizer(lambda v: sgd if v.ndim == 2 else big_sgd)
        >>> _ = opt.apply_gradients([(np.ones((2, 2)), w), (np.ones(2), b)])
        >>> float(w[0, 0]), float(b[0]), int(opt.iterations), int(sgd.iterations)
        (0.5, 0.0, 1, 1)
    """

    def __init__(self, optimizer_map: OptimizerMap | Callable[[Any], Optimizer],
                 loss_scale_factor: float | None = None, name: str | None = None) -> None:
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers: list[Optimizer] = []
        for opt in getattr(optimizer_map, "values", lambda: [])():
            if all(opt is not known for known in self._inner_optimizers):
                opt.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(opt)
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None and all(default is not k for k in self._inner_optimizers):
            default.loss_scale_factor = loss_scale_factor
            self._inner_optimizers.append(default)

    _scratch_per_variable = 0   # no update rule of its own: no work arrays

    def build(self, var_list: Sequence[np.ndarray]) -> None:
        """Choose each variable's optimizer and build every optimizer on its variables."""
        if self.built:
            return
        var_list = list(var_list)
        # the optimizer of each variable, by the variable's position (not its id(), which a
        # copy of the optimizer changes; the base class maps ids to positions)
        self._optimizer_of_position: list[int] = []
        optimizer_vars: list[list[np.ndarray]] = [[] for _ in self._inner_optimizers]
        for var in var_list:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"Optimizer for variable {_describe(var)} is not an "
                                 f"Optimizer instance (got {opt!r}).")
            if _is_loss_scale_optimizer(opt):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(opt, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            if all(opt is not known for known in self._inner_optimizers):
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
                optimizer_vars.append([])
            index = next(i for i, known in enumerate(self._inner_optimizers) if known is opt)
            self._optimizer_of_position.append(index)
            optimizer_vars[index].append(var)
        for opt, variables in zip(self._inner_optimizers, optimizer_vars, strict=True):
            if variables:
                opt.build(variables)
        super().build(var_list)

    def _optimizer_index(self, variable: np.ndarray) -> int | None:
        """The position in :attr:`optimizers` of ``variable``'s optimizer (None: unknown)."""
        position = self._trainable_variables_indices.get(id(variable))
        return None if position is None else self._optimizer_of_position[position]

    @property
    def optimizers(self) -> list[Optimizer]:
        """The optimizers inside, in the order their state is saved."""
        return self._inner_optimizers

    @property
    def variables(self) -> list[np.ndarray]:
        """``iterations`` and the (unused) learning rate, then each optimizer's state."""
        state = super().variables
        for opt in self._inner_optimizers:
            state.extend(opt.variables)
        return state

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access "
                             "the learning rate on the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the "
                             "learning rate on the individual sub-optimizers instead.")

    @property
    def loss_scale_factor(self) -> float | None:
        """The loss scale, the same for every optimizer inside (setting it sets theirs)."""
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value: float | None) -> None:
        self._loss_scale_factor = value
        for opt in self.__dict__.get("_inner_optimizers", []):
            opt.loss_scale_factor = value

    def apply(self, grads: Sequence[np.ndarray | None],
              trainable_variables: Sequence[np.ndarray] | None = None) -> None:
        """Give each optimizer the gradients of its variables; then ``iterations += 1``.

        Args:
            grads: one gradient per variable (``None`` skips a variable, as in each
                optimizer's own ``apply``).
            trainable_variables: the variables, or ``None`` once built.
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first.")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(self._trainable_variables):
            raise ValueError("Gradients must match trainable variables one-to-one. Received "
                             f"{len(grads)} gradients and {len(self._trainable_variables)} "
                             "variables.")
        pairs: list[list[tuple]] = [[] for _ in self._inner_optimizers]
        for i, (grad, var) in enumerate(zip(grads, trainable_variables, strict=True)):
            index = self._optimizer_index(var)
            if index is None:
                raise ValueError(
                    f"MultiOptimizer.apply: variable {i} is not among the arrays this "
                    "optimizer was built with; variables must be updated in place.")
            pairs[index].append((grad, var))
        for opt, own in zip(self._inner_optimizers, pairs, strict=True):
            if own:
                opt.apply([g for g, _ in own], [v for _, v in own])
        self._iterations.fill(int(self._iterations) + 1)

    def finalize_variable_values(self, var_list: Sequence[np.ndarray]) -> None:
        """Each optimizer finalizes its own variables (the moving averages of ``use_ema``)."""
        if not self.built:
            return
        own: list[list[np.ndarray]] = [[] for _ in self._inner_optimizers]
        for var in var_list:
            own[self._optimizer_index(var)].append(var)
        for opt, variables in zip(self._inner_optimizers, own, strict=True):
            if variables and hasattr(opt, "finalize_variable_values"):
                opt.finalize_variable_values(variables)

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` (unchanged when it is None)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def check_own_variables(self, values: list, variables: list[np.ndarray]) -> list | None:
        """Check saved state against this optimizer built on ``variables`` (see
        :meth:`Optimizer.check_own_variables`). When the variables have no paths for the
        map to look up, the state is skipped with a warning (Keras skips a MultiOptimizer's
        saved state too) and the optimizer stays unbuilt."""
        if not self.built and len(values) > 2:
            try:
                self.build(variables)
            except _MissingPathError as error:
                warnings.warn(f"Skipping variable loading for optimizer '{self.name}': {error}",
                              stacklevel=2)
                return None
        if len(values) > 2 and len(values) != len(self.variables):
            # Keras' own MultiOptimizer files hold fewer: Keras skips them too, with this
            # warning
            warnings.warn(f"Skipping variable loading for optimizer '{self.name}', because "
                          f"it has {len(self.variables)} variables whereas the saved "
                          f"optimizer has {len(values)} variables.", stacklevel=2)
            return None
        return super().check_own_variables(values, variables)

    def load_own_variables(self, values: list | None, variables: list[np.ndarray]) -> None:
        """Restore the state checked by :meth:`check_own_variables`: the own variables,
        then each optimizer's, in :attr:`variables` order (nothing for skipped state)."""
        for target, value in zip(self.variables[:len(values or [])], values or [], strict=True):
            target[...] = value

    def get_config(self) -> dict:
        from minired.saving.serialization_lib import serialize_keras_object

        return {"optimizer_map": serialize_keras_object(self._optimizer_map),
                "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> MultiOptimizer:
        from minired.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        config["optimizer_map"] = deserialize_keras_object(config["optimizer_map"],
                                                           custom_objects=custom_objects)
        return cls(**config)


def _describe(variable: Any) -> str:
    path = path_of(variable)
    return repr(path) if path is not None else f"of shape {np.shape(variable)}"
