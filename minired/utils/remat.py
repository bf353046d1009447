"""Rematerialisation (gradient checkpointing): ``keras.remat`` and ``keras.RematScope``.

To compute ``∂L/∂W`` a backward pass needs the activations ``a`` of the forward pass.
Keeping them all costs memory; *rematerialising* keeps only a layer's input and runs its
forward pass a second time during backward to get ``a`` back. That trades memory for time
and changes no number: the recomputed ``a`` is the same ``a``, so losses, gradients and
trained weights are identical with and without it (``comparisons/misc_names.py`` checks a
model trained under ``RematScope`` against Keras').

minired's models are small and keep every activation, so here ``remat(f)`` calls ``f`` and
``RematScope`` only records the mode Keras would use (:func:`get_current_remat_mode`): the
arguments are checked as Keras checks them and the results are the ones Keras computes.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable
from typing import Any

#: The active rematerialisation settings (Keras' ``RematMode``).
RematMode = namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])

_MODES = ("full", "activations", "larger_than", "list_of_layers", None)
_STACK: list[RematScope] = []


class RematScope:
    """A context manager that turns rematerialisation on for the layers it creates.

    Keras recomputes, during backward, the forward pass of the layers chosen by ``mode``
    instead of storing their activations; the values (forward ``a``, backward ``δ`` and
    ``∂L/∂W``) are the same either way, which is what minired computes.

    Args:
        mode: ``"full"`` (every layer), ``"activations"`` (the activation of each layer
            that has one), ``"larger_than"`` (layers whose output has more than
            ``output_size_threshold`` elements), ``"list_of_layers"`` (the layers named in
            ``layer_names``) or None (off).
        output_size_threshold: the size for ``"larger_than"``.
        layer_names: the names for ``"list_of_layers"``.

    Example:
        >>> with RematScope(mode="list_of_layers", layer_names=["dense_1"]):
        ...     get_current_remat_mode().layer_names
        ['dense_1']
        >>> get_current_remat_mode() is None
        True
    """

    def __init__(self, mode: str | None = "full", output_size_threshold: int = 1024,
                 layer_names: list[str] | None = None) -> None:
        if mode not in _MODES:
            raise ValueError(f"Invalid mode '{mode}'. Supported modes are: 'full', "
                             "'activations', 'larger_than', 'list_of_layers', or  None.")
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names or []
        self._pop_on_exit = False

    def __enter__(self) -> RematScope:
        _STACK.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *args) -> None:
        if self._pop_on_exit:
            _STACK.pop()


def get_current_remat_mode() -> RematMode | None:
    """The innermost :class:`RematScope`'s settings, or None outside any scope."""
    if not _STACK:
        return None
    scope = _STACK[-1]
    return RematMode(scope.mode, scope.output_size_threshold, scope.layer_names)


def remat(f: Callable) -> Callable:
    """Wrap ``f`` so that its backward pass recomputes its forward pass (``keras.remat``).

    Keras (``tf.recompute_grad`` on TensorFlow) stores only the inputs of ``f`` and runs
    ``f`` again when the gradient is needed. Recomputing gives the same activations, so
    ``y = f(x)`` and ``∂L/∂x = (∂y/∂x)ᵀ δ`` are unchanged; minired keeps the activations
    and simply calls ``f``.

    Args:
        f: the function (or layer) to rematerialise.

    Returns:
        A function with the same results as ``f``.

    Example:
        >>> twice = remat(lambda x: 2 * x)
        >>> twice(np.array([1.0, 2.0]))
        array([2., 4.])
    """

    @functools.wraps(f, updated=())
    def rematerialised(*args: Any, **kwargs: Any) -> Any:
        return f(*args, **kwargs)

    return rematerialised
