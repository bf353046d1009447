"""minired.datasets and minired.utils.get_file read Keras' download cache, never download,
never unpickle.

Each test writes small fake cache files, in the exact formats Keras reads, into a temporary
KERAS_HOME, then checks that minired returns what ``keras.datasets.X.load_data()`` returns
from the same files. Keras is pointed at the same folder (its home is fixed when it is
imported, so ``config._KERAS_DIR`` is patched) and its ``urlretrieve`` raises: Keras reads
the fake files from its cache, it downloads nothing. For the files Keras checks against a
fixed sha256 (the real dataset's), both libraries are told the fake file's hash instead, so
both still check one.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import inspect
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minired as mr
from minired.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from minired.utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty KERAS_HOME, with its datasets/ folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    return tmp_path


@pytest.fixture
def keras(home: Path, monkeypatch: pytest.MonkeyPatch):
    """Keras, reading the same cache folder, and unable to download."""
    keras = pytest.importorskip("keras")
    from keras.src.backend import config
    from keras.src.utils import file_utils

    def no_download(origin, *args, **kwargs):
        raise AssertionError(f"Keras tried to download {origin}")

    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    monkeypatch.setattr(file_utils, "urlretrieve", no_download)
    return keras


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def expect_hash(monkeypatch: pytest.MonkeyPatch, module, keras_module_name: str,
                file_hash: str, attribute: str = "_FILE_HASH") -> None:
    """Make minired's ``module`` and Keras' ``keras_module_name`` expect ``file_hash``."""
    monkeypatch.setattr(module, attribute, file_hash)
    keras_module = importlib.import_module(keras_module_name)
    keras_get_file = keras_module.get_file

    def get_file_with_fake_hash(*args, **kwargs):
        return keras_get_file(*args, **{**kwargs, "file_hash": file_hash})

    monkeypatch.setattr(keras_module, "get_file", get_file_with_fake_hash)


def assert_same_arrays(ours, theirs) -> None:
    """Two ``(x_train, y_train), (x_test, y_test)`` tuples: equal values, dtypes, shapes."""
    ours, theirs = [a for pair in ours for a in pair], [a for pair in theirs for a in pair]
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours, theirs, strict=True):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def write_mnist(path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    np.savez(path, x_train=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, 5, dtype=np.uint8),
             x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, 3, dtype=np.uint8))


# --- MNIST -------------------------------------------------------------------------------

def test_mnist_equals_keras(home, keras, monkeypatch):
    path = home / "datasets" / "mnist.npz"
    write_mnist(path)
    expect_hash(monkeypatch, mnist, "keras.src.datasets.mnist", sha256(path))
    ours = mr.datasets.mnist.load_data()
    assert_same_arrays(ours, keras.datasets.mnist.load_data())
    (x_train, y_train), (x_test, y_test) = ours
    assert x_train.shape == (5, 28, 28) and x_train.dtype == np.uint8 and y_test.shape == (3,)


def test_mnist_reads_another_name_in_the_cache(home, keras, monkeypatch):
    path = home / "datasets" / "my_mnist.npz"
    write_mnist(path, seed=1)
    expect_hash(monkeypatch, mnist, "keras.src.datasets.mnist", sha256(path))
    assert_same_arrays(mnist.load_data(path="my_mnist.npz"),
                       keras.datasets.mnist.load_data(path="my_mnist.npz"))


def test_mnist_file_with_another_hash_is_refused(home):
    """Keras would download a file whose sha256 is not the real MNIST's; minired refuses."""
    path = home / "datasets" / "mnist.npz"
    write_mnist(path)
    with pytest.raises(ValueError) as error:
        mnist.load_data()
    message = str(error.value)
    assert str(path) in message and sha256(path) in message and mnist._FILE_HASH in message
    assert ORIGIN + "mnist.npz" in message and "curl" in message


def test_mnist_missing_file_error(home):
    with pytest.raises(FileNotFoundError) as error:
        mnist.load_data()
    message = str(error.value)
    folder = str(home / "datasets")
    assert message.startswith(f"mnist.load_data: 'mnist.npz' is not in Keras' cache folder "
                              f"{folder}")
    assert ORIGIN + "mnist.npz" in message and "never downloads" in message
    assert (f"mkdir -p {folder} && curl -L -o {folder}/mnist.npz {ORIGIN}mnist.npz"
            in message)
    assert "keras.datasets.mnist.load_data()" in message


def test_mnist_default_cache_is_home_dot_keras(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / ".keras" / "datasets")):
        mnist.load_data()
    (tmp_path / ".keras" / "datasets").mkdir(parents=True)
    write_mnist(tmp_path / ".keras" / "datasets" / "mnist.npz")
    monkeypatch.setattr(mnist, "_FILE_HASH", sha256(tmp_path / ".keras/datasets/mnist.npz"))
    assert mnist.load_data()[0][0].shape == (5, 28, 28)


