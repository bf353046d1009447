"""``TensorBoard``: write what ``fit`` does into event files that TensorBoard draws.

Run ``tensorboard --logdir logs`` and open the address it prints. The files are laid out
as Keras 3 lays them out, so TensorBoard shows a minired run and a Keras run alike::

    logs/                                    # log_dir
      train/events.out.tfevents.<...>.v2     # run "train": training curves, histograms, graph
      validation/events.out.tfevents.<...>.v2  # run "validation": the val_* curves

TensorBoard is a separate program: it only reads these files. Writing them needs the
``tensorboard`` package (``pip install "minired[tensorboard]"``) for its protocol buffer
classes, imported when the callback is created; TensorFlow is never imported.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from typing import Any

import numpy as np

from minired.callbacks.callback import Callback

_INSTALL_HINT = 'pip install "minired[tensorboard]"'

# Numbers the event files of one process, as TensorFlow does, so that two files opened in
# the same second get different names.
_file_numbers = itertools.count()


def require_tensorboard() -> None:
    """Import the ``tensorboard`` package, or raise an ImportError that says how to install it.

    Example:
        >>> require_tensorboard()  # nothing happens when tensorboard is installed
    """
    try:
        import tensorboard  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "Writing TensorBoard logs needs the `tensorboard` package (TensorFlow is not "
            f"needed). Install it with:  {_INSTALL_HINT}") from error


class EventFileWriter:
    """Write TensorBoard events into a new file of ``log_dir``, as ``tf.summary`` does.

    An event file is a sequence of records; each record is one ``Event`` protocol buffer
    (a step, a time, and a ``Summary`` of tagged values). The first event gives the file
    format version. The ``Event``/``Summary`` classes and the record framing (length and
    checksums) come from the ``tensorboard`` package; only opening the file is done here,
    because ``tensorboard``'s own ``EventFileWriter`` opens it through ``tf.io.gfile``,
    which imports TensorFlow whenever TensorFlow is installed.

    Args:
        log_dir: the run's folder, created if needed.

    Example:
        >>> import os, tempfile
        >>> writer = EventFileWriter(tempfile.mkdtemp())
        >>> writer.scalar("epoch_loss", 0.5, step=0)
        >>> writer.histogram("weights/histogram", np.arange(6.0), step=0)
        >>> writer.close()
        >>> os.path.basename(writer.path).startswith("events.out.tfevents.")
        True
    """

    def __init__(self, log_dir: str) -> None:
        require_tensorboard()
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        os.makedirs(log_dir, exist_ok=True)
        # TensorFlow's name: events.out.tfevents.<time>.<host>.<pid>.<number>.v2
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_numbers)}.v2")
        self.path = os.path.join(log_dir, name)
        self._event_class = event_pb2.Event
        self._records = RecordWriter(open(self.path, "wb"))  # noqa: SIM115 (closed in close)
        self._write_event(file_version="brain.Event:2")

    def _write_event(self, **fields: Any) -> None:
        event = self._event_class(wall_time=time.time(), **fields)
        self._records.write(event.SerializeToString())

    def write(self, summary: Any, step: int) -> None:
        """Write a ``Summary`` protocol buffer at ``step``."""
        self._write_event(step=int(step), summary=summary)

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Write ``value`` as ``tf.summary.scalar`` does: a float32 tensor of the scalars plugin."""
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        self.write(scalar_pb(tag, value), step)

    def histogram(self, tag: str, values: np.ndarray, step: int) -> None:
        """Write the histogram of ``values`` as ``tf.summary.histogram`` does.

        That is 30 equal buckets from ``min`` to ``max``, stored as a float64 tensor of
        shape ``[30, 3]``: one ``(left edge, right edge, count)`` row per bucket.
        """
        from tensorboard.plugins.histogram.summary_v2 import histogram_pb

        self.write(histogram_pb(tag, values), step)

    def flush(self) -> None:
        """Push what was written to the disk, so a running TensorBoard sees it."""
        self._records.flush()

    def close(self) -> None:
        """Flush and close the file."""
        if not self._records.closed:
            self._records.close()


