"""``mr.saving.KerasFileEditor`` against ``keras.saving.KerasFileEditor``: the same weights
tree from files either library wrote, the same summary, the same verdict of ``compare``, the
same edits giving the same ``.weights.h5``; and files with links or non-numeric data refused.
"""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

import minired as mr
from minired.saving import KerasFileEditor


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


def small_model(units: int = 3) -> mr.Sequential:
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(units), mr.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=1, verbose=0)
    return model


def same_tree(a, b) -> bool:
    """The same keys in the same order, and equal arrays (shape, dtype, values)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b)
                and all(same_tree(a[k], b[k]) for k in a))
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


@pytest.fixture
def saved(tmp_path) -> tuple[mr.Sequential, str]:
    model = small_model()
    path = str(tmp_path / "model.keras")
    model.save(path)
    return model, path


def test_reads_the_tree_keras_reads(keras, saved, tmp_path, capsys):
    model, path = saved
    editor = KerasFileEditor(path)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Keras model file '{path}'"
    assert out[1].startswith("Saved with Keras 3.15.1 - date: ")
    theirs = keras.saving.KerasFileEditor(path)
    assert same_tree(editor.weights_dict, theirs.weights_dict)
    assert editor.object_metadata == theirs.object_metadata
    assert editor.config == theirs.config and editor.metadata == theirs.metadata
    np.testing.assert_array_equal(editor.weights_dict["layers"]["dense"]["0"],
                                  np.asarray(model.layers[0].kernel))
    # A file Keras wrote, and a weights-only file.
    keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    keras_path = str(tmp_path / "keras.weights.h5")
    keras_model.save_weights(keras_path)
    assert same_tree(KerasFileEditor(keras_path).weights_dict,
                     keras.saving.KerasFileEditor(keras_path).weights_dict)


def test_summary_prints_what_keras_prints(keras, saved, capsys):
    _, path = saved
    editor, theirs = KerasFileEditor(path), keras.saving.KerasFileEditor(path)
    capsys.readouterr()
    editor.summary()
    mine = capsys.readouterr().out
    theirs.summary()
    assert mine == capsys.readouterr().out
    assert "  │   ├─ dense\n  │   │   ├─ 0: shape=(2, 3), dtype=float32\n" in mine


def test_compare_gives_keras_verdict_and_true_counts(keras, saved, capsys):
    model, path = saved
    editor, theirs = KerasFileEditor(path), keras.saving.KerasFileEditor(path)
    assert editor.compare(model) == {"status": "success", "error_count": 0,
                                     "match_count": 14}          # 4 layer + 10 optimizer
    wider = mr.Sequential([mr.Input((2,)), mr.layers.Dense(4), mr.layers.Dense(1)])
    keras_wider = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4),
                                    keras.layers.Dense(1)])
    capsys.readouterr()
    result = editor.compare(wider)
    mine = capsys.readouterr().out
    expected = theirs.compare(keras_wider)
    keras_out = capsys.readouterr().out
    # Keras adds a nested call's counts twice (6 errors, 1 match); the true counts are 3
    # shape mismatches and the optimizer the uncompiled model lacks, and dense_1's bias.
    assert result == {"status": "error", "error_count": 4, "match_count": 1}
    assert expected["status"] == "error"
    mine_words, keras_words = mine.split(), keras_out.split()
    verdict = ["errors:", "saved", "file", "is", "not", "compatible", "with", "the",
               "reference", "model"]
    assert mine_words[:-12] == keras_words[:-12]          # every report, word for word
    assert mine_words[-12:] == ["Found", "4", *verdict]
    assert keras_words[-12:] == ["Found", "6", *verdict]
    assert "...Weight shape mismatch for /layers/dense/0" in mine
    assert "...Object /optimizer present in saved file, missing from reference model" in mine


def test_edits_and_save_match_keras_and_load_into_the_new_model(keras, saved, tmp_path):
    _, path = saved
    editors = [KerasFileEditor(path), keras.saving.KerasFileEditor(path)]
    kernel, bias = np.arange(6, dtype="float32").reshape(3, 2), np.ones(2, "float32")
    for n, editor in enumerate(editors):
        editor.delete_object("optimizer")
        editor.rename_object("dense_1", "old")
        editor.delete_weight("layers/old", "1")
        editor.add_weights("old", {"1": np.zeros(1, "float32")})
        editor.delete_object("layers/old")
        editor.add_object("layers/dense_1", {"0": kernel, "1": bias})
        editor.save(str(tmp_path / f"edited{n}.weights.h5"))
    mine = KerasFileEditor(str(tmp_path / "edited0.weights.h5")).weights_dict
    theirs = keras.saving.KerasFileEditor(str(tmp_path / "edited1.weights.h5")).weights_dict
    assert same_tree(mine, theirs)
    new = mr.Sequential([mr.Input((2,)), mr.layers.Dense(3), mr.layers.Dense(2)])
    new.load_weights(str(tmp_path / "edited0.weights.h5"))
    np.testing.assert_array_equal(np.asarray(new.layers[1].kernel), kernel)
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_names_are_found_anywhere_once(tmp_path):
    path = str(tmp_path / "w.weights.h5")
    with h5py.File(path, "w") as f:
        f["a/x/vars/0"] = np.zeros(2)
        f["b/c/y/vars/0"] = np.zeros(3)
        f["b/c/x2/vars/0"] = np.zeros(1)
    editor = KerasFileEditor(path)
    editor.rename_object("y", "z")        # deep in the second branch, once
    assert list(editor.weights_dict["b"]["c"]) == ["x2", "z"]
    editor.add_object("a/x2", {"0": np.ones(1)})
    with pytest.raises(ValueError, match="'x2' occurs more than once"):
        editor.delete_object("x2")
    with pytest.raises(ValueError, match="'nope' does not appear in the model"):
        editor.delete_object("nope")
    with pytest.raises(ValueError, match="Path 'a/nope' not found in model"):
        editor.delete_object("a/nope")
    with pytest.raises(ValueError, match="Path 'q' not found in model"):
        editor.add_object("q/r", {"0": np.ones(1)})
    with pytest.raises(ValueError, match="`target_name` should be a leaf name"):
        editor.rename_object("z", "a/z")
    with pytest.raises(ValueError, match="Weight 7 not found in object z"):
        editor.delete_weight("z", "7")
    with pytest.raises(ValueError, match="Argument `weights` should be a dict"):
        editor.add_weights("z", [np.ones(1)])
    with pytest.raises(ValueError, match="must be an array of numbers"):
        editor.add_weights("z", {"1": np.array(["text"])})
    with pytest.raises(ValueError, match="without '/'"):
        editor.add_weights("z", {"1/2": np.ones(1)})
    with pytest.raises(ValueError, match="expected a `.weights.h5` extension"):
        editor.save(str(tmp_path / "out.keras"))
    with pytest.raises(ValueError, match="expected a `.keras` `.weights.h5` extension"):
        KerasFileEditor(str(tmp_path / "w.h5"))


@pytest.mark.parametrize("hostile", ["soft_link", "external_link", "strings", "loop"])
def test_files_with_links_or_non_numbers_are_refused(tmp_path, hostile):
    path = str(tmp_path / "w.weights.h5")
    with h5py.File(path, "w") as f:
        f["layers/dense/vars/0"] = np.zeros(2)
        if hostile == "soft_link":
            f["layers/other"] = h5py.SoftLink("/layers/dense")
        elif hostile == "external_link":
            f["layers/other"] = h5py.ExternalLink("elsewhere.h5", "/x")
        elif hostile == "strings":
            f["layers/text/vars/0"] = np.array([b"import os"], dtype="S9")
        else:                                   # a hard link to a group inside itself
            f["layers/other/loop"] = f["layers"]
    with pytest.raises(ValueError, match="Not allowed|only numbers are read|nest without end"):
        KerasFileEditor(path)
