"""Keras' legacy HDF5 whole-model file: ``model.save("model.h5")``, ``load_model("model.h5")``.

Keras 3 still reads and writes this Keras 2 format (``keras/src/legacy/saving``), so older
scripts run unchanged; ``.keras`` is the format to prefer (see :mod:`.saving_lib`). One HDF5
file holds everything, laid out as Keras 3 writes it::

    attrs  keras_version, backend
           model_config      JSON {"class_name": "Sequential", "config": {...}}
           training_config   JSON, compiled models only: loss, metrics, loss_weights...,
                             and "optimizer_config" {"class_name": "Adam", "config": {...}}
    model_weights/                  attrs layer_names = the names of model.layers
        dense/                      attrs weight_names = ["sequential/dense/kernel", ...]
            sequential/dense/kernel, sequential/dense/bias     the arrays, at those paths
        top_level_model_weights/    the model's own weights (none for these models)
    optimizer_weights/              attrs weight_names = ["adam/iteration", ...]
        adam/iteration, adam/learning_rate, adam/sequential_dense_kernel_momentum, ...

The configs are Keras' *legacy* ones: each layer of the model is ``{"class_name", "config"}``
with no ``"module"`` (a class of yours is named ``"package>Name"`` if registered). Reading
finds every class by name only, through :func:`~.serialization_lib.deserialize_keras_object`
(minired's classes, the registered ones and ``custom_objects``): nothing is imported,
unpickled or run, and a ``Lambda`` layer (Python code in the file) is refused. Keras 2 files
(``batch_input_shape``, calls written as lists) are read as Keras 3 reads them.

The weights are matched by **position**, as in Keras: the n-th layer with weights in the file
goes to the n-th layer with weights in the model (trainable weights first, then the others).
Every count, shape and dtype is checked before the first weight is written.

The optimizer: its variables are written as Keras writes them. When loading, Keras 3.15
builds the optimizer on no variables and so keeps only ``iterations`` and the learning rate
(the moments start again from zero); minired does the same. To continue training with the
whole optimizer state, save a ``.keras`` file.

Writing is atomic, as for ``.keras`` files (:func:`.saving_lib.atomic_write`).
"""

from __future__ import annotations

import io
import json
import os
import warnings

import numpy as np

from minired.saving import serialization_lib
from minired.saving.saving_lib import (
    KERAS_VERSION,
    MAX_JSON_BYTES,
    atomic_write,
    checked_file,
    read_plain_array,
)

#: Keras' warning when a model is saved to ``.h5`` (``keras.saving.save_model``).
LEGACY_WARNING = (
    "You are saving your model as an HDF5 file via `model.save()` or "
    "`keras.saving.save_model(model)`. This file format is considered legacy. We recommend "
    "using instead the native Keras format, e.g. `model.save('my_model.keras')` or "
    "`keras.saving.save_model(model, 'my_model.keras')`. ")

#: The largest attribute HDF5 keeps in an object header: longer name lists are split into
#: ``layer_names0``, ``layer_names1``... (Keras' ``HDF5_OBJECT_HEADER_LIMIT``).
HDF5_OBJECT_HEADER_LIMIT = 64512

#: The largest model file minired opens (4 GiB, as the ``.keras`` archives).
MAX_H5_BYTES = 4 << 30


