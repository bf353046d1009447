"""``text_dataset_from_directory``: ``.txt`` files in class folders, in batches."""

from __future__ import annotations

import os

import numpy as np

from minired.utils.directory_index import (
    check_format,
    check_labels_args,
    check_validation_split_arg,
    datasets_for_subset,
    index_directory,
)
from minired.utils.sample_dataset import SampleDataset, encode_labels


def _read_texts(paths: list[str], max_length: int | None) -> np.ndarray:
    """The files' contents as ``bytes`` (what Keras' ``tf.string`` batches give as NumPy),
    cut to their first ``max_length`` bytes (``tf.strings.substr``)."""
    texts = np.empty(len(paths), dtype=object)
    for i, path in enumerate(paths):
        with open(path, "rb") as f:
            content = f.read()
        texts[i] = content if max_length is None else content[:max_length]
    return texts


def text_dataset_from_directory(directory, labels="inferred", label_mode: str | None = "int",
                                class_names: list[str] | None = None,
                                batch_size: int | None = 32, max_length: int | None = None,
                                shuffle: bool = True, seed: int | None = None,
                                validation_split: float | None = None,
                                subset: str | None = None, follow_links: bool = False,
                                format: str = "tf", verbose: bool = True):
    """Generates a dataset from text files in a directory.

    With ``labels="inferred"`` each sub-directory of ``directory`` is a class, in
    alphanumeric order (``neg/`` → 0, ``pos/`` → 1, ...), and its ``.txt`` files (found
    recursively) are that class. A batch is::

        x: an object array of bytes (batch,): each file's content, cut to max_length bytes
        y: int32 (batch,)  |  float32 (batch, 1) for "binary"  |
           float32 (batch, num_classes) one-hot for "categorical"

    (``x`` alone when ``label_mode=None``), as ``.numpy()`` gives Keras' ``tf.string``
    batches; :class:`~minired.layers.TextVectorization` reads them. The files are read when
    their batch is asked for. The list of files, its shuffle (NumPy's
    ``RandomState(seed)``) and the ``validation_split`` cut (the last ``int(split · N)``
    files of the shuffled list are the validation subset) are Keras'; ``class_names`` is
    Keras' attribute. Keras mixes the training files once more with ``tf.data``'s shuffle
    buffer, which NumPy cannot reproduce: minired reads them in the order of its shuffled
    list and draws a new order after each pass. Returns a :class:`~minired.utils.PyDataset`
    (Keras: a ``tf.data.Dataset``), or ``[training, validation]`` for ``subset="both"``.

    Args:
        directory: the folder with the texts (one sub-folder per class when
            ``labels="inferred"``).
        labels: ``"inferred"``, ``None`` (no labels) or a list of integer labels, one per
            ``.txt`` file in the alphanumeric order of their paths.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` (exactly 2 classes) or
            ``None``.
        class_names: the sub-folders to use, in this order (``labels="inferred"`` only).
        batch_size: texts per batch, or ``None`` for single texts.
        max_length: keep the first ``max_length`` bytes of each text (``None``: all).
        shuffle: shuffle the files (otherwise in alphanumeric order).
        seed: the shuffle's seed (needed with ``validation_split`` and ``shuffle``).
        validation_split: the fraction of the files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (with ``validation_split``).
        follow_links: walk into sub-folders that are symbolic links.
        format: ``"tf"`` or ``"grain"`` (accepted for Keras' scripts; minired's dataset
            either way).
        verbose: print how many files and classes were found.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for name, text in (("neg", "boring film"), ("pos", "great film")):
        ...     (root / name).mkdir()
        ...     _ = (root / name / "1.txt").write_text(text)
        >>> ds = text_dataset_from_directory(root, max_length=5, shuffle=False)
        Found 2 files belonging to 2 classes.
        >>> x, y = ds[0]
        >>> ds.class_names, x.tolist(), y.tolist()
        (['neg', 'pos'], [b'borin', b'great'], [0, 1])
    """
    check_labels_args(labels, label_mode, class_names, "text")
    check_format(format)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if max_length is not None and (isinstance(max_length, bool)
                                   or not isinstance(max_length, int | np.integer)):
        raise ValueError(f"`max_length` must be an int or None. Received: "
                         f"max_length={max_length!r}")
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = index_directory(
        directory, labels, formats=(".txt",), class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    num_classes = len(class_names) if class_names else 0

    def make(paths: list[str], subset_labels, subset_shuffle: bool) -> SampleDataset:
        dataset = SampleDataset(lambda samples: _read_texts([paths[i] for i in samples],
                                                            max_length),
                                len(paths),
                                labels=encode_labels(subset_labels, label_mode, num_classes),
                                batch_size=batch_size, shuffle=subset_shuffle, seed=seed)
        dataset.class_names = class_names
        return dataset

    return datasets_for_subset(make, file_paths, labels, validation_split, subset, shuffle,
                               f"text files found in directory {os.fspath(directory)}. "
                               "Allowed format: .txt")
