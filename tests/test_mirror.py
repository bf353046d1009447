"""to_keras / from_keras: a model crosses to Keras and back unchanged."""

import numpy as np
import pytest

pytest.importorskip("keras")

from comparisons.keras_env import keras, mr  # noqa: E402
from comparisons.mirror import from_keras, to_keras  # noqa: E402


def _model():
    mr.utils.set_random_seed(3)
    model = mr.Sequential([
        mr.Input((5,)),
        mr.layers.Dense(7, activation="relu", kernel_regularizer=mr.regularizers.L2(0.02),
                        bias_regularizer=mr.regularizers.L1(0.01),
                        kernel_initializer=mr.initializers.HeNormal(seed=1)),
        mr.layers.Dropout(0.25, seed=4),
        mr.layers.Dense(4, use_bias=False),
        mr.layers.Activation("softmax"),
    ])
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01, amsgrad=True, clipnorm=1.0),
                  loss=mr.losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["accuracy"])
    return model


def test_to_keras_copies_structure_weights_and_compile():
    model = _model()
    keras_model = to_keras(model)
    assert [type(layer).__name__ for layer in keras_model.layers] == [
        "Dense", "Dropout", "Dense", "Activation"]
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    dense = keras_model.layers[0]
    assert dense.activation.__name__ == "relu"
    assert float(dense.kernel_regularizer.l2) == pytest.approx(0.02)
    assert float(dense.bias_regularizer.l1) == pytest.approx(0.01)
    assert keras_model.layers[1].rate == 0.25
    optimizer = keras_model.optimizer
    assert type(optimizer).__name__ == "Adam"
    assert optimizer.amsgrad is True and optimizer.clipnorm == 1.0
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    assert keras_model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    x = np.random.default_rng(0).standard_normal((6, 5)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-7)


def test_round_trip_keeps_everything():
    model = _model()
    back = from_keras(to_keras(model))
    assert [type(layer).__name__ for layer in back.layers] == [
        type(layer).__name__ for layer in model.layers]
    for ours, theirs in zip(model.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert back.layers[0].kernel_regularizer.get_config() == pytest.approx(
        model.layers[0].kernel_regularizer.get_config())
    assert type(back.optimizer).__name__ == "Adam"
    assert back.optimizer.get_config()["amsgrad"] is True
    assert back.optimizer.get_config()["clipnorm"] == 1.0
    assert back.loss.label_smoothing == pytest.approx(0.1)
    assert back.layers[1].rate == 0.25 and back.layers[1].seed == 4


def test_from_keras_of_a_keras_built_model():
    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                                    keras.layers.Dense(2, activation="sigmoid")])
    keras_model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                        loss="binary_crossentropy")
    model = from_keras(keras_model)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-7)
    config = model.optimizer.get_config()
    assert config["momentum"] == pytest.approx(0.9) and config["nesterov"] is True
    assert isinstance(model.loss, mr.losses.BinaryCrossentropy)


def test_from_keras_names_what_it_cannot_map():
    def cube(x):       # a function of the user's: minired now has every Keras activation
        return x * x * x

    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=cube)])
    with pytest.raises(ValueError, match="activation 'cube'"):
        from_keras(keras_model)
    for name in ("gelu", "celu"):
        keras_model = keras.Sequential([keras.Input((3,)),
                                        keras.layers.Dense(4, activation=name)])
        assert from_keras(keras_model).layers[0].activation.__name__ == name
    class Echo(keras.layers.Layer):      # a layer minired does not have (a user's)
        def call(self, x):
            return x

    keras_model = keras.Sequential([keras.Input((4,)), Echo()])
    with pytest.raises(ValueError, match="Echo"):
        from_keras(keras_model)
    keras_model = keras.Sequential([keras.Input((3,)),
                                    keras.layers.Dense(4, lora_rank=2)])
    with pytest.raises(ValueError, match="lora_rank"):
        from_keras(keras_model)


