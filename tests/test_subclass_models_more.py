"""Two things a ``Model`` subclass may do in Keras 3, side by side with Keras.

1. ``call`` returns several outputs (a tuple, a list or a dict): ``compile`` spreads the
   losses, loss weights and metrics over them, and the logs name them as Keras does
   (``mse_loss`` and unprefixed metrics for a tuple or a list, ``<key>_loss`` and
   ``<key>_<metric>`` for a dict).
2. The "functional init": ``__init__`` builds a graph and calls
   ``super().__init__(inputs, outputs)``; the instance is then a functional model (Keras puts
   ``Functional`` among the class's bases) with the subclass's attributes and methods.

Each test builds the same model in both libraries, copies the weights across and compares
what ``fit`` / ``evaluate`` / ``predict`` report, in float64 (to 1e-12) and float32.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_model

pytest.importorskip("keras")
from comparisons.keras_env import keras, precision  # noqa: E402

TOLERANCE = 1e-12
RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 4))
Y_PROBS = np.eye(3)[RNG.integers(0, 3, 20)]
Y_VALUE = RNG.normal(size=(20, 1))
WEIGHTS = RNG.uniform(0.5, 2.0, size=20)


# -- 1. several outputs -----------------------------------------------------------------------
def two_heads(lib, kind: str):
    """x → Dense(tanh) → a softmax head and a linear head, returned as ``kind``."""

    class TwoHeads(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = lib.layers.Dense(6, activation="tanh")
            self.probs = lib.layers.Dense(3, activation="softmax")
            self.value = lib.layers.Dense(1)

        def call(self, inputs):
            hidden = self.hidden(inputs)
            if kind == "dict":        # written value first: the keys are not sorted
                return {"value": self.value(hidden), "probs": self.probs(hidden)}
            if kind == "list":
                return [self.probs(hidden), self.value(hidden)]
            return self.probs(hidden), self.value(hidden)

    return TwoHeads()


def twins(kind: str):
    """The two models, called once (so built) and with the same weights."""
    ours, theirs = two_heads(mr, kind), two_heads(keras, kind)
    ours(X[:1])
    theirs(X[:1])
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def targets(kind: str, rows=slice(None)):
    if kind == "dict":
        return {"probs": Y_PROBS[rows], "value": Y_VALUE[rows]}
    return (Y_PROBS[rows], Y_VALUE[rows])


def compile_arguments(kind: str) -> dict:
    if kind == "dict":
        return {"loss": {"probs": "categorical_crossentropy", "value": "mse"},
                "loss_weights": {"probs": 1.0, "value": 0.5},
                "metrics": {"probs": ["accuracy"], "value": ["mae"]}}
    return {"loss": ["categorical_crossentropy", "mse"], "loss_weights": [1.0, 0.5],
            "metrics": [["accuracy"], ["mae"]]}


def assert_same_logs(ours: dict, theirs: dict, rtol: float = TOLERANCE) -> None:
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=rtol, atol=0, err_msg=key)


def assert_same_weights(ours, theirs, rtol: float = 1e-11, atol: float = 1e-14) -> None:
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


EXPECTED_KEYS = {
    "tuple": ["accuracy", "categorical_crossentropy_loss", "loss", "mae", "mse_loss"],
    "dict": ["loss", "probs_accuracy", "probs_loss", "value_loss", "value_mae"],
}
EXPECTED_KEYS["list"] = EXPECTED_KEYS["tuple"]


@pytest.mark.parametrize("kind", ["tuple", "list", "dict"])
def test_fit_evaluate_predict_match_keras(kind):
    """3 epochs in batches of 8, 8, 4, with validation: History, weights, evaluate (list and
    dict), metrics_names and predict (the structure ``call`` returns) as Keras'."""
    with precision("float64"):
        ours, theirs = twins(kind)
        for model, lib in ((ours, mr), (theirs, keras)):
            model.compile(optimizer=lib.optimizers.SGD(0.1), **compile_arguments(kind))
        kwargs = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0,
                  "validation_data": (X[:6], targets(kind, slice(0, 6)))}
        history_ours = ours.fit(X, targets(kind), **kwargs).history
        history_theirs = theirs.fit(X, targets(kind), **kwargs).history
        assert sorted(history_ours) == sorted(EXPECTED_KEYS[kind] + [
            f"val_{key}" for key in EXPECTED_KEYS[kind]])
        assert_same_logs(history_ours, history_theirs)
        assert_same_weights(ours, theirs)
        evaluated = [model.evaluate(X, targets(kind), verbose=0) for model in (ours, theirs)]
        np.testing.assert_allclose(evaluated[0], evaluated[1], rtol=TOLERANCE)  # same order
        assert_same_logs(ours.evaluate(X, targets(kind), verbose=0, return_dict=True),
                         theirs.evaluate(X, targets(kind), verbose=0, return_dict=True))
        assert ours.metrics_names == theirs.metrics_names
        predicted = [model.predict(X[:5], verbose=0) for model in (ours, theirs)]
    assert type(predicted[0]) is type(predicted[1])
    if kind == "dict":
        assert list(predicted[0]) == list(predicted[1]) == ["value", "probs"]
        predicted = [list(p.values()) for p in predicted]
    for a, b in zip(*predicted, strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=TOLERANCE, atol=1e-15)


