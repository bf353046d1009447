"""Keras' remaining public names beside Keras: scopes (name, device, remat, stateless,
symbolic), Function and Operation, keras.distribution, Keras 2's one-object JSON
(legacy.saving), and the names minired refuses as Keras refuses them or with a clear error
(optimizers.legacy, export.ExportArchive, utils.model_to_dot, callbacks.OrbaxCheckpoint)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer
from minired.utils.remat import get_current_remat_mode

BRIEF_NAMES = ["name_scope", "device", "RematScope", "remat", "StatelessScope",
               "SymbolicScope", "Function", "Operation", "distribution", "export", "legacy"]


def raised(call) -> tuple[type, str]:
    """``(type, message)`` of the exception ``call()`` raises (fails if it raises none)."""
    with pytest.raises(Exception) as info:
        call()
    return info.type, str(info.value)


def same_error(keras_call, minired_call) -> None:
    kind, message = raised(keras_call)
    assert raised(minired_call) == (kind, message)


# -- the names exist ---------------------------------------------------------------------------

def test_every_name_of_the_brief_is_public(keras):
    for name in BRIEF_NAMES:
        assert hasattr(keras, name) and name in mr.__all__ and hasattr(mr, name)
    assert sorted(mr.distribution.__all__) == sorted(
        n for n in dir(keras.distribution) if not n.startswith("_"))
    assert mr.export.__all__ == ["ExportArchive"]
    assert hasattr(mr.legacy.saving, "serialize_keras_object")
    assert mr.utils.legacy.serialize_keras_object is mr.legacy.saving.serialize_keras_object
    for name in ("Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"):
        assert hasattr(keras.optimizers.legacy, name) and hasattr(mr.optimizers.legacy, name)
    assert callable(mr.utils.model_to_dot) and "OrbaxCheckpoint" in mr.callbacks.__all__


# -- optimizers.legacy -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"])
def test_legacy_optimizers_raise_keras_import_error(keras, name):
    same_error(lambda: getattr(keras.optimizers.legacy, name)(learning_rate=0.1),
               lambda: getattr(mr.optimizers.legacy, name)(learning_rate=0.1))


# -- remat and RematScope ----------------------------------------------------------------------

def test_remat_scope_checks_mode_and_nests(keras):
    same_error(lambda: keras.RematScope(mode="all"), lambda: mr.RematScope(mode="all"))
    assert get_current_remat_mode() is None
    with mr.RematScope(mode="larger_than", output_size_threshold=64):
        with mr.RematScope(mode="list_of_layers", layer_names=["hidden"]) as inner:
            assert get_current_remat_mode() == ("list_of_layers", 1024, ["hidden"])
            assert inner.layer_names == ["hidden"]
        assert get_current_remat_mode() == ("larger_than", 64, [])
    assert get_current_remat_mode() is None
    defaults = mr.RematScope()
    kdefaults = keras.RematScope()
    assert (defaults.mode, defaults.output_size_threshold, defaults.layer_names) == (
        kdefaults.mode, kdefaults.output_size_threshold, kdefaults.layer_names)


def test_remat_gives_the_values_of_the_function(keras):
    def f(x):
        return np.tanh(x) * 2.0

    x = np.linspace(-2, 2, 7)
    np.testing.assert_array_equal(mr.remat(f)(x), f(x))
    np.testing.assert_allclose(mr.remat(f)(x), np.asarray(keras.remat(f)(x)), rtol=1e-15)
    assert mr.remat(f).__name__ == "f"


class _RematScale(mr.layers.Layer):
    """``tanh(x·s) + x`` through ``mr.remat``: the tape differentiates what remat runs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rematerialised = mr.remat(self.inner)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="random_normal",
                                     name="scale")

    def inner(self, x):
        return mr.ops.tanh(x * self.scale) + x

    def call(self, inputs):
        return self.rematerialised(inputs)


def test_remat_layer_gradients_match_finite_differences(float64):
    results = check_layer(_RematScale(), np.random.default_rng(0).normal(size=(3, 4)))
    assert len(results) == 2
    assert max(r.relative_error for r in results) < 1e-7


# -- name_scope --------------------------------------------------------------------------------

