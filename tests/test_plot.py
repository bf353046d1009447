"""mr.plot: each figure holds the numbers it claims to show, and renders to PNG."""

from __future__ import annotations

import collections
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import minired as mr
from minired import plot
from minired.gradcheck import GradCheckResult
from minired.utils import naming

matplotlib.use("Agg")       # no window, whatever the machine has
ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _fresh_start(monkeypatch):
    """Each test starts with no open figure and fresh layer names ("dense", "dense_1"...)."""
    monkeypatch.setattr(naming, "_NAME_COUNTS", collections.defaultdict(int))
    plt.close("all")
    yield
    plt.close("all")


def render(figure) -> bytes:
    """Draw ``figure`` to PNG bytes (this is where a broken artist fails) and return them."""
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    data = buffer.getvalue()
    assert data.startswith(PNG_SIGNATURE)
    return data


def classifier(inputs: int = 4, hidden: int = 8, classes: int = 3) -> mr.Sequential:
    model = mr.Sequential([mr.Input((inputs,)), mr.layers.Dense(hidden, activation="relu"),
                           mr.layers.Dense(classes, activation="softmax")])
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def blobs(n: int = 60, features: int = 4, classes: int = 3, seed: int = 0):
    """Separable classes: class c sits around the point (c, c, ...)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    x = labels[:, None] + 0.3 * rng.standard_normal((n, features))
    return x.astype("float32"), labels


def vertical_lines(ax) -> list[float]:
    """The x of every vertical line (axvline) in ``ax``."""
    return [line.get_xdata()[0] for line in ax.lines
            if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2]


def bar_total(ax) -> float:
    """The sum of the bar heights of the histogram in ``ax``."""
    return sum(patch.get_height() for patch in ax.containers[0])


def texts(ax) -> list[str]:
    return [text.get_text() for text in ax.texts]


# -- optional dependency --------------------------------------------------------------------

def test_importing_minired_and_its_plot_package_does_not_import_matplotlib():
    code = ("import sys, minired, minired.plot; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_without_matplotlib_a_function_says_how_to_install_it(monkeypatch):
    model = classifier()
    monkeypatch.setitem(sys.modules, "matplotlib", None)           # import fails
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "minired\[plot\]"'):
        plot.model(model)


# -- history --------------------------------------------------------------------------------

def test_history_draws_training_and_validation_of_each_quantity_per_epoch():
    mr.utils.set_random_seed(0)
    x, labels = blobs()
    model = classifier()
    history = model.fit(x, mr.utils.to_categorical(labels), epochs=7, validation_split=0.25,
                        verbose=0)
    fig = plot.history(history)
    render(fig)

    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, name in zip(fig.axes, ["loss", "accuracy"], strict=True):
        train, validation = ax.lines
        np.testing.assert_array_equal(train.get_xdata(), np.arange(1, 8))      # from 1
        np.testing.assert_allclose(train.get_ydata(), history.history[name])
        np.testing.assert_allclose(validation.get_ydata(), history.history[f"val_{name}"])
        assert ax.get_xlabel() == "epoch"
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 7]
        assert ticks and all(float(t).is_integer() for t in ticks)
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["training", "validation"]


def test_history_marks_where_early_stopping_stopped_and_its_restored_best_epoch():
    mr.utils.set_random_seed(0)
    x, labels = blobs()
    model = classifier()
    # min_delta=10: nothing after the first epoch counts as better, so it stops at epoch 2.
    stop = mr.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10,
                                      restore_best_weights=True)
    history = model.fit(x, mr.utils.to_categorical(labels), epochs=20, validation_split=0.25,
                        callbacks=[stop], verbose=0)
    assert (stop.stopped_epoch, stop.best_epoch) == (1, 0)
    fig = plot.history(history, early_stopping=stop)
    render(fig)

    for ax in fig.axes:
        assert sorted(vertical_lines(ax)) == [1, 2]
    labels_shown = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "stopped: epoch 2" in labels_shown
    assert "best: epoch 1 (weights restored)" in labels_shown


def test_history_marks_only_the_best_epoch_when_training_ran_to_the_end():
    history = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.6, 0.7]}
    stop = mr.callbacks.EarlyStopping(patience=5)
    stop.best, stop.best_epoch, stop.stopped_epoch = 0.6, 1, 0     # as fit leaves it
    fig = plot.history(history, early_stopping=stop)
    assert vertical_lines(fig.axes[0]) == [2]
    assert "best: epoch 2" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_history_accepts_a_dict_and_places_validation_by_validation_freq():
    history = {"loss": [6.0, 5, 4, 3, 2, 1], "val_loss": [5.5, 3.5, 1.5]}
    fig = plot.history(history, validation_freq=2)
    render(fig)
    train, validation = fig.axes[0].lines
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(validation.get_xdata(), [2, 4, 6])
    with pytest.raises(ValueError, match="validation_freq"):
        plot.history(history)                          # 3 values for 6 epochs: which ones?


def test_history_counts_epochs_from_initial_epoch():
    mr.utils.set_random_seed(0)
    x, labels = blobs()
    model = classifier()
    history = model.fit(x, mr.utils.to_categorical(labels), epochs=6, initial_epoch=3,
                        verbose=0)
    fig = plot.history(history)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [4, 5, 6])


def test_history_draws_into_given_axes():
    fig, axes = plt.subplots(1, 2)
    history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.75], "val_loss": [1.2, 0.9]}
    assert plot.history(history, axes=axes) is fig
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    assert axes[0].get_legend() is not None
    render(fig)
    with pytest.raises(ValueError, match="2 Axes"):
        plot.history(history, axes=[axes[0]])


@pytest.mark.parametrize("history, error", [
    ({}, ValueError), ({"loss": []}, ValueError), ({"val_loss": [1.0]}, ValueError),
    ([1.0, 0.5], TypeError), ({"loss": ["a", "b"]}, TypeError),
])
def test_history_rejects_what_is_not_a_history(history, error):
    with pytest.raises(error, match="history"):
        plot.history(history)


def test_history_rejects_an_early_stopping_that_is_not_the_callback():
    with pytest.raises(TypeError, match="EarlyStopping"):
        plot.history({"loss": [1.0]}, early_stopping=3)


# -- decision_boundary ----------------------------------------------------------------------

def pixel_centres(image, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The (x0, x1) of every cell of an imshow drawn with origin="lower"."""
    left, right, bottom, top = image.get_extent()
    step0, step1 = (right - left) / resolution, (top - bottom) / resolution
    x0 = left + step0 * (np.arange(resolution) + 0.5)
    x1 = bottom + step1 * (np.arange(resolution) + 0.5)
    return np.meshgrid(x0, x1)


