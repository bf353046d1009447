"""LoRA on Dense, EinsumDense and Embedding (minired.layers.lora) beside Keras: forward values,
weight lists, configs, saved stores and ``.keras`` files both ways, training, errors, and
float64 finite-difference gradients.

Keras keeps ``A`` and ``B`` in float32 whatever floatx is, so under float64 the product
``s A B`` and the gradients of ``A`` and ``B`` are float32 numbers in both libraries. The
forward pass agrees to 1e-12; training differs by float32 rounding (TensorFlow's float32
products for ``∂L/∂A`` and ``∂L/∂B`` sum in another order than NumPy's for some shapes),
which the training test bounds accordingly.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import numerical_gradient, relative_error
from minired.layers import lora


@pytest.fixture(scope="module")
def env():
    """``comparisons.keras_env`` (``keras``, ``precision``), TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def _layers(lib, rank=2, alpha=None):
    """The same three LoRA layers built in ``lib`` (minired or keras), LoRA enabled."""
    made = [
        (lib.layers.Dense(3, activation="tanh"), (None, 5)),
        (lib.layers.EinsumDense("abc,cde->abde", output_shape=(4, 2, 3), bias_axes="de"),
         (None, 4, 5)),
        (lib.layers.Embedding(7, 3), (None, 4)),
    ]
    for layer, shape in made:
        layer.build(shape)
        layer.enable_lora(rank, lora_alpha=alpha)
    return [layer for layer, _ in made]


def _inputs(rng, dtype):
    return [rng.normal(size=(6, 5)).astype(dtype), rng.normal(size=(2, 4, 5)).astype(dtype),
            rng.integers(0, 7, size=(3, 4))]


def _copy_weights(ours, theirs, rng):
    """Random values (B too: not the zeros it starts at) into both layers."""
    values = [rng.normal(size=tuple(w.shape)).astype(w.dtype) for w in theirs.weights]
    theirs.set_weights(values)
    ours.set_weights(values)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_and_merged_weight_match_keras(env, dtype):
    rng = np.random.default_rng(0)
    with env.precision(dtype):
        ours, theirs = _layers(mr, alpha=3), _layers(env.keras, alpha=3)
        tolerance = 1e-12 if dtype == "float64" else 1e-5
        for o, t, x in zip(ours, theirs, _inputs(rng, dtype), strict=True):
            _copy_weights(o, t, rng)
            expected = np.asarray(t(x))
            got = o(x)
            assert got.dtype == expected.dtype == np.dtype(dtype)
            assert relative_error(got, expected) < tolerance, type(o).__name__
            name = "embeddings" if isinstance(o, mr.layers.Embedding) else "kernel"
            merged = np.asarray(getattr(t, name))          # Keras' property: W + s A B
            assert relative_error(getattr(o, name), merged) < tolerance


def test_weight_lists_dtypes_and_order_match_keras(env):
    with env.precision("float64"):
        for o, t in zip(_layers(mr), _layers(env.keras), strict=True):
            def described(weights):
                return [(tuple(w.shape), str(w.dtype)) for w in weights]
            assert described(o.weights) == described(t.weights)
            named = [(i, w.name) for i, w in enumerate(o.weights) if hasattr(w, "name")]
            assert named == [(i, t.weights[i].name) for i, _ in named] and len(named) >= 3
            assert described(o.trainable_weights) == described(t.trainable_weights)
            assert described(o.non_trainable_weights) == described(t.non_trainable_weights)
            assert o.count_params() == t.count_params()


def test_configs_match_keras_and_rebuild_lora(env):
    with env.precision("float32"):
        pairs = [(mr.layers.Dense(3, lora_rank=2, lora_alpha=4),
                  env.keras.layers.Dense(3, lora_rank=2, lora_alpha=4), (None, 5)),
                 (mr.layers.EinsumDense("ab,bc->ac", 3, bias_axes="c", lora_rank=2,
                                        lora_alpha=4),
                  env.keras.layers.EinsumDense("ab,bc->ac", 3, bias_axes="c", lora_rank=2,
                                               lora_alpha=4), (None, 5)),
                 (mr.layers.Embedding(7, 3, lora_rank=2, lora_alpha=4),
                  env.keras.layers.Embedding(7, 3, lora_rank=2, lora_alpha=4), (None, 4))]
        for o, t, shape in pairs:
            assert o.get_config() == {**t.get_config(), "name": o.name}   # before the build
            o.build(shape)
            t.build(shape)
            # Keras' build calls enable_lora(lora_rank): Dense and Embedding go back to
            # lora_alpha = rank, EinsumDense passes lora_alpha on
            assert o.lora_enabled and (o.lora_rank, o.lora_alpha) == (t.lora_rank, t.lora_alpha)
            config = o.get_config()
            assert config == {**t.get_config(), "name": o.name}
            again = type(o).from_config(config)
            again.build(shape)
            assert again.lora_enabled and again.get_config() == {**config, "name": again.name}
        plain = mr.layers.Dense(3)
        plain.build((None, 5))
        assert "lora_rank" not in plain.get_config()
        plain.enable_lora(2, lora_alpha=8)
        assert (plain.get_config()["lora_rank"], plain.get_config()["lora_alpha"]) == (2, 8)


