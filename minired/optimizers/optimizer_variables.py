"""What an optimizer of your own calls, as in Keras 3: ``add_variable``,
``add_variable_from_reference``, ``add_optimizer_variables``, ``assign``, ``assign_add``,
``assign_sub``, ``exclude_from_weight_decay`` and ``set_weights``.

Keras' guide to a new optimizer (the docstring of ``keras.optimizers.Optimizer``) writes
``build`` and ``update_step`` with these::

    class MomentumSGD(mr.optimizers.Optimizer):
        def __init__(self, learning_rate=0.01, momentum=0.9, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)
            self.momentum = momentum

        def build(self, variables):
            super().build(variables)
            self.momentums = [self.add_variable_from_reference(v, name="momentum")
                              for v in variables]

        def update_step(self, gradient, variable, learning_rate):
            lr = mr.ops.cast(learning_rate, variable.dtype)
            m = self.momentums[self._get_variable_index(variable)]
            self.assign(m, m * mr.ops.cast(self.momentum, variable.dtype) - gradient * lr)
            self.assign_add(variable, m)

The state made here is listed by :attr:`~minired.optimizers.Optimizer.variables` after the
built-in state (``iterations``, the learning rate, then the slots), in the order it was
made, as Keras lists it, and it is saved and loaded with the optimizer.

The functions are the methods of :class:`~minired.optimizers.Optimizer` (``opt.assign(v,
x)`` calls :func:`assign` with the optimizer).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from minired.variables import Variable


def add_variable(optimizer, shape, initializer="zeros", dtype=None, aggregation: str = "none",
                 layout=None, name: str | None = None) -> Variable:
    """A new state Variable of the optimizer (non-trainable), listed in :attr:`variables`.

    Args:
        shape: its shape.
        initializer: a Keras name (default ``"zeros"``), an initializer or a value.
        dtype: ``mr.config.floatx()`` when None.
        aggregation, layout: Keras' distribution arguments, accepted and ignored.
        name: its name; its path is ``"<optimizer name>/<name>"``, as in Keras.

    Example:
        >>> from minired.optimizers import SGD
        >>> opt = SGD()
        >>> v = opt.add_variable((2,), name="count")
        >>> v.path, opt.variables[-1] is v
        ('sgd/count', True)
    """
    from minired import initializers
    from minired.utils.name_scope import name_scope

    if isinstance(initializer, str):
        initializer = initializers.get(initializer)
    with name_scope(optimizer.name, caller=optimizer):
        variable = Variable(initializer, shape=shape, dtype=dtype, trainable=False, name=name)
    optimizer.__dict__.setdefault("_added_variables", []).append(variable)
    return variable


def add_variable_from_reference(optimizer, reference_variable, name: str | None = None,
                                initializer="zeros") -> Variable:
    """A state Variable of the shape and dtype of ``reference_variable`` (a model weight),
    named ``"<its path, / as _>_<name>"`` as Keras names it (``name`` defaults to ``"var"``).

    A built-in minired layer keeps its weights in plain arrays: their path is the one Keras
    would give them (``"sequential_dense_kernel_momentum"``) once a model has trained
    (see :mod:`~minired.optimizers.variable_paths`), else ``"variable"``.
    """
    from minired.optimizers.variable_paths import path_of

    reference_path = path_of(reference_variable) or getattr(reference_variable, "name", None)
    name = f"{str(reference_path or 'variable').replace('/', '_')}_{name or 'var'}"
    return add_variable(optimizer, reference_variable.shape, initializer=initializer,
                        dtype=reference_variable.dtype, name=name)


def add_optimizer_variables(optimizer, trainable_variables, name, initializer="zeros"):
    """One state Variable per model variable (:func:`add_variable_from_reference`); with a
    list of names, one list per name, made variable by variable (m₀, v₀, m₁, v₁...), as
    Keras makes them. Returns a list, or a tuple of lists for a list of names."""
    from minired import initializers

    names = [name] if isinstance(name, str) else list(name)
    if isinstance(name, str) or isinstance(initializer, str | initializers.Initializer):
        inits = [initializer] * len(names)
    else:
        inits = list(initializer)
    if len(names) != len(inits):
        raise ValueError("The number of provided names must match the number of provided "
                         f"initializers.  Received name='{name}', initializer='{initializer}'")
    lists: tuple[list, ...] = tuple([] for _ in names)
    for variable in trainable_variables:
        for slots, slot_name, init in zip(lists, names, inits, strict=True):
            slots.append(add_variable_from_reference(optimizer, variable, name=slot_name,
                                                     initializer=init))
    return lists[0] if isinstance(name, str) else lists


def _value_for(variable: np.ndarray, value, caller: str) -> np.ndarray:
    """``value`` as an array that fits ``variable``: of its shape for ``assign`` (as Keras'
    ``Variable.assign``), broadcastable to it for ``assign_add``/``assign_sub``."""
    value = np.asarray(value)
    fits = (value.shape == variable.shape if caller == "assign" else
            np.broadcast_shapes(value.shape, variable.shape) == variable.shape)
    if not fits:
        raise ValueError(f"Optimizer.{caller}: the value has shape {value.shape}, which does "
                         f"not fit the variable's shape {variable.shape}.")
    return value


def assign(optimizer, variable: np.ndarray, value) -> None:
    """``variable ← value``, in place (a model weight or an optimizer Variable).

    Example:
        >>> from minired.optimizers import SGD
        >>> w = np.zeros(2, "float32")
        >>> SGD().assign(w, [1.0, 2.0]); w
        array([1., 2.], dtype=float32)
    """
    np.copyto(variable, _value_for(variable, value, "assign"), casting="unsafe")


def assign_add(optimizer, variable: np.ndarray, value) -> None:
    """``variable ← variable + value``, in place (rounded as Keras: the sum in the
    variable's dtype)."""
    value = _value_for(variable, value, "assign_add")
    np.add(variable, value.astype(variable.dtype, copy=False), out=variable)


def assign_sub(optimizer, variable: np.ndarray, value) -> None:
    """``variable ← variable - value``, in place."""
    value = _value_for(variable, value, "assign_sub")
    np.subtract(variable, value.astype(variable.dtype, copy=False), out=variable)


def exclude_from_weight_decay(optimizer, var_list=None, var_names=None) -> None:
    """Leave some variables out of the weight decay ``w ← w - w·wd·lr`` (call it before
    the first step, as in Keras).

    Args:
        var_list: the variables (arrays) to leave out.
        var_names: strings: a variable whose name contains one of them is left out
            (``["bias"]``: every bias). A built-in layer's weight is named as in Keras
            (``"kernel"``, ``"bias"``, ``"gamma"``...).

    Example:
        >>> from minired.optimizers import AdamW
        >>> w, b = np.ones(2, "float32"), np.ones(2, "float32")
        >>> opt = AdamW(learning_rate=0.5, weight_decay=0.1)
        >>> opt.exclude_from_weight_decay(var_list=[b])
        >>> _ = opt.apply_gradients([(np.zeros(2, "float32"), w), (np.zeros(2, "float32"), b)])
        >>> float(w[0]), float(b[0])
        (0.949999988079071, 1.0)
    """
    optimizer._exclude_from_weight_decay = {id(v) for v in var_list or []}
    optimizer._excluded_arrays = list(var_list or [])    # their ids stay theirs
    optimizer._exclude_from_weight_decay_pattern = (
        re.compile("|".join(set(var_names))) if var_names else None)


def use_weight_decay(optimizer, variable: np.ndarray) -> bool:
    """Whether the weight decay applies to ``variable`` (see :func:`exclude_from_weight_decay`)."""
    if id(variable) in getattr(optimizer, "_exclude_from_weight_decay", ()):
        return False
    pattern = getattr(optimizer, "_exclude_from_weight_decay_pattern", None)
    if pattern is None:
        return True
    from minired.optimizers.variable_paths import path_of

    name = getattr(variable, "name", None)
    if name is None:
        name = (path_of(variable) or "").rsplit("/", 1)[-1]
    return re.search(pattern, name) is None


def set_weights(optimizer, weights: list) -> None:
    """Copy ``weights`` (arrays, in :attr:`variables` order) into the optimizer's state.

    As Keras: the optimizer must be built, each array must have its variable's shape, and
    the pairs are taken up to the shorter list.
    """
    if not optimizer.built:
        raise ValueError("You are calling `set_weights()` on an optimizer that has not yet "
                         "been built. Please call `optimizer.build(trainable_variables)` to "
                         "create the optimizer weights before calling `set_weights()`.")
    for i, (variable, weight) in enumerate(zip(optimizer.variables, weights, strict=False)):
        if np.shape(variable) != np.shape(weight):
            raise ValueError(f"Optimizer variable {i} has shape {np.shape(variable)} not "
                             f"compatible with provided weight shape {np.shape(weight)}.")
        variable[...] = weight


def added_variables(optimizer) -> list[Any]:
    """The Variables made by :func:`add_variable`, in order."""
    return optimizer.__dict__.get("_added_variables", [])