def test_float32_training_is_close_to_keras():
    """float32: TensorFlow and NumPy round the same formulas differently (order of the sums,
    fused kernels), so the numbers agree to float32's precision, not bit for bit."""
    with precision("float32"):
        ours, theirs = twins("tuple")
        for model, lib in ((ours, mr), (theirs, keras)):
            model.compile(optimizer=lib.optimizers.Adam(0.01), **compile_arguments("tuple"))
        kwargs = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}
        history_ours = ours.fit(X, targets("tuple"), **kwargs).history
        history_theirs = theirs.fit(X, targets("tuple"), **kwargs).history
        assert ours.get_weights()[0].dtype == np.float32
        assert_same_logs(history_ours, history_theirs, rtol=1e-5)
        assert_same_weights(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [
    {"loss": ["mse", "mse"], "metrics": [["mae"], ["mae"]]},     # names taken twice
    {"loss": "mse"},                                             # one loss for each output
    {"loss": ["mse", None]},                                     # the second has no loss
    {"loss": ("mse", "mae"), "metrics": ["mae", "mse"]},
    {"loss": "objects"},                                         # a Loss and a function
    {"loss": ["mse", "mae"], "metrics": [["mae", "mse"], ["accuracy"]],
     "weighted_metrics": [["mae"], []]},                        # weighted_mae
])
def test_names_of_a_tuple_of_outputs_follow_the_losses(compiled):
    """A tuple's outputs have no names: Keras logs ``<loss name>_loss`` (the string given, or
    the loss's own name), a second ``mse_loss`` overwriting the first, and the metrics
    unprefixed (``mae``, ``mae_1``). ``evaluate``'s list follows Keras' order, a name its
    metric objects share (``mae`` twice) giving the same value twice."""
    with precision("float64"):
        ours, theirs = twins("tuple")
        for model, lib in ((ours, mr), (theirs, keras)):
            arguments = dict(compiled)
            if arguments["loss"] == "objects":
                arguments["loss"] = [lib.losses.MeanSquaredError(),
                                     lib.losses.mean_absolute_error]
            model.compile(optimizer=lib.optimizers.SGD(0.1), **arguments)
        kwargs = {"epochs": 2, "batch_size": 8, "shuffle": False, "verbose": 0,
                  "sample_weight": WEIGHTS}
        history_ours = ours.fit(X, targets("tuple"), **kwargs).history
        history_theirs = theirs.fit(X, targets("tuple"), **kwargs).history
        assert_same_logs(history_ours, history_theirs)
        assert_same_weights(ours, theirs)
        assert ours.metrics_names == theirs.metrics_names
        evaluated = [m.evaluate(X, targets("tuple"), verbose=0) for m in (ours, theirs)]
    np.testing.assert_allclose(evaluated[0], evaluated[1], rtol=TOLERANCE)


