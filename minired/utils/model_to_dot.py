"""``keras.utils.model_to_dot``: Keras' model graph as a ``pydot.Dot`` object.

Keras builds the graph with pydot (and renders it with Graphviz); without pydot it raises
``ImportError``. minired draws models with matplotlib instead (``mr.utils.plot_model``,
``mr.plot.model``) and never builds a pydot graph: ``model_to_dot`` checks the model and
its arguments as Keras does, then raises Keras' ``ImportError`` when pydot is missing (as on
this project's machines) and ``NotImplementedError`` when it is installed.
"""

from __future__ import annotations

import importlib.util
from typing import Any


def _pydot_installed() -> bool:
    """Whether pydot (or one of the forks Keras accepts) can be imported."""
    return any(importlib.util.find_spec(name) is not None
               for name in ("pydot", "pydot_ng", "pydotplus"))


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False,
                 splines: str = "ortho", **kwargs):
    """Keras' ``pydot.Dot`` graph of ``model``: refused in minired (see the module).

    Args:
        model: a built model (an unbuilt one raises ValueError, as Keras).
        show_shapes: like the other presentation options (``show_dtype``,
            ``show_layer_names``, ``rankdir``, ``expand_nested``, ``dpi``, ``subgraph``,
            ``show_layer_activations``, ``show_trainable``, ``splines``), Keras' argument.

    Raises:
        ImportError: pydot is not installed (Keras' message).
        NotImplementedError: pydot is installed, but minired draws with matplotlib.

    Example:
        >>> model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])
        >>> model_to_dot(model)
        Traceback (most recent call last):
        ...
        ImportError: You must install pydot (`pip install pydot`) for model_to_dot to work.
    """
    if not getattr(model, "built", False):
        raise ValueError("This model has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")
    if not _pydot_installed():
        raise ImportError("You must install pydot (`pip install pydot`) for model_to_dot "
                          "to work.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    raise NotImplementedError("minired does not build pydot graphs: draw the model with "
                              "`mr.utils.plot_model(model, to_file=...)` or "
                              "`mr.plot.model(model)` (matplotlib).")
