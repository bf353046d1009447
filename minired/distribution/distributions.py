"""Distributions (how a model's variables and data are laid out over a device mesh) and
the global one, as Keras' ``keras.distribution``.

``DataParallel`` copies the model on every device and splits each batch along the
``"batch"`` axis; ``ModelParallel`` also splits variables as a :class:`LayoutMap` says.
minired has one device, ``cpu:0``: every split has one part, the whole array, so a model
trained under a distribution computes exactly what it computes without one (as Keras on a
one-CPU TensorFlow does; ``comparisons/misc_names.py`` checks it). The classes answer the
same questions as Keras' (layouts, replicas, shard ids) with the same checks.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np

from minired.distribution.device_mesh import DeviceMesh, TensorLayout
from minired.distribution.devices import list_devices
from minired.distribution.layout_map import LayoutMap

DEFAULT_BATCH_DIM_NAME = "batch"
_GLOBAL: list = [None]       # the distribution set by set_distribution


class Distribution:
    """Base class of the distributions: a mesh, the name of its batch axis, and the layouts.

    Args:
        device_mesh: the :class:`DeviceMesh`.
        batch_dim_name: the mesh axis the batch is split along.
        auto_shard_dataset: whether to shard the dataset over processes (minired has one).
    """

    def __init__(self, device_mesh: DeviceMesh, batch_dim_name: str | None = None,
                 auto_shard_dataset: bool = True) -> None:
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset
        self._num_processes = 1
        self._process_id = 0
        self._is_multi_process = False

    @property
    def num_processes(self) -> int:
        """Total number of processes in the cluster (1)."""
        return self._num_processes

    @property
    def num_model_replicas(self) -> int:
        """Number of model replicas."""
        raise NotImplementedError()

    @property
    def data_shard_id(self) -> int:
        """The data shard of this process."""
        if self.num_model_replicas >= self.num_processes:
            return self._process_id
        return self._process_id // (self.num_processes // self.num_model_replicas)

    def get_data_layout(self, data_shape) -> TensorLayout:
        """The layout of an input batch of shape ``data_shape``."""
        raise NotImplementedError()

    def get_variable_layout(self, variable) -> TensorLayout:
        """The layout of ``variable``."""
        raise NotImplementedError()

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        """The layout of the intermediate tensor at ``path``, or None."""
        raise NotImplementedError()

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Make this distribution the global one inside the block."""
        original = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(original)

    @property
    def device_mesh(self) -> DeviceMesh:
        """The mesh."""
        return self._device_mesh

    @property
    def batch_dim_name(self) -> str | None:
        """The mesh axis the batch is split along."""
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self) -> bool:
        """Whether the dataset is sharded over processes."""
        return self._auto_shard_dataset

    @auto_shard_dataset.setter
    def auto_shard_dataset(self, auto_shard_dataset: bool) -> None:
        self._auto_shard_dataset = auto_shard_dataset

    def distribute_dataset(self, dataset):
        """The part of ``dataset`` this process reads: all of it (one process)."""
        return dataset

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} device_mesh={self.device_mesh}>"

    __str__ = __repr__


