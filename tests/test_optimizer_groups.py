"""Small variables updated together (minired.optimizers.variable_groups): the same numbers,
bit for bit, as one update per variable, through copies, saving and partial steps."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minired as mr
from minired import optimizers as mo
from minired.optimizers import variable_groups

#: Every built-in rule that says it is elementwise, with the options that add state.
ELEMENTWISE = [
    (mo.SGD, {}),
    (mo.SGD, {"momentum": 0.9}),
    (mo.SGD, {"momentum": 0.9, "nesterov": True}),
    (mo.RMSprop, {}),
    (mo.RMSprop, {"momentum": 0.5, "centered": True}),
    (mo.Adagrad, {}),
    (mo.Adadelta, {}),
    (mo.Adam, {}),
    (mo.Adam, {"amsgrad": True}),
    (mo.AdamW, {}),
    (mo.Adamax, {}),
    (mo.Nadam, {}),
    (mo.Ftrl, {"l1_regularization_strength": 0.01, "l2_shrinkage_regularization_strength": 0.1}),
    (mo.Lion, {}),
    (mo.Adam, {"clipnorm": 0.5}),
    (mo.SGD, {"global_clipnorm": 0.5, "momentum": 0.9}),
    (mo.Adam, {"weight_decay": 0.1, "clipvalue": 0.1}),
]


def problem(dtypes=("float32",) * 6, steps=4, seed=0):
    """A big kernel, small kernels and biases (as an MLP's), and ``steps`` gradients."""
    rng = np.random.default_rng(seed)
    shapes = [(300, 70), (70,), (70, 20), (20,), (20, 3), (3,)]
    w0 = [rng.standard_normal(s).astype(d) for s, d in zip(shapes, dtypes, strict=True)]
    grads = [[rng.standard_normal(s).astype(d) for s, d in zip(shapes, dtypes, strict=True)]
             for _ in range(steps)]
    return w0, grads


def train(opt, w0, grads):
    variables = [w.copy() for w in w0]
    for g in grads:
        opt.apply(g, variables)
    return variables


@pytest.mark.parametrize("dtypes", [("float32",) * 6, ("float64",) * 6,
                                    ("float32", "float64") * 3])
@pytest.mark.parametrize("cls, kwargs", ELEMENTWISE)
def test_grouped_update_equals_the_update_of_each_variable(cls, kwargs, dtypes, monkeypatch):
    w0, grads = problem(dtypes)
    grouped = cls(learning_rate=0.01, **kwargs)
    ours = train(grouped, w0, grads)
    assert grouped._groups, "the small variables should form a group"
    assert all(g.weights.dtype == w0[g.indices[0]].dtype for g in grouped._groups)
    monkeypatch.setattr(variable_groups, "GROUP_BYTES", 0)
    alone = cls(learning_rate=0.01, **kwargs)
    expected = train(alone, w0, grads)
    assert not alone._groups
    for a, b in zip(ours, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(grouped.variables, alone.variables, strict=True):   # the state too
        np.testing.assert_array_equal(a, b)


def test_grouping_keeps_the_big_variables_alone():
    w0, grads = problem()
    opt = mo.Adam()
    train(opt, w0, grads)
    assert [group.indices for group in opt._groups] == [[1, 2, 3, 4, 5]]   # not the kernel
    # each member's slot is a view of the group's slot: what is saved is what is updated
    m = opt._momentums
    assert len(m) == 7 and all(np.shares_memory(m[i], m[6]) for i in range(1, 6))
    assert not np.shares_memory(m[0], m[6])


@pytest.mark.parametrize("make_copy", [copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))])
def test_a_copy_forms_its_groups_again_and_goes_on_equally(make_copy):
    w0, grads = problem(steps=6)
    opt = mo.Adam(0.01, amsgrad=True)
    variables = [w.copy() for w in w0]
    for g in grads[:3]:
        opt.apply(g, variables)
    twin = make_copy(opt)
    twin_variables = twin._trainable_variables
    assert [len(s) for s in twin._slot_lists()] == [7, 7, 7]
    assert all(np.shares_memory(twin._momentums[i], twin._momentums[6]) for i in range(1, 6))
    for g in grads[3:]:
        opt.apply(g, variables)
        twin.apply(g)
    for a, b in zip(variables, twin_variables, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(opt.variables, twin.variables, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_step_on_some_variables_updates_the_group_state_of_those(monkeypatch):
    """``apply_gradients`` on a subset goes variable by variable, through the views."""
    w0, grads = problem()

    def run():
        opt = mo.Adam(0.01)
        variables = train(opt, w0, grads[:2])
        opt.apply_gradients([(grads[2][1], variables[1]), (grads[2][3], variables[3])])
        opt.apply(grads[3], variables)
        return opt, variables

    opt, variables = run()
    assert opt._groups
    monkeypatch.setattr(variable_groups, "GROUP_BYTES", 0)
    reference, ref_vars = run()
    for a, b in zip(variables, ref_vars, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(opt.variables, reference.variables, strict=True):
        np.testing.assert_array_equal(a, b)


def test_loaded_state_reaches_the_group():
    w0, grads = problem()
    trained = mo.Adam(0.01)
    variables = train(trained, w0, grads[:2])
    store = {}
    trained.save_own_variables(store)
    fresh = mo.Adam(0.01)
    fresh_vars = [v.copy() for v in variables]
    values = fresh.check_own_variables([store[str(i)] for i in range(len(store))], fresh_vars)
    fresh.load_own_variables(values, fresh_vars)
    for g in grads[2:]:
        trained.apply(g, variables)
        fresh.apply(g, fresh_vars)
    for a, b in zip(variables, fresh_vars, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_rule_of_your_own_is_not_grouped():
    class SignSGD(mo.SGD):
        def update_step(self, gradient, variable, learning_rate):
            variable -= learning_rate * np.sign(gradient) / np.sqrt(variable.size)  # a shape

    class Elementwise(mo.SGD):
        _elementwise = True

        def update_step(self, gradient, variable, learning_rate):
            variable -= gradient * variable.dtype.type(learning_rate)

    w0, grads = problem()
    sign = SignSGD(0.1)
    train(sign, w0, grads)
    assert not sign._elementwise and not sign._groups
    said = Elementwise(0.1)
    train(said, w0, grads)
    assert said._groups
    assert mo.AdamW._elementwise and not mo.Lamb._elementwise and not mo.Adafactor._elementwise


def test_fit_trains_the_same_with_and_without_groups(monkeypatch):
    """A whole fit, in float32: every weight and the History are equal."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((96, 12)).astype("float32")
    y = rng.integers(0, 3, 96)

    def fit():
        mr.utils.set_random_seed(3)
        model = mr.Sequential([mr.Input((12,)), mr.layers.Dense(40, activation="relu"),
                               mr.layers.Dense(8, activation="relu"),
                               mr.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=mr.optimizers.Adam(0.01),
                      loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        return model, history.history

    model, history = fit()
    assert model.optimizer._groups
    monkeypatch.setattr(variable_groups, "GROUP_BYTES", 0)
    reference, reference_history = fit()
    assert not reference.optimizer._groups
    assert history == reference_history
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls, kwargs", ELEMENTWISE)
def test_blocks_kept_for_the_same_arrays_give_the_numbers_of_new_blocks(cls, kwargs):
    """``Optimizer._cache_blocks``: the blocks of a large variable are cut once and kept
    while the same gradient array comes back (as in ``fit``), and cut again for a new one.
    Either way the weights are those of an optimizer given a new gradient array at every
    step, bit for bit. (Clipping makes new gradient arrays at every step: new blocks.)"""
    clipped = any(k in kwargs for k in ("clipnorm", "global_clipnorm", "clipvalue"))
    rng = np.random.default_rng(3)
    shapes = [(400, 300), (300,)]        # 120,000 numbers: more than one cache block
    w0 = [rng.standard_normal(s).astype("float32") for s in shapes]
    steps = [[rng.standard_normal(s).astype("float32") for s in shapes] for _ in range(4)]
    kept, fresh = cls(learning_rate=0.01, **kwargs), cls(learning_rate=0.01, **kwargs)
    ours, theirs = [w.copy() for w in w0], [w.copy() for w in w0]
    buffers = [np.empty(s, "float32") for s in shapes]     # one array per variable, reused
    for step, grads in enumerate(steps):
        for buffer, g in zip(buffers, grads, strict=True):
            buffer[...] = g
        given = buffers if step < 3 else [g.copy() for g in grads]   # last step: new arrays
        if step == 2:
            blocks = kept._kept_blocks[0][1]
        kept.apply(given, ours)
        fresh.apply([g.copy() for g in grads], theirs)
        if step == 2:
            assert (kept._kept_blocks[0][1] is blocks) is not clipped, "same arrays: kept"
        if step == 3:
            assert kept._kept_blocks[0][1] is not blocks, "new arrays: new blocks"
            assert len(blocks) > 1
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
