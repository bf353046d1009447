"""examples/course_figures.py: the course's figures are written, and show minired's numbers.

The script runs once (a module fixture) into a temporary folder; each test then checks one
figure's file or the numbers it drew, against a formula written out by hand here.
"""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import minired as mr

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "course_figures.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_script():
    """Import ``examples/course_figures.py`` without running its ``__main__`` block."""
    spec = importlib.util.spec_from_file_location("course_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The script run once: ``.script`` (the module), ``.folder``, ``.data`` (what main
    returns: file name -> the numbers drawn)."""
    folder = tmp_path_factory.mktemp("course_figures")
    script = load_script()
    return SimpleNamespace(script=script, folder=folder, data=script.main(folder))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which follows the 8-byte signature."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def texts(figure) -> list[str]:
    """Every string drawn on the figure: titles, labels, legends, annotations."""
    from matplotlib.text import Text
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


# -- the files --------------------------------------------------------------------------------

def test_every_figure_is_a_png_of_a_sensible_size(course):
    names = set(course.script.FIGURES)
    assert {path.name for path in course.folder.iterdir()} == names
    assert len(names) == 9
    for name in names:
        data = (course.folder / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        width, height = png_size(data)
        assert 900 <= width <= 1700 and 450 <= height <= 900, (name, width, height)
        assert len(data) > 50_000, name                 # drawn, not an empty canvas


def test_drawing_the_same_numbers_again_gives_the_same_bytes(course):
    for name, (_, draw) in course.script.FIGURES.items():
        buffer = io.BytesIO()
        course.script.save(draw(course.data[name]), buffer)
        assert buffer.getvalue() == (course.folder / name).read_bytes(), name


def test_the_course_has_a_copy_of_every_figure():
    """docs/img/ holds what the script writes (regenerate with the script if this fails)."""
    for name in load_script().FIGURES:
        assert (ROOT / "docs" / "img" / name).read_bytes().startswith(PNG_SIGNATURE), name


def test_every_figure_illustrates_a_lesson():
    lessons = "\n".join(path.read_text(encoding="utf-8")
                        for path in sorted((ROOT / "docs").glob("*.md")))
    for name in load_script().FIGURES:
        assert f"](img/{name})" in lessons, name


def test_the_script_runs_from_the_command_line():
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True,
                            text=True, check=True, timeout=120)
    assert "docs/img/" in result.stdout


# -- 1. activations ---------------------------------------------------------------------------

def test_activation_derivatives_are_the_formulas_of_lesson_3(course):
    data = course.data["activaciones.png"]
    assert list(data) == ["linear", "relu", "sigmoid", "tanh", "softmax"]
    z = data["linear"]["z"]
    sigmoid, tanh = 1 / (1 + np.exp(-z)), np.tanh(z)
    expected = {"linear": np.ones_like(z), "relu": (z > 0).astype(float),
                "sigmoid": sigmoid * (1 - sigmoid), "tanh": 1 - tanh**2}
    for name, derivative in expected.items():
        np.testing.assert_allclose(data[name]["derivative"], derivative, rtol=1e-12,
                                   atol=1e-15, err_msg=name)
    assert data["relu"]["derivative"][z == 0] == [0.0]    # the value minired takes at the kink

    # softmax(z, 0, 0)₁ = eᶻ / (eᶻ + 2); backward with δa = (1, 0, 0) gives a Jacobian row
    softmax = data["softmax"]
    a1, a2 = np.exp(z) / (np.exp(z) + 2), 1 / (np.exp(z) + 2)
    np.testing.assert_allclose(softmax["a"], a1, rtol=1e-12)
    np.testing.assert_allclose(softmax["derivative"], a1 * (1 - a1), rtol=1e-12)
    np.testing.assert_allclose(softmax["cross_derivative"], -a1 * a2, rtol=1e-12)


def test_each_drawn_derivative_is_the_slope_of_its_curve(course):
    for name, curves in course.data["activaciones.png"].items():
        z, a, derivative = curves["z"], curves["a"], curves["derivative"]
        slope = np.gradient(a, z)
        # np.gradient is a finite difference on the drawn grid: its error is about
        # dz**2 * |f'''| / 6, up to ~1e-3 where sigmoid, tanh and softmax bend most. The exact
        # derivatives are checked to 1e-12 above; this checks that the drawing agrees.
        away_from_the_kink = np.abs(z) > 0.05
        np.testing.assert_allclose(slope[away_from_the_kink], derivative[away_from_the_kink],
                                   atol=2e-3, err_msg=name)


# -- 2. gradient descent ----------------------------------------------------------------------

def test_plain_sgd_follows_the_closed_form_of_the_bowl(course):
    """On L = ½ Σ cᵢ wᵢ², SGD multiplies wᵢ by (1 - lr·cᵢ) at every step."""
    script, paths = course.script, course.data["descenso-del-gradiente.png"]
    for path in (paths["paths"]["SGD"], paths["slow_sgd"], paths["diverging"]):
        lr = path["optimizer"].learning_rate               # float32(lr), as Keras stores it
        steps = np.arange(len(path["points"]))[:, None]
        expected = np.array(script.START) * (1 - lr * script.BOWL) ** steps
        np.testing.assert_allclose(path["points"], expected, rtol=1e-9, atol=1e-12)


def test_the_diverging_path_grows_by_a_factor_of_1_2_each_step(course):
    diverging = course.data["descenso-del-gradiente.png"]["diverging"]
    w2 = diverging["points"][:, 1]
    np.testing.assert_allclose(w2[1:] / w2[:-1], -1.2, rtol=1e-6)   # 1 - 4·0.55
    assert np.all(np.diff(diverging["loss"]) > 0)                   # every step makes it worse
    assert diverging["loss"][-1] > 50 * diverging["loss"][0]


def test_the_momentum_path_is_the_keras_rule_written_by_hand(course):
    data = course.data["descenso-del-gradiente.png"]
    path = data["paths"]["SGD con momentum"]
    lr = path["optimizer"].learning_rate
    m = float(np.float32(0.9))           # Keras casts the momentum through float32
    w, v = np.array(course.script.START), np.zeros(2)
    expected = [w.copy()]
    for _ in range(len(path["points"]) - 1):
        v = v * m - course.script.bowl_gradient(w) * lr              # v ← m·v − lr·g
        w = w + v                                                     # w ← w + v
        expected.append(w)
    np.testing.assert_allclose(path["points"], expected, rtol=1e-12, atol=1e-15)
    # with the same learning rate, momentum gets much further down the long valley
    assert path["loss"][-1] < data["slow_sgd"]["loss"][-1] / 10


def test_every_optimizer_descends_and_the_adaptive_ones_start_with_equal_steps(course):
    paths = course.data["descenso-del-gradiente.png"]["paths"]
    for name, path in paths.items():
        assert path["loss"][-1] < path["loss"][0] / 50, name
    # RMSprop's first step is about lr/√(1-ρ) and Adam's about lr, in both coordinates:
    # each weight gets its own scale, whatever the size of its gradient.
    for name, size in (("RMSprop", 0.15 / np.sqrt(0.1)), ("Adam", 0.3)):
        first_step = paths[name]["points"][1] - paths[name]["points"][0]
        # "About": the exact step is lr*g / (sqrt(v) + eps) with Adam's bias correction, which
        # differs from lr/sqrt(1-rho) or lr by eps/sqrt(v) and float32 rounding, below 1e-4.
        np.testing.assert_allclose(np.abs(first_step), [size, size], rtol=1e-4, err_msg=name)


# -- 3. backpropagation -----------------------------------------------------------------------

def test_backprop_numbers_are_the_chain_rule_by_hand(course):
    data = course.data["grafo-backprop.png"]
    x, w, b, y, lr = (data[key] for key in ("x", "w", "b", "y", "lr"))
    z = w * x + b
    a = 1 / (1 + np.exp(-z))
    dL_da = 2 * (a - y)                  # L = (a - y)², the mse of one output
    dL_dz = dL_da * a * (1 - a)          # σ'(z) = a(1 - a)
    hand = {"z": z, "a": a, "loss": (a - y) ** 2, "sigmoid_slope": a * (1 - a),
            "dL_da": dL_da, "dL_dz": dL_dz, "dL_dw": dL_dz * x, "dL_db": dL_dz,
            "dL_dx": dL_dz * w, "new_w": w - lr * dL_dz * x, "new_b": b - lr * dL_dz}
    for key, value in hand.items():
        assert data[key] == pytest.approx(value, rel=1e-6), key    # float32 in minired


def test_the_graph_shows_the_hand_computed_numbers(course):
    script, data = course.script, course.data["grafo-backprop.png"]
    drawn = " | ".join(texts(script.backprop_figure(data)))
    dL_dz = 2 * (data["a"] - data["y"]) * data["a"] * (1 - data["a"])
    for shown in (f"z = {script.number(data['w'] * data['x'] + data['b'])}",
                  f"∂L/∂w = {script.number(dL_dz)}·1.5 = {script.number(dL_dz * 1.5)}",
                  f"∂L/∂b = {script.number(dL_dz)}",
                  f"∂L/∂x = {script.number(dL_dz)}·0.8 = {script.number(dL_dz * 0.8)}",
                  "L = 0.110", "∂L/∂a = −0.664", "= 0.822"):
        assert shown in drawn, shown


# -- 4. dropout -------------------------------------------------------------------------------

def test_the_masks_drawn_are_those_of_minireds_dropout_layers(course):
    data = course.data["dropout-mascaras.png"]
    assert data["sizes"] == (4, 6, 6, 2)
    for layer_index, seed in enumerate(data["seeds"]):
        alone = mr.layers.Dropout(data["rate"], seed=seed)
        for step, masks in enumerate(data["masks"]):
            alone(np.ones((1, 6), dtype="float32"), training=True)
            np.testing.assert_array_equal(masks[layer_index], alone.mask[0],
                                          err_msg=f"layer {layer_index}, step {step}")
    for masks in data["masks"]:
        for mask in masks:
            assert set(np.unique(mask)) <= {0.0, 1.0} and mask.sum() >= 1
    steps = [np.concatenate(masks) for masks in data["masks"]]
    assert len({tuple(step) for step in steps}) == len(steps)      # a new mask every step
    assert all(scale == 2.0 for scales in data["scales"] for scale in scales)   # 1/(1 - 0.5)
    assert data["inference_caches"] == [None, None]      # training=False: no mask at all


def test_the_dropout_panels_count_the_active_units(course):
    script, data = course.script, course.data["dropout-mascaras.png"]
    drawn = texts(script.dropout_figure(data))
    for step, masks in enumerate(data["masks"]):
        active = int(sum(mask.sum() for mask in masks))
        assert f"Entrenamiento, paso {step + 1}\n(training=True): {active} de 12 activas" in drawn


# -- 5. regularization ------------------------------------------------------------------------

def test_each_regularizer_shrinks_the_overfitting_gap(course):
    runs = course.data["regularizacion.png"]
    plain = runs["sin regularizar"]
    assert plain["val_loss"][-1] > 2 * plain["val_loss"].min()      # it does overfit
    assert plain["loss"][-1] < plain["loss"].min() + 0.01           # while training improves
    for variant in ("dropout", "l2", "early_stopping"):
        assert runs[variant]["gap"] < plain["gap"] / 3, variant
        assert runs[variant]["final_val_loss"] < plain["final_val_loss"] / 2, variant


def test_early_stopping_stops_after_its_patience_and_restores_the_best_epoch(course):
    script, runs = course.script, course.data["regularizacion.png"]
    stopped = runs["early_stopping"]
    best, patience = stopped["best_epoch"], script.EARLY_STOPPING_PATIENCE
    assert stopped["stopped_epoch"] == best + patience
    assert len(stopped["loss"]) == stopped["stopped_epoch"] + 1
    assert best == int(np.argmin(stopped["val_loss"])) == stopped["final_epoch"]
    # the same network as the plain one: the same curve until it stopped
    np.testing.assert_array_equal(stopped["val_loss"],
                                  runs["sin regularizar"]["val_loss"][:len(stopped["loss"])])
    # evaluate after fit sees the restored weights: the best epoch's validation loss
    assert stopped["final_val_loss"] == pytest.approx(stopped["val_loss"][best], rel=1e-5)
    for variant in ("sin regularizar", "dropout", "l2"):
        run = runs[variant]
        assert run["final_val_loss"] == pytest.approx(run["val_loss"][-1], rel=1e-5), variant


# -- 6. gradients through a residual graph ---------------------------------------------------

def hand_backward(model, x, y, skips: bool) -> tuple[dict, list]:
    """The chain rule written out for :func:`residual_model`: δ of every tensor and ∂L/∂w.

    Forward, for k = 1..K: ``zₖ = hₖ₋₁Wₖ + bₖ``, ``aₖ = σ(zₖ)``, and ``hₖ = hₖ₋₁ + aₖ`` with
    skips (``hₖ = aₖ`` without), ``h₀ = x``; ``ŷ = h_K W + b``, ``L = mean((ŷ - y)²)``.
    Backward: ``δŷ = 2(ŷ - y)/N``; ``δh_K = δŷ Wᵀ``; then ``δzₖ = δaₖ ⊙ aₖ(1 - aₖ)`` with
    ``δaₖ = δhₖ`` (Add copies δ), and ``hₖ₋₁`` gets ``δzₖ Wₖᵀ`` from the layer **plus**
    ``δhₖ`` from the skip when there is one: the sum at the fork.
    """
    weights = model.get_weights()
    blocks = (len(weights) - 2) // 2
    h, inputs, activations = x, [], []
    for k in range(blocks):
        W, b = weights[2 * k], weights[2 * k + 1]
        inputs.append(h)
        a = 1 / (1 + np.exp(-(h @ W + b)))
        activations.append(a)
        h = h + a if skips else a
    W_out, b_out = weights[-2:]
    y_hat = h @ W_out + b_out
    delta_y = 2 * (y_hat - y) / y.size
    delta = {"salida": delta_y}
    grads = [None] * len(weights)
    grads[-2:] = [h.T @ delta_y, delta_y.sum(axis=0)]
    delta_h = delta_y @ W_out.T
    for k in reversed(range(blocks)):
        if skips:
            delta[f"suma_{k + 1}"] = delta_h
        delta[f"capa_{k + 1}"] = delta_h                           # δaₖ
        a = activations[k]
        delta_z = delta_h * a * (1 - a)
        grads[2 * k], grads[2 * k + 1] = inputs[k].T @ delta_z, delta_z.sum(axis=0)
        through_layer = delta_z @ weights[2 * k].T
        delta_h = delta_h + through_layer if skips else through_layer    # the fork
    delta["x"] = delta_h
    return delta, grads


def test_residual_gradients_are_the_chain_rule_by_hand(course):
    for name, run in course.data["grafo-residual.png"].items():
        skips = name == "residual"
        delta, grads = hand_backward(run["model"], run["x"], run["y"], skips)
        assert set(run["delta"]) == set(delta), name
        for tensor, expected in delta.items():
            np.testing.assert_allclose(run["delta"][tensor], expected, rtol=1e-10,
                                       atol=1e-15, err_msg=f"{name}: δ of {tensor}")
        for got, expected in zip(run["grads"], grads, strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15, err_msg=name)
        for tensor, size in run["size"].items():
            assert size == pytest.approx(np.mean(np.abs(delta[tensor])), rel=1e-12)


def test_each_add_copies_its_gradient_to_both_of_its_inputs(course):
    run = course.data["grafo-residual.png"]["residual"]
    for layer, sent in run["sent"].items():
        if layer.startswith("suma"):
            skip, branch = sent
            np.testing.assert_array_equal(skip, run["delta"][layer])
            np.testing.assert_array_equal(branch, run["delta"][layer])


def test_the_skips_carry_the_gradient_back_and_the_chain_loses_it(course):
    data, script = course.data["grafo-residual.png"], course.script
    chain = data["cadena"]["size"]
    # Without skips, every sigmoid layer multiplies δ by σ′(z) ≤ 1/4 (and by Wᵀ): going
    # down from capa_4 to x, |δ| shrinks by a factor between 3.8 and 4.6 at each layer.
    sizes = [chain[tensor] for tensor in
             ["x"] + [f"capa_{k}" for k in range(1, script.RESIDUAL["blocks"] + 1)]]
    assert all(later > 3 * earlier for earlier, later in zip(sizes[:-1], sizes[1:], strict=True))
    residual = data["residual"]["size"]
    assert residual["x"] / residual["salida"] > 0.1
    assert chain["x"] / chain["salida"] < 0.01


def test_the_residual_graph_shows_the_measured_numbers(course):
    script, data = course.script, course.data["grafo-residual.png"]
    drawn = texts(script.residual_figure(data))
    for run in data.values():
        for size in run["size"].values():
            assert script.number_e(size) in drawn
    for k in range(1, script.RESIDUAL["blocks"] + 1):
        copied = data["residual"]["sent"][f"suma_{k}"][0]
        assert f"salto: {script.number_e(np.mean(np.abs(copied)))}" in drawn


# -- 7. the tape of automatic differentiation ------------------------------------------------

def test_the_tape_walk_is_the_chain_rule_of_lesson_5(course):
    data = course.data["cinta-autodiff.png"]
    assert data["records"] == ["matmul", "add", "tanh", "subtract", "square", "mean"]
    x, W, b, t = (data[key] for key in ("x", "W", "b", "t"))
    y = np.tanh(x @ W + b)
    delta_y = 2 * (y - t) / y.size
    delta_z = delta_y * (1 - y**2)
    expected = {"z1": x @ W, "z": x @ W + b, "y": y, "delta_y": delta_y, "delta_z": delta_z,
                "delta_z1": delta_z, "dW": x.T @ delta_z, "db": delta_z.sum(axis=0),
                "dx": delta_z @ W.T}
    for key, value in expected.items():
        np.testing.assert_allclose(data[key], value, rtol=1e-12, atol=1e-15, err_msg=key)
    assert data["loss"] == pytest.approx(np.mean((y - t) ** 2), rel=1e-12)
    # the VJPs kept in the records: add copies δz (b's copy is summed over the rows later),
    # matmul gives (δz₁ Wᵀ, xᵀ δz₁)
    np.testing.assert_allclose(data["vjp_add"][1].sum(axis=0), data["db"], rtol=1e-12)
    np.testing.assert_allclose(data["vjp_matmul"][0], data["dx"], rtol=1e-12)
    np.testing.assert_allclose(data["vjp_matmul"][1], data["dW"], rtol=1e-12)


def test_the_tape_figure_shows_the_measured_numbers(course):
    script, data = course.script, course.data["cinta-autodiff.png"]
    drawn = " | ".join(texts(script.tape_figure(data)))
    for key in ("x", "W", "b", "z1", "z", "y", "dW", "db", "dx", "delta_z", "delta_y"):
        assert script.matrix(data[key]) in drawn, key
    assert f"L = {script.number(data['loss'])}" in drawn
    assert "matmul → add → tanh → subtract → square → mean" in drawn


# -- 8. a small convnet on the digits: filters and feature maps -------------------------------

def convolve_same(images: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``relu`` of a stride-1 ``"same"`` convolution, by its definition: a zero frame of
    one pixel (3x3 kernels), then for each output pixel and filter the sum of the window
    times the kernel, plus the bias."""
    n, height, width, _ = images.shape
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.zeros((n, height, width, kernel.shape[-1]))
    for i in range(height):
        for j in range(width):
            window = padded[:, i:i + 3, j:j + 3, :]                 # (n, 3, 3, C)
            out[:, i, j, :] = np.einsum("nabc,abcf->nf", window, kernel) + bias
    return np.maximum(out, 0)


