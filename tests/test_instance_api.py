"""Keras 3's instance API as scripts use it, compared with Keras: the state lists of layers
and models (``variables``, ``trainable_variables``, ``non_trainable_variables``,
``metrics_variables``, ``path``, ``add_variable``), an optimizer of your own (``build`` with
``add_variable_from_reference``, ``update_step`` with ``self.assign...``), keras-io's
"Customizing what happens in fit()" (``train_step``/``test_step`` of your own,
``compute_loss``, ``compute_metrics``, ``get_metrics_result``), ``predict_step``, the
deprecated ``compiled_loss``/``compiled_metrics``, and the losses' ``from_config``,
``dtype`` and ``fn``.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from comparisons import instance_api

keras = pytest.importorskip("keras")
from comparisons.keras_env import precision, tf  # noqa: E402  (after the Keras check)


def tape_of(lib):
    return mr.autodiff.GradientTape if lib is mr else tf.GradientTape


def described(variables) -> list[tuple]:
    return [(tuple(v.shape), str(np.dtype(v.dtype))) for v in variables]


# -- layers and models ----------------------------------------------------------------------

def noisy_model(lib):
    """A layer of your own with a seed generator, a metric, a trainable Variable made by
    ``add_variable`` and a non-trainable one, in a Sequential beside built-in layers."""

    class Count(lib.metrics.Metric):
        def __init__(self, name="count"):
            super().__init__(name=name)
            self.n = self.add_variable(shape=(), initializer="zeros", name="n")
            self.total = self.add_variable(shape=(2,), initializer="zeros", name="total")

        def update_state(self, *args, **kwargs):
            self.n.assign_add(1.0)

        def result(self):
            return self.n

    class Noisy(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.gen = lib.random.SeedGenerator(3)
            self.count = Count()

        def build(self, shape):
            self.w = self.add_variable((shape[-1],), "ones", name="w")
            self.c = self.add_weight(shape=(), initializer="zeros", trainable=False, name="c")

        def call(self, x):
            return x * self.w

    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.BatchNormalization(),
                           Noisy(name="noisy")], name="seq")


def state_lists(model) -> list:
    lists = [described(model.variables), described(model.trainable_variables),
             described(model.non_trainable_variables), len(model.layers[2].metrics_variables)]
    model.layers[1].trainable = False
    lists += [described(model.trainable_variables), described(model.non_trainable_variables)]
    model.trainable = False
    lists += [described(model.trainable_variables), described(model.non_trainable_variables)]
    return lists


def test_variables_lists_are_keras_lists_seed_states_included():
    ours, theirs = state_lists(noisy_model(mr)), state_lists(noisy_model(keras))
    assert ours == theirs
    assert ours[0][-1] == ((2,), "int64")           # the SeedGenerator's state, last
    assert ours[3] == 2                             # the metric's two Variables


def test_variables_are_the_arrays_themselves():
    model = noisy_model(mr)
    assert all(v is w for v, w in zip(model.variables, model.weights, strict=False))
    assert model.trainable_variables == model.trainable_weights
    assert len(model.variables) == len(model.weights) + 1


def paths(lib) -> list:
    lib.backend.clear_session()          # the automatic names (flatten, ...) start again
    dense = lib.layers.Dense(2, name="alone")
    found = [dense.path]
    dense(np.ones((1, 3)))
    found.append(dense.path)
    inputs = lib.Input((3,))
    hidden = lib.layers.Dense(4, name="h")(inputs)
    functional = lib.Model(inputs, lib.layers.Dense(1, name="o")(hidden), name="f")
    found += [functional.path, [layer.path for layer in functional.layers]]

    class Sub(lib.Model):
        def __init__(self):
            super().__init__(name="m")
            self.d1 = lib.layers.Dense(3, name="d1")
            self.d2 = lib.layers.Dense(1, name="d2")

        def call(self, x):
            return self.d2(self.d1(x))

    sub = Sub()
    found += [sub.path, sub.d1.path]
    sub(np.ones((2, 3)))
    found += [sub.path, sub.d1.path, sub.d2.path]
    sequential = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="s1"),
                                 lib.layers.Flatten(), lib.layers.Dropout(0.5),
                                 lib.layers.Activation("relu")], name="s")
    found += [sequential.path, [layer.path for layer in sequential.layers]]
    late = lib.Sequential([lib.layers.Dense(2, name="t1")], name="t")
    found.append(late.layers[0].path)
    late(np.ones((1, 3)))
    found += [late.path, [layer.path for layer in late.layers]]
    return found


def test_layer_paths_are_keras_paths():
    assert paths(mr) == paths(keras)


def test_add_variable_takes_keras_arguments_shape_first():
    for lib in (mr, keras):
        layer = lib.layers.Layer()
        v = layer.add_variable((2, 3), "ones", dtype="float64", trainable=False, name="v")
        assert (tuple(v.shape), str(v.dtype), bool(v.trainable)) == ((2, 3), "float64", False)
        assert layer.non_trainable_weights[0] is v
        with pytest.raises(TypeError):
            layer.add_variable((2,))                 # the initializer is required, as Keras


# -- an optimizer of your own ---------------------------------------------------------------

def step_by_step(lib, dtype, steps=5):
    """The classifier trained one batch at a time by the Keras-style optimizer; the weights
    after each step and the optimizer's variables at the end."""
    from comparisons.mirror import to_keras
    from comparisons.training import classifier

    x, y = instance_api._data(dtype)
    model = classifier()
    if lib is keras:
        model = to_keras(model)
    model.compile(optimizer=instance_api.momentum_optimizer_class(lib)(learning_rate=0.05),
                  loss="categorical_crossentropy")
    history = []
    for step in range(steps):
        part = slice(8 * step, 8 * step + 8)
        model.train_on_batch(x[part], y[part])
        history.append([np.array(w) for w in model.get_weights()])
    return history, [np.array(v) for v in model.optimizer.variables]


