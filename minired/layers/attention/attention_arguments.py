"""Pieces shared by the attention layers: the checks of their arguments and the dropout
of the attention distribution ``P``."""

from __future__ import annotations

import numpy as np


def check_dropout(dropout, owner: str) -> None:
    """Refuse a ``dropout`` rate that is not a number in ``[0, 1)`` (a ValueError naming
    ``owner``, the layer's class).

    Example:
        >>> check_dropout(0.5, "Attention")
        >>> check_dropout(1.0, "Attention")
        Traceback (most recent call last):
        ...
        ValueError: Attention: `dropout` must be a float in [0, 1), got 1.0.
    """
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not (
            0 <= dropout < 1):
        raise ValueError(f"{owner}: `dropout` must be a float in [0, 1), got {dropout!r}.")


def call_flags(owner: str, return_attention_scores, use_causal_mask) -> dict:
    """The call's two switches, each checked to be a bool (else a TypeError naming
    ``owner``, e.g. ``"Attention 'attention'"``), as the call options a Keras node records:
    only those that are True.

    Example:
        >>> call_flags("Attention 'a'", True, False)
        {'return_attention_scores': True}
    """
    for argument, given in (("return_attention_scores", return_attention_scores),
                            ("use_causal_mask", use_causal_mask)):
        if not isinstance(given, bool | np.bool_):
            raise TypeError(f"{owner}: `{argument}` must be a bool, got {given!r}.")
    flags = {}
    if return_attention_scores:
        flags["return_attention_scores"] = True
    if use_causal_mask:
        flags["use_causal_mask"] = True
    return flags


def attention_dropout(probs: np.ndarray, rate: float, generator, training: bool,
                      dtype: np.dtype) -> tuple:
    """``P̃ = dropout(P)`` in training (``rate > 0``): ``P̃ = P · 1/(1-rate) · m`` with a keep
    mask ``m`` drawn from ``generator`` (both of ``dtype``); else ``P̃ = P``. Returns
    ``(P̃, m, 1/(1-rate))``, the last two None when nothing is dropped (the backward
    multiplies ``δP̃`` by both).

    Example:
        >>> p = np.full((1, 2), 0.5, dtype="float32")
        >>> attention_dropout(p, 0.0, None, training=True, dtype=p.dtype)[1:]
        (None, None)
    """
    if not (training and rate > 0):
        return probs, None, None
    mask = (generator.random(probs.shape) >= rate).astype(dtype)
    scale = dtype.type(1 / (1 - rate))
    return probs * scale * mask, mask, scale