def test_name_scope_prefixes_variable_paths_as_keras(keras):
    paths = {}
    for lib in (keras, mr):
        with lib.name_scope("outer"):
            v = lib.Variable(np.ones(2), name="v")
            with lib.name_scope("inner"):
                w = lib.Variable(np.ones(2), name="w")
        u = lib.Variable(np.ones(2), name="u")
        paths[lib.__name__] = (v.path, v.name, w.path, u.path)
    assert paths["minired"] == paths["keras"] == ("outer/v", "v", "outer/inner/w", "u")


def test_name_scope_dedup_and_override_parent(keras):
    for lib in (keras, mr):
        caller = object()
        with lib.name_scope("block", caller=caller):
            with lib.name_scope("block", caller=caller):       # the same caller: no new level
                a = lib.Variable(np.ones(1), name="a")
            with lib.name_scope("sub", override_parent="root/x"):
                b = lib.Variable(np.ones(1), name="b")
        assert (a.path, b.path) == ("block/a", "root/x/sub/b")


@pytest.mark.parametrize("name", ["a/b", 3])
def test_name_scope_rejects_names_as_keras(keras, name):
    same_error(lambda: keras.name_scope(name), lambda: mr.name_scope(name))


# -- device ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cpu", "CPU:0", "/cpu:0", "gpu:1", "tpu:0", "", None,
                                  "cpu:*", "/job:localhost/replica:0/device:CPU:0"])
def test_device_accepts_what_tensorflow_accepts(keras, name):
    with keras.device(name):
        pass
    with mr.device(name) as entered:
        assert entered is None
        assert mr.utils.device.current_device() == "cpu:0"


@pytest.mark.parametrize("name", ["foo", 3, "cpu:x", "cpu:0/gpu:0", "device:CPU:0/gpu:1"])
def test_device_rejects_on_entry_what_tensorflow_rejects(keras, name):
    def enter(lib):
        scope = lib.device(name)         # constructing never raises, entering does
        with scope:
            pass

    same_error(lambda: enter(keras), lambda: enter(mr))


# -- StatelessScope and SymbolicScope ----------------------------------------------------------

def test_stateless_scope_reads_mapped_values_and_collects_updates(keras):
    results = {}
    for lib in (keras, mr):
        v = lib.Variable(np.ones(2), name="v")
        w = lib.Variable(np.zeros(2), name="w")
        with lib.StatelessScope([(v, np.full(2, 5.0))]) as scope:
            inside = np.array(v.value)
            v.assign(v.value + 1)
            w.assign([7.0, 7.0])
            after_assign = (np.array(v.value), np.array(w.value))
        results[lib.__name__] = (inside, *after_assign, np.array(v.value), np.array(w.value),
                                 np.asarray(scope.get_current_value(v)),
                                 np.asarray(scope.get_current_value(w)),
                                 scope.get_current_value(lib.Variable(1.0)))
    ours, theirs = results["minired"], results["keras"]
    for a, b in zip(ours[:-1], theirs[:-1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours[-1] is None and theirs[-1] is None


def test_stateless_scope_runs_a_model_at_other_weights_without_changing_it():
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2)])
    x = np.ones((1, 3), dtype="float32")
    before = [w.copy() for w in model.weights]
    zeros = [(w, np.zeros_like(w)) for w in model.weights]
    with mr.StatelessScope(zeros):
        np.testing.assert_array_equal(model.predict(x, verbose=0), np.zeros((1, 2)))
    for w, b in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(w, b)


def test_stateless_scope_errors(keras):
    kv, mv = keras.Variable(np.ones(2)), mr.Variable(np.ones(2))
    same_error(lambda: keras.StatelessScope([("w", 1.0)]), lambda: mr.StatelessScope([("w", 1.0)]))
    kind, message = raised(lambda: keras.StatelessScope([(kv, np.ones(3))]))
    ours = raised(lambda: mr.StatelessScope([(mv, np.ones(3))]))
    prefix = "Invalid variable value in StatelessScope"
    assert ours[0] is kind and message.startswith(prefix) and ours[1].startswith(prefix)
    assert ours[1].endswith("with shape (3,).") and message.endswith("with shape (3,).")
    with pytest.raises(NotImplementedError, match="collect_losses"):
        mr.StatelessScope(collect_losses=True)


