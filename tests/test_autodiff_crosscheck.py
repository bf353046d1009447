"""Every hand-written backward pass against the gradient the tape derives.

minired's built-in activations, losses and layers carry hand-written backward passes; the
tape (``mr.autodiff``) differentiates anything written with ``mr.ops``. For every one of
them, ``tests/autodiff_references.py`` writes the same forward with ``mr.ops`` (Keras'
formula), and this file checks, in float64, that

- the hand-written forward equals the reference forward, and
- the hand-written gradient (``f.backward``, ``Loss.compute``, ``Layer.backward`` and the
  weight gradients) equals ``tape.gradient`` of the reference, for every input and weight,

to a relative error (:func:`minired.gradcheck.relative_error`, per array) below
:data:`TOLERANCE` = 1e-12: both sides compute the same numbers in a different order, so
they may only differ in the last bits. Anything larger means one of them is wrong; the
failure message names the component and the array, the worst element, and which side
finite differences agree with.

Inputs are drawn away from the kinks (relu at 0, hard_sigmoid at ±3, the hinge margin...),
where the two sides may legitimately pick different one-sided slopes.

:func:`test_every_component_has_a_cross_check` fails when an activation, a loss or a layer
class exists without a reference here, so none can be added without its cross-check.
"""

from __future__ import annotations

import inspect
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import autodiff_references as refs
import numpy as np
import pytest

import minired as mr
from minired import activations, layers, losses
from minired.autodiff.tape import GradientTape
from minired.gradcheck import numerical_gradient, relative_error

#: The largest relative error allowed between a hand-written gradient and the tape's.
TOLERANCE = 1e-12
#: Inputs are kept at least this far from a kink.
KINK_MARGIN = 1e-2


# ================================================================================================
# The comparison
# ================================================================================================
def compare(component: str, part: str, hand, taped, numeric: Callable | None = None) -> float:
    """Fail unless ``hand`` and ``taped`` agree to :data:`TOLERANCE`; return the error.

    ``numeric()``, called only on a failure, gives the finite-difference gradient, to say
    which side is wrong.
    """
    hand = np.asarray(hand, dtype=np.float64)
    taped = np.asarray(taped, dtype=np.float64)
    assert hand.shape == taped.shape, (
        f"{component}: {part}: hand-written shape {hand.shape} vs tape shape {taped.shape}")
    error = relative_error(hand, taped)
    if error < TOLERANCE:          # also False for NaN
        return error
    difference = np.abs(hand - taped)
    index = (np.unravel_index(int(np.nanargmax(difference)), hand.shape)
             if hand.ndim and not np.all(np.isnan(difference)) else ())
    message = (f"{component}: {part}: hand-written vs tape differ by {error:.1e} at index "
               f"{tuple(int(i) for i in index)} (hand-written {float(hand[index]):.17g}, "
               f"tape {float(taped[index]):.17g})")
    if numeric is not None:
        message += "; " + _verdict(hand, taped, numeric())
    pytest.fail(message)
    return error   # unreachable


def _verdict(hand: np.ndarray, taped: np.ndarray, numeric: np.ndarray) -> str:
    """Which side the central differences (accurate to ~1e-8) agree with."""
    to_hand, to_tape = relative_error(hand, numeric), relative_error(taped, numeric)
    if to_hand < to_tape:
        side = "the hand-written side (the reference forward, or an op's VJP, is wrong)"
    elif to_tape < to_hand:
        side = "the tape's side (the hand-written backward is wrong)"
    else:
        side = "neither"
    return (f"finite differences agree with {side}: relative error {to_hand:.1e} to the "
            f"hand-written gradient, {to_tape:.1e} to the tape's (a difference straddling a "
            "clip or a kink is not resolved by them)")


def away_from(values: np.ndarray, kinks, margin: float = KINK_MARGIN) -> np.ndarray:
    """``values`` with every element closer than ``margin`` to a kink pushed out to
    ``margin`` from it (on its own side)."""
    values = np.array(values, dtype=np.float64)
    for kink in kinks:
        near = np.abs(values - kink) < margin
        side = np.where(values >= kink, 1.0, -1.0)
        values = np.where(near, kink + side * margin, values)
    return values


def case_id(name: str, kwargs: dict) -> str:
    arguments = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}({arguments})" if arguments else name


def stable_seed(*parts) -> int:
    """A seed from the case's id, the same in every process (unlike ``hash``)."""
    return zlib.crc32(repr(parts).encode())


