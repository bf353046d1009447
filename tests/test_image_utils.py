"""img_to_array, array_to_img, save_img and load_img, image for image against keras.utils."""

from __future__ import annotations

import inspect
import io
import sys
import warnings

import numpy as np
import pytest

from minired.utils import array_to_img, img_to_array, load_img, save_img

Image = pytest.importorskip("PIL.Image", reason='Pillow: pip install "minired[plot]"')


def arrays():
    """Small images: uint8 and float, 1, 3 and 4 channels, and a flat one."""
    rng = np.random.default_rng(0)
    out = []
    for channels in (1, 3, 4):
        out.append(rng.integers(0, 256, (3, 5, channels)).astype(np.uint8))
        out.append(rng.normal(size=(3, 5, channels)))                  # float64
        out.append(rng.uniform(0, 1, (3, 5, channels)).astype(np.float32))
    out.append(np.full((2, 2, 3), 0.5))                                 # max - min == 0
    out.append(rng.uniform(0, 1000, (3, 4, 1)))                         # "I" when not scaled
    return out


@pytest.fixture(scope="module")
def keras_utils():
    return pytest.importorskip("keras").utils


def assert_same_image(ours, theirs) -> None:
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_array_to_img_equals_keras(keras_utils, scale, data_format):
    for x in arrays():
        if data_format == "channels_first":
            x = np.moveaxis(x, -1, 0)
        ours = array_to_img(x, data_format=data_format, scale=scale)
        assert_same_image(ours, keras_utils.array_to_img(x, data_format=data_format,
                                                         scale=scale))
    for dtype in ("float64", "float16"):
        x = arrays()[1]
        assert_same_image(array_to_img(x, scale=scale, dtype=dtype),
                          keras_utils.array_to_img(x, scale=scale, dtype=dtype))


def test_array_to_img_modes_and_scaling():
    x = np.array([[[0.0], [1.0]], [[2.0], [4.0]]])
    assert array_to_img(x).mode == "L"
    np.testing.assert_array_equal(np.asarray(array_to_img(x)), [[0, 63], [127, 255]])
    np.testing.assert_array_equal(np.asarray(array_to_img(x, scale=False)), [[0, 1], [2, 4]])
    assert array_to_img(x * 100, scale=False).mode == "I"
    assert array_to_img(np.zeros((2, 2, 3))).mode == "RGB"
    assert array_to_img(np.zeros((2, 2, 4))).mode == "RGBA"


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first", None])
def test_img_to_array_equals_keras(keras_utils, data_format):
    for x in arrays():
        img = array_to_img(x)
        for dtype in (None, "uint8", "float64"):
            ours = img_to_array(img, data_format=data_format, dtype=dtype)
            theirs = keras_utils.img_to_array(img, data_format=data_format, dtype=dtype)
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
            np.testing.assert_array_equal(ours, theirs)
    assert img_to_array(array_to_img(np.zeros((3, 5, 1)))).shape == (3, 5, 1)
    assert img_to_array(array_to_img(np.zeros((3, 5, 4))), "channels_first").shape == (4, 3, 5)
    assert img_to_array(np.zeros((3, 5), np.uint8)).dtype == np.float32


def test_array_round_trip_keeps_uint8_values():
    x = np.random.default_rng(1).integers(0, 256, (4, 6, 3)).astype(np.uint8)
    np.testing.assert_array_equal(img_to_array(array_to_img(x, scale=False), dtype="uint8"), x)


@pytest.mark.parametrize("suffix", ["png", "bmp", "jpg"])
def test_save_img_equals_keras(keras_utils, tmp_path, suffix):
    for i, x in enumerate(arrays()[:9]):        # "I" images and flat ones: png only below
        ours, theirs = tmp_path / f"ours{i}.{suffix}", tmp_path / f"keras{i}.{suffix}"
        with warnings.catch_warnings(record=True) as ours_warnings:
            warnings.simplefilter("always")
            save_img(ours, x)
        with warnings.catch_warnings(record=True) as keras_warnings:
            warnings.simplefilter("always")
            keras_utils.save_img(theirs, x)
        assert ours.read_bytes() == theirs.read_bytes()
        rgba_jpeg = suffix == "jpg" and x.shape[-1] == 4
        assert [str(w.message) for w in ours_warnings if "JPEG" in str(w.message)] == (
            ["The JPEG format does not support RGBA images, converting to RGB."] if rgba_jpeg
            else [])
        assert len([w for w in keras_warnings if "JPEG" in str(w.message)]) == rgba_jpeg
    buffer, keras_buffer = io.BytesIO(), io.BytesIO()
    save_img(buffer, arrays()[-1], file_format="tiff", scale=False)       # mode "I"
    keras_utils.save_img(keras_buffer, arrays()[-1], file_format="tiff", scale=False)
    assert buffer.getvalue() == keras_buffer.getvalue()


