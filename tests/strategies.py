"""Hypothesis strategies shared by the tests (in the style of minitorch's ``tests/strategies.py``).

Value ranges, and why they are what they are:

- Functions with a kink (relu at 0, the L1 penalty at 0) are sampled away from it:
  :func:`nonzero_arrays` draws magnitudes of at least ``KINK_MARGIN``, far above the
  finite-difference step ``h = 1e-6``, so ``f(x ± h)`` never straddles the kink.
- Logits and pre-activations stay moderate (a few units). This is about the *reference*, not
  the code under test: a central difference resolves a gradient only to about
  ``1e-16 · |f| / h ≈ 1e-10 · |f|``, so a gradient of ``e^{-16}`` (a saturated sigmoid or
  softmax) cannot be checked to ``1e-6`` numerically. Saturation is tested separately
  against exact formulas (``test_gradients.py::test_fused_*``).
- Activations, layers and models are checked with the step ``STEP = 1e-5`` rather than
  gradcheck's default ``1e-6``: closer to the optimal ``eps^(1/3)`` of a central difference,
  it cuts the rounding noise (which compounds through a model) tenfold, while the
  truncation error ``h²/6 · f'''`` stays ~1e-10 for these smooth, bounded functions. The
  losses keep ``h = 1e-6``: near small probabilities the cross-entropies have third
  derivatives of 1e3 to 1e5, where ``h = 1e-5`` would show its truncation error. Every kink
  margin below is at least ten steps wide.
- Dense kernels are scaled by ``1/fan_in`` and biases by ``1/2``, so a pre-activation is
  bounded by ``max|input| + 0.5`` in every layer of a random model, however hypothesis
  picks the values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minired as mr

#: The bound every analytic gradient must meet (relative error as mr.gradcheck defines it).
TOLERANCE = 1e-6
#: The finite-difference step ``h`` for activations, layers and models (losses use 1e-6).
STEP = 1e-5
#: Smallest magnitude drawn for inputs of a kinked function (relu, L1).
KINK_MARGIN = 1e-3
#: Smallest |pre-activation| of a relu inside a model (the check is filtered on it).
RELU_MARGIN = 1e-4

#: Settings for property tests that use the function-scoped ``float64`` fixture: the
#: fixture only sets ``floatx``, which is the same for every example, so sharing it is safe.
gradient_settings = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ACTIVATION_NAMES = ("linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax")

batch_sizes = st.integers(1, 5)
feature_counts = st.integers(1, 4)
unit_counts = st.integers(1, 4)
class_counts = st.integers(2, 4)
seeds = st.integers(0, 2**32 - 1)


def bounded_floats(low: float, high: float) -> st.SearchStrategy[float]:
    """Finite float64 values in ``[low, high]`` (no NaN, no inf, no subnormals)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def signed_floats(low: float, high: float) -> st.SearchStrategy[float]:
    """Values with ``low <= |v| <= high`` and either sign: never within ``low`` of 0."""
    return st.tuples(bounded_floats(low, high), st.sampled_from((-1.0, 1.0))).map(
        lambda pair: pair[0] * pair[1])


