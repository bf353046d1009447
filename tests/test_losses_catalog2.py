"""The rest of Keras 3's loss catalog: categorical focal cross-entropy, Dice, Tversky,
generalized cross-entropy, Circle and CTC.

First each loss by hand (CTC against a sum over every alignment), then names, configs and
errors, the gradients against finite differences (float64), value and gradient against
Keras 3 on TensorFlow (``tf.GradientTape``) for several settings, reductions and weights in
float64 and float32, a ``.keras`` file both libraries read, and a short fit in both.
"""

from __future__ import annotations

import inspect
import itertools
import json

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_loss, relative_error
from minired.losses import (
    CTC,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    Dice,
    Tversky,
)

EPS = 1e-7


# -- by hand ----------------------------------------------------------------------------------

def test_dice_by_hand(float64):
    """Keras' docstring example: per sample over (1, 2, 3), then over everything at once."""
    y = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    p = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    per_sample = Dice(axis=(1, 2, 3), reduction="none")(y, p)
    np.testing.assert_allclose(per_sample, [1 - 2 / (2 + 2 + EPS), 1 - 0.8 / (2 + 1.3 + EPS)],
                               rtol=1e-15)
    assert Dice()(y, p) == pytest.approx(1 - 2 * 1.4 / (4 + 3.3 + EPS), rel=1e-15)


def test_tversky_by_hand(float64):
    """I = 0.8, FP = Σ(1-ŷ)y = 0.2 + 1 = 1.2, FN = Σŷ(1-y) = 0.5."""
    y, p = np.array([[1.0, 1.0, 0.0]]), np.array([[0.8, 0.0, 0.5]])
    expected = 1 - 0.8 / (0.8 + 0.3 * 1.2 + 0.7 * 0.5 + EPS)
    assert Tversky(alpha=0.3, beta=0.7)(y, p) == pytest.approx(expected, rel=1e-15)
    # α = β = 0.5: 2I / (2I + FP + FN) = 2I / (Σy + Σŷ), the Dice loss
    assert Tversky()(y, p) == pytest.approx(Dice()(y, p), rel=1e-6)


def test_categorical_focal_crossentropy_by_hand(float64):
    """ℓ = Σ α (1 - p_c)^γ (-y_c log p_c); with γ = 0, α = 1 it is the cross-entropy."""
    y, p = np.array([[0.0, 1.0, 0.0]]), np.array([[0.125, 0.625, 0.25]])   # Σp = 1 exactly
    loss = CategoricalFocalCrossentropy(alpha=[0.1, 0.5, 0.4], gamma=3.0, reduction="none")
    np.testing.assert_allclose(loss(y, p), [0.5 * 0.375 ** 3 * -np.log(0.625)], rtol=1e-15)
    plain = CategoricalFocalCrossentropy(alpha=1.0, gamma=0.0)
    reference = mr.losses.CategoricalCrossentropy()
    assert plain(y, p) == pytest.approx(reference(y, p), rel=1e-15)
    np.testing.assert_allclose(plain.value_and_gradient(y, p)[1],
                               reference.value_and_gradient(y, p)[1], rtol=1e-14)


def test_generalized_cross_entropy_by_hand(float64):
    """(1 - p_c^q)/q, and ∂ℓ/∂p_c = -p_c^{q-1} at the true class only."""
    loss = CategoricalGeneralizedCrossEntropy(q=0.5)
    p = np.array([[0.25, 0.75], [0.36, 0.64]])
    value, grad = loss.value_and_gradient([0, 1], p)
    assert value == pytest.approx(((1 - 0.5) / 0.5 + (1 - 0.8) / 0.5) / 2, rel=1e-15)
    np.testing.assert_allclose(grad, [[-0.5 ** -1 / 2, 0], [0, -0.8 ** -1 / 2]], rtol=1e-15)


def test_generalized_cross_entropy_takes_labels_with_a_trailing_axis(float64):
    p = np.array([[0.25, 0.75], [0.36, 0.64]])
    loss = CategoricalGeneralizedCrossEntropy(reduction="none")
    np.testing.assert_array_equal(loss([[0], [1]], p), loss([0, 1], p))