def test_the_single_batch_methods_and_a_list_of_targets():
    """train_on_batch, test_on_batch and predict_on_batch take and give the tuple's
    structure; the targets may be a list as well as a tuple."""
    with precision("float64"):
        ours, theirs = twins("tuple")
        for model, lib in ((ours, mr), (theirs, keras)):
            model.compile(optimizer=lib.optimizers.SGD(0.1), **compile_arguments("tuple"))
        y = list(targets("tuple"))
        trained = [m.train_on_batch(X, y, return_dict=True) for m in (ours, theirs)]
        tested = [m.test_on_batch(X, y, return_dict=True) for m in (ours, theirs)]
        predicted = [m.predict_on_batch(X[:3]) for m in (ours, theirs)]
    assert_same_logs(*trained)
    assert_same_logs(*tested)
    assert isinstance(predicted[0], tuple) and len(predicted[0]) == 2
    for a, b in zip(*predicted, strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=TOLERANCE, atol=1e-15)


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_a_list_or_dict_of_one_output(kind):
    """``[ŷ]`` or ``{"k": ŷ}``: one output (the logs say ``loss``, ``accuracy``), predict
    gives the structure back."""
    def one(lib):
        class One(lib.Model):
            def __init__(self):
                super().__init__()
                self.dense = lib.layers.Dense(3, activation="softmax")

            def call(self, inputs):
                return [self.dense(inputs)] if kind == "list" else {"k": self.dense(inputs)}
        return One()

    y = [Y_PROBS] if kind == "list" else {"k": Y_PROBS}
    with precision("float64"):
        ours, theirs = one(mr), one(keras)
        ours(X[:1])
        theirs(X[:1])
        ours.set_weights(theirs.get_weights())
        results = []
        for model, lib in ((ours, mr), (theirs, keras)):
            model.compile(optimizer=lib.optimizers.SGD(0.1), loss="categorical_crossentropy",
                          metrics=["accuracy"])
            history = model.fit(X, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
            results.append((history.history, model.predict(X[:2], verbose=0)))
    assert_same_logs(results[0][0], results[1][0])
    assert sorted(results[0][0]) == ["accuracy", "loss"]
    assert type(results[0][1]) is type(results[1][1])
    assert_same_weights(ours, theirs)


def test_gradients_of_a_dict_of_outputs_by_finite_differences():
    """The loss of both heads (cross-entropy read from the softmax's logits, weighted mse)
    and its gradient for every weight, checked numerically in float64."""
    with precision("float64"):
        model = two_heads(mr, "dict")
        model.compile(optimizer="sgd", **compile_arguments("dict"))
        results = check_model(model, X[:6], targets("dict", slice(0, 6)),
                              sample_weight=WEIGHTS[:6])
    assert len(results) == 6
    assert max(r.relative_error for r in results) < 1e-6, results


def test_what_keras_refuses_is_refused():
    """A loss dict for a tuple of outputs (they have no names); a loss list of the wrong
    length (found at the first fit, when the outputs are known); a nested structure."""
    model = two_heads(mr, "tuple")
    model.compile(optimizer="sgd", loss={"probs": "mse", "value": "mse"})
    with pytest.raises(ValueError, match="no names"):
        model.fit(X, targets("tuple"), verbose=0)
    model = two_heads(mr, "tuple")
    model.compile(optimizer="sgd", loss=["mse", "mse", "mse"])
    with pytest.raises(ValueError, match="one entry per output"):
        model.fit(X, targets("tuple"), verbose=0)

    class Nested(mr.Model):
        def __init__(self):
            super().__init__()
            self.dense = mr.layers.Dense(2)

        def call(self, inputs):
            out = self.dense(inputs)
            return out, (out, out)

    model = Nested()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="no nesting"):
        model.fit(X, (Y_VALUE, (Y_VALUE, Y_VALUE)), verbose=0)