def arrays(shape: tuple, low: float = -1.0, high: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with every element in ``[low, high]``."""
    return hnp.arrays(np.float64, shape, elements=bounded_floats(low, high))


def nonzero_arrays(shape: tuple, low: float = KINK_MARGIN, high: float = 1.0
                   ) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with ``low <= |element| <= high``: away from a kink at 0."""
    return hnp.arrays(np.float64, shape, elements=signed_floats(low, high))


def shapes(min_dims: int = 1, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple]:
    """Array shapes such as ``(3,)``, ``(2, 4)`` or ``(1, 3, 2)``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


@st.composite
def integer_labels(draw, n: int, n_classes: int) -> np.ndarray:
    """``n`` integer class labels in ``[0, n_classes)``."""
    return draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, n_classes - 1)))


@st.composite
def one_hot_labels(draw, n: int, n_classes: int) -> np.ndarray:
    """``n`` one-hot rows of ``n_classes`` columns (float64)."""
    return np.eye(n_classes)[draw(integer_labels(n, n_classes))]


def sample_weights(n: int) -> st.SearchStrategy[np.ndarray | None]:
    """No weights, or ``n`` positive per-sample weights."""
    return st.none() | arrays((n,), 0.1, 2.0)


def regularizers() -> st.SearchStrategy:
    """None, or an L1, L2 or L1L2 penalty with random factors."""
    factor = bounded_floats(1e-3, 0.5)
    return st.one_of(
        st.none(),
        st.builds(mr.regularizers.L1, factor),
        st.builds(mr.regularizers.L2, factor),
        st.builds(mr.regularizers.L1L2, factor, factor),
    )


@st.composite
def dense_parameters(draw, fan_in: int, units: int) -> tuple[np.ndarray, np.ndarray]:
    """A kernel with ``|W| in [0.1, 1] / fan_in`` and a bias with ``|b| in [0.05, 0.5]``.

    No weight is near 0 (an L1 penalty may sit on it), and ``|x W + b| <= max|x| + 0.5``.
    """
    kernel = draw(nonzero_arrays((fan_in, units), 0.1, 1.0)) / fan_in
    bias = draw(nonzero_arrays((units,), 0.05, 0.5))
    return kernel, bias


# -- random whole models --------------------------------------------------------------------------

#: For each loss: (output units, [(output activation, from_logits)]). Every pairing is one a
#: user can train with; softmax/sigmoid + cross-entropy takes the fused logits path, as in Keras
#: (sigmoid + categorical cross-entropy included: Keras reads any hidden logits).
HEADS = {
    "mean_squared_error": (unit_counts, [(a, False) for a in ACTIVATION_NAMES]),
    "binary_crossentropy": (unit_counts, [("sigmoid", False), ("linear", True)]),
    "categorical_crossentropy": (class_counts,
                                 [("softmax", False), ("linear", True), ("sigmoid", False)]),
    "sparse_categorical_crossentropy": (class_counts,
                                        [("softmax", False), ("linear", True), ("sigmoid", False)]),
}
HIDDEN_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")


@dataclass
class ModelCase:
    """A random small model (as layer specs), its data and its weights."""

    input_shape: tuple
    layer_specs: list = field(default_factory=list)   # (layer class name, kwargs)
    loss_name: str = "mean_squared_error"
    loss_kwargs: dict = field(default_factory=dict)
    weights: list = field(default_factory=list)
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    sample_weight: np.ndarray | None = None

    def build(self) -> mr.Sequential:
        """Build, compile and load the weights (call under float64 for gradient checks)."""
        layers = [getattr(mr.layers, cls)(**kwargs) for cls, kwargs in self.layer_specs]
        model = mr.Sequential([mr.Input(self.input_shape), *layers])
        loss_class = type(mr.losses.get(self.loss_name))
        model.compile(optimizer=mr.optimizers.SGD(0.1), loss=loss_class(**self.loss_kwargs))
        model.set_weights(self.weights)
        return model


@st.composite
def model_cases(draw) -> ModelCase:
    """A Sequential of depth 1-3 with random widths, activations, penalties and loss.

    Inputs are ``(features,)`` or ``(a, b)`` behind a Flatten; Dropout layers may appear
    (they are the identity in the ``training=False`` check); the output activation is either
    inside the last Dense or a separate Activation layer.
    """
    n = draw(batch_sizes)
    if draw(st.booleans()):
        input_shape = (draw(feature_counts),)
        specs: list = []
    else:
        input_shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        specs = [("Flatten", {})]
    fan_in = int(np.prod(input_shape))
    weights = []

    def add_dense(units: int, activation: str) -> None:
        nonlocal fan_in
        use_bias = draw(st.booleans())
        specs.append(("Dense", {
            "units": units, "activation": activation, "use_bias": use_bias,
            "kernel_regularizer": draw(regularizers()),
            "bias_regularizer": draw(regularizers()) if use_bias else None,
        }))
        kernel, bias = draw(dense_parameters(fan_in, units))
        weights.extend([kernel, bias] if use_bias else [kernel])
        fan_in = units

    for _ in range(draw(st.integers(0, 2))):
        add_dense(draw(unit_counts), draw(st.sampled_from(HIDDEN_ACTIVATIONS)))
        if draw(st.booleans()):
            specs.append(("Dropout", {"rate": draw(bounded_floats(0.0, 0.5))}))

    loss_name = draw(st.sampled_from(sorted(HEADS)))
    units_strategy, heads = HEADS[loss_name]
    units = draw(units_strategy)
    activation, from_logits = draw(st.sampled_from(heads))
    if activation != "linear" and draw(st.booleans()):
        add_dense(units, "linear")
        specs.append(("Activation", {"activation": activation}))
    else:
        add_dense(units, activation)

    loss_kwargs: dict = {"reduction": draw(st.sampled_from(
        ["sum_over_batch_size", "sum", "mean_with_sample_weight"]))}
    if loss_name != "mean_squared_error":
        loss_kwargs["from_logits"] = from_logits
    if loss_name in ("binary_crossentropy", "categorical_crossentropy"):
        loss_kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.3]))

    x = draw(arrays((n, *input_shape)))
    if loss_name == "mean_squared_error":
        y = draw(arrays((n, units)))
    elif loss_name == "binary_crossentropy":
        y = draw(arrays((n, units), 0.0, 1.0))
    elif loss_name == "categorical_crossentropy":
        y = draw(one_hot_labels(n, units))
    else:
        y = draw(integer_labels(n, units))
    return ModelCase(input_shape, specs, loss_name, loss_kwargs, weights, x, y,
                     draw(sample_weights(n)))
