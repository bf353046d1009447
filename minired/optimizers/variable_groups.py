"""Small variables updated together, as one array: fewer NumPy calls, the same numbers.

An update such as Adam's is a dozen NumPy calls per variable. On a bias of 10 numbers each
call costs far more than its arithmetic: NumPy's dispatch takes about half a microsecond,
the ten multiplications a few nanoseconds. Most variables of a model are small (every bias,
the last kernels): on the MLP 784-256-128-10, five of its six variables, 60 of the 72 calls
of Adam's step.

When the update treats every element on its own (:attr:`Optimizer._elementwise`: no sum,
no norm, no shape), the small variables of one dtype can be updated as one array:

- their optimizer state (Adam's ``m`` and ``v``...) lies in one flat array per slot, of
  which each variable's slot is a view (:func:`pack_slots`);
- before the update, their gradients and weights are copied one after another into two
  flat arrays (:meth:`VariableGroup.gather`); ``update_step`` runs once, on those;
- after it, the new weights are copied back (:meth:`VariableGroup.scatter`).

The arithmetic is the same on the same numbers, element by element, so the results are the
same bit for bit: 12 calls per small variable become 12 calls in all and 3 copies per
variable. A copy of a small array is cheap; a large one is not, so variables of
``GROUP_BYTES`` or more keep their own update. Measured (one thread): the benchmark's tiny
16-16-16-10 MLP takes 125 µs a step instead of 142; on the 784-256-128-10 MLP, whose large
kernel's update dominates, the copies cost what the saved calls gain.

Example:
    >>> variables = [np.ones(2, np.float32), np.ones((2, 2), np.float32)]
    >>> group = VariableGroup([0, 1], variables)
    >>> group.gather([np.full(2, 0.5, np.float32), np.zeros((2, 2), np.float32)], variables)
    >>> group.gradient
    array([0.5, 0.5, 0. , 0. , 0. , 0. ], dtype=float32)
    >>> group.weights -= group.gradient          # one update for both variables
    >>> group.scatter(variables)
    >>> variables[0]
    array([0.5, 0.5], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Variables smaller than this (in bytes) are updated together with the other small
#: variables of their dtype: 64 KiB, 16,384 float32 numbers.
GROUP_BYTES = 64 * 1024


class VariableGroup:
    """Variables of one dtype whose update runs once, on flat copies of them all.

    Args:
        indices: the positions of the variables among the optimizer's variables.
        variables: those variables, in that order (all of one dtype).
    """

    def __init__(self, indices: Sequence[int], variables: Sequence[np.ndarray]) -> None:
        self.indices = list(indices)
        self.shapes = [v.shape for v in variables]
        total = sum(v.size for v in variables)
        dtype = variables[0].dtype
        self.weights = np.empty(total, dtype)    #: the members' weights, one after another
        self.gradient = np.empty(total, dtype)   #: their gradients, in the same places
        self._weight_parts = self.parts_of(self.weights)
        self._gradient_parts = self.parts_of(self.gradient)

    def parts_of(self, flat: np.ndarray) -> list[np.ndarray]:
        """Views of ``flat``, one per member, of its shape, one after another."""
        parts, start = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            parts.append(flat[start:start + size].reshape(shape))
            start += size
        return parts

    def gather(self, grads: Sequence[np.ndarray], variables: Sequence[np.ndarray]) -> None:
        """Copy the members' gradients (cast to the group's dtype) and weights into
        :attr:`gradient` and :attr:`weights`; ``grads`` and ``variables`` are the
        optimizer's whole lists."""
        for i, gradient_part, weight_part in zip(self.indices, self._gradient_parts,
                                                 self._weight_parts, strict=True):
            np.copyto(gradient_part, grads[i], casting="same_kind")
            np.copyto(weight_part, variables[i])

    def scatter(self, variables: Sequence[np.ndarray]) -> None:
        """Copy the updated :attr:`weights` back into the members, in place."""
        for i, weight_part in zip(self.indices, self._weight_parts, strict=True):
            np.copyto(variables[i], weight_part)


def small_variable_groups(variables: Sequence[np.ndarray]) -> list[VariableGroup]:
    """One :class:`VariableGroup` per dtype of the variables under :data:`GROUP_BYTES`
    (where at least two are), in the order of ``variables``.

    Example:
        >>> big, small = np.zeros(100_000, np.float32), np.zeros(10, np.float32)
        >>> [group.indices for group in small_variable_groups([big, small, small.copy()])]
        [[1, 2]]
    """
    by_dtype: dict[np.dtype, list[int]] = {}
    for i, variable in enumerate(variables):
        if variable.nbytes < GROUP_BYTES:
            by_dtype.setdefault(variable.dtype, []).append(i)
    return [VariableGroup(indices, [variables[i] for i in indices])
            for indices in by_dtype.values() if len(indices) > 1]


def pack_slots(slots: list[np.ndarray], group: VariableGroup) -> np.ndarray:
    """Put the group members' slots (one of ``slots`` per variable) into one flat array,
    which is returned; each member's entry of ``slots`` becomes a view of it (the same
    values), so the state read or saved per variable is the state the group updates.

    Example:
        >>> slots = [np.zeros(3), np.ones(2)]
        >>> flat = pack_slots(slots, VariableGroup([0, 1], slots))
        >>> flat += 1
        >>> slots[1]
        array([2., 2.])
    """
    flat = np.concatenate([slots[i].reshape(-1) for i in group.indices])
    for i, part in zip(group.indices, group.parts_of(flat), strict=True):
        slots[i] = part
    return flat
