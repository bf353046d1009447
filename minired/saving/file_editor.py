"""``KerasFileEditor``: look inside a ``.keras`` or ``.weights.h5`` file and edit its weights.

The weights are read into a nested dict, one level per group of the HDF5 file, with each
object's ``vars`` group folded into the object (``{"layers": {"dense": {"0": kernel,
"1": bias}}, ...}``), exactly as Keras' editor shows them. Edits (rename, delete, add) change
that dict; :meth:`KerasFileEditor.save` writes it as a new ``.weights.h5`` file, which
``model.load_weights`` (minired's or Keras') reads.

Reading goes through minired's careful readers (:mod:`minired.saving.saving_lib`): sizes
checked before anything is read, only plain numeric arrays in the file itself (no links, no
external or virtual storage; h5py never unpickles), and ``config.json`` parsed as JSON and
only shown, never turned into objects: nothing named in a file is imported or run. Writing is
atomic, as ``model.save``.
"""

from __future__ import annotations

import io
import json
import os
import pprint
import zipfile
from typing import Any

import numpy as np

from minired.saving import saving_lib

#: A nested dict of weights: names to arrays or to more such dicts.
WeightsDict = dict[str, Any]


class KerasFileEditor:
    """Inspect, edit and resave the weights of a ``.keras`` or ``.weights.h5`` file, as
    ``keras.saving.KerasFileEditor``: to adapt a saved file after changing a model.

    Opening prints the file's name (and, for a ``.keras`` archive, the Keras version and
    date it was saved with). Objects are named by name (``"dense_1"``, anywhere in the tree
    if it occurs once) or by path (``"layers/dense_1"``).

    Args:
        filepath: a ``.keras`` archive or a ``.weights.h5`` file.

    Attributes:
        weights_dict: the nested dict of weights (see the module docstring).
        config: the parsed ``config.json`` of a ``.keras`` archive (None for weights only).
        metadata: the parsed ``metadata.json`` (None for weights only).
        object_metadata: ``{"/path/of/object": {attribute: value}}``, the HDF5 attributes
            of each group (the layer's ``name``).

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(3)])
        >>> model.save_weights(os.path.join(folder, "m.weights.h5"))
        >>> editor = KerasFileEditor(os.path.join(folder, "m.weights.h5"))  # doctest: +ELLIPSIS
        Keras model file '.../m.weights.h5'
        >>> editor.weights_dict["layers"]["dense"]["0"].shape
        (2, 3)
        >>> editor.rename_object("dense", "dense_old")
        >>> editor.add_weights("dense_old", {"2": np.zeros(3)})
        >>> editor.save(os.path.join(folder, "edited.weights.h5"))
    """

    def __init__(self, filepath: str | os.PathLike):
        filepath = os.fspath(filepath)
        self.filepath = filepath
        self.metadata: dict | None = None
        self.config: dict | None = None
        self.model = None
        if filepath.endswith(".keras"):
            self.config, data = saving_lib.read_archive(filepath)
            self.metadata = _read_metadata(filepath)
            if data is None:
                raise ValueError(f"{filepath} holds no {saving_lib._VARS_FNAME_H5}.")
        elif filepath.endswith(".weights.h5"):
            saving_lib.checked_file(filepath, saving_lib.MAX_WEIGHTS_BYTES,
                                    "saving_lib.MAX_WEIGHTS_BYTES")
            with open(filepath, "rb") as f:
                data = f.read()
        else:
            raise ValueError("Invalid filename: expected a `.keras` `.weights.h5` extension. "
                             f"Received: filepath={filepath}")
        self.weights_dict, self.object_metadata = _read_weights(data, filepath)
        print(self._generate_filepath_info())
        if self.metadata is not None:
            print(self._generate_metadata_info())

    # -- looking ---------------------------------------------------------------------------
    def _generate_filepath_info(self) -> str:
        return f"Keras model file '{self.filepath}'"

    def _generate_config_info(self) -> str:
        return pprint.pformat(self.config)

    def _generate_metadata_info(self) -> str:
        return (f"Saved with Keras {self.metadata.get('keras_version')} - date: "
                f"{self.metadata.get('date_saved')}")

    def summary(self) -> None:
        """Print the tree of the file's objects and weights (shape and dtype of each).

        Example:
            >>> editor = KerasFileEditor.__new__(KerasFileEditor)
            >>> editor.weights_dict = {"layers": {"dense": {"0": np.zeros((2, 3)),
            ...                                             "1": np.zeros(3)}}}
            >>> editor.summary()
            Weights structure
              > layers
                  └─ dense
                      ├─ 0: shape=(2, 3), dtype=float64
                      └─ 1: shape=(3,), dtype=float64
        """
        print("Weights structure")
        for line in _tree_lines(self.weights_dict, prefix="  "):
            print(line)

    def compare(self, reference_model) -> dict[str, Any]:
        """List the differences between the file and ``reference_model``'s weights.

        Every weight of one missing from the other, and every shape that differs, is
        printed and counted.

        Args:
            reference_model: a model whose weights the file should fit.

        Returns:
            ``{"status": "success" or "error", "error_count": ..., "match_count": ...}``.
        """
        print("Running comparison")
        reference, _ = _read_weights(saving_lib.weights_to_h5(reference_model), "the model")
        checked: set[str] = set()        # paths already reported (not reported twice)
        errors, matches = _compare(self.weights_dict, reference, "", "saved file",
                                   "reference model", checked)
        more_errors, _ = _compare(reference, self.weights_dict, "", "reference model",
                                  "saved file", checked)
        errors += more_errors
        print("─────────────────────")
        if errors == 0:
            print("Comparison successful: saved file is compatible with the reference model")
            print(f"    Found {matches} matching weight{'' if matches == 1 else 's'}")
        else:
            print(f"Found {errors} error{'' if errors == 1 else 's'}: saved file is not "
                  "compatible with the reference model")
        return {"status": "success" if errors == 0 else "error", "error_count": errors,
                "match_count": matches}

    # -- editing ---------------------------------------------------------------------------
    def _parent_of(self, object_name: str) -> tuple[WeightsDict, str]:
        """The dict holding ``object_name`` (a path, or a name found exactly once) and the
        key in it."""
        if "/" in object_name:
            *parents, leaf = object_name.split("/")
            node = self.weights_dict
            for part in parents:
                if not isinstance(node.get(part), dict):
                    raise ValueError(f"Path '{object_name}' not found in model.")
                node = node[part]
            if leaf not in node:
                raise ValueError(f"Path '{object_name}' not found in model.")
            return node, leaf
        holders = _holders(self.weights_dict, object_name)
        if len(holders) > 1:
            raise ValueError(f"Name '{object_name}' occurs more than once in the model; "
                             "try passing a complete path")
        if not holders:
            raise ValueError(f"Source name '{object_name}' does not appear in the model. Use "
                             "`editor.summary()` to list all objects.")
        return holders[0], object_name

    def rename_object(self, object_name: str, new_name: str) -> None:
        """Rename an object (a layer...) of the file.

        Args:
            object_name: its name or path (``"dense_2"`` or ``"layers/dense_2"``).
            new_name: the new name (a name, not a path).
        """
        if "/" in new_name:
            raise ValueError("Argument `target_name` should be a leaf name, not a full path "
                             f"name. Received: target_name='{new_name}'")
        parent, key = self._parent_of(object_name)
        parent[new_name] = parent.pop(key)

    def delete_object(self, object_name: str) -> None:
        """Remove an object (a layer...) and all its weights.

        Args:
            object_name: its name or path (``"dense_2"`` or ``"layers/dense_2"``).
        """
        parent, key = self._parent_of(object_name)
        parent.pop(key)

    def add_object(self, object_path: str, weights: dict[str, Any]) -> None:
        """Add a new object with its weights.

        Args:
            object_path: its full path (``"layers/dense_2"``); every parent must exist.
            weights: ``{weight name: array}``, e.g. ``{"0": kernel, "1": bias}``.
        """
        weights = _checked_weights(weights)
        *parents, leaf = object_path.split("/")
        node = self.weights_dict
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ValueError(f"Path '{'/'.join(parents)}' not found in model.")
            node = node[part]
        node[leaf] = weights

    def delete_weight(self, object_name: str, weight_name: str) -> None:
        """Remove one weight of an object.

        Args:
            object_name: the object's name or path.
            weight_name: the weight's name (``"0"``, ``"1"``...).
        """
        parent, key = self._parent_of(object_name)
        if weight_name not in parent[key]:
            raise ValueError(f"Weight {weight_name} not found in object {object_name}. "
                             f"Weights found: {list(parent[key].keys())}")
        parent[key].pop(weight_name)

    def add_weights(self, object_name: str, weights: dict[str, Any]) -> None:
        """Add weights to an existing object (replacing any of the same name).

        Args:
            object_name: the object's name or path.
            weights: ``{weight name: array}``.
        """
        weights = _checked_weights(weights)
        parent, key = self._parent_of(object_name)
        parent[key].update(weights)

    # -- writing ---------------------------------------------------------------------------
    def save(self, filepath: str | os.PathLike) -> None:
        """Write the (edited) weights to a new ``.weights.h5`` file, atomically.

        Args:
            filepath: the file to write; must end in ``.weights.h5``.
        """
        filepath = os.fspath(filepath)
        if not filepath.endswith(".weights.h5"):
            raise ValueError("Invalid `filepath` argument: expected a `.weights.h5` "
                             f"extension. Received: filepath={filepath}")
        saving_lib.atomic_write(filepath, _weights_to_h5(self.weights_dict))

    def resave_weights(self, filepath: str | os.PathLike) -> None:
        """The same as :meth:`save` (Keras' other name for it)."""
        self.save(filepath)