def test_to_keras_needs_a_built_minired_model():
    with pytest.raises(ValueError, match="build"):
        to_keras(mr.Sequential([mr.layers.Dense(2)]))
    with pytest.raises(TypeError, match="Sequential"):
        to_keras("model")


# -- functional models -----------------------------------------------------------------------

def _functional_model():
    """Every kind of node: two dict inputs, a shared Dense, a nested model, Concatenate on
    axis 1 of 3-D tensors, Add, and two dict outputs with their own losses and metrics."""
    mr.utils.set_random_seed(5)
    inner_inputs = mr.Input((6,), name="inner_inputs")
    inner = mr.Model(inner_inputs, mr.layers.Dense(4, activation="tanh", name="inner_dense")(
        inner_inputs), name="inner")
    a = mr.Input((2, 3), name="a")
    b = mr.Input((2, 3), name="b")
    shared = mr.layers.Dense(3, activation="relu", name="shared",
                             kernel_regularizer=mr.regularizers.L2(0.01))
    joined = mr.layers.Concatenate(axis=1, name="joined")([shared(a), shared(b)])   # (4, 3)
    flat = mr.layers.Flatten(name="flat")(joined)
    hidden = mr.layers.Dense(6, name="hidden")(flat)
    features = mr.layers.add([inner(hidden), mr.layers.Dense(4, name="skip")(hidden)],
                             name="features")
    y = mr.layers.Dense(3, activation="softmax", name="y_head")(features)
    z = mr.layers.Dense(1, name="z_head")(mr.layers.Dropout(0.2, seed=1, name="drop")(features))
    model = mr.Model({"a": a, "b": b}, {"y": y, "z": z}, name="everything")
    model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss={"y": "categorical_crossentropy", "z": "mse"},
                  loss_weights={"y": 1.0, "z": 0.25}, metrics={"y": ["accuracy"]})
    return model


def _inputs(n=7, seed=0):
    rng = np.random.default_rng(seed)
    return {"a": rng.standard_normal((n, 2, 3)).astype("float32"),
            "b": rng.standard_normal((n, 2, 3)).astype("float32")}


def _assert_same_predictions(ours, theirs, x):
    ours, theirs = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert type(ours) is type(theirs) and sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-7)


def test_to_keras_copies_a_functional_graph():
    model = _functional_model()
    keras_model = to_keras(model)
    assert keras_model.name == "everything"
    assert [layer.name for layer in keras_model.layers] == [layer.name for layer in model.layers]
    assert sorted(keras_model.input) == ["a", "b"] and sorted(keras_model.output) == ["y", "z"]
    shared = keras_model.get_layer("shared")
    assert len(shared._inbound_nodes) == 2                 # one layer, called twice
    assert isinstance(keras_model.get_layer("inner"), keras.Model)
    assert keras_model.get_layer("joined").axis == 1
    assert float(shared.kernel_regularizer.l2) == pytest.approx(0.01)
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert set(keras_model.loss) == {"y", "z"}
    assert type(keras_model.loss["z"]).__name__ == "MeanSquaredError"
    assert keras_model._compile_loss._user_loss_weights == {"y": 1.0, "z": 0.25}
    assert keras_model._compile_metrics._user_metrics == {"y": ["accuracy"], "z": []}
    _assert_same_predictions(model, keras_model, _inputs())


