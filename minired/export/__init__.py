"""``keras.export``: exporting models for serving (TensorFlow SavedModel), which minired
refuses with a clear error (see :mod:`minired.export.export_archive`)."""

from minired.export.export_archive import ExportArchive

__all__ = ["ExportArchive"]
