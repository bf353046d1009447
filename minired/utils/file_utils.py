"""``get_file``: find a file in Keras' download cache, without ever downloading it.

Keras' ``keras.utils.get_file`` downloads ``origin`` into its cache folder the first time
and returns the path of the cached copy afterwards. minired never downloads (nothing is
fetched at run time): its ``get_file`` looks in the same folder, under the same name, checks
the same hash, and returns the same path, so a machine where Keras has run once finds the
file there. When the file is missing, the error says where it was looked for and gives the
command that fetches it by hand.

Keras' cache folder, ``cache_dir/cache_subdir``:

- ``cache_dir``: the argument, else ``$KERAS_HOME`` when that variable is set, else
  ``~/.keras`` (``/tmp/.keras`` when the home folder is not writable);
- ``cache_subdir``: ``"datasets"`` by default; an absolute path replaces the whole folder.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import tarfile
import tempfile
import urllib.parse
import warnings
import zipfile

MINIRED_NEVER_DOWNLOADS = "minired never downloads anything at run time"


def keras_home() -> str:
    """Keras' home folder: ``$KERAS_HOME`` if set, else ``~/.keras``.

    As in Keras (``keras.src.backend.config``), ``/tmp/.keras`` replaces ``~/.keras`` when
    the home folder is not writable. minired reads the variable at each call; Keras reads
    it once, when it is imported.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"KERAS_HOME": "/data/keras"}):
        ...     keras_home()
        '/data/keras'
    """
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def _cache_folder(cache_dir, cache_subdir: str) -> str:
    """The folder Keras saves downloads in: ``cache_dir/cache_subdir``.

    Keras falls back on ``/tmp/.keras`` when ``cache_dir`` is not writable; minired does so
    only when the folder exists and is not writable (a folder that does not exist yet is the
    one Keras creates on import, ``~/.keras``, or one the caller named).
    """
    base = os.path.expanduser(os.fspath(cache_dir if cache_dir is not None else keras_home()))
    if os.path.isdir(base) and not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(),
                            ".keras")
    return os.path.join(base, cache_subdir)


def _hasher(algorithm: str, file_hash: str | None = None):
    """sha256 when asked, or for ``"auto"`` with a 64-digit hash; md5 otherwise (Keras)."""
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None
                                 and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath, algorithm: str = "sha256", chunk_size: int = 65535) -> str:
    """The hex digest of a file: ``"sha256"`` (default) or ``"md5"``, as Keras computes it.

    The same digest as the command-line tools ``sha256sum`` / ``md5sum``.

    Args:
        fpath: path of the file.
        algorithm: ``"sha256"``, ``"md5"`` or ``"auto"`` (sha256).
        chunk_size: bytes read at a time.

    Example:
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "empty.txt")
        ...     open(path, "wb").close()
        ...     hash_file(path)
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    hasher = _hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _fetch_hint(path: str, origin: str, keras_call: str | None) -> str:
    """The command line that puts ``origin`` at ``path`` (and the Keras line that would)."""
    folder = os.path.dirname(path)
    hint = (f"Fetch it by hand with:\n    mkdir -p {shlex.quote(folder)} && "
            f"curl -L -o {shlex.quote(path)} {shlex.quote(origin)}")
    if keras_call:
        hint += f"\nor let Keras download it once:\n    python -c \"import keras; {keras_call}\""
    return hint


def _check_hash(path: str, file_hash: str | None, hash_algorithm: str, origin: str,
                owner: str, keras_call: str | None) -> None:
    """Refuse a cached file whose hash differs from ``file_hash`` (Keras re-downloads it)."""
    if file_hash is None:
        return
    hasher = _hasher(hash_algorithm, file_hash)
    found = hash_file(path, hasher)
    if found != str(file_hash):
        raise ValueError(
            f"{owner}: the file {path} is in Keras' cache, but its {hasher.name} hash is "
            f"{found}, not the expected {file_hash}: it is incomplete, damaged or another "
            f"version. Keras would download it again from {origin}; "
            f"{MINIRED_NEVER_DOWNLOADS}. Delete it and fetch it again. "
            + _fetch_hint(path, origin, keras_call))


