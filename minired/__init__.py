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
    datasets,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    ops,
    optimizers,
    plot,
    random,
    regularizers,
    saving,
    utils,
    wrappers,
)
from minired.layers import Input
from minired.models import Model, Sequential
from minired.variables import Variable

__version__ = "0.1.0"

__all__ = [
    "Model", "Sequential", "Input", "Variable", "activations", "autodiff", "backend",
    "callbacks", "config", "datasets", "gradcheck", "initializers", "layers", "losses",
    "metrics", "ops",
    "optimizers", "plot", "random", "regularizers", "saving", "utils", "wrappers",
]