def run_numeric(f: Callable[[], float], array: np.ndarray) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to ``array`` (in place)."""
    return numerical_gradient(f, array, h=1e-6)


# ================================================================================================
# Activations
# ================================================================================================
@dataclass(frozen=True)
class ActivationCase:
    name: str                               #: a Keras name (aliases included)
    kwargs: dict = field(default_factory=dict)
    low: float = -3.0                       #: inputs are drawn from U[low, high]
    high: float = 3.0
    kinks: tuple = ()                       #: and kept KINK_MARGIN away from these
    ndims: tuple = (2, 3)                   #: ranks the case is drawn for
    shapes: dict | None = None              #: rank -> shapes, instead of ACTIVATION_SHAPES

    @property
    def id(self) -> str:
        return case_id(self.name, self.kwargs)


RELU_KINKS = (0.0,)
#: glu splits an axis in two halves: even sizes along the last axis (and axis 1 of 3-D).
GLU_SHAPES = {2: [(1, 4), (4, 6)], 3: [(3, 2, 4)]}
ACTIVATION_CASES = [
    ActivationCase("linear"),
    ActivationCase("relu", kinks=RELU_KINKS),
    ActivationCase("relu", {"negative_slope": 0.1}, kinks=RELU_KINKS),
    ActivationCase("relu", {"max_value": 6.0}, -2.0, 8.0, kinks=(0.0, 6.0)),
    ActivationCase("relu", {"max_value": 2.5}, -1.0, 4.0, kinks=(0.0, 2.5)),
    ActivationCase("relu", {"threshold": 0.7}, kinks=(0.0, 0.7)),
    ActivationCase("relu", {"negative_slope": 0.3, "max_value": 2.5, "threshold": 0.5},
                   -2.0, 4.0, kinks=(0.5, 2.5)),
    ActivationCase("sigmoid"),
    ActivationCase("tanh"),
    ActivationCase("softmax"),
    ActivationCase("softmax", {"axis": 0}),
    ActivationCase("softmax", {"axis": (1, 2)}, ndims=(3,)),
    ActivationCase("log_softmax"),
    ActivationCase("log_softmax", {"axis": 1}, ndims=(3,)),
    ActivationCase("leaky_relu", kinks=RELU_KINKS),
    ActivationCase("leaky_relu", {"negative_slope": 0.05}, kinks=RELU_KINKS),
    ActivationCase("relu6", low=-2.0, high=8.0, kinks=(0.0, 6.0)),
    ActivationCase("elu", kinks=RELU_KINKS),
    ActivationCase("elu", {"alpha": 0.5}, kinks=RELU_KINKS),
    ActivationCase("selu", kinks=RELU_KINKS),
    ActivationCase("softplus"),
    ActivationCase("softplus", low=-45.0, high=45.0),   # TensorFlow's three branches
    ActivationCase("softsign"),
    ActivationCase("silu"),
    ActivationCase("swish"),
    ActivationCase("gelu"),
    ActivationCase("gelu", {"approximate": True}),
    ActivationCase("hard_sigmoid", low=-5.0, high=5.0, kinks=(-3.0, 3.0)),
    ActivationCase("hard_silu", low=-5.0, high=5.0, kinks=(-3.0, 3.0)),
    ActivationCase("hard_swish", low=-5.0, high=5.0, kinks=(-3.0, 3.0)),
    ActivationCase("exponential"),
    ActivationCase("mish"),
    # Keras 3's newer activations (mr.activations.NEWER_ACTIVATIONS)
    ActivationCase("celu"),
    ActivationCase("celu", {"alpha": 0.5}),
    ActivationCase("glu", shapes=GLU_SHAPES),             # halves the last axis: even sizes
    ActivationCase("glu", {"axis": 1}, ndims=(3,), shapes=GLU_SHAPES),
    ActivationCase("hard_shrink", kinks=(-0.5, 0.5)),
    ActivationCase("hard_shrink", {"threshold": 1.2}, kinks=(-1.2, 1.2)),
    ActivationCase("hard_tanh", kinks=(-1.0, 1.0)),
    ActivationCase("log_sigmoid"),
    ActivationCase("log_sigmoid", low=-45.0, high=45.0),   # softplus' three branches
    ActivationCase("soft_shrink", kinks=(-0.5, 0.5)),
    ActivationCase("soft_shrink", {"threshold": 0.2}, kinks=(-0.2, 0.2)),
    ActivationCase("sparse_plus"),          # its pieces meet with equal slopes: no kink
    ActivationCase("sparse_sigmoid", kinks=(-1.0, 1.0)),
    ActivationCase("sparsemax"),
    ActivationCase("sparsemax", {"axis": 0}),
    ActivationCase("sparsemax", low=-1.0, high=1.0),      # larger supports
    ActivationCase("squareplus"),
    ActivationCase("squareplus", {"b": 0.5}),
    ActivationCase("tanh_shrink"),
    ActivationCase("threshold", {"threshold": 0.5, "default_value": -2.0}, kinks=(0.5,)),
    ActivationCase("threshold", {"threshold": -1.0, "default_value": 0.0}, kinks=(-1.0,)),
]
ACTIVATION_SHAPES = {2: [(1, 5), (4, 3)], 3: [(3, 2, 4)]}
ACTIVATION_PARAMS = [
    pytest.param(case, shape, seed, id=f"{case.id}-{'x'.join(map(str, shape))}-seed{seed}")
    for case in ACTIVATION_CASES for ndim in case.ndims
    for shape in (case.shapes or ACTIVATION_SHAPES)[ndim] for seed in (0, 1)
]


def crosscheck_activation(case: ActivationCase, shape: tuple, seed: int) -> dict[str, float]:
    """Forward and backward of one activation; the relative error of each part."""
    rng = np.random.default_rng(seed)
    z = away_from(rng.uniform(case.low, case.high, shape), case.kinks)
    function = activations.get(case.name)
    reference = refs.ACTIVATIONS[function.__name__]

    a = function(z, **case.kwargs)
    grad_a = rng.standard_normal(a.shape)            # glu's a has half of z's last axis
    hand = function.backward(z, a, grad_a, **case.kwargs)
    with GradientTape() as tape:
        watched = tape.watch(z.copy())
        a_ref = reference(watched, **case.kwargs)
    taped = tape.gradient(a_ref, watched, output_gradient=grad_a)

    def numeric():
        zc = z.copy()
        return run_numeric(lambda: float(np.sum(function(zc, **case.kwargs) * grad_a)), zc)

    return {
        "forward": compare(case.id, "forward", a, a_ref),
        "backward": compare(case.id, "backward", hand, taped, numeric),
    }


@pytest.mark.parametrize(("case", "shape", "seed"), ACTIVATION_PARAMS)
def test_activation_backward_matches_the_tape(float64, case, shape, seed):
    crosscheck_activation(case, shape, seed)


# ================================================================================================
# Losses
# ================================================================================================
def _normal(rng, shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def _one_hot(rng, shape):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]


def _draw_regression(rng, shape):
    return _normal(rng, shape), _normal(rng, shape)


def _draw_abs(rng, shape):
    """``ŷ - y`` away from 0 (the kink of ``|·|``)."""
    y = _normal(rng, shape)
    return y, y + away_from(_normal(rng, shape), (0.0,))


def _draw_mape(rng, shape):
    """One target 0 and one below ε (where ``max(|y|, ε)`` holds ε)."""
    y, y_pred = _draw_abs(rng, shape)
    y.flat[0], y.flat[-1] = 0.0, 1e-9
    return y, y_pred


def _draw_msle(rng, shape):
    """Predictions on both sides of ε (``max(ŷ, ε)`` holds ε below it)."""
    eps32 = refs.f32(mr.config.epsilon())
    return rng.uniform(0, 3, shape), away_from(rng.uniform(-0.5, 3, shape), (eps32,))


def _draw_cosine_tiny_row(rng, shape):
    """The first prediction vector has a norm below ε, where Keras' ``min(rsqrt, 1/ε)``
    clips (needs a second vector, so not for a batch of one)."""
    y, y_pred = _draw_regression(rng, shape)
    if shape[0] > 1:
        y_pred[0] *= 1e-9
    return y, y_pred


def _draw_huber(delta):
    def draw(rng, shape):
        y = _normal(rng, shape)
        return y, y + away_from(_normal(rng, shape, 1.5), (-delta, 0.0, delta))
    return draw


def _draw_hinge(labels):
    def draw(rng, shape):
        y = rng.choice(labels, shape).astype(np.float64)
        return y, away_from(_normal(rng, shape, 1.5), (-1.0, 1.0))   # margin 1 - y ŷ ≠ 0
    return draw


def _draw_categorical_hinge(rng, shape):
    y = _one_hot(rng, shape)
    while True:
        y_pred = _normal(rng, shape)
        margin = (np.max((1 - y) * y_pred, axis=-1) - np.sum(y * y_pred, axis=-1) + 1)
        if np.all(np.abs(margin) > KINK_MARGIN):
            return y, y_pred


def _draw_kld(rng, shape):
    """Targets with zeros (clipped to ε); predictions with a 0 (clipped to ε) and values
    above 1 (clipped to 1)."""
    y = np.exp(_normal(rng, shape))
    y[..., 0] = 0.0
    y /= np.sum(y, axis=-1, keepdims=True)
    y_pred = away_from(rng.uniform(0.01, 1.3, shape), (1.0,))
    y_pred[..., -1] = 0.0
    return y, y_pred


def _draw_poisson(rng, shape):
    return rng.poisson(2.0, shape).astype(np.float64), rng.uniform(0.1, 3, shape)


def _draw_probabilities(soft_targets=False, exact_ends=True):
    """Binary targets (or soft ones) and probabilities; ``exact_ends`` puts a 0 and a 1
    among them (where the clip to ``[ε, 1 - ε]`` holds)."""
    def draw(rng, shape):
        y = rng.uniform(0, 1, shape) if soft_targets else rng.integers(0, 2, shape) * 1.0
        y_pred = rng.uniform(0.01, 0.99, shape)
        if exact_ends:
            y_pred.flat[0], y_pred.flat[-1] = 0.0, 1.0
        else:
            y_pred.flat[0] = 1e-9                   # below ε: clipped in the cross-entropy
        return y, y_pred
    return draw


def _draw_logits(soft_targets=False):
    def draw(rng, shape):
        y = rng.uniform(0, 1, shape) if soft_targets else rng.integers(0, 2, shape) * 1.0
        return y, _normal(rng, shape, 3.0)
    return draw


def _draw_categorical(from_logits):
    """One-hot targets; logits, or positive scores that do not sum to 1 (Keras rescales
    them) with a 0 among them (clipped to ε)."""
    def draw(rng, shape):
        y = _one_hot(rng, shape)
        if from_logits:
            return y, _normal(rng, shape, 2.0)
        y_pred = rng.uniform(0.05, 2.0, shape)
        y_pred[..., 0] = 0.0
        return y, y_pred
    return draw


def _draw_sparse(from_logits, trailing_axis=False):
    """Integer labels (shape ``y_pred.shape[:-1]``, or with a trailing 1); logits, or
    probabilities with a 0 among them."""
    def draw(rng, shape):
        labels = rng.integers(0, shape[-1], shape[:-1])
        if trailing_axis:
            labels = labels[..., None]
        if from_logits:
            return labels, _normal(rng, shape, 2.0)
        p = np.exp(_normal(rng, shape))
        p[..., 1] = 0.0
        return labels, p / np.sum(p, axis=-1, keepdims=True)
    return draw


def _draw_categorical_on_axis_1(rng, shape):
    """One-hot targets along axis 1 and logits (for ``axis=1``)."""
    y = np.moveaxis(_one_hot(rng, (shape[0], shape[2], shape[1])), -1, 1)
    return y, _normal(rng, shape, 2.0)


def _draw_labels_and_probabilities(trailing_axis=False):
    """Integer labels and probabilities kept away from 0 (``p^(q-1)`` is infinite there)."""
    def draw(rng, shape):
        labels = rng.integers(0, shape[-1], shape[:-1])
        p = rng.uniform(0.05, 1.0, shape)
        return (labels[..., None] if trailing_axis else labels,
                p / np.sum(p, axis=-1, keepdims=True))
    return draw


def _draw_masks(rng, shape):
    """0/1 target masks and predictions in (0, 1)."""
    return rng.integers(0, 2, shape).astype(np.float64), rng.uniform(0.01, 0.99, shape)


def _draw_embeddings(rng, shape):
    """Labels in pairs (every sample has a positive and a negative: one without would have
    a logsumexp of -∞, whose 0·∞ TensorFlow's ``where`` gradient drops and ``ops.where``'s
    ``δa ⊙ c`` does not) and L2-normalised embeddings."""
    labels = rng.permutation(np.repeat(np.arange(shape[0] // 2), 2))
    y = rng.standard_normal(shape)
    return labels, y / np.linalg.norm(y, axis=1, keepdims=True)


def _draw_ctc(rng, shape):
    """Labels ``(N, 2)`` of 0, 1 or 2 classes from ``1..C-1``, padded with the blank 0, and
    logits ``(N, T, C)`` with ``T ≥ 4`` (every labelling reachable)."""
    n, _, classes = shape
    labels = rng.integers(1, classes, (n, 2))
    lengths = rng.integers(0, 3, n)
    lengths[0] = 2
    labels[np.arange(2)[None, :] >= lengths[:, None]] = 0
    return labels, _normal(rng, shape, 1.5)


@dataclass(frozen=True)
class LossCase:
    cls: str                                #: the loss class' name in minired.losses
    kwargs: dict
    draw: Callable                          #: (rng, y_pred shape) -> (y_true, y_pred)
    ndims: tuple = (2, 3)
    label: str = ""
    #: ``compute(..., from_logits=True)`` on a loss made without it: what a model does when
    #: it hands over the logits of its softmax/sigmoid output.
    compute_from_logits: bool = False
    shapes: dict | None = None              #: rank -> y_pred shapes, instead of LOSS_SHAPES

    @property
    def id(self) -> str:
        label = self.label or ("compute(from_logits=True)" if self.compute_from_logits else "")
        return case_id(self.cls, self.kwargs) + (f"[{label}]" if label else "")


#: Circle compares the samples of a batch with each other: batches of pairs.
EMBEDDING_SHAPES = {2: [(4, 3), (6, 4)]}
LOSS_CASES = [
    LossCase("MeanSquaredError", {}, _draw_regression),
    LossCase("MeanAbsoluteError", {}, _draw_abs),
    LossCase("MeanAbsolutePercentageError", {}, _draw_mape),
    LossCase("MeanSquaredLogarithmicError", {}, _draw_msle),
    LossCase("CosineSimilarity", {}, _draw_regression),
    LossCase("CosineSimilarity", {}, _draw_cosine_tiny_row, label="tiny-row"),
    LossCase("CosineSimilarity", {"axis": 1}, _draw_regression, ndims=(3,)),
    LossCase("Huber", {}, _draw_huber(1.0)),
    LossCase("Huber", {"delta": 0.5}, _draw_huber(0.5)),
    LossCase("LogCosh", {}, _draw_regression),
    LossCase("Hinge", {}, _draw_hinge([0.0, 1.0]), label="labels-0-1"),
    LossCase("Hinge", {}, _draw_hinge([-1.0, 1.0]), label="labels-pm1"),
    LossCase("SquaredHinge", {}, _draw_hinge([0.0, 1.0]), label="labels-0-1"),
    LossCase("SquaredHinge", {}, _draw_hinge([-1.0, 1.0]), label="labels-pm1"),
    LossCase("CategoricalHinge", {}, _draw_categorical_hinge),
    LossCase("KLDivergence", {}, _draw_kld),
    LossCase("Poisson", {}, _draw_poisson),
    LossCase("BinaryCrossentropy", {}, _draw_probabilities()),
    LossCase("BinaryCrossentropy", {"label_smoothing": 0.1}, _draw_probabilities(True)),
    LossCase("BinaryCrossentropy", {"from_logits": True}, _draw_logits()),
    LossCase("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
             _draw_logits(True)),
    LossCase("BinaryFocalCrossentropy", {}, _draw_probabilities(exact_ends=False)),
    LossCase("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3,
                                         "gamma": 1.5, "label_smoothing": 0.1},
             _draw_probabilities(True, exact_ends=False)),
    LossCase("BinaryFocalCrossentropy", {"from_logits": True}, _draw_logits()),
    LossCase("BinaryFocalCrossentropy", {"from_logits": True, "apply_class_balancing": True,
                                         "gamma": 3.0, "label_smoothing": 0.2},
             _draw_logits(True)),
    LossCase("BinaryFocalCrossentropy", {"axis": 1}, _draw_probabilities(exact_ends=False),
             ndims=(3,)),
    LossCase("CategoricalCrossentropy", {}, _draw_categorical(False)),
    LossCase("CategoricalCrossentropy", {"label_smoothing": 0.1}, _draw_categorical(False)),
    LossCase("CategoricalCrossentropy", {"from_logits": True}, _draw_categorical(True)),
    LossCase("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
             _draw_categorical(True)),
    LossCase("SparseCategoricalCrossentropy", {}, _draw_sparse(False)),
    LossCase("SparseCategoricalCrossentropy", {}, _draw_sparse(False, trailing_axis=True),
             ndims=(2,), label="labels-N-1"),
    LossCase("SparseCategoricalCrossentropy", {"from_logits": True}, _draw_sparse(True)),
    LossCase("BinaryCrossentropy", {}, _draw_logits(), compute_from_logits=True),
    LossCase("BinaryFocalCrossentropy", {"gamma": 1.5}, _draw_logits(),
             compute_from_logits=True),
    LossCase("CategoricalCrossentropy", {"label_smoothing": 0.1}, _draw_categorical(True),
             compute_from_logits=True),
    LossCase("SparseCategoricalCrossentropy", {}, _draw_sparse(True), compute_from_logits=True),
    # Keras 3's newer losses
    LossCase("CategoricalFocalCrossentropy", {}, _draw_categorical(False)),
    LossCase("CategoricalFocalCrossentropy", {"from_logits": True}, _draw_categorical(True)),
    LossCase("CategoricalFocalCrossentropy", {"alpha": [0.1, 0.2, 0.3, 0.4], "gamma": 1.5,
                                              "label_smoothing": 0.1}, _draw_categorical(False)),
    LossCase("CategoricalFocalCrossentropy", {"from_logits": True, "axis": 1},
             _draw_categorical_on_axis_1, ndims=(3,)),
    LossCase("CategoricalGeneralizedCrossEntropy", {}, _draw_labels_and_probabilities()),
    LossCase("CategoricalGeneralizedCrossEntropy", {"q": 0.8},
             _draw_labels_and_probabilities(trailing_axis=True), ndims=(2,), label="labels-N-1"),
    LossCase("Dice", {}, _draw_masks),                               # one loss for the batch
    LossCase("Dice", {"axis": 1}, _draw_masks),
    LossCase("Dice", {"axis": (1, 2)}, _draw_masks, ndims=(3,)),
    LossCase("Tversky", {}, _draw_masks),
    LossCase("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": 1}, _draw_masks),
    LossCase("Tversky", {"axis": [1, 2]}, _draw_masks, ndims=(3,)),
    LossCase("Circle", {}, _draw_embeddings, ndims=(2,), shapes=EMBEDDING_SHAPES),
    LossCase("Circle", {"gamma": 2.0, "margin": 0.25}, _draw_embeddings, ndims=(2,),
             shapes=EMBEDDING_SHAPES),
    LossCase("Circle", {"remove_diagonal": False}, _draw_embeddings, ndims=(2,),
             shapes=EMBEDDING_SHAPES),
    LossCase("CTC", {}, _draw_ctc, ndims=(3,), shapes={3: [(1, 4, 3), (3, 5, 4)]}),
]
LOSS_SHAPES = {2: [(1, 4), (5, 4)], 3: [(2, 3, 4)]}
#: (reduction, whether sample weights are given)
REDUCTIONS = [("sum_over_batch_size", False), ("sum_over_batch_size", True), ("sum", True),
              ("mean_with_sample_weight", True)]
LOSS_PARAMS = [
    pytest.param(case, shape, reduction, weighted,
                 id=f"{case.id}-{'x'.join(map(str, shape))}-{reduction}"
                    f"{'-weighted' if weighted else ''}")
    for case in LOSS_CASES for ndim in case.ndims
    for shape in (case.shapes or LOSS_SHAPES)[ndim] for reduction, weighted in REDUCTIONS
]


def crosscheck_loss(case: LossCase, shape: tuple, reduction: str, weighted: bool
                    ) -> dict[str, float]:
    """Per-sample values, the reduced loss and ``∂L/∂ŷ`` of one loss."""
    rng = np.random.default_rng(stable_seed(case.id, shape))
    y_true, y_pred = case.draw(rng, shape)
    cls = getattr(losses, case.cls)
    reference = refs.LOSSES[case.cls]
    overrides = {"from_logits": True} if case.compute_from_logits else {}
    ref_kwargs = {**case.kwargs, **overrides}
    values = cls(**ref_kwargs, reduction="none")(y_true, y_pred)
    loss_shape = np.shape(values)    # (N,), (N, T)..., or () for a loss over all the axes
    sample_weight = None
    if weighted:     # one weight per sample: (N,) for losses (N,) or (), (N, 1) for (N, T)
        sample_weight = rng.uniform(0.2, 2.0, (shape[0],) + (1,) * (len(loss_shape) - 1))
        if shape[0] > 1:
            sample_weight[0] = 0.0

    loss = cls(**case.kwargs, reduction=reduction)
    value, hand = loss.compute(y_true, y_pred, sample_weight=sample_weight, **overrides)
    with GradientTape() as tape:
        watched = tape.watch(y_pred.copy())
        values_ref = reference(y_true, watched, **ref_kwargs)
        mask = refs.LOSS_MASKS[case.cls](values_ref) if case.cls in refs.LOSS_MASKS else None
        value_ref = refs.reduce_losses(values_ref, sample_weight, reduction, mask)
    taped = tape.gradient(value_ref, watched)
    if mask is not None:            # reduction="none": Keras zeroes the masked values
        values_ref = np.where(mask, values_ref, 0.0)

    def numeric():
        yc = y_pred.copy()
        return run_numeric(lambda: loss.compute(y_true, yc, sample_weight, gradient=False,
                                                **overrides)[0], yc)

    return {
        "per-sample values": compare(case.id, "per-sample values", values, values_ref),
        "reduced loss": compare(case.id, "reduced loss", value, value_ref),
        "gradient": compare(case.id, "gradient ∂L/∂y_pred", hand, taped, numeric),
    }


@pytest.mark.parametrize(("case", "shape", "reduction", "weighted"), LOSS_PARAMS)
def test_loss_gradient_matches_the_tape(float64, case, shape, reduction, weighted):
    crosscheck_loss(case, shape, reduction, weighted)


# ================================================================================================
# Layers
# ================================================================================================
def _adapt(layer, rng, shapes):
    """Normalization: statistics from data of another scale and offset."""
    layer.adapt(rng.normal(0.5, 2.0, (16,) + tuple(shapes[0][1:])))


@dataclass(frozen=True)
class LayerCase:
    label: str
    make: Callable[[], layers.Layer]
    shapes: list                            #: one shape per input, without the batch axis
    reference: Callable                     #: refs.<layer>(layer, inputs, weights)
    training: bool = False
    kinks: tuple = ()                       #: inputs are kept away from these
    setup: Callable | None = None           #: (layer, rng, input shapes) after the build
    draw: Callable | None = None            #: (rng, shape) -> inputs, instead of N(0, 1.5²)
    call: Callable | None = None            #: (layer, inputs, training) -> outputs, for both
                                            #: calls (build, then hand-written), if not plain

    @property
    def cls(self) -> type:
        return type(self.make())

    @property
    def several_inputs(self) -> bool:
        return self.cls._takes_several_inputs


def _conv_case(label: str, shape: tuple, **kwargs) -> LayerCase:
    cls = {2: layers.Conv1D, 3: layers.Conv2D, 4: layers.Conv3D}[len(shape)]
    return LayerCase(f"{cls.__name__}({label})", partial(cls, **kwargs), [shape], refs.conv)


#: Every padding (valid, same, causal), odd and even kernels (the odd "same" zero goes
#: after), strides that do and do not divide the size, dilations, activations, no bias, and
#: regularized kernels.
CONV_CASES = [
    _conv_case("2,3", (6, 3), filters=2, kernel_size=3),
    _conv_case("2,4,same", (7, 2), filters=2, kernel_size=4, padding="same"),
    _conv_case("3,3,strides=2,same,tanh", (8, 2), filters=3, kernel_size=3, strides=2,
               padding="same", activation="tanh"),
    _conv_case("2,2,strides=3", (8, 3), filters=2, kernel_size=2, strides=3),
    _conv_case("2,3,causal,dilation=2", (7, 2), filters=2, kernel_size=3, padding="causal",
               dilation_rate=2),
    _conv_case("2,2,same,dilation=3,no bias", (6, 2), filters=2, kernel_size=2,
               padding="same", dilation_rate=3, use_bias=False),
    _conv_case("2,3,L1L2 kernel,L2 bias", (5, 2), filters=2, kernel_size=3,
               kernel_regularizer=mr.regularizers.L1L2(0.01, 0.03),
               bias_regularizer=mr.regularizers.L2(0.02)),
    _conv_case("2,(2,3)", (4, 5, 2), filters=2, kernel_size=(2, 3)),
    _conv_case("3,3,same,relu", (5, 4, 2), filters=3, kernel_size=3, padding="same",
               activation="relu"),
    _conv_case("2,(3,2),strides=(2,1),same", (5, 4, 2), filters=2, kernel_size=(3, 2),
               strides=(2, 1), padding="same"),
    _conv_case("2,2,strides=2,sigmoid", (5, 6, 1), filters=2, kernel_size=2, strides=2,
               activation="sigmoid"),
    _conv_case("2,(2,3),dilation=(2,1),same", (5, 5, 2), filters=2, kernel_size=(2, 3),
               dilation_rate=(2, 1), padding="same"),
    _conv_case("2,2,dilation=2,softmax,no bias", (5, 5, 2), filters=2, kernel_size=2,
               dilation_rate=2, activation="softmax", use_bias=False),
    _conv_case("2,3,L1 kernel,L1L2 bias", (4, 4, 2), filters=2, kernel_size=3,
               kernel_regularizer=mr.regularizers.L1(0.01),
               bias_regularizer=mr.regularizers.L1L2(0.02, 0.01)),
    _conv_case("2,2", (3, 3, 4, 2), filters=2, kernel_size=2),
    _conv_case("2,(2,3,2),strides=(1,2,1),same,tanh", (3, 4, 3, 1), filters=2,
               kernel_size=(2, 3, 2), strides=(1, 2, 1), padding="same", activation="tanh"),
    _conv_case("2,2,dilation=(2,1,1),L2 kernel,no bias", (4, 3, 3, 2), filters=2,
               kernel_size=2, dilation_rate=(2, 1, 1), use_bias=False,
               kernel_regularizer=mr.regularizers.L2(0.02)),
    # grouped: channel group g feeds filters g·F/G … only (G = C: one channel a group)
    _conv_case("4,3,groups=2,causal,tanh", (7, 4), filters=4, kernel_size=3, groups=2,
               padding="causal", activation="tanh"),
    _conv_case("6,3,groups=3,strides=2,same,L2 kernel", (5, 5, 3), filters=6, kernel_size=3,
               groups=3, strides=2, padding="same",
               kernel_regularizer=mr.regularizers.L2(0.02)),
    _conv_case("4,2,groups=2,dilation=(1,2,1),no bias", (3, 4, 3, 4), filters=4,
               kernel_size=2, groups=2, dilation_rate=(1, 2, 1), use_bias=False),
]


def _conv_transpose_case(label: str, shape: tuple, **kwargs) -> LayerCase:
    cls = {2: layers.Conv1DTranspose, 3: layers.Conv2DTranspose,
           4: layers.Conv3DTranspose}[len(shape)]
    return LayerCase(f"{cls.__name__}({label})", partial(cls, **kwargs), [shape],
                     refs.conv_transpose)


#: Both paddings, odd and even kernels, strides below, equal to and above the kernel,
#: output_padding, dilation, activations, no bias, regularized weights.
CONV_TRANSPOSE_CASES = [
    _conv_transpose_case("2,3", (4, 3), filters=2, kernel_size=3),
    _conv_transpose_case("2,3,strides=2,same,tanh", (4, 2), filters=2, kernel_size=3,
                         strides=2, padding="same", activation="tanh"),
    _conv_transpose_case("2,2,strides=3", (3, 2), filters=2, kernel_size=2, strides=3),
    _conv_transpose_case("2,4,strides=3,output_padding=2", (3, 2), filters=2, kernel_size=4,
                         strides=3, output_padding=2),
    _conv_transpose_case("2,3,dilation=2,same,no bias", (5, 2), filters=2, kernel_size=3,
                         dilation_rate=2, padding="same", use_bias=False),
    _conv_transpose_case("3,3,strides=2,same,relu", (3, 4, 2), filters=3, kernel_size=3,
                         strides=2, padding="same", activation="relu"),
    _conv_transpose_case("2,(4,3),strides=(2,1),same,output_padding=(1,0)", (3, 3, 2),
                         filters=2, kernel_size=(4, 3), strides=(2, 1), padding="same",
                         output_padding=(1, 0)),
    _conv_transpose_case("2,(2,3),strides=2,sigmoid", (2, 3, 1), filters=2,
                         kernel_size=(2, 3), strides=2, activation="sigmoid"),
    _conv_transpose_case("2,2,dilation=(1,2),softmax", (3, 3, 2), filters=2, kernel_size=2,
                         dilation_rate=(1, 2), activation="softmax"),
    _conv_transpose_case("2,3,L1L2 kernel,L2 bias", (3, 3, 2), filters=2, kernel_size=3,
                         kernel_regularizer=mr.regularizers.L1L2(0.01, 0.03),
                         bias_regularizer=mr.regularizers.L2(0.02)),
    _conv_transpose_case("2,2,strides=2", (2, 2, 3, 2), filters=2, kernel_size=2, strides=2),
    _conv_transpose_case("2,(3,2,2),strides=(1,2,1),same,relu", (2, 3, 2, 1), filters=2,
                         kernel_size=(3, 2, 2), strides=(1, 2, 1), padding="same",
                         activation="relu"),
]


def _depthwise_case(kind: str, label: str, shape: tuple, **kwargs) -> LayerCase:
    cls = getattr(layers, f"{kind}Conv{len(shape) - 1}D")
    reference = refs.depthwise_conv if kind == "Depthwise" else refs.separable_conv
    return LayerCase(f"{cls.__name__}({label})", partial(cls, **kwargs), [shape], reference)


#: Both paddings, odd and even kernels, strides (with dilation too), depth multipliers,
#: activations, no bias, regularized weights.
DEPTHWISE_SEPARABLE_CASES = [
    _depthwise_case("Depthwise", "3", (6, 3), kernel_size=3),
    _depthwise_case("Depthwise", "2,same,strides=2,multiplier=2,tanh", (7, 2),
                    kernel_size=2, padding="same", strides=2, depth_multiplier=2,
                    activation="tanh"),
    _depthwise_case("Depthwise", "3,same,multiplier=3,relu,L2", (4, 5, 2), kernel_size=3,
                    padding="same", depth_multiplier=3, activation="relu",
                    depthwise_regularizer=mr.regularizers.L2(0.02),
                    bias_regularizer=mr.regularizers.L1(0.01)),
    _depthwise_case("Depthwise", "(2,3),strides=2,dilation=2,same,no bias", (6, 6, 2),
                    kernel_size=(2, 3), strides=2, dilation_rate=2, padding="same",
                    use_bias=False),
    _depthwise_case("Separable", "2,3,multiplier=2", (6, 2), filters=2, kernel_size=3,
                    depth_multiplier=2),
    _depthwise_case("Separable", "2,2,same,strides=2,sigmoid", (7, 3), filters=2,
                    kernel_size=2, padding="same", strides=2, activation="sigmoid"),
    _depthwise_case("Separable", "3,3,same,tanh,L1L2", (4, 5, 2), filters=3, kernel_size=3,
                    padding="same", activation="tanh",
                    depthwise_regularizer=mr.regularizers.L2(0.01),
                    pointwise_regularizer=mr.regularizers.L1L2(0.01, 0.02),
                    bias_regularizer=mr.regularizers.L2(0.03)),
    _depthwise_case("Separable", "2,(3,2),dilation=(1,2),multiplier=2,no bias", (5, 5, 2),
                    filters=2, kernel_size=(3, 2), dilation_rate=(1, 2), depth_multiplier=2,
                    use_bias=False),
]


def _draw_ties(rng, shape):
    """Integers from {-1, 0, 1, 2}: most windows (and every channel of the global cases)
    hold tied maxima."""
    return rng.integers(-1, 3, shape).astype(np.float64)


def _pool_case(cls, label: str, shape: tuple, reference, **kwargs) -> LayerCase:
    return LayerCase(f"{cls.__name__}({label})", partial(cls, **kwargs), [shape], reference)


#: Max pooling on continuous inputs (no ties: the tape's max splits a tie equally, the layer
#: gives it to the first maximum); overlapping windows, strides that leave inputs out, and
#: "same" windows hanging over the border (-inf padding for max, real counts for average).
#: The "[ties]" cases check TensorFlow's first-maximum rule against a reference that takes
#: each window at its first maximum, and the global max's equal split against ``ops.max``.
POOLING_CASES = [
    _pool_case(layers.MaxPooling1D, "2", (6, 2), refs.max_pooling, pool_size=2),
    _pool_case(layers.MaxPooling1D, "3,strides=1", (6, 2), refs.max_pooling, pool_size=3,
               strides=1),
    _pool_case(layers.MaxPooling1D, "2,same", (5, 2), refs.max_pooling, pool_size=2,
               padding="same"),
    _pool_case(layers.MaxPooling1D, "4,strides=3,same", (7, 1), refs.max_pooling,
               pool_size=4, strides=3, padding="same"),
    _pool_case(layers.MaxPooling2D, "2", (4, 5, 2), refs.max_pooling, pool_size=2),
    _pool_case(layers.MaxPooling2D, "3,strides=2", (5, 6, 2), refs.max_pooling, pool_size=3,
               strides=2),
    _pool_case(layers.MaxPooling2D, "(2,3),strides=1,same", (3, 4, 2), refs.max_pooling,
               pool_size=(2, 3), strides=1, padding="same"),
    _pool_case(layers.MaxPooling2D, "2,same", (5, 3, 1), refs.max_pooling, pool_size=2,
               padding="same"),
    LayerCase("MaxPooling1D(3,strides=1)[ties]", partial(layers.MaxPooling1D, 3, strides=1),
              [(6, 2)], refs.max_pooling_first, draw=_draw_ties),
    LayerCase("MaxPooling2D(2,strides=1,same)[ties]",
              partial(layers.MaxPooling2D, 2, strides=1, padding="same"), [(3, 4, 2)],
              refs.max_pooling_first, draw=_draw_ties),
    _pool_case(layers.AveragePooling1D, "2", (6, 2), refs.average_pooling, pool_size=2),
    _pool_case(layers.AveragePooling1D, "3,strides=1,same", (5, 2), refs.average_pooling,
               pool_size=3, strides=1, padding="same"),
    _pool_case(layers.AveragePooling1D, "4,strides=3,same", (7, 1), refs.average_pooling,
               pool_size=4, strides=3, padding="same"),
    _pool_case(layers.AveragePooling2D, "2", (4, 5, 2), refs.average_pooling, pool_size=2),
    _pool_case(layers.AveragePooling2D, "3,strides=2", (5, 6, 1), refs.average_pooling,
               pool_size=3, strides=2),
    _pool_case(layers.AveragePooling2D, "(2,3),strides=1,same", (3, 4, 2),
               refs.average_pooling, pool_size=(2, 3), strides=1, padding="same"),
    _pool_case(layers.AveragePooling2D, "2,same", (5, 3, 1), refs.average_pooling,
               pool_size=2, padding="same"),
    _pool_case(layers.GlobalAveragePooling1D, "", (5, 3), refs.global_average_pooling),
    _pool_case(layers.GlobalAveragePooling1D, "keepdims", (4, 2),
               refs.global_average_pooling, keepdims=True),
    _pool_case(layers.GlobalAveragePooling2D, "", (3, 4, 2), refs.global_average_pooling),
    _pool_case(layers.GlobalAveragePooling2D, "keepdims", (2, 3, 2),
               refs.global_average_pooling, keepdims=True),
    _pool_case(layers.GlobalMaxPooling1D, "", (5, 3), refs.global_max_pooling),
    _pool_case(layers.GlobalMaxPooling1D, "keepdims", (4, 2), refs.global_max_pooling,
               keepdims=True),
    _pool_case(layers.GlobalMaxPooling2D, "", (3, 4, 2), refs.global_max_pooling),
    _pool_case(layers.GlobalMaxPooling2D, "keepdims", (2, 3, 2), refs.global_max_pooling,
               keepdims=True),
    LayerCase("GlobalMaxPooling1D()[ties]", layers.GlobalMaxPooling1D, [(6, 3)],
              refs.global_max_pooling, draw=_draw_ties),
    _pool_case(layers.MaxPooling3D, "2", (3, 4, 4, 2), refs.max_pooling, pool_size=2),
    _pool_case(layers.MaxPooling3D, "(2,3,2),strides=1,same", (2, 3, 3, 1), refs.max_pooling,
               pool_size=(2, 3, 2), strides=1, padding="same"),
    # 3-D ties: TensorFlow's MaxPool3DGrad gives the whole δa to every tied maximum
    LayerCase("MaxPooling3D(2,strides=1)[ties]", partial(layers.MaxPooling3D, 2, strides=1),
              [(3, 3, 2, 2)], refs.max_pooling_every_tie, draw=_draw_ties),
    LayerCase("MaxPooling3D(2,same)[ties]", partial(layers.MaxPooling3D, 2, padding="same"),
              [(3, 2, 3, 1)], refs.max_pooling_every_tie, draw=_draw_ties),
    _pool_case(layers.AveragePooling3D, "2", (3, 4, 4, 2), refs.average_pooling, pool_size=2),
    _pool_case(layers.AveragePooling3D, "(3,2,2),strides=2,same", (3, 3, 4, 1),
               refs.average_pooling, pool_size=(3, 2, 2), strides=2, padding="same"),
    _pool_case(layers.GlobalAveragePooling3D, "", (2, 3, 2, 2), refs.global_average_pooling),
    _pool_case(layers.GlobalAveragePooling3D, "keepdims", (2, 2, 3, 2),
               refs.global_average_pooling, keepdims=True),
    _pool_case(layers.GlobalMaxPooling3D, "", (2, 3, 2, 2), refs.global_max_pooling),
    LayerCase("GlobalMaxPooling3D(keepdims)[ties]", partial(layers.GlobalMaxPooling3D,
                                                            keepdims=True), [(2, 2, 3, 2)],
              refs.global_max_pooling, draw=_draw_ties),
    LayerCase("GlobalMaxPooling2D()[ties]", layers.GlobalMaxPooling2D, [(3, 3, 2)],
              refs.global_max_pooling, draw=_draw_ties),
]


def _moving_statistics(layer, rng, shapes):
    """BatchNormalization: moving statistics away from their initial zeros and ones."""
    channels = layer.moving_mean.shape[0]
    layer.moving_mean.assign(rng.normal(0.0, 1.0, channels))
    layer.moving_variance.assign(rng.uniform(0.2, 3.0, channels))


def _bn_case(label: str, shape: tuple, training: bool, reference=refs.batch_normalization,
             **kwargs) -> LayerCase:
    mode = "training" if training else "inference"
    shape_id = "x".join(map(str, ("N", *shape)))
    return LayerCase(f"BatchNormalization({label})[{shape_id},{mode}]",
                     partial(layers.BatchNormalization, **kwargs), [shape], reference,
                     training=training, setup=_moving_statistics)


#: Training mode (the batch's statistics, functions of x) and inference mode (the moving
#: ones, constants), 2-D (m = N: a batch of one normalizes to 0), sequences and images,
#: another axis, no γ or no β, and regularized γ and β. The reference is the layer's folded
#: form; one case also checks it against the textbook form.
BATCH_NORMALIZATION_CASES = [
    _bn_case("", (3,), True),
    _bn_case("", (3,), False),
    _bn_case("", (4, 3), True),
    _bn_case("", (3, 3, 2), True),
    _bn_case("", (3, 3, 2), False),
    _bn_case("axis=1", (3, 4), True, axis=1),
    _bn_case("axis=1", (3, 4), False, axis=1),
    _bn_case("scale=False", (4, 2), True, scale=False),
    _bn_case("center=False,epsilon=0.1", (4, 2), True, center=False, epsilon=0.1),
    _bn_case("L2 gamma,L1 beta", (4, 3), True, gamma_regularizer=mr.regularizers.L2(0.02),
             beta_regularizer=mr.regularizers.L1(0.01)),
    _bn_case("textbook form", (3, 3, 2), True, refs.batch_normalization_textbook),
]

#: LayerNormalization: each sample's own statistics over the last axis or over several.
LAYER_NORMALIZATION_CASES = [
    LayerCase("LayerNormalization()[N,3]", layers.LayerNormalization, [(3,)],
              refs.layer_normalization),
    LayerCase("LayerNormalization(epsilon=1e-6)[N,4,3]",
              partial(layers.LayerNormalization, epsilon=1e-6), [(4, 3)],
              refs.layer_normalization),
    LayerCase("LayerNormalization(axis=[1,2])[N,3,2]",
              partial(layers.LayerNormalization, axis=[1, 2]), [(3, 2)],
              refs.layer_normalization),
    LayerCase("LayerNormalization(axis=1)[N,3,2]", partial(layers.LayerNormalization, axis=1),
              [(3, 2)], refs.layer_normalization),
    LayerCase("LayerNormalization(scale=False)[N,4]",
              partial(layers.LayerNormalization, scale=False), [(4,)],
              refs.layer_normalization),
    LayerCase("LayerNormalization(center=False,L2 gamma)[N,4]",
              partial(layers.LayerNormalization, center=False,
                      gamma_regularizer=mr.regularizers.L2(0.02)), [(4,)],
              refs.layer_normalization),
]

def _stateful_case(label: str, make: Callable, shapes: list, training: bool = False,
                   reference: Callable = refs.recurrent) -> LayerCase:
    """A stateful recurrent layer: the checked call starts from the states its first (build)
    call left, which the reference gets as constants (truncated backpropagation)."""
    carried: list = []

    def remember_states(layer, rng, shapes):
        carried[:] = [np.array(s) for s in layer.states]

    return LayerCase(label, make, shapes, partial(reference, initial_states=carried),
                     training=training, setup=remember_states)


#: The recurrent layers: each cell, the last output or the sequence, reversed, no bias, GRU's
#: two reset forms, input and recurrent dropout (the reference replays the call's masks),
#: stateful layers, and the generic RNN with each cell and stacks of cells.
RECURRENT_CASES = [
    LayerCase("LSTM(3)", partial(layers.LSTM, 3), [(4, 2)], refs.recurrent),
    LayerCase("LSTM(2,return_sequences,go_backwards)",
              partial(layers.LSTM, 2, return_sequences=True, go_backwards=True), [(3, 2)],
              refs.recurrent),
    LayerCase("LSTM(2,use_bias=False,dropout=0.5)[training]",
              partial(layers.LSTM, 2, use_bias=False, dropout=0.5, seed=6), [(3, 4)],
              refs.recurrent, training=True),
    LayerCase("GRU(3)", partial(layers.GRU, 3), [(4, 2)], refs.recurrent),
    LayerCase("GRU(2,reset_after=False,return_sequences)",
              partial(layers.GRU, 2, reset_after=False, return_sequences=True), [(3, 2)],
              refs.recurrent),
    LayerCase("GRU(2,use_bias=False,go_backwards)",
              partial(layers.GRU, 2, use_bias=False, go_backwards=True), [(3, 2)],
              refs.recurrent),
    LayerCase("SimpleRNN(3)", partial(layers.SimpleRNN, 3), [(4, 2)], refs.recurrent),
    LayerCase("SimpleRNN(2,return_sequences,go_backwards,dropout=0.5)[training]",
              partial(layers.SimpleRNN, 2, return_sequences=True, go_backwards=True,
                      dropout=0.5, seed=7), [(3, 2)], refs.recurrent, training=True),
    LayerCase("Bidirectional(LSTM(2,return_sequences))",
              lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True)), [(3, 2)],
              refs.bidirectional),
    LayerCase("Bidirectional(GRU(2),merge_mode=mul)",
              lambda: layers.Bidirectional(layers.GRU(2), merge_mode="mul"), [(3, 2)],
              refs.bidirectional),
    LayerCase("Bidirectional(SimpleRNN(2,return_sequences),merge_mode=ave)",
              lambda: layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True),
                                           merge_mode="ave"), [(3, 2)], refs.bidirectional),
    # recurrent dropout: one mask per gate on h (and then on x too: Keras' implementation 1)
    LayerCase("LSTM(2,recurrent_dropout=0.4)[training]",
              partial(layers.LSTM, 2, recurrent_dropout=0.4, seed=8), [(3, 2)],
              refs.recurrent, training=True),
    LayerCase("LSTM(2,dropout=0.3,recurrent_dropout=0.4,return_sequences)[training]",
              partial(layers.LSTM, 2, dropout=0.3, recurrent_dropout=0.4, return_sequences=True,
                      seed=9), [(3, 3)], refs.recurrent, training=True),
    LayerCase("GRU(2,dropout=0.3,recurrent_dropout=0.4)[training]",
              partial(layers.GRU, 2, dropout=0.3, recurrent_dropout=0.4, seed=10), [(3, 3)],
              refs.recurrent, training=True),
    LayerCase("GRU(2,reset_after=False,recurrent_dropout=0.4,go_backwards)[training]",
              partial(layers.GRU, 2, reset_after=False, recurrent_dropout=0.4,
                      go_backwards=True, seed=11), [(3, 2)], refs.recurrent, training=True),
    LayerCase("SimpleRNN(2,dropout=0.3,recurrent_dropout=0.4,return_sequences)[training]",
              partial(layers.SimpleRNN, 2, dropout=0.3, recurrent_dropout=0.4,
                      return_sequences=True, seed=12), [(3, 3)], refs.recurrent,
              training=True),
    _stateful_case("LSTM(2,stateful)", partial(layers.LSTM, 2, stateful=True), [(3, 2)]),
    _stateful_case("GRU(2,stateful,return_sequences,recurrent_dropout=0.4)[training]",
                   partial(layers.GRU, 2, stateful=True, return_sequences=True,
                           recurrent_dropout=0.4, seed=15), [(3, 2)], training=True),
    _stateful_case("SimpleRNN(2,stateful,go_backwards)",
                   partial(layers.SimpleRNN, 2, stateful=True, go_backwards=True), [(3, 2)]),
    # RNN(cell): the cells (checked here, inside the RNN that runs them) and stacks of them
    LayerCase("RNN(LSTMCell(3))", lambda: layers.RNN(layers.LSTMCell(3)), [(4, 2)], refs.rnn),
    LayerCase("RNN(GRUCell(2,reset_after=False),return_sequences,go_backwards)",
              lambda: layers.RNN(layers.GRUCell(2, reset_after=False), return_sequences=True,
                                 go_backwards=True), [(3, 2)], refs.rnn),
    LayerCase("RNN(SimpleRNNCell(2,dropout=0.3,recurrent_dropout=0.4))[training]",
              lambda: layers.RNN(layers.SimpleRNNCell(2, dropout=0.3, recurrent_dropout=0.4,
                                                      seed=13)), [(3, 2)], refs.rnn,
              training=True),
    LayerCase("RNN([LSTMCell(3),GRUCell(2),SimpleRNNCell(2)])",
              lambda: layers.RNN([layers.LSTMCell(3), layers.GRUCell(2),
                                  layers.SimpleRNNCell(2)]), [(3, 2)], refs.rnn),
    LayerCase("RNN(StackedRNNCells([GRUCell(2),LSTMCell(2,recurrent_dropout=0.4)]),"
              "return_sequences)[training]",
              lambda: layers.RNN(layers.StackedRNNCells(
                  [layers.GRUCell(2), layers.LSTMCell(2, recurrent_dropout=0.4, seed=14)]),
                  return_sequences=True), [(3, 2)], refs.rnn, training=True),
]

#: The convolutional LSTMs: valid/same, strides, dilation, go_backwards, sequences, no bias,
#: per-gate input and recurrent dropout (the reference replays the masks),
#: stateful, and the 1-D and 3-D forms.
CONV_LSTM_CASES = [
    LayerCase("ConvLSTM2D(2,3)", partial(layers.ConvLSTM2D, 2, 3), [(3, 5, 5, 2)],
              refs.conv_lstm),
    LayerCase("ConvLSTM2D(2,3,same,return_sequences,go_backwards)",
              partial(layers.ConvLSTM2D, 2, 3, padding="same", return_sequences=True,
                      go_backwards=True), [(3, 4, 5, 2)], refs.conv_lstm),
    LayerCase("ConvLSTM2D(2,(2,3),strides=(2,1),same,no bias)",
              partial(layers.ConvLSTM2D, 2, (2, 3), strides=(2, 1), padding="same",
                      use_bias=False),
              [(3, 5, 4, 2)], refs.conv_lstm),
    LayerCase("ConvLSTM2D(2,2,dilation=2,softsign,hard_sigmoid,no forget bias)",
              partial(layers.ConvLSTM2D, 2, 2, dilation_rate=2, activation="softsign",
                      recurrent_activation="hard_sigmoid", unit_forget_bias=False),
              [(2, 5, 5, 2)], refs.conv_lstm),
    LayerCase("ConvLSTM2D(2,3,same,dropout=0.3,recurrent_dropout=0.4,return_sequences)"
              "[training]",
              partial(layers.ConvLSTM2D, 2, 3, padding="same", dropout=0.3,
                      recurrent_dropout=0.4, return_sequences=True, seed=13),
              [(3, 4, 4, 2)], refs.conv_lstm, training=True),
    _stateful_case("ConvLSTM2D(2,3,same,stateful)",
                   partial(layers.ConvLSTM2D, 2, 3, padding="same", stateful=True),
                   [(2, 4, 4, 2)], reference=refs.conv_lstm),
    LayerCase("ConvLSTM1D(2,3,same,return_sequences)",
              partial(layers.ConvLSTM1D, 2, 3, padding="same", return_sequences=True),
              [(3, 6, 2)], refs.conv_lstm),
    LayerCase("ConvLSTM3D(2,2)", partial(layers.ConvLSTM3D, 2, 2), [(2, 3, 3, 3, 2)],
              refs.conv_lstm),
]

#: The image augmentation layers in training (the reference replays the call's draws from
#: its cache), every fill mode and interpolation, and one inference case (the identity).
AUGMENTATION_CASES = [
    LayerCase("RandomFlip()[training]", partial(layers.RandomFlip, seed=1), [(3, 4, 2)],
              refs.random_flip, training=True),
    LayerCase("RandomFlip('horizontal')[training]",
              partial(layers.RandomFlip, "horizontal", seed=2), [(3, 4, 2)],
              refs.random_flip, training=True),
    *[LayerCase(f"RandomRotation(0.2,{fill},{interpolation})[training]",
                partial(layers.RandomRotation, 0.2, fill_mode=fill,
                        interpolation=interpolation, fill_value=0.5, seed=3),
                [(5, 4, 2)], refs.random_affine, training=True)
      for fill in ("reflect", "wrap", "constant", "nearest")
      for interpolation in ("bilinear", "nearest")],
    LayerCase("RandomRotation(0.2)[inference]", partial(layers.RandomRotation, 0.2),
              [(5, 4, 2)], refs.random_affine),
    LayerCase("RandomZoom(0.3,(-0.2,0.4))[training]",
              partial(layers.RandomZoom, 0.3, (-0.2, 0.4), seed=4), [(5, 4, 2)],
              refs.random_affine, training=True),
    LayerCase("RandomTranslation(0.3,0.3,constant)[training]",
              partial(layers.RandomTranslation, 0.3, 0.3, fill_mode="constant",
                      fill_value=1.0, seed=5), [(5, 4, 2)], refs.random_affine,
              training=True),
    LayerCase("RandomContrast((0.2,0.6),(-2,2))[training]",
              partial(layers.RandomContrast, (0.2, 0.6), value_range=(-2, 2), seed=6),
              [(4, 3, 2)], refs.random_contrast, training=True),
    LayerCase("RandomBrightness(0.2,(-2,2))[training]",
              partial(layers.RandomBrightness, 0.2, value_range=(-2, 2), seed=7),
              [(4, 3, 2)], refs.random_brightness, training=True),
    LayerCase("RandomCrop(3,2)[training]", partial(layers.RandomCrop, 3, 2, seed=8),
              [(5, 4, 2)], refs.random_crop, training=True),
    LayerCase("RandomCrop(6,3)[training,resized]", partial(layers.RandomCrop, 6, 3, seed=9),
              [(4, 5, 2)], refs.random_crop, training=True),
]

#: RandAugment's seeds and the operations they pick on the checked call (the second: the
#: first builds the layer), together all 11 and repeated ones (0, 27: the same draws
#: applied twice); test_rand_augment_cases_pick_these_operations keeps this table true.
RAND_AUGMENT_PICKS = {
    0: ("auto_contrast", "auto_contrast"),
    2: ("random_brightness", "random_contrast"),
    3: ("random_translation", "auto_contrast"),
    5: ("random_posterization", "random_shear"),
    6: ("random_sharpness", "random_rotation"),
    7: ("random_brightness", "random_color_degeneration"),
    16: ("random_translation", "solarization"),
    21: ("random_contrast", "equalization"),
    23: ("random_shear", "random_sharpness"),
    27: ("random_sharpness", "random_sharpness"),
}


def _uniform_draw(low: float, high: float) -> Callable:
    """Inputs from U[low, high) (pixel values around a layer's ``value_range``)."""
    return lambda rng, shape: rng.uniform(low, high, shape)


def _constant_first_channel(rng, shape):
    """U[0, 1) pixels with channel 0 constant (Equalization returns it unchanged)."""
    x = rng.uniform(0.0, 1.0, shape)
    x[..., 0] = 0.3
    return x


#: Keras 3's newer augmentation layers in training: the references replay the call's draws
#: (``layer.transformation`` or the state in ``layer.cache``). The layers TensorFlow gives
#: no gradient (RandomHue, RandomSaturation through HSVToRGB; RandomPosterization's uint8
#: cast; Equalization's table lookup) are checked to give ``δx = 0`` (Equalization: but
#: for the channels it returns unchanged).
NEWER_AUGMENTATION_CASES = [
    LayerCase("RandomGrayscale(0.5)[training]", partial(layers.RandomGrayscale, 0.5, seed=21),
              [(3, 4, 3)], refs.random_grayscale, training=True),
    LayerCase("RandomGrayscale(0.5)[inference]", partial(layers.RandomGrayscale, 0.5, seed=22),
              [(3, 4, 3)], refs.random_grayscale),
    LayerCase("RandomColorDegeneration(0.6,(-2,2))[training]",
              partial(layers.RandomColorDegeneration, 0.6, value_range=(-2, 2), seed=23),
              [(3, 4, 3)], refs.random_color_degeneration, training=True),
    LayerCase("RandomSharpness(0.8,(-2,2))[training]",
              partial(layers.RandomSharpness, 0.8, value_range=(-2, 2), seed=24),
              [(4, 5, 2)], refs.random_sharpness, training=True),
    LayerCase("RandomInvert(0.8,(0,1))[training]",
              partial(layers.RandomInvert, 0.8, value_range=(0, 1), seed=25),
              [(3, 4, 2)], refs.random_invert, training=True),
    LayerCase("Solarization((0,0.2),(0.2,0.8),(0,1))[training]",
              partial(layers.Solarization, (0.0, 0.2), (0.2, 0.8), value_range=(0, 1),
                      seed=26), [(3, 4, 2)], refs.solarization, training=True,
              draw=_uniform_draw(-0.1, 1.1)),
    LayerCase("RandomColorJitter((-2,2),brightness=0.2,contrast=0.4)[training]",
              partial(layers.RandomColorJitter, (-2, 2), brightness_factor=0.2,
                      contrast_factor=0.4, seed=27), [(4, 3, 3)], refs.random_color_jitter,
              training=True),
    LayerCase("AutoContrast((-2,2))", partial(layers.AutoContrast, (-2, 2)), [(3, 4, 2)],
              refs.auto_contrast),
    LayerCase("AutoContrast()[training]", layers.AutoContrast, [(4, 3, 3)],
              refs.auto_contrast, training=True, draw=_uniform_draw(0.0, 255.0)),
    LayerCase("RandomErasing(1,(0.2,0.5),noise,(-2,2))[training]",
              partial(layers.RandomErasing, 1.0, (0.2, 0.5), value_range=(-2, 2), seed=28),
              [(4, 5, 2)], refs.random_erasing, training=True),
    LayerCase("RandomErasing(0.8,0.4,fill=0.5)[training]",
              partial(layers.RandomErasing, 0.8, 0.4, fill_value=0.5, seed=29),
              [(4, 5, 3)], refs.random_erasing, training=True),
    *[LayerCase(f"RandomGaussianBlur((0.5,1),{k},(0.3,1),(-2,2))[training]".replace(" ", ""),
                partial(layers.RandomGaussianBlur, (0.5, 1.0), k, (0.3, 1.0),
                        value_range=(-2, 2), seed=30), [(5, 6, 2)], refs.random_gaussian_blur,
                training=True)
      for k in (3, 5, (3, 5))],                   # (3, 5): Keras reshapes a (5, 3) product
    *[LayerCase(f"RandomShear(0.3,0.4,{fill},{interpolation})[training]",
                partial(layers.RandomShear, 0.3, 0.4, interpolation=interpolation,
                        fill_mode=fill, fill_value=0.5, seed=31), [(5, 4, 2)],
                refs.random_affine, training=True)
      for fill, interpolation in (("reflect", "bilinear"), ("constant", "nearest"),
                                  ("wrap", "bilinear"), ("nearest", "bilinear"))],
    *[LayerCase(f"RandomPerspective((0.5,1),0.5,{interpolation},fill=0.5)[training]",
                partial(layers.RandomPerspective, (0.5, 1.0), 0.5, interpolation=interpolation,
                        fill_value=0.5, seed=32), [(5, 4, 2)], refs.random_perspective,
                training=True) for interpolation in ("bilinear", "nearest")],
    LayerCase("MixUp(0.5)[training]", partial(layers.MixUp, 0.5, seed=33), [(3, 2, 2)],
              refs.mix_up, training=True),
    LayerCase("CutMix()[training]", partial(layers.CutMix, seed=34), [(4, 5, 2)],
              refs.cut_mix, training=True),
    LayerCase("Pipeline([RandomInvert,RandomFlip,RandomContrast,RandomSharpness])[training]",
              lambda: layers.Pipeline([
                  layers.RandomInvert(0.8, value_range=(-2, 2), seed=35),
                  layers.RandomFlip(seed=36),
                  layers.RandomContrast(0.5, value_range=(-2, 2), seed=37),
                  layers.RandomSharpness(0.8, value_range=(-2, 2), seed=38)]),
              [(4, 3, 2)], refs.pipeline, training=True),
    *[LayerCase(f"RandAugment(seed={seed}:{'+'.join(picks)})[training]",
                partial(layers.RandAugment, (0, 255), seed=seed), [(5, 4, 3)],
                refs.rand_augment, training=True, draw=_uniform_draw(0.0, 255.0))
      for seed, picks in RAND_AUGMENT_PICKS.items()],
    LayerCase("RandomHue(0.5,(0,1))[training]",
              partial(layers.RandomHue, 0.5, value_range=(0, 1), seed=39), [(3, 4, 3)],
              refs.no_gradient_layer, training=True, draw=_uniform_draw(0.0, 1.0)),
    LayerCase("RandomSaturation(0.5,(0,1))[training]",
              partial(layers.RandomSaturation, 0.5, value_range=(0, 1), seed=40), [(3, 4, 3)],
              refs.no_gradient_layer, training=True, draw=_uniform_draw(0.0, 1.0)),
    LayerCase("RandomPosterization(4,(0,1))[training]",
              partial(layers.RandomPosterization, 4, value_range=(0, 1), seed=41),
              [(3, 4, 3)], refs.random_posterization, training=True,
              draw=_uniform_draw(0.0, 1.0)),
    LayerCase("Equalization((0,1))", partial(layers.Equalization, (0, 1)), [(4, 5, 3)],
              refs.equalization, training=True, draw=_uniform_draw(0.0, 1.0)),
    LayerCase("Equalization((0,1),bins=8,constant channel)",
              partial(layers.Equalization, (0, 1), bins=8), [(4, 5, 3)], refs.equalization,
              training=True, draw=_constant_first_channel),
]



@pytest.mark.parametrize("batch", [1, 4])
def test_rand_augment_cases_pick_these_operations(float64, batch):
    """The RandAugment cases cover the operations RAND_AUGMENT_PICKS names."""
    for case in NEWER_AUGMENTATION_CASES:
        if case.cls is layers.RandAugment:
            layer = case.make()
            x = np.random.default_rng(0).uniform(0.0, 255.0, (batch, *case.shapes[0]))
            layer(x.copy(), training=True)
            layer.forward(x.copy(), training=True)
            assert tuple(layer.last_operations) == RAND_AUGMENT_PICKS[layer.seed], case.label
    picked = {name for picks in RAND_AUGMENT_PICKS.values() for name in picks}
    assert picked == set(mr.layers.preprocessing.rand_augment.AUGMENT_LAYERS)


GIVEN_MEAN = np.array([0.5, -1.0, 2.0])
GIVEN_VARIANCE = np.array([4.0, 0.25, 0.0])     # a variance of 0: σ = ε
ALL_KINKS = (-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 3.0, 6.0)
#: The activations a layer takes by name: all but threshold, which needs its two arguments
#: (``Dense(activation="threshold")`` fails in Keras too); its ActivationCases check it.
BY_NAME_ACTIVATIONS = [name for name in refs.ACTIVATIONS if name != "threshold"]


def _even(size: int, activation: str) -> int:
    """``size``, made even for glu, which halves the last axis."""
    return size + size % 2 if activation == "glu" else size


def _attention_mask(inputs) -> np.ndarray:
    """A fixed (N, T, S) mask: key 0 always visible, the rest in a pattern per sample."""
    n, t, s = inputs[0].shape[0], inputs[0].shape[1], inputs[1].shape[1]
    b, i, j = np.meshgrid(np.arange(n), np.arange(t), np.arange(s), indexing="ij")
    return ((b + i + j) % 3 != 1) | (j == 0)


def _attention_call(mask: bool = False, scores: bool = False, **options) -> Callable:
    """``layer(x_q, x_v, key=x_k, ...)`` for a MultiHeadAttention case (the output only)."""
    def call(layer, xs, training):
        outputs = layer(xs[0], xs[1], key=xs[2] if len(xs) > 2 else None,
                        attention_mask=_attention_mask(xs) if mask else None,
                        return_attention_scores=scores, training=training, **options)
        return outputs[0] if scores else outputs
    return call


def _list_attention_call(mask: bool = False, scores: bool = False, **options) -> Callable:
    """``layer([q, v(, k)], mask=[query_mask, value_mask], ...)`` (the output only) for an
    Attention or AdditiveAttention case."""
    def call(layer, xs, training):
        masks = None
        if mask:
            key_mask = _attention_mask(xs)[:, 0, :]            # (N, T_v), key 0 visible
            masks = [_attention_mask(xs)[:, :, 1], key_mask]   # (N, T_q), some rows hidden
        outputs = layer(list(xs), mask=masks, return_attention_scores=scores,
                        training=training, **options)
        return outputs[0] if scores else outputs
    return call


#: MultiHeadAttention on both of Keras' paths (fused: no dropout, no scores; explicit),
#: with a key of its own, the attention mask and the causal mask, dropout in training.
#: Without biases: ∂L/∂b_k is 0 exactly (the softmax ignores the q·b_k it adds to a whole
#: row), so both sides give rounding noise that no relative comparison can judge; the
#: biases are checked by finite differences and against Keras in tests/test_attention.py.
ATTENTION_CASES = [
    LayerCase("MultiHeadAttention(2,3,no bias)[self]",
              partial(layers.MultiHeadAttention, 2, 3, use_bias=False), [(4, 5), (4, 5)],
              refs.multi_head_attention, call=_attention_call()),
    LayerCase("MultiHeadAttention(2,2,value_dim=3,output_shape=4,no bias)[key]",
              partial(layers.MultiHeadAttention, 2, 2, value_dim=3, output_shape=4,
                      use_bias=False),
              [(3, 5), (4, 2), (4, 3)], refs.multi_head_attention, call=_attention_call()),
    LayerCase("MultiHeadAttention(1,3,no bias)[mask,causal]",
              partial(layers.MultiHeadAttention, 1, 3, use_bias=False), [(4, 3), (4, 2)],
              refs.multi_head_attention, call=_attention_call(mask=True, use_causal_mask=True)),
    LayerCase("MultiHeadAttention(2,2,no bias)[mask,scores]",
              partial(layers.MultiHeadAttention, 2, 2, use_bias=False),
              [(3, 4), (5, 3)], refs.multi_head_attention,
              call=_attention_call(mask=True, scores=True)),
    LayerCase("MultiHeadAttention(2,2,dropout=0.4,no bias)[training,causal]",
              partial(layers.MultiHeadAttention, 2, 2, dropout=0.4, seed=5, use_bias=False),
              [(4, 3), (4, 3)],
              refs.multi_head_attention, training=True,
              call=_attention_call(use_causal_mask=True)),
    *[LayerCase(f"{label}[{name}]", make, shapes, refs.dot_attention, training=training,
                call=_list_attention_call(**options))
      for label, make in [
          ("Attention()", layers.Attention),
          ("Attention(use_scale)", partial(layers.Attention, use_scale=True)),
          ("Attention(concat)", partial(layers.Attention, score_mode="concat")),
          ("Attention(use_scale,concat)",
           partial(layers.Attention, use_scale=True, score_mode="concat")),
          ("AdditiveAttention()", layers.AdditiveAttention),
          ("AdditiveAttention(use_scale=False)",
           partial(layers.AdditiveAttention, use_scale=False))]
      for name, shapes, training, options in [
          ("key", [(3, 4), (5, 2), (5, 4)], False, {}),
          ("masks,causal", [(4, 3), (4, 3)], False, {"mask": True, "use_causal_mask": True}),
          ("scores", [(3, 2), (4, 2)], False, {"scores": True})]],
    LayerCase("Attention(dropout=0.4)[training]", partial(layers.Attention, dropout=0.4, seed=1),
              [(3, 2), (4, 2)], refs.dot_attention, training=True,
              call=_list_attention_call()),
]


def _tiny_first_sample(rng, shape):
    """N(0, 1.5²) inputs whose first sample has a norm far below ε = 1e-12 (Keras'
    ``ops.normalize`` scales it by the constant 1/ε)."""
    x = rng.normal(0.0, 1.5, shape)
    x[0] *= 1e-14
    return x


def _td(inner):
    return partial(refs.time_distributed, inner=inner)


#: TimeDistributed: the reference calls the wrapped layer's reference on each time step (as
#: Keras does), the layer runs it once on the N·T merged slices.
TIME_DISTRIBUTED_CASES = [
    LayerCase("TimeDistributed(Dense(3,tanh))", lambda: layers.TimeDistributed(
        layers.Dense(3, activation="tanh")), [(4, 5)], _td(refs.dense)),
    LayerCase("TimeDistributed(Dense(2,relu,L2 kernel,L1 bias))", lambda: layers.TimeDistributed(
        layers.Dense(2, activation="relu", kernel_regularizer=mr.regularizers.L2(0.02),
                     bias_regularizer=mr.regularizers.L1(0.01))), [(3, 4)], _td(refs.dense)),
    LayerCase("TimeDistributed(Conv2D(2,2,same))[videos]", lambda: layers.TimeDistributed(
        layers.Conv2D(2, 2, padding="same")), [(3, 4, 3, 2)], _td(refs.conv)),
    LayerCase("TimeDistributed(LayerNormalization())", lambda: layers.TimeDistributed(
        layers.LayerNormalization()), [(3, 4)], _td(refs.layer_normalization)),
    LayerCase("TimeDistributed(BatchNormalization())[inference]",
              lambda: layers.TimeDistributed(layers.BatchNormalization()), [(3, 2)],
              _td(refs.batch_normalization),
              setup=lambda layer, rng, shapes: _moving_statistics(layer.layer, rng, shapes)),
]

def _sn(inner):
    return partial(refs.spectral_normalization, inner=inner)


#: SpectralNormalization: in training the kernel is divided by σ in place before the wrapped
#: layer runs, and the gradient is the wrapped layer's at that kernel (see the reference).
SPECTRAL_NORMALIZATION_CASES = [
    LayerCase("SpectralNormalization(Dense(3,tanh))[training]", lambda: (
        layers.SpectralNormalization(layers.Dense(3, activation="tanh"))), [(4,)],
              _sn(refs.dense), training=True),
    LayerCase("SpectralNormalization(Dense(2,L2 kernel),power_iterations=3)[inference]",
              lambda: layers.SpectralNormalization(layers.Dense(
                  2, kernel_regularizer=mr.regularizers.L2(0.02)), power_iterations=3),
              [(3, 4)], _sn(refs.dense)),
    LayerCase("SpectralNormalization(Dense(3,OrthogonalRegularizer kernel))[training]",
              lambda: layers.SpectralNormalization(layers.Dense(
                  3, kernel_regularizer=mr.regularizers.OrthogonalRegularizer(0.1))),
              [(5,)], _sn(refs.dense), training=True),
    LayerCase("SpectralNormalization(Conv2D(2,2,same))[training]", lambda: (
        layers.SpectralNormalization(layers.Conv2D(2, 2, padding="same"))), [(4, 3, 2)],
              _sn(refs.conv), training=True),
]

#: GroupNormalization: groups of the last axis or of another one, sequences and images,
#: instance normalization (groups=-1), LayerNormalization over everything (groups=1),
#: no γ or no β, a regularized γ. Every group holds 3 values or more: two values normalize
#: to ±d/√(d² + ε) (d half their difference), nearly constant, so δx would be a cancellation
#: of O(1) terms down to ~ε/d², which no relative comparison can judge.
GROUP_NORMALIZATION_CASES = [
    LayerCase("GroupNormalization(2)[N,6]", partial(layers.GroupNormalization, 2), [(6,)],
              refs.group_normalization),
    LayerCase("GroupNormalization(2)[N,3,4]", partial(layers.GroupNormalization, 2), [(3, 4)],
              refs.group_normalization),
    LayerCase("GroupNormalization(3,axis=1)[N,6,2]",
              partial(layers.GroupNormalization, 3, axis=1), [(6, 2)],
              refs.group_normalization),
    LayerCase("GroupNormalization(-1)[N,3,3,2]", partial(layers.GroupNormalization, -1),
              [(3, 3, 2)], refs.group_normalization),
    LayerCase("GroupNormalization(1,center=False,L2 gamma)[N,2,2,3]",
              partial(layers.GroupNormalization, 1, center=False,
                      gamma_regularizer=mr.regularizers.L2(0.02)), [(2, 2, 3)],
              refs.group_normalization),
    LayerCase("GroupNormalization(2,scale=False,epsilon=0.1,L1 beta)[N,3,4]",
              partial(layers.GroupNormalization, 2, scale=False, epsilon=0.1,
                      beta_regularizer=mr.regularizers.L1(0.01)), [(3, 4)],
              refs.group_normalization),
]

#: RMSNormalization and UnitNormalization: the last axis or several, and vectors whose norm
#: is below Keras' ε (scaled by the constant 1/ε).
RMS_UNIT_NORMALIZATION_CASES = [
    LayerCase("RMSNormalization()[N,4]", layers.RMSNormalization, [(4,)],
              refs.rms_normalization),
    LayerCase("RMSNormalization(epsilon=0.1)[N,3,4]",
              partial(layers.RMSNormalization, epsilon=0.1), [(3, 4)], refs.rms_normalization),
    LayerCase("RMSNormalization(axis=[1,2])[N,3,2]",
              partial(layers.RMSNormalization, axis=[1, 2]), [(3, 2)], refs.rms_normalization),
    LayerCase("UnitNormalization()[N,4]", layers.UnitNormalization, [(4,)],
              refs.unit_normalization),
    LayerCase("UnitNormalization(axis=1)[N,3,2]", partial(layers.UnitNormalization, axis=1),
              [(3, 2)], refs.unit_normalization),
    LayerCase("UnitNormalization(axis=[1,2])[N,3,2]",
              partial(layers.UnitNormalization, axis=[1, 2]), [(3, 2)],
              refs.unit_normalization),
    LayerCase("UnitNormalization()[N,3][tiny first sample]", layers.UnitNormalization, [(3,)],
              refs.unit_normalization, draw=_tiny_first_sample),
]

#: The other dropouts: in training the reference replays the call's keep mask.
MORE_DROPOUT_CASES = [
    LayerCase("SpatialDropout1D(0.5)[training]", partial(layers.SpatialDropout1D, 0.5, seed=9),
              [(4, 5)], refs.dropout, training=True),
    LayerCase("SpatialDropout1D(0.5)[inference]",
              partial(layers.SpatialDropout1D, 0.5, seed=10), [(4, 5)], refs.dropout),
    LayerCase("SpatialDropout3D(0.5)[training]", partial(layers.SpatialDropout3D, 0.5, seed=11),
              [(2, 2, 2, 5)], refs.dropout, training=True),
    LayerCase("SpatialDropout3D(0.5)[inference]",
              partial(layers.SpatialDropout3D, 0.5, seed=12), [(2, 2, 2, 5)], refs.dropout),
    LayerCase("AlphaDropout(0.3)[training]", partial(layers.AlphaDropout, 0.3, seed=13),
              [(6,)], refs.alpha_dropout, training=True),
    LayerCase("AlphaDropout(0.4,noise_shape=(None,1,4))[training]",
              partial(layers.AlphaDropout, 0.4, noise_shape=(None, 1, 4), seed=14), [(3, 4)],
              refs.alpha_dropout, training=True),
    LayerCase("AlphaDropout(0.3)[inference]", partial(layers.AlphaDropout, 0.3, seed=15),
              [(6,)], refs.alpha_dropout),
]

#: Resizing (up and down, both interpolations, cropped or padded to the aspect ratio) and
#: CenterCrop (a plain window, and Keras' smart_resize for images smaller than the target).
RESIZING_CASES = [
    LayerCase("Resizing(4,6)[up]", partial(layers.Resizing, 4, 6), [(3, 4, 2)], refs.resizing),
    LayerCase("Resizing(2,3)[down]", partial(layers.Resizing, 2, 3), [(5, 7, 1)],
              refs.resizing),
    LayerCase("Resizing(5,3,nearest)", partial(layers.Resizing, 5, 3, interpolation="nearest"),
              [(3, 4, 2)], refs.resizing),
    LayerCase("Resizing(3,3,crop_to_aspect_ratio)",
              partial(layers.Resizing, 3, 3, crop_to_aspect_ratio=True), [(4, 6, 2)],
              refs.resizing),
    LayerCase("Resizing(4,2,pad_to_aspect_ratio,fill_value=0.5)",
              partial(layers.Resizing, 4, 2, pad_to_aspect_ratio=True, fill_value=0.5),
              [(3, 3, 2)], refs.resizing),
    LayerCase("CenterCrop(2,3)", partial(layers.CenterCrop, 2, 3), [(4, 5, 2)],
              refs.center_crop),
    LayerCase("CenterCrop(4,3)[smart_resize]", partial(layers.CenterCrop, 4, 3), [(3, 5, 2)],
              refs.center_crop),
]


# -- EinsumDense and the adaptive poolings: Keras' call written with mr.ops -------------------
def _einsum_case(label: str, shape: tuple, **kwargs) -> LayerCase:
    return LayerCase(f"EinsumDense({label})", partial(layers.EinsumDense, **kwargs), [shape],
                     refs.einsum_dense)


EINSUM_CASES = [
    _einsum_case("ab,bc->ac", (3,), equation="ab,bc->ac", output_shape=4, bias_axes="c"),
    _einsum_case("ab,bc->ac,tanh,no bias", (5,), equation="ab,bc->ac", output_shape=2,
                 activation="tanh"),
    _einsum_case("abc,cd->abd", (3, 5), equation="abc,cd->abd", output_shape=(None, 4),
                 bias_axes="d", activation="sigmoid"),
    _einsum_case("abc,cde->abde,de", (3, 5), equation="abc,cde->abde", output_shape=(3, 2, 4),
                 bias_axes="de"),
    _einsum_case("abc,cde->abde,bd", (3, 5), equation="abc,cde->abde", output_shape=(3, 2, 4),
                 bias_axes="bd"),
    _einsum_case("abcd,cde->abe,be", (3, 2, 5), equation="abcd,cde->abe",
                 output_shape=(3, 4), bias_axes="be"),
    _einsum_case("abc,cd->ad", (4, 2), equation="abc,cd->ad", output_shape=3),
    _einsum_case("...b,bc->...c", (2, 4, 5), equation="...b,bc->...c", output_shape=3,
                 bias_axes="c"),
    _einsum_case("ab...,bc->ac...", (4, 2), equation="ab...,bc->ac...", output_shape=3,
                 bias_axes="c"),
    _einsum_case("abcd,cde->abe,be,L2 kernel,L1 bias", (3, 2, 5), equation="abcd,cde->abe",
                 output_shape=(3, 4), bias_axes="be", kernel_regularizer=mr.regularizers.L2(0.02),
                 bias_regularizer=mr.regularizers.L1(0.01)),
]

ADAPTIVE_POOLING_CASES = [
    LayerCase(f"{kind}{dims}D({size})[{shape}]",
              partial(getattr(layers, f"{kind}{dims}D"), size), [shape], reference)
    for kind, reference in (("AdaptiveAveragePooling", refs.adaptive_average_pooling),
                            ("AdaptiveMaxPooling", refs.adaptive_max_pooling))
    for dims, size, shape in ((1, 3, (7, 2)), (1, 4, (3, 2)), (1, 2, (6, 1)),
                              (2, (3, 2), (7, 5, 2)), (2, 2, (4, 4, 1)),
                              (3, (2, 3, 2), (3, 5, 4, 1)))
]


def _stft_case(label: str, shape: tuple, **kwargs) -> LayerCase:
    return LayerCase(f"STFTSpectrogram({label})",
                     partial(layers.STFTSpectrogram, frame_length=5, frame_step=3, fft_length=8,
                             **kwargs), [shape], refs.stft_spectrogram)


#: Every mode of STFTSpectrogram (random kernels: no atan2 branch cut at im = 0), both
#: paddings, both data formats with and without expand_dims; MelSpectrogram with and
#: without decibels (top_db 10 clips part of the output), windows, one signal and a batch.
AUDIO_CASES = [
    _stft_case("log", (13, 2), mode="log"),
    _stft_case("magnitude,same", (13, 2), mode="magnitude", padding="same"),
    _stft_case("psd,hamming", (12, 1), mode="psd", window="hamming"),
    _stft_case("real,same,expand_dims", (13, 2), mode="real", padding="same",
               expand_dims=True),
    _stft_case("imag,no window", (11, 3), mode="imag", window=None),
    _stft_case("angle", (13, 2), mode="angle"),
    _stft_case("stft,channels_first", (2, 13), mode="stft", data_format="channels_first"),
    _stft_case("log,same,channels_first,expand_dims", (2, 14), mode="log", padding="same",
               data_format="channels_first", expand_dims=True),
    LayerCase("MelSpectrogram(fft 16,power)", partial(
        layers.MelSpectrogram, fft_length=16, sequence_stride=4, num_mel_bins=5,
        sampling_rate=8000, power_to_db=False), [(40,)], refs.mel_spectrogram),
    LayerCase("MelSpectrogram(fft 16,window 12 hamming,dB,top_db 10)", partial(
        layers.MelSpectrogram, fft_length=16, sequence_stride=5, sequence_length=12,
        window="hamming", num_mel_bins=4, sampling_rate=8000, top_db=10.0, ref_power=0.5),
        [(41,)], refs.mel_spectrogram),
    LayerCase("MelSpectrogram(fft 8,no window,magnitude,dB)", partial(
        layers.MelSpectrogram, fft_length=8, sequence_stride=3, window=None, num_mel_bins=3,
        sampling_rate=4000, mag_exp=1.0, min_freq=50.0), [(30,)], refs.mel_spectrogram),
]
#: RandomElasticTransform (with the Gaussian smoothing of the field: images of 20 rows or
#: more), AugMix (seeds whose chains hold every operation) and MaxNumBoundingBoxes (the
#: identity on images). CLAHE has no gradient (EXCLUDED_LAYERS).
IMAGE_MORE_CASES: list[LayerCase] = [
    LayerCase("RandomElasticTransform((0.5,1),(1,1),reflect)[training]",
              partial(layers.RandomElasticTransform, (0.5, 1.0), (1.0, 1.0),
                      value_range=(-2, 2), seed=51), [(20, 21, 2)],
              refs.random_elastic_transform, training=True),
    LayerCase("RandomElasticTransform(1,0.8,nearest,constant,fill=0.5)[training]",
              partial(layers.RandomElasticTransform, 1.0, 0.8, "nearest", "constant", 0.5,
                      value_range=(-2, 2), seed=52), [(6, 5, 3)],
              refs.random_elastic_transform, training=True),
    LayerCase("RandomElasticTransform(0)[training]",
              partial(layers.RandomElasticTransform, 0.0, seed=53), [(4, 5, 2)],
              refs.random_elastic_transform, training=True),
    *[LayerCase(f"AugMix(seed={seed},all_ops={all_ops})[training]",
                partial(layers.AugMix, (0, 255), factor=(0.1, 0.5), all_ops=all_ops,
                        seed=seed), [(5, 4, 3)], refs.aug_mix, training=True,
                draw=_uniform_draw(0.0, 255.0))
      for seed, all_ops in ((54, True), (55, True), (56, False), (57, True))],
    LayerCase("MaxNumBoundingBoxes(3)", partial(layers.MaxNumBoundingBoxes, 3), [(4, 4, 3)],
              refs.max_num_bounding_boxes),
]
STRUCTURED_CASES: list[LayerCase] = []  # HashedCrossing: no gradient (EXCLUDED_LAYERS)
def _conv_lstm_mask(x, per_position: bool = False) -> np.ndarray:
    """A fixed mask of ``x``'s steps ``(N, T)`` (or of every position, ``(N, T, *spatial)``):
    a leading padding step, then a pattern per sample and position."""
    shape = (*x.shape[:2], *x.shape[2:-1]) if per_position else x.shape[:2]
    keep = np.indices(shape).sum(axis=0) % 3 != 1
    keep[0, 0] = False
    return keep


def _masked_call(per_position: bool = False) -> Callable:
    """``layer(x, mask=m)`` with :func:`_conv_lstm_mask`."""
    def call(layer, x, training):
        return layer(x, mask=_conv_lstm_mask(x, per_position), training=training)
    return call


#: ConvLSTMs with a mask of the steps or of every position (Keras keeps the states and the
#: output of a masked step), forwards, backwards, zero_output_for_mask, and Bidirectional.
MASKED_CONV_LSTM_CASES = [
    LayerCase("ConvLSTM2D(2,3,same,return_sequences)[mask]",
              partial(layers.ConvLSTM2D, 2, 3, padding="same", return_sequences=True),
              [(4, 4, 4, 2)], refs.masked_conv_lstm, call=_masked_call()),
    LayerCase("ConvLSTM2D(2,2,go_backwards,return_sequences,zero_output_for_mask)[mask]",
              partial(layers.ConvLSTM2D, 2, 2, go_backwards=True, return_sequences=True,
                      zero_output_for_mask=True),
              [(4, 4, 3, 2)], refs.masked_conv_lstm, call=_masked_call()),
    LayerCase("ConvLSTM2D(2,3,strides=2,same)[mask]",
              partial(layers.ConvLSTM2D, 2, 3, strides=2, padding="same"),
              [(4, 5, 4, 2)], refs.masked_conv_lstm, call=_masked_call()),
    LayerCase("ConvLSTM1D(2,3,same,return_sequences,go_backwards)[mask per position]",
              partial(layers.ConvLSTM1D, 2, 3, padding="same", return_sequences=True,
                      go_backwards=True),
              [(4, 5, 2)], refs.masked_conv_lstm, call=_masked_call(per_position=True)),
    LayerCase("ConvLSTM3D(2,2,same)[mask per position]",
              partial(layers.ConvLSTM3D, 2, 2, padding="same"),
              [(3, 3, 3, 2, 2)], refs.masked_conv_lstm, call=_masked_call(per_position=True)),
    LayerCase("Bidirectional(ConvLSTM2D(2,3,same,return_sequences))[mask]",
              lambda: layers.Bidirectional(layers.ConvLSTM2D(2, 3, padding="same",
                                                             return_sequences=True)),
              [(3, 4, 4, 2)], refs.masked_bidirectional_conv_lstm, call=_masked_call()),
    LayerCase("Bidirectional(ConvLSTM1D(2,3,same),merge_mode=mul)[mask per position]",
              lambda: layers.Bidirectional(layers.ConvLSTM1D(2, 3, padding="same"),
                                           merge_mode="mul"),
              [(4, 5, 2)], refs.masked_bidirectional_conv_lstm,
              call=_masked_call(per_position=True)),
    LayerCase("Bidirectional(ConvLSTM2D(2,2,return_sequences),merge_mode=ave)",
              lambda: layers.Bidirectional(layers.ConvLSTM2D(2, 2, return_sequences=True),
                                           merge_mode="ave"),
              [(3, 4, 4, 2)], refs.masked_bidirectional_conv_lstm,
              call=lambda layer, x, training: layer(x, mask=np.ones(x.shape[:2], dtype=bool),
                                                    training=training)),
]

#: GroupedQueryAttention (4 query heads on 2 key/value heads; multi-query: 1) on both of
#: Keras' paths, with a key, the masks and dropout; ReversibleEmbedding's reverse call.
GQA_CASES = [
    LayerCase("GroupedQueryAttention(2,4,2,no bias)[self]",
              partial(layers.GroupedQueryAttention, 2, 4, 2, use_bias=False),
              [(4, 5), (4, 5)], refs.grouped_query_attention, call=_attention_call()),
    LayerCase("GroupedQueryAttention(3,2,1,no bias)[key,mask,scores]",   # ∂L/∂b_k = 0: noise
              partial(layers.GroupedQueryAttention, 3, 2, 1, use_bias=False),
              [(3, 4), (5, 4), (5, 2)], refs.grouped_query_attention,
              call=_attention_call(mask=True, scores=True)),
    LayerCase("GroupedQueryAttention(2,4,2,dropout=0.4,no bias)[training,causal]",
              partial(layers.GroupedQueryAttention, 2, 4, 2, dropout=0.4, seed=5,
                      use_bias=False),
              [(4, 3), (4, 3)], refs.grouped_query_attention, training=True,
              call=_attention_call(use_causal_mask=True)),
    LayerCase("ReversibleEmbedding(6,4)[reverse]", partial(layers.ReversibleEmbedding, 6, 4),
              [(3, 4)], refs.reversible_embedding,
              call=lambda layer, x, training: layer(x, reverse=True)),
    LayerCase("ReversibleEmbedding(6,4,untied,logit_soft_cap=2)[reverse]",
              partial(layers.ReversibleEmbedding, 6, 4, tie_weights=False, logit_soft_cap=2.0),
              [(3, 4)], refs.reversible_embedding,
              call=lambda layer, x, training: layer(x, reverse=True)),
]

LAYER_CASES = [
    LayerCase("Dense(3)", lambda: layers.Dense(3), [(5,)], refs.dense),
    *[LayerCase(f"Dense({_even(3, name)},{name})",
                partial(layers.Dense, _even(3, name), activation=name), [(4,)], refs.dense)
      for name in BY_NAME_ACTIVATIONS if name != "linear"],
    LayerCase("Dense(2,use_bias=False)", lambda: layers.Dense(2, use_bias=False), [(3,)],
              refs.dense),
    LayerCase("Dense(3,tanh)[3-D inputs]", lambda: layers.Dense(3, activation="tanh"),
              [(4, 5)], refs.dense),
    LayerCase("Dense(3,relu,L1 kernel,L2 bias)",
              lambda: layers.Dense(3, activation="relu",
                                   kernel_regularizer=mr.regularizers.L1(0.01),
                                   bias_regularizer=mr.regularizers.L2(0.02)),
              [(4,)], refs.dense),
    LayerCase("Dense(2,L1L2 kernel)",
              lambda: layers.Dense(2, kernel_regularizer=mr.regularizers.L1L2(0.01, 0.03)),
              [(3,)], refs.dense),
    LayerCase("Dense(3,OrthogonalRegularizer kernel)",
              lambda: layers.Dense(3, kernel_regularizer=mr.regularizers.OrthogonalRegularizer(
                  0.2)), [(4,)], refs.dense),
    LayerCase("Dense(4,tanh,OrthogonalRegularizer(columns) kernel)",
              lambda: layers.Dense(4, activation="tanh",
                                   kernel_regularizer=mr.regularizers.OrthogonalRegularizer(
                                       0.3, mode="columns")), [(3,)], refs.dense),
    *[LayerCase(f"Activation({name})", partial(layers.Activation, name), [(_even(5, name),)],
                refs.activation, kinks=ALL_KINKS) for name in BY_NAME_ACTIVATIONS],
    LayerCase("Activation(softmax)[3-D]", partial(layers.Activation, "softmax"), [(3, 4)],
              refs.activation),
    LayerCase("ReLU()", layers.ReLU, [(5,)], refs.relu_layer, kinks=ALL_KINKS),
    LayerCase("ReLU(max_value=6)", partial(layers.ReLU, max_value=6.0), [(5,)],
              refs.relu_layer, kinks=ALL_KINKS),
    LayerCase("ReLU(negative_slope=0.1)", partial(layers.ReLU, negative_slope=0.1), [(5,)],
              refs.relu_layer, kinks=ALL_KINKS),
    LayerCase("ReLU(max_value=2.5,negative_slope=0.3,threshold=0.5)",
              partial(layers.ReLU, max_value=2.5, negative_slope=0.3, threshold=0.5), [(5,)],
              refs.relu_layer, kinks=ALL_KINKS),
    LayerCase("LeakyReLU()", layers.LeakyReLU, [(5,)], refs.leaky_relu_layer, kinks=ALL_KINKS),
    LayerCase("LeakyReLU(0.05)", partial(layers.LeakyReLU, 0.05), [(5,)],
              refs.leaky_relu_layer, kinks=ALL_KINKS),
    LayerCase("ELU()", layers.ELU, [(5,)], refs.elu_layer, kinks=ALL_KINKS),
    LayerCase("ELU(alpha=0.5)", partial(layers.ELU, alpha=0.5), [(5,)], refs.elu_layer,
              kinks=ALL_KINKS),
    LayerCase("Softmax()", layers.Softmax, [(5,)], refs.softmax_layer),
    LayerCase("Softmax(axis=1)", partial(layers.Softmax, axis=1), [(3, 4)],
              refs.softmax_layer),
    LayerCase("Softmax(axis=[1,2])", partial(layers.Softmax, axis=[1, 2]), [(3, 4)],
              refs.softmax_layer),
    LayerCase("PReLU()", layers.PReLU, [(5,)], refs.prelu, kinks=ALL_KINKS),
    LayerCase("PReLU(shared_axes=[1])", partial(layers.PReLU, shared_axes=[1]), [(3, 4)],
              refs.prelu, kinks=ALL_KINKS),
    LayerCase("PReLU(alpha_regularizer=l2)", partial(layers.PReLU, alpha_regularizer="l2"),
              [(2, 3)], refs.prelu, kinks=ALL_KINKS),
    LayerCase("Dropout(0.3)[training]", partial(layers.Dropout, 0.3, seed=1), [(6,)],
              refs.dropout, training=True),
    LayerCase("Dropout(0.5,noise_shape=(None,1,4))[training]",
              partial(layers.Dropout, 0.5, noise_shape=(None, 1, 4), seed=2), [(3, 4)],
              refs.dropout, training=True),
    LayerCase("Dropout(0.3)[inference]", partial(layers.Dropout, 0.3, seed=3), [(6,)],
              refs.dropout),
    LayerCase("Flatten()[3-D]", layers.Flatten, [(3, 4)], refs.flatten),
    LayerCase("Flatten()[4-D]", layers.Flatten, [(2, 3, 2)], refs.flatten),
    LayerCase("Masking()", layers.Masking, [(4, 3)], refs.masking, draw=lambda rng, shape:
              rng.normal(size=shape) * (rng.random(shape[:-1]) < 0.6)[..., None]),
    LayerCase("Masking(mask_value=1.0)", partial(layers.Masking, 1.0), [(4, 3)], refs.masking,
              draw=lambda rng, shape: np.where((rng.random(shape[:-1]) < 0.4)[..., None], 1.0,
                                               rng.normal(size=shape))),
    LayerCase("Add()", layers.Add, [(4,), (4,)], refs.add),
    LayerCase("Add()[3 inputs,broadcast]", layers.Add, [(3, 4), (1, 4), (4,)], refs.add),
    LayerCase("Subtract()", layers.Subtract, [(4,), (4,)], refs.subtract),
    LayerCase("Subtract()[broadcast]", layers.Subtract, [(3, 4), (4,)], refs.subtract),
    LayerCase("Multiply()[3 inputs]", layers.Multiply, [(4,), (4,), (4,)], refs.multiply),
    LayerCase("Multiply()[broadcast]", layers.Multiply, [(3, 4), (1, 4), (4,)],
              refs.multiply),
    LayerCase("Average()", layers.Average, [(4,), (4,)], refs.average),
    LayerCase("Average()[3 inputs,broadcast]", layers.Average, [(3, 4), (3, 1), (4,)],
              refs.average),
    LayerCase("Maximum()[3 inputs]", layers.Maximum, [(4,), (4,), (4,)], refs.maximum),
    LayerCase("Maximum()[broadcast]", layers.Maximum, [(3, 4), (4,)], refs.maximum),
    LayerCase("Minimum()", layers.Minimum, [(4,), (4,)], refs.minimum),
    LayerCase("Minimum()[3 inputs,broadcast]", layers.Minimum, [(3, 4), (1, 4), (3, 1)],
              refs.minimum),
    LayerCase("Concatenate()", layers.Concatenate, [(2,), (3,)], refs.concatenate),
    LayerCase("Concatenate(axis=1)", partial(layers.Concatenate, axis=1), [(2, 4), (3, 4)],
              refs.concatenate),
    LayerCase("Rescaling(0.1,offset=0.2)", partial(layers.Rescaling, 0.1, offset=0.2),
              [(5,)], refs.rescaling),
    LayerCase("Rescaling(float64(1/255))", partial(layers.Rescaling, np.float64(1 / 255)),
              [(2, 3)], refs.rescaling),
    LayerCase("Normalization()[adapted]", layers.Normalization, [(3,)], refs.normalization,
              setup=_adapt),
    LayerCase("Normalization(invert=True)[adapted]", partial(layers.Normalization, invert=True),
              [(2, 3)], refs.normalization, setup=_adapt),
    LayerCase("Normalization(axis=None)[adapted]", partial(layers.Normalization, axis=None),
              [(3,)], refs.normalization, setup=_adapt),
    LayerCase("Normalization(mean,variance)",
              partial(layers.Normalization, mean=GIVEN_MEAN, variance=GIVEN_VARIANCE), [(3,)],
              partial(refs.normalization, mean=GIVEN_MEAN, variance=GIVEN_VARIANCE)),
    *CONV_CASES,
    *CONV_TRANSPOSE_CASES,
    *DEPTHWISE_SEPARABLE_CASES,
    *POOLING_CASES,
    *BATCH_NORMALIZATION_CASES,
    *LAYER_NORMALIZATION_CASES,
    LayerCase("Reshape((3,4))", partial(layers.Reshape, (3, 4)), [(12,)], refs.reshape),
    LayerCase("Reshape((-1,2))[3-D]", partial(layers.Reshape, (-1, 2)), [(3, 4)],
              refs.reshape),
    LayerCase("ZeroPadding2D()", layers.ZeroPadding2D, [(2, 3, 2)], refs.zero_padding_2d),
    LayerCase("ZeroPadding2D(((1,0),(0,2)))", partial(layers.ZeroPadding2D, ((1, 0), (0, 2))),
              [(3, 2, 1)], refs.zero_padding_2d),
    LayerCase("UpSampling2D()", layers.UpSampling2D, [(2, 3, 2)], refs.up_sampling_2d),
    LayerCase("UpSampling2D((1,3))", partial(layers.UpSampling2D, (1, 3)), [(3, 2, 1)],
              refs.up_sampling_2d),
    LayerCase("SpatialDropout2D(0.5)[training]", partial(layers.SpatialDropout2D, 0.5, seed=4),
              [(2, 3, 5)], refs.dropout, training=True),
    LayerCase("SpatialDropout2D(0.5)[inference]",
              partial(layers.SpatialDropout2D, 0.5, seed=5), [(2, 3, 5)], refs.dropout),
    LayerCase("UpSampling1D(3)", partial(layers.UpSampling1D, 3), [(4, 2)], refs.up_sampling_1d),
    LayerCase("ZeroPadding1D((2,1))", partial(layers.ZeroPadding1D, (2, 1)), [(3, 2)],
              refs.zero_padding_1d),
    LayerCase("Cropping1D((1,2))", partial(layers.Cropping1D, (1, 2)), [(5, 2)], refs.cropping),
    LayerCase("Cropping2D(((1,0),(2,1)))", partial(layers.Cropping2D, ((1, 0), (2, 1))),
              [(3, 5, 2)], refs.cropping),
    LayerCase("ZeroPadding3D(((1,0),(0,2),(1,1)))",
              partial(layers.ZeroPadding3D, ((1, 0), (0, 2), (1, 1))), [(2, 2, 3, 2)],
              refs.zero_padding_2d),
    LayerCase("UpSampling3D((1,2,3))", partial(layers.UpSampling3D, (1, 2, 3)), [(2, 2, 2, 2)],
              refs.up_sampling_3d),
    LayerCase("Cropping3D(((1,0),(0,1),(2,1)))",
              partial(layers.Cropping3D, ((1, 0), (0, 1), (2, 1))), [(3, 4, 5, 2)],
              refs.cropping),
    LayerCase("RepeatVector(3)", partial(layers.RepeatVector, 3), [(4,)], refs.repeat_vector),
    LayerCase("Permute((3,1,2))", partial(layers.Permute, (3, 1, 2)), [(2, 3, 4)],
              refs.permute),
    LayerCase("Identity()", layers.Identity, [(3, 2)], refs.identity),
    LayerCase("GaussianNoise(0.4)[training]", partial(layers.GaussianNoise, 0.4, seed=6),
              [(5,)], refs.gaussian_noise, training=True),
    LayerCase("GaussianNoise(0.4)[inference]", partial(layers.GaussianNoise, 0.4, seed=7),
              [(5,)], refs.gaussian_noise),
    LayerCase("GaussianDropout(0.3)[training]", partial(layers.GaussianDropout, 0.3, seed=8),
              [(5,)], refs.gaussian_dropout, training=True),
    LayerCase("Dot((1,2))", partial(layers.Dot, (1, 2)), [(3, 5), (2, 3)], refs.dot),
    LayerCase("Dot(-1,normalize)", partial(layers.Dot, -1, normalize=True), [(4,), (4,)],
              refs.dot),
    LayerCase("Dot((3,1),normalize)", partial(layers.Dot, (3, 1), normalize=True),
              [(2, 3, 4), (4,)], refs.dot),
    *AUGMENTATION_CASES,
    *NEWER_AUGMENTATION_CASES,
    *EINSUM_CASES,
    *ADAPTIVE_POOLING_CASES,
    *RECURRENT_CASES,
    *CONV_LSTM_CASES,
    *ATTENTION_CASES,
    *TIME_DISTRIBUTED_CASES,
    *SPECTRAL_NORMALIZATION_CASES,
    *GROUP_NORMALIZATION_CASES,
    *RMS_UNIT_NORMALIZATION_CASES,
    *MORE_DROPOUT_CASES,
    *RESIZING_CASES,
    *AUDIO_CASES,
    *IMAGE_MORE_CASES,
    *STRUCTURED_CASES,
    *MASKED_CONV_LSTM_CASES,
    *GQA_CASES,
]
LAYER_PARAMS = [pytest.param(case, batch, id=f"{case.label}-batch{batch}")
                for case in LAYER_CASES for batch in (1, 4)]


def _regularizers(layer) -> list:
    """The regularizer of each trainable weight, in ``trainable_weights`` order."""
    if isinstance(layer, layers.Dense | layers.EinsumDense):
        return [layer.kernel_regularizer] + ([layer.bias_regularizer] if layer.use_bias else [])
    if isinstance(layer, layers.Conv1D | layers.Conv2D | layers.Conv3D | layers.Conv1DTranspose
                  | layers.Conv2DTranspose | layers.Conv3DTranspose):
        return [layer.kernel_regularizer] + ([layer.bias_regularizer] if layer.use_bias else [])
    if isinstance(layer, layers.DepthwiseConv1D | layers.DepthwiseConv2D):
        return [layer.depthwise_regularizer] + ([layer.bias_regularizer] if layer.use_bias
                                                else [])
    if isinstance(layer, layers.SeparableConv1D | layers.SeparableConv2D):
        return [layer.depthwise_regularizer, layer.pointwise_regularizer] + (
            [layer.bias_regularizer] if layer.use_bias else [])
    if isinstance(layer, layers.PReLU):
        return [layer.alpha_regularizer]
    if isinstance(layer, layers.TimeDistributed | layers.SpectralNormalization):
        return _regularizers(layer.layer)              # the wrapped layer's weights
    if isinstance(layer, layers.BatchNormalization | layers.LayerNormalization
                  | layers.GroupNormalization):
        return (([layer.gamma_regularizer] if layer.scale else [])
                + ([layer.beta_regularizer] if layer.center else []))
    return [None] * len(layer.trainable_weights)


def _weight_scale(w: np.ndarray) -> float:
    """A kernel ``(in, units)`` is scaled by ``1/in`` (as in ``tests/strategies.py``), and a
    convolution kernel ``(*kernel_size, C, F)`` by ``1/(prod(kernel_size)·C)``, its fan-in, so
    the pre-activations stay within a few units.

    Why: a saturated softmax (``a ≈ one-hot``) makes ``δz = a ⊙ (δa - Σ δa a)`` a small
    difference of O(1) terms, which both sides compute with absolute rounding errors of
    ~1e-16, so their *relative* difference grows like ``1e-16 / (1 - max a)``. With
    unscaled kernels, Dense(3, softmax) reached 1.4e-13 over 40 seeds (the unit-scaled
    inputs of the activation cases: 9e-15); the weights here keep it near 1e-14.
    """
    return 1.0 / int(np.prod(w.shape[:-1])) if w.ndim >= 2 else 0.7


def crosscheck_layer(case: LayerCase, batch: int) -> dict[str, float]:
    """Outputs, ``δx`` of every input, every weight gradient and the penalties of a layer."""
    rng = np.random.default_rng(stable_seed(case.label, batch))
    draw = case.draw or (lambda rng, shape: rng.normal(0.0, 1.5, shape))
    xs = [away_from(draw(rng, (batch, *shape)), case.kinks) for shape in case.shapes]
    pack = (lambda arrays: list(arrays)) if case.several_inputs else (lambda arrays: arrays[0])
    layer = case.make()
    call = case.call or (lambda layer, inputs, training: layer.forward(inputs, training=training))
    if case.call is not None:
        case.call(layer, pack([x.copy() for x in xs]), case.training)   # builds it
    else:
        layer(pack([x.copy() for x in xs]), training=case.training)     # builds it
    if case.setup is not None:
        case.setup(layer, rng, [x.shape for x in xs])
    for w in layer.trainable_weights:         # not the initial zeros (bias, PReLU's α)
        w[...] = away_from(rng.normal(0.0, _weight_scale(w), w.shape), (0.0,), 0.02)

    # the hand-written passes, as a model runs them
    layer.zero_gradients()
    outputs = call(layer, pack([x.copy() for x in xs]), case.training)
    grad_outputs = rng.standard_normal(np.shape(outputs))
    grad_inputs = layer.backward(grad_outputs)
    layer.add_penalty_gradients()
    grad_inputs = grad_inputs if case.several_inputs else [grad_inputs]
    grad_inputs = [g for g in grad_inputs if g is not None]   # None: a mask, no δ
    trainable = layer.trainable_weights
    grad_weights = [np.array(g) for g in layer.trainable_gradients]
    hand_penalty = float(np.sum(layer.losses)) if layer.losses else None

    # the tape, on the reference forward with the layer's weights (watched copies)
    regularizers = _regularizers(layer)
    with GradientTape() as tape:
        xs_watched = [tape.watch(x.copy()) for x in xs]
        ws_watched = [tape.watch(np.array(w)) for w in trainable]
        outputs_ref = case.reference(layer, pack(xs_watched), ws_watched)
        penalties = [refs.penalty(r, w) for r, w in zip(regularizers, ws_watched, strict=True)
                     if r is not None]
    taped = tape.gradient([outputs_ref, *penalties], xs_watched + ws_watched,
                          output_gradient=[grad_outputs] + [1.0] * len(penalties))

    def numeric(array, arrays_x, arrays_w):
        def scalar():
            out = np.asarray(case.reference(layer, pack(arrays_x), arrays_w))
            extra = sum(float(refs.penalty(r, w)) for r, w in zip(regularizers, arrays_w,
                                                                  strict=True) if r is not None)
            return float(np.sum(out * grad_outputs)) + extra
        return run_numeric(scalar, array)

    def numeric_for(k):
        def compute():
            arrays_x = [x.copy() for x in xs]
            arrays_w = [np.array(w) for w in trainable]
            return numeric((arrays_x + arrays_w)[k], arrays_x, arrays_w)
        return compute

    errors = {"forward": compare(case.label, "forward", outputs, outputs_ref)}
    for i, (hand, tape_grad) in enumerate(zip(grad_inputs, taped[:len(xs)], strict=True)):
        part = f"δx[{i}]" if case.several_inputs else "δx"
        errors[part] = compare(case.label, part, hand, tape_grad, numeric_for(i))
    names = _weight_names(layer)
    for j, (hand, tape_grad) in enumerate(zip(grad_weights, taped[len(xs):], strict=True)):
        part = f"∂L/∂{names[j]}"
        errors[part] = compare(case.label, part, hand, tape_grad, numeric_for(len(xs) + j))
    if penalties:
        penalty_ref = sum(float(p) for p in penalties)
        errors["penalty"] = compare(case.label, "penalty R(w)", hand_penalty, penalty_ref)
    trainable_ids = {id(w) for w in trainable}
    for w, g in zip(layer.weights, layer.gradients, strict=True):
        if id(w) not in trainable_ids:
            assert not np.any(g), (f"{case.label}: a non-trainable weight got a nonzero "
                                   "gradient from the hand-written backward")
    return errors


def _weight_names(layer) -> list[str]:
    """``kernel``, ``bias``, ``alpha``...: the attribute holding each trainable weight."""
    by_id = {id(value): name for name, value in vars(layer).items()
             if isinstance(value, np.ndarray)}
    return [by_id.get(id(w), f"weights[{i}]") for i, w in enumerate(layer.trainable_weights)]


@pytest.mark.parametrize(("case", "batch"), LAYER_PARAMS)
def test_layer_backward_matches_the_tape(float64, case, batch):
    crosscheck_layer(case, batch)


# ================================================================================================
# Completeness: no activation, loss or layer without its cross-check
# ================================================================================================
#: Layer classes exported by minired.layers that have no gradient to check, and why.
EXCLUDED_LAYERS = {
    "Layer": "the abstract base: a user's subclass is differentiated by the tape itself",
    "Wrapper": "the abstract base of the wrappers: it computes nothing (calling it raises, as "
               "in Keras); SpectralNormalization and a user's subclass are checked",
    "InputLayer": "the graph's entry point: it computes nothing and has no backward pass",
    "Embedding": "integer inputs, so no δx to cross-check; ∂L/∂W is checked by finite "
                 "differences (float64) and against Keras in tests/test_embedding.py",
    "Lambda": "no hand-written backward: the tape differentiates the user's function "
              "(checked by finite differences and against Keras in tests/test_lambda_layer.py)",
    "ActivityRegularization": "its backward is the tape's (a layer written with call, whose "
                              "added loss is seeded with 1); the hand-written ∂R/∂a is checked "
                              "by finite differences and against Keras' tape in "
                              "tests/test_noise_layers.py",
    # preprocessing layers of categories and text: Keras' (TensorFlow's) tape gives them no
    # gradient (tape.gradient returns None for their inputs, checked with keras 3.15.1)
    "TextVectorization": "string inputs, integer (or count/TF-IDF) outputs: no gradient",
    "StringLookup": "string inputs, integer ids (or encodings of them): no gradient",
    "IntegerLookup": "integer ids in, integer ids (or encodings of them) out: no gradient",
    "CategoryEncoding": "integer category ids in (Keras casts them to int): no gradient; "
                        "its backward gives zeros",
    "Discretization": "bucket indices out (a step function of x, derivative 0 where it has "
                      "one; Keras' Bucketize op has no gradient); its backward gives zeros",
    "Hashing": "categories (strings or ints) in, integer bins out: no gradient",
    "ContrastLimitedAdaptiveHistogramEqualization": "a table lookup at integer pixel values "
        "(TensorFlow's tape gives None, checked with keras 3.15.1); its backward gives zeros",
    "HashedCrossing": "categories (strings or ints) in, the integer bin of their hashed "
                      "combination (or its one-hot vector) out: no gradient (Keras' "
                      "SparseCrossHashed op has none)",
}


def exported_layer_classes() -> dict[str, type]:
    names = set(layers.__all__) | {n for n in dir(layers) if not n.startswith("_")}
    return {name: getattr(layers, name) for name in sorted(names)
            if inspect.isclass(getattr(layers, name, None))
            and issubclass(getattr(layers, name), layers.Layer)}


def test_every_component_has_a_cross_check():
    # activations: every Keras name minired knows, aliases included
    known = {**activations.ALL_ACTIVATIONS, **activations.MORE_ACTIVATIONS,
             **activations.NEWER_ACTIVATIONS, **activations.ALIASES}
    assert set(known) == set(activations._by_name()), (
        "an activation table that get() reads is missing here: "
        f"{sorted(set(activations._by_name()) ^ set(known))}")
    missing = sorted(name for name, fn in known.items() if fn.__name__ not in refs.ACTIVATIONS)
    assert not missing, f"activations without a reference in autodiff_references.py: {missing}"
    unchecked = sorted(set(known) - {case.name for case in ACTIVATION_CASES})
    assert not unchecked, f"activations without an ActivationCase: {unchecked}"

    # losses: the registry of minired.losses, and every Loss class it exports
    registry = {cls.__name__ for cls in losses._CLASSES_AND_FUNCTIONS}
    exported = {name for name in losses.__all__
                if inspect.isclass(getattr(losses, name))
                and issubclass(getattr(losses, name), losses.Loss)
                and name not in ("Loss", "LossFunctionWrapper")}
    assert exported == registry, f"exported loss classes {sorted(exported ^ registry)} are " \
                                 "not in the registry _CLASSES_AND_FUNCTIONS, or vice versa"
    missing = sorted(registry - set(refs.LOSSES))
    assert not missing, f"losses without a reference in autodiff_references.py: {missing}"
    unchecked = sorted(registry - {case.cls for case in LOSS_CASES})
    assert not unchecked, f"losses without a LossCase: {unchecked}"

    # layers: every Layer subclass minired.layers exports, unless excluded with a reason; a
    # class counts once whatever names it is exported under (MaxPool2D is MaxPooling2D)
    exported = set(exported_layer_classes().values())
    checked = {case.cls for case in LAYER_CASES}
    for case in LAYER_CASES:      # a cell (or a stack of cells) is checked inside an RNN
        if issubclass(case.cls, layers.RNN):
            cell = case.make().cell
            checked |= {type(cell), *map(type, getattr(cell, "cells", []))}
    excluded = {cls for cls in exported if cls.__name__ in EXCLUDED_LAYERS}
    missing = sorted(cls.__name__ for cls in exported - checked - excluded)
    assert not missing, f"layers without a LayerCase (or an exclusion with a reason): {missing}"
    assert not checked & excluded, "a layer is both checked and excluded"
    stale = sorted(set(EXCLUDED_LAYERS) - {cls.__name__ for cls in exported})
    assert not stale, f"exclusions of layers minired.layers does not export: {stale}"