def _extract(archive: str, folder: str, archive_format) -> bool:
    """Unpack a tar or zip archive into ``folder``, refusing members that would land outside
    it (tar's ``"data"`` filter; zipfile drops absolute paths and ``..``). False when
    ``archive`` is none of ``archive_format``."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    for kind in [formats] if isinstance(formats, str) else formats:
        if kind == "tar" and tarfile.is_tarfile(archive):
            if not hasattr(tarfile, "data_filter"):
                raise RuntimeError("get_file: extracting a tar archive safely needs "
                                   "Python 3.11.4 or newer (tarfile's 'data' filter).")
            with tarfile.open(archive) as tar:
                tar.extractall(folder, filter="data")
            return True
        if kind == "zip" and zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zip_file:
                zip_file.extractall(folder)
            return True
        if kind not in ("tar", "zip"):
            raise ValueError(f"get_file: `archive_format` must be 'auto', 'tar', 'zip', a list "
                             f"of those or None; got {kind!r}.")
    return False


def cached_file(fname, origin: str, file_hash: str | None = None,
                cache_subdir: str = "datasets", hash_algorithm: str = "auto",
                cache_dir=None, owner: str = "get_file",
                keras_call: str | None = None) -> str:
    """The path of ``fname`` in Keras' cache, its hash checked; the error says how to fetch it.

    What :func:`get_file` does for a single file, with the name of the caller (``owner``)
    and the Keras line that downloads the file (``keras_call``) for the error messages.

    Example:
        >>> cached_file("not-there.npz", "https://example.org/not-there.npz",
        ...             cache_dir="/nonexistent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: get_file: 'not-there.npz' is not in Keras' cache folder ...
    """
    fname = os.fspath(fname)
    if os.sep in fname:
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify "
                         "the file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")
    folder = _cache_folder(cache_dir, cache_subdir)
    path = os.path.join(folder, fname)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{owner}: {fname!r} is not in Keras' cache folder {folder} "
            f"(looked for {path}). Keras would download it from {origin}; "
            f"{MINIRED_NEVER_DOWNLOADS}. " + _fetch_hint(path, origin, keras_call)
            + "\n(Keras' cache folder is $KERAS_HOME/datasets when KERAS_HOME is set, "
            "~/.keras/datasets otherwise.)")
    _check_hash(path, file_hash, hash_algorithm, origin, owner, keras_call)
    return path


def get_file(fname=None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format="auto", cache_dir=None,
             force_download: bool = False) -> str:
    """Return the path of a file in Keras' download cache; never download it.

    The path is ``cache_dir/cache_subdir/fname``, where Keras' ``get_file`` saves the file
    it downloads from ``origin`` (``~/.keras/datasets/fname`` by default, or
    ``$KERAS_HOME/datasets/fname``). With ``file_hash``, the file's sha256 (a 64-digit
    hash) or md5 must equal it, as Keras checks; Keras downloads a file that fails, minired
    raises ``ValueError``. A missing file raises ``FileNotFoundError`` naming the folder, the
    URL and a command that fetches it by hand.

    With ``extract=True`` (or ``untar=True``) the cached archive (``fname_archive``, or
    ``fname`` itself when it has an extension) is unpacked as Keras unpacks it, into
    ``fname`` (or ``<name>_extracted``), and that folder is returned.

    Args:
        fname: the file's name in the cache; ``None`` takes it from the end of ``origin``.
            A path is refused (use ``cache_dir``), as in Keras.
        origin: the URL Keras would download from (named in the error messages).
        untar: Keras' older spelling of ``extract=True`` for tar archives.
        md5_hash: Keras' older spelling of ``file_hash`` with ``hash_algorithm="md5"``.
        file_hash: the expected sha256 or md5 hex digest of the file, or ``None``.
        cache_subdir: the folder inside ``cache_dir``; an absolute path is used as is.
        hash_algorithm: ``"auto"`` (sha256 for a 64-digit hash, md5 otherwise),
            ``"sha256"`` or ``"md5"``.
        extract: unpack the cached archive and return its folder.
        archive_format: ``"auto"`` (tar then zip), ``"tar"``, ``"zip"``, a list, or None.
        cache_dir: Keras' home folder; ``None`` is ``$KERAS_HOME`` or ``~/.keras``.
        force_download: refused: minired never downloads.

    Example:
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as home:    # a Keras cache with one file
        ...     os.makedirs(os.path.join(home, "datasets"))
        ...     with open(os.path.join(home, "datasets", "notes.txt"), "w") as f:
        ...         _ = f.write("hello")
        ...     path = get_file("notes.txt", origin="https://example.org/notes.txt",
        ...                     cache_dir=home, file_hash="5d41402abc4b2a76b9719d911017c592")
        ...     os.path.relpath(path, home), open(path).read()
        ('datasets/notes.txt', 'hello')
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if force_download:
        raise ValueError(f"get_file: force_download=True asks for a download, and "
                         f"{MINIRED_NEVER_DOWNLOADS}. Fetch {origin} by hand into Keras' "
                         "cache folder instead.")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    provided = fname
    fname = os.fspath(fname) if fname is not None else None
    if isinstance(fname, bytes):
        fname = fname.decode()
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: "
                             f"'{origin}'. Please specify the `fname` argument.")
    elif os.sep in fname:
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify "
                         "the file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")

    if not (extract or untar):
        return cached_file(fname, origin, file_hash, cache_subdir, hash_algorithm, cache_dir)

    folder = _cache_folder(cache_dir, cache_subdir)
    if provided and "." in fname:
        archive_name = fname
        extraction_dir = os.path.join(folder, f"{fname[:fname.find('.')]}_extracted")
    else:
        archive_name = f"{fname}_archive"
        extraction_dir = os.path.join(folder, fname)
    if not os.path.isfile(os.path.join(folder, archive_name)) and os.path.isdir(extraction_dir):
        return extraction_dir           # what Keras would unpack there again after downloading
    archive = cached_file(archive_name, origin, file_hash, cache_subdir, hash_algorithm,
                          cache_dir)
    if not _extract(archive, extraction_dir, "tar" if untar else archive_format):
        warnings.warn("Could not extract archive.", stacklevel=2)
    return extraction_dir