def test_saved_store_is_the_merged_weight_as_keras_writes_it(env):
    rng = np.random.default_rng(1)
    with env.precision("float64"):
        for o, t in zip(_layers(mr, alpha=3), _layers(env.keras, alpha=3), strict=True):
            _copy_weights(o, t, rng)
            ours, theirs = {}, {}
            o.save_own_variables(ours)
            t.save_own_variables(theirs)
            assert list(ours) == list(theirs)
            for key in ours:
                assert relative_error(ours[key], np.asarray(theirs[key])) < 1e-12
            name = o.weights[0].name                   # "kernel" or "embeddings"
            before = np.array(getattr(o, name))        # W + s A B
            o.load_own_variables(ours)                 # W <- W + s A B, then A = B = 0
            assert not np.any(o.weights[-1]) and not np.any(o.weights[-2])
            np.testing.assert_array_equal(getattr(o, name), before)


def _model(lib):
    model = lib.Sequential([lib.Input((4,), dtype="int32"), lib.layers.Embedding(6, 5),
                            lib.layers.Dense(4, activation="tanh"), lib.layers.Flatten(),
                            lib.layers.Dense(2)])
    for layer in model.layers:
        if hasattr(layer, "enable_lora"):
            layer.enable_lora(2, lora_alpha=3)
    return model


def _data():
    rng = np.random.default_rng(2)
    return rng.integers(0, 6, size=(16, 4)), rng.normal(size=(16, 2))


@pytest.mark.parametrize(("dtype", "tolerance"), [
    # Keras' A and B are float32 under float64 too, and TensorFlow's float32 products for
    # their gradients round differently from NumPy's for some shapes (1 float32 ulp, with
    # cancellation more): a bound at float32's level, not float64's (measured: 9e-10)
    ("float64", 1e-6),
    ("float32", 1e-5),
])
def test_fit_matches_keras(env, dtype, tolerance):
    x, y = _data()
    with env.precision(dtype):
        ours, theirs = _model(mr), _model(env.keras)
        ours.set_weights([np.asarray(w) for w in theirs.weights])
        for model, lib in ((ours, mr), (theirs, env.keras)):
            model.compile(optimizer=lib.optimizers.Adam(0.01), loss="mse")
        h_ours = ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        h_theirs = theirs.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        assert relative_error(h_ours.history["loss"], h_theirs.history["loss"]) < tolerance
        for mine, keras_weight in zip(ours.weights, theirs.weights, strict=True):
            assert mine.dtype == np.dtype(keras_weight.dtype)
            assert relative_error(mine, np.asarray(keras_weight)) < tolerance, keras_weight.name
        frozen = [w for w in ours.weights if getattr(w, "name", "") in ("kernel", "embeddings")]
        assert len(frozen) == 3
        assert all(id(w) not in map(id, ours.trainable_weights) for w in frozen)
        assert relative_error(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)) < (
            tolerance)


def test_keras_files_load_both_ways(env, tmp_path):
    x, y = _data()
    with env.precision("float32"):
        ours, theirs = _model(mr), _model(env.keras)
        for model, lib in ((ours, mr), (theirs, env.keras)):
            model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
            model.fit(x, y, batch_size=8, epochs=1, verbose=0)     # B no longer zero
        ours.save(tmp_path / "ours.keras")
        theirs.save(tmp_path / "theirs.keras")
        in_keras = env.keras.saving.load_model(tmp_path / "ours.keras")
        in_ours = mr.saving.load_model(tmp_path / "theirs.keras")
        for loaded, original in ((in_keras, ours), (in_ours, theirs)):
            assert all(layer.lora_enabled for layer in loaded.layers
                       if hasattr(layer, "enable_lora"))
            np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                                       np.asarray(original.predict(x, verbose=0)),
                                       rtol=1e-5, atol=1e-6)
            lora_weights = [w for w in loaded.weights
                            if getattr(w, "name", "").startswith("lora_")]
            assert len(lora_weights) == 6 and not any(np.any(np.asarray(w))
                                                      for w in lora_weights)
        mr.saving.load_model(tmp_path / "ours.keras")          # and minired reads its own