def test_decision_boundary_colours_the_plane_by_predicted_class_one_sigmoid_output():
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[1.0], [0.0]]), np.array([0.0])])   # class 1 where x0 > 0
    x = np.array([[-1.0, 0.0], [-0.5, 1.0], [0.5, -1.0], [2.0, 0.5]])
    y = np.array([0, 1, 1, 1])
    fig = plot.decision_boundary(model, x, y, resolution=41)
    render(fig)

    ax = fig.axes[0]
    region = np.asarray(ax.images[0].get_array())
    grid0, _ = pixel_centres(ax.images[0], 41)
    np.testing.assert_array_equal(region, (grid0 > 0).astype(int))
    assert ax.get_title() == "Decision boundary (accuracy 75.0%)"      # (-0.5, 1) is wrong
    points = {c.get_label(): c.get_offsets() for c in ax.collections if c.get_label() in "01"}
    np.testing.assert_array_equal(points["0"], x[y == 0])
    np.testing.assert_array_equal(points["1"], x[y == 1])


def test_decision_boundary_takes_the_argmax_of_several_outputs():
    mr.utils.set_random_seed(0)
    x, labels = blobs(features=2)
    model = classifier(inputs=2)
    model.fit(x, mr.utils.to_categorical(labels), epochs=20, verbose=0)
    fig = plot.decision_boundary(model, x, mr.utils.to_categorical(labels), resolution=30)
    render(fig)

    image = fig.axes[0].images[0]
    grid0, grid1 = pixel_centres(image, 30)
    outputs = model.predict(np.column_stack([grid0.ravel(), grid1.ravel()]), verbose=0)
    np.testing.assert_array_equal(np.asarray(image.get_array()),
                                  outputs.argmax(axis=1).reshape(30, 30))
    assert len(np.unique(image.get_array())) == 3            # it learned the three classes


@pytest.mark.parametrize("y", [np.array([0, 1]), np.array([[0.0], [1.0]]),
                               np.array([[1, 0], [0, 1]]), np.array([False, True])])
