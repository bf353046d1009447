"""Tests for mr.callbacks.TensorBoard and mr.callbacks.hparams.

The event files are read back with TensorBoard's own reader (``EventAccumulator``), and
once through a real ``tensorboard`` server and its HTTP API, and compared with what ``fit``
returned (``History``). TensorBoard's reader imports TensorFlow; minired's writer must not,
which a subprocess checks.
"""

from __future__ import annotations

import glob
import inspect
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import numpy as np
import pytest

import minired as mr
from minired.callbacks import TensorBoard, hparams

pytest.importorskip("tensorboard", reason='needs the tensorboard package: '
                                          'pip install "minired[tensorboard]"')
from tensorboard.backend.event_processing import event_accumulator  # noqa: E402
from tensorboard.plugins.graph import keras_util  # noqa: E402
from tensorboard.plugins.hparams import metadata as hparams_metadata  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

# ---------------------------------------------------------------------------------------
# Helpers: a small classifier, and reading the event files back
# ---------------------------------------------------------------------------------------


def classifier(optimizer=None, dropout: bool = False
               ) -> tuple[mr.Sequential, np.ndarray, np.ndarray]:
    """A compiled 4-5-3 softmax classifier, and 40 samples for it.

    The names are those Keras gives the first model and layers of a session.
    """
    mr.utils.set_random_seed(0)
    layers = [mr.Input((4,)), mr.layers.Dense(5, activation="relu", name="dense")]
    if dropout:
        layers.append(mr.layers.Dropout(0.5, name="dropout"))
    layers.append(mr.layers.Dense(3, activation="softmax", name="dense_1"))
    model = mr.Sequential(layers, name="sequential")
    model.compile(optimizer=optimizer or mr.optimizers.Adam(learning_rate=0.01),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=40)]
    return model, x, y


