"""mr.preprocessing and the dataset utilities (timeseries, image and text datasets) against
keras.preprocessing / keras.utils: the same files give the same batches, labels,
class_names, order and validation split; fit reads each dataset."""

from __future__ import annotations

import os

import numpy as np
import pytest

import minired as mr
from minired.preprocessing import image as mr_image
from minired.utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)

Image = pytest.importorskip("PIL.Image", reason='Pillow: pip install "minired[plot]"')


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def as_numpy(batch):
    """A Keras batch (tensors, or a tuple of them) as NumPy, as minired gives it."""
    if isinstance(batch, tuple):
        return tuple(as_numpy(part) for part in batch)
    return batch.numpy()


def assert_same_batches(theirs, ours, rtol: float = 0.0) -> None:
    """Batch for batch: same structure, dtype, shape and values."""
    theirs = [as_numpy(batch) for batch in theirs]
    ours = list(ours)
    assert len(ours) == len(theirs)
    for expected, got in zip(theirs, ours, strict=True):
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = got if isinstance(got, tuple) else (got,)
        assert len(got) == len(expected)
        for e, g in zip(expected, got, strict=True):
            if isinstance(e, bytes):                      # an unbatched text
                assert g == e
                continue
            assert g.dtype == e.dtype and g.shape == e.shape
            if rtol and g.dtype.kind == "f":
                # tf.image.resize and minired's R_y·x·R_xᵀ round float32 sums differently
                # (a few ulp of pixel values up to 255)
                np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-6)
            else:
                np.testing.assert_array_equal(g, e)


# -- the namespace -------------------------------------------------------------------------


def test_preprocessing_mirrors_keras_namespace(keras):
    public = {name for name in dir(keras.preprocessing) if not name.startswith("_")}
    assert set(mr.preprocessing.__all__) == public
    for module in ("image", "sequence"):
        theirs = {n for n in dir(getattr(keras.preprocessing, module)) if not n.startswith("_")}
        assert set(getattr(mr.preprocessing, module).__all__) == theirs


def test_preprocessing_reexports_the_utils_objects():
    for name in ("load_img", "img_to_array", "array_to_img", "save_img"):
        assert getattr(mr.preprocessing.image, name) is getattr(mr.utils, name)
    assert mr.preprocessing.sequence.pad_sequences is mr.utils.pad_sequences
    for name in ("image_dataset_from_directory", "text_dataset_from_directory",
                 "timeseries_dataset_from_array"):
        assert getattr(mr.preprocessing, name) is getattr(mr.utils, name)
        assert name in mr.utils.__all__
    assert "preprocessing" in mr.__all__


# -- smart_resize --------------------------------------------------------------------------


@pytest.mark.parametrize("shape, size, kwargs", [
    ((5, 7, 3), (3, 3), {}),
    ((2, 9, 4, 1), (4, 6), {}),
    ((6, 4, 2), (9, 3), {}),
    ((3, 6, 8), (5, 5), {"data_format": "channels_first"}),
    ((2, 3, 6, 8), (4, 2), {"data_format": "channels_first"}),
])
def test_smart_resize_matches_keras(keras, shape, size, kwargs):
    x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    expected = keras.preprocessing.image.smart_resize(x, size, **kwargs)
    got = mr_image.smart_resize(x, size, **kwargs)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_smart_resize_dtypes_match_keras(keras):
    x = np.random.default_rng(1).integers(0, 256, (7, 5, 3)).astype(np.uint8)
    for interpolation in ("nearest", "bilinear"):
        expected = keras.preprocessing.image.smart_resize(x, (4, 4), interpolation=interpolation)
        got = mr_image.smart_resize(x, (4, 4), interpolation=interpolation)
        assert got.dtype == expected.dtype       # nearest keeps uint8, bilinear gives float32
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    expected = keras.preprocessing.image.smart_resize(x.astype(np.float64), (2, 3))
    assert mr_image.smart_resize(x.astype(np.float64), (2, 3)).dtype == expected.dtype


