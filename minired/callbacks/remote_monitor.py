"""``RemoteMonitor``: POST each epoch's logs to a web server, as JSON."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

import numpy as np

from minired.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """Send the logs of every epoch to a server with an HTTP POST, as Keras'.

    At each epoch's end it posts ``{"epoch": epoch, **logs}`` (NumPy numbers turned into
    Python numbers) to ``root + path``:

    - ``send_as_json=False`` (the default): as a form, ``field=<the JSON text>``
      (content type ``application/x-www-form-urlencoded``);
    - ``send_as_json=True``: the JSON text itself (content type ``application/json``).

    Keras sends it with the ``requests`` package; minired with the standard library's
    ``urllib``, the same request. A server that cannot be reached gives a warning
    (``Could not reach RemoteMonitor root server at ...``) and training goes on; an answer
    with an error status is ignored, as ``requests`` does.

    Args:
        root: the server's root URL.
        path: the path, after ``root``, the events are posted to.
        field: the form field holding the JSON text (only when ``send_as_json=False``).
        headers: optional extra HTTP headers (a dict).
        send_as_json: whether to post the JSON text itself rather than a form.

    Example:
        >>> monitor = RemoteMonitor(root="http://127.0.0.1:9000", send_as_json=True)
        >>> monitor.root + monitor.path
        'http://127.0.0.1:9000/publish/epoch/end/'
    """

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: dict[str, str] | None = None,
                 send_as_json: bool = False) -> None:
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def _request(self, epoch: int, logs: dict | None) -> urllib.request.Request:
        """The POST request for one epoch: its body and content type, as ``requests``."""
        send: dict[str, Any] = {"epoch": epoch}
        for key, value in (logs or {}).items():
            # NumPy numbers are not JSON: their Python value is sent.
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        if self.send_as_json:
            body = json.dumps(send, allow_nan=False).encode("utf-8")
            content_type = "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        headers = {"Content-Type": content_type}
        headers.update(self.headers or {})     # the user's headers win, as in requests
        return urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                      method="POST")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        try:
            # (a malformed URL, or a NaN with send_as_json, is a ValueError: requests warns)
            request = self._request(epoch, logs)
            with urllib.request.urlopen(request) as response:  # noqa: S310 (the user's URL)
                response.read()
        except urllib.error.HTTPError:
            pass                  # the server answered (with an error status): as requests
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)
