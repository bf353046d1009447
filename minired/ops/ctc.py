"""CTC ops (Keras' ``ops.ctc_loss`` and ``ops.ctc_decode``).

``ctc_loss`` reuses the α-β recursion of :class:`minired.losses.CTC` (its docstring has the
math) and records its gradient ``∂ℓ/∂z = softmax(z) − occupancy`` as the VJP; the label
and output lengths and the blank's index are handled here, around it. ``ctc_decode`` is
the greedy decoder (TensorFlow's ``ctc_greedy_decoder``).

Example:
    >>> float(ctc_loss(np.array([[1]]), np.zeros((1, 2, 2)), [1], [2])[0])  # -log(3/4)
    0.2876820724517809
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import record
from minired.losses.ctc import CTC
from minired.ops.elementwise import _float, _value


def _blank_first(values: np.ndarray, mask_index: int) -> np.ndarray:
    """The class axis reordered so that class ``mask_index`` (the blank) comes first."""
    order = [mask_index, *(c for c in range(values.shape[-1]) if c != mask_index)]
    return values[..., order]


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """The CTC loss ``ℓ_n = −log P(y_n | z_n)`` of each sample, from logits.

    Forward and backward: :class:`minired.losses.CTC` (the α-β recursion) on the first
    ``output_length[n]`` steps of ``output[n]`` and the first ``target_length[n]`` labels of
    ``target[n]``; VJP ``δz_{n,t,k} = δℓ_n (softmax(z_{n,t})_k − Σ_{s: y'_s = k} γ_{n,t}(s))``
    for ``t < output_length[n]``, 0 after.

    Args:
        target: integer labels ``(N, L)``; values after ``target_length`` are ignored.
        output: logits ``(N, T, C)``.
        target_length: ``(N,)`` label counts.
        output_length: ``(N,)`` step counts (at most ``T``).
        mask_index: the class of the blank.

    Returns:
        ``(N,)`` losses (``inf`` where no alignment fits).

    Example:
        >>> ctc_loss(np.array([[2, 0]]), np.zeros((1, 1, 3)), [1], [1]).round(4)
        array([1.0986])
    """
    z = _float(output)
    labels = np.asarray(_value(target)).astype(np.int64)
    if z.ndim != 3 or labels.ndim != 2 or len(labels) != len(z):
        raise ValueError(f"ops.ctc_loss: expected target (N, L) and output (N, T, C), got "
                         f"shapes {labels.shape} and {z.shape}.")
    steps, classes = z.shape[1:]
    mask_index = int(mask_index) % classes
    target_length = np.asarray(_value(target_length)).astype(np.int64).reshape(-1)
    output_length = np.asarray(_value(output_length)).astype(np.int64).reshape(-1)
    if np.any(output_length > steps) or np.any(output_length < 1):
        raise ValueError(f"ops.ctc_loss: `output_length` must lie in [1, {steps}], got "
                         f"{output_length.tolist()}.")
    # labels in the order where the blank is class 0, zero (padding) after the length
    shifted = np.where(labels < mask_index, labels + 1, labels)
    shifted = np.where(np.arange(labels.shape[1]) < target_length[:, None], shifted, 0)
    logits = _blank_first(z, mask_index)
    loss = np.zeros(len(z), dtype=z.dtype)
    grad_logits = np.zeros_like(logits)
    ctc = CTC()
    for length in np.unique(output_length):        # one pass per distinct length
        rows = output_length == length
        values, grads = ctc.values_and_gradients(shifted[rows], logits[rows, :length])
        loss[rows] = values
        grad_logits[rows, :length] = grads
    inverse = np.argsort([mask_index, *(c for c in range(classes) if c != mask_index)])
    grad_z = grad_logits[..., inverse]                 # back to the caller's class order

    def vjp(grad):
        return (None, grad[:, None, None] * grad_z, None, None)

    return record(loss, (target, output, target_length, output_length), vjp)


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Greedy CTC decoding: the best class of each step (``argmax`` over the classes, for the
    first ``sequence_lengths[n]`` steps), repeats merged (``merge_repeated``), blanks
    removed; as TensorFlow's ``ctc_greedy_decoder``.

    Returns:
        ``(decoded, scores)``: ``decoded`` int32 ``(1, N, T)`` padded with ``−1``; ``scores``
        ``(N, 1)``, the negative sum over the steps of each step's largest input value.

    Only ``strategy="greedy"`` is implemented (beam search is not: ValueError).

    Args:
        inputs: scores ``(N, T, C)`` (logits or log-probabilities).
        sequence_lengths: ``(N,)`` step counts.
        strategy: ``"greedy"`` (``"beam_search"`` is not implemented).
        beam_width, top_paths: of the beam search (unused).
        merge_repeated: merge repeated classes before removing blanks.
        mask_index: the class of the blank.

    Example:
        >>> z = np.log(np.array([[[.1, .8, .1], [.1, .8, .1], [.9, .05, .05], [.1, .1, .8]]]))
        >>> ctc_decode(z, [4])[0][0]
        array([[ 1,  2, -1, -1]], dtype=int32)
    """
    if strategy == "beam_search":
        raise ValueError("ops.ctc_decode: minired implements strategy='greedy' only (beam "
                         "search is not implemented).")
    if strategy != "greedy":
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and "
                         "'beam_search'.")
    x = _float(inputs)
    dtype = np.result_type(x.dtype, np.float32)
    x = x.astype(dtype, copy=False)
    n, steps, classes = x.shape
    lengths = np.asarray(_value(sequence_lengths)).astype(np.int64).reshape(-1)
    blank = int(mask_index) % classes
    best = np.argmax(x, axis=-1)                                     # (N, T)
    inside = np.arange(steps) < lengths[:, None]
    scores = -np.sum(np.where(inside, np.max(x, axis=-1), 0), axis=1, keepdims=True)
    keep = inside & (best != blank)
    if merge_repeated:
        repeated = np.zeros_like(keep)
        repeated[:, 1:] = best[:, 1:] == best[:, :-1]
        keep &= ~repeated
    # the kept classes moved to the front of each row, -1 after them
    position = np.cumsum(keep, axis=1) - 1
    decoded = np.full((n, steps), -1, dtype=np.int32)
    rows, cols = np.nonzero(keep)
    decoded[rows, position[rows, cols]] = best[rows, cols]
    return decoded[None], scores.astype(dtype)