def test_a_keras_style_optimizer_steps_as_in_keras_in_float64():
    with precision("float64"):
        ours, our_state = step_by_step(mr, "float64")
        theirs, their_state = step_by_step(keras, "float64")
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for w, v in zip(a, b, strict=True):
            np.testing.assert_allclose(w, v, rtol=0, atol=1e-12, err_msg=f"step {step}")
    assert len(our_state) == len(their_state) == 2 + 2 * 4      # iterations, lr, m and s
    for w, v in zip(our_state, their_state, strict=True):
        np.testing.assert_allclose(w, v, rtol=0, atol=1e-12)


def test_optimizer_variables_made_by_a_subclass_are_named_and_listed_as_keras():
    names = []
    for lib in (mr, keras):
        opt = lib.optimizers.SGD(name="opt")
        kernel = lib.Variable(np.zeros((2, 2)), name="kernel")
        opt.build([kernel])
        made = opt.add_variable_from_reference(kernel, name="m")
        pair = opt.add_optimizer_variables([kernel], ["a", "b"], initializer="ones")
        own = opt.add_variable((3,), name="extra")
        assert opt.variables[-4:] == [made, pair[0][0], pair[1][0], own]
        assert float(np.asarray(pair[1][0]).sum()) == 4.0
        names.append([v.name for v in opt.variables[-4:]] + [own.path])
    assert names[0][1:] == names[1][1:]          # made's name uses the kernel's path
    with pytest.raises(ValueError, match="number of provided names must match"):
        mr.optimizers.SGD().add_optimizer_variables([np.zeros(2)], ["a", "b"], ["ones"] * 3)


def test_assign_methods_change_model_arrays_in_place():
    opt, w = mr.optimizers.SGD(), np.ones(3, "float32")
    opt.assign(w, np.full(3, 2.0))
    opt.assign_add(w, 1.0)
    opt.assign_sub(w, np.array([0.5, 1.0, 1.5]))
    np.testing.assert_array_equal(w, [2.5, 2.0, 1.5])
    assert w.dtype == np.float32
    with pytest.raises(ValueError, match=r"Optimizer.assign: the value has shape \(2,\)"):
        opt.assign(w, np.zeros(2))


def test_set_weights_needs_a_built_optimizer_and_matching_shapes():
    opt = mr.optimizers.Adam()
    with pytest.raises(ValueError, match="has not yet been built"):
        opt.set_weights([np.array(3)])
    w = np.zeros(2, "float32")
    opt.build([w])
    opt.set_weights([np.array(7), np.array(0.5, "float32"), np.ones(2), np.full(2, 2.0)])
    assert int(opt.iterations) == 7 and float(opt.learning_rate) == 0.5
    np.testing.assert_array_equal(opt.variables[3], [2.0, 2.0])
    with pytest.raises(ValueError, match="not compatible with provided weight shape"):
        opt.set_weights([np.array(1), np.array(0.1), np.ones(3)])