def test_regularizer_applies_to_a_and_b_only_as_keras(env):
    with env.precision("float64"):
        rng = np.random.default_rng(3)
        o = mr.layers.Dense(3, kernel_regularizer=mr.regularizers.L2(0.1))
        t = env.keras.layers.Dense(3, kernel_regularizer=env.keras.regularizers.L2(0.1))
        for layer in (o, t):
            layer.build((None, 4))
            layer.enable_lora(2)
        _copy_weights(o, t, rng)
        ours = sum(float(p) for p in o.losses)
        theirs = sum(float(p) for p in t.losses)
        assert len(o.losses) == len(t.losses) == 2
        assert abs(ours - theirs) <= 1e-12 * abs(theirs)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: mr.layers.Dense(3), "isn't yet built"),
    (lambda: mr.layers.Embedding(4, 3), "isn't yet built"),
    (lambda: _built(mr.layers.Dense(3, kernel_constraint="non_neg")),
     "incompatible with kernel constraints"),
    (lambda: _built(mr.layers.Embedding(4, 3, embeddings_constraint="non_neg")),
     "incompatible with embedding constraints"),
    (lambda: _built(mr.layers.Dense(3, lora_rank=2)), "already enabled"),
    (lambda: _built(mr.layers.EinsumDense("ab,bc->ac", 3, lora_rank=2)), "already enabled"),
])
def test_keras_errors(make, match):
    layer = make()
    with pytest.raises(ValueError, match=match):
        layer.enable_lora(2)


def _built(layer):
    layer.build((None, 5) if not isinstance(layer, mr.layers.Embedding) else (None,))
    return layer


def test_bad_rank_and_kernel_before_build_are_clear_errors():
    layer = _built(mr.layers.Dense(3))
    for rank in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="`rank` must be a positive int"):
            layer.enable_lora(rank)
    assert not layer.lora_enabled
    unbuilt = mr.layers.Dense(3, lora_rank=2)
    assert not hasattr(unbuilt, "kernel")
    with pytest.raises(NotImplementedError, match="LoRA"):
        _built(mr.layers.ReversibleEmbedding(4, 3)).enable_lora(2)


# -- float64 gradients, by central differences --------------------------------------------

def _float64_factors(layer, rng, a_name, b_name):
    """Swap the float32 ``A`` and ``B`` for float64 ones (random, B not zero): central
    differences need float64 everywhere. The layer's code runs unchanged."""
    old = [getattr(layer, a_name), getattr(layer, b_name)]
    layer._own_variables[:] = [v for v in layer._own_variables
                               if all(v is not o for o in old)]
    for name, variable in zip((a_name, b_name), old, strict=True):
        setattr(layer, name, mr.Variable(rng.normal(size=variable.shape), dtype="float64",
                                         name=variable.name))


@pytest.mark.parametrize("which", ["Dense", "EinsumDense", "Embedding"])
def test_gradients_match_central_differences(float64, which):
    rng = np.random.default_rng(4)
    layer = _layers(mr, alpha=3)[["Dense", "EinsumDense", "Embedding"].index(which)]
    names = (("lora_embeddings_a", "lora_embeddings_b") if which == "Embedding"
             else ("lora_kernel_a", "lora_kernel_b"))
    _float64_factors(layer, rng, *names)
    for w in layer.weights:
        if w is not getattr(layer, names[0]) and w is not getattr(layer, names[1]):
            w[...] = rng.normal(size=w.shape)
    x = _inputs(rng, "float64")[["Dense", "EinsumDense", "Embedding"].index(which)]
    upstream = rng.normal(size=layer.forward(x).shape)
    layer.zero_gradients()
    layer.forward(x)
    grad_x = layer.backward(upstream)
    grads = [np.array(g) for g in layer.gradients]

    def f() -> float:
        return float(np.sum(layer.forward(x) * upstream))

    assert not np.any(grads[0])                                  # W is frozen
    for w, g in zip(layer.weights[1:], grads[1:], strict=True):  # bias, A, B
        assert relative_error(g, numerical_gradient(f, w)) < 1e-7, w.name
    if which != "Embedding":
        assert relative_error(grad_x, numerical_gradient(f, x)) < 1e-7


def test_factor_gradients_match_central_differences():
    """The pure functions, on an EinsumDense-shaped kernel (leading axes summed for ∂L/∂B)."""
    rng = np.random.default_rng(5)
    w, a, b = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 3))
    upstream = rng.normal(size=w.shape)
    grad_a, grad_b = lora.factor_gradients(upstream, a, b, 1.5)

    def f() -> float:
        return float(np.sum(lora.merge(w, a, b, 1.5) * upstream))

    assert relative_error(grad_a, numerical_gradient(f, a)) < 1e-8
    assert relative_error(grad_b, numerical_gradient(f, b)) < 1e-8


def test_without_lora_nothing_changes():
    layer = _built(mr.layers.Dense(3))
    assert not layer.lora_enabled and "kernel" in vars(layer)     # the array itself
    assert [w.shape for w in layer.trainable_weights] == [(5, 3), (3,)]