def test_the_feature_maps_are_the_sliding_window_by_hand(course):
    data = course.data["mapas-caracteristicas.png"]
    images = data["images"].astype(np.float64)
    maps_1 = convolve_same(images, data["kernel_1"], data["bias_1"])
    np.testing.assert_allclose(data["maps_1"], maps_1, rtol=1e-5, atol=1e-6)
    # MaxPooling2D(2): the largest of each 2x2 block; then the second convolution
    n, height, width, channels = maps_1.shape
    pooled = maps_1.reshape(n, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))
    maps_2 = convolve_same(pooled, data["kernel_2"], data["bias_2"])
    np.testing.assert_allclose(data["maps_2"], maps_2, rtol=1e-5, atol=1e-5)
    assert data["maps_1"].shape == (2, 8, 8, 8) and data["maps_2"].shape == (2, 4, 4, 16)


def test_the_filters_were_learned_and_the_convnet_reads_digits(course):
    data = course.data["filtros-aprendidos.png"]
    assert data is course.data["mapas-caracteristicas.png"]       # one training run, cached
    assert data["kernel_before"].shape == data["kernel_1"].shape == (3, 3, 1, 8)
    # training moved every filter, well beyond float32 rounding
    change = np.abs(data["kernel_1"] - data["kernel_before"]).max(axis=(0, 1, 2))
    assert np.all(change > 0.05)
    assert data["accuracy"] > 0.9
    np.testing.assert_array_equal(data["predicted"], data["labels"])   # the digits shown


def test_the_filter_figure_shows_the_weights_and_the_accuracy(course):
    script, data = course.script, course.data["filtros-aprendidos.png"]
    drawn = texts(script.filters_figure(data))
    for kernel in (data["kernel_before"], data["kernel_1"]):
        for value in kernel.ravel():
            assert script.number(value, 2) in drawn
    assert any(f"{data['accuracy']:.1%}" in text for text in drawn)
    feature_maps = " | ".join(texts(script.feature_maps_figure(data)))
    for label, predicted in zip(data["labels"], data["predicted"], strict=True):
        assert f"un {label}\nla red dice {predicted}" in feature_maps