# -- 2. the functional init -------------------------------------------------------------------
def functional_subclass(lib):
    """A subclass whose __init__ builds its graph, with an attribute, a method and its own
    get_config (what Keras needs to make it again)."""

    class Regressor(lib.Model):
        def __init__(self, units=6, **kwargs):
            inputs = lib.Input((4,), name="x")
            hidden = lib.layers.Dense(units, activation="tanh", name="hidden")(inputs)
            outputs = lib.layers.Dense(1, name="out")(hidden)
            super().__init__(inputs=inputs, outputs=outputs, **kwargs)
            self.units = units

        def doubled(self, x):
            return 2 * self.predict(x, verbose=0)

        def get_config(self):
            return {"units": self.units, "name": self.name}

    return Regressor


def plain_functional_subclass(lib):
    """No get_config of its own, ``super().__init__(inputs, outputs)`` positionally."""

    class Plain(lib.Model):
        def __init__(self, **kwargs):
            inputs = lib.Input((4,), name="x")
            outputs = lib.layers.Dense(1, name="out")(inputs)
            super().__init__(inputs, outputs, **kwargs)
            self.extra = 3

    return Plain


def test_the_instance_is_a_functional_model_with_its_own_attributes():
    Regressor = functional_subclass(mr)
    model = Regressor(units=5, name="mine")
    assert isinstance(model, mr.Model) and isinstance(model, mr.models.Functional)
    assert type(model) is Regressor and type(model).__mro__[1] is mr.models.Functional
    assert [layer.name for layer in model.layers] == ["x", "hidden", "out"]
    assert model.units == 5 and model.name == "mine"
    np.testing.assert_allclose(model.doubled(X[:3]), 2 * model.predict(X[:3], verbose=0))
    second = Regressor()                   # the class is made functional once
    assert type(second).__mro__[1] is mr.models.Functional and second.units == 6
    lines = []
    model.summary(print_fn=lines.append)
    reference = []
    mr.Model(model.inputs, model.outputs, name="mine").summary(print_fn=reference.append)
    assert lines == reference              # a functional model's table
    assert "hidden (Dense)" in lines[0] and "Total params: 31" in lines[0]


def test_inputs_without_outputs_are_refused():
    class Half(mr.Model):
        def __init__(self):
            inputs = mr.Input((4,))
            super().__init__(inputs)

    with pytest.raises(TypeError, match="both `inputs` and `outputs`"):
        Half()

    class WithCall(mr.Model):          # Keras runs this call(); minired says it does not
        def __init__(self):
            inputs = mr.Input((4,))
            super().__init__(inputs, mr.layers.Dense(1)(inputs))

        def call(self, inputs):
            return 2 * super().call(inputs)

    with pytest.raises(TypeError, match="also writes call"):
        WithCall()


