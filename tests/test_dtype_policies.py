"""Dtype policies (``mr.dtype_policies``, ``mr.mixed_precision``, a layer's ``dtype_policy``)
beside Keras: names, properties, config dicts, round trips, a float64-policy model trained
like Keras, ``.keras`` files both ways, and the policies minired refuses (mixed precision,
float16, bfloat16, quantized, a layer dtype other than the global one).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minired as mr
from minired.dtype_policies import DTypePolicy, DTypePolicyMap, FloatDTypePolicy

REFUSED = ["mixed_float16", "mixed_bfloat16", "float16", "bfloat16", "int8_from_float32",
           "float8_from_float32", "int4_from_float32"]


@pytest.fixture(autouse=True)
def _restore_policies(request):
    """Both libraries' global policy and floatx back to the defaults after each test."""
    yield
    with warnings.catch_warnings():       # set_floatx warns when it drops a policy
        warnings.simplefilter("ignore")
        mr.config.set_floatx("float32")
    if "keras" in request.fixturenames:
        keras = request.getfixturevalue("keras")
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")


def both(keras, policy) -> None:
    """Set the global policy in both libraries (floatx stays float32 in both)."""
    mr.config.set_dtype_policy(policy)
    keras.config.set_dtype_policy(policy)


def keras_message(function, *args) -> tuple[type, str]:
    with pytest.raises(Exception) as error:
        function(*args)
    return error.type, str(error.value)


# -- names -------------------------------------------------------------------------------------

def test_the_public_names_are_keras(keras):
    for ours, theirs in ((mr.dtype_policies, keras.dtype_policies),
                         (mr.mixed_precision, keras.mixed_precision)):
        public = {name for name in dir(theirs) if not name.startswith("_")}
        assert public <= set(dir(ours)), public - set(dir(ours))
    assert mr.DTypePolicy is mr.dtype_policies.DTypePolicy is mr.mixed_precision.Policy
    assert mr.FloatDTypePolicy is FloatDTypePolicy
    assert mr.mixed_precision.LossScaleOptimizer is mr.optimizers.LossScaleOptimizer
    assert mr.mixed_precision.global_policy is mr.mixed_precision.dtype_policy
    assert mr.mixed_precision.set_global_policy is mr.mixed_precision.set_dtype_policy
    assert keras.config.dtype_policy() == keras.DTypePolicy("float32")
    assert repr(mr.config.dtype_policy()) == repr(keras.config.dtype_policy())


# -- policies ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["float32", "float64", "int32", "int64", "bool", "string"])
@pytest.mark.parametrize("cls", ["DTypePolicy", "FloatDTypePolicy"])
def test_a_policy_is_keras_policy(keras, name, cls):
    ours, theirs = getattr(mr.dtype_policies, cls)(name), getattr(keras.dtype_policies, cls)(name)
    for attribute in ("name", "compute_dtype", "variable_dtype", "quantization_mode"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)
    assert repr(ours) == repr(theirs)
    assert ours.get_config() == theirs.get_config()
    assert mr.dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
    assert ours == DTypePolicy(name) and ours == FloatDTypePolicy(name)
    assert ours != DTypePolicy("float64" if name == "float32" else "float32")
    assert ours != name                                          # as Keras: not a string


def test_get_serialize_deserialize_as_keras(keras):
    identifiers = [None, "float64", np.float64, np.dtype("float32"),
                   {"class_name": "DTypePolicy", "config": {"name": "float64"}},
                   {"module": "keras", "class_name": "FloatDTypePolicy",
                    "config": {"name": "float32"}, "registered_name": None}]
    for identifier in identifiers:
        ours, theirs = mr.dtype_policies.get(identifier), keras.dtype_policies.get(identifier)
        assert type(ours).__name__ == type(theirs).__name__ and repr(ours) == repr(theirs)
        config = keras.dtype_policies.serialize(theirs)
        assert mr.dtype_policies.serialize(ours) == config
        assert mr.dtype_policies.serialize(mr.dtype_policies.deserialize(config)) == config
        assert keras.dtype_policies.serialize(
            keras.dtype_policies.deserialize(mr.dtype_policies.serialize(ours))) == config
    policy = mr.dtype_policies.get("float64")
    assert mr.dtype_policies.get(policy) is policy