@pytest.mark.parametrize("exclude", [{"var_names": ["bias"]}, {"var_list": "kernels"}])
def test_exclude_from_weight_decay_as_keras(exclude):
    from comparisons.mirror import to_keras
    from comparisons.training import classifier

    with precision("float64"):
        x, y = instance_api._data("float64")
        ours = classifier()
        theirs = to_keras(ours)
        for model in (ours, theirs):
            lib = mr if model is ours else keras
            opt = lib.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
            arguments = dict(exclude)
            if arguments.get("var_list") == "kernels":
                arguments["var_list"] = [layer.kernel for layer in model.layers]
            opt.exclude_from_weight_decay(**arguments)
            model.compile(optimizer=opt, loss="categorical_crossentropy")
            model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        for w, v in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(w, v, rtol=0, atol=1e-12)


# -- keras-io's "Customizing what happens in fit()" -----------------------------------------

@pytest.mark.parametrize("kind", ["simple", "lower_level", "sample_weight", "test_step",
                                  "compute_metrics"])
def test_the_fit_customization_guide_trains_as_keras(kind):
    with precision("float64"):
        ours, our_weights = instance_api.run_guide(mr, mr.autodiff.GradientTape, kind,
                                                   "float64")
        theirs, their_weights = instance_api.run_guide(keras, tf.GradientTape, kind,
                                                       "float64")
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)
    for w, v in zip(our_weights, their_weights, strict=True):
        np.testing.assert_allclose(w, v, rtol=0, atol=1e-12)


def test_compute_metrics_and_get_metrics_result_as_keras():
    results = []
    for lib in (mr, keras):
        x, y, _ = instance_api.guide_data("float32", n=8)
        model = instance_api.guide_model(lib, tape_of(lib), "simple", "float32")
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)      # builds the metrics
        model.reset_metrics()
        y_pred = model(x)
        first = model.compute_metrics(x, y, y_pred)
        loss = model.compute_loss(y=y, y_pred=y_pred)
        results.append((sorted(first), float(first["mae"]), float(first["loss"]), float(loss),
                        {k: float(v) for k, v in model.get_metrics_result().items()}))
    assert results[0][0] == results[1][0] == ["loss", "mae"]
    np.testing.assert_allclose(results[0][1:4], results[1][1:4], rtol=1e-6)
    assert results[0][4].keys() == results[1][4].keys()


def test_compute_loss_without_a_loss_is_keras_error():
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.compute_loss(y=np.ones((2, 1)), y_pred=np.ones((2, 1)))


def test_a_step_must_return_a_dict_of_logs():
    class NoLogs(mr.Sequential):
        def train_step(self, data):
            return 0.5

    model = NoLogs([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match=r"NoLogs.train_step\(data\) must return a dict"):
        model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)


def test_predict_step_of_your_own_is_used_by_predict():
    outputs = []
    for lib in (mr, keras):
        class Doubled(lib.Sequential):
            def predict_step(self, data):
                return self(data, training=False) * 2.0

        model = Doubled([lib.Input((3,)), lib.layers.Dense(1, kernel_initializer="ones")])
        outputs.append(model.predict(np.ones((5, 3)), batch_size=4, verbose=0))
        default = lib.Sequential(model.layers).predict_step((np.ones((2, 3)),))
        assert np.allclose(np.asarray(default), 3.0)
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_deprecated_compiled_loss_and_metrics_warn_and_compute_as_keras():
    found = []
    for lib in (mr, keras):
        x, y, _ = instance_api.guide_data("float32", n=8)
        model = instance_api.guide_model(lib, tape_of(lib), "simple", "float32")
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        model.reset_metrics()
        y_pred = model(x)
        with pytest.warns(UserWarning, match=r"`model.compiled_loss\(\)` is deprecated"):
            loss = model.compiled_loss(y, y_pred)
        with pytest.warns(UserWarning, match=r"`model.compiled_metrics\(\)` is deprecated"):
            model.compiled_metrics.update_state(y, y_pred)
        found.append([float(loss)] + [float(v) for v in model.get_metrics_result().values()])
    np.testing.assert_allclose(found[0], found[1], rtol=1e-6)


