"""``rearrange``: Keras' einops-style reordering, splitting and merging of axes.

A pattern ``"b (h h1) w c -> b h (w h1) c"`` names the axes of the input (left) and of the
output (right); parentheses group axes that share one dimension of the array. The grammar is
Keras' (``keras/src/ops/einops.py``): the names are ``\\w+`` words, a group is ``( … )``, and
the length of a split axis comes from the keyword arguments (at most one per group may be
left out and is inferred from the dimension).

Forward, as Keras: a reshape that splits the grouped input axes, a transpose into the
output order, a reshape that merges the output groups. The three are minired's ``reshape``
and ``transpose``, so the VJP is theirs: ``δx`` is ``δa`` reshaped back to the split axes,
transposed by the inverse permutation and reshaped to the input's shape.

Example:
    >>> from minired import ops
    >>> ops.rearrange(np.arange(6).reshape(2, 3), "h w -> w h").shape
    (3, 2)
"""

from __future__ import annotations

import math
import re

import numpy as np

from minired.ops import shapes as sh
from minired.ops.elementwise import _value

_AXIS = re.compile(r"\w+|\(.*?\)")
_GROUP = re.compile(r"\(([\w\s]+)\)")


def _groups(axes: list[str], side: str, pattern: str) -> list[list[str]]:
    groups = []
    for axis in axes:
        if axis.startswith("("):
            match = _GROUP.fullmatch(axis)
            if match is None:
                raise ValueError(f"rearrange: the group {axis!r} of the {side} of `pattern` "
                                 f"{pattern!r} must hold axis names (words).")
            groups.append(match.group(1).split())
        else:
            groups.append([axis])
    return groups


def rearrange(tensor, pattern: str, **axes_lengths: int):
    """Reorder, split and merge the axes of ``tensor`` as ``pattern`` says (einops-style).

    ``a = reshape(transpose(reshape(x, split shape), order), merged shape)``.
    VJP: ``δx = reshape(transpose(reshape(δa, permuted split shape), order⁻¹), x.shape)``.

    Args:
        tensor: the array.
        pattern: ``"input axes -> output axes"``, e.g. ``"b h w c -> b c h w"`` or
            ``"b (h h1) (w w1) c -> b h w (c h1 w1)"``.
        **axes_lengths: the lengths of the axes split out of a group, e.g. ``h1=2``.

    Example:
        >>> x = np.arange(24).reshape(2, 4, 3)
        >>> rearrange(x, "b (h h1) c -> b h (c h1)", h1=2).shape
        (2, 2, 6)
        >>> rearrange(x, "b h c -> (b h) c")[4]
        array([12, 13, 14])
    """
    if not isinstance(pattern, str) or "->" not in pattern:
        raise ValueError(f"rearrange: `pattern` must be a string 'input axes -> output axes', "
                         f"got {pattern!r}.")
    sides = re.split(r"\s*->\s*", pattern)
    if len(sides) != 2:
        raise ValueError(f"rearrange: `pattern` must have exactly one '->', got {pattern!r}.")
    input_axes, output_axes = (_AXIS.findall(side) for side in sides)
    shape = np.shape(_value(tensor))
    if len(input_axes) != len(shape):
        raise ValueError(f"rearrange: the input side of `pattern` {pattern!r} names "
                         f"{len(input_axes)} axes, but `tensor` has {len(shape)} (shape "
                         f"{shape}).")
    input_groups = _groups(input_axes, "input", pattern)
    output_groups = _groups(output_axes, "output", pattern)

    lengths = {}                                     # each named axis' length
    for group, dim in zip(input_groups, shape, strict=True):
        if len(group) == 1 and group[0] not in axes_lengths:
            lengths[group[0]] = dim
            continue
        unknown = [a for a in group if a not in axes_lengths]
        if len(unknown) > 1:
            raise ValueError(f"rearrange: in the group ({' '.join(group)}) only one axis "
                             f"length may be inferred; give the others in `axes_lengths` "
                             f"(missing: {unknown}).")
        known = math.prod(int(axes_lengths[a]) for a in group if a in axes_lengths)
        for a in group:
            lengths[a] = int(axes_lengths[a]) if a in axes_lengths else dim // max(known, 1)
        if math.prod(lengths[a] for a in group) != dim:
            raise ValueError(f"rearrange: the axes ({' '.join(group)}) of lengths "
                             f"{[lengths[a] for a in group]} do not split the dimension "
                             f"{dim} of `tensor`.")
    flat_in = [a for group in input_groups for a in group]
    flat_out = [a for group in output_groups for a in group]
    if len(set(flat_in)) != len(flat_in) or sorted(flat_in) != sorted(flat_out):
        raise ValueError(f"rearrange: both sides of `pattern` {pattern!r} must name the same "
                         f"axes, each once; got {flat_in} and {flat_out}.")

    split_shape = tuple(lengths[a] for a in flat_in)
    x = tensor if split_shape == tuple(shape) else sh.reshape(tensor, split_shape)
    x = sh.transpose(x, [flat_in.index(a) for a in flat_out])
    return sh.reshape(x, tuple(math.prod(lengths[a] for a in g) for g in output_groups))