def _ctc_by_enumeration(labels: list[int], z: np.ndarray) -> float:
    """-log Σ over all C^T paths that collapse (merge repeats, drop blanks) to ``labels``."""
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    total = 0.0
    for path in itertools.product(range(z.shape[-1]), repeat=len(z)):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        if [c for c in merged if c != 0] == labels:
            total += np.prod(p[np.arange(len(z)), path])
    return -np.log(total)


def test_ctc_equals_the_sum_over_every_alignment(float64):
    """Repeated labels (a blank must separate them), padding, and an empty label."""
    rng = np.random.default_rng(0)
    labels = np.array([[1, 1, 0], [2, 1, 2], [3, 0, 0], [0, 0, 0]])
    z = rng.normal(size=(4, 5, 4))
    expected = [_ctc_by_enumeration([c for c in row if c], z[n])
                for n, row in enumerate(labels)]
    np.testing.assert_allclose(CTC(reduction="none")(labels, z), expected, rtol=1e-13)


def test_ctc_of_an_impossible_alignment_is_infinite(float64):
    """"1 1" needs 3 steps (1, blank, 1): two are not enough, P = 0."""
    assert CTC(reduction="none")([[1, 1]], np.zeros((1, 2, 3)))[0] == np.inf


def test_circle_masks_the_samples_whose_loss_is_zero(float64):
    """A sample with no positive (its label alone) has ℓ = 0 and leaves the mean, as in
    Keras: the mean runs over the others."""
    rng = np.random.default_rng(1)
    y = rng.normal(size=(5, 3))
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    labels = np.array([0, 0, 1, 1, 2])
    losses = Circle(reduction="none")(labels, y)
    assert losses[4] == 0 and np.all(losses[:4] > 0)
    assert Circle()(labels, y) == pytest.approx(np.mean(losses[:4]), rel=1e-15)
    assert Circle(reduction="sum")(labels, y) == pytest.approx(np.sum(losses), rel=1e-15)


# -- names, configs, errors ---------------------------------------------------------------------

CATALOG = {
    "CategoricalFocalCrossentropy": "categorical_focal_crossentropy",
    "CategoricalGeneralizedCrossEntropy": "categorical_generalized_cross_entropy",
    "Dice": "dice",
    "Tversky": "tversky",
    "Circle": "circle",
    "CTC": "ctc",
}


@pytest.mark.parametrize("class_name", list(CATALOG))
def test_every_name_resolves_and_compiles(class_name):
    function_name = CATALOG[class_name]
    cls = getattr(mr.losses, class_name)
    for name in (class_name, function_name):
        assert name in mr.losses.__all__
        if class_name == "CategoricalGeneralizedCrossEntropy":   # no string name in Keras 3.15
            with pytest.raises(ValueError, match="Unknown loss"):
                mr.losses.get(name)
            continue
        assert type(mr.losses.get(name)) is cls
    # as in Keras: a class name deserializes to an instance, a function name to the function
    assert type(mr.losses.deserialize(class_name)) is cls
    assert mr.losses.deserialize(function_name) is getattr(mr.losses, function_name)
    assert type(mr.losses.get(getattr(mr.losses, function_name))) is cls
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=getattr(mr.losses, function_name))
    assert type(model.loss) is cls


@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def test_minired_has_every_keras_loss(keras_env):
    missing = {name for name in dir(keras_env.keras.losses) if not name.startswith("_")}
    assert missing - set(dir(mr.losses)) == set()


@pytest.mark.parametrize("class_name", list(CATALOG))
def test_constructor_defaults_match_keras(keras_env, class_name):
    ours = inspect.signature(getattr(mr.losses, class_name)).parameters
    theirs = inspect.signature(getattr(keras_env.keras.losses, class_name)).parameters
    assert list(ours) == list(theirs)
    for argument in ours:
        assert ours[argument].default == theirs[argument].default, argument


