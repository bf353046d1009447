"""The files of a directory and their labels, as Keras' ``dataset_utils`` lists them for
``image_dataset_from_directory`` and ``text_dataset_from_directory``.

- :func:`index_directory`: the files (by extension), their labels (from the sub-directory
  names, or given), the class names; shuffled with NumPy's ``RandomState(seed)`` as Keras.
- :func:`training_or_validation_split`: Keras' cut of that (shuffled) list, the last
  ``int(validation_split · N)`` files for validation.
- :func:`check_validation_split_arg` and :func:`check_labels_args`: Keras' argument checks.
"""

from __future__ import annotations

import os

import numpy as np

from minired.utils.progbar import print_msg


def check_labels_args(labels, label_mode, class_names, what: str) -> None:
    """Keras' checks of ``labels``, ``label_mode`` and ``class_names`` (``what``: "image"
    or "text", for the messages)."""
    if labels not in ("inferred", None):
        if not isinstance(labels, list | tuple):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same "
                f"size as the number of {what} files in the target directory. If you wish "
                "to infer the labels from the subdirectory names in the target directory, "
                'pass `labels="inferred"`. If you wish to get a dataset that only contains '
                f"{what} samples (no labels), pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')


def check_format(format) -> None:
    """Keras' ``format`` is ``"tf"`` or ``"grain"``; minired accepts both and returns its
    own dataset either way."""
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


def check_validation_split_arg(validation_split, subset, shuffle, seed) -> None:
    """Keras' checks: ``validation_split`` in (0, 1), given with ``subset`` (and inversely),
    ``subset`` one of "training", "validation", "both", and a ``seed`` when shuffling a split
    (so that the two subsets, made by two calls, do not overlap).

    Example:
        >>> check_validation_split_arg(0.2, None, False, None)
        Traceback (most recent call last):
        ...
        ValueError: If `subset` is set, `validation_split` must be set, and inversely.
    """
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def _valid_files(directory: str, follow_links: bool, formats: tuple[str, ...]):
    """``(root, file name)`` of the files ending in ``formats``, walking ``directory`` and
    its sub-directories, each sorted (Keras' ``iter_valid_files``)."""
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(directory, labels, formats: tuple[str, ...], class_names=None,
                    shuffle: bool = True, seed: int | None = None, follow_links: bool = False,
                    verbose: bool = True) -> tuple[list[str], np.ndarray | list | None,
                                                   list[str] | None]:
    """List the files of ``directory`` ending in ``formats``: ``(file_paths, labels,
    class_names)``, as Keras' ``dataset_utils.index_directory``.

    With ``labels="inferred"`` each sub-directory (alphanumeric order, or the order of
    ``class_names``) is a class: its files, found recursively, get its index. Otherwise the
    whole tree is listed, and ``labels`` (a list, one per file in that order) or ``None``
    come along. With ``shuffle`` the files (and labels) are permuted by NumPy's
    ``RandomState(seed).shuffle``, as in Keras; otherwise they stay sorted.

    Args:
        directory: the folder to list.
        labels: ``"inferred"``, ``None`` or a list of integer labels.
        formats: the accepted extensions, e.g. ``(".txt",)`` (any case).
        class_names: the sub-directories to use, in this order (``"inferred"`` only).
        shuffle: shuffle the list.
        seed: the shuffle's seed (``None``: one drawn from ``np.random``).
        follow_links: walk into sub-directories that are symbolic links.
        verbose: print how many files and classes were found.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"`directory` must be an existing directory. Received: "
                                f"directory={directory!r}")
    if labels == "inferred":
        subdirs = [name for name in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError("The `class_names` passed did not match the names of the "
                                 "subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)                           # keep the given order
    else:
        subdirs = [""]                  # no classes: list the whole tree from the top
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` "
                                 "cannot be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` "
                             "cannot be specified (the `class_names` will be the sorted list "
                             "of labels).")
    class_names = subdirs

    filenames: list[str] = []
    found_labels: list[int] = []
    for index, subdir in enumerate(subdirs):
        folder = os.path.join(directory, subdir)
        for root, name in _valid_files(folder, follow_links, formats):
            filenames.append(os.path.join(subdir, os.path.relpath(os.path.join(root, name),
                                                                  folder)))
            found_labels.append(index)

    if labels == "inferred":
        labels = np.asarray(found_labels, dtype=np.int32)
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files "
                             f"in the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = list(labels)                           # a copy: the caller's is not shuffled
    if verbose:
        if labels is None:
            print_msg(f"Found {len(filenames)} files.")
        else:
            print_msg(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, name) for name in filenames]

    if shuffle:                          # shuffle globally to erase the folders' order
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)  # the same permutation
    return file_paths, labels, class_names


def training_or_validation_split(samples: list, labels, validation_split: float | None,
                                 subset: str | None) -> tuple[list, object]:
    """The part of ``samples`` (and ``labels``) that ``subset`` asks for, as Keras cuts it:
    the last ``n = int(validation_split · N)`` for ``"validation"``, the first ``N − n`` for
    ``"training"`` (Keras' ``samples[:-n]``, so ``n = 0`` leaves no training samples).

    Example:
        >>> training_or_validation_split(list("abcde"), None, 0.4, "validation")
        Using 2 files for validation.
        (['d', 'e'], None)
    """
    if not validation_split:
        return samples, labels
    num_val_samples = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - num_val_samples} files for training.")
        samples = samples[:-num_val_samples]
        if labels is not None:
            labels = labels[:-num_val_samples]
    elif subset == "validation":
        print_msg(f"Using {num_val_samples} files for validation.")
        samples = samples[-num_val_samples:]
        if labels is not None:
            labels = labels[-num_val_samples:]
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", received: '
                         f"{subset}")
    return samples, labels


def datasets_for_subset(make, paths: list, labels, validation_split: float | None, subset,
                        shuffle: bool, missing: str):
    """The dataset ``make(paths, labels, shuffle)`` of ``subset``, or for ``subset="both"``
    the list ``[training, validation]`` (the validation part unshuffled), as Keras returns
    them; a ValueError when a part has no files. ``missing`` completes the message, as
    ``"{kind }images found in directory d. Allowed formats: ..."``."""
    if subset == "both":
        parts = [training_or_validation_split(paths, labels, validation_split, kind)
                 for kind in ("training", "validation")]
        for kind, (part_paths, _) in zip(("training", "validation"), parts, strict=True):
            if not part_paths:
                raise ValueError(f"No {kind} {missing}")
        return [make(*parts[0], shuffle), make(*parts[1], False)]     # a list, as Keras
    paths, labels = training_or_validation_split(paths, labels, validation_split, subset)
    if not paths:
        raise ValueError(f"No {missing}")
    return make(paths, labels, shuffle)