def test_symbolic_scope(keras):
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope as keras_in

    from minired.utils.symbolic_scope import in_symbolic_scope

    for lib, inside in ((keras, keras_in), (mr, in_symbolic_scope)):
        assert not inside()
        with lib.SymbolicScope() as scope:
            assert inside() and isinstance(scope, lib.SymbolicScope)
        assert not inside()


# -- Function and Operation --------------------------------------------------------------------

def _graph(lib):
    x = lib.Input((3,), name="x")
    hidden = lib.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones",
                              activation="relu", name="hidden")(x)
    out = lib.layers.Dense(1, kernel_initializer="ones", name="out")(hidden)
    return x, hidden, out


def test_function_runs_the_graph_as_keras(keras):
    data = np.arange(6, dtype="float32").reshape(2, 3) - 2.0
    results = {}
    for lib in (keras, mr):
        x, hidden, out = _graph(lib)
        f = lib.Function(x, {"h": hidden, "o": out}, name="f")
        g = lib.Function([x], [hidden, out])
        values = f(data)
        listed = g([data])
        results[lib.__name__] = (f.name, [op.name for op in f.operations], len(f.inputs),
                                 len(f.outputs), sorted(values),
                                 np.asarray(values["o"]), [np.asarray(a) for a in listed])
    ours, theirs = results["minired"], results["keras"]
    assert ours[:5] == theirs[:5] == ("f", ["x", "hidden", "out"], 1, 2, ["h", "o"])
    np.testing.assert_array_equal(ours[5], theirs[5])
    for a, b in zip(ours[6], theirs[6], strict=True):
        np.testing.assert_array_equal(a, b)


def test_operation_subclass_and_layers_are_operations(keras):
    results = {}
    for lib in (keras, mr):
        class Twice(lib.Operation):
            def call(self, x):
                return 2 * x

        op = Twice()
        results[lib.__name__] = (np.asarray(op(np.array([1.0, 2.0]))), op.get_config(),
                                 isinstance(lib.layers.Dense(2), lib.Operation),
                                 isinstance(op, lib.layers.Layer))
    ours, theirs = results["minired"], results["keras"]
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1]["name"].startswith("twice") and theirs[1]["name"].startswith("twice")
    assert ours[2:] == theirs[2:] == (True, False)
    assert raised(lambda: mr.Operation()(np.ones(2)))[0] is NotImplementedError
    assert raised(lambda: keras.Operation()(np.ones(2)))[0] is NotImplementedError
    with pytest.raises(TypeError, match="symbolic tensor"):
        Twice()(mr.Input((2,)))


# -- distribution ------------------------------------------------------------------------------

@pytest.mark.parametrize("device_type", [None, "cpu", "CPU", "gpu", "tpu", "foo"])
def test_list_devices_as_keras_on_cpu(keras, device_type):
    devices = mr.distribution.list_devices(device_type)
    assert devices == keras.distribution.list_devices(device_type)
    assert mr.distribution.get_device_count(device_type) == len(devices)


def test_device_count_and_initialize_where_tensorflow_has_none(keras):
    # Keras' TensorFlow backend lacks both (AttributeError); minired counts its one CPU and
    # refuses a multi-process cluster with NotImplementedError (a deliberate difference).
    assert raised(lambda: keras.distribution.get_device_count())[0] is AttributeError
    assert raised(lambda: keras.distribution.initialize())[0] is AttributeError
    assert mr.distribution.get_device_count() == 1
    with pytest.raises(NotImplementedError, match="one process"):
        mr.distribution.initialize()


def test_mesh_layout_and_distributions_answer_as_keras(keras):
    answers = {}
    for lib in (keras, mr):
        d = lib.distribution
        mesh = d.DeviceMesh((1,), ["batch"], ["cpu:0"])
        layout_map = d.LayoutMap(d.DeviceMesh((1, 1), ["batch", "model"]))
        layout_map[".*dense.*kernel"] = (None, "model")
        dp, mp = d.DataParallel(), d.ModelParallel(layout_map=layout_map)
        with dp.scope():
            inside = repr(d.distribution())
        answers[lib.__name__] = (
            repr(mesh), mesh.shape, mesh.axis_names, mesh.devices.tolist(),
            repr(d.TensorLayout(["batch", None], mesh)), repr(dp), dp.num_model_replicas,
            dp.batch_dim_name, repr(dp.get_data_layout((8, 3))), dp.num_processes,
            dp.data_shard_id, dp.auto_shard_dataset, repr(d.DataParallel(devices=["cpu:0"])),
            repr(mp), mp.batch_dim_name, mp.num_model_replicas,
            repr(mp.get_tensor_layout("seq/dense_1/kernel")), mp.get_tensor_layout("bias"),
            len(layout_map), list(layout_map), inside, d.distribution())
    assert answers["minired"] == answers["keras"]