CONFIGURED = [
    (CategoricalFocalCrossentropy, {"alpha": [0.2, 0.3, 0.5], "gamma": 1.5,
                                    "from_logits": True, "label_smoothing": 0.1, "axis": 1}),
    (CategoricalFocalCrossentropy, {}),
    (CategoricalGeneralizedCrossEntropy, {"q": 0.3}),
    (Dice, {"axis": (1, 2)}),
    (Dice, {}),
    (Tversky, {"alpha": 0.3, "beta": 0.7, "axis": 1}),
    (Circle, {"gamma": 4.0, "margin": 0.25, "remove_diagonal": False}),
    (CTC, {}),
]


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGURED)
def test_config_round_trip_equals_keras(keras_env, cls, kwargs):
    ours = cls(**kwargs, reduction="sum", name="my_loss")
    theirs = getattr(keras_env.keras.losses, cls.__name__)(**kwargs, reduction="sum",
                                                           name="my_loss")
    assert ours.get_config() == theirs.get_config()
    again = cls(**ours.get_config())
    assert again.get_config() == ours.get_config()
    # through a file's JSON, as both libraries write it (a tuple axis comes back a list)
    in_a_file = json.loads(json.dumps(theirs.get_config()))
    back = mr.losses.deserialize(json.loads(json.dumps(mr.losses.serialize(ours))))
    assert type(back) is cls and back.get_config() == in_a_file
    from_keras = mr.losses.deserialize(keras_env.keras.losses.serialize(theirs))
    assert type(from_keras) is cls and from_keras.get_config() == theirs.get_config()


@pytest.mark.parametrize("loss", [
    CategoricalFocalCrossentropy(alpha=[0.2, 0.8], gamma=1.0), Dice(axis=(1,)),
    Tversky(alpha=0.3, beta=0.7, axis=1), Circle(gamma=4.0, margin=0.3), CTC(),
], ids=lambda loss: type(loss).__name__)
def test_a_keras_file_saved_by_minired_loads_in_keras_with_the_loss(keras_env, tmp_path, loss):
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss=loss)
    model.save(tmp_path / "m.keras")
    in_a_file = json.loads(json.dumps(loss.get_config()))
    with keras_env.precision("float32"):
        loaded = keras_env.keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.loss).__name__ == type(loss).__name__
    assert loaded.loss.get_config() == in_a_file
    back = mr.models.load_model(tmp_path / "m.keras")
    assert type(back.loss) is type(loss) and back.loss.get_config() == in_a_file


def test_a_file_with_the_generalized_cross_entropy_loads_in_minired(tmp_path):
    """(Keras 3.15 cannot load it: the class is missing from its losses' name table.)"""
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss=CategoricalGeneralizedCrossEntropy(q=0.3))
    model.save(tmp_path / "m.keras")
    back = mr.models.load_model(tmp_path / "m.keras")
    assert type(back.loss) is CategoricalGeneralizedCrossEntropy and back.loss.q == 0.3


@pytest.mark.parametrize("config", ["cfce_logits", "dice_middle", "gce", "circle", "ctc"])
def test_inside_a_gradient_tape_the_loss_is_one_operation(float64, config):
    """A training loop written by hand: the tape's ∂L/∂ŷ is the loss's own gradient."""
    from minired.autodiff import GradientTape

    cls, kwargs, _, weight_shapes = CONFIGS[config]
    y_true, y_pred, weights = _draw(config, weight_shapes[0])
    loss = cls(**kwargs)
    with GradientTape() as tape:
        watched = tape.watch(y_pred)
        value = loss(y_true, watched, weights)
    expected_value, expected_grad = loss.value_and_gradient(y_true, y_pred, weights)
    assert float(value) == expected_value
    np.testing.assert_array_equal(tape.gradient(value, watched), expected_grad)