@pytest.mark.parametrize("arguments", [{}, {"run_eagerly": True}, {"jit_compile": True},
                                       {"jit_compile": False}])
def test_run_eagerly_and_jit_compile_as_compile_sets_them(arguments):
    found = []
    for lib in (mr, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
        before = (model.run_eagerly, model.jit_compile)
        model.compile(optimizer="sgd", loss="mse", **arguments)
        found.append((before, model.run_eagerly, model.jit_compile))
    assert found[0] == found[1]


# -- losses -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["MeanSquaredError", "Huber", "CategoricalCrossentropy",
                                  "KLDivergence", "SparseCategoricalCrossentropy"])
def test_loss_fn_dtype_and_from_config_as_keras(name):
    ours, theirs = getattr(mr.losses, name)(), getattr(keras.losses, name)()
    assert ours.fn.__name__ == theirs.fn.__name__
    assert ours.fn is getattr(mr.losses, theirs.fn.__name__)
    assert ours.dtype == theirs.dtype == "float32"
    config = {**ours.get_config(), "name": "renamed", "reduction": "sum"}
    remade = type(ours).from_config(config)
    assert (type(remade), remade.name, remade.reduction) == (type(ours), "renamed", "sum")


def test_a_loss_without_a_function_has_no_fn_as_keras():
    with pytest.raises(AttributeError, match="'Loss' object has no attribute 'fn'"):
        _ = mr.losses.Loss().fn
    with pytest.raises(AttributeError):
        _ = keras.losses.Loss().fn
    wrapper = mr.losses.LossFunctionWrapper(mr.losses.mean_absolute_error)
    remade = mr.losses.LossFunctionWrapper.from_config(wrapper.get_config())
    assert remade.fn is mr.losses.mean_absolute_error
    with precision("float64"):
        assert mr.losses.MeanSquaredError().dtype == keras.losses.MeanSquaredError().dtype


# -- saving hooks, output specs ---------------------------------------------------------------

