"""The devices a distribution can use: minired computes with NumPy on one CPU, ``cpu:0``.

These answer as Keras on a CPU-only TensorFlow answers: ``list_devices()`` is
``["cpu:0"]``, and asking for GPUs or TPUs gives an empty list.
"""

from __future__ import annotations


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices of ``device_type``, as ``"type:index"`` strings.

    Args:
        device_type: ``"cpu"``, ``"gpu"`` or ``"tpu"`` (any case); None: the accelerators
            if there are any, else the CPUs.

    Example:
        >>> list_devices(), list_devices("gpu")
        (['cpu:0'], [])
    """
    if device_type is None or device_type.upper() == "CPU":
        return ["cpu:0"]
    return []


def get_device_count(device_type: str | None = None) -> int:
    """How many devices of ``device_type`` there are (``len(list_devices(device_type))``).

    Example:
        >>> get_device_count(), get_device_count("gpu")
        (1, 0)
    """
    return len(list_devices(device_type))


def initialize(job_addresses: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
    """Keras' set-up of a multi-process cluster: minired runs in one process, so it raises.

    Keras' TensorFlow backend has no ``initialize`` either (it raises AttributeError);
    minired says why instead.
    """
    raise NotImplementedError("keras.distribution.initialize() sets up a cluster of "
                              "processes (JAX); minired runs in one process on one CPU, and "
                              "Keras' TensorFlow backend does not implement it either.")
