"""The third catalogue of ops against ``keras.ops``: segment reductions, ``rearrange``,
``extract_sequences`` and the FFT family.

The checks of :mod:`test_ops_keras_catalog2`:

- in float64 the values agree to ``1e-12``; in float32 the dtypes are Keras' and the values
  agree to float32 rounding;
- for every case in ``DIFFERENTIABLE``, the tape's gradient with respect to every float input
  equals ``tf.GradientTape``'s (random upstream gradient, float64);
- for a sample of them, the tape's gradient equals central finite differences.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from test_ops_keras import FLOAT32_TOLERANCE, compare, keras_env  # noqa: F401 (fixture)
from test_ops_keras_catalog import float_names, float_outputs, tape_and_tensorflow_gradients

from minired import ops
from minired.autodiff import GradientTape
from minired.gradcheck import numerical_gradient, relative_error


def inputs3(dtype: str) -> SimpleNamespace:
    """Small seeded arrays: segment data with ties and zeros, ids, images to rearrange."""
    rng = np.random.default_rng(21)
    d = rng.uniform(-2, 2, (6, 3))
    d[0, 0] = d[1, 0] = 1.5                      # a tied maximum in segment 0 (sorted ids)
    d[3, 1] = d[5, 1] = -1.75                    # a tied minimum in segment 3
    z = rng.uniform(0.5, 2, (6, 3))
    z[2, 0] = 0.0                                # segment 1: one zero
    z[3, 2] = z[4, 2] = 0.0                      # segment 3: two zeros
    return SimpleNamespace(
        d=d.astype(dtype), z=z.astype(dtype),
        smooth=rng.uniform(-2, 2, (6, 2)).astype(dtype),
        d3=rng.uniform(-2, 2, (6, 2, 2)).astype(dtype),
        sorted_ids=np.array([0, 0, 1, 3, 3, 3], dtype="int32"),     # segment 2 is empty
        ids=np.array([2, 0, -1, 2, 0, 4], dtype="int32"),           # a dropped row, gaps
        dense_ids=np.array([1, 0, 1, 2, 0, 2], dtype="int32"),
        img=rng.uniform(-2, 2, (2, 4, 6, 3)).astype(dtype),
        sig=rng.uniform(-1, 1, (2, 20)).astype(dtype),
        re=rng.uniform(-1, 1, (2, 3, 6)).astype(dtype),
        im=rng.uniform(-1, 1, (2, 3, 6)).astype(dtype),
        half_re=rng.uniform(-1, 1, (2, 5, 5)).astype(dtype),   # 5 frames of 5 bins (N = 8)
        half_im=rng.uniform(-1, 1, (2, 5, 5)).astype(dtype),
        win=rng.uniform(0.5, 1, 6).astype(dtype),
        ints=np.array([[3, 1], [-4, 2], [5, 0], [2, 2], [1, 7], [0, -1]], dtype="int32"),
    )


_SEGMENT_OPS = ("segment_sum", "segment_max", "segment_min", "segment_prod")

CASES = {
    # -- segment reductions --------------------------------------------------------------------
    **{f"{name}_sorted": lambda o, a, name=name: getattr(o, name)(a.d, a.sorted_ids,
                                                                  sorted=True)
       for name in _SEGMENT_OPS},
    **{f"{name}_unsorted": lambda o, a, name=name: getattr(o, name)(a.d, a.ids, 6)
       for name in _SEGMENT_OPS},
    **{f"{name}_default_count": lambda o, a, name=name: getattr(o, name)(a.d3, a.dense_ids)
       for name in _SEGMENT_OPS},
    **{f"{name}_zeros": lambda o, a, name=name: getattr(o, name)(a.z, a.sorted_ids,
                                                                 sorted=True)
       for name in _SEGMENT_OPS},
    **{f"{name}_zeros_unsorted": lambda o, a, name=name: getattr(o, name)(
        a.z, a.sorted_ids, num_segments=5) for name in _SEGMENT_OPS},
    **{f"{name}_ints": lambda o, a, name=name: getattr(o, name)(a.ints, a.ids, 5)
       for name in _SEGMENT_OPS},
    "segment_max_smooth": lambda o, a: o.segment_max(a.smooth, a.dense_ids),
    "segment_min_smooth": lambda o, a: o.segment_min(a.smooth, a.sorted_ids, sorted=True),
    # -- rearrange (Keras' docstring examples, on a small batch) -------------------------------
    "rearrange_bchw": lambda o, a: o.rearrange(a.img, "b h w c -> b c h w"),
    "rearrange_merge_batch": lambda o, a: o.rearrange(a.img, "b h w c -> (b h) w c"),
    "rearrange_merge_width": lambda o, a: o.rearrange(a.img, "b h w c->h (b w) c"),
    "rearrange_flatten": lambda o, a: o.rearrange(a.img, "b h w c -> b (c h w)"),
    "rearrange_patches": lambda o, a: o.rearrange(
        a.img, "b (h1 h) (w1 w) c -> (b h1 w1) h w c", h1=2, w1=3),
    "rearrange_space_to_depth": lambda o, a: o.rearrange(
        a.img, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2),
    "rearrange_both_given": lambda o, a: o.rearrange(a.d3, "(p q) r s -> q (s p) r", p=3, q=2),
    "rearrange_identity": lambda o, a: o.rearrange(a.d, "i j -> i j"),
    "rearrange_ints": lambda o, a: o.rearrange(a.ints, "(a b) c -> b (c a)", b=2),
    # -- signals -----------------------------------------------------------------------------
    "extract_sequences": lambda o, a: o.extract_sequences(a.sig, 5, 3),
    "extract_sequences_overlap": lambda o, a: o.extract_sequences(a.re, 4, 1),
    "extract_sequences_gaps": lambda o, a: o.extract_sequences(a.sig, 2, 5),
    "extract_sequences_ints": lambda o, a: o.extract_sequences(a.ints, 1, 1),
    "fft": lambda o, a: list(o.fft((a.re, a.im))),
    "fft_odd": lambda o, a: list(o.fft((a.re[..., :5], a.im[..., :5]))),
    "fft2": lambda o, a: list(o.fft2((a.re, a.im))),
    "ifft2": lambda o, a: list(o.ifft2((a.re, a.im))),
    # (Keras' rfft converts a NumPy float64 array to float32: the cases pass tensors, see
    # test_rfft_of_float64_stays_float64)
    "rfft": lambda o, a: list(o.rfft(o.convert_to_tensor(a.re))),
    "rfft_pad": lambda o, a: list(o.rfft(o.convert_to_tensor(a.sig), fft_length=25)),
    "rfft_crop": lambda o, a: list(o.rfft(o.convert_to_tensor(a.sig), fft_length=7)),
    "irfft": lambda o, a: o.irfft((a.re, a.im)),
    "irfft_odd": lambda o, a: o.irfft((a.re, a.im), fft_length=11),
    "irfft_crop": lambda o, a: o.irfft((a.re, a.im), fft_length=6),
    "irfft_pad": lambda o, a: o.irfft((a.re[..., :4], a.im[..., :4]), fft_length=10),
    "stft": lambda o, a: list(o.stft(a.sig, 6, 3, 8)),
    "stft_hamming": lambda o, a: list(o.stft(a.sig, 5, 2, 5, window="hamming")),
    "stft_none_no_center": lambda o, a: list(o.stft(a.sig, 4, 3, 6, window=None,
                                                    center=False)),
    "stft_array_window": lambda o, a: list(o.stft(a.sig, 6, 2, 9, window=a.win)),
    "istft": lambda o, a: o.istft((a.half_re, a.half_im), 8, 2, 8),
    "istft_length": lambda o, a: o.istft((a.half_re, a.half_im), 6, 3, 8, length=9,
                                         window="hamming"),
    "istft_no_center": lambda o, a: o.istft((a.half_re, a.half_im), 7, 4, 8, window=None,
                                            center=False),
    "istft_array_window": lambda o, a: o.istft((a.half_re, a.half_im), 6, 2, 8,
                                               window=a.win),
    "istft_of_stft": lambda o, a: o.istft(o.stft(a.sig, 8, 2, 8), 8, 2, 8, length=20),
}


def compare_values(ours, theirs, tolerance: float) -> None:
    compare(ours, theirs, tolerance)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_keras_in_float64(keras_env, name):  # noqa: F811 (the fixture)
    a = inputs3("float64")
    with keras_env.precision("float64"):
        compare_values(CASES[name](ops, a), CASES[name](keras_env.keras.ops, a), 1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_dtypes_and_values_match_keras_in_float32(keras_env, name):  # noqa: F811
    a = inputs3("float32")
    with keras_env.precision("float32"):
        compare_values(CASES[name](ops, a), CASES[name](keras_env.keras.ops, a),
                       FLOAT32_TOLERANCE)


# -- gradients ---------------------------------------------------------------------------------
#: TensorFlow's gradients of rfft and irfft fail with a shape error when ``fft_length``
#: crops the input (its RFFT/IRFFT gradients assume an uncropped input): those two cases are
#: checked by finite differences only.
TENSORFLOW_FAILS = {"rfft_crop", "irfft_crop"}
DIFFERENTIABLE = sorted(name for name in CASES
                        if not name.endswith("_ints") and name not in TENSORFLOW_FAILS)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_match_tensorflow(keras_env, name):  # noqa: F811
    """The tape's gradient and ``tf.GradientTape``'s, for a random upstream gradient."""
    names, ours, theirs, _ = tape_and_tensorflow_gradients(keras_env, CASES[name],
                                                           inputs3("float64"))
    nonzero = 0
    for n, mine, their in zip(names, ours, theirs, strict=True):
        np.testing.assert_allclose(mine, their, rtol=1e-10, atol=1e-12, err_msg=n)
        nonzero += bool(np.any(their != 0))
    assert nonzero, "the case reaches no float input: nothing was compared"


FINITE_DIFFERENCE_CASES = ("segment_sum_unsorted", "segment_prod_zeros",
                           "segment_prod_unsorted", "segment_max_smooth", "segment_min_smooth",
                           "rearrange_patches", "extract_sequences_overlap", "fft", "ifft2",
                           "rfft_crop", "irfft_crop", "irfft_pad", "stft", "istft_length")


@pytest.mark.parametrize("name", FINITE_DIFFERENCE_CASES)
def test_tape_gradients_match_finite_differences(name):
    """The tape's VJP against central differences of ``Σ δa ⊙ f(x)`` (float64)."""
    plain = inputs3("float64")
    rng = np.random.default_rng(1)
    outs = float_outputs(CASES[name](ops, plain))
    upstream = [rng.standard_normal(np.shape(o)) for o in outs]
    names = float_names(plain)
    with GradientTape() as tape:
        watched = SimpleNamespace(**vars(plain))
        for n in names:
            setattr(watched, n, tape.watch(getattr(plain, n)))
        out = float_outputs(CASES[name](ops, watched))
    grads = tape.gradient(out, [getattr(watched, n) for n in names], output_gradient=upstream)

    def objective() -> float:
        values = float_outputs(CASES[name](ops, plain))
        return float(sum(np.sum(u * v) for u, v in zip(upstream, values, strict=True)))

    checked = 0
    for n, grad in zip(names, grads, strict=True):
        if not np.any(grad):
            continue
        numeric = numerical_gradient(objective, getattr(plain, n))
        assert relative_error(grad, numeric) < 1e-7, n
        checked += 1
    assert checked