# -- writing ----------------------------------------------------------------------------------
def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Write ``model`` to a legacy ``.h5`` file that ``keras.saving.load_model`` opens.

    Args:
        model: a built Sequential or functional model.
        filepath: the ``.h5`` (or ``.hdf5``) file.
        overwrite: replace an existing file (else FileExistsError).
        include_optimizer: keep the compile arguments and the optimizer's variables.

    Example:
        >>> import pathlib, tempfile, h5py
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.h5"
        >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(2)])
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")      # the format is legacy: Keras warns
        ...     save_model(model, path)
        >>> sorted(h5py.File(path, "r"))
        ['model_weights']
    """
    from minired.models.functional import Functional

    filepath = os.fspath(filepath)
    if not isinstance(model, Functional):
        raise ValueError(f"Saving the subclassed model {model.name!r} is not implemented in "
                         "minired. Build it with the functional API to save it.")
    if not model.built:
        raise ValueError(f"Cannot save the model {model.name!r}: it is not built yet (give it "
                         "an Input, call build(), or train it first).")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    warnings.warn(LEGACY_WARNING, UserWarning, stacklevel=4)   # model.save's caller
    atomic_write(filepath, h5_bytes(model, include_optimizer))


def h5_bytes(model, include_optimizer: bool = True) -> bytes:
    """The bytes of the ``.h5`` file for ``model``."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = "tensorflow"     # minired computes as Keras on TensorFlow does
        f.attrs["model_config"] = json.dumps(model_config(model))
        training = training_config(model) if include_optimizer else None
        if training is not None:
            f.attrs["training_config"] = json.dumps(training)
        _write_weights(f.create_group("model_weights"), model)
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None:
            _write_named_arrays(f.create_group("optimizer_weights"),
                                _optimizer_arrays(optimizer, model))
    return buffer.getvalue()


def model_config(model) -> dict:
    """Keras' legacy ``model_config``: ``{"class_name": ..., "config": ...}``, every layer of
    the model (and of a model inside it) written without ``"module"``."""
    return {"class_name": type(model).__name__,
            "config": _legacy_model_config(serialization_lib.serialize_keras_object(model))}


def _legacy_model_config(serialized: dict) -> dict:
    config = dict(serialized["config"])
    config["layers"] = [_legacy_layer(entry) for entry in config["layers"]]
    return config


def _legacy_layer(entry: dict) -> dict:
    """One layer as Keras' legacy serialization writes it: its (registered) class name and
    config, then, in a functional model, its ``name`` and ``inbound_nodes``."""
    legacy = _legacy_object(entry)
    if "layers" in legacy["config"] and entry.get("class_name") in ("Sequential",
                                                                    "Functional"):
        legacy["config"] = _legacy_model_config(entry)
    legacy.update({key: entry[key] for key in ("name", "inbound_nodes") if key in entry})
    return legacy


def _legacy_object(value):
    """A serialized object in Keras' legacy form: ``{"class_name", "config"}`` (a function:
    just its name); lists and dicts of them converted item by item."""
    if isinstance(value, dict) and "class_name" in value:
        if value["class_name"] == "function":
            return value["config"]
        return {"class_name": value.get("registered_name") or value["class_name"],
                "config": value["config"]}
    if isinstance(value, list):
        return [_legacy_object(item) for item in value]
    if isinstance(value, dict):
        return {key: _legacy_object(item) for key, item in value.items()}
    return value


def training_config(model) -> dict | None:
    """Keras' ``training_config``: the compile arguments (losses and metrics in the legacy
    form) and the optimizer as ``optimizer_config``; None if the model is not compiled."""
    compile_config = model.get_compile_config()
    if not compile_config or getattr(model, "optimizer", None) is None:
        return None
    optimizer = compile_config.pop("optimizer")
    config = {key: _legacy_object(value) for key, value in compile_config.items()}
    config["optimizer_config"] = _legacy_object(optimizer)
    return config


def _write_weights(group, model) -> None:
    """``model_weights``: one group per layer, named after it, holding its weights (Keras'
    legacy order: trainable, then non-trainable) at their Keras paths."""
    layers = _unique(model.layers)
    _write_names(group, "layer_names", [layer.name for layer in layers])
    group.attrs["backend"] = "tensorflow"
    group.attrs["keras_version"] = KERAS_VERSION
    paths = weight_paths(model)
    for layer in sorted(layers, key=lambda layer: layer.name):
        _write_named_arrays(group.create_group(layer.name),
                            [(paths[id(w)], w) for w in _legacy_weights(layer)])
    _write_named_arrays(group.create_group("top_level_model_weights"), [])


def _write_named_arrays(group, named: list) -> None:
    """``weight_names`` and one dataset per name (a name with ``/`` makes subgroups)."""
    _write_names(group, "weight_names", [name for name, _ in named])
    for name, array in named:
        group.create_dataset(name, data=np.asarray(array))