def test_functional_round_trip_keeps_graph_weights_and_compile():
    model = _functional_model()
    back = from_keras(to_keras(model))
    assert type(back).__name__ == "Functional" and back.name == "everything"
    assert [layer.name for layer in back.layers] == [layer.name for layer in model.layers]
    assert [type(layer).__name__ for layer in back.layers] == [
        type(layer).__name__ for layer in model.layers]
    assert back.input_names == model.input_names and back.output_keys == ["y", "z"]
    shared = back.get_layer("shared")
    assert sum(node in back._nodes for node in shared._inbound_nodes) == 2
    assert isinstance(back.get_layer("inner"), mr.Model)
    for ours, theirs in zip(model.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert [(o.key, type(o.loss).__name__, o.weight) for o in back._output_losses] == [
        ("y", "CategoricalCrossentropy", 1.0), ("z", "MeanSquaredError", 0.25)]
    assert back._metric_identifiers == [["accuracy"], []]
    x = _inputs()
    _assert_same_predictions(model, back, x)
    y = {"y": np.eye(3, dtype="float32")[np.arange(7) % 3],
         "z": np.linspace(-1, 1, 7, dtype="float32").reshape(-1, 1)}
    ours, theirs = model.loss_and_gradients(x, y), back.loss_and_gradients(x, y)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-6)
    for g, h in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(g, h, rtol=1e-6, atol=1e-8)


def test_to_keras_compiles_list_outputs_per_output():
    mr.utils.set_random_seed(0)
    inputs = mr.Input((4,), name="x")
    trunk = mr.layers.Dense(5, activation="tanh", name="trunk")(inputs)
    model = mr.Model(inputs, [mr.layers.Dense(3, activation="softmax", name="label")(trunk),
                              mr.layers.Dense(2, name="value")(trunk),
                              mr.layers.Dense(1, name="unused")(trunk)])
    model.compile(optimizer="adam", loss=["categorical_crossentropy", "mse", None],
                  loss_weights=[2.0, 0.5, 1.0], metrics=[["accuracy"], [], []])
    keras_model = to_keras(model)
    assert keras_model.output_names == ["label", "value", "unused"]
    assert [type(loss).__name__ if loss else None for loss in keras_model.loss] == [
        "CategoricalCrossentropy", "MeanSquaredError", None]
    assert keras_model._compile_loss._user_loss_weights == [2.0, 0.5, 1.0]
    assert keras_model._compile_metrics._user_metrics == [["accuracy"], [], []]
    back = from_keras(keras_model)
    assert [(o.index, o.weight) for o in back._output_losses] == [(0, 2.0), (1, 0.5)]


def test_from_keras_of_a_keras_built_functional_model():
    encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")],
                               name="encoder")
    left, right = keras.Input((4,), name="left"), keras.Input((4,), name="right")
    shared = keras.layers.Dense(4, activation="sigmoid", name="shared")
    merged = keras.layers.Concatenate(name="merged")([encoder(shared(left)),
                                                      encoder(shared(right))])
    outputs = keras.layers.Dense(2, activation="softmax")(
        keras.layers.Subtract()([merged, keras.layers.Dense(6)(left)]))
    keras_model = keras.Model([left, right], outputs)
    keras_model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="categorical_crossentropy",
                        metrics=["accuracy"])
    model = from_keras(keras_model)
    assert model.input_names == ["left", "right"]
    assert isinstance(model.get_layer("encoder"), mr.Sequential)
    assert sum(node in model._nodes for node in model.get_layer("shared")._inbound_nodes) == 2
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    rng = np.random.default_rng(2)
    x = [rng.standard_normal((5, 4)).astype("float32") for _ in range(2)]
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-7)
    assert isinstance(model.optimizer, mr.optimizers.RMSprop)
    assert model._metric_identifiers == [["accuracy"]]
    again = to_keras(model)                  # and back to Keras: a nested Sequential again
    assert isinstance(again.get_layer("encoder"), keras.Sequential)
    np.testing.assert_allclose(again.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)


def test_from_keras_of_a_multi_output_model_compiled_without_metrics():
    inputs = keras.Input((3,), name="x")
    keras_model = keras.Model(inputs, [keras.layers.Dense(2, name="p")(inputs),
                                       keras.layers.Dense(1, name="q")(inputs)])
    keras_model.compile(optimizer="sgd", loss={"p": "mse", "q": "mse"},
                        loss_weights={"p": 0.5, "q": 2.0})
    model = from_keras(keras_model)
    assert model.output_keys == ["p", "q"] and model._metric_identifiers == [[], []]
    assert [o.weight for o in model._output_losses] == [0.5, 2.0]