def test_smart_resize_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        mr_image.smart_resize(np.zeros((4, 4, 1)), (2, 2, 2))
    with pytest.raises(ValueError, match="rank"):
        mr_image.smart_resize(np.zeros((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="interpolation"):
        mr_image.smart_resize(np.zeros((4, 4, 1)), (2, 2), interpolation="bicubic")


# -- timeseries_dataset_from_array ---------------------------------------------------------

SERIES = np.arange(100, dtype=np.float64).reshape(50, 2)
TARGETS = np.arange(50) * 10


@pytest.mark.parametrize("kwargs", [
    {"sequence_length": 5},
    {"sequence_length": 4, "sequence_stride": 3, "sampling_rate": 2, "batch_size": 4},
    {"sequence_length": 3, "start_index": 5, "end_index": 40, "batch_size": 7},
    {"sequence_length": 3, "sequence_stride": 5, "batch_size": None},
    {"sequence_length": 2, "start_index": 0, "end_index": 12, "batch_size": 5},
])
@pytest.mark.parametrize("targets", ["full", None, "short"])
def test_timeseries_windows_match_keras(keras, kwargs, targets):
    targets = {"full": TARGETS, None: None, "short": TARGETS[:30]}[targets]
    if targets is not None and len(targets) < 50 and kwargs.get("start_index"):
        targets = TARGETS[:45]                     # long enough after start_index
    expected = keras.utils.timeseries_dataset_from_array(SERIES, targets, **kwargs)
    got = timeseries_dataset_from_array(SERIES, targets, **kwargs)
    assert_same_batches(expected, got)


def test_timeseries_lists_take_tensorflow_dtypes(keras):
    for values in ([1.0, 2.0, 3.0, 4.0], [1, 2, 3, 4]):
        expected = next(iter(keras.utils.timeseries_dataset_from_array(values, None, 2)))
        assert timeseries_dataset_from_array(values, None, 2)[0].dtype == expected.numpy().dtype


def test_timeseries_shuffle_is_keras_numpy_permutation_then_reshuffled(keras):
    ds = timeseries_dataset_from_array(SERIES, TARGETS, 4, shuffle=True, seed=5, batch_size=8)
    starts = np.arange(47)
    np.random.RandomState(5).shuffle(starts)        # Keras' first shuffle, before tf.data's
    first = np.concatenate([y for _, y in ds])
    np.testing.assert_array_equal(first, TARGETS[starts])
    second = np.concatenate([y for _, y in ds])     # a new order for the next pass
    assert not np.array_equal(second, first)
    theirs = np.concatenate([y.numpy() for _, y in keras.utils.timeseries_dataset_from_array(
        SERIES, TARGETS, 4, shuffle=True, seed=5, batch_size=8)])
    np.testing.assert_array_equal(np.sort(second), np.sort(theirs))   # the same windows
    again = timeseries_dataset_from_array(SERIES, TARGETS, 4, shuffle=True, seed=5, batch_size=8)
    np.testing.assert_array_equal(np.concatenate([y for _, y in again]), first)
    x, y = ds[0]
    np.testing.assert_array_equal(x[:, 0, 0] * 5, y)   # windows stay with their targets


@pytest.mark.parametrize("kwargs, argument", [
    ({"start_index": -1}, "start_index"),
    ({"start_index": 50}, "start_index"),
    ({"start_index": 10, "end_index": 5}, "end_index"),
    ({"end_index": 50}, "end_index"),
    ({"sampling_rate": 0}, "sampling_rate"),
    ({"sequence_stride": 0}, "sequence_stride"),
    ({"sequence_stride": 50}, "sequence_stride"),
    ({"format": "torch"}, "format"),
])
def test_timeseries_bad_arguments_raise_like_keras(keras, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        timeseries_dataset_from_array(SERIES, TARGETS, 3, **kwargs)
    with pytest.raises(ValueError, match=argument):
        keras.utils.timeseries_dataset_from_array(SERIES, TARGETS, 3, **kwargs)


def test_timeseries_targets_too_short_is_a_clear_error():
    with pytest.raises(ValueError, match="targets"):
        timeseries_dataset_from_array(SERIES, TARGETS[:20], 3, start_index=5)


# -- image_dataset_from_directory ----------------------------------------------------------


def write_png(path, array) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture(scope="module")
def image_root(tmp_path_factory):
    """Three classes of RGB PNGs of different sizes, one in a nested folder, and a file
    that is not an image."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    sizes = [(5, 7), (8, 4), (6, 6), (9, 5), (3, 10), (7, 7), (4, 9), (6, 3), (5, 5)]
    for c, name in enumerate(("b_cls", "a_cls", "c_cls")):
        for j in range(3):
            h, w = sizes[3 * c + j]
            folder = root / name / "nested" if j == 2 else root / name
            write_png(folder / f"img{j}.png", rng.integers(0, 256, (h, w, 3)).astype(np.uint8))
    (root / "a_cls" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def gray_root(tmp_path_factory):
    """Two classes of grayscale PNGs (TensorFlow's RGB-to-gray decoding is not Pillow's)."""
    root = tmp_path_factory.mktemp("gray")
    rng = np.random.default_rng(1)
    for name in ("no", "yes"):
        for j in range(3):
            shape = (4 + j, 6 - j)
            write_png(root / name / f"{j}.png", rng.integers(0, 256, shape).astype(np.uint8))
    return root


@pytest.mark.parametrize("kwargs", [
    {},
    {"crop_to_aspect_ratio": True},
    {"pad_to_aspect_ratio": True},
    {"interpolation": "nearest"},
    {"interpolation": "nearest", "pad_to_aspect_ratio": True},
    {"color_mode": "rgba", "label_mode": "categorical"},
    {"label_mode": None},
    {"labels": None, "batch_size": None},
    {"labels": [0, 1, 2, 0, 1, 2, 0, 1, 4], "label_mode": "categorical"},
    {"class_names": ["c_cls", "a_cls"], "label_mode": "binary"},
    {"data_format": "channels_first", "image_size": 4},
])
def test_image_batches_match_keras(keras, image_root, kwargs):
    args = {"image_size": (5, 6), "batch_size": 4, "shuffle": False, "verbose": False, **kwargs}
    expected = keras.utils.image_dataset_from_directory(str(image_root), **args)
    got = image_dataset_from_directory(str(image_root), **args)
    assert got.class_names == expected.class_names
    assert got.file_paths == expected.file_paths
    assert_same_batches(expected, got, rtol=1e-6)


def test_grayscale_images_match_keras(keras, gray_root):
    args = {"image_size": (4, 4), "color_mode": "grayscale", "batch_size": 2, "shuffle": False,
            "label_mode": "binary", "verbose": False}
    expected = keras.utils.image_dataset_from_directory(str(gray_root), **args)
    got = image_dataset_from_directory(str(gray_root), **args)
    assert got[0][0].shape == (2, 4, 4, 1)
    assert_same_batches(expected, got, rtol=1e-6)


def test_image_shuffle_and_split_match_keras(keras, image_root):
    args = {"image_size": (4, 4), "batch_size": 2, "seed": 3, "validation_split": 0.34,
            "verbose": False}
    theirs = keras.utils.image_dataset_from_directory(str(image_root), subset="both", **args)
    ours = image_dataset_from_directory(str(image_root), subset="both", **args)
    assert isinstance(ours, list) and len(ours) == 2
    for expected, got in zip(theirs, ours, strict=True):
        assert got.file_paths == expected.file_paths     # Keras' NumPy shuffle and cut
    assert_same_batches(theirs[1], ours[1], rtol=1e-6)   # validation: not shuffled again
    assert len(ours[0].file_paths) == 6 and len(ours[1].file_paths) == 3
    for subset, part in (("training", 0), ("validation", 1)):
        alone = image_dataset_from_directory(str(image_root), subset=subset, **args)
        assert alone.file_paths == ours[part].file_paths


def test_image_shuffled_pass_follows_file_paths_then_reshuffles(image_root):
    ds = image_dataset_from_directory(str(image_root), image_size=(3, 3), seed=7, batch_size=4,
                                      verbose=False)
    by_path = {p: image_dataset_from_directory(
        str(image_root), image_size=(3, 3), shuffle=False, batch_size=None,
        verbose=False).file_paths.index(p) for p in ds.file_paths}
    plain = image_dataset_from_directory(str(image_root), image_size=(3, 3), shuffle=False,
                                         batch_size=None, verbose=False)
    first = np.concatenate([x for x, _ in ds])
    expected = np.stack([plain[by_path[p]][0] for p in ds.file_paths])
    np.testing.assert_array_equal(first, expected)
    second = np.concatenate([x for x, _ in ds])
    assert not np.array_equal(second, first)
    np.testing.assert_array_equal(np.sort(second.reshape(9, -1), axis=0),
                                  np.sort(first.reshape(9, -1), axis=0))


def test_image_dataset_prints_what_it_found(image_root, capsys):
    image_dataset_from_directory(str(image_root), image_size=(3, 3), shuffle=False)
    assert capsys.readouterr().out == "Found 9 files belonging to 3 classes.\n"


@pytest.mark.parametrize("kwargs, argument", [
    ({"subset": "training"}, "validation_split"),
    ({"validation_split": 0.2}, "validation_split"),
    ({"validation_split": 0.2, "subset": "training"}, "seed"),
    ({"validation_split": 1.5, "subset": "training", "seed": 1}, "validation_split"),
    ({"validation_split": 0.2, "subset": "test", "seed": 1}, "subset"),
    ({"label_mode": "sparse"}, "label_mode"),
    ({"labels": "folders"}, "labels"),
    ({"labels": [0, 1], "label_mode": "int"}, "labels"),
    ({"labels": [0] * 9, "class_names": ["a_cls"]}, "class_names"),
    ({"class_names": ["a_cls", "z"]}, "class_names"),
    ({"label_mode": "binary"}, "binary"),
    ({"color_mode": "cmyk"}, "color_mode"),
    ({"image_size": (2, 2, 2)}, "image_size"),
    ({"interpolation": "cubic"}, "interpolation"),
    ({"format": "torch"}, "format"),
    ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "pad_to_aspect_ratio"),
])
def test_image_bad_arguments_raise_like_keras(keras, image_root, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        image_dataset_from_directory(str(image_root), verbose=False, **kwargs)
    with pytest.raises(ValueError, match=argument):
        keras.utils.image_dataset_from_directory(str(image_root), verbose=False, **kwargs)


def test_image_interpolations_keras_has_and_minired_has_not(image_root):
    with pytest.raises(ValueError, match="interpolation.*bicubic"):
        image_dataset_from_directory(str(image_root), interpolation="bicubic", verbose=False)


def test_directory_without_images_or_missing(tmp_path):
    (tmp_path / "empty_class").mkdir()
    (tmp_path / "empty_class" / "readme.md").write_text("no images here")
    with pytest.raises(ValueError, match="No images found in directory"):
        image_dataset_from_directory(str(tmp_path), verbose=False)
    with pytest.raises(ValueError, match="No text files found in directory"):
        text_dataset_from_directory(str(tmp_path), verbose=False)
    with pytest.raises(FileNotFoundError, match="directory"):
        image_dataset_from_directory(str(tmp_path / "missing"), verbose=False)


def test_follow_links(image_root, tmp_path):
    (tmp_path / "cls").mkdir()
    os.symlink(image_root / "a_cls", tmp_path / "cls" / "linked")
    with pytest.raises(ValueError, match="No images found"):   # the link is not walked
        image_dataset_from_directory(tmp_path, image_size=(2, 2), verbose=False)
    followed = image_dataset_from_directory(tmp_path, image_size=(2, 2), verbose=False,
                                            shuffle=False, follow_links=True)
    assert len(followed.file_paths) == 3


# -- text_dataset_from_directory -----------------------------------------------------------


@pytest.fixture(scope="module")
def text_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("texts")
    for name in ("pos", "neg"):
        (root / name / "deep").mkdir(parents=True)
        for j in range(5):
            folder = root / name / "deep" if j == 4 else root / name
            (folder / f"f{j}.txt").write_text(f"{name} texto número {j} " * (j + 1),
                                              encoding="utf-8")
    (root / "pos" / "image.png").write_bytes(b"not a text")
    return root


@pytest.mark.parametrize("kwargs", [
    {},
    {"max_length": 7, "label_mode": "binary"},
    {"label_mode": "categorical", "batch_size": None},
    {"label_mode": None},
    {"labels": [0, 1, 2, 0, 1, 2, 0, 1, 2, 5], "label_mode": "categorical"},
    {"class_names": ["pos", "neg"]},
])
def test_text_batches_match_keras(keras, text_root, kwargs):
    args = {"batch_size": 3, "shuffle": False, "verbose": False, **kwargs}
    expected = keras.utils.text_dataset_from_directory(str(text_root), **args)
    got = text_dataset_from_directory(str(text_root), **args)
    assert got.class_names == expected.class_names
    assert_same_batches(expected, got)


def test_text_shuffle_and_split_match_keras(keras, text_root):
    args = {"seed": 11, "validation_split": 0.3, "batch_size": 2, "verbose": False}
    theirs = keras.utils.text_dataset_from_directory(str(text_root), subset="both", **args)
    ours = text_dataset_from_directory(str(text_root), subset="both", **args)
    assert_same_batches(theirs[1], ours[1])                 # validation: the same batches

    def pairs(dataset, numpy=False):
        return sorted((text, int(label)) for x, y in dataset
                      for text, label in zip((x.numpy() if numpy else x).tolist(),
                                             y.numpy() if numpy else y, strict=True))

    assert pairs(ours[0]) == pairs(theirs[0], numpy=True)   # training: the same samples
    alone = text_dataset_from_directory(str(text_root), subset="training", **args)
    assert [x.tolist() for x, _ in alone] == [x.tolist() for x, _ in
                                              text_dataset_from_directory(
                                                  str(text_root), subset="both", **args)[0]]


@pytest.mark.parametrize("kwargs, argument", [
    ({"subset": "validation"}, "validation_split"),
    ({"label_mode": "one_hot"}, "label_mode"),
    ({"labels": None, "class_names": ["pos"]}, "class_names"),
    ({"format": "torch"}, "format"),
])
def test_text_bad_arguments_raise_like_keras(keras, text_root, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        text_dataset_from_directory(str(text_root), verbose=False, **kwargs)
    with pytest.raises(ValueError, match=argument):
        keras.utils.text_dataset_from_directory(str(text_root), verbose=False, **kwargs)


# -- fit reads each dataset ----------------------------------------------------------------


def trains_one_step(model, dataset) -> None:
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(),
                                                        strict=True))


def test_fit_on_a_timeseries_dataset():
    mr.utils.set_random_seed(0)
    ds = timeseries_dataset_from_array(SERIES / 100, TARGETS / 500, 4, batch_size=16)
    model = mr.Sequential([mr.Input((4, 2)), mr.layers.Flatten(), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    trains_one_step(model, ds)
    assert model.predict(ds, verbose=0).shape == (47, 1)
    assert np.isfinite(model.evaluate(ds, verbose=0))


def test_fit_on_an_image_dataset(image_root):
    mr.utils.set_random_seed(0)
    ds = image_dataset_from_directory(image_root, image_size=(4, 4), batch_size=4, seed=1,
                                      verbose=False)
    model = mr.Sequential([mr.Input((4, 4, 3)), mr.layers.Rescaling(1 / 255),
                           mr.layers.Flatten(), mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    trains_one_step(model, ds)
    train, val = image_dataset_from_directory(image_root, image_size=(4, 4), batch_size=4,
                                              seed=1, validation_split=0.34, subset="both",
                                              label_mode="categorical", verbose=False)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    history = model.fit(train, validation_data=val, epochs=2, verbose=0).history
    assert len(history["val_loss"]) == 2 and np.all(np.isfinite(history["val_loss"]))


def test_fit_on_a_text_dataset(text_root):
    mr.utils.set_random_seed(0)
    ds = text_dataset_from_directory(text_root, batch_size=4, seed=1, label_mode="binary",
                                     verbose=False)
    vectorize = mr.layers.TextVectorization(max_tokens=20, output_sequence_length=6)
    vectorize.adapt(x for x, _ in ds)
    inputs = mr.Input(shape=(), dtype="string")
    hidden = mr.layers.GlobalAveragePooling1D()(mr.layers.Embedding(20, 3)(vectorize(inputs)))
    model = mr.Model(inputs, mr.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    trains_one_step(model, ds)
