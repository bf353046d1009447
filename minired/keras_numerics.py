"""Keras' numerics: what it takes, beyond the formulas, to match TensorFlow bit for bit.

The teaching code writes every formula once, the way Keras writes it. A few results would
still differ from Keras in the last bits, because of what TensorFlow does with the *numbers*
rather than with the math. Each such quirk lives here, once, with what it is, why TensorFlow
does it, and the comparison that fails without it (run ``python -m comparisons <case>``;
``--list`` names them all). Nothing here changes the math: a learner can read every call as
"this constant", "this cosine" or "this comparison" and lose nothing.

1. A Python float becomes a float32 tensor (:func:`keras_tensor_dtype`,
   :func:`as_keras_constant`).
   What: ``ops.cast(0.9, "float64")`` is 0.8999999761581421, not 0.9; in float64 mode SGD's
   momentum, Adam's and Nadam's betas inside ``beta^t``, Nadam's 0.96, the weight decay,
   Adagrad's initial accumulator, every regularizer factor (``L2(0.01)`` multiplies by
   0.009999999776482582), ``Constant(0.1)`` and a schedule's constants are rounded to float32
   first. A schedule whose initial rate is a Python float also *computes* in float32.
   Why: ``tf.cast`` first converts its argument to a tensor, and TensorFlow's default dtype
   for a Python float is float32, whatever ``floatx`` is. A NumPy value keeps its dtype, so
   ``np.float64(0.9)`` stays 0.9. (Arithmetic with a tensor, ``x * 0.9`` or ``x + 0.9``,
   converts the float straight to ``x``'s dtype: those constants need nothing from here.)
   Proof, in float64: ``optimizers/sgd_momentum``, ``optimizers/adam``, ``optimizers/nadam``,
   ``optimizers/adagrad``, ``optimizers/sgd_weight_decay``, ``optimizers/adamw``,
   ``gradients/l2_kernel`` (and the other regularizer cases), ``training/regularized``, and
   every ``optimizers/*_decay`` schedule case.

2. ``cos`` rounded once (:func:`cos_rounded_once`).
   What: CosineDecay's float32 ``cos`` is computed in float64 and rounded once to float32.
   Why: TensorFlow's scalar ``cos`` is the C library's ``cosf``, nearly always the correctly
   rounded value; NumPy's ``np.cos``, even of a scalar, runs its vectorised array loop, which
   is one ulp off on about 16% of CosineDecay's angles (849 of the 5,150 angles
   ``π·step/decay_steps`` with ``decay_steps <= 100``, against 55 for the value rounded once).
   Proof: ``optimizers/cosine_decay`` in float64 (its schedule computes in float32, see 1).

3. ``pow`` needs nothing, on scalars.
   What: Adam's ``beta^t``, Nadam's ``0.96^t``, ExponentialDecay's ``rate^p`` and
   PolynomialDecay's ``(1 - p)^power`` are written ``b ** t`` on NumPy scalars, never arrays.
   Why: ``**`` between NumPy scalars calls the C library's ``powf``, as TensorFlow's scalar
   ``pow`` does: the two agreed on all 3,884 such powers tried (except the subnormal results
   that TensorFlow flushes to zero, see 4). NumPy's array ``power`` is a vectorised loop that
   is one ulp off on about 20% of them.
   Proof: none needed beyond 1 and 2; every optimizer and schedule case passes with it.

4. Monitored values are compared as tensors (:func:`less_as_keras`, :func:`greater_as_keras`).
   What: EarlyStopping and ReduceLROnPlateau decide "improved?" with ``ops.less`` or
   ``ops.greater``, so two Python floats are compared in **float32**: 0.3 - 1e-9 is not below
   0.3, even in float64 mode. And a subnormal number (below ``np.finfo(dtype).tiny``, such
   as 1e-45 in float32) compares as 0.
   Why: as in 1, each side becomes a float32 tensor before the comparison; and TensorFlow's
   CPU kernels run with subnormals flushed to zero (the processor's FTZ/DAZ modes, set for
   speed), so ``ops.less(0.0, 1e-45)`` is False.
   Proof: no comparison case separates it (its training runs never improve by less than
   float32 resolution); the hypothesis tests ``test_keras_early_stopping_parity`` and
   ``test_keras_reduce_lr_parity`` in ``tests/test_callbacks.py`` run the real Keras
   callbacks on the same values and find both (a subnormal ``val_loss`` did).

5. Cross-entropy from the logits behind a softmax or sigmoid (:func:`logits_call`).
   What: when a model ends in a softmax or a sigmoid and the loss is a cross-entropy, the
   loss is computed from that layer's logits ``z`` (``log_softmax``, no clipping), even
   with ``from_logits=False``; an inactive Dropout after the output (``training=False``, or
   ``rate=0``) keeps that so, an active one makes the loss fall back to the clipped
   probabilities. So ``evaluate`` of such a model takes the logits path while ``fit``, with
   dropout active, takes the probability path.
   Why: TensorFlow attaches the logits to the tensor a softmax/sigmoid returns
   (``_keras_logits``) and its cross-entropies read them when present; an inactive Dropout
   returns that same tensor, any other layer makes a new one. So does the cast of the output
   to the loss's dtype (floatx) when the layers compute in another (a float64 dtype policy
   with floatx float32): the loss then takes the probability path.
   Proof: ``saturation/softmax_cce`` and ``saturation/sigmoid_bce`` (the clipped formula
   differs ninefold at saturation), ``saturation/softmax_dropout_cce``, and for the cast
   ``tests/test_dtype_policies.py::test_a_float64_softmax_feeds_a_float32_loss_its_probabilities``.

6. The per-output losses of a multi-output model are a plain mean over the batches
   (:func:`output_loss_batch_weight`: its docstring has the what, the why and the measure).

7. Training flushes subnormal numbers to zero (:func:`flush_subnormals`).
   What: inside ``fit`` and ``train_on_batch``, a number below the smallest normal one
   (1.2e-38 in float32, 2.2e-308 in float64) counts as 0 when an operation reads it, and a
   result that small is written as 0.
   Why: TensorFlow runs its CPU kernels with the processor's "flush to zero" and
   "denormals are zero" modes on (its ``ScopedFlushDenormal``), for speed: arithmetic on
   subnormals takes a slow path in the processor. It shows in Adam: the moment ``m`` of a
   weight whose gradient stays 0 (a dead ReLU unit) shrinks every step by
   ``m += (0 - m)(1 - beta_1)``. Flushed, the step becomes 0 once it is subnormal and ``m``
   stays just above 1.2e-38; unflushed, ``m`` goes on into the subnormals, where every
   operation on it is slow: about 4% of a batch-32 epoch of the benchmark's MLP
   (``benchmarks/``).
   Proof: no comparison can see it (the values differ by less than 1.2e-38);
   ``tests/test_keras_numerics.py`` shows TensorFlow's multiply flushing ``1e-39 · 1.5`` to
   0, and Adam's ``m`` after such a ``fit`` equal to Keras' bit for bit (and not, without
   the flush). Only on Linux x86-64, through the processor's MXCSR register; elsewhere
   nothing is flushed, which changes only the speed.
8. TensorFlow's float32 ``log`` (:func:`tensorflow_log_float32`).
   What: the mel filter bank of ``MelSpectrogram`` is computed with Eigen's vectorized
   float32 logarithm, not NumPy's.
   Why: Keras builds the matrix in float32 with ``tf.math.log``, whose results differ from
   NumPy's in the last bit for about one value in six; a float64 model multiplies by those
   float32 weights, so without this its float64 numbers differ from Keras' at about 6e-8.
   Proof: ``tests/test_audio_layers.py`` compares the matrix bit for bit with Keras'.

9. TensorFlow's order in a sum over the classes and in a quotient's gradient
   (:func:`tensorflow_sum`, :func:`quotient_gradient`).
   What: the categorical cross-entropy from probabilities renormalises, ``q = p / Σp``. Its
   gradient ``∂ℓ/∂p = ∂ℓ/∂q / Σp + Σ_k ∂ℓ/∂q_k · ((-p_k / Σp) / Σp)`` is computed term by term
   in that order, and both sums add the classes in the order of TensorFlow's kernel: by
   registers of 8 float32 (4 float64) lanes, not one after the other as NumPy does (and,
   with the classes at another axis, ``axis=1``, in yet another order). The binary
   cross-entropy multiplies the mean's ``-1/D`` in first, as the chain rule does, before
   each log's ``1/p̃`` (that one needs nothing from here).
   Why: TensorFlow differentiates the graph Keras writes (``output / reduce_sum(output)``):
   the gradient of ``x / y`` is ``grad / y`` for ``x`` and ``grad · ((-x / y) / y)``, summed
   over the broadcast axis, for ``y``. Its CPU sums are Eigen's, vectorised for AVX.
   Proof: ``tests/test_crossentropy_rounding.py`` compares the gradient with TensorFlow's bit
   for bit: always in float64, and in float32 wherever TensorFlow's ``reciprocal`` is exact.
   It is not everywhere: the gradient of ``log q̃`` is ``grad · reciprocal(q̃)``, and Eigen
   computes a float32 ``reciprocal`` in packets of 8 with the processor's *approximate*
   reciprocal instruction refined by one Newton step, a value within about 1 ulp of ``1/q̃``
   that depends on the processor (Intel's and AMD's approximations differ). minired takes the
   exact ``1/q̃``. (Float64 has no such instruction: its reciprocal is exact.)
   Not matched yet: the batch reduction's ``w/M`` scales minired's ``∂ℓ/∂p`` afterwards,
   while TensorFlow's chain multiplies it in first, so the *reduced* gradients agree bit for
   bit only when ``w/M`` is a power of 2 (no weights, ``M`` = 1, 2, 4, 8, …); and the sparse
   cross-entropy, which TensorFlow differentiates through ``softmax(log p̃)``, keeps its own
   formula (1 to 2 ulps apart in float64).

10. TensorFlow's fake-quantization kernels (:func:`fake_quant_levels`,
    :func:`tensorflow_total`).
    What: ``quantizers.fake_quant_with_min_max_vars`` computes in float32 whatever its
    input's dtype (a float64 input is rounded to float32 and the result cast back); the
    level ``(x - min) / s`` is a division by ``s`` per tensor but a product with ``1/s``
    (rounded on its own) per channel; and the gradients of ``min`` and ``max`` are float32
    sums in the order of :func:`tensorflow_sum`, split in halves when longer.
    Why: Keras' TensorFlow backend calls ``tf.quantization.fake_quant_with_min_max_vars``
    (or ``_per_channel``), whose kernels exist for float32 only; the per-tensor kernel
    writes ``clamped_shifted / nudged_scale``, the per-channel one ``clamped_shifted *
    inv_nudged_scale``; their gradients reduce with Eigen (registers of 8, then a tree
    whose leaves hold at most 1024 registers).
    Proof: ``tests/test_quantizers.py`` compares both kernels with TensorFlow's bit for bit
    on values at the rounding ties, where division and product disagree (per tensor, the
    product gives a different level for every one of 3,229 such values tried, and per
    channel the division does), and the gradients of ``min`` and ``max`` bit for bit for
    sums of up to 20,000 values.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

# -- 1. Python floats become float32 tensors ----------------------------------------------------

def keras_tensor_dtype(value: Any) -> np.dtype:
    """The dtype TensorFlow gives ``value`` when Keras makes a tensor of it.

    A NumPy value (scalar or array) keeps its dtype; a Python number becomes float32,
    whatever ``floatx`` is. (TensorFlow makes an int32 tensor of a Python int, but every
    place that uses this mixes it with floats, which Keras promotes to float32.)

    Example:
        >>> keras_tensor_dtype(0.1), keras_tensor_dtype(np.float64(0.1))
        (dtype('float32'), dtype('float64'))
    """
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype
    return np.dtype(np.float32)


def as_keras_constant(value: Any, dtype: np.dtype | type | str) -> Any:
    """``ops.cast(value, dtype)`` as TensorFlow computes it: a Python float goes through float32.

    ``value`` becomes a tensor of :func:`keras_tensor_dtype` first, then is cast to ``dtype``.
    In float32 this is just ``float32(value)``; in float64 a Python float keeps only float32
    precision. A NumPy value keeps its own. A scalar gives a NumPy scalar, an array an array.

    Args:
        value: a Python or NumPy number, or an array-like (``Constant``'s fill value).
        dtype: the dtype to cast to, usually the variable's.

    Example:
        >>> float(as_keras_constant(0.9, np.float64))
        0.8999999761581421
        >>> float(as_keras_constant(np.float64(0.9), np.float64))
        0.9
    """
    if type(value) in (float, int) and value != 0:   # the usual case (a beta, every step);
        # (0 is left out: 0.0 and -0.0 are one key, and their signs must stay apart)
        return _python_constant(value, np.dtype(dtype))
    tensor = np.asarray(value, dtype=keras_tensor_dtype(value))
    return tensor.astype(dtype)[()]  # [()] turns a 0-d array into a scalar


@functools.lru_cache(maxsize=1024)
def _python_constant(value: float | int, dtype: np.dtype) -> np.generic:
    """:func:`as_keras_constant` of a Python number, computed once per value and dtype."""
    return np.asarray(value, dtype=np.float32).astype(dtype)[()]


# -- 2. cos rounded once ------------------------------------------------------------------------

def cos_rounded_once(angle: np.floating) -> np.floating:
    """``cos(angle)`` in ``angle``'s dtype, computed in float64 and rounded once.

    Example:
        >>> angle = np.float32(0.27027026)
        >>> np.cos(angle), cos_rounded_once(angle)        # TensorFlow's: 0.9636988
        (np.float32(0.96369874), np.float32(0.9636988))
    """
    return type(angle)(np.cos(np.float64(angle)))


# -- 4. comparisons of monitored values ---------------------------------------------------------

def _as_compared(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as Keras' ``ops.less``/``ops.greater`` see them: in their common
    tensor dtype, with subnormal values flushed to zero."""
    dtype = np.result_type(keras_tensor_dtype(a), keras_tensor_dtype(b))
    tiny = np.finfo(dtype).tiny                    # the smallest normal number
    a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
    return np.where(np.abs(a) < tiny, 0, a), np.where(np.abs(b) < tiny, 0, b)


def less_as_keras(a: Any, b: Any) -> bool:
    """``a < b`` as ``keras.ops.less`` decides it: two Python floats compare in float32.

    Example:
        >>> 0.3 - 1e-9 < 0.3, less_as_keras(0.3 - 1e-9, 0.3)
        (True, False)
        >>> less_as_keras(0.0, 1e-45)            # 1e-45 is subnormal in float32: it counts as 0
        False
    """
    a, b = _as_compared(a, b)
    return bool(a < b)


def greater_as_keras(a: Any, b: Any) -> bool:
    """``a > b`` as ``keras.ops.greater`` decides it: two Python floats compare in float32.

    Example:
        >>> 0.3 + 1e-9 > 0.3, greater_as_keras(0.3 + 1e-9, 0.3)
        (True, False)
    """
    a, b = _as_compared(a, b)
    return bool(a > b)


# -- 5. cross-entropy from the logits behind a softmax or sigmoid -------------------------------

def logits_call(calls: list, loss: Any, training: bool) -> int | None:
    """Index of the layer call whose logits ``z`` a cross-entropy reads, or ``None``.

    Walk back from the last call over the layers that return their input itself (they say
    so with ``layer.passes_logits_through(training)``: an inactive Dropout); if the layer
    reached applies a softmax or a sigmoid, the loss reads its ``z``.

    Args:
        calls: the model's ``(layer, cache)`` pairs of the last forward pass, in order.
        loss: the model's loss (its ``uses_output_logits`` says if it is a cross-entropy).
        training: whether the forward pass ran in training mode.

    Example:
        >>> dense = mr.layers.Dense(3, activation="softmax")
        >>> drop = mr.layers.Dropout(0.5)
        >>> calls = [(dense, None), (drop, None)]
        >>> cce = mr.losses.CategoricalCrossentropy()
        >>> logits_call(calls, cce, training=False), logits_call(calls, cce, training=True)
        (0, None)
    """
    if not loss.uses_output_logits or not calls:
        return None
    index = len(calls) - 1
    while index > 0 and calls[index][0].passes_logits_through(training):
        index -= 1
    # minired's own softmax or sigmoid, the objects: a function of yours that happens to be
    # called "sigmoid" has no z for the loss to read.
    if getattr(calls[index][0], "activation", None) not in _activations_with_logits():
        return None
    # The loss casts the output to floatx: from another dtype, a new tensor without logits.
    from minired import config

    return index if calls[index][0]._float_dtype() == np.dtype(config.floatx()) else None


@functools.cache
def _activations_with_logits() -> tuple:
    """minired's softmax and sigmoid (imported on first use: minired.activations imports
    this module)."""
    from minired import activations

    return activations.softmax, activations.sigmoid


# -- 6. the per-output losses of a multi-output model: a plain mean over the batches -----------

def output_loss_batch_weight(batch_size: int) -> float:
    """The weight of one batch in the epoch mean of ``<output>_loss``: 1, whatever its size.

    Keras weighs each batch's *total* loss by its number of samples (a last, smaller batch
    counts less), but on TensorFlow it updates the per-output trackers with
    ``sample_weight=y_pred.shape[0]``, which is unknown (``None``) inside the traced step,
    so every batch counts once. Measured: with batches of 3, 3 and 2, Keras reports
    ``out1_loss = mean(L₁, L₂, L₃)``, not ``(3L₁ + 3L₂ + 2L₃) / 8``, while ``loss`` is the
    weighted mean.

    Example:
        >>> output_loss_batch_weight(32), output_loss_batch_weight(4)
        (1.0, 1.0)
    """
    return 1.0


# -- 7. subnormals flushed to zero while training -----------------------------------------------

#: The MXCSR bits of x86-64's "flush to zero" (FTZ: results) and "denormals are zero" (DAZ:
#: inputs) modes.
_FTZ_DAZ = 0x8040
#: Where the C library's x86-64 ``fenv_t`` keeps the MXCSR: after the 28 bytes of the x87
#: environment (the layout of the ``fnstenv`` instruction, then the 32-bit MXCSR).
_MXCSR_OFFSET = 28


@contextmanager
def flush_subnormals() -> Iterator[bool]:
    """Run the ``with`` block with subnormal numbers flushed to zero, as TensorFlow's kernels
    run; yields whether they are (see 7 above: only on Linux x86-64).

    Sets the FTZ and DAZ bits of the calling thread's MXCSR register for the block, and puts
    the register's previous modes back after it, even on an error. Python's own float
    arithmetic in the block is flushed too (it runs on the same register).

    Example:
        >>> with flush_subnormals() as flushing:
        ...     inside = np.float32(1e-39) * np.float32(1.5)
        >>> bool(inside == 0) == flushing, float(np.float32(1e-39) * np.float32(1.5)) > 0
        (True, True)
    """
    library = _c_math_library()
    environment = (ctypes.c_char * 64)()       # fenv_t is 32 bytes on x86-64
    if library is None or library.fegetenv(environment) != 0:
        yield False
        return
    before = _mxcsr(environment)
    smallest = np.finfo(np.float64).smallest_subnormal      # read before the modes change
    _set_mxcsr(library, environment, before | _FTZ_DAZ)
    try:
        yield bool(smallest * 2.0 == 0.0)      # flushed: the modes are on
    finally:
        library.fegetenv(environment)          # the flags raised meanwhile stay as they are
        _set_mxcsr(library, environment,
                   _mxcsr(environment) & ~_FTZ_DAZ | before & _FTZ_DAZ)


@functools.cache
def _c_math_library() -> ctypes.CDLL | None:
    """The C library's ``fegetenv``/``fesetenv`` where :func:`flush_subnormals` knows the
    layout of ``fenv_t`` (glibc on x86-64), else None."""
    if (sys.platform != "linux" or platform.machine() != "x86_64"
            or platform.libc_ver()[0] != "glibc"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    except OSError:
        return None


def _mxcsr(environment) -> int:
    return int.from_bytes(environment[_MXCSR_OFFSET:_MXCSR_OFFSET + 4], "little")


def _set_mxcsr(library: ctypes.CDLL, environment, value: int) -> None:
    environment[_MXCSR_OFFSET:_MXCSR_OFFSET + 4] = value.to_bytes(4, "little")
    library.fesetenv(environment)


# -- 8. TensorFlow's float32 log -------------------------------------------------------------
@functools.cache
def _c_logf():
    """The C library's ``logf`` (what Eigen calls for single values), or None."""
    try:
        library = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    except OSError:
        return None
    function = library.logf
    function.restype, function.argtypes = ctypes.c_float, [ctypes.c_float]
    return function


def _eigen_plog_float32(x: np.ndarray) -> np.ndarray:
    """Eigen's vectorized float32 ``log`` (``plog_impl_float``): ``x = m · 2^e`` with ``m``
    moved to [√½, √2), then ``log x = e · ln 2 + r(m − 1)``, ``r`` a rational (3, 3)
    approximation of ``log(1 + u)``; every step in float32, without fused multiply-adds."""
    f32 = np.float32
    m, e = np.frexp(x)
    m, e = m.astype(f32), e.astype(f32)
    small = m < f32(0.707106781186547524)                  # m < √½: use 2m, e − 1
    u = (m - f32(1)) + np.where(small, m, f32(0))
    e = e - small.astype(f32)
    p = np.full_like(u, f32(0.18256296349849254))
    for c in (1.0000000190281063, 1.0000000190281136):
        p = p * u + f32(c)
    p = u * p
    q = np.full_like(u, f32(0.049616247954120038))
    for c in (0.59923249590823520, 1.4999999999999927, 1.0):
        q = q * u + f32(c)
    log = e * f32(0.693147180559945309417232121458) + p / q
    # the special values, as Eigen's masks: log 0 = −∞, log ∞ = ∞, log(x < 0) = NaN
    return np.where((x > 0) & np.isfinite(x), log, np.log(x)).astype(f32)


def tensorflow_log_float32(x) -> np.ndarray:
    """``tf.math.log`` of a float32 array on the CPU, bit for bit (subnormal inputs aside).

    TensorFlow's kernel (Eigen) takes the values in packets of 8 with the vectorized
    :func:`_eigen_plog_float32`, and the last ``size % 8`` values one by one with the C
    library's ``logf``. Without a C library at hand, those few are rounded from float64
    (the same value but for about one in a thousand).

    Example:
        >>> tensorflow_log_float32(np.array([1.0, 2.0, 4.0], dtype="float32"))
        array([0.       , 0.6931472, 1.3862944], dtype=float32)
    """
    flat = np.asarray(x, dtype=np.float32).ravel()
    packets = flat.size - flat.size % 8
    out = np.empty_like(flat)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:packets] = _eigen_plog_float32(flat[:packets])
        logf = _c_logf()
        for i in range(packets, flat.size):             # at most 7 values
            out[i] = logf(float(flat[i])) if logf else np.float32(np.log(np.float64(flat[i])))
    return out.reshape(np.shape(x))


# -- 9. TensorFlow's order in a sum over the classes and in a quotient's gradient ------------

def tensorflow_sum(x: np.ndarray, classes_at: int = -1) -> np.ndarray:
    """``x.sum(axis=-1, keepdims=True)``, added in the order of TensorFlow's CPU kernel.

    The classes are ``x``'s last axis (where minired's losses keep them); ``classes_at`` is
    the axis they have in TensorFlow's tensor (a loss's ``axis``), which decides the order:

    - last (the default): Eigen works on registers of ``P`` lanes (``P`` = 8 float32 or 4
      float64, AVX's 256 bits). With at least ``4P`` values, four register accumulators take
      blocks of ``4P`` and are then added, first to second to third to fourth; the remaining
      whole registers join the first; the last ``n mod P`` values are added one by one; the
      register's lanes are added by halves (``0..P/2`` plus ``P/2..P``, and so on), and the
      tail last. Fewer than ``P`` values are added one by one, as NumPy does. Exact up to
      ``1024·P`` classes: TensorFlow splits longer rows in halves first.
    - another axis: the classes are added one by one, except that from 16 classes on, the
      sums that TensorFlow computes a register of ``P`` at a time (those whose ``P``
      neighbours along the axes after the classes are in the same row, and not in the last,
      incomplete register of the output) take four accumulators, class ``j`` in
      accumulator ``j mod 4``, added first to second to third to fourth.

    Example:
        >>> x = np.float32([[1e8] + [1] * 12])    # 1e8 + 1 is 1e8 in float32, 1e8 + 8 is not
        >>> x.sum(axis=-1, keepdims=True), tensorflow_sum(x)
        (array([[1.e+08]], dtype=float32), array([[1.0000001e+08]], dtype=float32))
    """
    x = np.moveaxis(np.asarray(x), -1, classes_at)     # TensorFlow's layout
    axis = classes_at % x.ndim
    before, after = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis + 1:]))
    if after == 1:
        total = _eigen_inner_sum(x.reshape(before, x.shape[axis]))[:, None]
    else:
        total = _eigen_middle_sum(x.reshape(before, x.shape[axis], after))
    return np.moveaxis(total.reshape(x.shape[:axis] + (1,) + x.shape[axis + 1:]), axis, -1)