def test_the_errors_are_keras_errors(keras):
    pairs = [(mr.dtype_policies.DTypePolicy, keras.dtype_policies.DTypePolicy, 3),
             (mr.dtype_policies.DTypePolicy, keras.dtype_policies.DTypePolicy, "foo"),
             (mr.dtype_policies.get, keras.dtype_policies.get, 3),
             (mr.config.set_dtype_policy, keras.config.set_dtype_policy, 3),
             (mr.config.set_dtype_policy, keras.config.set_dtype_policy, None)]
    for ours, theirs, argument in pairs:
        assert keras_message(ours, argument) == keras_message(theirs, argument)


def test_a_policy_map_is_keras_map(keras):
    maps = []
    for lib in (mr, keras):
        policies = lib.dtype_policies
        policy_map = policies.DTypePolicyMap(default_policy="float32")
        policy_map["encoder/layer_0/dense"] = "float32"
        policy_map["encoder/.*"] = policies.DTypePolicy("float32")
        policy_map["decoder"] = "float32"
        maps.append(policy_map)
    ours, theirs = maps
    for path in ("encoder/layer_0/dense", "encoder/attention/query", "decoder",
                 "decoder/attention"):
        assert repr(ours[path]) == repr(theirs[path])
    assert ours.name == theirs.name == "map_float32" and list(ours) == list(theirs)
    assert len(ours) == len(theirs) == 3 and "decoder" in ours
    assert ours.compute_dtype == theirs.compute_dtype
    assert mr.dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
    for policy_map in maps:
        policy_map["encoder/attention/.*"] = "float32"
    assert keras_message(ours.__getitem__, "encoder/attention/query") == \
        keras_message(theirs.__getitem__, "encoder/attention/query")
    assert keras_message(ours.__setitem__, "decoder", "float32")[0] is ValueError
    del ours["decoder"]
    assert "decoder" not in ours and len(ours) == 3


@pytest.mark.parametrize("default", [None, "float64", "policy"])
def test_a_policy_map_round_trips_as_keras(keras, default):
    both(keras, "float64")
    configs = []
    for lib in (mr, keras):
        policy = lib.dtype_policies.DTypePolicy("float64") if default == "policy" else default
        policy_map = lib.dtype_policies.DTypePolicyMap(default_policy=policy)
        policy_map["dense"] = "float64"
        configs.append(lib.dtype_policies.serialize(policy_map))
    assert configs[0] == configs[1]
    ours = mr.dtype_policies.deserialize(configs[1])
    assert isinstance(ours, DTypePolicyMap) and ours["dense"].compute_dtype == "float64"
    assert mr.dtype_policies.serialize(ours) == configs[1]


# -- the global policy -------------------------------------------------------------------------

def test_the_global_policy_sets_the_layers_dtype(keras):
    for lib in (mr, keras):
        lib.mixed_precision.set_global_policy("float64")
    assert mr.config.dtype() == np.float64 and mr.config.floatx() == "float32"
    assert repr(mr.mixed_precision.global_policy()) == repr(keras.mixed_precision.global_policy())
    ours, theirs = mr.layers.Dense(2), keras.layers.Dense(2)
    ours.build((None, 3))
    theirs.build((None, 3))
    assert ours.kernel.dtype == np.float64 and ours(np.ones((1, 3), "float32")).dtype == np.float64
    for attribute in ("dtype", "compute_dtype", "variable_dtype"):
        assert getattr(ours, attribute) == getattr(theirs, attribute) == "float64"
    assert ours.get_config()["dtype"] == theirs.get_config()["dtype"]
    with pytest.warns(UserWarning, match="set_floatx\\('float32'\\) also sets the global"):
        mr.config.set_floatx("float32")       # Keras would keep the float64 policy
    assert mr.config.dtype() == np.float32 and mr.layers.Dense(2).compute_dtype == "float32"