def _write_names(group, attribute: str, names: list[str]) -> None:
    """A list of names as an attribute, split into ``name0``, ``name1``... when it would not
    fit an HDF5 object header (Keras' ``save_attributes_to_hdf5_group``)."""
    encoded = np.array([name.encode("utf8") for name in names], dtype=object)
    size = sum(len(name) for name in encoded)
    chunks = max(1, -(-size // HDF5_OBJECT_HEADER_LIMIT))
    if chunks == 1:
        group.attrs[attribute] = encoded if names else np.array([], dtype=np.float64)
        return
    for i, chunk in enumerate(np.array_split(encoded, chunks)):
        group.attrs[f"{attribute}{i}"] = chunk


def _unique(layers: list) -> list:
    """Each layer once, in order (Keras' ``model.layers`` lists a layer once)."""
    seen: set[int] = set()
    return [layer for layer in layers if not (id(layer) in seen or seen.add(id(layer)))]


def _legacy_weights(layer) -> list:
    """Keras' legacy order of a layer's weights: trainable, then non-trainable."""
    return layer.trainable_weights + layer.non_trainable_weights


def weight_paths(model) -> dict[int, str]:
    """``id(weight) -> Keras' path`` (``"sequential/dense/kernel"``): the layer's name, after
    the name of the Sequential that built it, then the weight's name.

    Example:
        >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(2)], name="seq")
        >>> sorted(weight_paths(model).values())
        ['seq/dense/bias', 'seq/dense/kernel']
    """
    from minired.models.functional import Functional
    from minired.models.sequential import Sequential

    paths: dict[int, str] = {}

    def visit(layer, scope: str) -> None:
        if isinstance(layer, Functional):
            inner = f"{scope}{layer.name}/" if isinstance(layer, Sequential) else scope
            for sublayer in layer.unique_layers:
                visit(sublayer, inner)
            return
        attribute_of = {id(value): name for name, value in vars(layer).items()}
        keras_names = getattr(layer, "_keras_weight_names", None)     # lstm_cell/kernel...
        keras_names = keras_names() if keras_names is not None else None
        for i, weight in enumerate(layer.weights):
            name = getattr(weight, "name", None) or attribute_of.get(id(weight), f"weight_{i}")
            name = keras_names[i] if keras_names else name
            path = f"{scope}{layer.name}/{name}"
            while path in paths.values():          # two weights named alike: keep both
                path += "_1"
            paths.setdefault(id(weight), path)

    visit(model, "")
    return paths


def _optimizer_arrays(optimizer, model) -> list[tuple[str, np.ndarray]]:
    """The optimizer's variables in Keras' order, named as Keras names them:
    ``adam/iteration``, ``adam/learning_rate``, ``adam/<weight path>_momentum``..."""
    paths = weight_paths(model)
    state = optimizer.variables
    names = {id(state[0]): "iteration", id(optimizer._learning_rate): "learning_rate"}
    variables = getattr(optimizer, "_trainable_variables", None) or []
    for attribute, suffix in (("_model_variables_moving_average", "average"),    # use_ema
                              ("_accumulated_gradients", "gradient_accumulator")):
        for variable, array in zip(variables, getattr(optimizer, attribute, None) or [],
                                   strict=False):
            names[id(array)] = f"{paths.get(id(variable), 'variable').replace('/', '_')}_{suffix}"
    for group in optimizer._keras_slot_order:
        for attribute in group:
            for variable, array in zip(variables, getattr(optimizer, attribute, None) or [],
                                       strict=False):
                path = paths.get(id(variable), "variable").replace("/", "_")
                names[id(array)] = f"{path}_{_singular(attribute)}"
    for attribute in optimizer._keras_scalar_state:
        names[id(getattr(optimizer, attribute))] = attribute.strip("_")
    return [(f"{optimizer.name}/{names.get(id(v), f'variable_{i}')}", v)
            for i, v in enumerate(state)]


def _singular(attribute: str) -> str:
    """The slot's name from the attribute holding the slots: ``"_velocities"`` -> ``"velocity"``."""
    name = attribute.strip("_")
    return name[:-3] + "y" if name.endswith("ies") else name.removesuffix("s")


# -- reading ----------------------------------------------------------------------------------
def load_model(filepath, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """Load a legacy ``.h5`` model file written by Keras 3, Keras 2 or minired.

    Args:
        filepath: the ``.h5`` (or ``.hdf5``) file.
        custom_objects: ``{name: class or function}`` for your own classes.
        compile: compile the model with the saved loss, metrics and optimizer (its
            ``iterations`` and learning rate restored, as Keras restores them).
        safe_mode: accepted for Keras' signature; minired never runs code from a file.

    Raises:
        ValueError: a damaged file, a class minired lacks, a ``Lambda`` layer, or weights
            that do not fit the model (nothing is half-loaded).
    """
    import h5py

    filepath = checked_file(filepath, MAX_H5_BYTES, "legacy_h5.MAX_H5_BYTES")
    try:
        f = h5py.File(filepath, "r")
    except OSError as error:
        raise ValueError(f"{filepath} is not a valid HDF5 file ({error}).") from None
    budget = [os.path.getsize(filepath) * 2 + (1 << 20)]   # no array claims more than the file
    with f:
        model = _model_from_file(f, filepath, custom_objects, safe_mode)
        _load_weights(_subgroup(f, "model_weights"), model, budget)
        if not compile:
            return model
        training = _json_attribute(f, "training_config", filepath)
        if training is None:
            warnings.warn("No training configuration found in the save file, so the model "
                          "was *not* compiled. Compile it manually.", UserWarning,
                          stacklevel=3)
            return model
        with serialization_lib.deserialization_scope(custom_objects, safe_mode):
            model.compile_from_config(compile_arguments(training))
        if "optimizer_weights" in f:
            _load_optimizer_state(_subgroup(f, "optimizer_weights"), model.optimizer, budget)
    return model


def _model_from_file(f, filepath: str, custom_objects, safe_mode: bool):
    """The model the ``model_config`` attribute describes (new weights, not compiled)."""
    from minired.models.functional import Functional

    config = _json_attribute(f, "model_config", filepath)
    if config is None:
        raise ValueError(f"No model config found in the file at {filepath}.")
    model = serialization_lib.deserialize_keras_object(
        keras3_layer(config), custom_objects=custom_objects, safe_mode=safe_mode,
        compile=False)
    if not isinstance(model, Functional):
        raise ValueError(f"{filepath} holds a {type(model).__name__}: minired loads "
                         "functional and Sequential models.")
    return model


def keras3_layer(entry):
    """A layer (or model) entry of a legacy file as Keras 3 reads it (its
    ``model_from_config``): ``batch_input_shape`` becomes ``batch_shape`` (``input_shape``
    for a layer that is not an Input), a one-item ``axis`` list a number, and a call written
    as Keras 2 lists (``[["dense", 0, 0, {}]]``) Keras 3's ``{"args", "kwargs"}``.

    Example:
        >>> keras3_layer({"class_name": "InputLayer",
        ...               "config": {"batch_input_shape": [None, 4]}})["config"]
        {'batch_shape': [None, 4]}
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return entry
    entry, config = dict(entry), dict(entry["config"])
    batch_shape = config.pop("batch_input_shape", None)
    if isinstance(batch_shape, list) and batch_shape:
        if entry.get("class_name") == "InputLayer":
            config["batch_shape"] = batch_shape
        else:      # one sample's shape (Keras passes the batch dimension along with it)
            config["input_shape"] = batch_shape[1:]
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1 or isinstance(axis, float):
        config["axis"] = int(axis[0] if isinstance(axis, list) else axis)
    if isinstance(config.get("layers"), list):
        config["layers"] = [keras3_layer(layer) for layer in config["layers"]]
    if isinstance(entry.get("inbound_nodes"), list):
        entry["inbound_nodes"] = [_keras3_node(node) for node in entry["inbound_nodes"]]
    entry["config"] = config
    return entry


def _keras3_node(node):
    """A Keras 2 call ``[[layer, node index, tensor index, kwargs], ...]`` as Keras 3's
    ``{"args": [tensor or [tensors]], "kwargs": {...}}``."""
    if not isinstance(node, list):
        return node
    tensors, kwargs = [], {}
    for reference in node:
        if not (isinstance(reference, list) and len(reference) in (3, 4)
                and isinstance(reference[0], str)):
            raise ValueError(f"Cannot deserialize the model: invalid call {reference!r} in "
                             "the model config.")
        kwargs = reference[3] if len(reference) == 4 else {}
        tensors.append({"class_name": "__keras_tensor__",
                        "config": {"keras_history": list(reference[:3])}})
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}


def compile_arguments(training: dict) -> dict:
    """``model.compile_from_config``'s argument from Keras' ``training_config``: the legacy
    objects given their Keras module, so that a loss is looked up among the losses and a
    metric among the metrics (``MeanSquaredError`` is both)."""
    optimizer = training.get("optimizer_config")
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("class_name"), str):
        raise ValueError("The training_config of the file has no valid optimizer_config; "
                         "load the model with compile=False.")
    known = {name.lower(): name for name in serialization_lib.public_classes("optimizers")}
    optimizer = {**optimizer, "class_name": known.get(optimizer["class_name"].lower(),
                                                      optimizer["class_name"])}
    return {"optimizer": _with_module(optimizer, "keras.optimizers"),
            "loss": _with_module(training.get("loss"), "keras.losses"),
            "loss_weights": training.get("loss_weights"),
            "metrics": _with_module(training.get("metrics"), "keras.metrics"),
            "weighted_metrics": _with_module(training.get("weighted_metrics") or None,
                                             "keras.metrics")}


def _with_module(value, module: str):
    """Legacy objects (``{"class_name", "config"}``, at any depth of lists and dicts) in the
    modern form, under ``module``; names and modern objects as they are."""
    if isinstance(value, dict) and "class_name" in value:
        if "module" in value:
            return value
        name = value["class_name"]
        return {"module": module, "class_name": name, "config": value.get("config"),
                "registered_name": name if isinstance(name, str) and ">" in name else None}
    if isinstance(value, list):
        return [_with_module(item, module) for item in value]
    if isinstance(value, dict):
        return {key: _with_module(item, module) for key, item in value.items()}
    return value


def load_weights(model, filepath) -> None:
    """Load a legacy ``.h5`` weights file (or the weights of a legacy ``.h5`` model file) into
    ``model``, as Keras' ``model.load_weights("x.h5")``: layer by layer in order (Keras'
    topological loading; its pretrained ``keras.applications`` files are such files)."""
    import h5py

    filepath = checked_file(filepath, MAX_H5_BYTES, "legacy_h5.MAX_H5_BYTES")
    try:
        f = h5py.File(filepath, "r")
    except OSError as error:
        raise ValueError(f"{filepath} is not a valid HDF5 file ({error}).") from None
    budget = [os.path.getsize(filepath) * 2 + (1 << 20)]   # no array claims more than the file
    with f:
        _load_weights(_subgroup(f, "model_weights") if "model_weights" in f else f, model,
                      budget)


def _load_weights(group, model, budget: list[int]) -> None:
    """Keras' topological loading: the n-th layer with weights in the file into the n-th
    layer with weights in the model; everything checked before anything is written."""
    layers = [layer for layer in _unique(model.layers) if _legacy_weights(layer)]
    saved = []
    for name in _read_names(group, "layer_names"):
        layer_group = _subgroup(group, name)
        weight_names = _read_names(layer_group, "weight_names")
        if weight_names:
            saved.append((name, layer_group, weight_names))
    if len(saved) != len(layers):
        raise ValueError("Layer count mismatch when loading weights from file. Model expected "
                         f"{len(layers)} layers, found {len(saved)} saved layers.")
    staged = []
    for k, (layer, (name, layer_group, weight_names)) in enumerate(zip(layers, saved,
                                                                        strict=True)):
        targets = _legacy_weights(layer)
        if len(weight_names) != len(targets):
            raise ValueError(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                f"model, {name} in the save file). Layer expects {len(targets)} weight(s). "
                f"Received {len(weight_names)} saved weight(s)")
        for target, weight_name in zip(targets, weight_names, strict=True):
            value = _dataset(layer_group, weight_name, budget)
            _check_weight(layer.name, weight_name, target, value)
            staged.append((target, value))
    if "top_level_model_weights" in group and _read_names(
            _subgroup(group, "top_level_model_weights"), "weight_names"):
        raise ValueError("The file holds weights of the model itself (top_level_model_weights),"
                         " which a Sequential or functional model of minired does not have.")
    for target, value in staged:
        target[...] = value


def _check_weight(layer: str, name: str, target: np.ndarray, value: np.ndarray) -> None:
    if value.shape != target.shape:
        raise ValueError(f"Shape mismatch in layer {layer!r} for weight {name}. Weight expects "
                         f"shape {target.shape}. Received saved weight with shape "
                         f"{value.shape}")
    if (value.dtype.kind == "f") != (target.dtype.kind == "f"):
        kind = "a float" if target.dtype.kind == "f" else "an integer"
        raise ValueError(f"Layer {layer!r}: weight {name} has dtype {value.dtype} in the "
                         f"file; {kind} array is needed.")


def _load_optimizer_state(group, optimizer, budget: list[int]) -> None:
    """What Keras 3.15 restores of ``optimizer_weights``: the optimizer's variables before it
    is built (``iterations``, and the learning rate unless it is a schedule) from the first
    arrays of the file, one by one until a shape differs; the moments start from zero."""
    targets = optimizer.variables
    for target, name in zip(targets, _read_names(group, "weight_names"), strict=False):
        value = _dataset(group, name, budget)
        if np.shape(value) != np.shape(target):
            warnings.warn("Error in loading the saved optimizer state. As a result, your model "
                          "is starting with a freshly initialized optimizer.", UserWarning,
                          stacklevel=4)
            return
        target[...] = value


# -- careful reading of HDF5 ------------------------------------------------------------------
def _json_attribute(f, name: str, filepath: str) -> dict | None:
    """A JSON attribute of the file (``model_config``, ``training_config``) as a dict."""
    value = f.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, bytes | np.bytes_):
        value = bytes(value).decode("utf-8", errors="replace")
    if not isinstance(value, str) or len(value) > MAX_JSON_BYTES:
        raise ValueError(f"{filepath}: the attribute {name!r} is not a JSON text.")
    try:
        config = json.loads(value)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{filepath}: {name} is not valid JSON ({error}).") from None
    if not isinstance(config, dict):
        raise ValueError(f"{filepath}: {name} must hold a JSON object.")
    return config


def _read_names(group, attribute: str) -> list[str]:
    """A list of names (``layer_names``, ``weight_names``), joined again if it was split
    into ``name0``, ``name1``..."""
    if attribute in group.attrs:
        chunks = [group.attrs[attribute]]
    else:
        chunks = []
        while f"{attribute}{len(chunks)}" in group.attrs:
            chunks.append(group.attrs[f"{attribute}{len(chunks)}"])
    names = []
    for chunk in chunks:
        for item in np.atleast_1d(chunk):
            if isinstance(item, bytes | np.bytes_):
                item = bytes(item).decode("utf-8")
            if not isinstance(item, str):
                raise ValueError(f"{group.name}: {attribute} holds {item!r}, not a name.")
            names.append(str(item))
    return names


def _walk(group, path: str):
    """The object at ``path`` under ``group``, following hard links only (a soft or
    external link could point outside the file)."""
    import h5py

    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"{group.name}: invalid name {path!r} in the file.")
    node = group
    for part in parts:
        if not isinstance(node, h5py.Group):
            raise ValueError(f"{group.name}/{path}: not found in the file.")
        link = node.get(part, getlink=True)
        if link is None:
            raise ValueError(f"{group.name}/{path}: not found in the file.")
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"{group.name}/{path} is a link; refused.")
        node = node[part]
    return node


def _subgroup(group, path: str):
    import h5py

    node = _walk(group, path)
    if not isinstance(node, h5py.Group):
        raise ValueError(f"{node.name} is not a group in the file.")
    return node


def _dataset(group, path: str, budget: list[int]) -> np.ndarray:
    """An array of the file: a dataset of plain numbers stored in the file itself, no
    larger than what is left of ``budget`` (see :func:`.saving_lib.read_plain_array`)."""
    dataset = _walk(group, path)
    return read_plain_array(dataset, dataset.name, budget)