class TensorBoard(Callback):
    """Write the losses, metrics, learning rate, weights and gradients of ``fit`` for TensorBoard.

    What is written, with the tags and steps Keras 3 uses:

    - run ``train``, step = epoch (0-based, so ``initial_epoch`` continues a curve):
      ``epoch_loss``, ``epoch_<metric>`` (e.g. ``epoch_accuracy``) and
      ``epoch_learning_rate`` (``model.optimizer.learning_rate`` at the epoch's end);
    - run ``validation``, step = epoch: the ``val_`` logs *without* the prefix
      (``epoch_loss``, ``epoch_accuracy``), so TensorBoard draws training and validation
      on the same chart; and, after each validation, ``evaluation_<name>_vs_iterations``
      at step ``model.optimizer.iterations`` (the number of updates so far);
    - with an integer ``update_freq``, in ``train``: ``batch_loss``, ``batch_<metric>``
      (the epoch's running means) at the batches whose count since the start of this
      ``fit`` (from 1) is a multiple of ``update_freq``;
    - every ``histogram_freq`` epochs (epochs 0, f, 2f...), in ``train``:
      ``<model>/<layer>/<weight>/histogram`` for every weight, as Keras names them
      (``sequential/dense/kernel/histogram``), and (minired's addition) the gradient
      ``<model>/<layer>/<weight>/gradient/histogram`` of every trainable weight. The
      gradient is ``layer.gradients`` as the epoch's last training step left it: the
      ``∂L/∂w`` (with the penalties, before any clipping) that the last update used;
    - with ``write_graph``, in ``train`` at step 0: tag ``keras``, the model as Keras'
      ``to_json`` describes it, which TensorBoard's Graphs tab draws as a chain of layers
      (Keras 3 writes the same; it has no graph of operations to show either);
    - with ``write_steps_per_second``: ``epoch_steps_per_second`` and, with an integer
      ``update_freq``, ``batch_steps_per_second``.

    The files are flushed at each epoch's end and closed at the end of ``fit``; the next
    ``fit`` opens new files in the same runs. As in Keras, the batch count restarts at each
    ``fit`` and the epoch is the one ``fit`` reports: pass ``initial_epoch`` to continue.

    One difference from Keras 3.15: with an integer ``update_freq``, Keras writes the
    epoch summaries (and histograms) only when the number of batches so far is a multiple
    of ``update_freq``, a side effect of its ``tf.summary.record_if``; minired always
    writes them.

    Args:
        log_dir: the folder of the runs ``train`` and ``validation``.
        histogram_freq: write histograms every this many epochs; 0 writes none.
        write_graph: write the model's layers for the Graphs tab (Keras' default: True).
        write_images: Keras draws weights as images; not available in minired
            (ValueError if True): use the histograms.
        write_steps_per_second: also log the training speed, in steps per second.
        update_freq: ``"epoch"`` (write once per epoch), ``"batch"`` (same as 1) or an
            integer ``n``: also write the batch metrics every ``n`` batches.
        profile_batch: Keras' profiler; only 0 (off) is accepted, as for Keras' NumPy
            backend.
        embeddings_freq: Keras' embedding projector; only 0 is accepted (minired has no
            Embedding layer).
        embeddings_metadata: used only with ``embeddings_freq``; kept for Keras' signature.

    Example:
        >>> import os, tempfile
        >>> log_dir = tempfile.mkdtemp()
        >>> tensorboard = mr.callbacks.TensorBoard(log_dir, histogram_freq=1)
        >>> _ = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
        ...               callbacks=[tensorboard])
        >>> sorted(os.listdir(log_dir))  # then: tensorboard --logdir <log_dir>
        ['train', 'validation']
    """

    def __init__(
        self,
        log_dir: str | os.PathLike = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int | tuple[int, int] = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: str | dict | None = None,
    ) -> None:
        super().__init__()
        require_tensorboard()
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not _is_positive_int(update_freq):
            raise ValueError("TensorBoard: `update_freq` must be 'epoch', 'batch' or a positive "
                             f"int (write every n batches), got {update_freq!r}.")
        if not (_is_positive_int(histogram_freq) or histogram_freq == 0):
            raise ValueError("TensorBoard: `histogram_freq` must be a non-negative int (0: no "
                             f"histograms), got {histogram_freq!r}.")
        if write_images:
            raise ValueError("TensorBoard: `write_images=True` (weights drawn as images) is not "
                             "available in minired; use `histogram_freq` to see the weights.")
        if profile_batch:
            raise ValueError("TensorBoard: profiling is not available in minired (nor with "
                             "Keras' NumPy backend). Received: "
                             f"profile_batch={profile_batch} (must be 0).")
        if embeddings_freq:
            raise ValueError("TensorBoard: `embeddings_freq` needs Embedding layers, which "
                             f"minired does not have. Received: embeddings_freq={embeddings_freq}"
                             " (must be 0).")
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers: dict[str, EventFileWriter] = {}  # opened on first use
        self._global_train_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0

    # -- writers: one per run, opened when first needed (no empty files) --------------------

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self._close_writers()  # each fit (or evaluate) writes new files, as in Keras

    @property
    def _train_writer(self) -> EventFileWriter:
        if "train" not in self._writers:
            self._writers["train"] = EventFileWriter(self._train_dir)
        return self._writers["train"]

    @property
    def _val_writer(self) -> EventFileWriter:
        if "val" not in self._writers:
            self._writers["val"] = EventFileWriter(self._val_dir)
        return self._writers["val"]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- hooks --------------------------------------------------------------------------------

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._global_train_batch = 0
        if self.write_graph:
            self._write_model_graph()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._close_writers()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.write_steps_per_second:
            self._epoch_start_iterations = int(self.model.optimizer.iterations)
            self._epoch_start_time = time.perf_counter()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_train_batch += 1  # counts from 1, over the whole fit
        if self.write_steps_per_second:
            self._batch_start_time = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq != 0:
            return
        step = self._global_train_batch
        if self.write_steps_per_second:
            seconds = time.perf_counter() - self._batch_start_time
            self._train_writer.scalar("batch_steps_per_second", 1.0 / seconds, step)
        for name, value in (logs or {}).items():
            self._train_writer.scalar(f"batch_{name}", value, step)

    def on_test_end(self, logs: dict | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        for name, value in logs.items():
            self._val_writer.scalar(f"evaluation_{name}_vs_iterations", value,
                                    step=int(optimizer.iterations))
        self._val_writer.flush()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    # -- what is written ----------------------------------------------------------------------

    def _log_epoch_metrics(self, epoch: int, logs: dict) -> None:
        """``epoch_<name>`` scalars: ``val_<name>`` goes to the validation run as ``<name>``."""
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k.removeprefix("val_"): v for k, v in logs.items() if k.startswith("val_")}
        # The rate of the next update: after the changes of the callbacks that ran before this
        # one (a ReduceLROnPlateau placed after TensorBoard has not reduced it yet).
        train_logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        if self.write_steps_per_second:
            steps = int(self.model.optimizer.iterations) - self._epoch_start_iterations
            train_logs["steps_per_second"] = steps / (time.perf_counter()
                                                      - self._epoch_start_time)
        for name, value in train_logs.items():
            self._train_writer.scalar(f"epoch_{name}", value, step=epoch)
        for name, value in val_logs.items():
            self._val_writer.scalar(f"epoch_{name}", value, step=epoch)

    def _log_weights(self, epoch: int) -> None:
        """A histogram of every weight, and of the gradient of every trainable weight."""
        for layer in self.model.unique_layers:
            names = weight_names(layer)
            for name, weight, gradient in zip(names, layer.weights, layer.gradients, strict=True):
                tag = f"{self.model.name}/{layer.name}/{name}"
                self._train_writer.histogram(f"{tag}/histogram", weight, step=epoch)
                if layer.trainable:
                    self._train_writer.histogram(f"{tag}/gradient/histogram", gradient,
                                                 step=epoch)

    def _write_model_graph(self) -> None:
        """Tag ``keras``: the model's config, which the Graphs tab draws (plugin
        ``graph_keras_model``, as Keras writes it)."""
        config = keras_model_config(self.model)
        if config is None:
            return
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.util import tensor_util

        summary = summary_pb2.Summary()
        value = summary.value.add(tag="keras",
                                  tensor=tensor_util.make_tensor_proto(json.dumps(config)))
        value.metadata.plugin_data.plugin_name = "graph_keras_model"
        value.metadata.plugin_data.content = b"1"  # the plugin's version number
        self._train_writer.write(summary, step=0)