# -- reading ----------------------------------------------------------------------------------
def _read_metadata(filepath: str) -> dict | None:
    """The parsed ``metadata.json`` of a ``.keras`` archive (None if it has none)."""
    with open(filepath, "rb") as f, zipfile.ZipFile(f) as zf:
        infos = {info.filename: info for info in zf.infolist()}
        if saving_lib._METADATA_FILENAME not in infos:
            return None
        raw = saving_lib._read_member(zf, infos[saving_lib._METADATA_FILENAME],
                                      saving_lib.MAX_JSON_BYTES)
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{filepath}: metadata.json is not valid JSON ({error}).") from None
    return metadata if isinstance(metadata, dict) else None


def _read_weights(data: bytes, where: str) -> tuple[WeightsDict, dict[str, dict]]:
    """The nested weights dict and the group attributes of a weights HDF5 file's bytes."""
    import h5py

    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as error:
        raise ValueError(f"{where}: the weights are not a valid HDF5 file ({error}).") from None
    budget = [len(data) * 2 + (1 << 20)]     # no array may claim more than the file holds
    metadata: dict[str, dict] = {}
    with f:
        try:
            weights = _read_group(f, "", budget, metadata)
        except RecursionError:      # a group hard-linked inside itself, or absurd depth
            raise ValueError(f"{where}: the weights file's groups nest without end (a group "
                             "linked inside itself); refused.") from None
    return weights, metadata


