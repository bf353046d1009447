"""Figures for watching a network learn: ``mr.plot.history(h)``, ``mr.plot.model(model)``...

Every function returns a matplotlib ``Figure`` (show it with ``plt.show()`` or save it with
``fig.savefig("name.png")``), and accepts ``ax=`` (one panel) or ``axes=`` (one per panel)
to draw into your own figure instead.

=====================================================  ====================================
``history(history, early_stopping=None)``              loss and metrics per epoch
``decision_boundary(model, x, y)``                     classes over the plane (2 features)
``confusion_matrix(model, x, y)``                      true class against predicted class
``weights(model)``                                     a histogram per weight array
``gradients(model, x, y)``                             a histogram of log10 |∂L/∂w| per array
``activations(model, x)``                              each layer's outputs; dead ReLUs
``gradcheck(report)``                                  errors of ``mr.gradcheck.check_model``
``model(model)``                                       the layers as boxes, with shapes
=====================================================  ====================================

matplotlib is optional (``pip install "minired[plot]"``): importing this package does not
import it; each function imports it when it draws, and says how to install it if missing.
"""

from minired.plot.checks import gradcheck
from minired.plot.data import confusion_matrix, decision_boundary
from minired.plot.diagram import model
from minired.plot.inside import activations, gradients, weights
from minired.plot.training import history

__all__ = ["activations", "confusion_matrix", "decision_boundary", "gradcheck", "gradients",
           "history", "model", "weights"]
