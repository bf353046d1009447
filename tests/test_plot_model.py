"""mr.utils.plot_model: Keras' call, drawn with matplotlib (mr.plot.model) into a file."""

from __future__ import annotations

import matplotlib
import pytest

import minired as mr

matplotlib.use("Agg")


def functional_model():
    inputs = mr.Input((4,))
    hidden = mr.layers.Dense(3, activation="relu", name="hidden")(inputs)
    outputs = mr.layers.Dense(1)(mr.layers.Concatenate()([inputs, hidden]))
    return mr.Model(inputs, outputs)


@pytest.mark.parametrize(("name", "magic"), [("model.png", b"\x89PNG"), ("model.pdf", b"%PDF"),
                                             ("model.svg", b"<?xml"), ("model", b"\x89PNG")])
def test_the_drawing_is_written_in_the_format_of_the_extension(tmp_path, name, magic):
    path = tmp_path / name
    mr.utils.plot_model(functional_model(), to_file=path, show_shapes=True,
                        show_layer_activations=True, rankdir="LR", dpi=50)
    assert path.read_bytes()[:len(magic)] == magic
    assert matplotlib.pyplot.get_fignums() == []            # the figure is closed


def test_a_sequential_model_draws_one_box_per_layer(tmp_path):
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(3), mr.layers.Dense(1)])
    mr.utils.plot_model(model, to_file=tmp_path / "m.png")
    assert (tmp_path / "m.png").stat().st_size > 1000


def test_keras_errors_for_unknown_arguments_and_unbuilt_models(tmp_path):
    model = functional_model()
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        mr.utils.plot_model(model, to_file=tmp_path / "m.png", show_colors=True)
    with pytest.raises(ValueError, match="`layer_range` is no longer supported"):
        mr.utils.plot_model(model, to_file=tmp_path / "m.png", layer_range=["a", "b"])
    with pytest.raises(ValueError, match="not built"):
        mr.utils.plot_model(mr.Sequential([mr.layers.Dense(1)]), to_file=tmp_path / "m.png")