@pytest.mark.parametrize(("make", "y_true", "y_pred", "match"), [
    (lambda: Dice(), np.ones((2, 3)), np.ones((2, 4)), r"`y_true` must have the shape"),
    (lambda: Tversky(axis=2), np.ones((2, 3)), np.ones((2, 3)), r"`axis=2` is out of range"),
    (lambda: Dice(axis=(1, -1)), np.ones((2, 3)), np.ones((2, 3)), r"repeats an axis"),
    (lambda: CategoricalFocalCrossentropy(), np.ones((2, 3)), np.ones((2, 4)),
     r"`y_true` must have the shape"),
    (lambda: CategoricalFocalCrossentropy(alpha=[0.5, 0.5]), np.ones((2, 3)),
     np.ones((2, 3)), r"`alpha` must have one weight per class \(3\), got 2"),
    (lambda: CategoricalGeneralizedCrossEntropy(), np.zeros((2, 3)), np.ones((2, 3)),
     r"integer labels of shape \(2,\)"),
    (lambda: CategoricalGeneralizedCrossEntropy(), [0, 3], np.ones((2, 3)),
     r"labels must lie in \[0, 2\]"),
    (lambda: Circle(), [0, 1], np.ones((2, 3, 1)), r"embeddings of shape"),
    (lambda: Circle(), [0, 1, 1], np.ones((2, 3)), r"one integer label per sample"),
    (lambda: CTC(), [1, 2], np.ones((2, 3, 4)), r"\(batch_size, max_length\)"),
    (lambda: CTC(), [[1], [2]], np.ones((2, 4)), r"\(batch_size, max_length, num_classes\)"),
    (lambda: CTC(), [[1, 0, 2]], np.ones((1, 3, 4)), r"0 before a non-zero label"),
    (lambda: CTC(), [[1, 4]], np.ones((1, 3, 4)), r"labels must lie in \[0, 3\]"),
    (lambda: CTC(), [[1], [2]], np.ones((3, 3, 4)), r"2 samples and `y_pred` 3"),
])
def test_bad_inputs_raise_clear_errors(make, y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        make()(y_true, y_pred)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"`q` must be in the interval \(0, 1\), got 1.0"):
        CategoricalGeneralizedCrossEntropy(q=1.0)
    with pytest.raises(ValueError, match=r"`label_smoothing` must lie in \[0, 1\]"):
        CategoricalFocalCrossentropy(label_smoothing=2.0)
    with pytest.raises(ValueError, match=r"`axis` must be of type `int`"):
        CategoricalFocalCrossentropy(axis=True)
    with pytest.raises(TypeError, match=r"`alpha` must be a float or a list"):
        CategoricalFocalCrossentropy(alpha="all")
    with pytest.raises(TypeError, match=r"`axis` must be None, an int or a tuple"):
        Dice(axis=1.0)
    with pytest.raises(ValueError, match=r"`reduction` must be one of"):
        Tversky(reduction="median")
    with pytest.raises(ValueError, match=r"ref_labels.*not supported"):
        mr.losses.circle([0, 1], np.eye(2), ref_labels=[0, 1])


# -- the configurations compared ------------------------------------------------------------

def _one_hot(rng, shape):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]


def _draw_focal(from_logits=False, shape=(6, 4)):
    def draw(rng):
        y_pred = 2 * rng.normal(size=shape) if from_logits else rng.uniform(0.05, 1.0, shape)
        return _one_hot(rng, shape), y_pred
    return draw


def _draw_overlap(shape=(4, 3, 5)):
    def draw(rng):
        return rng.choice([0.0, 1.0], shape) * rng.uniform(0.5, 1.0, shape), \
            rng.uniform(0.0, 1.0, shape)
    return draw


def _draw_gce(rng):
    return rng.integers(0, 4, 6), rng.uniform(0.05, 1.0, (6, 4))


def _draw_circle(scale=1.0, margin=0.4):
    """Embeddings of norm ``scale``, with every distance away from Circle's kinks
    (``1 - S = 0`` off the diagonal, and ``d = 1 + m`` where the negative weight hits 0)."""
    def draw(rng):
        labels = np.array([0, 0, 1, 1, 2, 1, 0, 2])
        while True:
            y = rng.normal(size=(8, 3))
            y *= scale / np.linalg.norm(y, axis=1, keepdims=True)
            d = 1 - (y @ y.T)
            off = ~np.eye(8, dtype=bool)
            if np.all(np.abs(d[off]) > 1e-3) and np.all(np.abs(d - 1 - margin) > 1e-3):
                return labels, y
    return draw


def _draw_ctc(rng):
    labels = np.array([[1, 2, 2], [3, 0, 0], [1, 2, 0], [0, 0, 0], [2, 2, 0]])
    return labels, rng.normal(size=(5, 7, 4))