def test_decision_boundary_reads_integer_binary_and_one_hot_targets(y):
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1, activation="sigmoid")])
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    fig = plot.decision_boundary(model, x, y, resolution=10, class_names=["cat", "dog"])
    labelled = {c.get_label(): c.get_offsets() for c in fig.axes[0].collections}
    np.testing.assert_array_equal(labelled["cat"], x[:1])
    np.testing.assert_array_equal(labelled["dog"], x[1:])


def test_decision_boundary_threshold_splits_logits_at_zero():
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])      # outputs logits
    model.set_weights([np.array([[0.0], [1.0]]), np.array([0.0])])   # logit = x1
    x, y = np.array([[0.0, -1.0], [0.0, 1.0]]), np.array([0, 1])
    fig = plot.decision_boundary(model, x, y, resolution=20, threshold=0.0)
    image = fig.axes[0].images[0]
    _, grid1 = pixel_centres(image, 20)
    np.testing.assert_array_equal(np.asarray(image.get_array()), (grid1 > 0).astype(int))


@pytest.mark.parametrize("x", [np.zeros((5, 3)), np.zeros(5), np.zeros((5, 2, 1))])
def test_decision_boundary_needs_two_features(x):
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    with pytest.raises(ValueError, match="2 input features"):
        plot.decision_boundary(model, x, np.zeros(5))


@pytest.mark.parametrize("y, message", [
    (np.array([0, 0.5, 1]), "classes"), (np.array([0, -1, 1]), "classes"),
    (np.array([0, 1]), "one class per sample"),
])
def test_decision_boundary_rejects_targets_that_are_not_classes(y, message):
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match=message):
        plot.decision_boundary(model, np.zeros((3, 2)), y)


# -- confusion_matrix -----------------------------------------------------------------------

def test_confusion_matrix_counts_true_classes_on_rows_and_predictions_on_columns():
    from sklearn.metrics import confusion_matrix

    mr.utils.set_random_seed(0)
    x, labels = blobs(n=90)
    model = classifier()
    model.fit(x, mr.utils.to_categorical(labels), epochs=3, verbose=0)   # a few mistakes left
    fig = plot.confusion_matrix(model, x, labels, class_names=["a", "b", "c"])
    render(fig)

    predicted = model.predict(x, verbose=0).argmax(axis=1)
    expected = confusion_matrix(labels, predicted, labels=[0, 1, 2])
    ax = fig.axes[0]
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), expected)
    assert texts(ax) == [str(n) for n in expected.ravel()]      # row by row
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("true class", "predicted class")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert f"{np.mean(predicted == labels):.1%}" in ax.get_title()