def _read_group(group, inner_path: str, budget: list[int], metadata: dict) -> WeightsDict:
    """One HDF5 group as a dict, as Keras' editor reads it: a subgroup holding ``vars`` is
    replaced by its ``vars`` group, empty groups are left out, links are refused."""
    import h5py

    attributes = {key: _plain_attribute(value) for key, value in group.attrs.items()}
    if attributes:
        metadata[inner_path] = attributes
    result: WeightsDict = {}
    for key in group:
        path = f"{inner_path}/{key}"
        if not isinstance(group.get(key, getlink=True), h5py.HardLink):
            raise ValueError(f"Not allowed: H5 file with a link at {path}.")
        value = group[key]
        if isinstance(value, h5py.Group):
            if len(value) == 0:
                continue
            if "vars" in value:
                if not isinstance(value.get("vars", getlink=True), h5py.HardLink):
                    raise ValueError(f"Not allowed: H5 file with a link at {path}/vars.")
                value = value["vars"]
                if not isinstance(value, h5py.Group) or len(value) == 0:
                    continue
            result[key] = _read_group(value, path, budget, metadata)
        elif isinstance(value, h5py.Dataset):
            result[key] = saving_lib.read_plain_array(value, path, budget)
    return result


def _plain_attribute(value: Any) -> Any:
    """An HDF5 attribute as a plain Python value (bytes decoded)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- looking and editing ----------------------------------------------------------------------
def _tree_lines(weights: WeightsDict, prefix: str, is_first: bool = True) -> list[str]:
    """The lines of :meth:`KerasFileEditor.summary`, with Keras' connectors (and, as Keras
    prints them, without the objects' ``name`` attributes)."""
    lines = []
    for index, (key, value) in enumerate(weights.items()):
        is_last = index == len(weights) - 1
        if is_first:
            connector, is_first = "> ", False
        else:
            connector = "└─ " if is_last else "├─ "
        if isinstance(value, dict):
            lines.append(f"{prefix}{connector}{key}")
            lines += _tree_lines(value, prefix + ("    " if is_last else "│   "), is_first)
        else:
            lines.append(f"{prefix}{connector}{key}: shape={value.shape}, dtype={value.dtype}")
    return lines