def test_fit_matches_keras():
    with precision("float64"):
        ours, theirs = functional_subclass(mr)(), functional_subclass(keras)()
        ours.set_weights(theirs.get_weights())
        for model, lib in ((ours, mr), (theirs, keras)):
            model.compile(optimizer=lib.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
        kwargs = {"epochs": 4, "batch_size": 8, "shuffle": False, "verbose": 0,
                  "validation_split": 0.25}
        history_ours = ours.fit(X, Y_VALUE, **kwargs).history
        history_theirs = theirs.fit(X, Y_VALUE, **kwargs).history
    assert_same_logs(history_ours, history_theirs)
    assert_same_weights(ours, theirs)


def test_get_config_as_keras():
    """Its own get_config; without, a layer's base config (its __init__ is not a functional
    model's, so the graph is not its config), as Keras gives."""
    ours = functional_subclass(mr)(units=5, name="mine")
    theirs = functional_subclass(keras)(units=5, name="mine")
    assert ours.get_config() == theirs.get_config() == {"units": 5, "name": "mine"}
    plain_ours, plain_theirs = plain_functional_subclass(mr)(), plain_functional_subclass(keras)()
    config = plain_ours.get_config()
    assert sorted(config) == sorted(plain_theirs.get_config()) == ["dtype", "name", "trainable"]
    again = type(plain_ours).from_config(config)
    assert type(again) is type(plain_ours) and again.extra == 3


def test_a_functional_like_subclass_keeps_the_graph_config():
    """``class Named(Model): pass`` made with ``Named(inputs, outputs)``: the config is the
    graph's (as Keras' ``functional_like_constructor``), and from_config rebuilds it."""
    class Named(mr.Model):
        pass

    inputs = mr.Input((4,), name="x")
    model = Named(inputs, mr.layers.Dense(2, name="out")(inputs), name="named")
    config = model.get_config()
    assert config["input_layers"] == ["x", 0, 0] and config["output_layers"] == ["out", 0, 0]
    again = Named.from_config(config)
    assert type(again) is Named and [layer.name for layer in again.layers] == ["x", "out"]


@pytest.mark.parametrize("writer", ["minired", "keras"])
@pytest.mark.parametrize("reader", ["minired", "keras"])
def test_keras_archives_round_trip(tmp_path, writer, reader):
    """A compiled model saved by one library and loaded, with ``custom_objects``, by either:
    the class, its attributes, its weights and its predictions come back."""
    libs = {"minired": mr, "keras": keras}
    classes = {name: functional_subclass(lib) for name, lib in libs.items()}
    with precision("float64"):
        model = classes[writer](units=5, name="mine")
        model.compile(optimizer=libs[writer].optimizers.SGD(0.1), loss="mse")
        model.fit(X, Y_VALUE, epochs=1, batch_size=8, verbose=0, shuffle=False)
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = libs[reader].saving.load_model(path, custom_objects={
            "Regressor": classes[reader]})
        assert type(loaded) is classes[reader]
        assert loaded.units == 5 and loaded.name == "mine"
        np.testing.assert_allclose(np.asarray(loaded.predict(X, verbose=0)),
                                   np.asarray(model.predict(X, verbose=0)), rtol=1e-12)
        np.testing.assert_allclose(loaded.doubled(X[:2]), 2 * loaded.predict(X[:2], verbose=0))


def with_spare_layers(lib):
    """A functional subclass holding layers outside its graph: Keras saves them under their
    attributes' names (``spare/vars``, ``pair/dense_1/vars``) after the graph's layers."""

    class WithSpare(lib.Model):
        def __init__(self, **kwargs):
            inputs = lib.Input((4,), name="x")
            dense = lib.layers.Dense(3, name="d")
            super().__init__(inputs, dense(inputs), **kwargs)
            self.dense = dense                          # in the graph: saved as a layer
            self.spare = lib.layers.Dense(2)
            self.spare.build((None, 3))
            self.pair = [lib.layers.Dense(1), lib.layers.Dense(1)]
            for layer in self.pair:
                layer.build((None, 2))

    return WithSpare


@pytest.mark.parametrize("writer", ["minired", "keras"])
def test_layers_held_by_attributes_are_saved_as_keras_saves_them(tmp_path, writer):
    libs = {"minired": mr, "keras": keras}
    classes = {name: with_spare_layers(lib) for name, lib in libs.items()}
    reader = "keras" if writer == "minired" else "minired"
    with precision("float64"):
        model = classes[writer]()
        model.save(tmp_path / "spare.keras")
        loaded = libs[reader].saving.load_model(tmp_path / "spare.keras", custom_objects={
            "WithSpare": classes[reader]})
        for layer, twin in [(model.dense, loaded.dense), (model.spare, loaded.spare),
                            *zip(model.pair, loaded.pair, strict=True)]:
            for a, b in zip(layer.get_weights(), twin.get_weights(), strict=True):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_clone_model_gives_a_functional_model_as_keras():
    """Keras clones a subclass with its own __init__ through its graph, into a Functional
    (the class cannot be called with the graph's inputs and outputs)."""
    for make in (functional_subclass, plain_functional_subclass):
        ours, theirs = make(mr)(), make(keras)()
        clone = mr.models.clone_model(ours)
        assert type(clone) is mr.models.Functional
        assert type(keras.models.clone_model(theirs)).__name__ == "Functional"
        assert [layer.name for layer in clone.layers] == [layer.name for layer in ours.layers]
        assert clone.get_layer("out").kernel is not ours.get_layer("out").kernel
