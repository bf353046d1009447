"""The ``.keras`` archive: what ``model.save`` writes and ``load_model`` reads.

A ``.keras`` file is a zip (stored, not compressed) of three members, exactly as Keras 3
writes it::

    metadata.json       {"keras_version": ..., "date_saved": ...}
    config.json         the model (serialization_lib), with "compile_config"
    model.weights.h5    an HDF5 file of arrays, one group per object:
        vars                          (attrs name=<model name>: the model itself, empty)
        layers/dense/vars/0, /1       kernel, bias of the first Dense
        layers/dense_1/vars/0, /1     the second Dense ...
        layers/input_layer/vars       (empty: an InputLayer has no weights)
        layers/sequential/layers/dense/vars/0 ...   a model used as a layer
        layers/my_block/vars/0        a layer of yours: its own add_weight variables,
        layers/my_block/ffn/layers/dense/vars/0 ... its sublayers by attribute (see
                                      _keras_children: lists as blocks/dense, blocks/dense_1)
        optimizer/vars/0, /1, ...     iterations, learning_rate, then the slots

A layer's group is named after its **class** (snake_case, numbered in order of
``model.layers``), not after the layer: two models with the same architecture have the
same paths whatever their layers are called. A subclass of a built-in layer
(``class ShiftedDense(Dense)``) is saved as its built-in base saves it (a Dense: kernel, bias).

A layer of yours may take over its part of the file, as in Keras: ``save_own_variables(store)``
fills the dict ``store`` (``{"0": array, ...}``, any names) and ``load_own_variables(store)``
reads it back; ``save_assets(path)`` writes plain files into the directory ``path``, kept in
the zip under ``assets/<layer path>/`` and handed back to ``load_assets(path)`` (files are
only copied, never opened or run by minired). The optimizer's variables are in Keras' order
(see ``Optimizer.save_own_variables``), so Keras continues training where minired stopped.

Writing is atomic: the archive is built in memory, written to a temporary file in the same
directory, flushed to disk (``fsync``) and renamed over the target (``os.replace``): the
file on disk is always the old one or the new one, never a mixture.

Reading is careful: the zip's member count and sizes are checked before anything is read,
members are read into memory with those limits, JSON is parsed as JSON, arrays are read
from HDF5 datasets of plain numeric types (h5py never unpickles), and every shape is checked
against the model before the first weight is written.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np

from minired.optimizers.variable_paths import remember_paths
from minired.saving import serialization_lib
from minired.utils.naming import to_snake_case

#: The Keras version whose format this module writes (keras.saving reads it).
KERAS_VERSION = "3.15.1"

_CONFIG_FILENAME = "config.json"
_METADATA_FILENAME = "metadata.json"
_VARS_FNAME_H5 = "model.weights.h5"
_ASSETS_DIRNAME = "assets"
#: Paths saved and loaded as Keras' legacy whole-model HDF5 file (:mod:`.legacy_h5`).
LEGACY_H5_EXTENSIONS = (".h5", ".hdf5")

#: Limits when reading: the archive, each JSON member, the weights and the member count.
MAX_ARCHIVE_BYTES = 4 << 30
MAX_JSON_BYTES = 64 << 20
MAX_WEIGHTS_BYTES = 4 << 30
MAX_MEMBERS = 1000
_MAX_DEFLATE_RATIO = 1100        # DEFLATE cannot expand more than ~1032:1


# -- the h5 layout ----------------------------------------------------------------------------
def _model_entries(model, path: str = "", visited: set[int] | None = None):
    """``(path, name, weights, layer)`` for the model (``layer`` None) and every layer in it,
    Keras' walk: the model itself, then ``model.layers`` (each object once, named after its
    class); a model used as a layer, anywhere, is walked the same way under its path."""
    from minired.models.functional import Functional

    entries = getattr(model, "_keras_saving_entries", None)   # a FeatureSpace: its own walk
    if entries is not None and not path:
        yield from entries()
        return
    if not isinstance(model, Functional):
        raise ValueError(f"Saving the subclassed model {model.name!r} is not implemented in "
                         "minired (Keras names its weights after the model's attributes). "
                         "Build it with the functional API to save it, or keep its weights "
                         "with model.get_weights().")
    visited = set() if visited is None else visited
    visited.add(id(model))
    yield path, model.name, [], (model if path else None)
    children = list(_container_children(model.layers, _join(path, "layers")))
    if serialization_lib.builtin_base(type(model)) is not type(model):
        # a subclass of yours (``super().__init__(inputs, outputs)``): after the graph's
        # layers, those its attributes hold, as Keras' ``_walk_saveable`` (``self.spare``)
        children += list(_keras_children(model, path))
    for child_path, child in children:
        if id(child) in visited:
            continue
        visited.add(id(child))
        yield from _layer_entries(child, child_path, visited)


def _layer_entries(layer, path: str, visited: set[int]):
    """A built-in layer (or one of yours written with forward/backward) as its ``weights``;
    a layer written with ``call`` or a subclass of a built-in one as Keras walks it."""
    from minired.models.functional import Functional

    if isinstance(layer, Functional):               # a Sequential or a functional Model
        yield from _model_entries(layer, path, visited)
        return
    base = serialization_lib.builtin_base(type(layer))
    if base is type(layer) or (not layer._uses_call() and base.__name__ == "Layer"):
        groups = getattr(layer, "_keras_weight_groups", None)   # LSTM: lstm/cell/vars...
        if groups is not None:                                  # (Keras' sublayers)
            for group, weights in groups():
                yield f"{path}/{group}" if group else path, layer.name, weights, layer
            return
        yield path, layer.name, layer.weights, layer
    else:
        yield from _custom_layer_entries(layer, path, visited)


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


#: Built-in layers whose Keras ``save_own_variables`` writes only their kernel and bias (not
#: the weights a subclass adds); every other Keras layer writes all its weights.
_SAVE_KERNEL_AND_BIAS_ONLY = frozenset({"Dense", "BaseConv", "Conv1D", "Conv2D"})


def _own_arrays(layer) -> list:
    """The arrays Keras keeps in a layer's own ``vars``: for a subclass of a built-in layer,
    what the built-in saves (a Dense: kernel, bias, as Keras' ``Dense.save_own_variables``);
    else the Variables it created (trainable ones first)."""
    base = serialization_lib.builtin_base(type(layer))
    if base.__name__ in ("Layer", "Model"):      # (a subclassed model: its sublayers' own)
        return sorted(layer._own_variables, key=lambda v: not v.trainable)
    weights = [w for w, _, _ in base._weight_triples(layer)]
    if any(k.__name__ in _SAVE_KERNEL_AND_BIAS_ONLY for k in base.__mro__):
        added = {id(v) for v in layer._own_variables}
        weights = [w for w in weights if id(w) not in added]
    return weights


def _custom_layer_entries(layer, path: str, visited: set[int]):
    """A layer written with ``call``, as Keras saves it: its own arrays in ``path/vars``,
    then what :func:`_keras_children` finds in it, each object once."""
    yield path, layer.name, _own_arrays(layer), layer
    for child_path, child in _keras_children(layer, path):
        if id(child) in visited:
            continue
        visited.add(id(child))
        yield from _layer_entries(child, child_path, visited)


def _keras_children(layer, path: str):
    """``(path, sublayer)`` for every layer held by ``layer`` (one of yours), in the order
    and under the names Keras' ``saving_lib._walk_saveable`` gives them.

    Keras' rule: the layer's attributes sorted by name with the private ones (``_x``) last,
    leaving out those every ``Layer`` has; an attribute holding a layer (a Sequential or a
    functional Model too) is ``path/<attribute>``; one holding a list, tuple or dict of
    layers (a dict by its values, in insertion order) is a container, see
    :func:`_container_children`. A subclassed model also has Keras' property ``layers``
    (a container, sorted among the attributes: ``self.d`` is ``d``, ``self.proj`` is
    ``layers/dense``). A layer met twice keeps its first path (the caller skips it), but
    its name is used up all the same.
    """
    from minired.layers.layer import Layer
    from minired.models.model import Model

    base_attributes = set(dir(Layer)) | set(vars(Layer()))
    attributes = dict(vars(layer))
    if isinstance(layer, Model):
        attributes["layers"] = layer.layers
    for attribute in sorted(attributes, key=lambda a: f"~{a}" if a.startswith("_") else a):
        if attribute in base_attributes:
            continue
        value = attributes[attribute]
        if isinstance(value, Layer):
            yield _join(path, attribute), value
        elif isinstance(value, list | tuple | dict):
            yield from _container_children(value, _join(path, attribute))


def _container_children(container, path: str, seen: set[int] | None = None):
    """Keras' ``_save_container_state``: the layers of a list, tuple or dict (its values)
    as ``path/<class in snake_case>``, ``_1``, ``_2``... for a second and third of a class,
    a nested container as ``path/container``, ``container_1``...; other values skipped."""
    from minired.layers.layer import Layer

    seen = set() if seen is None else seen
    if id(container) in seen:
        return
    seen.add(id(container))
    used: dict[str, int] = {}
    for value in (container.values() if isinstance(container, dict) else container):
        if isinstance(value, Layer):
            # Keras names the group by its class's __name__ (a class exported under another
            # name, as GroupQueryAttention, says Keras' in `_keras_class_name`)
            cls_name = vars(type(value)).get("_keras_class_name", type(value).__name__)
            name = _unique_name(to_snake_case(cls_name), used)
            yield _join(path, name), value
        elif isinstance(value, list | tuple | dict):
            name = _unique_name("container", used)
            yield from _container_children(value, _join(path, name), seen)


def _unique_name(name: str, used: dict[str, int]) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def weights_to_h5(model, include_optimizer: bool = True) -> bytes:
    """The bytes of ``model.weights.h5`` for ``model`` (and its optimizer's state)."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for path, name, arrays, layer in _model_entries(model):
            if _overrides(layer, "save_own_variables"):
                store: dict = {}
                layer.save_own_variables(store)     # Keras' hook: the layer fills the store
                _write_group(f, path, name, _checked_store(store, name))
            else:
                _write_group(f, path, name, {str(i): a for i, a in enumerate(arrays)})
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None:
            store = {}
            optimizer.save_own_variables(store)
            _write_group(f, "optimizer", optimizer.name, store)
            inner = getattr(optimizer, "inner_optimizer", None)
            if inner is not None:   # a LossScaleOptimizer's: Keras writes its state again
                store = {}
                inner.save_own_variables(store)
                _write_group(f, "optimizer/inner_optimizer", inner.name, store)
    return buffer.getvalue()


def _overrides(layer, method: str) -> bool:
    """Whether ``layer``'s class (one of yours, or a built-in one that sets
    ``_keras_saving_hooks``, as the lookup layers) defines Keras' hook ``method``
    (``save_own_variables``, ``load_own_variables``, ``save_assets``, ``load_assets``)."""
    function = getattr(type(layer), method, None) if layer is not None else None
    return function is not None and (not function.__module__.startswith("minired.")
                                     or getattr(type(layer), "_keras_saving_hooks", False)
                                     or getattr(layer, "lora_enabled", False))  # merged W


def _checked_store(store, name: str) -> dict[str, np.ndarray]:
    """The arrays a ``save_own_variables`` put in ``store``: names usable in HDF5, numbers."""
    checked = {}
    for key, value in store.items():
        if not isinstance(key, str) or not key or "/" in key or key in (".", ".."):
            raise ValueError(f"Layer {name!r}: save_own_variables stored the key {key!r}; "
                             "keys must be non-empty names without '/', like '0' or 'scale'.")
        array = np.asarray(value)
        if array.dtype.kind not in "fiub":
            raise ValueError(f"Layer {name!r}: save_own_variables stored {key!r} of dtype "
                             f"{array.dtype}; only arrays of numbers are saved.")
        checked[key] = array
    return checked


def _write_group(f, path: str, name: str, store: dict) -> None:
    group = f.create_group(f"{path}/vars" if path else "vars")
    group.attrs["name"] = name
    for key, array in store.items():
        group[key] = np.asarray(array)


def load_weights_from_h5(model, data: bytes, include_optimizer: bool = True,
                         skip_mismatch: bool = False) -> None:
    """Copy the arrays of ``data`` (a ``model.weights.h5``) into ``model``.

    Every array is read and checked (count, shape, dtype) first; only then is anything
    written, so a file that does not fit leaves the model as it was. With
    ``skip_mismatch=True`` a layer (or the optimizer) whose arrays do not fit keeps its
    own, the others are loaded, and Keras' warning lists the skipped objects.
    """
    import h5py

    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as error:
        raise ValueError(f"The weights file is not a valid HDF5 file ({error}).") from None
    budget = [len(data) * 2 + (1 << 20)]     # no array may claim more than the file holds
    with f:
        staged, hooks, skipped = [], [], []
        for path, name, weights, layer in _model_entries(model):
            if _overrides(layer, "load_own_variables"):
                hooks.append((layer, _read_store(f, path, budget)))
                continue
            values = _read_group(f, path, budget)
            try:
                staged += _checked_pairs(layer, name, path, weights, values)
            except ValueError as error:
                if not skip_mismatch:
                    raise
                skipped.append((layer if layer is not None else model, error))
        optimizer = getattr(model, "optimizer", None)
        optimizer_values = None
        if include_optimizer and optimizer is not None and _has_group(f, "optimizer"):
            optimizer_values = _read_group(f, "optimizer", budget)
            remember_paths(model)       # Muon and OptimizerMap choose by Keras' paths
            try:
                optimizer_staged = optimizer.check_own_variables(optimizer_values,
                                                                 model.trainable_weights)
            except ValueError as error:
                if not skip_mismatch:
                    raise
                skipped.append((optimizer, error))
                optimizer_values = None
    if skipped:
        _warn_skipped(skipped)
    for target, value in staged:
        target[...] = value
    for layer, store in hooks:                  # Keras' hook: the layer reads its store
        layer.load_own_variables(store)
    if optimizer_values is not None:
        optimizer.load_own_variables(optimizer_staged, model.trainable_weights)


def _checked_pairs(layer, name: str, path: str, weights: list, values: list) -> list:
    """``[(weight, value)]`` of one layer, once the file's arrays are shown to fit it
    (count, shape, kind of dtype); else a ValueError saying what differs."""
    _check_count(layer, name, path, weights, values)
    pairs = []
    for i, (target, value) in enumerate(zip(weights, values, strict=True)):
        if value.shape != target.shape:
            raise ValueError(
                f"Layer {name!r}: weight {i} has shape {value.shape} in the file, but "
                f"the model's has shape {target.shape}.")
        if value.dtype.kind not in "fiu" or (value.dtype.kind == "f") != (
                target.dtype.kind == "f"):
            kind = "a float" if target.dtype.kind == "f" else "an integer"
            raise ValueError(f"Layer {name!r}: weight {i} has dtype {value.dtype} in "
                             f"the file; {kind} array is needed.")
        pairs.append((target, value))
    return pairs


def _warn_skipped(skipped: list) -> None:
    """Keras' warning for ``load_weights(..., skip_mismatch=True)``: how many objects kept
    their own weights, the first one's error, and the list of them."""
    def shown(saveable) -> str:
        name = getattr(saveable, "name", type(saveable).__name__)
        built = getattr(saveable, "built", True)
        return f"<{type(saveable).__name__} name={name}, built={built}>"

    first, error = skipped[0]
    warnings.warn(f"A total of {len(skipped)} objects could not be loaded. Example error "
                  f"message for object {shown(first)}:\n\n{error}\n\nList of objects that "
                  f"could not be loaded:\n[{', '.join(shown(s) for s, _ in skipped)}]",
                  stacklevel=4)


def _check_count(layer, name: str, path: str, weights: list, values: list) -> None:
    """Refuse a file whose count of arrays for a layer is not the model's, saying why."""
    extra = []
    if layer is not None and serialization_lib.builtin_base(type(layer)).__name__ != "Layer":
        saved = {id(w) for w in weights}
        extra = [v for v in layer._own_variables if id(v) not in saved]
    if len(values) == len(weights) and not extra:
        return
    if extra:
        base = serialization_lib.builtin_base(type(layer)).__name__
        raise ValueError(
            f"Layer {name!r} expected {len(weights) + len(extra)} variables, but the file has "
            f"{len(values)}: like Keras, a file keeps only what {base} itself saves, not the "
            f"weights {type(layer).__name__} adds ({[v.name for v in extra]}). Override "
            "save_own_variables and load_own_variables to keep them (Keras cannot load this "
            "file either).")
    raise ValueError(
        f"Layer {name!r} (file path {path or '/'}) expects {len(weights)} weights, "
        f"but the file has {len(values)}. The file is of another architecture.")


def _has_group(f, path: str) -> bool:
    import h5py

    link = f.get(path, getlink=True)
    return isinstance(link, h5py.HardLink)


def _read_group(f, path: str, budget: list[int]) -> list[np.ndarray]:
    """The arrays ``0, 1, ...`` of ``path/vars`` (none if absent), checked by
    :func:`_read_store`, refusing any other name."""
    store = _read_store(f, path, budget)
    if sorted(store, key=lambda n: (len(n), n)) != [str(i) for i in range(len(store))]:
        raise ValueError(f"The weights file has unexpected entries in {path or '/'}/vars: "
                         f"{list(store)[:10]}.")
    return [store[str(i)] for i in range(len(store))]


def _read_store(f, path: str, budget: list[int]) -> dict[str, np.ndarray]:
    """``{name: array}`` of ``path/vars`` (empty if absent), checked one by one: hard links
    only, plain numeric dtypes, no external or virtual storage, sizes within budget."""
    import h5py

    group_path = f"{path}/vars" if path else "vars"
    for prefix in _prefixes(group_path):
        link = f.get(prefix, getlink=True)
        if link is None:
            return {}
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"The weights file links {prefix!r} elsewhere; refused.")
    group = f[group_path]
    if not isinstance(group, h5py.Group):
        raise ValueError(f"The weights file has {group_path!r} as a dataset, not a group.")
    store = {}
    for name in group:
        if not isinstance(group.get(name, getlink=True), h5py.HardLink):
            raise ValueError(f"{group_path}/{name} is a link; refused.")
        store[name] = read_plain_array(group[name], f"{group_path}/{name}", budget)
    return store


def read_plain_array(dataset, where: str, budget: list[int]) -> np.ndarray:
    """The numbers of an HDF5 dataset, once it is shown to be plain: numbers (no objects,
    no records), stored in the file itself (not virtual, not external), and no larger than
    what is left of ``budget`` (the bytes the file can hold; decreased here)."""
    import h5py

    if not isinstance(dataset, h5py.Dataset):
        raise ValueError(f"{where} is not an array.")
    dtype = dataset.dtype
    if dtype.kind not in "fiub" or dtype.hasobject or dtype.names is not None:
        raise ValueError(f"{where} has dtype {dtype}; only numbers are read.")
    if dataset.is_virtual or dataset.external:
        raise ValueError(f"{where} uses external storage; refused.")
    size = int(np.prod(dataset.shape, dtype=np.int64)) * dtype.itemsize
    budget[0] -= size
    if budget[0] < 0:
        raise ValueError(f"{where} claims {size} bytes, more than the file holds: the file "
                         "is corrupt or hostile.")
    return np.asarray(dataset[()])


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


# -- writing files ----------------------------------------------------------------------------
def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write ``model`` (architecture, compile arguments, weights, optimizer state) to a
    ``.keras`` archive that ``keras.saving.load_model`` opens. A path ending in ``.h5``
    (or ``.hdf5``) gets Keras' legacy HDF5 file instead, with Keras' warning (see
    :mod:`.legacy_h5`).

    Example:
        >>> import pathlib, tempfile, zipfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.keras"
        >>> model.save(path)
        >>> sorted(zipfile.ZipFile(path).namelist())
        ['config.json', 'metadata.json', 'model.weights.h5']
    """
    filepath = os.fspath(filepath)
    if filepath.endswith(LEGACY_H5_EXTENSIONS):        # Keras 2's format, still written
        from minired.saving import legacy_h5

        return legacy_h5.save_model(model, filepath, overwrite=overwrite)
    if not filepath.endswith(".keras"):
        raise ValueError("Invalid filepath extension for saving. Please add either a `.keras` "
                         "extension for the native Keras format (recommended) or a `.h5` "
                         f"extension. Received: filepath={filepath}.")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    atomic_write(filepath, archive_bytes(model))


def archive_bytes(model) -> bytes:
    """The bytes of the ``.keras`` zip for ``model``."""
    if not getattr(model, "built", False):
        raise ValueError(f"Cannot save the model {model.name!r}: it is not built yet (give it "
                         "an Input, call build(), or train it first).")
    config_json = json.dumps(serialization_lib.serialize_keras_object(model))
    metadata_json = json.dumps({
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    })
    weights = weights_to_h5(model)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_METADATA_FILENAME, metadata_json)
        zf.writestr(_CONFIG_FILENAME, config_json)
        zf.writestr(_VARS_FNAME_H5, weights)
        for name, data in _assets_of(model):
            zf.writestr(name, data)
    return buffer.getvalue()


def _assets_of(model):
    """``(member name, bytes)`` of the files each layer's ``save_assets(directory)`` writes,
    named ``assets/<layer path>/<file>`` as in Keras."""
    for path, name, _, layer in _model_entries(model):
        if not _overrides(layer, "save_assets"):
            continue
        with tempfile.TemporaryDirectory() as root:
            directory = os.path.join(root, path)
            os.makedirs(directory)
            layer.save_assets(directory)
            for folder, _, files in os.walk(directory):
                for file in sorted(files):
                    full = os.path.join(folder, file)
                    if os.path.islink(full) or not os.path.isfile(full):
                        raise ValueError(f"Layer {name!r}: save_assets made {file!r}, which is "
                                         "not a plain file; only plain files are saved.")
                    relative = os.path.relpath(full, root).replace(os.sep, "/")
                    with open(full, "rb") as f:
                        yield f"{_ASSETS_DIRNAME}/{relative}", f.read()


def _load_assets(model, filepath: str) -> None:
    """Give each layer with ``load_assets`` a directory holding its files from the archive
    (None if it has none, as Keras). The files are only copied there, never opened."""
    layers = [(path, layer) for path, _, _, layer in _model_entries(model)
              if _overrides(layer, "load_assets")]
    if not layers:
        return
    members = _read_asset_members(filepath)
    for path, layer in layers:
        prefix = f"{_ASSETS_DIRNAME}/{path}/"
        files = {name[len(prefix):]: data for name, data in members.items()
                 if name.startswith(prefix)}
        if not files:
            layer.load_assets(None)
            continue
        with tempfile.TemporaryDirectory() as root:
            directory = os.path.join(root, path)
            for relative, data in files.items():
                target = os.path.join(directory, *relative.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(data)
            layer.load_assets(directory)


def _read_asset_members(filepath: str) -> dict[str, bytes]:
    """The archive's ``assets/...`` files, each checked by :func:`_read_member`; a name that
    could escape its directory (``..``, an absolute path) is refused."""
    members = {}
    with open(filepath, "rb") as f, zipfile.ZipFile(f) as zf:
        for info in zf.infolist():
            if not info.filename.startswith(f"{_ASSETS_DIRNAME}/") or info.is_dir():
                continue
            parts = info.filename.split("/")
            if any(part in ("", ".", "..") or "\\" in part or ":" in part for part in parts):
                raise ValueError(f"{filepath}: the asset name {info.filename!r} is not a plain "
                                 "relative path; refused.")
            members[info.filename] = _read_member(zf, info, MAX_WEIGHTS_BYTES)
    return members


def save_weights(model, filepath, overwrite: bool = True, max_shard_size=None) -> None:
    """Write the weights (and optimizer state) to a ``.weights.h5`` file, Keras' layout.

    ``max_shard_size`` (Keras' sharded ``.weights.json`` plus ``_00000.weights.h5`` files)
    is not implemented: only None is accepted."""
    filepath = os.fspath(filepath)
    if max_shard_size is not None:
        raise ValueError("save_weights: minired writes one `.weights.h5` file; sharding "
                         f"(`max_shard_size={max_shard_size!r}`) is not implemented. Leave "
                         "`max_shard_size=None`.")
    if not filepath.endswith(".weights.h5"):
        raise ValueError("The filename must end in `.weights.h5`. "
                         f"Received: filepath={filepath}")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    atomic_write(filepath, weights_to_h5(model))


def atomic_write(filepath: str, data: bytes) -> None:
    """Replace ``filepath`` by ``data`` in one step: a temporary file in the same directory,
    written, flushed to disk, then renamed over the target. A crash at any moment leaves
    the old file or the new one, never a mixture (and at worst a stray ``.tmp`` file)."""
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(filepath)}.", suffix=".tmp",
                                     dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)      # the permissions of an ordinary new file
        os.replace(temporary, filepath)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    if hasattr(os, "O_DIRECTORY"):                # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# -- reading files ----------------------------------------------------------------------------
def checked_file(filepath, limit: int, limit_name: str) -> str:
    """``filepath`` as a string, once it is shown to be a file of at most ``limit`` bytes
    (``limit_name``, the constant a user may raise, is named in the error)."""
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No such file: {filepath!r}.")
    size = os.path.getsize(filepath)
    if size > limit:
        raise ValueError(f"{filepath}: {size} bytes is larger than the limit "
                         f"(minired.saving.{limit_name} = {limit}).")
    return filepath


def read_archive(filepath) -> tuple[dict, bytes | None]:
    """``(config, weights bytes)`` from a ``.keras`` file, with every size checked first."""
    filepath = checked_file(filepath, MAX_ARCHIVE_BYTES, "saving_lib.MAX_ARCHIVE_BYTES")
    try:
        with open(filepath, "rb") as f, zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ValueError(f"{filepath}: the archive has {len(infos)} members, more than "
                                 f"{MAX_MEMBERS}: not a model file.")
            by_name = {info.filename: info for info in infos}
            if _CONFIG_FILENAME not in by_name:
                raise ValueError(f"{filepath} is a zip but not a .keras archive: it has no "
                                 f"{_CONFIG_FILENAME}.")
            config_json = _read_member(zf, by_name[_CONFIG_FILENAME], MAX_JSON_BYTES)
            weights = None
            if _VARS_FNAME_H5 in by_name:
                weights = _read_member(zf, by_name[_VARS_FNAME_H5], MAX_WEIGHTS_BYTES)
            elif any(name.startswith("model.weights") for name in by_name):
                raise ValueError(f"{filepath}: minired reads weights from {_VARS_FNAME_H5} "
                                 "only (this archive stores them in another format).")
    except zipfile.BadZipFile as error:
        raise ValueError(f"{filepath} is not a valid .keras archive (truncated or corrupt: "
                         f"{error}). Nothing was loaded.") from None
    try:
        config = json.loads(config_json.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{filepath}: config.json is not valid JSON ({error}).") from None
    if not isinstance(config, dict):
        raise ValueError(f"{filepath}: config.json must hold a JSON object.")
    return config, weights


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """One member, in memory, refusing sizes above ``limit``, zip bombs and encryption."""
    if info.flag_bits & 0x1:
        raise ValueError(f"{info.filename} is encrypted; refused.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"{info.filename} uses an unsupported compression; refused.")
    if info.file_size > limit:
        raise ValueError(f"{info.filename} declares {info.file_size} bytes, more than the "
                         f"limit {limit}; refused.")
    if (info.compress_type == zipfile.ZIP_DEFLATED
            and info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024):
        ratio = info.file_size / max(info.compress_size, 1)
        raise ValueError(f"{info.filename} expands {ratio:.0f} times: a zip bomb; refused.")
    with zf.open(info) as member:
        data = member.read(limit + 1)
    if len(data) != info.file_size:
        raise ValueError(f"{info.filename} holds {len(data)} bytes but declares "
                         f"{info.file_size}: the archive is corrupt.")
    return data


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """Load a ``.keras`` archive written by minired or by Keras (or, for a path ending in
    ``.h5`` or ``.hdf5``, Keras' legacy HDF5 file: see :mod:`.legacy_h5`).

    Args:
        filepath: the ``.keras`` (or ``.h5``) file.
        custom_objects: ``{name: class or function}`` for your own classes (or register them
            with :func:`~minired.saving.register_keras_serializable`).
        compile: compile the model with the saved optimizer (its state restored), loss and
            metrics, so ``fit`` continues where it stopped.
        safe_mode: accepted for Keras' signature; minired is always safe (it never runs code
            from a file, so ``safe_mode=False`` does not enable ``Lambda`` layers).

    Raises:
        ValueError: for anything minired cannot represent (a class it lacks, an argument it
            does not implement, a weight of the wrong shape) or a damaged file; nothing is
            half-loaded.
    """
    filepath = os.fspath(filepath)
    if filepath.endswith(LEGACY_H5_EXTENSIONS):        # Keras 2's format, still read
        from minired.saving import legacy_h5

        return legacy_h5.load_model(filepath, custom_objects=custom_objects, compile=compile,
                                    safe_mode=safe_mode)
    config, weights = read_archive(filepath)
    with serialization_lib.deserialization_scope(custom_objects, safe_mode):
        model = serialization_lib._deserialize(config, compile=compile)
    from minired.models.functional import Functional

    if not isinstance(model, Functional) and not hasattr(model, "_keras_saving_entries"):
        raise ValueError(f"{filepath} holds a {type(model).__name__}: minired loads "
                         "functional and Sequential models (loading a subclassed model is "
                         "not implemented).")
    if weights is not None:
        load_weights_from_h5(model, weights, include_optimizer=compile)
    _load_assets(model, filepath)
    return model


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Load weights into ``model`` from a ``.weights.h5`` file, a ``.keras`` archive or, as
    Keras, a legacy ``.h5``/``.hdf5`` file (see :func:`minired.saving.legacy_h5.load_weights`).
    With ``skip_mismatch=True`` the layers whose weights do not fit are skipped, with
    Keras' warning (see :func:`load_weights_from_h5`)."""
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5"):
        from minired.saving import legacy_h5  # (it imports this module)

        if skip_mismatch:
            raise ValueError("load_weights: `skip_mismatch=True` is implemented for "
                             "`.weights.h5` and `.keras` files, not for legacy `.h5` files.")
        legacy_h5.load_weights(model, filepath)
        return
    if filepath.endswith(".keras"):
        _, data = read_archive(filepath)
        if data is None:
            raise ValueError(f"{filepath} holds no {_VARS_FNAME_H5}.")
    elif filepath.endswith(".weights.h5"):
        size = os.path.getsize(filepath)
        if size > MAX_WEIGHTS_BYTES:
            raise ValueError(f"{filepath}: {size} bytes exceeds MAX_WEIGHTS_BYTES.")
        with open(filepath, "rb") as f:
            data = f.read()
    else:
        raise ValueError("The filename must end in `.weights.h5` or `.keras`. "
                         f"Received: filepath={filepath}")
    load_weights_from_h5(model, data, skip_mismatch=skip_mismatch)
