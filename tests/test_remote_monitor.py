"""``RemoteMonitor`` posts what Keras' posts: a local HTTP server on 127.0.0.1 records the
requests of both (path, content type, body), during ``fit`` too; an unreachable server gives
Keras' warning, an error status is ignored.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import urllib.parse
import warnings
from collections.abc import Iterator

import numpy as np
import pytest

import minired as mr
from minired.callbacks import RemoteMonitor


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append({"path": self.path, "body": body,
                                     "content_type": self.headers["Content-Type"],
                                     "token": self.headers.get("X-Token")})
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):   # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


@pytest.fixture
def server() -> Iterator[http.server.HTTPServer]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.received, httpd.status = [], 200
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.root = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


LOGS = {"loss": np.float32(0.25), "accuracy": np.float64(0.5), "lr": 0.001,
        "count": np.array(3)}


def decoded(request: dict, field: str = "data") -> dict:
    if request["content_type"] == "application/json":
        return json.loads(request["body"])
    return json.loads(urllib.parse.parse_qs(request["body"].decode())[field][0])


@pytest.mark.parametrize("send_as_json", [False, True])
def test_posts_the_same_request_as_keras(keras, server, send_as_json):
    pytest.importorskip("requests")
    kwargs = dict(root=server.root, path="/events/", field="payload",
                  headers={"X-Token": "abc"}, send_as_json=send_as_json)
    RemoteMonitor(**kwargs).on_epoch_end(3, dict(LOGS))
    keras.callbacks.RemoteMonitor(**kwargs).on_epoch_end(3, dict(LOGS))
    mine, theirs = server.received
    assert mine == theirs
    assert mine["path"] == "/events/" and mine["token"] == "abc"
    expected_type = ("application/json" if send_as_json
                     else "application/x-www-form-urlencoded")
    assert mine["content_type"] == expected_type
    assert decoded(mine, "payload") == {"epoch": 3, "loss": 0.25, "accuracy": 0.5,
                                        "lr": 0.001, "count": 3}


def test_fit_posts_every_epoch(server):
    model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                        callbacks=[RemoteMonitor(root=server.root)])
    posted = [decoded(request) for request in server.received]
    assert [p["epoch"] for p in posted] == [0, 1]
    assert [request["path"] for request in server.received] == ["/publish/epoch/end/"] * 2
    for epoch, post in enumerate(posted):
        assert post["loss"] == pytest.approx(history.history["loss"][epoch], rel=1e-6)
        assert post["val_loss"] == pytest.approx(history.history["val_loss"][epoch], rel=1e-6)


def test_unreachable_server_warns_and_training_goes_on():
    with socket.socket() as s:              # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monitor = RemoteMonitor(root=f"http://127.0.0.1:{port}")
    with pytest.warns(UserWarning, match=f"Could not reach RemoteMonitor root server at "
                                         f"http://127.0.0.1:{port}"):
        monitor.on_epoch_end(0, {"loss": 1.0})
    with pytest.warns(UserWarning, match="Could not reach"):      # NaN is not JSON
        RemoteMonitor(root=f"http://127.0.0.1:{port}", send_as_json=True).on_epoch_end(
            0, {"loss": float("nan")})


def test_an_error_status_is_ignored_as_requests_does(server):
    server.status = 500
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RemoteMonitor(root=server.root).on_epoch_end(0, {"loss": 1.0})
    assert len(server.received) == 1


def test_defaults_are_keras(keras):
    mine, theirs = RemoteMonitor(), keras.callbacks.RemoteMonitor()
    for name in ("root", "path", "field", "headers", "send_as_json"):
        assert getattr(mine, name) == getattr(theirs, name), name