class _Payload:
    """Unpickling this object would create the file ``marker``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_an_npz_holding_a_pickle_is_never_unpickled(home, tmp_path, monkeypatch):
    marker = tmp_path / "the-pickle-ran"
    path = home / "datasets" / "mnist.npz"
    payload = np.array([_Payload(str(marker))], dtype=object)
    np.savez(path, x_train=payload, y_train=payload, x_test=payload, y_test=payload)
    monkeypatch.setattr(mnist, "_FILE_HASH", sha256(path))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        mnist.load_data()
    assert not marker.exists()


# --- Fashion-MNIST -----------------------------------------------------------------------

def write_idx(path: Path, values: np.ndarray, magic: int) -> None:
    """A gzipped IDX file: magic number, the sizes, then the uint8 values (big-endian ints)."""
    header = np.array([magic, *values.shape], dtype=">i4").tobytes()
    with gzip.open(path, "wb") as file:
        file.write(header + values.astype(np.uint8).tobytes())


def write_fashion(home: Path, n_train: int = 4, n_test: int = 2) -> Path:
    folder = home / "datasets" / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n), 2049)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28)), 2051)
    return folder


def test_fashion_mnist_equals_keras(home, keras):
    write_fashion(home)
    ours = fashion_mnist.load_data()
    assert_same_arrays(ours, keras.datasets.fashion_mnist.load_data())
    assert ours[0][0].shape == (4, 28, 28) and ours[1][1].shape == (2,)
    ours[0][0][0, 0, 0] = 7                        # writable (Keras' arrays are read-only)


def test_fashion_mnist_missing_file_error(home):
    folder = write_fashion(home)
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as error:
        fashion_mnist.load_data()
    message = str(error.value)
    assert "'t10k-images-idx3-ubyte.gz' is not in Keras' cache folder" in message
    assert str(folder) in message and ORIGIN + "t10k-images-idx3-ubyte.gz" in message


def test_fashion_mnist_damaged_file(home):
    folder = write_fashion(home)
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((3, 28, 28)), 2051)
    with pytest.raises(ValueError, match="not 4 images of 28x28"):
        fashion_mnist.load_data()


# --- Boston and California housing -------------------------------------------------------

@pytest.mark.parametrize(("test_split", "seed"), [(0.2, 113), (0.0, 113), (0.33, 5)])
def test_boston_housing_equals_keras(home, keras, monkeypatch, test_split, seed):
    path = home / "datasets" / "boston_housing.npz"
    rng = np.random.default_rng(1)
    np.savez(path, x=rng.normal(size=(11, 13)), y=rng.uniform(5, 50, 11))
    expect_hash(monkeypatch, boston_housing, "keras.src.datasets.boston_housing", sha256(path))
    ours = boston_housing.load_data(test_split=test_split, seed=seed)
    assert_same_arrays(ours, keras.datasets.boston_housing.load_data(test_split=test_split,
                                                                      seed=seed))
    assert len(ours[0][0]) == int(11 * (1 - test_split))


@pytest.mark.parametrize(("version", "test_split", "seed"),
                         [("large", 0.2, 113), ("small", 0.2, 113), ("small", 0.5, 0)])
def test_california_housing_equals_keras(home, keras, monkeypatch, version, test_split, seed):
    path = home / "datasets" / "california_housing.npz"
    rng = np.random.default_rng(2)
    np.savez(path, x=rng.normal(size=(605, 8)).astype(np.float32),
             y=rng.uniform(2e4, 5e5, 605).astype(np.float32))
    expect_hash(monkeypatch, california_housing, "keras.src.datasets.california_housing",
                sha256(path))
    ours = california_housing.load_data(version=version, test_split=test_split, seed=seed)
    assert_same_arrays(ours, keras.datasets.california_housing.load_data(
        version=version, test_split=test_split, seed=seed))
    assert len(ours[0][0]) + len(ours[1][0]) == (600 if version == "small" else 605)


def test_housing_arguments_are_checked_as_in_keras(home):
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match="Invalid `test_split` argument"):
            boston_housing.load_data(test_split=bad)
        with pytest.raises(ValueError, match="Invalid `test_split` argument"):
            california_housing.load_data(test_split=bad)
    with pytest.raises(ValueError, match="Argument `version` must be one of"):
        california_housing.load_data(version="medium")
    with pytest.raises(FileNotFoundError, match="'boston_housing.npz' is not in Keras' cache"):
        boston_housing.load_data()
    with pytest.raises(FileNotFoundError, match="california_housing.npz"):
        california_housing.load_data()


# --- Refused: CIFAR, IMDB and Reuters are pickles ----------------------------------------

def test_cifar_is_refused_even_when_cached(home):
    (home / "datasets" / "cifar-10-batches-py-target").mkdir()
    for load, name in ((cifar10.load_data, "cifar10"), (cifar100.load_data, "cifar100")):
        with pytest.raises(ValueError) as error:
            load()
        message = str(error.value)
        assert message.startswith(f"{name}.load_data: Keras' CIFAR-")
        assert "Python pickles" in message and "minired never unpickles" in message
        assert "sklearn.datasets.load_digits()" in message
        assert f"keras.datasets.{name}.load_data" in message and f"'{name}.npz'" in message
    with pytest.raises(ValueError, match="load_data\\(label_mode='coarse'\\)"):
        cifar100.load_data(label_mode="coarse")
    with pytest.raises(ValueError, match='`label_mode` must be one of `"fine"`, `"coarse"`'):
        cifar100.load_data(label_mode="medium")


def test_imdb_and_reuters_are_refused_even_when_cached(home):
    for module in (imdb, reuters):
        name = module.__name__.rsplit(".", 1)[1]
        np.savez(home / "datasets" / f"{name}.npz", x=np.arange(3))
        with pytest.raises(ValueError) as error:
            module.load_data(num_words=100)
        message = str(error.value)
        assert message.startswith(f"{name}.load_data: Keras' {name}.npz stores")
        assert "object arrays" in message and "minired never unpickles" in message
        assert f"keras.datasets.{name}.load_data(num_words=10000)" in message
        assert "pad_sequences" in message
    with pytest.raises(ValueError, match="Invalid `test_split` argument"):
        reuters.load_data(test_split=1.5)


def test_the_loaders_have_keras_signatures():
    keras = pytest.importorskip("keras")
    for name in mr.datasets.__all__:
        ours = getattr(mr.datasets, name)
        theirs = getattr(keras.datasets, name)
        functions = ["load_data"] + [f for f in ("get_word_index", "get_label_names")
                                     if hasattr(theirs, f)]
        for function in functions:
            ours_sig = inspect.signature(getattr(ours, function))
            theirs_sig = inspect.signature(getattr(theirs, function))
            assert [(p.name, p.default, p.kind) for p in ours_sig.parameters.values()] == [
                (p.name, p.default, p.kind) for p in theirs_sig.parameters.values()], (
                f"{name}.{function}")


def test_get_file_has_keras_signature():
    keras = pytest.importorskip("keras")
    assert [(p.name, p.default, p.kind) for p in inspect.signature(get_file).parameters.values()
            ] == [(p.name, p.default, p.kind)
                  for p in inspect.signature(keras.utils.get_file).parameters.values()]


def test_a_path_as_file_name_is_refused_as_in_keras(home):
    with pytest.raises(ValueError, match="Paths are no longer accepted as the `fname`"):
        mnist.load_data(path=os.path.join("sub", "mnist.npz"))


def test_word_indexes_and_label_names_equal_keras(home, keras, monkeypatch):
    for module in (imdb, reuters):
        name = module.__name__.rsplit(".", 1)[1]
        path = home / "datasets" / f"{name}_word_index.json"
        path.write_text(json.dumps({"the": 1, "a": 2, f"{name}-word": 3}))
        expect_hash(monkeypatch, module, f"keras.src.datasets.{name}", md5(path),
                    attribute="_WORD_INDEX_HASH")
        assert module.get_word_index() == getattr(keras.datasets, name).get_word_index()
        assert module.get_word_index()[f"{name}-word"] == 3
    assert reuters.get_label_names() == keras.datasets.reuters.get_label_names()
    assert len(reuters.get_label_names()) == 46


def test_word_index_with_another_hash_is_refused(home):
    (home / "datasets" / "imdb_word_index.json").write_text("{}")
    with pytest.raises(ValueError, match="its md5 hash is"):
        imdb.get_word_index()


# --- get_file ----------------------------------------------------------------------------

def test_get_file_returns_the_cached_path_as_keras(home, keras):
    path = home / "datasets" / "notes.txt"
    path.write_text("hello")
    origin = "https://example.org/data/notes.txt"
    for kwargs in ({}, {"file_hash": sha256(path)}, {"file_hash": md5(path)},
                   {"md5_hash": md5(path)}, {"file_hash": sha256(path),
                                             "hash_algorithm": "sha256"}):
        for fname in ("notes.txt", None):
            ours = get_file(fname, origin=origin, **kwargs)
            assert ours == keras.utils.get_file(fname, origin=origin, **kwargs) == str(path)
    other = home / "elsewhere"
    (other / "models").mkdir(parents=True)
    (other / "models" / "w.h5").write_bytes(b"w")
    assert get_file("w.h5", "https://example.org/w.h5", cache_dir=str(other),
                    cache_subdir="models") == str(other / "models" / "w.h5")
    assert get_file("w.h5", "https://example.org/w.h5", cache_subdir=str(other / "models")
                    ) == keras.utils.get_file("w.h5", "https://example.org/w.h5",
                                              cache_subdir=str(other / "models"))


def test_get_file_hash_checks(home):
    path = home / "datasets" / "notes.txt"
    path.write_text("hello")
    origin = "https://example.org/notes.txt"
    wrong_sha, wrong_md5 = "0" * 64, "0" * 32
    with pytest.raises(ValueError, match=f"its sha256 hash is {sha256(path)}, not the "
                                         f"expected {wrong_sha}"):
        get_file("notes.txt", origin, file_hash=wrong_sha)
    with pytest.raises(ValueError, match=f"its md5 hash is {md5(path)}"):
        get_file("notes.txt", origin, file_hash=wrong_md5)
    with pytest.raises(ValueError, match="its md5 hash is"):
        get_file("notes.txt", origin, md5_hash=wrong_md5)
    with pytest.raises(ValueError, match="its md5 hash is"):  # the algorithm named wins
        get_file("notes.txt", origin, file_hash=sha256(path), hash_algorithm="md5")
    assert get_file("notes.txt", origin, file_hash=md5(path), hash_algorithm="md5")


def test_get_file_refuses_to_download(home):
    with pytest.raises(FileNotFoundError) as error:
        get_file("nothing.bin", origin="https://example.org/nothing.bin")
    message = str(error.value)
    assert message.startswith(f"get_file: 'nothing.bin' is not in Keras' cache folder "
                              f"{home / 'datasets'}")
    assert "https://example.org/nothing.bin" in message and "curl -L -o" in message
    (home / "datasets" / "there.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="force_download=True asks for a download"):
        get_file("there.bin", origin="https://example.org/there.bin", force_download=True)


def test_get_file_argument_errors_as_keras(home):
    with pytest.raises(ValueError, match='Please specify the "origin" argument'):
        get_file("x.txt")
    with pytest.raises(ValueError, match="Paths are no longer accepted as the `fname`"):
        get_file(os.path.join("a", "x.txt"), origin="https://example.org/x.txt")
    with pytest.raises(ValueError, match="Can't parse the file name from the origin"):
        get_file(origin="https://example.org/")


def test_get_file_extracts_a_cached_archive_as_keras(tmp_path, home, keras):
    inner = tmp_path / "inner.txt"
    inner.write_text("inside")
    with tarfile.open(home / "datasets" / "bundle_archive", "w:gz") as tar:
        tar.add(inner, arcname="folder/inner.txt")
    with zipfile.ZipFile(home / "datasets" / "pics.zip", "w") as zip_file:
        zip_file.writestr("a/b.txt", "zipped")
    folder = get_file("bundle", origin="https://example.org/bundle.tar.gz", extract=True)
    assert folder == str(home / "datasets" / "bundle")
    assert (Path(folder) / "folder" / "inner.txt").read_text() == "inside"
    zipped = get_file("pics.zip", origin="https://example.org/pics.zip", extract=True)
    assert zipped == str(home / "datasets" / "pics_extracted")
    assert (Path(zipped) / "a" / "b.txt").read_text() == "zipped"
    assert folder == keras.utils.get_file("bundle", origin="https://example.org/bundle.tar.gz",
                                          extract=True)
    assert zipped == keras.utils.get_file("pics.zip", origin="https://example.org/pics.zip",
                                          extract=True)
    (home / "datasets" / "bundle_archive").unlink()          # the folder alone is enough
    assert get_file("bundle", origin="https://example.org/bundle.tar.gz", extract=True) == folder


def test_get_file_extraction_stays_in_its_folder(tmp_path, home):
    data = io.BytesIO(b"evil")
    info = tarfile.TarInfo("../escaped.txt")
    info.size = 4
    with tarfile.open(home / "datasets" / "bad_archive", "w") as tar:
        tar.addfile(info, data)
    with pytest.raises(tarfile.TarError):
        get_file("bad", origin="https://example.org/bad.tar", extract=True)
    assert not (home / "datasets" / "escaped.txt").exists()


def test_the_loaders_never_import_pickle():
    """The loaders' source imports no pickle reader and never allows pickles in np.load."""
    for module in [*(getattr(mr.datasets, n) for n in mr.datasets.__all__),
                   importlib.import_module("minired.utils.file_utils")]:
        source = Path(module.__file__).read_text()
        assert "pickle import" not in source and "import pickle" not in source
        assert "allow_pickle=True" not in source