def weight_names(layer: Any) -> list[str]:
    """The names of ``layer.weights``: the attributes that hold them (``"kernel"``, ``"bias"``).

    minired keeps each weight in an attribute named as Keras names the variable; a weight
    found in no attribute is called ``weight_<i>``.

    Example:
        >>> dense = mr.layers.Dense(2)
        >>> dense.build((None, 3))
        >>> weight_names(dense)
        ['kernel', 'bias']
    """
    attribute_of = {id(value): name for name, value in vars(layer).items()}
    return [attribute_of.get(id(weight), f"weight_{i}") for i, weight in enumerate(layer.weights)]


def keras_model_config(model: Any) -> dict | None:
    """The start of Keras' ``model.to_json()``: what TensorBoard's Graphs tab reads.

    The graph plugin reads each layer's class name and name, in order, and for a functional
    model the tensors each layer call reads (``inbound_nodes``, as Keras 3 writes them), so
    that is all this gives. Keras, too, writes this for Sequential and functional models
    only; for other models this returns None.

    Example:
        >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3)], name="sequential")
        >>> config = keras_model_config(model)
        >>> config["class_name"], [layer["config"]["name"] for layer in config["config"]["layers"]]
        ('Sequential', ['input_layer', 'dense'])
    """
    kind = type(model).__name__
    if kind == "Functional":
        return _functional_config(model)
    if kind != "Sequential":
        return None
    layers = [{"class_name": type(layer).__name__, "config": {"name": layer.name}}
              for layer in model.layers]
    if model.input_shape is not None:  # Keras lists the Input first
        layers.insert(0, {"class_name": "InputLayer",
                          "config": {"name": "input_layer",
                                     "batch_shape": list(model.input_shape)}})
    return {"class_name": "Sequential", "config": {"name": model.name, "layers": layers}}