def test_a_layer_twice_in_a_sequential_stays_one_layer_both_ways():
    mr.utils.set_random_seed(0)
    shared = mr.layers.Dense(3, activation="tanh", name="twice")
    model = mr.Sequential([mr.Input((3,)), shared, mr.layers.Dense(3, name="between"), shared])
    keras_model = to_keras(model)
    assert [layer.name for layer in keras_model.layers] == ["twice", "between", "twice"]
    assert keras_model.layers[0] is keras_model.layers[2]
    back = from_keras(keras_model)
    assert back.layers[0] is back.layers[2] and len(back.get_weights()) == 4
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)


def test_functional_translations_name_what_they_cannot_map():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dot(axes=1)([keras.layers.Dense(2)(inputs),
                                        keras.layers.Dense(2)(inputs)])
    with pytest.raises(ValueError, match="Dot"):
        from_keras(keras.Model(inputs, outputs))
    inputs = keras.Input((3,))
    dropped = keras.layers.Dropout(0.5, name="always_on")(inputs, training=True)
    with pytest.raises(ValueError, match="always_on.*training"):
        from_keras(keras.Model(inputs, keras.layers.Dense(2)(dropped)))

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(TypeError, match="subclassed"):
        from_keras(Subclassed())
    inputs = mr.Input((3,))
    hidden = mr.layers.Dense(4, name="not_an_input")(inputs)
    with pytest.raises(ValueError, match="not_an_input"):
        to_keras(mr.Model(hidden, mr.layers.Dense(2)(hidden)))

    class Doubling(mr.layers.Layer):
        def forward(self, inputs, training=False):
            return 2 * inputs

    inputs = mr.Input((3,))
    with pytest.raises(ValueError, match="no Keras equivalent.*Doubling"):
        to_keras(mr.Model(inputs, Doubling(name="doubling")(inputs)))


# -- vision layers -----------------------------------------------------------------------------

