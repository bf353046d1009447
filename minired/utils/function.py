"""``keras.Function``: the graph between symbolic inputs and outputs, callable on arrays.

``keras.Function(inputs, outputs)`` is the part of a functional model that only runs the
graph: no weights of its own, no ``fit``, no ``compile``. Call it on arrays and it runs each
layer of the graph in order, ``a⁽ˡ⁾ = layerₗ(a⁽ˡ⁻¹⁾)``, and returns the outputs in the
structure ``outputs`` was given in. minired builds it on the functional model's graph
walk (:mod:`minired.models.graph`), so the values are the model's.
"""

from __future__ import annotations

from typing import Any

from minired.utils.naming import auto_name


class Function:
    """A callable graph of layers from ``inputs`` to ``outputs`` (symbolic tensors).

    Args:
        inputs: an ``mr.Input`` tensor, or a list or dict of them.
        outputs: tensors computed from ``inputs`` by layers (a tensor, list or dict).
        name: its name (``"function"``, ``"function_1"``... when None).

    Example:
        >>> x = mr.Input((3,))
        >>> hidden = mr.layers.Dense(2, kernel_initializer="ones")(x)
        >>> out = mr.layers.Dense(1, kernel_initializer="ones")(hidden)
        >>> f = Function(x, [hidden, out])
        >>> [a.tolist() for a in f(np.ones((1, 3), dtype="float32"))]
        [[[3.0, 3.0]], [[6.0]]]
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None) -> None:
        from minired.models.functional import Functional

        self.name = name or auto_name("Function")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._graph = Functional(inputs, outputs, name=self.name)

    @property
    def inputs(self) -> list:
        """The flat list of input tensors."""
        return self._graph.inputs

    @property
    def outputs(self) -> list:
        """The flat list of output tensors."""
        return self._graph.outputs

    @property
    def operations(self) -> list:
        """The layers of the graph, inputs first, in execution order."""
        return list(self._graph._operations)

    def __call__(self, inputs: Any) -> Any:
        """Run the graph on arrays (in the structure of ``inputs``)."""
        from minired.models.functional import _as_list, _pack

        graph = self._graph
        flat = graph.forward(graph._prepare_x(inputs, "inputs", method="call"), training=None)
        return _pack(self._outputs_struct, iter(_as_list(flat, len(graph.outputs))))

    def call(self, inputs: Any) -> Any:
        """The same as calling the function."""
        return self(inputs)