#: name -> (class, constructor arguments, draw(rng) -> (y_true, y_pred), weight shapes)
CONFIGS = {
    "cfce": (CategoricalFocalCrossentropy, {}, _draw_focal(), [(6,), (6, 1)]),
    "cfce_logits": (CategoricalFocalCrossentropy,
                    {"from_logits": True, "alpha": [0.1, 0.2, 0.3, 0.4], "gamma": 1.5,
                     "label_smoothing": 0.1}, _draw_focal(True), [(6,)]),
    "cfce_axis": (CategoricalFocalCrossentropy, {"axis": 1, "alpha": [0.1, 0.2, 0.3, 0.4, 0.5],
                                                 "gamma": 0.5},
                  _draw_focal(False, (3, 4, 5)), [(3, 5), (3, 1)]),
    "cfce_3d": (CategoricalFocalCrossentropy, {"gamma": 3.0}, _draw_focal(False, (3, 4, 5)),
                [(3, 4), (3, 1)]),
    "dice": (Dice, {}, _draw_overlap(), [(), (4,)]),     # (4,): Keras broadcasts one loss
    "dice_per_sample": (Dice, {"axis": (1, 2)}, _draw_overlap(), [(4,), (4, 1)]),
    "dice_middle": (Dice, {"axis": 1}, _draw_overlap(), [(4, 5), (4, 1)]),
    "dice_outer": (Dice, {"axis": (0, 2)}, _draw_overlap(), [(3,)]),
    "tversky": (Tversky, {}, _draw_overlap(), [(4,), (4, 1, 1)]),
    "tversky_weighted": (Tversky, {"alpha": 0.3, "beta": 0.7, "axis": (1, 2)},
                         _draw_overlap(), [(4,)]),
    "tversky_middle": (Tversky, {"alpha": 0.8, "beta": 0.1, "axis": 1}, _draw_overlap(),
                       [(4, 5)]),
    "gce": (CategoricalGeneralizedCrossEntropy, {}, _draw_gce, [(6,)]),
    "gce_q": (CategoricalGeneralizedCrossEntropy, {"q": 0.8}, _draw_gce, [(6, 1)]),
    "circle": (Circle, {}, _draw_circle(), [(8,)]),
    "circle_small": (Circle, {"gamma": 3.0, "margin": 0.25}, _draw_circle(0.9, 0.25), [(8,)]),
    "circle_diagonal": (Circle, {"gamma": 5.0, "remove_diagonal": False}, _draw_circle(0.9),
                        [(8, 1)]),
    "ctc": (CTC, {}, _draw_ctc, [(5,)]),
}


def _draw(config: str, weight_shape, seed: int = 0):
    rng = np.random.default_rng(seed)
    y_true, y_pred = CONFIGS[config][2](rng)
    weights = None if weight_shape is None else rng.uniform(0.1, 2.0, weight_shape)
    return y_true, y_pred, weights


# -- against finite differences -------------------------------------------------------------

FD_CASES = [pytest.param(config, weight_shape, reduction,
                         id=f"{config}-w{weight_shape}-{reduction}")
            for config in CONFIGS
            for weight_shape, reduction in [(None, "sum_over_batch_size"),
                                            (CONFIGS[config][3][0], "sum"),
                                            (CONFIGS[config][3][0], "mean_with_sample_weight")]]


@pytest.mark.parametrize(("config", "weight_shape", "reduction"), FD_CASES)
def test_gradient_matches_numerical_gradient(float64, config, weight_shape, reduction):
    cls, kwargs, _, _ = CONFIGS[config]
    if config == "circle":          # γ = 80 makes ℓ ~ 1e2 with curvature ~ 1e4: smaller γ
        kwargs = {"gamma": 8.0}
    y_true, y_pred, weights = _draw(config, weight_shape, seed=3)
    result = check_loss(cls(**kwargs, reduction=reduction), y_true, y_pred,
                        sample_weight=weights)
    assert result.relative_error < 1e-6, result


# -- against Keras ----------------------------------------------------------------------------

