"""``Tensor``: a NumPy array that ``mr.ops`` can trace while a tape records.

A user's ``call()`` receives Tensors during training, and may treat them as the NumPy
arrays they are: ``x @ self.w + self.b``, ``x[:, 0]``, ``x.sum(axis=1)``, ``np.exp(x)``.
Each of these is sent to the ``mr.ops`` function of the same name, so it is recorded
(NumPy calls ``__array_ufunc__`` for operators and ufuncs, and ``__array_function__``
for functions such as ``np.sum``). An operation minired cannot differentiate raises a
``TypeError`` naming it, instead of silently dropping a gradient.

Outside a tape a Tensor computes like any array and the results are plain arrays.
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import active_tape

# Where a Tensor came from. Only "op" (made by an mr.ops function), "leaf" (watched) and
# "variable" are followed by the tape; "numpy" means a NumPy method made it behind the
# tape's back (e.g. ``x.view()``), and using it in a recorded op is an error.
_FOLLOWED = ("op", "leaf", "variable")


class Tensor(np.ndarray):
    """A NumPy array the tape can follow (see the module docstring)."""

    _origin = "numpy"

    def __array_finalize__(self, obj) -> None:
        self._origin = "numpy"

    # -- NumPy's dispatch ---------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        recording = active_tape() is not None and any(isinstance(x, Tensor) for x in inputs)
        if recording and out is None:
            return _dispatch(_ufunc_op_name(ufunc, method), f"np.{ufunc.__name__}"
                             + ("" if method == "__call__" else f".{method}"), inputs, kwargs)
        if recording and any(isinstance(o, Tensor) and o._origin in _FOLLOWED for o in out):
            raise TypeError(
                "An in-place operation (e.g. `np.add(x, 1, out=x)`) on an array the tape "
                "records would change a value its backward pass needs: write `x = x + 1`.")
        inputs = tuple(_plain(x) for x in inputs)
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        return out[0] if out is not None and len(out) == 1 else result

    def __array_function__(self, func, types, args, kwargs):
        if active_tape() is not None:
            shown = f"{func.__module__.replace('numpy', 'np', 1)}.{func.__name__}"
            # np.fft's functions take complex arrays, keras.ops' fft a (real, imag) pair:
            # the same names, other operations, so they are not sent to mr.ops
            name = None if func.__module__.startswith("numpy.fft") else func.__name__
            return _dispatch(name, shown, args, kwargs)
        return func(*_plain_all(args), **_plain_all(kwargs))

    # -- methods NumPy runs without dispatching: sent to mr.ops explicitly --------------------
    def __getitem__(self, key):
        from minired import ops

        return ops.getitem(self, key)

    def reshape(self, *shape, **kwargs):
        from minired import ops

        return ops.reshape(self, shape[0] if len(shape) == 1 else shape, **kwargs)

    def transpose(self, *axes):
        from minired import ops

        return ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    @property
    def T(self):  # noqa: N802 (NumPy's name)
        from minired import ops

        return ops.transpose(self)

    def astype(self, dtype, **kwargs):
        from minired import ops

        return ops.cast(self, dtype)

    def sum(self, axis=None, keepdims=False, **kwargs):
        from minired import ops

        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, **kwargs):
        from minired import ops

        return ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False, **kwargs):
        from minired import ops

        return ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, **kwargs):
        from minired import ops

        return ops.min(self, axis=axis, keepdims=keepdims)

    # -- `x += y` on a recorded array makes a new one (as on a TensorFlow tensor) -------------
    def _rebinds(self) -> bool:
        return active_tape() is not None and self._origin in ("op", "leaf")

    def __iadd__(self, other):
        return self + other if self._rebinds() else super().__iadd__(other)

    def __isub__(self, other):
        return self - other if self._rebinds() else super().__isub__(other)

    def __imul__(self, other):
        return self * other if self._rebinds() else super().__imul__(other)

    def __itruediv__(self, other):
        return self / other if self._rebinds() else super().__itruediv__(other)

    def prod(self, axis=None, keepdims=False, **kwargs):
        from minired import ops

        return ops.prod(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, **kwargs):
        from minired import ops

        return ops.var(self, axis=axis, keepdims=keepdims)

    def std(self, axis=None, keepdims=False, **kwargs):
        from minired import ops

        return ops.std(self, axis=axis, keepdims=keepdims)

    def numpy(self) -> np.ndarray:
        """A plain copy, as Keras' ``tensor.numpy()``."""
        return np.array(self, copy=True).view(np.ndarray)

    def __repr__(self) -> str:
        return repr(_plain(self)).replace("array(", "Tensor(", 1)


def as_leaf(array) -> Tensor:
    """A new traced leaf holding ``array`` (no copy when it is already an ndarray)."""
    leaf = np.asarray(array).view(Tensor)
    leaf._origin = "leaf"
    return leaf


def traced(array: np.ndarray) -> Tensor:
    """An op's result as a traced Tensor (the ops call this through ``record``)."""
    out = np.asarray(array).view(Tensor)
    out._origin = "op"
    return out


def check_recordable(value) -> None:
    """Refuse a Tensor made by a NumPy method the tape did not see (its gradient would be
    lost without a word)."""
    if isinstance(value, Tensor) and value._origin not in _FOLLOWED:
        raise TypeError(
            "This array was made from a recorded one by a NumPy method minired's tape does "
            "not follow (such as .view(), .copy(), .flatten(), .ravel(), .swapaxes()), so its "
            "gradient would be lost. Use the mr.ops function instead (mr.ops.reshape, "
            "mr.ops.transpose, ...).")


def _dispatch(op_name: str | None, shown: str, args, kwargs):
    """Run the ``mr.ops`` function ``op_name`` on ``args``, or explain why not."""
    from minired import ops

    function = getattr(ops, op_name, None) if op_name else None
    if function is None:
        raise TypeError(
            f"{shown} is not differentiable by minired's tape: write it with mr.ops (see "
            "dir(mr.ops)), or compute it outside the layer's call().")
    return function(*args, **kwargs)


def _ufunc_op_name(ufunc, method: str) -> str | None:
    """The mr.ops name of a NumPy ufunc call (``np.add`` is ``+``), or None."""
    if method == "reduce":
        return {"add": "sum", "maximum": "max", "minimum": "min",
                "multiply": "prod"}.get(ufunc.__name__)
    if method != "__call__":
        return None
    return _UFUNC_NAMES.get(ufunc.__name__, ufunc.__name__)


# NumPy's ufunc names whose mr.ops (Keras) name differs.
_UFUNC_NAMES = {"true_divide": "divide", "absolute": "abs", "fabs": "abs",
                "float_power": "power", "remainder": "mod", "rint": "round"}


def _plain(value):
    """A Tensor as a plain ndarray sharing its memory; anything else unchanged."""
    return value.view(np.ndarray) if isinstance(value, Tensor) else value


def _plain_all(structure):
    if isinstance(structure, dict):
        return {key: _plain_all(value) for key, value in structure.items()}
    if isinstance(structure, list | tuple):
        return type(structure)(_plain_all(item) for item in structure)
    return _plain(structure)