def scale_class(lib):
    """A layer of yours that takes over its part of the file, calling the default first."""

    class Scale(lib.layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w

        def save_own_variables(self, store):
            super().save_own_variables(store)
            store["total"] = np.asarray(self.w).sum()

        def load_own_variables(self, store):
            self.loaded_total = float(np.asarray(store["total"]))
            super().load_own_variables({"0": store["0"]})

    return Scale


def test_save_and_load_own_variables_of_your_own_go_through_keras_files(tmp_path):
    for lib in (mr, keras):
        model = lib.Sequential([lib.Input((3,)), scale_class(lib)(name="scale")])
        model.set_weights([np.array([1.0, 2.0, 3.0])])
        model.save(tmp_path / f"{lib.__name__}.keras")
    for lib in (mr, keras):
        for source in (mr, keras):
            loaded = lib.models.load_model(tmp_path / f"{source.__name__}.keras",
                                           custom_objects={"Scale": scale_class(lib)})
            layer = loaded.layers[0]
            assert np.asarray(layer.w).tolist() == [1.0, 2.0, 3.0]
            assert layer.loaded_total == 6.0


def test_the_default_load_own_variables_checks_the_store_as_keras():
    layer = mr.layers.Dense(2)
    layer.build((None, 3))
    store = {}
    layer.save_own_variables(store)
    assert sorted(store) == ["0", "1"] and store["0"].shape == (3, 2)
    with pytest.raises(ValueError, match="expected 2 variables, but received 1"):
        layer.load_own_variables({"0": store["0"]})
    with pytest.raises(ValueError, match=r"variable 1 has shape \(3,\) in the store"):
        layer.load_own_variables({"0": store["0"], "1": np.zeros(3)})
    layer.load_own_variables({"0": np.ones((3, 2)), "1": np.ones(2)})
    assert float(layer.kernel.sum()) == 6.0


def test_compute_output_spec_and_input_dtype_as_keras():
    found = []
    for lib in (mr, keras):
        dense = lib.layers.Dense(4).compute_output_spec(lib.KerasTensor((None, 3)))
        joined = lib.layers.Concatenate().compute_output_spec(
            [lib.KerasTensor((None, 3)), lib.KerasTensor((None, 2))])
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
        spec = model.compute_output_spec(lib.KerasTensor((None, 3)))
        found.append((dense.shape, dense.dtype, joined.shape, spec.shape, model.input_dtype))
    assert found[0] == found[1]


def test_compute_loss_on_a_tape_gives_keras_gradients_with_penalties_and_added_losses():
    """The guide's step with regularizers, an activity penalty and an add_loss: the loss and
    its gradients, taken on each library's tape, in float64."""
    def penalty_class(lib):
        class Penalty(lib.layers.Layer):
            def call(self, x):
                self.add_loss(lib.ops.mean(lib.ops.square(x)) * 0.1)
                return x

        return Penalty

    found = []
    with precision("float64"):
        for lib in (mr, keras):
            Penalty = penalty_class(lib)  # noqa: N806 (a class)
            model = lib.Sequential([
                lib.Input((4,)),
                lib.layers.Dense(5, kernel_regularizer="l2", bias_regularizer="l1",
                                 activity_regularizer="l2", name="a"),
                Penalty(), lib.layers.Dense(3, activation="softmax", name="b")])
            rng = np.random.default_rng(0)
            model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
            model.compile(optimizer="adam", loss="categorical_crossentropy")
            x = rng.normal(size=(8, 4))
            y = np.eye(3)[rng.integers(0, 3, 8)]
            with tape_of(lib)() as tape:
                loss = model.compute_loss(y=y, y_pred=model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            found.append((float(loss), [np.asarray(g) for g in grads]))
    np.testing.assert_allclose(found[0][0], found[1][0], rtol=1e-12)
    for ours, theirs in zip(found[0][1], found[1][1], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


# -- the state tree ---------------------------------------------------------------------------

def flat_tree(tree: dict, prefix: str = "") -> dict:
    found = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            found.update(flat_tree(value, f"{prefix}{key}/"))
        else:
            found[prefix + key] = np.asarray(value)
    return found


def trained_tree_model(lib):
    model = lib.Sequential([lib.Input((3,), name="x"), lib.layers.Dense(4, name="d1"),
                            lib.layers.BatchNormalization(name="bn"),
                            lib.layers.Dense(1, name="d2")], name="seq")
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    model.compile(optimizer=lib.optimizers.Adam(0.01, amsgrad=True, name="adam"), loss="mse")
    model.fit(rng.normal(size=(8, 3)), rng.normal(size=(8, 1)), epochs=2, batch_size=4,
              verbose=0, shuffle=False)
    return model


def test_get_state_tree_has_keras_paths_and_values():
    with precision("float64"):
        ours, theirs = trained_tree_model(mr), trained_tree_model(keras)
        trees = [ours.get_state_tree("numpy_array"), theirs.get_state_tree("numpy_array")]
    for branch in ("trainable_variables", "non_trainable_variables", "optimizer_variables"):
        a, b = flat_tree(trees[0][branch]), flat_tree(trees[1][branch])
        assert list(a) == list(b), branch
        for path in b:
            # two epochs of fit in float64; atol for d1's bias, whose gradient (before a
            # BatchNormalization) is zero up to rounding (1e-18) in both libraries
            np.testing.assert_allclose(a[path], b[path], rtol=1e-10, atol=1e-12, err_msg=path)
    assert "adam/seq_d1_kernel_velocity_hat" in flat_tree(trees[0]["optimizer_variables"])
    with pytest.raises(ValueError, match="Invalid `value_format`"):
        ours.get_state_tree("list")


def test_set_state_tree_assigns_by_path_as_keras():
    with precision("float64"):
        source, target = trained_tree_model(mr), trained_tree_model(mr)
        target.set_weights([w * 0 for w in target.get_weights()])
        target.optimizer.variables[0].assign(0)
        target.set_state_tree(source.get_state_tree())
        for a, b in zip(source.get_weights(), target.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        assert int(target.optimizer.iterations) == int(source.optimizer.iterations) == 4
        with pytest.raises(ValueError, match="Unknown variable name: weights"):
            target.set_state_tree({"weights": {}})


def test_compute_metrics_before_any_fit_builds_the_compiled_metrics_as_keras():
    found = []
    for lib in (mr, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1, kernel_initializer="ones")])
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        x, y = np.ones((4, 3)), np.zeros((4, 1))
        logs = model.compute_metrics(x, y, model(x))
        found.append(({k: float(v) for k, v in logs.items()}, model.metrics_names))
    assert found[0] == found[1] == ({"loss": 0.0, "mae": 3.0}, ["loss", "compile_metrics"])