#: float64: at most 4e-16 measured; float32: at most 3e-7 (one sum's rounding).
KERAS_TOLERANCE = {"float64": 1e-12, "float32": 1e-6}
#: CTC: Keras runs tf.nn.ctc_loss in float32 even for float64 inputs, so float64 is only
#: as close as float32 rounding over T steps (measured 3e-7); in float32 TensorFlow's
#: recursion rounds differently from minired's log-space one (measured 1.1e-6).
CTC_TOLERANCE = {"float64": 2e-6, "float32": 5e-6}


def keras_value_and_gradient(keras_env, keras_loss, y_true, y_pred, sample_weight, reduction):
    tf = keras_env.tf
    variable = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = keras_loss(y_true, variable, sample_weight)
    gradient = None if reduction == "none" else tape.gradient(value, variable).numpy()
    return np.asarray(value), gradient


def compare_with_keras(keras_env, config, weight_shape, reduction, dtype):
    cls, kwargs, _, _ = CONFIGS[config]
    y_true, y_pred, weights = _draw(config, weight_shape)
    y_pred = y_pred.astype(dtype)
    weights = None if weights is None else weights.astype(dtype)
    with keras_env.precision(dtype):
        ours = cls(**kwargs, reduction=reduction)
        theirs = getattr(keras_env.keras.losses, cls.__name__)(**kwargs, reduction=reduction,
                                                               dtype=dtype)
        their_value, their_grad = keras_value_and_gradient(keras_env, theirs, y_true, y_pred,
                                                           weights, reduction)
        if reduction == "none":
            values = ours(y_true, y_pred, weights)
            assert values.shape == their_value.shape and values.dtype == their_value.dtype
            return relative_error(values, their_value), 0.0
        value, grad = ours.value_and_gradient(y_true, y_pred, weights)
    assert grad.shape == y_pred.shape and grad.dtype == np.dtype(dtype)
    return relative_error(np.float64(value), their_value), relative_error(grad, their_grad)


KERAS_CASES = [pytest.param(config, weight_shape, reduction,
                            id=f"{config}-w{weight_shape}-{reduction}")
               for config in CONFIGS
               for weight_shape in [None, *CONFIGS[config][3]]
               for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight",
                                 "none")
               if weight_shape is None or reduction != "sum"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("config", "weight_shape", "reduction"), KERAS_CASES)
def test_value_and_gradient_match_keras(keras_env, config, weight_shape, reduction, dtype):
    errors = compare_with_keras(keras_env, config, weight_shape, reduction, dtype)
    tolerance = (CTC_TOLERANCE if config == "ctc" else KERAS_TOLERANCE)[dtype]
    assert max(errors) <= tolerance, errors


# -- a short fit in both libraries ----------------------------------------------------------

def _one_hot_targets(x, labels):
    return np.eye(3)[labels]


FITS = {
    "categorical_focal_crossentropy": ("softmax", 3, _one_hot_targets),
    "categorical_generalized_cross_entropy": ("softmax", 3, lambda x, labels: labels),
    "dice": ("sigmoid", 3, _one_hot_targets),
    "tversky": ("sigmoid", 3, _one_hot_targets),
    "circle": ("linear", 3, lambda x, labels: labels),
}


@pytest.mark.parametrize("loss", [*FITS, "ctc"])
def test_a_short_fit_matches_keras(keras_env, loss):
    from comparisons.mirror import to_keras

    rng = np.random.default_rng(2)
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        if loss == "ctc":
            x = rng.normal(size=(12, 5, 3))
            y = np.array([[1, 2], [3, 0], [2, 2], [1, 0]] * 3)
            model = mr.Sequential([mr.Input((5, 3)), mr.layers.Dense(4)])
        else:
            labels = rng.integers(0, 3, 12)
            x = rng.normal(size=(12, 4)) + labels[:, None]
            activation, units, target = FITS[loss]
            y = target(x, labels)
            model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(units, activation=activation)])
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1), loss=getattr(mr.losses, loss))
        keras_model = to_keras(model)
        ours = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        theirs = keras_model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    tolerance = 2e-6 if loss == "ctc" else 1e-12      # CTC: Keras' float32, see above
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=tolerance)
    for a, b in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)
