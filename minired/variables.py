"""``mr.Variable``: a weight, as Keras' ``keras.Variable``: a NumPy array with a name.

A Variable *is* a NumPy array (a :class:`~minired.autodiff.tensor.Tensor`), so it can be
used everywhere an array can: ``ops.matmul(x, self.w)``, ``x @ self.w``, ``np.copy(w)``.
It also carries what training needs:

- ``gradient``: the array ``∂L/∂w`` beside it, which backward passes add to;
- ``trainable``: whether the optimizer updates it (a counter or a moving mean is not);
- ``regularizer``: an optional penalty ``R(w)`` added to the loss;
- ``constraint``: an optional projection ``w ← c(w)`` the optimizer applies after each update;
- ``assign``, ``assign_add``, ``assign_sub``: change the value in place, as Keras does.

The tape treats every Variable as a leaf: inside a recorded ``call()`` its gradient is
computed like any input's.
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np

from minired import config
from minired.autodiff.tensor import Tensor
from minired.utils.name_scope import current_path
from minired.utils.naming import auto_name

_FROZEN: list[bool] = []     # while not empty, assign() changes nothing (shape inference)
_WATCHERS: list = []         # functions told of each Variable about to be assigned (StatelessScope)


class Variable(Tensor):
    """A named weight array with a gradient buffer (Keras' ``keras.Variable``).

    Args:
        initializer: the initial value (an array or a number), or an initializer (a Keras
            name such as ``"zeros"``, an ``mr.initializers`` object, or a function
            ``f(shape, dtype)``), which then needs ``shape``.
        shape: the shape, when ``initializer`` is not a value.
        dtype: the dtype; ``mr.config.floatx()`` when None.
        trainable: whether the optimizer updates it.
        name: its name (``"variable"``, ``"variable_1"``... when None).
        regularizer: a penalty ``R(w)`` added to the loss, or None.
        constraint: a function ``c(w)`` (e.g. ``mr.constraints.MaxNorm()``) the optimizer
            applies after each update, ``w ← c(w)``, or None (Keras' ``variable.constraint``).

    Example:
        >>> w = Variable(np.ones((2, 3)), name="w")
        >>> w.assign_add(np.ones((2, 3)))
        >>> float(w.sum()), w.shape, w.trainable
        (12.0, (2, 3), True)
    """

    def __new__(cls, initializer, shape=None, dtype=None, trainable: bool = True,
                name: str | None = None, regularizer=None, constraint=None, **kwargs):
        for key in ("autocast", "aggregation", "synchronization"):  # distribution, in Keras
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(f"Variable got unexpected keyword arguments {sorted(kwargs)}.")
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name!r}")
        dtype = np.dtype(dtype or config.floatx())
        value = _initial_value(initializer, shape, dtype)
        variable = np.array(value, dtype=dtype, copy=True).view(cls)
        variable._origin = "variable"
        variable.name = name or auto_name("variable")
        variable._scope_path = current_path()     # the mr.name_scope(s) open now
        variable.trainable = bool(trainable)
        variable.regularizer = regularizer
        variable.constraint = constraint
        variable.gradient = np.zeros(variable.shape, dtype=dtype)
        return variable

    def __array_finalize__(self, obj) -> None:
        # A view or a slice NumPy makes of a Variable is an untraced Tensor, not a new weight.
        self._origin = "numpy"

    @property
    def constraint(self):
        """The projection the optimizer applies after each update (``w ← c(w)``), or None."""
        return self.__dict__.get("_constraint")

    @constraint.setter
    def constraint(self, value) -> None:
        if value is not None and not callable(value):
            raise ValueError("Invalid value for attribute `constraint`. Expected a callable "
                             "(such as a `mr.constraints.Constraint` instance) or `None`. "
                             f"Received: constraint={value!r}")
        self.__dict__["_constraint"] = value

    @property
    def path(self) -> str:
        """``"scope/name"``: the ``mr.name_scope`` open at creation, then the name."""
        scope = self.__dict__.get("_scope_path", "")
        return f"{scope}/{self.name}" if scope else self.name

    @property
    def value(self) -> np.ndarray:
        """The current value as a plain array (sharing memory)."""
        return self.view(np.ndarray)

    def assign(self, value) -> None:
        """Set the value in place (the shape must not change)."""
        value = np.asarray(value)
        if value.shape != self.shape:
            raise ValueError("The shape of the target variable and the shape of the target "
                             "value in `variable.assign(value)` must match. "
                             f"variable.shape={self.shape}, Received: value.shape={value.shape}."
                             f" Target variable: {self.name!r}")
        for watch in _WATCHERS:
            watch(self)
        if not _FROZEN:
            self.view(np.ndarray)[...] = value

    def assign_add(self, value) -> None:
        """``w ← w + value``, in place."""
        self.assign(self.view(np.ndarray) + np.asarray(value))

    def assign_sub(self, value) -> None:
        """``w ← w - value``, in place."""
        self.assign(self.view(np.ndarray) - np.asarray(value))

    def __repr__(self) -> str:
        return (f"<Variable path={self.name}, shape={self.shape}, dtype={self.dtype}, "
                f"value={self.view(np.ndarray)!r}>")

    def __hash__(self) -> int:         # a weight is one object: usable as a dict key
        return id(self)

    # -- copies: NumPy copies only the numbers of an array subclass; a Variable's name,
    # ``trainable``, regularizer and gradient buffer go with them (copy.deepcopy, pickle).
    def __deepcopy__(self, memo: dict) -> Variable:
        new = np.ndarray.__deepcopy__(self, memo)
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def __reduce__(self):
        rebuild, arguments, array_state = super().__reduce__()
        return rebuild, arguments, (array_state, self.__dict__)

    def __setstate__(self, state) -> None:
        array_state, attributes = state
        super().__setstate__(array_state)
        self.__dict__.update(attributes)


def _initial_value(initializer, shape, dtype: np.dtype) -> np.ndarray:
    """The value ``initializer`` stands for."""
    if isinstance(initializer, str) or callable(initializer):
        from minired import initializers

        if shape is None:
            raise ValueError("When creating a Variable from an initializer, the `shape` "
                             f"argument should be specified. Received: initializer="
                             f"{initializer!r} and shape={shape}")
        shape = tuple(int(d) for d in shape)
        return np.asarray(initializers.get(initializer)(shape, dtype=dtype.name))
    value = np.asarray(initializer)
    if shape is not None and tuple(shape) != value.shape:
        raise ValueError(f"Variable: the initial value has shape {value.shape}, but "
                         f"`shape` is {tuple(shape)}.")
    return value


@contextlib.contextmanager
def frozen_variables():
    """Within this block ``assign`` changes no Variable: a call run only to learn its output
    shape leaves counters and moving means as they were (Keras' stateless scope)."""
    _FROZEN.append(True)
    try:
        yield
    finally:
        _FROZEN.pop()
