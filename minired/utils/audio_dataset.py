"""``audio_dataset_from_directory``: ``.wav`` files in class folders, in batches."""

from __future__ import annotations

import os
import wave

import numpy as np

from minired.utils.directory_index import (
    check_labels_args,
    check_validation_split_arg,
    datasets_for_subset,
    index_directory,
)
from minired.utils.sample_dataset import SampleDataset, encode_labels

ALLOWED_FORMATS = (".wav",)


def read_wav(path, output_sequence_length: int | None = None) -> np.ndarray:
    """A 16-bit PCM WAV file as ``tf.audio.decode_wav`` decodes it: float32 of shape
    ``(samples, channels)``, each sample ``a = n / 32768`` for the stored integer
    ``n ∈ [−32768, 32767]`` (so ``a ∈ [−1, 1)``). With ``output_sequence_length`` the
    samples are cut to that many, or padded with zeros at the end.

    Read with Python's ``wave`` module; other sample widths raise a ValueError, as
    TensorFlow's decoder does.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.wav"
        >>> with wave.open(str(path), "wb") as f:
        ...     f.setnchannels(1); f.setsampwidth(2); f.setframerate(8000)
        ...     f.writeframes(np.array([0, 16384, -32768], "<i2").tobytes())
        >>> read_wav(path)[:, 0], read_wav(path, 4).shape
        (array([ 0. ,  0.5, -1. ], dtype=float32), (4, 1))
    """
    try:
        with wave.open(os.fspath(path), "rb") as f:
            width, channels = f.getsampwidth(), f.getnchannels()
            frames = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as error:
        raise ValueError(f"Cannot read the WAV file {os.fspath(path)!r}: {error}.") from None
    if width != 2:
        raise ValueError(f"Can only read 16-bit WAV files, but received {8 * width} (in "
                         f"{os.fspath(path)!r}).")
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    audio = samples.astype(np.float32) / np.float32(32768)
    if output_sequence_length is not None:
        audio = audio[:output_sequence_length]
        missing = output_sequence_length - audio.shape[0]
        if missing > 0:
            audio = np.concatenate([audio, np.zeros((missing, channels), np.float32)])
    return audio


def _batch(audios: list[np.ndarray], ragged: bool) -> np.ndarray:
    """Keras' batches: the clips padded with zeros to the longest one (``padded_batch``), or
    with ``ragged`` an object array of the clips as they are (what ``.numpy()`` gives of a
    ``tf.RaggedTensor``)."""
    if ragged:
        batch = np.empty(len(audios), dtype=object)
        for i, audio in enumerate(audios):
            batch[i] = audio
        return batch
    longest = max(audio.shape[0] for audio in audios)
    return np.stack([np.pad(audio, [(0, longest - audio.shape[0]), (0, 0)])
                     for audio in audios])