def _functional_config(model: Any) -> dict:
    """A functional model's layers with their ``inbound_nodes``: for each call of the layer
    in this model, the tensors it read as ``keras_history = [layer, node, tensor]``."""
    def history(tensor) -> list:
        layer, node_index, tensor_index = tensor._keras_history
        return [layer.name, node_index, tensor_index]

    def argument(structure):
        if isinstance(structure, list | tuple):
            return [argument(item) for item in structure]
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(structure.shape), "dtype": structure.dtype,
                           "keras_history": history(structure)}}

    own_nodes = set(map(id, model._nodes))
    layers = []
    for layer in model._operations:        # as Keras' to_json: the operations' nodes too
        config = (_functional_config(layer)["config"] if type(layer).__name__ == "Functional"
                  else {"name": layer.name})
        nodes = [{"args": [argument(node.call_inputs)], "kwargs": {}}
                 for node in layer._inbound_nodes if id(node) in own_nodes]
        layers.append({"class_name": type(layer).__name__, "name": layer.name,
                       "config": config, "inbound_nodes": nodes})
    return {"class_name": "Functional",
            "config": {"name": model.name, "layers": layers,
                       "input_layers": [history(t) for t in model.inputs],
                       "output_layers": [history(t) for t in model.outputs]}}


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value > 0