def test_confusion_matrix_of_a_one_output_model_thresholds_at_one_half():
    model = mr.Sequential([mr.Input((1,)), mr.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[1.0]]), np.array([0.0])])          # class 1 where x > 0
    x = np.array([[-2.0], [-1.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 1, 1, 1, 0])
    fig = plot.confusion_matrix(model, x, y)
    np.testing.assert_array_equal(np.asarray(fig.axes[0].images[0].get_array()),
                                  [[1, 1], [1, 2]])


def test_confusion_matrix_draws_into_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    x, labels = blobs(n=12)
    assert plot.confusion_matrix(classifier(), x, labels, ax=right) is fig
    assert right.get_xlabel() == "predicted class" and not left.images
    with pytest.raises(ValueError, match="class_names"):
        plot.confusion_matrix(classifier(), x, labels, class_names=["only one"])


# -- weights, gradients, activations --------------------------------------------------------

def test_weights_histogram_every_array_with_all_its_values():
    model = classifier(inputs=4, hidden=8, classes=3)
    fig = plot.weights(model)
    render(fig)
    assert [ax.get_title() for ax in fig.axes] == [
        "dense/kernel (4, 8)", "dense/bias (8,)", "dense_1/kernel (8, 3)", "dense_1/bias (3,)"]
    for ax, weight in zip(fig.axes, model.get_weights(), strict=True):
        assert bar_total(ax) == weight.size
    assert "zeros: 8 of 8 (100%)" in texts(fig.axes[1])[0]            # biases start at 0


def test_weights_on_a_log_scale_count_the_zeros_apart():
    model = classifier(inputs=4, hidden=8, classes=3)
    fig = plot.weights(model, log=True)
    render(fig)
    kernel, bias = fig.axes[:2]
    assert kernel.get_xlabel() == "log10 |w|"
    assert bar_total(kernel) == 32 and bar_total(bias) == 0         # the 8 zeros: only counted


def test_gradients_show_log_magnitudes_and_the_zeros_of_a_dead_unit():
    mr.utils.set_random_seed(0)
    x, labels = blobs()
    model = classifier(inputs=4, hidden=8, classes=3)
    kernel, bias, *rest = model.get_weights()
    bias[0] = -100.0                                   # unit 0 never fires: a dead ReLU
    model.set_weights([kernel, bias, *rest])
    _, grads = model.loss_and_gradients(x, mr.utils.to_categorical(labels))

    fig = plot.gradients(model, x, mr.utils.to_categorical(labels))
    render(fig)
    assert fig.axes[0].get_xlabel() == "log10 |∂L/∂w|"
    for ax, grad in zip(fig.axes, grads, strict=True):
        zeros = int(np.sum(grad == 0))
        assert bar_total(ax) + zeros == grad.size
        assert f"zeros: {zeros} of {grad.size}" in texts(ax)[0]
        assert f"mean |∂L/∂w| {np.mean(np.abs(grad.astype(np.float64))):.2g}" in texts(ax)[0]
    assert np.sum(grads[0] == 0) >= 4                  # column 0 of the first kernel
    assert fig.axes[0].get_xlim() == fig.axes[2].get_xlim()          # one shared axis


def test_gradients_in_plain_values_sum_to_the_number_of_weights():
    x, labels = blobs()
    model = classifier()
    fig = plot.gradients(model, x, mr.utils.to_categorical(labels), log=False)
    for ax, weight in zip(fig.axes, model.get_weights(), strict=True):
        assert bar_total(ax) == weight.size


def test_activations_count_zeros_and_dead_relu_units():
    model = mr.Sequential([
        mr.Input((2,)),
        mr.layers.Dense(4, activation="relu"),
        mr.layers.Dropout(0.5),                         # no output to draw: skipped
        mr.layers.Dense(3, activation="softmax"),
    ])
    kernel = np.array([[1.0, 1.0, -1.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    bias = np.array([-100.0, 0.0, 0.0, 0.0])            # unit 0 is dead for any small input
    model.layers[0].set_weights([kernel, bias])
    x = np.random.default_rng(0).standard_normal((40, 2))
    a = np.maximum(x @ kernel + bias, 0)

    fig = plot.activations(model, x)
    render(fig)
    relu, softmax = fig.axes
    assert relu.get_title() == "dense (relu)" and softmax.get_title() == "dense_1 (softmax)"
    assert bar_total(relu) == 40 * 4 and bar_total(softmax) == 40 * 3
    dead = int(np.sum(np.all(a == 0, axis=0)))
    assert dead == 1
    assert texts(relu) == [f"zeros: {np.mean(a == 0):.0%} of outputs\ndead units: 1 of 4"]
    assert texts(softmax)[0].startswith("mean 0.333")   # softmax rows sum to 1


def test_activations_name_each_call_of_a_shared_layer():
    shared = mr.layers.Dense(2, activation="tanh")
    model = mr.Sequential([mr.Input((2,)), shared, shared])
    fig = plot.activations(model, np.ones((5, 2)))
    assert [ax.get_title() for ax in fig.axes] == ["dense (tanh)", "dense (tanh, call 2)"]


def test_histograms_need_something_to_draw():
    with pytest.raises(ValueError, match="no weights"):
        plot.weights(mr.Sequential([mr.Input((2,)), mr.layers.Flatten()]))
    with pytest.raises(ValueError, match="no Dense or Activation"):
        plot.activations(mr.Sequential([mr.Input((2,)), mr.layers.Flatten()]), np.ones((3, 2)))


# -- gradcheck ------------------------------------------------------------------------------

def test_gradcheck_draws_each_relative_error_on_a_log_scale_with_guides(float64):
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4, activation="tanh"),
                           mr.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((6, 3))
    report = mr.gradcheck.check_model(model, x, np.eye(2)[[0, 1, 0, 1, 1, 0]])
    report.append(GradCheckResult("broken/weight_0", 0.3, (0,), None, None))
    report.append(GradCheckResult("exact/weight_0", 0.0, (0,), None, None))
    fig = plot.gradcheck(report)
    render(fig)

    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    heights = [bar.get_height() for bar in ax.containers[0]]
    errors = [r.relative_error for r in report]
    np.testing.assert_allclose(heights[:-1], errors[:-1])
    assert 0 < heights[-1] < 1e-10                                    # 0 drawn at the floor
    guides = sorted(line.get_ydata()[0] for line in ax.lines)
    assert guides == [1e-7, 1e-2]
    low, high = ax.get_ylim()
    assert low < 1e-7 and high > 1e-2                                # both guides in view
    assert [t.get_text() for t in ax.get_xticklabels()] == [r.name for r in report]
    colors = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in ax.containers[0]]
    assert colors[:4] == [matplotlib.colors.to_hex("tab:green")] * 4   # backprop is right
    assert colors[4] == matplotlib.colors.to_hex("tab:red")
    assert texts(ax)[-1] == "0"                                       # bar labels


def test_gradcheck_accepts_one_result_and_rejects_an_empty_report():
    result = GradCheckResult("f", 1e-4, (0,), None, None)
    ax = plot.gradcheck(result).axes[0]
    assert [bar.get_height() for bar in ax.containers[0]] == [1e-4]
    assert matplotlib.colors.to_hex(ax.containers[0][0].get_facecolor()) == \
        matplotlib.colors.to_hex("tab:orange")
    with pytest.raises(ValueError, match="empty"):
        plot.gradcheck([])


# -- model ----------------------------------------------------------------------------------

def test_model_diagram_lists_the_layers_top_to_bottom_with_shapes_and_parameters():
    model = mr.Sequential([
        mr.Input((64,)),
        mr.layers.Dense(32, activation="relu"),
        mr.layers.Dropout(0.5),
        mr.layers.Dense(10, activation="softmax"),
    ], name="digits")
    fig = plot.model(model)
    render(fig)

    ax = fig.axes[0]
    words = [t for t in ax.texts if t.get_text()]           # the arrows are empty annotations
    top_to_bottom = [t.get_text() for t in sorted(words, key=lambda t: -t.get_position()[1])]
    assert top_to_bottom == [
        "Input", "output (None, 64)",
        "dense: Dense, relu", "output (None, 32)  ·  2,080 params",
        "dropout: Dropout, rate 0.5", "output (None, 32)  ·  0 params",
        "dense_1: Dense, softmax", "output (None, 10)  ·  330 params",
    ]
    assert ax.get_title() == "digits: 2,410 parameters"
    assert len(ax.patches) == 4                          # a box per layer, Input included
    assert len(ax.texts) - len(words) == 3               # and an arrow between two boxes


def test_model_diagram_of_a_graph_draws_an_arrow_per_tensor_read():
    """A residual block: the skip connection is a fifth arrow, curved around two boxes."""
    x = mr.Input((4,), name="x")
    h = mr.layers.Dense(4, activation="relu", name="h")(x)
    skip = mr.layers.add([x, mr.layers.Dense(4, name="h2")(h)], name="skip")
    model = mr.Model(x, mr.layers.Dense(2, name="out")(skip), name="residual")
    fig = plot.model(model)
    render(fig)
    ax = fig.axes[0]
    words = [t for t in ax.texts if t.get_text()]
    assert [t.get_text() for t in sorted(words, key=lambda t: -t.get_position()[1])][::2] == [
        "x: Input", "h: Dense, relu", "h2: Dense, linear", "skip: Add", "out: Dense, linear"]
    assert len(ax.patches) == 5
    assert len(ax.texts) - len(words) == 5       # x→h, h→h2, x→skip, h2→skip, skip→out


def test_model_diagram_needs_a_built_model_and_draws_into_a_given_axes():
    with pytest.raises(ValueError, match="not built"):
        plot.model(mr.Sequential([mr.layers.Dense(2)]))
    fig, ax = plt.subplots()
    assert plot.model(classifier(), ax=ax) is fig
    assert "Input" in texts(ax)


# -- the README's figures -------------------------------------------------------------------

def test_figures_script_writes_the_readme_pngs(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "examples" / "figures.py"), str(tmp_path)],
                   check=True, cwd=tmp_path, capture_output=True, timeout=120)
    names = {"history.png", "decision_boundary.png", "confusion_matrix.png", "model.png"}
    assert {path.name for path in tmp_path.iterdir()} == names
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        width = int.from_bytes(data[16:20], "big")       # the IHDR chunk: width, height
        height = int.from_bytes(data[20:24], "big")
        assert 300 <= width <= 2000 and 250 <= height <= 2000, (name, width, height)
        assert len(data) > 10_000, name                  # not an empty canvas