def audio_dataset_from_directory(directory, labels="inferred", label_mode: str | None = "int",
                                 class_names: list[str] | None = None,
                                 batch_size: int | None = 32,
                                 sampling_rate: int | None = None,
                                 output_sequence_length: int | None = None,
                                 ragged: bool = False, shuffle: bool = True,
                                 seed: int | None = None,
                                 validation_split: float | None = None,
                                 subset: str | None = None, follow_links: bool = False,
                                 verbose: bool = True):
    """Generates a dataset from audio files (16-bit PCM ``.wav``) in a directory.

    With ``labels="inferred"`` each sub-directory of ``directory`` is a class, in
    alphanumeric order (``cat/`` → 0, ``dog/`` → 1, ...), and its ``.wav`` files (found
    recursively) are that class. Each file is decoded as :func:`read_wav` (``n / 32768``,
    float32). A batch is::

        x: float32 (batch, samples, channels), the clips padded with zeros to the
           longest of the batch, or cut/padded to output_sequence_length;
           with ragged=True an object array of the clips (samples_i, channels)
        y: int32 (batch,)  |  float32 (batch, 1) for "binary"  |
           float32 (batch, num_classes) one-hot for "categorical"

    (``x`` alone when ``label_mode=None``). The files are read when their batch is asked
    for. The list of files, its shuffle (NumPy's ``RandomState(seed)``) and the
    ``validation_split`` cut (the last ``int(split · N)`` files of the shuffled list are the
    validation subset) are Keras'; ``class_names`` is Keras' attribute. With ``shuffle``,
    Keras mixes the files once more with ``tf.data``'s shuffle buffer (all but the
    validation part of ``subset="both"``), which NumPy cannot reproduce: minired reads them
    in the order of its shuffled list and draws a new order after each pass. Returns a
    :class:`~minired.utils.PyDataset` (Keras: a ``tf.data.Dataset``), or
    ``(training, validation)`` for ``subset="both"``.

    Args:
        directory: the folder with the audio files (one sub-folder per class when
            ``labels="inferred"``).
        labels: ``"inferred"``, ``None`` (no labels) or a list of integer labels, one per
            ``.wav`` file in the alphanumeric order of their paths.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` (exactly 2 classes) or
            ``None``.
        class_names: the sub-folders to use, in this order (``labels="inferred"`` only).
        batch_size: clips per batch, or ``None`` for single clips.
        sampling_rate: Keras resamples to this rate with ``tensorflow_io``; minired does not
            resample, so it must be None.
        output_sequence_length: cut or pad every clip to this many samples (``None``: pad
            each batch to its longest clip).
        ragged: give each batch's clips as they are (not with ``output_sequence_length``).
        shuffle: shuffle the files (otherwise in alphanumeric order).
        seed: the shuffle's seed (needed with ``validation_split`` and ``shuffle``).
        validation_split: the fraction of the files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (with ``validation_split``).
        follow_links: walk into sub-folders that are symbolic links.
        verbose: print how many files and classes were found.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for name, length in (("cat", 3), ("dog", 5)):
        ...     (root / name).mkdir()
        ...     with wave.open(str(root / name / "1.wav"), "wb") as f:
        ...         f.setnchannels(1); f.setsampwidth(2); f.setframerate(8000)
        ...         f.writeframes(np.full(length, 16384, "<i2").tobytes())
        >>> ds = audio_dataset_from_directory(root, shuffle=False)
        Found 2 files belonging to 2 classes.
        >>> x, y = ds[0]
        >>> ds.class_names, x.shape, x[:, :, 0].tolist(), y.tolist()
        (['cat', 'dog'], (2, 5, 1), [[0.5, 0.5, 0.5, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5, 0.5]], [0, 1])
    """
    check_labels_args(labels, label_mode, class_names, "audio")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError("`sampling_rate` should have an integer value. "
                             f"Received: sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError("`sampling_rate` should be higher than 0. "
                             f"Received: sampling_rate={sampling_rate}")
        raise ValueError("audio_dataset_from_directory: minired does not resample audio (Keras "
                         "does it with tensorflow_io); pass sampling_rate=None to read the "
                         f"files at their own rate. Received: sampling_rate={sampling_rate}")
    if output_sequence_length is not None and (
            isinstance(output_sequence_length, bool)
            or not isinstance(output_sequence_length, int | np.integer)
            or output_sequence_length < 1):
        raise ValueError("`output_sequence_length` must be a positive int or None. Received: "
                         f"output_sequence_length={output_sequence_length!r}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = index_directory(
        directory, labels, formats=ALLOWED_FORMATS, class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    num_classes = len(class_names) if class_names else 0

    def make(paths: list[str], subset_labels, subset_shuffle: bool) -> SampleDataset:
        def load(samples: np.ndarray) -> np.ndarray:
            return _batch([read_wav(paths[i], output_sequence_length) for i in samples],
                          ragged)

        dataset = SampleDataset(load, len(paths),
                                labels=encode_labels(subset_labels, label_mode, num_classes),
                                batch_size=batch_size, shuffle=subset_shuffle, seed=seed)
        dataset.class_names = class_names
        return dataset

    datasets = datasets_for_subset(make, file_paths, labels, validation_split, subset, shuffle,
                                   f"audio files found in directory {os.fspath(directory)}. "
                                   f"Allowed format(s): {ALLOWED_FORMATS}")
    return tuple(datasets) if subset == "both" else datasets     # a tuple, as Keras
