"""``keras.export.ExportArchive``: write a model as a TensorFlow SavedModel for serving;
refused in minired.

A SavedModel is a TensorFlow graph (``saved_model.pb``) plus TensorFlow variables, which
only TensorFlow can write. minired never imports TensorFlow, so creating an archive raises
``NotImplementedError`` (the error Keras itself raises on its NumPy backend, there from
``track``/``add_endpoint``), after checking ``format`` as Keras does. To serve a minired
model: ``model.save("model.keras")``, then in Keras
``keras.saving.load_model("model.keras").export("path")``.
"""

from __future__ import annotations


class ExportArchive:
    """Keras' SavedModel writer; creating one raises NotImplementedError (see the module).

    Args:
        format: ``"saved_model"`` or ``"neptune_model"`` (anything else: ValueError, as
            Keras).

    Example:
        >>> ExportArchive()
        Traceback (most recent call last):
        ...
        NotImplementedError: ExportArchive writes a TensorFlow SavedModel, ...
    """

    def __new__(cls, format: str = "saved_model", **kwargs):
        if format not in ("saved_model", "neptune_model"):
            raise ValueError(f"Unsupported format: {format}")
        raise NotImplementedError(
            "ExportArchive writes a TensorFlow SavedModel, which needs TensorFlow; minired "
            "computes with NumPy only. Save the model with model.save('model.keras') and "
            "export it from Keras: keras.saving.load_model('model.keras').export(path).")
