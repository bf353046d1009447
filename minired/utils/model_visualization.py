"""``plot_model``: Keras' picture of a model, drawn with matplotlib instead of Graphviz."""

from __future__ import annotations

import os
from typing import Any


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False,
               splines: str = "ortho", **kwargs):
    """Save a drawing of ``model``'s layers to ``to_file``, as ``keras.utils.plot_model``.

    Keras draws with pydot and Graphviz (and raises ImportError without them); minired
    draws ``mr.plot.model``'s figure with matplotlib (the extra
    ``minired[plot]``): one box per layer, top to bottom, with its name, type, activation,
    output shape and parameter count, and an arrow for every tensor a layer reads.
    Always drawn that way: the presentation flags (``show_shapes``, ``show_dtype``,
    ``show_layer_names``, ``rankdir``, ``expand_nested``, ``show_layer_activations``,
    ``show_trainable``, ``splines``) are accepted for Keras scripts and change nothing.

    Args:
        model: a built Sequential or functional model.
        to_file: the image's path; its extension picks the format (``.png``, ``.pdf``,
            ``.svg``...; none: PNG, as Keras).
        dpi: dots per inch of a raster image.

    Returns:
        An ``IPython.display.Image`` of the file when IPython is installed and the file is
        a PNG, JPEG or GIF (for notebooks, as Keras), else None.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.png"
        >>> _ = plot_model(model, to_file=path, show_shapes=True)
        >>> path.read_bytes()[:4]
        b'\\x89PNG'
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    from minired.plot import model as draw_model
    from minired.plot.canvas import pyplot

    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    figure = draw_model(model)
    try:
        figure.savefig(to_file, format=extension, dpi=dpi)
    finally:
        pyplot().close(figure)
    if extension not in _IMAGE_FORMATS:
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=to_file, format=extension)


#: The formats IPython's ``Image`` shows (Keras also hands it ``.svg`` and files without an
#: extension, for which IPython raises; minired returns None for them).
_IMAGE_FORMATS = ("png", "jpg", "jpeg", "gif")
