"""``DeviceMesh`` (devices arranged in named axes) and ``TensorLayout`` (which axes split
which dimensions of a tensor), as Keras' ``keras.distribution``.

With minired's single device the mesh is ``(1,)`` and every layout keeps the whole tensor
on ``cpu:0``; the classes check their arguments as Keras does.
"""

from __future__ import annotations

import math

import numpy as np

from minired.distribution.devices import list_devices


class DeviceMesh:
    """A cluster of devices arranged in a grid with named axes.

    Args:
        shape: the grid's shape, e.g. ``(1,)`` (its size must be the number of devices).
        axis_names: one name per axis, e.g. ``["batch"]``.
        devices: the devices (default: :func:`list_devices`).

    Example:
        >>> DeviceMesh((1,), ["batch"])
        <DeviceMesh shape=(1,), axis_names=['batch']>
    """

    def __init__(self, shape, axis_names, devices=None) -> None:
        if not shape or not axis_names:
            raise ValueError("Shape and axis_names cannot be empty. Received: "
                             f"shape={shape}, axis_names={axis_names}")
        if len(shape) != len(axis_names):
            raise ValueError("Shape and axis_names should have same size. "
                             f"Received: shape={shape}, axis_names={axis_names}")
        devices = np.array(list_devices() if devices is None else devices)
        if math.prod(shape) != math.prod(devices.shape):
            raise ValueError("Shape does not match the number of devices. "
                             f"Received: shape={shape}; devices.shape={devices.shape}")
        self._shape = shape
        self._axis_names = axis_names
        self._devices = np.reshape(devices, shape)

    @property
    def shape(self):
        """The grid's shape."""
        return self._shape

    @property
    def axis_names(self):
        """The axes' names."""
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        """The devices, as an array of that shape."""
        return self._devices

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} shape={self.shape}, axis_names={self.axis_names}>"

    __str__ = __repr__


class TensorLayout:
    """How a tensor is split over a mesh: one mesh axis name (or None) per dimension.

    Args:
        axes: per dimension, the mesh axis it is split along, or None (not split).
        device_mesh: the :class:`DeviceMesh` (can be set once, later).

    Example:
        >>> TensorLayout(["batch", None])
        <TensorLayout axes=('batch', None), device_mesh=None>
    """

    def __init__(self, axes, device_mesh: DeviceMesh | None = None) -> None:
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self) -> tuple:
        """The mesh axis (or None) of each dimension."""
        return self._axes

    @property
    def device_mesh(self) -> DeviceMesh | None:
        """The mesh, or None until it is set."""
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh: DeviceMesh) -> None:
        if self._device_mesh is not None:
            raise ValueError("Cannot override device mesh value. Existing value is "
                             f"{self._device_mesh}")
        self._device_mesh = device_mesh
        self._validate_axes()

    def _validate_axes(self) -> None:
        if self._device_mesh:
            valid_axis_names = set(self._device_mesh.axis_names)
            axis_names = set(self._axes) - {None}
            if axis_names - valid_axis_names:
                raise ValueError("Invalid axis names for Layout. Valid axis names: "
                                 f"{valid_axis_names}, Got {axis_names}")

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} axes={self.axes}, device_mesh={self.device_mesh}>"

    __str__ = __repr__