def test_segment_gradients_of_ties_and_zeros():
    """Tied maxima share ``δa`` equally; a segment with two zeros has no gradient."""
    x = np.array([2.0, 2.0, 1.0, 0.0, 0.0, 3.0])
    ids = np.array([0, 0, 0, 1, 1, 2])
    with GradientTape() as tape:
        w = tape.watch(x)
        total = ops.sum(ops.segment_max(w, ids))
    np.testing.assert_array_equal(tape.gradient(total, w), [0.5, 0.5, 0, 0.5, 0.5, 1])
    with GradientTape() as tape:
        w = tape.watch(x)
        total = ops.sum(ops.segment_prod(w, ids, sorted=True))
    np.testing.assert_array_equal(tape.gradient(total, w), [2, 2, 4, 0, 0, 1])


#: The ops of this catalogue with a VJP, each checked above against TensorFlow or finite
#: differences (``test_every_op_with_a_gradient_is_checked``), and those without.
NO_GRADIENT = {"jvp", "polar", "view_as_complex", "view_as_real"}   # (refused: see below)
WITH_GRADIENT = {"segment_sum", "segment_max", "segment_min", "segment_prod", "rearrange",
                 "extract_sequences", "fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft"}


def test_every_op_with_a_gradient_is_checked():
    from minired.ops import einops, refused, segments, spectral

    modules = (einops, refused, segments, spectral)
    names = {n for m in modules for n, f in vars(m).items() if n in ops.__all__
             and getattr(f, "__module__", None) == m.__name__}
    assert names == NO_GRADIENT | WITH_GRADIENT and not NO_GRADIENT & WITH_GRADIENT
    checked = set(DIFFERENTIABLE) | set(FINITE_DIFFERENCE_CASES)
    unchecked = {n for n in WITH_GRADIENT
                 if not any(c == n or c.startswith(n + "_") for c in checked)}
    assert unchecked == set()


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: ops.segment_sum(np.ones(3), np.array([0, 1, 1]), 2, sorted=True), ValueError,
     "num_segments"),
    (lambda: ops.segment_max(np.ones(3), np.array([1, 0, 1]), sorted=True), ValueError,
     "non-decreasing"),
    (lambda: ops.segment_sum(np.ones(3), np.array([0, 0, 3])), ValueError, "num_segments=2"),
    (lambda: ops.segment_min(np.ones(3), np.array([[0, 1, 1]])), ValueError, "1-D"),
    (lambda: ops.segment_prod(np.ones(3), np.array([0, 1])), ValueError, "leading"),
    (lambda: ops.segment_sum(np.ones(2), np.array([0.0, 1.0])), TypeError, "integers"),
    (lambda: ops.rearrange(np.ones((2, 3)), "a b"), ValueError, "->"),
    (lambda: ops.extract_sequences(np.ones(5), 0, 1), ValueError, "sequence_length"),
    (lambda: ops.fft(np.ones(4)), ValueError, "tuple of two"),
    (lambda: ops.fft((np.ones(4), np.ones(3))), ValueError, "same shape"),
    (lambda: ops.fft2((np.ones((2, 2), dtype="int32"),) * 2), ValueError, "not of type float"),
    (lambda: ops.rfft(np.ones(4, dtype="int32")), TypeError, "float"),
    (lambda: ops.irfft((np.ones(3), np.ones(3)), fft_length=0), ValueError, "fft_length"),
    (lambda: ops.stft(np.ones(8), 4, 0, 4), ValueError, "sequence_stride"),
    (lambda: ops.stft(np.ones(8), 4, 1, 3), ValueError, "fft_length"),
    (lambda: ops.stft(np.ones(8, dtype="int32"), 4, 1, 4), TypeError, "float32"),
    (lambda: ops.stft(np.ones(8), 4, 1, 4, window="kaiser"), ValueError, "hann"),
    (lambda: ops.stft(np.ones(8), 4, 1, 4, window=np.ones(3)), ValueError, "window"),
    (lambda: ops.stft(np.ones(3), 4, 1, 8), ValueError, "longer"),
    (lambda: ops.istft((np.ones((2, 3)),) * 2, 4, 1, 4, window="blackman"), ValueError,
     "hann"),
    (lambda: ops.rearrange(np.ones((2, 3)), "a b c -> c b a"), ValueError, "names 3 axes"),
    (lambda: ops.rearrange(np.ones((2, 3)), "a b -> a c"), ValueError, "same axes"),
    (lambda: ops.rearrange(np.ones((6, 3)), "(a b) c -> a b c"), ValueError, "inferred"),
    (lambda: ops.rearrange(np.ones((6, 3)), "(a b) c -> a b c", a=4), ValueError,
     "do not split"),
])
def test_bad_arguments_are_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_rfft_of_float64_stays_float64(keras_env):  # noqa: F811
    """Keras' TensorFlow rfft converts a NumPy float64 array with ``preferred_dtype=float32``
    and so computes in float32 (a tensor stays float64); minired keeps float64."""
    x = np.random.default_rng(4).uniform(-1, 1, (2, 6))
    real, imag = ops.rfft(x)
    assert real.dtype == imag.dtype == np.float64
    np.testing.assert_allclose(real + 1j * imag, np.fft.rfft(x), rtol=1e-14, atol=1e-14)
    theirs = keras_env.keras.ops.rfft(x)[0]
    assert keras_env.keras.ops.convert_to_numpy(theirs).dtype == np.float32


def test_istft_inverts_stft_away_from_the_ends():
    signal = np.random.default_rng(5).uniform(-1, 1, 40)
    back = ops.istft(ops.stft(signal, 8, 2, 8), 8, 2, 8, length=40)
    np.testing.assert_allclose(back[6:-6], signal[6:-6], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: ops.jvp(lambda x: x, (np.ones(2),), (np.ones(2),)), "forward-mode"),
    (lambda: ops.polar(np.ones(2), np.zeros(2)), "complex"),
    (lambda: ops.view_as_complex(np.ones((2, 2))), "complex"),
    (lambda: ops.view_as_real(np.ones(2) + 1j), "complex"),
])
def test_ops_without_a_minired_meaning_are_refused(call, match):
    with pytest.raises(NotImplementedError, match=match):
        call()


#: Keras ops kept under their names only to refuse (tested just above).
REFUSED = {"jvp", "polar", "view_as_complex", "view_as_real"}
