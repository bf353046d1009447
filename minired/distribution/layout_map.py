"""``LayoutMap``: a dict from variable paths (matched as regular expressions) to
``TensorLayout``\\ s, as Keras' ``keras.distribution.LayoutMap``."""

from __future__ import annotations

import collections
import re

from minired.distribution.device_mesh import DeviceMesh, TensorLayout


class LayoutMap(collections.abc.MutableMapping):
    """Map variable paths to layouts; a key is a regular expression matched in full.

    Looking up a path returns the layout of the key equal to it, else of the one key that
    matches it (several matches raise ValueError), else None. A tuple of axis names is
    accepted as a value and becomes a :class:`TensorLayout` on this map's mesh.

    Args:
        device_mesh: the :class:`DeviceMesh` of the layouts.

    Example:
        >>> layout_map = LayoutMap(DeviceMesh((1,), ["model"]))
        >>> layout_map[".*dense.*kernel"] = (None, "model")
        >>> layout_map["sequential/dense_1/kernel"].axes, layout_map["dense/bias"]
        ((None, 'model'), None)
    """

    def __init__(self, device_mesh: DeviceMesh) -> None:
        self._layout_map: collections.OrderedDict = collections.OrderedDict()
        self._device_mesh = device_mesh

    def __getitem__(self, key: str) -> TensorLayout | None:
        if key in self._layout_map:
            return self._layout_map[key]
        matching_keys = [pattern for pattern in self._layout_map if re.fullmatch(pattern, key)]
        if len(matching_keys) > 1:
            raise ValueError(f"Path '{key}' matches multiple layout specification keys: "
                             f"{matching_keys}. Please make sure each tensor/variable path "
                             "only matches at most one layout specification key in the "
                             "LayoutMap.")
        if len(matching_keys) == 1:
            return self._layout_map[matching_keys[0]]
        return None

    def __setitem__(self, key: str, layout) -> None:
        if key in self._layout_map:
            raise ValueError(f"{key} already exist in the LayoutMap with value "
                             f"{self._layout_map[key]}. Please make sure to not use "
                             "duplicated keys.")
        if isinstance(layout, tuple):
            layout = TensorLayout(axes=layout, device_mesh=None)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        if layout.device_mesh is None and self.device_mesh is not None:
            layout.device_mesh = self.device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key: str):
        return self._layout_map.pop(key)

    def __len__(self) -> int:
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)

    @property
    def device_mesh(self) -> DeviceMesh:
        """The mesh of the layouts."""
        return self._device_mesh
