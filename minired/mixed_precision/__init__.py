"""``keras.mixed_precision``: Keras' older names for the dtype policies.

Mixed precision computes in float16 or bfloat16 and keeps the weights in float32. minired
computes every layer in one dtype, ``"float32"`` or ``"float64"``, so these names work for
those two policies, and ``"mixed_float16"``/``"mixed_bfloat16"`` raise ValueError when a
script names them::

    mr.mixed_precision.set_global_policy("float64")    # as mr.config.set_dtype_policy
    mr.mixed_precision.set_global_policy("mixed_float16")   # ValueError

``LossScaleOptimizer`` is :class:`minired.optimizers.LossScaleOptimizer` (the same class).
"""

from __future__ import annotations

from minired.dtype_policies.dtype_policy import DTypePolicy, dtype_policy, set_dtype_policy
from minired.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "Policy", "LossScaleOptimizer", "dtype_policy", "global_policy",
           "set_dtype_policy", "set_global_policy"]
