"""The names a Keras 3 script reaches first, under ``import minired as keras``: top-level
classes and ``version()``, Keras' aliases (the same objects), InputSpec, ``keras.config``,
``keras.backend`` and ``keras.utils`` helpers, ``clear_session``, and ``keras.random``'s
gamma, beta, binomial and categorical (judged in standard errors, as tests/test_random.py).
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

import minired as mr
from comparisons.sampling import binomial_z, mean_z, variance_z
from minired.random import SeedGenerator, beta, binomial, categorical, gamma
from minired.utils import rng_utils

N = 200_000          # samples per statistics check
Z = 5.0              # standard errors allowed: a correct sampler fails about once in 1.7e6


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


# -- names and aliases ---------------------------------------------------------------------

TOP_LEVEL = {"Layer": mr.layers.Layer, "Loss": mr.losses.Loss, "Metric": mr.metrics.Metric,
             "Optimizer": mr.optimizers.Optimizer, "Initializer": mr.initializers.Initializer,
             "Regularizer": mr.regularizers.Regularizer, "InputSpec": mr.layers.InputSpec}

LAYER_ALIASES = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D",
    "Convolution1DTranspose": "Conv1DTranspose", "Convolution2DTranspose": "Conv2DTranspose",
    "SeparableConvolution1D": "SeparableConv1D", "SeparableConvolution2D": "SeparableConv2D",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalMaxPool2D": "GlobalMaxPooling2D",
}

INITIALIZER_ALIASES = {
    "glorot_uniform": "GlorotUniform", "glorot_normal": "GlorotNormal", "he_normal": "HeNormal",
    "he_uniform": "HeUniform", "lecun_normal": "LecunNormal", "lecun_uniform": "LecunUniform",
    "orthogonal": "Orthogonal", "random_normal": "RandomNormal",
    "random_uniform": "RandomUniform", "truncated_normal": "TruncatedNormal",
    "variance_scaling": "VarianceScaling", "zeros": "Zeros", "ones": "Ones",
    "constant": "Constant", "identity": "Identity", "OrthogonalInitializer": "Orthogonal",
    "IdentityInitializer": "Identity",
}


def test_top_level_classes_are_the_submodules_ones():
    for name, cls in TOP_LEVEL.items():
        assert getattr(mr, name) is cls, name
        assert name in mr.__all__
    assert isinstance(mr.Input((3,)), mr.KerasTensor)


def test_version_is_minireds_own():
    assert mr.version() == mr.__version__
    assert isinstance(mr.__version__, str) and mr.__version__.count(".") == 2


@pytest.mark.parametrize(("module", "aliases"), [("layers", LAYER_ALIASES),
                                                 ("initializers", INITIALIZER_ALIASES)])
def test_aliases_are_the_same_objects(module, aliases):
    for alias, target in aliases.items():
        assert getattr(getattr(mr, module), alias) is getattr(getattr(mr, module), target), alias


@pytest.mark.parametrize(("module", "aliases"), [("layers", LAYER_ALIASES),
                                                 ("initializers", INITIALIZER_ALIASES)])
def test_keras_binds_the_aliases_to_the_same_targets(keras, module, aliases):
    for alias, target in aliases.items():
        assert getattr(getattr(keras, module), alias) is getattr(getattr(keras, module), target)


def test_an_initializer_alias_builds_its_class(keras):
    init = mr.initializers.he_normal(seed=1)
    assert type(init) is mr.initializers.HeNormal
    assert type(keras.initializers.he_normal(seed=1)).__name__ == "HeNormal"


@pytest.mark.parametrize("module", ["activations", "backend", "random", "initializers"])
def test_every_keras_name_of_these_modules_exists(keras, module):
    """All of them."""
    missing = sorted(name for name in dir(getattr(keras, module))
                     if not name.startswith("_") and not hasattr(getattr(mr, module), name))
    assert missing == []


@pytest.mark.parametrize("name", ["Layer", "Loss", "Metric", "Optimizer", "Initializer",
                                  "Regularizer", "InputSpec", "KerasTensor", "version"])
def test_keras_has_the_top_level_names_too(keras, name):
    assert hasattr(keras, name)


@pytest.mark.parametrize("name", ["backend", "set_backend", "is_interactive_logging_enabled",
                                  "enable_interactive_logging", "disable_interactive_logging"])
def test_config_names(keras, name):
    assert callable(getattr(keras.config, name)) and callable(getattr(mr.config, name))


@pytest.mark.parametrize("name", ["clear_session", "get_source_inputs", "is_keras_tensor",
                                  "pack_x_y_sample_weight", "unpack_x_y_sample_weight",
                                  "standardize_dtype", "Sequence",
                                  "is_interactive_logging_enabled"])
def test_utils_names(keras, name):
    assert hasattr(keras.utils, name) and hasattr(mr.utils, name)
    assert name in mr.utils.__all__


def test_sequence_is_pydataset_as_in_keras(keras):
    assert mr.utils.Sequence is mr.utils.PyDataset
    assert keras.utils.Sequence is keras.utils.PyDataset
    assert mr.backend.clear_session is mr.utils.clear_session
    assert mr.backend.is_keras_tensor is mr.utils.is_keras_tensor


# -- InputSpec -----------------------------------------------------------------------------

def _probe(library, spec):
    """A layer of each library that only checks ``spec`` and returns its input."""

    class Probe(library.layers.Layer):
        def __init__(self):
            super().__init__(name="probe")
            self.input_spec = spec

        def call(self, x):
            return x

    return Probe()


#: (InputSpec arguments, input shape, input dtype): what passes and what fails in Keras.
SPEC_CASES = [
    ({"ndim": 2}, (3, 4), "float32"),
    ({"ndim": 2}, (3, 4, 1), "float32"),
    ({"min_ndim": 3}, (3, 4), "float32"),
    ({"min_ndim": 3}, (3, 4, 5), "float32"),
    ({"max_ndim": 2}, (3, 4, 5), "float32"),
    ({"max_ndim": 2}, (3, 4), "float32"),
    ({"axes": {-1: 4}}, (3, 4), "float32"),
    ({"axes": {-1: 4}}, (3, 5), "float32"),
    ({"axes": {1: 2}, "ndim": 3}, (3, 4, 2), "float32"),
    ({"shape": (None, 4)}, (7, 4), "float32"),
    ({"shape": (None, 4)}, (7, 5), "float32"),
    ({"shape": (None, 4, 1), "allow_last_axis_squeeze": True}, (7, 4), "float32"),
    ({"shape": (None, 4, 1), "allow_last_axis_squeeze": True}, (7, 5), "float32"),
    ({"shape": (None, 4)}, (7, 4, 1), "float32"),
    ({"dtype": "int32"}, (2, 3), "float32"),
    ({"dtype": "float32"}, (2, 3), "float64"),           # both cast float64 to float32 first
    ({"dtype": "int32"}, (2, 3), "int32"),
]


@pytest.mark.parametrize(("arguments", "shape", "dtype"), SPEC_CASES,
                         ids=[f"{a}-{s}-{d}" for a, s, d in SPEC_CASES])
def test_input_spec_accepts_and_refuses_as_keras(keras, arguments, shape, dtype):
    x = np.ones(shape, dtype=dtype)
    outcomes = []
    for library in (mr, keras):
        try:
            _probe(library, library.InputSpec(**arguments))(x)
            outcomes.append(None)
        except ValueError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1]


def test_input_spec_checks_symbolic_tensors_and_the_number_of_inputs(keras):
    for library in (mr, keras):
        with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
            _probe(library, library.InputSpec(ndim=3))(library.Input((4,)))
    spec = [mr.InputSpec(ndim=2), mr.InputSpec(ndim=2)]
    with pytest.raises(ValueError, match='Layer "probe" expects 2 input'):
        mr.layers.input_spec.assert_input_compatibility(spec, [np.ones((1, 2))], "probe")


def test_input_spec_set_in_build_is_checked_after_build():
    class Late(mr.layers.Layer):
        def build(self, input_shape):
            self.input_spec = mr.InputSpec(axes={-1: input_shape[-1]})

        def call(self, x):
            return x

    layer = Late()
    layer(np.ones((2, 3), dtype="float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.ones((2, 5), dtype="float32"))


def test_input_spec_arguments_repr_and_config_as_keras(keras):
    arguments = {"dtype": "float32", "shape": (None, 4), "axes": {-1: 4}}
    ours, theirs = mr.InputSpec(**arguments), keras.InputSpec(**arguments)
    assert repr(ours) == repr(theirs)
    assert ours.get_config() == theirs.get_config()
    assert mr.InputSpec.from_config(ours.get_config()).get_config() == ours.get_config()
    for library in (mr, keras):
        with pytest.raises(ValueError, match="Axis 3 is greater than the maximum allowed"):
            library.InputSpec(ndim=2, axes={3: 1})
        with pytest.raises(TypeError, match="`axes` must be a dict with integer keys"):
            library.InputSpec(axes={"last": 1})


# -- config, backend, utils ----------------------------------------------------------------

def test_config_backend_and_set_backend():
    assert mr.config.backend() == mr.backend.backend() == "numpy"
    mr.config.set_backend("numpy")
    with pytest.raises(ValueError, match="NumPy only.*'tensorflow'"):
        mr.config.set_backend("tensorflow")


def test_interactive_logging_off_sends_fit_messages_to_logging(capsys, caplog):
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), dtype="float32"), np.ones((4, 1), dtype="float32")
    mr.config.disable_interactive_logging()
    try:
        assert not mr.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="minired"):
            model.fit(x, y, epochs=2, verbose=2)
    finally:
        mr.config.enable_interactive_logging()
    assert "Epoch 2/2" not in capsys.readouterr().out
    assert "Epoch 2/2" in caplog.text
    model.fit(x, y, epochs=2, verbose=2)                          # interactive again
    assert "Epoch 2/2" in capsys.readouterr().out


def test_clear_session_resets_names_and_logging_as_keras(keras):
    for library in (mr, keras):
        library.utils.clear_session()
        names = [library.layers.Dense(2).name for _ in range(3)]
        library.config.disable_interactive_logging()
        library.utils.clear_session()
        assert library.config.is_interactive_logging_enabled()
        assert names == ["dense", "dense_1", "dense_2"]
        assert library.layers.Dense(2).name == "dense"


def test_clear_session_keeps_initial_weights_and_restarts_unseeded_draws(keras):
    """In both libraries, clear_session after set_random_seed leaves the initial weights
    as they were; unseeded random draws get a new generator, reproducible after the seed."""
    for library in (mr, keras):
        library.utils.set_random_seed(3)
        first = np.asarray(library.initializers.GlorotUniform()((3, 2)))
        library.utils.set_random_seed(3)
        library.utils.clear_session()
        np.testing.assert_array_equal(np.asarray(library.initializers.GlorotUniform()((3, 2))),
                                      first)
    rng_utils.set_random_seed(5)
    mr.utils.clear_session()
    a = mr.random.normal((4,))
    rng_utils.set_random_seed(5)
    mr.utils.clear_session()
    np.testing.assert_array_equal(mr.random.normal((4,)), a)
    assert not np.array_equal(mr.random.normal((4,)), a)


def test_pack_and_unpack_as_keras(keras):
    x, y, w = np.ones(2), np.zeros(2), np.full(2, 0.5)
    for data in [x, (x,), (x, y), [x, y, w]]:
        ours = mr.utils.unpack_x_y_sample_weight(data)
        theirs = keras.utils.unpack_x_y_sample_weight(data)
        assert all(a is b for a, b in zip(ours, theirs, strict=True))
    for arguments in [(x,), ((x, y),), (x, y), (x, y, w)]:
        ours = mr.utils.pack_x_y_sample_weight(*arguments)
        theirs = keras.utils.pack_x_y_sample_weight(*arguments)
        assert type(ours) is type(theirs)
    with pytest.raises(ValueError, match="found"):
        mr.utils.unpack_x_y_sample_weight((x, y, w, w))


def test_get_source_inputs_walks_back_to_the_inputs():
    a, b = mr.Input((2,), name="a"), mr.Input((2,), name="b")
    hidden = mr.layers.Dense(3)(a)
    out = mr.layers.concatenate([hidden, b, mr.layers.Dense(2)(a)])
    sources = mr.utils.get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert mr.utils.get_source_inputs(a) == [a]
    assert mr.utils.is_keras_tensor(out) and not mr.utils.is_keras_tensor(np.ones(2))


DTYPES = [None, int, float, bool, "bool", "uint8", "uint32", "uint64", "int8", "int16",
          "int32", "int64", "bfloat16", "float16", "float32", "float64", "complex64",
          np.float32, np.dtype("int16")]


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_result_type_and_dtype_names_as_keras(keras, floatx):
    from comparisons import keras_env

    def outcome(function, *arguments):
        try:
            return function(*arguments)
        except ValueError:
            return "ValueError"

    with keras_env.precision(floatx):
        for pair in itertools.product(DTYPES, repeat=2):
            assert outcome(mr.backend.result_type, *pair) == outcome(
                keras.backend.result_type, *pair), pair
        for dtype in [*DTYPES, "int", "float", "f4", "string", str, complex, np.float64]:
            for name in ("standardize_dtype", "is_float_dtype", "is_int_dtype"):
                assert outcome(getattr(mr.backend, name), dtype) == outcome(
                    getattr(keras.backend, name), dtype), (name, dtype)
    assert mr.utils.standardize_dtype is mr.backend.standardize_dtype


# -- keras.random: gamma, beta, binomial, categorical ---------------------------------------

@pytest.mark.parametrize("alpha", [0.5, 2.0, 9.0])
def test_gamma_statistics(alpha):
    """Γ(α, 1): mean α, variance α, fourth central moment 3α² + 6α."""
    x = gamma((N,), alpha=alpha, dtype="float64", seed=0)
    assert np.all(x > 0)
    assert abs(mean_z(x, alpha, alpha)) < Z
    assert abs(variance_z(x, alpha, 3 * alpha**2 + 6 * alpha)) < Z


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (2.0, 5.0), (3.0, 1.0)])
def test_beta_statistics(a, b):
    x = beta((N,), alpha=a, beta=b, dtype="float64", seed=1)
    assert np.all((x >= 0) & (x <= 1))
    mean, variance = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    excess = 6 * ((a - b) ** 2 * (a + b + 1) - a * b * (a + b + 2)) / (
        a * b * (a + b + 2) * (a + b + 3))
    assert abs(mean_z(x, mean, variance)) < Z
    assert abs(variance_z(x, variance, variance**2 * (3 + excess))) < Z


@pytest.mark.parametrize(("n", "p"), [(1, 0.3), (10, 0.5), (40, 0.05)])
def test_binomial_statistics(n, p):
    x = binomial((N,), counts=n, probabilities=p, seed=2)
    assert x.dtype == np.float32                                  # floatx, as in Keras
    assert np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= n
    variance = n * p * (1 - p)
    assert abs(mean_z(x, n * p, variance)) < Z
    assert abs(variance_z(x, variance, variance * (1 + 3 * (n - 2) * p * (1 - p)))) < Z


def test_binomial_broadcasts_its_parameters():
    x = binomial((N // 10, 2), counts=[5, 50], probabilities=[0.9, 0.1], dtype="float64",
                 seed=3)
    for column, (n, p) in enumerate([(5, 0.9), (50, 0.1)]):
        assert abs(mean_z(x[:, column], n * p, n * p * (1 - p))) < Z


def test_categorical_fractions_follow_the_softmax():
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]))
    samples = categorical(logits, N // 2, seed=4)
    assert samples.shape == (2, N // 2) and samples.dtype == np.int32
    for row, probabilities in enumerate(np.exp(logits)):
        for j, p in enumerate(probabilities):
            assert abs(binomial_z(samples[row] == j, p)) < Z
    # A class with logit -inf is never drawn; one row with all the mass gives one class.
    np.testing.assert_array_equal(categorical([[0.0, -np.inf]], 50, seed=5), 0)
    assert categorical(np.zeros((2, 4)), 3, dtype="int64", seed=6).dtype == np.int64


@pytest.mark.parametrize(("function", "arguments"), [
    (gamma, {"alpha": 2.0}), (beta, {"alpha": 2.0, "beta": 3.0}),
    (binomial, {"counts": 5, "probabilities": 0.5})])
def test_seeds_behave_as_the_other_random_functions(function, arguments):
    np.testing.assert_array_equal(function((5,), seed=7, **arguments),
                                  function((5,), seed=7, **arguments))
    gen, twin = SeedGenerator(42), SeedGenerator(42)
    first, second = function((50,), seed=gen, **arguments), function((50,), seed=gen, **arguments)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, function((50,), seed=twin, **arguments))
    rng_utils.set_random_seed(11)
    unseeded = function((50,), **arguments)
    rng_utils.set_random_seed(11)
    np.testing.assert_array_equal(function((50,), **arguments), unseeded)
    assert function((2, 3), dtype="float64", seed=1, **arguments).dtype == np.float64
    with pytest.raises(ValueError, match="`dtype` must be a float dtype"):
        function((2,), dtype="int32", seed=1, **arguments)
    with pytest.raises(ValueError, match="seed"):
        function((2,), seed=1.5, **arguments)


def test_categorical_seeds_and_errors():
    logits = np.zeros((3, 5))
    np.testing.assert_array_equal(categorical(logits, 20, seed=1), categorical(logits, 20, seed=1))
    gen = SeedGenerator(3)
    assert not np.array_equal(categorical(logits, 50, seed=gen), categorical(logits, 50, seed=gen))
    with pytest.raises(ValueError, match="2-D tensor"):
        categorical(np.zeros(5), 2)
    with pytest.raises(ValueError, match="integer dtype"):
        categorical(logits, 2, dtype="float32")


@pytest.mark.parametrize(("arguments", "message"), [
    ({"alpha": -1.0}, "alpha"), ({"alpha": 0.0}, "alpha")])
def test_gamma_refuses_a_non_positive_alpha(arguments, message):
    with pytest.raises(ValueError, match=message):
        gamma((2,), seed=1, **arguments)


def test_binomial_refuses_bad_probabilities_and_counts():
    with pytest.raises(ValueError, match="`probabilities` must be in"):
        binomial((2,), counts=3, probabilities=1.5, seed=1)
    with pytest.raises(ValueError, match="`counts` must be >= 0"):
        binomial((2,), counts=-1, probabilities=0.5, seed=1)


def test_keras_draws_pass_the_same_statistical_tests(keras):
    """If Keras failed these, the formulas above would be wrong, not minired."""
    n = 50_000
    x = np.asarray(keras.random.gamma((n,), alpha=2.0, dtype="float64", seed=1))
    assert abs(mean_z(x, 2.0, 2.0)) < Z and abs(variance_z(x, 2.0, 3 * 4 + 12)) < Z
    a, b = 2.0, 5.0
    x = np.asarray(keras.random.beta((n,), a, b, dtype="float64", seed=2))
    variance = a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(mean_z(x, a / (a + b), variance)) < Z
    x = np.asarray(keras.random.binomial((n,), 10, 0.5, seed=3))
    assert x.dtype == np.float32 and abs(mean_z(x, 5.0, 2.5)) < Z
    samples = np.asarray(keras.random.categorical(np.log([[0.1, 0.2, 0.7]]), n, seed=4))
    assert samples.dtype == np.int32
    assert abs(binomial_z(samples[0] == 2, 0.7)) < Z