def test_a_float_policy_class_is_kept_in_the_config(keras):
    mr.config.set_dtype_policy(FloatDTypePolicy("float64"))
    keras.config.set_dtype_policy(keras.dtype_policies.FloatDTypePolicy("float64"))
    assert mr.layers.Dense(2).get_config()["dtype"] == keras.layers.Dense(2).get_config()["dtype"]
    assert mr.layers.Dense(2).get_config()["dtype"]["class_name"] == "FloatDTypePolicy"
    ours, theirs = (lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)]) for lib in (mr, keras))
    assert ours.get_config()["dtype"] == theirs.get_config()["dtype"]     # the model's too


@pytest.mark.parametrize("dtype", [None, "float32", "FloatDTypePolicy", "dict", "map"])
def test_a_layer_dtype_is_keras_layer_dtype(keras, dtype):
    layers = []
    for lib in (mr, keras):
        argument = {"FloatDTypePolicy": lib.dtype_policies.FloatDTypePolicy("float32"),
                    "dict": {"class_name": "DTypePolicy", "config": {"name": "float32"}},
                    "map": lib.dtype_policies.DTypePolicyMap(default_policy="float32")
                    }.get(dtype, dtype)
        layers.append(lib.layers.Dense(2, dtype=argument))
    ours, theirs = layers
    for attribute in ("dtype", "compute_dtype", "variable_dtype"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)
    assert type(ours.dtype_policy).__name__ == type(theirs.dtype_policy).__name__
    assert ours.get_config()["dtype"] == theirs.get_config()["dtype"]
    again = mr.layers.Dense.from_config(ours.get_config())
    assert again.get_config()["dtype"] == theirs.get_config()["dtype"]
    ours.dtype_policy = "float32"
    theirs.dtype_policy = "float32"
    assert ours.get_config()["dtype"] == theirs.get_config()["dtype"]


def test_an_input_layer_has_its_inputs_dtype(keras):
    for dtype in (None, "int32"):
        ours = mr.Input((3,), dtype=dtype)._keras_history[0]
        theirs = keras.Input((3,), dtype=dtype)._keras_history[0]
        assert (ours.dtype, ours.compute_dtype) == (theirs.dtype, theirs.compute_dtype)


# -- what minired refuses ----------------------------------------------------------------------

@pytest.mark.parametrize("name", REFUSED)
def test_policies_minired_cannot_compute_are_refused_where_named(name):
    attempts = [lambda: mr.dtype_policies.get(name),
                lambda: mr.config.set_dtype_policy(name),
                lambda: mr.mixed_precision.set_global_policy(name),
                lambda: mr.layers.Dense(2, dtype=name)]
    if not name.startswith(("int", "float8")):
        attempts += [lambda: mr.mixed_precision.Policy(name),
                     lambda: mr.layers.Dense.from_config(
                         {"units": 2, "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                                "config": {"name": name},
                                                "registered_name": None}})]
    for attempt in attempts:
        with pytest.raises(ValueError, match=f"'{name}'.*'float32' or 'float64'"):
            attempt()
    assert mr.config.dtype_policy().name == "float32"        # nothing changed


def test_a_quantized_policy_class_is_refused():
    with pytest.raises(ValueError, match="'int8_from_float32' quantizes the weights"):
        mr.dtype_policies.QuantizedDTypePolicy("int8", "float32")
    with pytest.raises(ValueError, match="'int8_from_float32'"):
        mr.dtype_policies.deserialize({"class_name": "QuantizedDTypePolicy",
                                       "config": {"mode": "int8", "source_name": "float32"}})


def test_a_layer_dtype_other_than_the_global_one_is_refused():
    with pytest.raises(ValueError, match=r"Dense: the dtype policy 'float64' computes in "
                                         r"'float64', but minired computes Dense in 'float32'.*"
                                         r"set_dtype_policy\('float64'\)"):
        mr.layers.Dense(2, dtype="float64")
    layer = mr.layers.Dense(2)
    with pytest.raises(ValueError, match="'float64'"):
        layer.dtype_policy = "float64"
    with pytest.raises(ValueError, match="'int32'"):
        mr.layers.Dense(2, dtype=DTypePolicyMap("float32", {"dense": "int32"}))
    mr.config.set_dtype_policy("float64")
    with pytest.raises(ValueError, match="'float32'.*'float64'"):
        mr.layers.Dense(2, dtype="float32")
    mr.losses.Loss(dtype="float32")           # a loss computes in floatx, as Keras'
    with pytest.raises(ValueError, match=r"Loss: .*'float64'.*set_floatx\('float64'\)"):
        mr.losses.Loss(dtype="float64")