def _eigen_inner_sum(x: np.ndarray) -> np.ndarray:
    """Eigen's sum of each row of the 2-D ``x`` (its ``InnerMostDimReducer``)."""
    lanes = 32 // x.dtype.itemsize
    n = x.shape[-1]
    registers = n // lanes * lanes
    accumulator = np.zeros((x.shape[0], lanes), x.dtype)
    start = 0
    if n >= 4 * lanes:                                  # four accumulators, then one
        start = n // (4 * lanes) * (4 * lanes)
        four = [accumulator.copy() for _ in range(4)]
        for j in range(0, start, 4 * lanes):
            for k in range(4):
                four[k] = four[k] + x[:, j + k * lanes:j + (k + 1) * lanes]
        accumulator = ((four[0] + four[1]) + four[2]) + four[3]
    for j in range(start, registers, lanes):
        accumulator = accumulator + x[:, j:j + lanes]
    tail = np.zeros(x.shape[0], x.dtype)
    for j in range(registers, n):
        tail = tail + x[:, j]
    while accumulator.shape[-1] > 1:                    # the lanes, added by halves
        half = accumulator.shape[-1] // 2
        accumulator = accumulator[:, :half] + accumulator[:, half:]
    return tail + accumulator[:, 0]


def _eigen_middle_sum(x: np.ndarray) -> np.ndarray:
    """Eigen's sum over the middle axis of the 3-D ``x`` (its ``InnerMostDimPreserver`` for
    whole registers of outputs, one by one for the others); shape ``(before, after)``."""
    one_by_one = np.zeros((x.shape[0], x.shape[2]), x.dtype)
    for j in range(x.shape[1]):
        one_by_one = one_by_one + x[:, j]
    if x.shape[1] < 16:
        return one_by_one
    four = [np.zeros_like(one_by_one) for _ in range(4)]
    unrolled = x.shape[1] // 4 * 4
    for j in range(unrolled):
        four[j % 4] = four[j % 4] + x[:, j]
    by_four = ((four[0] + four[1]) + four[2]) + four[3]
    for j in range(unrolled, x.shape[1]):
        by_four = by_four + x[:, j]
    lanes = 32 // x.dtype.itemsize
    outputs = one_by_one.size
    register = np.arange(outputs) // lanes * lanes      # where each output's register starts
    whole = (register + lanes <= outputs) & (register % x.shape[2] + lanes <= x.shape[2])
    return np.where(whole.reshape(one_by_one.shape), by_four, one_by_one)


