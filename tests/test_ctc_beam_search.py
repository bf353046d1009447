"""``ops.ctc_decode(strategy="beam_search")`` beside Keras (TensorFlow's
``ctc_beam_search_decoder``) on random logits, and beside a brute-force sum over every path
when the beam is wide enough to keep every prefix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minired import ops

#: (batch, steps, classes, beam_width, top_paths, mask_index): batches of 1 to 5, blanks
#: first, last, inside and None (the last class), beams narrow (1) to wider than the classes.
CASES = [
    (1, 1, 2, 1, 1, 0),
    (3, 5, 3, 2, 2, 0),
    (4, 7, 4, 5, 5, 0),
    (2, 8, 5, 3, 1, 4),
    (5, 6, 4, 4, 3, 2),
    (3, 9, 3, 8, 6, 1),
    (4, 6, 6, 6, 4, None),
    (2, 10, 4, 10, 10, 3),
]

#: TensorFlow's decoder rounds some intermediate values (the softmax normaliser, the parent's
#: probability) through float32 even for float64 inputs: measured differences up to 8e-8 on
#: scores of size 1-10, so float64 is judged at 1e-6 relative, not 1e-12.
RTOL = {"float32": 1e-5, "float64": 1e-6}


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def logits_of(n, steps, classes, dtype, seed):
    """Random logits (scale 2: peaked enough that beams differ) and lengths from ``T // 2``
    (long enough to hold ``top_paths`` prefixes) to ``T``, the first full."""
    rng = np.random.default_rng(seed)
    x = (2 * rng.normal(size=(n, steps, classes))).astype(dtype)
    lengths = rng.integers(steps // 2, steps + 1, n)
    lengths[0] = steps
    return x, lengths


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n, steps, classes, width, top, mask", CASES)
def test_beam_search_matches_keras(keras_env, dtype, n, steps, classes, width, top, mask):
    for seed in range(3):
        x, lengths = logits_of(n, steps, classes, dtype, seed)
        kwargs = dict(strategy="beam_search", beam_width=width, top_paths=top,
                      mask_index=mask)
        paths, scores = ops.ctc_decode(x, lengths, **kwargs)
        keras_paths, keras_scores = keras_env.keras.ops.ctc_decode(x, lengths, **kwargs)
        keras_paths, keras_scores = np.asarray(keras_paths), np.asarray(keras_scores)
        assert paths.dtype == keras_paths.dtype == np.int32
        assert scores.dtype == keras_scores.dtype == np.dtype(dtype)
        assert paths.shape == keras_paths.shape == (top, n, steps)
        assert scores.shape == (n, top)
        np.testing.assert_array_equal(paths, keras_paths)
        np.testing.assert_allclose(scores, keras_scores, rtol=RTOL[dtype], atol=0)


def test_merge_repeated_is_ignored_as_in_keras(keras_env):
    x, lengths = logits_of(3, 8, 3, "float32", 7)
    x[:, :, 1] += 3.0                        # repeated label 1 runs: "1 1" prefixes win
    for merge in (True, False):
        kwargs = dict(strategy="beam_search", beam_width=4, top_paths=3,
                      merge_repeated=merge)
        paths, scores = ops.ctc_decode(x, lengths, **kwargs)
        keras_paths, keras_scores = keras_env.keras.ops.ctc_decode(x, lengths, **kwargs)
        np.testing.assert_array_equal(paths, np.asarray(keras_paths))
        np.testing.assert_allclose(scores, np.asarray(keras_scores), rtol=1e-5)
    assert np.any(np.all(paths[:, :, :2] == 1, axis=-1))      # a repeat stays a repeat


def brute_force(z, blank):
    """Every prefix's probability, summing ``Π_t softmax(z_t)[π_t]`` over every path ``π``."""
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    totals: dict[tuple, float] = {}
    for path in itertools.product(range(z.shape[-1]), repeat=len(z)):
        collapsed = tuple(c for i, c in enumerate(path)
                          if c != blank and (i == 0 or c != path[i - 1]))
        totals[collapsed] = totals.get(collapsed, 0.0) + np.prod(p[np.arange(len(z)), path])
    return sorted(totals.items(), key=lambda item: -item[1])


@pytest.mark.parametrize("blank", [0, 1, 2])
def test_a_beam_wider_than_every_prefix_is_exact(blank):
    # 4 steps, 2 labels: 1 + 2 + 4 + 8 + 16 = 31 prefixes, all kept by a beam of 40
    z = np.random.default_rng(blank).normal(size=(2, 4, 3))
    paths, scores = ops.ctc_decode(z, [4, 4], strategy="beam_search", beam_width=40,
                                   top_paths=5, mask_index=blank)
    for sample in range(2):
        expected = brute_force(z[sample], blank)[:5]
        found = [tuple(int(c) for c in row if c >= 0) for row in paths[:, sample]]
        assert found == [prefix for prefix, _ in expected]
        np.testing.assert_allclose(scores[sample], np.log([p for _, p in expected]),
                                   rtol=1e-12)


def test_shorter_sequences_and_padding():
    z = np.log(np.array([[[.3, .7], [.4, .6]]] * 2))          # blank 0
    paths, scores = ops.ctc_decode(z, [2, 0], strategy="beam_search", top_paths=1)
    np.testing.assert_array_equal(paths, [[[1, -1], [-1, -1]]])
    np.testing.assert_allclose(np.exp(scores), [[0.88], [1.0]])   # P(1) = .42+.28+.18
    ints = ops.ctc_decode(np.zeros((1, 3, 3), dtype=int), [3], strategy="beam_search",
                          top_paths=2)[1]
    assert ints.dtype == np.float32


def test_keras_fails_too_where_too_few_prefixes_exist(keras_env):
    with pytest.raises(keras_env.tf.errors.InvalidArgumentError, match="Less leaves"):
        keras_env.keras.ops.ctc_decode(np.zeros((2, 3, 3), dtype="float32"), [3, 0],
                                       strategy="beam_search", top_paths=2)


def test_errors():
    z = np.zeros((2, 3, 3), dtype="float32")
    with pytest.raises(ValueError, match="top_paths"):
        ops.ctc_decode(z, [3, 3], strategy="beam_search", beam_width=2, top_paths=3)
    with pytest.raises(ValueError, match="found only 2 prefixes"):   # "" and "1" only
        ops.ctc_decode(z[:, :1, :2], [1, 1], strategy="beam_search", top_paths=3)
    with pytest.raises(ValueError, match="found only 1 prefixes"):   # an empty sequence
        ops.ctc_decode(z, [3, 0], strategy="beam_search", top_paths=2)
    with pytest.raises(ValueError, match="sequence_lengths"):
        ops.ctc_decode(z, [3, 4], strategy="beam_search")
    with pytest.raises(ValueError, match="Invalid strategy"):
        ops.ctc_decode(z, [3, 3], strategy="beam")
