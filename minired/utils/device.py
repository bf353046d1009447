"""``keras.device``: run the code inside on a named device (a context manager).

On TensorFlow, ``keras.device("gpu:0")`` places the operations inside on that device, with
*soft placement*: a device this machine lacks falls back to the CPU, so on a CPU-only
machine every name that parses runs on ``cpu:0``. minired computes with NumPy on the CPU,
which is exactly that. The name is parsed as TensorFlow parses it (``"cpu"``, ``"CPU:0"``,
``"/cpu:0"``, ``"gpu:1"``, ``"/job:localhost/device:CPU:0"``...), and a name TensorFlow
rejects raises the same ``ValueError`` when the block is entered.
"""

from __future__ import annotations

_DEVICE_TYPES = ("CPU", "GPU", "TPU", "CUSTOM", "EPU")   # TensorFlow's DeviceSpec types


def _parse(spec: str) -> tuple[str | None, int | None]:
    """``(device type, index)`` of a TensorFlow device string, checked as TensorFlow does."""
    device_type, index = None, None
    for part in [piece.split(":") for piece in spec.split("/")]:
        if len(part) == 2 and part[0] in ("job", "replica", "task"):
            continue
        if len(part) in (1, 2) and part[0].upper() in _DEVICE_TYPES:
            if device_type is not None:
                raise ValueError("Multiple device types are not allowed while parsing the "
                                 f"device spec: {spec}.")
            device_type = part[0].upper()
            if len(part) == 2 and part[1] != "*":
                index = int(part[1])
        elif len(part) == 3 and part[0] == "device":
            if device_type is not None:
                raise ValueError("Multiple device types are not allowed while parsing the "
                                 f"device spec: {spec}.")
            device_type = part[1]
            if part[2] != "*":
                index = int(part[2])
        elif part[0] != "":
            raise ValueError(f"Unknown attribute '{part[0]}' is encountered while parsing "
                             f"the device spec: '{spec}'.")
    return device_type, index


class device:  # noqa: N801 (Keras' name)
    """Run the block on ``device_name`` (always ``cpu:0`` in minired, as on a CPU-only
    TensorFlow).

    Args:
        device_name: a device string such as ``"cpu"``, ``"cpu:0"`` or ``"gpu:0"``
            (None or ``""``: the default device).

    Example:
        >>> with device("cpu:0"):
        ...     current_device()
        'cpu:0'
        >>> with device("tpu:0"):        # absent here: falls back to the CPU, as TensorFlow
        ...     current_device()
        'cpu:0'
    """

    def __init__(self, device_name: str | None) -> None:
        self.device_name = device_name

    def __enter__(self) -> None:
        name = self.device_name
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Expecting a string device name. Got {type(name)}({name})")
        _parse(name or "")

    def __exit__(self, *args) -> None:
        return None


def current_device() -> str:
    """The device the code runs on: ``"cpu:0"`` (minired's only device)."""
    return "cpu:0"
