"""minired vs Keras, component by component: same weights, same data, same numbers.

Run ``python -m comparisons`` (see ``comparisons/__main__.py``). Each area module
(``forward``, ``gradients``, ``optimizers``, ``training``, ``saturation``, ``dropout``,
``initializers``, ``graphs``) registers small cases with ``@registry.case``;
``mirror.to_keras`` builds the Keras twin (of a Sequential or a functional model). The data
fed to both libraries come from ``data``; the z-scores of the statistical cases from
``sampling``.
"""

from comparisons import (
    losses_catalog,  # noqa: E402, F401  (registers the "losses" cases)
    saving,  # noqa: E402, F401  (registers the "saving" cases)
)