def read(path) -> event_accumulator.EventAccumulator:
    """Load every event of a run folder (or of one event file), nothing sampled away."""
    accumulator = event_accumulator.EventAccumulator(
        str(path), size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return accumulator


def scalars(accumulator, tag: str) -> dict[int, float]:
    """``{step: value}`` of a scalar tag, checking it is written as ``tf.summary.scalar``."""
    assert accumulator.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"
    values = {}
    for event in accumulator.Tensors(tag):
        array = tensor_util.make_ndarray(event.tensor_proto)
        assert array.shape == () and array.dtype == np.float32
        values[event.step] = float(array)
    return values


def histograms(accumulator, tag: str) -> dict[int, np.ndarray]:
    """``{step: [k, 3] array of (left, right, count)}``, as ``tf.summary.histogram`` writes."""
    assert accumulator.SummaryMetadata(tag).plugin_data.plugin_name == "histograms"
    return {event.step: tensor_util.make_ndarray(event.tensor_proto)
            for event in accumulator.Tensors(tag)}


def tags(accumulator) -> set[str]:
    return set(accumulator.Tags()["tensors"])


def as_float32(values) -> list[float]:
    """History's values as a TensorBoard scalar holds them (float32)."""
    return [float(np.float32(v)) for v in values]


class BatchLogs(mr.callbacks.Callback):
    """Record the logs of every training batch."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: list[dict] = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


# ---------------------------------------------------------------------------------------
# Layout and epoch scalars
# ---------------------------------------------------------------------------------------


def test_epoch_scalars_equal_history_in_train_and_validation_runs(tmp_path):
    model, x, y = classifier()
    tensorboard = TensorBoard(tmp_path)
    # After TensorBoard: it reduces the rate at every epoch end, once TensorBoard has
    # written the rate the epoch was trained with (what History records).
    reduce_lr = mr.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0,
                                               min_delta=10.0)
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[tensorboard, reduce_lr]).history

    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    for run in ("train", "validation"):
        (name,) = os.listdir(tmp_path / run)
        assert name.startswith("events.out.tfevents.") and name.endswith(".v2")

    train, validation = read(tmp_path / "train"), read(tmp_path / "validation")
    assert tags(train) == {"keras", "epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert tags(validation) == {"epoch_loss", "epoch_accuracy",
                                "evaluation_loss_vs_iterations",
                                "evaluation_accuracy_vs_iterations"}
    epochs = [0, 1, 2]
    for name in ("loss", "accuracy"):
        assert scalars(train, f"epoch_{name}") == dict(
            zip(epochs, as_float32(history[name]), strict=True))
        assert scalars(validation, f"epoch_{name}") == dict(
            zip(epochs, as_float32(history[f"val_{name}"]), strict=True))
    # The learning rate really changed, and each epoch shows the rate it trained with.
    assert history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005])
    assert scalars(train, "epoch_learning_rate") == dict(
        zip(epochs, as_float32(history["learning_rate"]), strict=True))
    # After each validation: its results against the number of updates so far (4 per epoch).
    assert scalars(validation, "evaluation_loss_vs_iterations") == dict(
        zip([4, 8, 12], as_float32(history["val_loss"]), strict=True))


def test_learning_rate_of_a_schedule_is_the_next_updates_rate(tmp_path):
    schedule = mr.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    model, x, y = classifier(optimizer=mr.optimizers.SGD(learning_rate=schedule))
    model.fit(x, y, epochs=3, batch_size=10, verbose=0, callbacks=[TensorBoard(tmp_path)])
    # Keras logs optimizer.learning_rate at the epoch's end: schedule(updates so far).
    expected = {epoch: float(np.float32(schedule(4 * (epoch + 1)))) for epoch in range(3)}
    assert scalars(read(tmp_path / "train"), "epoch_learning_rate") == expected
    assert len(set(expected.values())) == 3


def test_evaluate_with_the_callback_writes_evaluation_scalars(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0, callbacks=[TensorBoard(tmp_path)])
    validation = read(tmp_path / "validation")
    step = int(model.optimizer.iterations)
    assert scalars(validation, "evaluation_loss_vs_iterations") == {step: as_float32([loss])[0]}
    assert scalars(validation, "evaluation_accuracy_vs_iterations") == {
        step: as_float32([accuracy])[0]}
    assert not os.path.exists(tmp_path / "train")  # nothing trained, no train run


# ---------------------------------------------------------------------------------------
# Batch-level scalars, and a second fit
# ---------------------------------------------------------------------------------------


def test_batch_scalars_every_update_freq_batches_and_a_second_fit(tmp_path):
    model, x, y = classifier()
    batch_logs = BatchLogs()
    tensorboard = TensorBoard(tmp_path, update_freq=3)
    first = model.fit(x, y, epochs=2, batch_size=8, verbose=0,
                      callbacks=[tensorboard, batch_logs]).history
    (first_file,) = glob.glob(str(tmp_path / "train" / "events*"))
    train = read(first_file)
    # 5 batches per epoch; the global batch count runs 1..10 over the fit.
    for name in ("loss", "accuracy"):
        assert scalars(train, f"batch_{name}") == {
            step: as_float32([batch_logs.logs[step - 1][name]])[0] for step in (3, 6, 9)}
    # Every epoch is written, though 5 and 10 are not multiples of 3 (Keras 3.15 skips them).
    assert scalars(train, "epoch_loss") == dict(zip([0, 1], as_float32(first["loss"]),
                                                          strict=True))

    # A second fit continuing at epoch 2: new files in the same runs; as in Keras, the
    # epoch continues and the batch count starts again.
    batch_logs.logs.clear()
    second = model.fit(x, y, epochs=3, initial_epoch=2, batch_size=8, verbose=0,
                       callbacks=[tensorboard, batch_logs]).history
    (second_file,) = set(glob.glob(str(tmp_path / "train" / "events*"))) - {first_file}
    train_again = read(second_file)
    assert scalars(train_again, "batch_loss") == {3: as_float32([batch_logs.logs[2]["loss"]])[0]}
    assert scalars(train_again, "epoch_loss") == {2: as_float32(second["loss"])[0]}
    # The whole run, as TensorBoard shows it: the three epochs in order.
    assert scalars(read(tmp_path / "train"), "epoch_loss") == dict(
        zip([0, 1, 2], as_float32(first["loss"] + second["loss"]), strict=True))


def test_update_freq_batch_writes_every_batch(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[TensorBoard(tmp_path, update_freq="batch")])
    assert sorted(scalars(read(tmp_path / "train"), "batch_loss")) == [1, 2, 3, 4, 5, 6]


def test_update_freq_epoch_writes_no_batch_scalars(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[TensorBoard(tmp_path)])
    assert not {tag for tag in tags(read(tmp_path / "train")) if tag.startswith("batch_")}


def test_steps_per_second(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[TensorBoard(tmp_path, update_freq=2, write_steps_per_second=True)])
    train = read(tmp_path / "train")
    assert sorted(scalars(train, "epoch_steps_per_second")) == [0, 1]
    assert sorted(scalars(train, "batch_steps_per_second")) == [2, 4, 6, 8, 10]
    values = [*scalars(train, "epoch_steps_per_second").values(),
              *scalars(train, "batch_steps_per_second").values()]
    assert all(np.isfinite(v) and v > 0 for v in values)


# ---------------------------------------------------------------------------------------
# Histograms of weights and gradients
# ---------------------------------------------------------------------------------------


def check_histogram(buckets: np.ndarray, values: np.ndarray) -> None:
    """30 buckets from min to max whose counts are those of ``values``."""
    values = np.asarray(values, dtype=np.float64).ravel()
    assert buckets.shape == (30, 3) and buckets.dtype == np.float64
    left, right, counts = buckets.T
    assert counts.sum() == values.size
    assert left[0] == values.min() and right[-1] == values.max()
    np.testing.assert_array_equal(left[1:], right[:-1])  # contiguous buckets
    expected, _ = np.histogram(values, bins=30, range=(values.min(), values.max()))
    np.testing.assert_array_equal(counts, expected)


def test_histograms_of_weights_and_gradients_every_histogram_freq_epochs(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=5, batch_size=8, verbose=0,
              callbacks=[TensorBoard(tmp_path, histogram_freq=2)])
    train = read(tmp_path / "train")
    weight_tags = [f"sequential/{layer}/{weight}"
                   for layer in ("dense", "dense_1") for weight in ("kernel", "bias")]
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    histogram_tags = {tag for tag in tags(train) if tag.endswith("histogram")}
    assert histogram_tags == ({f"{tag}/histogram" for tag in weight_tags}
                              | {f"{tag}/gradient/histogram" for tag in weight_tags})
    for tag in histogram_tags:
        assert sorted(histograms(train, tag)) == [0, 2, 4]  # epochs 0, 2, 4 (as Keras)

    # The last histograms (epoch 4, the last one) are those of the final weights, and of the
    # gradients the last training step left in the layers.
    for layer in model.layers:
        for name, weight, gradient in zip(("kernel", "bias"), layer.weights, layer.gradients,
                                          strict=True):
            assert np.any(gradient != 0)
            check_histogram(histograms(train, f"sequential/{layer.name}/{name}/histogram")[4],
                            weight)
            check_histogram(
                histograms(train, f"sequential/{layer.name}/{name}/gradient/histogram")[4],
                gradient)


def test_no_gradient_histograms_for_a_frozen_layer(tmp_path):
    model, x, y = classifier()
    model.layers[0].trainable = False
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path, histogram_freq=1)])
    gradient_tags = {tag for tag in tags(read(tmp_path / "train")) if "/gradient/" in tag}
    assert gradient_tags == {"sequential/dense_1/kernel/gradient/histogram",
                             "sequential/dense_1/bias/gradient/histogram"}


def test_histogram_of_a_constant_weight(tmp_path):
    model, x, y = classifier()
    model.layers[0].trainable = False  # its bias stays all zeros
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path, histogram_freq=1)])
    buckets = histograms(read(tmp_path / "train"), "sequential/dense/bias/histogram")[0]
    np.testing.assert_array_equal(buckets[:, :2], 0.0)     # every edge at the single value
    assert buckets[:, 2].tolist() == [0.0] * 29 + [5.0]    # all 5 values in the last bucket


# ---------------------------------------------------------------------------------------
# The graph, the arguments
# ---------------------------------------------------------------------------------------


def test_write_graph_writes_the_keras_model_config_for_the_graphs_tab(tmp_path):
    model, x, y = classifier(dropout=True)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path / "a")])
    train = read(tmp_path / "a" / "train")
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"
    (event,) = train.Tensors("keras")
    assert event.step == 0
    config = json.loads(tensor_util.make_ndarray(event.tensor_proto).item())
    graph = keras_util.keras_model_to_graph_def(config)
    assert [(node.name, node.attr["keras_class"].s, list(node.input)) for node in graph.node] == [
        ("sequential/input_layer", b"InputLayer", []),
        ("sequential/dense", b"Dense", ["sequential/input_layer"]),
        ("sequential/dropout", b"Dropout", ["sequential/dense"]),
        ("sequential/dense_1", b"Dense", ["sequential/dropout"]),
    ]
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[TensorBoard(tmp_path / "b", write_graph=False)])
    assert "keras" not in tags(read(tmp_path / "b" / "train"))


def test_write_graph_of_a_functional_model_shows_its_edges(tmp_path):
    """A graph with two inputs and a merge: TensorBoard's own parser finds every edge."""
    a, b = mr.Input((3,), name="a"), mr.Input((2,), name="b")
    joined = mr.layers.concatenate([a, mr.layers.Dense(4, name="dense_b")(b)], name="joined")
    model = mr.Model([a, b], mr.layers.Dense(1, name="out")(joined), name="two_inputs")
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    model.fit([rng.normal(size=(8, 3)), rng.normal(size=(8, 2))], rng.normal(size=(8, 1)),
              epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    (event,) = read(tmp_path / "train").Tensors("keras")
    config = json.loads(tensor_util.make_ndarray(event.tensor_proto).item())
    graph = keras_util.keras_model_to_graph_def(config)
    assert {node.name: list(node.input) for node in graph.node} == {
        "two_inputs/b": [], "two_inputs/a": [],
        "two_inputs/dense_b": ["two_inputs/b"],
        "two_inputs/joined": ["two_inputs/a", "two_inputs/dense_b"],
        "two_inputs/out": ["two_inputs/joined"],
    }


def test_arguments_and_defaults_are_keras():
    keras = pytest.importorskip("keras")
    ours = inspect.signature(TensorBoard).parameters
    theirs = inspect.signature(keras.callbacks.TensorBoard).parameters
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()]


@pytest.mark.parametrize("kwargs, message", [
    ({"update_freq": "step"}, "update_freq"),
    ({"update_freq": 0}, "update_freq"),
    ({"histogram_freq": -1}, "histogram_freq"),
    ({"write_images": True}, "write_images"),
    ({"profile_batch": 2}, "profile_batch"),
    ({"profile_batch": (2, 4)}, "profile_batch"),
    ({"embeddings_freq": 1}, "embeddings_freq"),
])
def test_what_minired_cannot_do_is_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TensorBoard(tmp_path, **kwargs)


def test_missing_tensorboard_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # makes `import tensorboard` fail
    hint = 'pip install "minired\\[tensorboard\\]"'
    with pytest.raises(ImportError, match=hint):
        TensorBoard(tmp_path)
    with pytest.raises(ImportError, match=hint):
        hparams.log_run(tmp_path, {"units": 8}, {"val_accuracy": 0.5})


def test_fit_with_tensorboard_never_imports_tensorflow(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import minired as mr
        from minired.callbacks import hparams
        assert "tensorboard" not in sys.modules, "imported by `import minired`"
        model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        x, y = np.ones((8, 4), "float32"), np.eye(3, dtype="float32")[[0, 1, 2, 0, 1, 2, 0, 1]]
        callback = mr.callbacks.TensorBoard({str(tmp_path)!r}, histogram_freq=1, update_freq=1,
                                            write_steps_per_second=True)
        model.fit(x, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[callback])
        model.evaluate(x, y, verbose=0, callbacks=[callback])
        hparams.log_config({str(tmp_path)!r}, {{"units": [3]}}, metrics=["val_accuracy"])
        hparams.log_run({str(tmp_path / "run")!r}, {{"units": 3}}, {{"val_accuracy": 0.5}})
        assert "tensorboard" in sys.modules
        print(sorted(name for name in sys.modules if name.split(".")[0] == "tensorflow"))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert len(glob.glob(str(tmp_path / "train" / "events*"))) == 1


# ---------------------------------------------------------------------------------------
# HParams
# ---------------------------------------------------------------------------------------


def python_value(value) -> float | str | bool:
    """The Python value in a protobuf ``Value`` (how the hparams plugin stores values)."""
    return getattr(value, value.WhichOneof("kind"))


def test_hparams_config_and_runs_read_back(tmp_path):
    grid = {"learning_rate": [0.001, 0.01], "units": [8, 32], "dropout": [0, 0.5],
            "optimizer": ["adam", "sgd"]}
    hparams.log_config(tmp_path, grid, metrics=["val_accuracy", "val_loss"])
    runs = {"run-0": {"learning_rate": 0.001, "units": np.int64(8), "dropout": 0.0,
                      "optimizer": "adam"},
            "run-1": {"learning_rate": 0.01, "units": 32, "dropout": 0.5, "optimizer": "sgd"}}
    results = {"run-0": {"val_accuracy": 0.75, "val_loss": 0.5},
               "run-1": {"val_accuracy": 0.875, "val_loss": 0.25}}
    for run, values in runs.items():
        hparams.log_run(tmp_path / run, values, results[run])

    root = read(tmp_path)
    assert [event.step for event in root.Tensors(hparams_metadata.EXPERIMENT_TAG)] == [0]
    experiment = hparams_metadata.parse_experiment_plugin_data(
        root.SummaryMetadata(hparams_metadata.EXPERIMENT_TAG).plugin_data.content)
    domains = {info.name: [python_value(v) for v in info.domain_discrete.values]
               for info in experiment.hparam_infos}
    assert domains == {"learning_rate": [0.001, 0.01], "units": [8.0, 32.0],
                       "dropout": [0.0, 0.5], "optimizer": ["adam", "sgd"]}
    assert [(m.name.group, m.name.tag) for m in experiment.metric_infos] == [
        ("", "val_accuracy"), ("", "val_loss")]

    for run, values in runs.items():
        session = read(tmp_path / run)
        start = hparams_metadata.parse_session_start_info_plugin_data(
            session.SummaryMetadata(hparams_metadata.SESSION_START_INFO_TAG).plugin_data.content)
        assert {name: python_value(value) for name, value in start.hparams.items()} == {
            name: (value if isinstance(value, str) else float(value))
            for name, value in values.items()}
        for name, value in results[run].items():
            assert scalars(session, name) == {0: value}


def test_log_config_wants_lists_of_values(tmp_path):
    with pytest.raises(TypeError, match="list of values"):
        hparams.log_config(tmp_path, {"optimizer": "adam"}, metrics=["val_accuracy"])
    with pytest.raises(TypeError, match="metrics"):
        hparams.log_config(tmp_path, {"units": [8]}, metrics="val_accuracy")


# ---------------------------------------------------------------------------------------
# End to end: a real TensorBoard server reads what minired wrote
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_for(read_value, ready, seconds: float = 180.0):
    """Call ``read_value()`` until ``ready(value)``; fail after ``seconds``.

    The server imports TensorFlow when it is installed, and a machine busy with the rest of
    the suite may take a while: the bound is generous, the test returns as soon as it can.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = read_value()
            if ready(value):
                return value
        except OSError:  # not listening yet, or not loaded yet
            value = None
        if time.monotonic() > deadline:
            raise AssertionError(f"TensorBoard did not serve the data in {seconds} s: {value}")
        time.sleep(0.25)


def test_tensorboard_server_shows_the_scalars_histograms_and_hparams(tmp_path):
    logs = tmp_path / "logs"
    model, x, y = classifier()
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[TensorBoard(logs / "run-0", histogram_freq=1)]).history
    hparams.log_config(logs, {"units": [5, 8]}, metrics=["val_accuracy"])
    hparams.log_run(logs / "run-0", {"units": 5}, {"val_accuracy": history["val_accuracy"][-1]})

    port = free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed in finally)
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logs),
         "--host", "127.0.0.1", "--port", str(port), "--reload_interval", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/data"
    try:
        runs = wait_for(lambda: get_json(f"{url}/runs"),
                        lambda runs: {"run-0/train", "run-0/validation", "run-0"} <= set(runs))
        assert "." in runs  # the search's description, in the root folder

        def scalar_values(run: str, tag: str) -> list[float]:
            points = get_json(f"{url}/plugin/scalars/scalars?run={run}&tag={tag}")
            return [value for _, _, value in points]

        for run, prefix in (("train", ""), ("validation", "val_")):
            for name in ("loss", "accuracy"):
                values = wait_for(lambda run=run, name=name: scalar_values(f"run-0/{run}",
                                                                           f"epoch_{name}"),
                                  lambda values: len(values) == 3)
                assert values == as_float32(history[f"{prefix}{name}"])

        points = get_json(f"{url}/plugin/histograms/histograms?run=run-0/train"
                          "&tag=sequential/dense/kernel/histogram")
        assert [step for _, step, _ in points] == [0, 1, 2]
        buckets = np.array(points[-1][2])
        check_histogram(buckets, model.layers[0].kernel)
        points = get_json(f"{url}/plugin/histograms/histograms?run=run-0/train"
                          "&tag=sequential/dense/kernel/gradient/histogram")
        check_histogram(np.array(points[-1][2]), model.layers[0].kernel_gradient)

        experiment = get_json(f"{url}/plugin/hparams/experiment", {"experimentName": ""})
        assert [(h["name"], h["domainDiscrete"]) for h in experiment["hparamInfos"]] == [
            ("units", [5.0, 8.0])]
        assert [m["name"]["tag"] for m in experiment["metricInfos"]] == ["val_accuracy"]
        groups = get_json(f"{url}/plugin/hparams/session_groups", {
            "experimentName": "", "startIndex": 0, "sliceSize": 10,
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS"],
            "colParams": [{"hparam": "units"}, {"metric": {"tag": "val_accuracy"}}]})
        (group,) = groups["sessionGroups"]
        assert group["hparams"] == {"units": 5.0}
        assert [s["name"] for s in group["sessions"]] == ["run-0"]
        assert [m["value"] for m in group["metricValues"]] == as_float32(
            history["val_accuracy"][-1:])
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
