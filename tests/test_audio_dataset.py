"""audio_dataset_from_directory beside Keras, on WAV files written in a temporary folder: the
decoded samples, labels, class names, file order, validation split, padding, cutting and
ragged batches, and the errors."""

from __future__ import annotations

import wave

import numpy as np
import pytest

import minired as mr
from minired.utils.audio_dataset import read_wav


@pytest.fixture
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def write_wav(path, samples: np.ndarray, width: int = 2, rate: int = 8000) -> None:
    """``samples``: integers of shape (frames, channels)."""
    dtype = {1: np.uint8, 2: "<i2", 4: "<i4"}[width]
    with wave.open(str(path), "wb") as f:
        f.setnchannels(samples.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(np.asarray(samples).astype(dtype).tobytes())


@pytest.fixture
def audio_dir(tmp_path):
    """3 classes (``b_dog`` has 4 clips, the others 3), clips of different lengths, stereo."""
    rng = np.random.default_rng(0)
    root = tmp_path / "audio"
    for c, (name, count) in enumerate((("a_cat", 3), ("b_dog", 4), ("c_owl", 3))):
        (root / name).mkdir(parents=True)
        for i in range(count):
            frames = 5 + 4 * i + c
            write_wav(root / name / f"clip{i}.wav", rng.integers(-32768, 32768, (frames, 2)))
    (root / "a_cat" / "notes.txt").write_text("not audio")
    return root


# -- decoding: tf.audio.decode_wav's numbers ---------------------------------------------------

def test_read_wav_is_n_over_32768(tmp_path):
    samples = np.array([[0, -32768], [32767, 1], [-1, 100]])
    write_wav(tmp_path / "a.wav", samples)
    audio = read_wav(tmp_path / "a.wav")
    assert audio.dtype == np.float32 and audio.shape == (3, 2)
    np.testing.assert_array_equal(audio, samples / 32768.0)
    np.testing.assert_array_equal(read_wav(tmp_path / "a.wav", 2), audio[:2])
    np.testing.assert_array_equal(read_wav(tmp_path / "a.wav", 5)[3:], np.zeros((2, 2)))


def test_decoding_equals_tensorflow(keras_env, tmp_path):
    tf = keras_env.tf
    samples = np.random.default_rng(1).integers(-32768, 32768, (50, 3))
    write_wav(tmp_path / "a.wav", samples)
    for length in (None, 20, 70):
        theirs, rate = tf.audio.decode_wav(tf.io.read_file(str(tmp_path / "a.wav")),
                                           desired_samples=-1 if length is None else length)
        np.testing.assert_array_equal(read_wav(tmp_path / "a.wav", length), theirs.numpy())
        assert int(rate) == 8000


@pytest.mark.parametrize("width", [1, 4])
def test_only_16_bit_files_are_read_as_tensorflow(tmp_path, width):
    write_wav(tmp_path / "a.wav", np.zeros((4, 1), dtype=int), width=width)
    with pytest.raises(ValueError, match=f"Can only read 16-bit WAV files, but received "
                                         f"{8 * width}"):
        read_wav(tmp_path / "a.wav")
    (tmp_path / "b.wav").write_bytes(b"RIFF0000JUNK")
    with pytest.raises(ValueError, match="Cannot read the WAV file"):
        read_wav(tmp_path / "b.wav")


# -- the dataset beside Keras' -----------------------------------------------------------------

def batches(dataset) -> list:
    """Every batch of a Keras dataset, as NumPy."""
    out = []
    for item in dataset:
        if isinstance(item, tuple):
            out.append(tuple(np.asarray(t) if not hasattr(t, "to_list") else t.numpy()
                             for t in item))
        else:
            out.append(np.asarray(item) if not hasattr(item, "to_list") else item.numpy())
    return out


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=4),
    dict(batch_size=3, label_mode="categorical"),
    dict(batch_size=4, output_sequence_length=9),
    dict(batch_size=None, output_sequence_length=20, label_mode="categorical"),
    dict(batch_size=2, label_mode=None),
    dict(batch_size=4, class_names=["c_owl", "a_cat"]),
    dict(batch_size=5, labels=[1, 0, 1, 0, 1, 0, 1, 0, 1, 1]),
    dict(batch_size=5, labels=[1, 0, 1, 0, 1, 0, 1, 0, 1, 1], label_mode="binary"),
])
def test_unshuffled_batches_equal_keras(keras_env, audio_dir, kwargs):
    keras = keras_env.keras
    ours = mr.utils.audio_dataset_from_directory(audio_dir, shuffle=False, verbose=False,
                                                 **kwargs)
    theirs = keras.utils.audio_dataset_from_directory(audio_dir, shuffle=False, verbose=False,
                                                      **kwargs)
    assert ours.class_names == theirs.class_names
    expected = batches(theirs)
    assert len(ours) == len(expected)
    for mine, their in zip(ours, expected, strict=True):
        mine, their = (mine, their) if isinstance(mine, tuple) else ((mine,), (their,))
        for a, b in zip(mine, their, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_ragged_batches_equal_keras(keras_env, audio_dir):
    keras = keras_env.keras
    ours = mr.utils.audio_dataset_from_directory(audio_dir, batch_size=4, shuffle=False,
                                                 ragged=True, verbose=False)
    theirs = batches(keras.utils.audio_dataset_from_directory(
        audio_dir, batch_size=4, shuffle=False, ragged=True, verbose=False))
    for (x, y), (kx, ky) in zip(ours, theirs, strict=True):
        assert x.dtype == kx.dtype == object and len(x) == len(kx)
        for clip, kclip in zip(x, kx, strict=True):
            assert clip.dtype == np.float32
            np.testing.assert_array_equal(clip, kclip)
        np.testing.assert_array_equal(y, ky)
    single = mr.utils.audio_dataset_from_directory(audio_dir, batch_size=None, shuffle=False,
                                                   ragged=True, label_mode=None, verbose=False)
    assert single[0].shape == (5, 2)


@pytest.mark.parametrize("split", [0.2, 0.34])
def test_shuffled_split_uses_keras_files_and_labels(keras_env, audio_dir, split):
    """The validation subset (not shuffled by tf.data) comes in Keras' order; the training
    subset holds Keras' clips with the same labels (tf.data mixes them once more)."""
    keras = keras_env.keras
    kwargs = dict(batch_size=2, seed=7, validation_split=split, output_sequence_length=16,
                  verbose=False)
    train, val = mr.utils.audio_dataset_from_directory(audio_dir, subset="both", **kwargs)
    k_train, k_val = keras.utils.audio_dataset_from_directory(audio_dir, subset="both",
                                                              **kwargs)
    for (x, y), (kx, ky) in zip(val, batches(k_val), strict=True):
        np.testing.assert_array_equal(x, kx)
        np.testing.assert_array_equal(y, ky)

    def clips(items):
        pairs = [(tuple(np.asarray(x[i]).ravel()), int(y[i])) for x, y in items
                 for i in range(len(y))]
        return sorted(pairs)

    assert clips(list(train)) == clips(batches(k_train))
    only = mr.utils.audio_dataset_from_directory(audio_dir, subset="validation", **kwargs)
    np.testing.assert_array_equal(np.concatenate([y for _, y in only]),
                                  np.concatenate([y for _, y in val]))


def test_subset_both_is_a_tuple_and_the_dataset_trains(audio_dir):
    train, val = result = mr.utils.audio_dataset_from_directory(
        audio_dir, batch_size=4, seed=1, validation_split=0.3, subset="both",
        output_sequence_length=16, verbose=False)
    assert isinstance(result, tuple) and len(train) == 2 and len(val) == 1
    model = mr.Sequential([mr.Input((16, 2)),
                           mr.layers.STFTSpectrogram("log", frame_length=8, frame_step=4),
                           mr.layers.GlobalAveragePooling1D(), mr.layers.Dense(3)])
    model.compile("adam", mr.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["val_loss"]))


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(ragged=True, output_sequence_length=10), "Cannot set both `ragged`"),
    (dict(sampling_rate=16000.0), "`sampling_rate` should have an integer value"),
    (dict(sampling_rate=0), "`sampling_rate` should be higher than 0"),
    (dict(sampling_rate=16000), "minired does not resample audio"),
    (dict(label_mode="binary"), 'there must be exactly 2 class_names'),
    (dict(label_mode="sparse"), "`label_mode` argument must be one of"),
    (dict(labels="folders"), "list/tuple of integer labels"),
    (dict(labels=[0, 1], class_names=["a_cat"]), "You can only pass `class_names`"),
    (dict(validation_split=0.2, subset="training"), "you must provide a `seed`"),
    (dict(output_sequence_length=0), "`output_sequence_length` must be a positive int"),
])
def test_bad_arguments_are_refused(audio_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mr.utils.audio_dataset_from_directory(audio_dir, verbose=False, **kwargs)


def test_no_audio_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x")
    with pytest.raises(ValueError, match=r"No audio files found in directory .*'\.wav'"):
        mr.utils.audio_dataset_from_directory(tmp_path, verbose=False)
