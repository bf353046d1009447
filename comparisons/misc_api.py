"""Keras' smaller public names beside Keras: ``RemoteMonitor`` and ``KerasFileEditor``.

- ``remote_monitor``: the same model fitted in both libraries, each with a
  ``RemoteMonitor`` posting to a local HTTP server on 127.0.0.1; the numbers each server
  received (epoch, loss, accuracy, val_loss, val_accuracy) compared epoch by epoch.
- ``file_editor``: a minired model saved as ``.keras``, its output layer replaced by a wider
  one with ``mr.saving.KerasFileEditor`` and resaved as ``.weights.h5``; minired and Keras
  load the edited file into the new architecture and predict the same numbers, and Keras'
  own editor reads back the same arrays.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import tempfile
import threading
import urllib.parse
from pathlib import Path

import numpy as np

from comparisons.data import N_FEATURES, blobs
from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case
from comparisons.training import fit_blobs

# -- RemoteMonitor -------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Keeps the JSON of every form POST, by path."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        posted = json.loads(urllib.parse.parse_qs(body)["data"][0])
        self.server.received.setdefault(self.path, []).append(posted)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@case("callbacks", "remote_monitor", kind="training")
def remote_monitor(dtype):
    """RemoteMonitor during fit: the posted epoch, loss, accuracy and val_ numbers."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    server.received = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        def make(module):
            path = "/ours/" if module is mr.callbacks else "/theirs/"
            return [module.RemoteMonitor(root=root, path=path)]

        def after(model, keras_model, ours, theirs):
            mine, keras_posts = server.received["/ours/"], server.received["/theirs/"]
            keys = sorted(keras_posts[0])
            same_keys = [float(sorted(mine[0]) == keys)], [1.0]
            return [(f"posted keys {keys}", *same_keys)] + [
                (f"posted {key}", [post[key] for post in mine],
                 [post[key] for post in keras_posts]) for key in keys]

        return fit_blobs(dtype, lambda: mr.optimizers.Adam(learning_rate=0.01),
                         validation_split=0.25, make_callbacks=make, after=after)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- KerasFileEditor -----------------------------------------------------------------------------


def _flat(tree: dict, path: str = "") -> dict[str, np.ndarray]:
    """``{"layers/dense/0": array, ...}`` of an editor's weights dict."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{path}{key}/"))
        else:
            flat[f"{path}{key}"] = value
    return flat


@case("saving", "file_editor")
def file_editor(dtype):
    """KerasFileEditor swaps the output layer: both libraries load the edit, predict alike."""
    folder = Path(tempfile.mkdtemp())
    # (both editors print the file's name when they open it: kept out of the report)
    with precision(dtype), contextlib.redirect_stdout(io.StringIO()):
        x, _ = blobs(16, dtype)
        mr.utils.set_random_seed(0)
        old = mr.Sequential([mr.Input((N_FEATURES,)), mr.layers.Dense(5, activation="relu"),
                             mr.layers.Dense(3, activation="softmax")])
        old.save(folder / "old.keras")
        rng = np.random.default_rng(1)
        kernel, bias = rng.normal(size=(5, 2)).astype(dtype), rng.normal(size=2).astype(dtype)

        editor = mr.saving.KerasFileEditor(folder / "old.keras")
        editor.delete_object("layers/dense_1")
        editor.add_object("layers/dense_1", {"0": kernel, "1": bias})
        editor.save(folder / "edited.weights.h5")

        new = mr.Sequential([mr.Input((N_FEATURES,)), mr.layers.Dense(5, activation="relu"),
                             mr.layers.Dense(2)])
        new.load_weights(folder / "edited.weights.h5")
        keras_new = keras.Sequential([keras.Input((N_FEATURES,)),
                                      keras.layers.Dense(5, activation="relu"),
                                      keras.layers.Dense(2)])
        keras_new.load_weights(folder / "edited.weights.h5")
        pairs = [("predictions of the edited model", new.predict(x, verbose=0),
                  keras_new.predict(x, verbose=0)),
                 ("old hidden kernel kept", new.get_weights()[0], old.get_weights()[0]),
                 ("new output kernel", keras_new.get_weights()[2], kernel)]
        theirs = _flat(keras.saving.KerasFileEditor(str(folder / "edited.weights.h5"))
                       .weights_dict)
        mine = _flat(mr.saving.KerasFileEditor(folder / "edited.weights.h5").weights_dict)
        pairs.append((f"paths read back {sorted(theirs)}", [float(list(mine) == list(theirs))],
                      [1.0]))
        pairs += [(f"read back {path}", mine[path], theirs[path]) for path in theirs]
    return Outcome(pairs, notes="an edited .weights.h5 file, read by both libraries")