def quotient_gradient(grad_q: np.ndarray, p: np.ndarray, total: np.ndarray,
                      classes_at: int = -1) -> np.ndarray:
    """``∂ℓ/∂p`` for ``q = p / total`` with ``total = Σ_k p_k`` (last axis), from ``∂ℓ/∂q``.

    The math is ``(∂ℓ/∂q - Σ_k ∂ℓ/∂q_k q_k) / total``; TensorFlow computes it as the sum of
    the gradient through ``p / total`` and the one through ``total``::

        ∂ℓ/∂q / total + Σ_k ∂ℓ/∂q_k · ((-p_k / total) / total)

    with the sum of :func:`tensorflow_sum` (``classes_at``: see there).

    Example:
        >>> p = np.array([[1.0, 3.0]])
        >>> quotient_gradient(np.array([[-4.0, 0.0]]), p, p.sum(axis=-1, keepdims=True))
        array([[-0.75,  0.25]])
    """
    return grad_q / total + tensorflow_sum(grad_q * ((-p / total) / total), classes_at)


# -- 10. TensorFlow's fake-quantization kernels ---------------------------------------------

def fake_quant_levels(shifted: np.ndarray, scale, inv_scale, per_channel: bool) -> np.ndarray:
    """``(x - min) / s``, the level of each value, as TensorFlow's kernel computes it: a
    division by ``scale`` per tensor, a product with ``inv_scale`` (``1/s`` rounded on its
    own) per channel.

    Example:
        >>> x, s, inv_s = np.float32(2.1545262), np.float32(0.04952934), np.float32(20.190052)
        >>> fake_quant_levels(x, s, inv_s, False), fake_quant_levels(x, s, inv_s, True)
        (np.float32(43.5), np.float32(43.499996))
    """
    return shifted * inv_scale if per_channel else shifted / scale


def tensorflow_total(x: np.ndarray, first: int = 0) -> np.ndarray:
    """``x.sum(axis=-1)`` in the order of TensorFlow's full reduction, for rows of any length.

    Up to ``1024 · P`` values (``P`` = 8 float32 lanes) a row is added as
    :func:`tensorflow_sum` adds it; a longer row is split in two at the register boundary
    after its middle (counted from ``first``, the row's offset in the whole), each half
    added the same way, and the two sums added.

    Example:
        >>> x = np.float32([[1e8] + [1] * 12])
        >>> tensorflow_total(x)
        array([1.0000001e+08], dtype=float32)
    """
    x = np.asarray(x)
    lanes = 32 // x.dtype.itemsize
    n = x.shape[-1]
    if n <= 1024 * lanes:
        return tensorflow_sum(x)[..., 0]
    split = lanes * -(-(first + -(-n // 2)) // lanes)
    left = min(split - first, n)
    return tensorflow_total(x[..., :left], first) + tensorflow_total(x[..., left:], split)