def _vision_model():
    """Every vision layer, with non-default settings and non-trivial BatchNormalization
    statistics."""
    mr.utils.set_random_seed(6)
    model = mr.Sequential([
        mr.Input((10, 9, 2)),
        mr.layers.Conv2D(4, (3, 2), strides=2, padding="same", activation="relu",
                         kernel_regularizer=mr.regularizers.L2(0.01),
                         bias_initializer="random_normal", name="conv"),
        mr.layers.BatchNormalization(momentum=0.9, epsilon=1e-2, name="bn",
                                     moving_mean_initializer="random_normal"),
        mr.layers.ZeroPadding2D(((1, 0), (2, 1)), name="pad"),
        mr.layers.MaxPooling2D(2, strides=1, padding="same", name="max"),
        mr.layers.UpSampling2D((2, 1), name="up"),
        mr.layers.SpatialDropout2D(0.3, seed=2, name="spatial"),
        mr.layers.AveragePooling2D((3, 2), strides=2, name="average"),
        mr.layers.Conv2D(3, 2, dilation_rate=2, use_bias=False, name="dilated"),
        mr.layers.GlobalMaxPooling2D(keepdims=True, name="global_max"),
        mr.layers.Reshape((3, 1), name="reshape"),
        mr.layers.Conv1D(5, 2, padding="causal", name="causal"),
        mr.layers.MaxPooling1D(2, padding="same", name="max_1d"),
        mr.layers.AveragePooling1D(1, name="average_1d"),
        mr.layers.GlobalAveragePooling1D(name="global_average_1d"),
        mr.layers.Reshape((5, 1), name="reshape_2"),
        mr.layers.GlobalMaxPooling1D(name="global_max_1d"),
        mr.layers.Reshape((1, 1, 1), name="reshape_3"),
        mr.layers.GlobalAveragePooling2D(name="global_average"),
        mr.layers.Flatten(name="flatten"),
        mr.layers.Dense(2, activation="softmax", name="output"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


VISION_LAYERS = ["Conv2D", "BatchNormalization", "ZeroPadding2D", "MaxPooling2D",
                 "UpSampling2D", "SpatialDropout2D", "AveragePooling2D", "Conv2D",
                 "GlobalMaxPooling2D", "Reshape", "Conv1D", "MaxPooling1D", "AveragePooling1D",
                 "GlobalAveragePooling1D", "Reshape", "GlobalMaxPooling1D", "Reshape",
                 "GlobalAveragePooling2D", "Flatten", "Dense"]


def test_vision_layers_cross_to_keras_and_back():
    model = _vision_model()
    x = np.random.default_rng(2).standard_normal((3, 10, 9, 2)).astype("float32")
    model(x, training=True)                   # moving statistics away from 0 and 1
    keras_model = to_keras(model)
    assert [type(layer).__name__ for layer in keras_model.layers] == VISION_LAYERS
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert [w.path.split("/")[-1] for w in keras_model.get_layer("bn").weights] == [
        "gamma", "beta", "moving_mean", "moving_variance"]
    assert len(keras_model.get_layer("bn").non_trainable_weights) == 2
    for layer in model.layers:
        assert keras_model.get_layer(layer.name).get_config() == layer.get_config()
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    back = from_keras(keras_model)
    assert [type(layer).__name__ for layer in back.layers] == VISION_LAYERS
    for layer in back.layers:
        assert layer.get_config() == model.get_layer(layer.name).get_config()
    for ours, theirs in zip(model.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)


def test_from_keras_of_a_keras_built_convnet():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((12, 12, 1))
    hidden = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    hidden = keras.layers.BatchNormalization()(hidden)
    hidden = keras.layers.Activation("relu")(hidden)
    hidden = keras.layers.MaxPooling2D()(hidden)
    hidden = keras.layers.Conv2D(6, 3, activation="relu")(hidden)
    outputs = keras.layers.Dense(3, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(hidden))
    keras_model = keras.Model(inputs, outputs)
    keras_model.compile(optimizer="adam", loss="categorical_crossentropy")
    model = from_keras(keras_model)
    assert isinstance(model.get_layer(keras_model.layers[2].name),
                      mr.layers.BatchNormalization)
    x = np.random.default_rng(1).standard_normal((4, 12, 12, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_from_keras_refuses_vision_options_minired_lacks():
    keras_model = keras.Sequential([keras.Input((5, 5, 1)),
                                    keras.layers.Conv2D(2, 2, lora_rank=2)])
    with pytest.raises(ValueError, match="lora_rank"):
        from_keras(keras_model)
    keras_model = keras.Sequential([keras.Input((5, 5, 1)),
                                    keras.layers.Conv2D(2, 2, groups=1),
                                    keras.layers.BatchNormalization(renorm=True)])
    with pytest.raises(ValueError, match="renorm"):
        from_keras(keras_model)


def test_embeddings_and_grouped_query_attention_cross_to_keras_and_back():
    tokens = mr.Input((5,), dtype="int32")
    embedded = mr.layers.Embedding(11, 8, name="embed")(tokens)
    attended = mr.layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2,
                                             name="gqa")(embedded, embedded)
    logits = mr.layers.ReversibleEmbedding(11, 8, name="tied")(attended, reverse=True)
    model = mr.Model(tokens, [attended, logits])
    x = np.random.default_rng(3).integers(0, 11, (2, 5)).astype("int32")
    keras_model = to_keras(model)
    assert [type(layer).__name__ for layer in keras_model.layers[1:]] == [
        "Embedding", "GroupedQueryAttention", "ReversibleEmbedding"]  # Keras' class name
    for layer in model.layers[1:]:
        assert keras_model.get_layer(layer.name).get_config() == layer.get_config()
    for ours, theirs in zip(model(x), keras_model(x), strict=True):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, atol=1e-6)
    back = from_keras(keras_model)
    for ours, theirs in zip(model.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(model(x), back(x), strict=True):
        np.testing.assert_array_equal(ours, theirs)