class DataParallel(Distribution):
    """Data parallelism: each device holds the whole model and a slice of each batch.

    Give a 1-D ``device_mesh`` or a list of ``devices`` (not both); with neither, the mesh
    is built from :func:`list_devices` (here ``["cpu:0"]``).

    Args:
        device_mesh: a :class:`DeviceMesh` (its first axis splits the batch).
        devices: a list of devices.
        auto_shard_dataset: whether to shard the dataset over processes.

    Example:
        >>> DataParallel().get_data_layout((32, 4)).axes
        ('batch', None)
    """

    def __init__(self, device_mesh: DeviceMesh | None = None, devices=None,
                 auto_shard_dataset: bool = True) -> None:
        if device_mesh:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError("Expect `mesh` to be an instance of `DeviceMesh`. Received: "
                                 f"mesh={device_mesh} (of type {type(device_mesh)})")
            super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)
            if self.device_mesh.devices.ndim != 1:
                warnings.warn("Expect the input mesh to be 1D, but received "
                              f"mesh.devices.ndim={device_mesh.devices.ndim}. The first axis "
                              "will be used for data-parallel sharding.", stacklevel=2)
            return
        devices = np.array(devices if devices else list_devices())
        mesh = DeviceMesh(shape=devices.shape, axis_names=[DEFAULT_BATCH_DIM_NAME],
                          devices=devices)
        super().__init__(mesh, DEFAULT_BATCH_DIM_NAME, auto_shard_dataset)

    @property
    def num_model_replicas(self) -> int:
        """One replica per device."""
        return self.device_mesh.devices.size

    def get_data_layout(self, data_shape) -> TensorLayout:
        """Split the first (batch) dimension along the batch axis."""
        spec = [None] * len(data_shape)
        spec[0] = self.batch_dim_name
        return TensorLayout(spec, self.device_mesh)

    def get_variable_layout(self, variable) -> TensorLayout:
        """Replicate: no dimension is split (unless the variable has its own layout)."""
        if getattr(variable, "_layout", None) is not None:
            return variable._layout
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path: str) -> None:
        """Intermediate tensors keep their layout: None."""
        return None


class ModelParallel(Distribution):
    """Model parallelism: variables split as a :class:`LayoutMap` says, data along the
    batch axis.

    Args:
        layout_map: the :class:`LayoutMap` (required, keyword only).
        batch_dim_name: the mesh axis for the batch (default: the mesh's first axis).
        auto_shard_dataset: whether to shard the dataset over processes.

    Example:
        >>> layout_map = LayoutMap(DeviceMesh((1, 1), ["batch", "model"]))
        >>> layout_map[".*kernel"] = (None, "model")
        >>> ModelParallel(layout_map=layout_map).get_tensor_layout("dense/kernel").axes
        (None, 'model')
    """

    def __init__(self, *, layout_map: LayoutMap | None = None,
                 batch_dim_name: str | None = None, auto_shard_dataset: bool = True,
                 **kwargs) -> None:
        kwargs.pop("device_mesh", None)
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError("Argument `layout_map` must be a `LayoutMap` instance. "
                             f"Received: layout_map={layout_map}")
        device_mesh = layout_map.device_mesh
        batch_dim_name = batch_dim_name or device_mesh.axis_names[0]
        super().__init__(device_mesh, batch_dim_name, auto_shard_dataset)
        self._layout_map = layout_map

    @property
    def num_model_replicas(self) -> int:
        """The size of the mesh's batch axis."""
        index = list(self.device_mesh.axis_names).index(self.batch_dim_name)
        return self.device_mesh.shape[index]

    def get_data_layout(self, data_shape) -> TensorLayout:
        """Split the first (batch) dimension along the batch axis."""
        spec = [None] * len(data_shape)
        spec[0] = self.batch_dim_name
        return TensorLayout(spec, self.device_mesh)

    def get_variable_layout(self, variable) -> TensorLayout:
        """The layout-map entry for ``variable.path``, else replicated."""
        if getattr(variable, "_layout", None) is not None:
            return variable._layout
        layout = self._layout_map[variable.path]
        if layout is not None:
            return layout
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        """The layout-map entry for ``path``, or None."""
        return self._layout_map[path]


def distribute_tensor(tensor, layout: TensorLayout):
    """``tensor`` laid out as ``layout`` says; on one device that is ``tensor`` itself.

    Example:
        >>> x = np.ones((2, 3))
        >>> distribute_tensor(x, TensorLayout(["batch", None])) is x
        True
    """
    return tensor


def distribution() -> Distribution | None:
    """The global distribution (None when none is set)."""
    return _GLOBAL[0]


def set_distribution(value: Distribution | None) -> None:
    """Set the global distribution (None: no distribution)."""
    _GLOBAL[0] = value
