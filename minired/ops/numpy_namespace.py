"""``mr.ops.numpy``: Keras' ``keras.ops.numpy`` namespace, the NumPy-style ops.

In Keras ``keras.ops.numpy.sum is keras.ops.sum``: the same functions under a second name.
Here every ``mr.ops`` function is reachable as ``mr.ops.numpy.<name>`` (looked up in
:mod:`minired.ops` when asked), except the neural-network, image, CTC and control-flow
families, which Keras keeps out of ``keras.ops.numpy`` (``vectorize`` is in it). A few
more names answer here than in Keras (the linear-algebra and math ops that Keras files under
``keras.ops.linalg`` and ``keras.ops.math``, which minired keeps in one ``mr.ops``).

Example:
    >>> from minired import ops
    >>> ops.numpy.sum is ops.sum
    True
"""

from __future__ import annotations

#: The families of ``mr.ops`` that are not in ``keras.ops.numpy``.
_NOT_NUMPY = ("minired.ops.nn", "minired.ops.nn_conv", "minired.ops.nn_extras",
              "minired.ops.ctc", "minired.ops.control_flow", "minired.ops.image")


def _is_numpy_op(name: str) -> bool:
    from minired import ops

    value = getattr(ops, name, None)
    return (callable(value) and not name.startswith("_")
            and (name == "vectorize" or getattr(value, "__module__", "") not in _NOT_NUMPY))


def __getattr__(name: str):
    if _is_numpy_op(name):
        from minired import ops

        return getattr(ops, name)
    raise AttributeError(f"module 'minired.ops.numpy' has no attribute {name!r}")


def __dir__() -> list[str]:
    from minired import ops

    return sorted(name for name in dir(ops) if _is_numpy_op(name))