def write_images(tmp_path):
    """PNG files in modes L, RGB, RGBA and 16-bit grayscale, of 6x9 pixels."""
    rng = np.random.default_rng(2)
    paths = []
    for mode, channels in (("L", 1), ("RGB", 3), ("RGBA", 4)):
        path = tmp_path / f"{mode}.png"
        save_img(path, rng.integers(0, 256, (6, 9, channels)).astype(np.uint8), scale=False)
        assert Image.open(path).mode == mode
        paths.append(path)
    path = tmp_path / "I16.png"
    Image.fromarray(rng.integers(0, 60000, (6, 9)).astype(np.uint16)).save(path)
    paths.append(path)
    return paths


def test_load_img_equals_keras(keras_utils, tmp_path):
    for path in write_images(tmp_path):
        for color_mode in ("rgb", "rgba", "grayscale"):
            for target_size in (None, (6, 9), (4, 5), (7, 3)):
                for interpolation in ("nearest", "bilinear", "bicubic", "lanczos", "box",
                                      "hamming"):
                    for keep in (False, True):
                        kwargs = {"color_mode": color_mode, "target_size": target_size,
                                  "interpolation": interpolation, "keep_aspect_ratio": keep}
                        assert_same_image(load_img(path, **kwargs),
                                          keras_utils.load_img(path, **kwargs))
        for source in (str(path), path, str(path).encode()):
            assert_same_image(load_img(source), keras_utils.load_img(source))
        assert_same_image(load_img(io.BytesIO(path.read_bytes()), target_size=(3, 3)),
                          keras_utils.load_img(io.BytesIO(path.read_bytes()),
                                               target_size=(3, 3)))


def test_load_img_modes(tmp_path):
    rgb, rgba, gray, i16 = write_images(tmp_path)
    assert load_img(gray).mode == "RGB" and load_img(rgb, color_mode="rgba").mode == "RGBA"
    assert load_img(i16, color_mode="grayscale").mode.startswith("I")    # kept 16-bit
    assert img_to_array(load_img(rgba, color_mode="grayscale")).shape == (6, 9, 1)
    assert load_img(rgb, target_size=(4, 5)).size == (5, 4)              # (width, height)
    assert load_img(rgb, target_size=(4, 4), keep_aspect_ratio=True).size == (4, 4)


def test_errors_equal_keras(keras_utils, tmp_path):
    png = write_images(tmp_path)[0]
    cases = [
        (array_to_img, keras_utils.array_to_img, (np.zeros((2, 2)),), {}),
        (array_to_img, keras_utils.array_to_img, (np.zeros((2, 2, 2)),), {}),
        (array_to_img, keras_utils.array_to_img, (np.zeros((2, 2, 3)),),
         {"data_format": "channels_middle"}),
        (img_to_array, keras_utils.img_to_array, (np.zeros((2, 2, 2, 2)),), {}),
        (load_img, keras_utils.load_img, (png,), {"color_mode": "cmyk"}),
        (load_img, keras_utils.load_img, (png,), {"target_size": (2, 2),
                                                  "interpolation": "area"}),
        (load_img, keras_utils.load_img, (3,), {}),
    ]
    for ours, theirs, args, kwargs in cases:
        with pytest.raises((ValueError, TypeError)) as our_error:
            ours(*args, **kwargs)
        with pytest.raises((ValueError, TypeError)) as keras_error:
            theirs(*args, **kwargs)
        assert type(our_error.value) is type(keras_error.value)
        assert str(our_error.value) == str(keras_error.value)


def test_keras_signatures(keras_utils):
    for ours in (img_to_array, array_to_img, load_img, save_img):
        theirs = getattr(keras_utils, ours.__name__)
        assert [(p.name, p.default, p.kind)
                for p in inspect.signature(ours).parameters.values()] == [
            (p.name, p.default, p.kind) for p in inspect.signature(theirs).parameters.values()]


def test_missing_pillow_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    for call in (lambda: array_to_img(np.zeros((2, 2, 3))),
                 lambda: load_img("any.png"),
                 lambda: save_img("any.png", np.zeros((2, 2, 3)))):
        with pytest.raises(ImportError, match=r'needs Pillow.*pip install "minired\[plot\]"'):
            call()
    assert img_to_array(np.zeros((2, 2, 3))).shape == (2, 2, 3)          # NumPy alone