def test_distribution_errors_as_keras(keras):
    def calls(d):
        mesh = d.DeviceMesh((1,), ["batch"])
        layout_map = d.LayoutMap(mesh)
        layout_map["k"] = ("batch",)
        layout_map["k.*"] = (None,)
        layout_map[".*k"] = (None,)
        return [lambda: d.DeviceMesh((), []),
                lambda: d.DeviceMesh((1,), ["a", "b"]),
                lambda: d.DeviceMesh((2,), ["batch"]),
                lambda: d.TensorLayout(("x",), mesh),
                lambda: setattr(d.TensorLayout(("batch",), mesh), "device_mesh", mesh),
                lambda: layout_map.__setitem__("k", (None,)),
                lambda: layout_map.__setitem__("j", [None]),
                lambda: layout_map["kk"],                     # two patterns match
                lambda: d.DataParallel(device_mesh="mesh"),
                lambda: d.ModelParallel(),
                lambda: d.ModelParallel(layout_map={})]

    for keras_call, minired_call in zip(calls(keras.distribution), calls(mr.distribution),
                                        strict=True):
        kind, message = raised(keras_call)
        ours = raised(minired_call)
        assert ours == (kind, message)


def test_distribute_tensor_keeps_the_array_on_one_device():
    x = np.arange(6.0).reshape(2, 3)
    layout = mr.distribution.TensorLayout(["batch", None])
    assert mr.distribution.distribute_tensor(x, layout) is x


# -- legacy.saving -----------------------------------------------------------------------------

def _objects(lib):
    return [lib.layers.Dense(2, activation="relu", name="d"), lib.optimizers.Adam(0.1, name="a"),
            lib.optimizers.SGD(0.5, momentum=0.9, name="s"),
            lib.initializers.GlorotUniform(seed=1), lib.losses.MeanSquaredError(),
            lib.regularizers.L2(0.1), lib.activations.relu, lib.losses.mean_squared_error,
            lib.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5), lib.metrics.Accuracy(),
            lib.constraints.MaxNorm(2.0), None,
            lib.Sequential([lib.Input((2,), name="in"), lib.layers.Dense(1, name="o")],
                           name="s")]


def test_legacy_serialize_writes_keras_json(keras):
    for theirs, ours in zip(_objects(keras), _objects(mr), strict=True):
        expected = keras.legacy.saving.serialize_keras_object(theirs)
        got = mr.legacy.saving.serialize_keras_object(ours)
        assert json.loads(json.dumps(got)) == json.loads(json.dumps(expected))


def test_legacy_serialize_marks_nested_objects_passive(keras):
    for lib in (keras, mr):
        class Holder(lib.layers.Layer):
            def __init__(self, inner=None, fn=None, **kwargs):
                super().__init__(**kwargs)
                self.inner, self.fn = inner, fn

            def get_config(self):
                return {"name": self.name, "inner": self.inner, "fn": self.fn}

        config = lib.legacy.saving.serialize_keras_object(
            Holder(lib.regularizers.L1(0.5), lib.activations.tanh, name="h"))
        assert config == {"class_name": "Holder", "config": {
            "name": "h", "fn": "tanh", "inner": {"class_name": "L1", "config": {"l1": 0.5},
                                                 "__passive_serialization__": True}}}
        with lib.utils.custom_object_scope({"tanh": lib.activations.tanh}):
            holder = lib.legacy.saving.deserialize_keras_object(
                config, module_objects={"Holder": Holder, "L1": lib.regularizers.L1})
        assert isinstance(holder.inner, lib.regularizers.L1) and holder.inner.l1 == 0.5
        assert holder.fn is lib.activations.tanh


