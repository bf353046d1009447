"""CTC ops (Keras' ``ops.ctc_loss`` and ``ops.ctc_decode``).

``ctc_loss`` reuses the α-β recursion of :class:`minired.losses.CTC` (its docstring has the
math) and records its gradient ``∂ℓ/∂z = softmax(z) − occupancy`` as the VJP; the label
and output lengths and the blank's index are handled here, around it. ``ctc_decode`` is
the greedy decoder (TensorFlow's ``ctc_greedy_decoder``) or the prefix beam search
(TensorFlow's ``ctc_beam_search_decoder``).

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


def _log_softmax_blank_last(x: np.ndarray, blank: int) -> np.ndarray:
    """Log-probabilities ``z − (max z + log Σ exp(z − max z))`` over the classes, with class
    ``blank`` moved to the last column (as Keras hands the scores to TensorFlow)."""
    order = [*(c for c in range(x.shape[-1]) if c != blank), blank]
    x = x[..., order]
    top = np.max(x, axis=-1, keepdims=True)
    return x - (top + np.log(np.sum(np.exp(x - top), axis=-1, keepdims=True)))


def _beam_search(logp: np.ndarray, lengths: np.ndarray, beam_width: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CTC prefix beam search on log-probabilities ``(N, T, C)`` whose last class is the blank.

    Each beam is a prefix ``ℓ`` (the labels emitted so far) with two log-probabilities at
    step ``t``: ``P_b(ℓ)`` (its paths end in a blank) and ``P_l(ℓ)`` (they end in ``ℓ``'s
    last label ``c``); ``P(ℓ) = P_b + P_l``. One step, from ``p_t = softmax(z_t)``:

    * every beam stays: ``P_b(ℓ) ← P(ℓ) p_t(blank)``,
      ``P_l(ℓ) ← (P_l(ℓ) + P'(ℓ⁻)) p_t(c)`` where ``ℓ⁻`` is ``ℓ`` without ``c`` and
      ``P'(ℓ⁻)`` is ``P_b(ℓ⁻)`` if ``ℓ⁻`` also ends in ``c``, else ``P(ℓ⁻)``, counted only
      while ``ℓ⁻`` is itself a beam;
    * then, most probable first, each beam grows by each label ``k`` into a prefix that is
      not a beam: ``P_b(ℓk) = 0``, ``P_l(ℓk) = P'(ℓ) p_t(k)``; a child more probable than
      the least probable beam replaces it once ``beam_width`` beams exist.

    This is TensorFlow's ``CTCBeamSearchDecoder::Step``, including one effect of its order:
    a beam pushed out of the beam before its parent grew by its label is forgotten by the
    parent and then does not grow itself. The loops run over the steps and the beams; all
    the samples move together (a sample whose sequence has ended keeps its beams).

    Returns:
        ``(prefixes, sizes, scores)``: ``(N, W, T)`` labels padded with −1, ``(N, W)``
        prefix lengths and ``(N, W)`` log-probabilities ``log P(ℓ)``, most probable first
        (``−inf`` where fewer than ``W`` prefixes exist).
    """
    n, steps, classes = logp.shape
    labels, width = classes - 1, beam_width
    rows, beams = np.arange(n)[:, None], np.arange(width)[None, :]
    prefix = np.full((n, width, steps), -1, dtype=np.int64)
    size = np.zeros((n, width), dtype=np.int64)
    blank = np.full((n, width), -np.inf, dtype=logp.dtype)
    label = np.full_like(blank, -np.inf)
    blank[:, 0] = 0.0                           # the empty prefix, probability 1
    for t in range(steps):
        p = logp[:, t]                                                    # (N, C)
        total = np.logaddexp(blank, label)      # beams sorted by it, most probable first
        valid = total > -np.inf
        last = np.where(size > 0, prefix[rows, beams, np.maximum(size - 1, 0)], -1)
        # parent[n, k, j]: beam j is beam k without its last label
        used = max(int(size.max()), 1)
        shortened = prefix[..., :used].copy()
        shortened[rows, beams, np.maximum(size - 1, 0)] = -1
        parent = np.all(shortened[:, :, None] == prefix[:, None, :, :used], axis=-1)
        parent &= (valid & (size > 0))[:, :, None] & valid[:, None, :]
        parent &= size[:, None, :] == size[:, :, None] - 1
        has_parent, up = parent.any(axis=-1), parent.argmax(axis=-1)
        from_parent = np.where(last == last[rows, up], blank[rows, up], total[rows, up])
        from_parent = np.where(has_parent, from_parent, -np.inf)
        # the beams stay
        stay_label = np.where(size > 0, np.logaddexp(label, from_parent)
                              + p[rows, np.maximum(last, 0)], -np.inf)
        stay_blank = total + p[:, labels, None]
        # the children: beam k grown by label l (child[n, k, l]: the beam it already is)
        k = np.arange(labels)
        grow = p[:, None, :labels] + np.where(k == last[..., None], blank[..., None],
                                              total[..., None])             # (N, W, C-1)
        child = np.full(grow.shape, -1)
        nn, jj = np.nonzero(has_parent)
        child[nn, up[nn, jj], last[nn, jj]] = jj
        grow[child >= 0] = -np.inf
        pool = np.concatenate([np.logaddexp(stay_blank, stay_label), grow.reshape(n, -1)],
                              axis=1)
        best = _grow_beams(pool, total, child, width, labels)
        # the new beams, most probable first
        grown = best >= width
        source = np.where(grown, (best - width) // labels, np.maximum(best, 0))
        added = (best - width) % labels
        new_prefix = prefix[rows, source]
        new_size = size[rows, source] + grown
        rr, bb = np.nonzero(grown)
        new_prefix[rr, bb, size[rr, source[rr, bb]]] = added[rr, bb]
        kept = best >= 0
        new_blank = np.where(grown, -np.inf, stay_blank[rows, source])
        new_label = np.where(grown, pool[rows, np.maximum(best, 0)], stay_label[rows, source])
        new_blank, new_label = (np.where(kept, v, -np.inf) for v in (new_blank, new_label))
        new_prefix[~kept], new_size[~kept] = -1, 0
        running = (t < lengths)[:, None]
        prefix = np.where(running[..., None], new_prefix, prefix)
        size, blank, label = (np.where(running, new, old) for new, old in
                              ((new_size, size), (new_blank, blank), (new_label, label)))
    return prefix, size, np.logaddexp(blank, label)


def _grow_beams(pool: np.ndarray, old: np.ndarray, child: np.ndarray, width: int,
                labels: int) -> np.ndarray:
    """The beams kept after one step: pool indices ``(N, W)``, most probable first (−1: none).

    ``pool[:, :W]`` holds the beams' new log-probabilities, ``pool[:, W + k (C−1) + l]`` the
    child of beam ``k`` by label ``l`` (−inf when it is a beam already, ``child[:, k, l]``),
    ``old`` the beams' log-probabilities before the step. As TensorFlow, the beams grow one
    after the other (most probable ``old`` first); beam ``k`` grows unless the beam is full
    and ``old[k]`` is not above its least probable member, or unless it was forgotten: an
    existing child that its parent meets outside the beam is reset and grows no more.
    """
    n = len(pool)
    rows = np.arange(n)[:, None]
    kept = np.where(pool[:, :width] > -np.inf, np.arange(width), -1)     # (N, W) indices
    score = np.where(kept >= 0, pool[:, :width], -np.inf)
    forgotten = np.zeros((n, width), dtype=bool)
    for k in range(width):
        full = np.all(kept >= 0, axis=1)
        grows = (old[:, k] > -np.inf) & ~forgotten[:, k] & (~full | (old[:, k] > score.min(1)))
        # existing children met outside the beam (left it, or pushed out by the children of
        # beam k with smaller labels before their own label came)
        nn, ll = np.nonzero(grows[:, None] & (child[:, k] >= 0))
        if len(nn):
            j = child[nn, k, ll]
            mine = pool[nn, j]
            inside = np.any(kept[nn] == j[:, None], axis=1)
            above = np.sum(score[nn] > mine[:, None], axis=1)
            earlier = pool[nn, width + k * labels: width + k * labels + labels]
            above += np.sum((earlier > mine[:, None]) & (np.arange(labels) < ll[:, None]),
                            axis=1)
            forgotten[nn[~inside | (above >= width)], j[~inside | (above >= width)]] = True
        # the kept beams and the new children: the `width` most probable (a tie stays out)
        new = np.where(grows[:, None], pool[:, width + k * labels: width + (k + 1) * labels],
                       -np.inf)
        both = np.concatenate([score, new], axis=1)
        both_index = np.concatenate([kept, np.broadcast_to(width + k * labels
                                                           + np.arange(labels), new.shape)],
                                    axis=1)
        order = np.argsort(-both, axis=1, kind="stable")[:, :width]
        score = both[rows, order]
        kept = np.where(score > -np.inf, both_index[rows, order], -1)
    return kept


def ctc_decode(inputs, sequence_lengths, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True, mask_index: int | None = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """CTC decoding, greedy or by beam search, as Keras' TensorFlow backend.

    ``strategy="greedy"`` (TensorFlow's ``ctc_greedy_decoder``): the best class of each
    step (``argmax`` over the classes, for the first ``sequence_lengths[n]`` steps), repeats
    merged (``merge_repeated``), blanks removed. Returns ``decoded`` int32 ``(1, N, T)``
    padded with ``−1`` and ``scores`` ``(N, 1)``, the negative sum over the steps of each
    step's largest input value.

    ``strategy="beam_search"`` (TensorFlow's ``ctc_beam_search_decoder``, a prefix beam
    search on ``p_t = softmax(z_t)``; the recursion is in ``_beam_search``): keeps the
    ``beam_width`` most probable label prefixes ``ℓ`` step by step, where ``P(ℓ)`` sums
    the probabilities of every path that collapses to ``ℓ`` (repeats merged, blanks
    removed). Returns ``decoded`` int32 ``(top_paths, N, T)``, the ``top_paths`` most
    probable prefixes padded with ``−1``, and ``scores`` ``(N, top_paths)``, their
    ``log P(ℓ)``. As in Keras (TensorFlow 2's decoder), ``merge_repeated`` is ignored.

    There is no gradient (the outputs are labels and a search's scores).

    Args:
        inputs: scores ``(N, T, C)`` (logits or log-probabilities).
        sequence_lengths: ``(N,)`` step counts (at most ``T``).
        strategy: ``"greedy"`` or ``"beam_search"``.
        beam_width: the number of prefixes the beam search keeps.
        top_paths: the number of prefixes it returns (at most ``beam_width``).
        merge_repeated: merge repeated classes before removing blanks (greedy only).
        mask_index: the class of the blank (``None``: the last class).

    Example:
        >>> z = np.log(np.array([[[.1, .8, .1], [.1, .8, .1], [.9, .05, .05], [.1, .1, .8]]]))
        >>> ctc_decode(z, [4])[0][0]
        array([[ 1,  2, -1, -1]], dtype=int32)
        >>> z = np.log(np.array([[[.3, .7], [.4, .6]]]))   # blank 0: P(1) = .88, P() = .12
        >>> paths, scores = ctc_decode(z, [2], strategy="beam_search", top_paths=2)
        >>> paths[:, 0], np.exp(scores).round(2)
        (array([[ 1, -1],
               [-1, -1]], dtype=int32), array([[0.88, 0.12]]))
    """
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and "
                         "'beam_search'.")
    x = _float(inputs)
    dtype = np.result_type(x.dtype, np.float32)
    x = x.astype(dtype, copy=False)
    if x.ndim != 3:
        raise ValueError(f"ops.ctc_decode: expected `inputs` of shape (N, T, C), got shape "
                         f"{x.shape}.")
    n, steps, classes = x.shape
    lengths = np.asarray(_value(sequence_lengths)).astype(np.int64).reshape(-1)
    if len(lengths) != n or np.any(lengths > steps) or np.any(lengths < 0):
        raise ValueError(f"ops.ctc_decode: `sequence_lengths` must hold {n} values in "
                         f"[0, {steps}], got {lengths.tolist()}.")
    blank = classes - 1 if mask_index is None else int(mask_index) % classes
    if strategy == "beam_search":
        beam_width, top_paths = int(beam_width), int(top_paths)
        if not 1 <= top_paths <= beam_width:
            raise ValueError(f"ops.ctc_decode: expected 1 <= top_paths <= beam_width, got "
                             f"top_paths={top_paths} and beam_width={beam_width}.")
        prefix, _, scores = _beam_search(_log_softmax_blank_last(x, blank), lengths,
                                         beam_width)
        found = np.sum(scores > -np.inf, axis=1)
        if np.any(found < top_paths):
            raise ValueError(f"ops.ctc_decode: top_paths={top_paths} but the beam search "
                             f"found only {found.min()} prefixes for some sample (at most "
                             "(C - 1) ** T label sequences exist).")
        prefix = prefix[:, :top_paths]
        decoded = np.where(prefix >= blank, prefix + 1, prefix)     # the caller's classes
        decoded = np.where(prefix < 0, -1, decoded)
        return decoded.transpose(1, 0, 2).astype(np.int32), scores[:, :top_paths]
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
