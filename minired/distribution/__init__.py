"""Distributing a model over devices, as ``keras.distribution``.

minired computes with NumPy on one device, ``cpu:0``, like Keras on a CPU-only TensorFlow:
``list_devices()`` is ``["cpu:0"]``, a mesh has one device, and training under
``DataParallel`` or ``ModelParallel`` gives the same numbers as training without them.
``initialize`` (a multi-process cluster) raises NotImplementedError.
"""

from minired.distribution.device_mesh import DeviceMesh, TensorLayout
from minired.distribution.devices import get_device_count, initialize, list_devices
from minired.distribution.distributions import (
    DataParallel,
    Distribution,  # noqa: F401 (Keras' base class, not in keras.distribution)
    ModelParallel,
    distribute_tensor,
    distribution,
    set_distribution,
)
from minired.distribution.layout_map import LayoutMap

__all__ = ["DataParallel", "DeviceMesh", "LayoutMap", "ModelParallel", "TensorLayout",
           "distribute_tensor", "distribution", "get_device_count", "initialize",
           "list_devices", "set_distribution"]