def test_legacy_deserialize_reads_keras_json_into_minired(keras):
    modules = {"Dense": mr.layers.Dense, "Adam": mr.optimizers.Adam,
               "MeanSquaredError": mr.losses.MeanSquaredError, "relu": mr.activations.relu}
    for theirs in (keras.layers.Dense(2, activation="relu", name="d"),
                   keras.optimizers.Adam(0.1), keras.losses.MeanSquaredError()):
        text = json.dumps(keras.legacy.saving.serialize_keras_object(theirs))
        # as Keras, a string naming a known function becomes the function, in place
        ours = mr.legacy.saving.deserialize_keras_object(json.loads(text),
                                                         module_objects=modules)
        assert type(ours).__name__ == type(theirs).__name__
        assert json.loads(json.dumps(ours.get_config())) == json.loads(text)["config"]
    config = {"class_name": "Dense", "config": {"units": 2, "activation": "relu"}}
    mr.legacy.saving.deserialize_keras_object(config, module_objects=modules)
    assert config["config"]["activation"] is mr.activations.relu
    # A name: Keras 3.15 reads a registry it no longer has (AttributeError); minired looks
    # the name up (a deliberate difference).
    assert raised(lambda: keras.legacy.saving.deserialize_keras_object(
        "relu", module_objects={"relu": keras.activations.relu}))[0] is AttributeError
    assert mr.legacy.saving.deserialize_keras_object("relu", module_objects=modules) \
        is mr.activations.relu
    adam = mr.legacy.saving.deserialize_keras_object("Adam", module_objects=modules)
    assert isinstance(adam, mr.optimizers.Adam)      # a class by name: made with no arguments
    assert mr.legacy.saving.deserialize_keras_object(None) is None


def test_legacy_deserialize_errors_as_keras_and_never_imports(keras):
    for identifier, module_objects in [
            ({"class_name": "os.system", "config": {}}, {}),
            ({"class_name": "Dense", "config": {}}, {}),
            ({"config": {}}, {}),
            (3, {})]:
        same_error(
            lambda i=identifier, m=module_objects: keras.legacy.saving.deserialize_keras_object(
                i, module_objects=m),
            lambda i=identifier, m=module_objects: mr.legacy.saving.deserialize_keras_object(
                i, module_objects=m))
    same_error(lambda: keras.legacy.saving.serialize_keras_object(3),
               lambda: mr.legacy.saving.serialize_keras_object(3))
    with pytest.raises(ValueError, match="Unknown object: '__import__'"):
        mr.legacy.saving.deserialize_keras_object("__import__", module_objects={"x": 1})


# -- refused: ExportArchive, model_to_dot, OrbaxCheckpoint -------------------------------------

def test_export_archive(keras):
    same_error(lambda: keras.export.ExportArchive(format="onnx"),
               lambda: mr.export.ExportArchive(format="onnx"))
    assert type(keras.export.ExportArchive()).__name__ == "TFExportArchive"
    with pytest.raises(NotImplementedError, match="TensorFlow SavedModel"):
        mr.export.ExportArchive()


def test_model_to_dot_as_keras_without_pydot(keras):
    same_error(lambda: keras.utils.model_to_dot(keras.Sequential([keras.layers.Dense(1)])),
               lambda: mr.utils.model_to_dot(mr.Sequential([mr.layers.Dense(1)])))
    pydot_installed = importlib.util.find_spec("pydot") is not None
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])
    kind, message = raised(lambda: mr.utils.model_to_dot(model))
    if pydot_installed:
        assert kind is NotImplementedError and "plot_model" in message
    else:
        keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        assert (kind, message) == raised(lambda: keras.utils.model_to_dot(keras_model))


def test_orbax_checkpoint_raises_import_error(keras):
    first = "OrbaxCheckpoint requires the 'orbax-checkpoint' package."
    orbax_installed = importlib.util.find_spec("orbax") is not None
    if not orbax_installed:
        kind, message = raised(lambda: keras.callbacks.OrbaxCheckpoint("/tmp/unused"))
        assert kind is ImportError and message.startswith(first)
    kind, message = raised(lambda: mr.callbacks.OrbaxCheckpoint("/tmp/unused"))
    assert kind is ImportError and message.startswith(first) and "ModelCheckpoint" in message
