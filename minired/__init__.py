"""minired: readable NumPy deep learning behind the Keras 3 API.

    import minired as mr
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                           mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10)
"""

from minired import (
    activations,
    autodiff,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    ops,
    optimizers,
    plot,
    preprocessing,
    random,
    regularizers,
    saving,
    tree,
    utils,
    wrappers,
)
from minired.initializers import Initializer
from minired.layers import Input, InputSpec, Layer
from minired.layers.keras_tensor import KerasTensor
from minired.losses import Loss
from minired.metrics import Metric
from minired.models import Model, Sequential
from minired.optimizers import Optimizer
from minired.regularizers import Regularizer
from minired.variables import Variable

__version__ = "0.1.0"


def version() -> str:
    """minired's version, as ``keras.version()`` gives Keras' (``__version__``).

    Example:
        >>> version() == __version__
        True
    """
    return __version__


__all__ = [
    "Model", "Sequential", "Input", "Variable", "Layer", "Loss", "Metric", "Optimizer",
    "Initializer", "Regularizer", "InputSpec", "KerasTensor", "version", "activations",
    "autodiff", "backend",
    "callbacks", "config", "constraints", "datasets", "gradcheck", "initializers", "layers",
    "losses", "metrics", "ops",
    "optimizers", "plot", "preprocessing", "random", "regularizers", "saving", "tree", "utils",
    "wrappers",
]
