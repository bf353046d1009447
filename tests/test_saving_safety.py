"""Loading never trusts the file: no pickle, no imports, no code, sizes checked, atomic writes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import minired as mr
from minired.saving import saving_lib


def saved(tmp_path, name="m.keras"):
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3), mr.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / name)
    return tmp_path / name


def rewrite(path, config=None, members=None, compression=zipfile.ZIP_STORED):
    """Write a new archive at ``path`` with ``config`` (a dict) and extra ``members``."""
    with zipfile.ZipFile(path) as zf:
        contents = {info.filename: zf.read(info) for info in zf.infolist()}
    if config is not None:
        contents["config.json"] = json.dumps(config).encode()
    contents.update(members or {})
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in contents.items():
            zf.writestr(name, data)


def config_of(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("config.json"))


def test_a_lambda_layer_is_refused_even_without_safe_mode(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][1] = {"module": "keras.layers", "class_name": "Lambda",
                                     "config": {"function": {"class_name": "__lambda__",
                                                             "config": {"value": "…"}}},
                                     "registered_name": None}
    rewrite(path, config)
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match="never runs code"):
            mr.saving.load_model(path, safe_mode=safe_mode)


def test_module_names_in_a_file_are_never_imported(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][1]["module"] = "this_module_does_not_exist_anywhere"
    config["config"]["layers"][1]["class_name"] = "Popen"
    rewrite(path, config)
    with pytest.raises(ValueError, match="Unknown class 'Popen'"):
        mr.saving.load_model(path)
    assert "this_module_does_not_exist_anywhere" not in sys.modules


def test_a_keras_class_minired_lacks_is_named(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][1]["class_name"] = "TorchModuleWrapper"
    rewrite(path, config)
    with pytest.raises(ValueError,
                       match="minired does not implement Keras' TorchModuleWrapper"):
        mr.saving.load_model(path)


def test_a_keras_only_argument_is_refused_unless_default(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][1]["config"]["quantization_config"] = {"mode": "int8"}
    rewrite(path, config)
    with pytest.raises(ValueError, match="quantization_config"):
        mr.saving.load_model(path)


def test_wrong_shapes_are_refused(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][2]["config"]["units"] = 5
    config["config"]["layers"][2]["build_config"]["input_shape"] = [None, 3]
    rewrite(path, config)
    with pytest.raises(ValueError, match="shape"):
        mr.saving.load_model(path)


@pytest.mark.parametrize("cut", [10, 100, 0.5, -30])
def test_truncated_archives_are_refused(tmp_path, cut):
    path = saved(tmp_path)
    data = path.read_bytes()
    size = int(len(data) * cut) if isinstance(cut, float) else cut if cut > 0 else len(data) + cut
    path.write_bytes(data[:size])
    with pytest.raises(ValueError, match="not a valid .keras archive|corrupt"):
        mr.saving.load_model(path)


def test_a_corrupted_weights_member_is_refused(tmp_path):
    path = saved(tmp_path)
    data = bytearray(path.read_bytes())
    start = data.find(b"\x89HDF")
    data[start + 2000:start + 2100] = b"\x00" * 100
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError):
        mr.saving.load_model(path)


def test_a_zip_bomb_is_refused_before_reading(tmp_path, monkeypatch):
    path = saved(tmp_path)
    rewrite(path, members={"config.json": json.dumps(config_of(path)).encode()
                           + b" " * 5_000_000}, compression=zipfile.ZIP_DEFLATED)
    monkeypatch.setattr(saving_lib, "MAX_JSON_BYTES", 1_000_000)
    with pytest.raises(ValueError, match="more than the limit|zip bomb"):
        mr.saving.load_model(path)


def test_too_many_members_are_refused(tmp_path, monkeypatch):
    path = saved(tmp_path)
    rewrite(path, members={f"assets/{i}": b"" for i in range(50)})
    monkeypatch.setattr(saving_lib, "MAX_MEMBERS", 20)
    with pytest.raises(ValueError, match="members"):
        mr.saving.load_model(path)


def test_weights_of_object_dtype_or_links_are_refused(tmp_path):
    import h5py

    path = saved(tmp_path)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        group = f.create_group("layers/dense/vars")
        group.create_dataset("0", data=np.array([b"abc"], dtype=h5py.string_dtype()))
        f["layers/dense_1/vars"] = h5py.SoftLink("/layers/dense/vars")
    rewrite(path, members={"model.weights.h5": buffer.getvalue()})
    with pytest.raises(ValueError, match="dtype|only numbers|link"):
        mr.saving.load_model(path)


def test_not_json_is_refused(tmp_path):
    path = saved(tmp_path)
    rewrite(path, members={"config.json": b"\x80\x04\x95 pickle?"})
    with pytest.raises(ValueError, match="not valid JSON"):
        mr.saving.load_model(path)


WRITER = """
import sys, numpy as np, minired as mr
model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(256), mr.layers.Dense(64)])
model.compile(optimizer="adam", loss="mse")
value = float(sys.argv[2])
while True:
    model.set_weights([np.full_like(w, value) for w in model.get_weights()])
    model.save(sys.argv[1])
    value += 1
    print(value, flush=True)
"""


def test_killing_a_save_at_any_moment_leaves_a_loadable_file(tmp_path):
    """Overwrite the same file in a loop and kill the writer at random moments: the file
    is always a complete archive, the old or the new."""
    path = tmp_path / "m.keras"
    subprocess.run([sys.executable, "-c", WRITER.replace("while True", "for _ in [0]"),
                    str(path), "0"], check=True, capture_output=True)
    rng = np.random.default_rng(0)
    for attempt in range(8):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path),
                                   str(1000 * (attempt + 1))], stdout=subprocess.PIPE)
        writer.stdout.readline()                       # at least one save went through
        time.sleep(float(rng.uniform(0, 0.2)))
        writer.kill()
        writer.wait()
        model = mr.saving.load_model(path)
        values = {float(w.flat[0]) for w in model.get_weights()}
        assert len(values) == 1                        # one save, not a mixture
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert len(leftovers) <= 8                         # at most one per kill, never the file
