"""Merge layers: one output from a **list** of inputs, as in ``keras.layers``.

One short file per layer, all on the base :class:`~minired.layers.merging.base_merge.Merge`:

- ``add.py``: :class:`Add`, ``a = x₁ + x₂ + …``
- ``subtract.py``: :class:`Subtract`, ``a = x₁ - x₂`` (exactly two inputs)
- ``multiply.py``: :class:`Multiply`, ``a = x₁ ⊙ x₂ ⊙ …``
- ``average.py``: :class:`Average`, ``a = (x₁ + … + xₙ) / n``
- ``maximum.py`` and ``minimum.py``: :class:`Maximum`, :class:`Minimum`, element by element
- ``concatenate.py``: :class:`Concatenate`, the inputs side by side along ``axis``
- ``dot.py``: :class:`Dot`, the dot product of two inputs along an axis of each

Each file also has Keras' lowercase function (``add(inputs)`` is ``Add()(inputs)``).
``backward(δa)`` returns a list: one ``δxᵢ`` per input, each of its input's shape.
"""

from minired.layers.merging.add import Add, add
from minired.layers.merging.average import Average, average
from minired.layers.merging.base_merge import Merge, unbroadcast
from minired.layers.merging.concatenate import Concatenate, concatenate
from minired.layers.merging.dot import Dot, dot
from minired.layers.merging.maximum import Maximum, maximum
from minired.layers.merging.minimum import Minimum, minimum
from minired.layers.merging.multiply import Multiply, multiply
from minired.layers.merging.subtract import Subtract, subtract

__all__ = [
    "Add", "Average", "Concatenate", "Dot", "Maximum", "Merge", "Minimum", "Multiply",
    "Subtract", "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply",
    "subtract",
    "unbroadcast",
]