def _holders(weights: WeightsDict, name: str) -> list[WeightsDict]:
    """Every dict of the tree that has the key ``name`` (each counted once)."""
    found = [weights] if name in weights else []
    for value in weights.values():
        if isinstance(value, dict):
            found += _holders(value, name)
    return found


def _compare(target: WeightsDict, reference: WeightsDict, inner_path: str, target_name: str,
             reference_name: str, checked: set[str]) -> tuple[int, int]:
    """``(errors, matches)`` for every entry of ``reference``: missing from ``target``, or a
    weight of another shape. A path reported once is not reported again."""
    errors = matches = 0
    for key, value in reference.items():
        path = f"{inner_path}/{key}"
        if path in checked:
            continue
        if key not in target:
            errors += 1
            checked.add(path)
            kind = "Object" if isinstance(value, dict) else "Weight"
            print(f"...{kind} {path} present in {reference_name}, missing from {target_name}")
            if isinstance(value, dict):
                print(f"    In {reference_name}, {path} contains the following keys: "
                      f"{list(value.keys())}")
        elif isinstance(value, dict) != isinstance(target[key], dict):
            errors += 1
            checked.add(path)
            kinds = ("an object", "a weight") if isinstance(value, dict) else ("a weight",
                                                                               "an object")
            print(f"...{path} is {kinds[0]} in {reference_name}, {kinds[1]} in {target_name}")
        elif isinstance(value, dict):
            more_errors, more_matches = _compare(target[key], value, path, target_name,
                                                 reference_name, checked)
            errors, matches = errors + more_errors, matches + more_matches
        elif np.shape(target[key]) != np.shape(value):
            errors += 1
            checked.add(path)
            print(f"...Weight shape mismatch for {path}\n    In {reference_name}: "
                  f"shape={np.shape(value)}\n    In {target_name}: shape={np.shape(target[key])}")
        else:
            matches += 1
    return errors, matches


def _checked_weights(weights: Any) -> dict[str, np.ndarray]:
    """``weights`` as ``{name: array of numbers}``, or a ValueError saying what is wrong."""
    if not isinstance(weights, dict):
        raise ValueError("Argument `weights` should be a dict where keys are weight names "
                         "(usually '0', '1', etc.) and values are NumPy arrays. "
                         f"Received: type(weights)={type(weights)}")
    checked = {}
    for name, value in weights.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"Argument `weights`: each key must be a weight name without "
                             f"'/' (like '0'), got {name!r}.")
        array = np.asarray(value)
        if array.dtype.kind not in "fiub":
            raise ValueError(f"Argument `weights`: {name!r} must be an array of numbers, got "
                             f"dtype {array.dtype}.")
        checked[name] = array
    return checked


# -- writing ----------------------------------------------------------------------------------
def _weights_to_h5(weights: WeightsDict) -> bytes:
    """The bytes of a ``.weights.h5`` file holding ``weights``: each dict's arrays in its
    group's ``vars`` (Keras' layout), empty dicts left out."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        def write(node: WeightsDict, inner_path: str) -> None:
            arrays = {}
            for name, value in node.items():
                if isinstance(value, dict):
                    if value:
                        write(value, f"{inner_path}/{name}" if inner_path else name)
                else:
                    arrays[name] = value
            if arrays:
                group = f.create_group(f"{inner_path}/vars" if inner_path else "vars")
                for name, value in arrays.items():
                    group[name] = np.asarray(value)

        write(weights, "")
    return buffer.getvalue()