# -- numbers and files -------------------------------------------------------------------------

def regression_twins(keras, loss: str, activation: str):
    """A float64-policy model (floatx float32) in both libraries, same weights, compiled."""
    both(keras, "float64")
    mr.utils.set_random_seed(0)
    models = [lib.Sequential([lib.Input((4,)), lib.layers.Dense(8, activation="tanh"),
                              lib.layers.Dense(3, activation=activation)]) for lib in (mr, keras)]
    models[1].set_weights(models[0].get_weights())
    for model, lib in zip(models, (mr, keras), strict=True):
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1, momentum=0.9), loss=loss)
    return models


def test_a_float64_policy_model_trains_as_in_keras(keras):
    rng = np.random.default_rng(0)
    # float64 data: both round x to the float32 Input (floatx) and y to the float32 loss.
    x, y = rng.normal(size=(48, 4)), rng.normal(size=(48, 3))
    ours, theirs = regression_twins(keras, "mse", "linear")
    ours_history = ours.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    theirs_history = theirs.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    for w, v in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert w.dtype == v.dtype == np.float64
        np.testing.assert_allclose(w, v, rtol=0, atol=1e-12)
    predictions = ours.predict(x, verbose=0)
    assert predictions.dtype == np.float64
    np.testing.assert_allclose(predictions, theirs.predict(x, verbose=0), rtol=0, atol=1e-12)
    # The loss is computed in floatx (float32) in both libraries, as Keras' Loss casts ŷ;
    # the epoch means of those float32 numbers agree to float32 rounding.
    np.testing.assert_allclose(ours_history.history["loss"], theirs_history.history["loss"],
                               rtol=1e-6)


def test_a_float64_softmax_feeds_a_float32_loss_its_probabilities(keras):
    # Keras casts the float64 output to the float32 loss dtype, and the cast tensor has no
    # logits: the cross-entropy clips the probabilities (1e-7), ninefold the logits' value
    # here, where the softmax saturates.
    x = np.array([[30.0, -30.0, 0.0, 1.0]], "float32")
    y = np.array([[0.0, 1.0, 0.0]], "float32")
    ours, theirs = regression_twins(keras, "categorical_crossentropy", "softmax")
    for model in (ours, theirs):
        model.set_weights([np.eye(4, 8) * 9, np.zeros(8), np.eye(8, 3) * 9, np.zeros(3)])
    clipped = -np.log(np.float32(1e-7))
    ours_loss, theirs_loss = ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-6)     # float32 losses
    np.testing.assert_allclose(ours_loss, clipped, rtol=1e-6)


def test_keras_files_cross_load_under_a_float64_policy(keras, tmp_path):
    x = np.random.default_rng(1).normal(size=(5, 4))
    ours, theirs = regression_twins(keras, "mse", "linear")
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    from_ours = keras.saving.load_model(tmp_path / "ours.keras", compile=False)
    from_theirs = mr.saving.load_model(tmp_path / "theirs.keras")
    assert [layer.get_config()["dtype"] for layer in from_ours.layers] == \
        [layer.get_config()["dtype"] for layer in from_theirs.layers]
    assert from_theirs.layers[0].compute_dtype == "float64"
    expected = theirs.predict(x.astype("float32"), verbose=0)
    np.testing.assert_allclose(from_ours.predict(x.astype("float32"), verbose=0), expected,
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(from_theirs.predict(x.astype("float32"), verbose=0), expected,
                               rtol=0, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mr.config.set_floatx("float32")
    with pytest.raises(ValueError, match=r"'float64'.*set_dtype_policy\('float64'\)"):
        mr.saving.load_model(tmp_path / "theirs.keras")


def test_a_keras_mixed_precision_file_is_refused(keras, tmp_path):
    keras.config.set_dtype_policy("mixed_float16")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.save(tmp_path / "mixed.keras")
    with pytest.raises(ValueError, match="'mixed_float16'.*'float32' or 'float64'"):
        mr.saving.load_model(tmp_path / "mixed.keras")
