"""The Lambda Runtime API on a loopback port, as the runtime client (`awslambdaric`) expects it.

Runs in the parent's process (`runner.py`), stdlib only (CPython 3.8+): it serves the runtime
client one invocation after the other and keeps what the client posts back.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_API = "/2018-06-01/runtime"
_NO_TRACE_ID = "Root=1-00000000-000000000000000000000000;Sampled=0"


class RuntimeApi:
    """The Lambda Runtime API, as `awslambdaric` expects it: HTTP/1.1, `Content-Length` on every
    response, and every header of a real `next` response. The client's polls wait until `offer`
    gives them an invocation, one at a time (a warm execution environment); `polled` is set at
    the first, once the client has imported the handler.

    `done` is set once the client has posted the response, an error, or an initialisation error
    of the current invocation; `outcome` is then (ok, body, content_type), or `init_error` the body
    of the latter."""

    def __init__(self, function_arn: str) -> None:
        self.function_arn = function_arn
        self.timeout = 0.0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.stop = threading.Event()
        self.offered = threading.Event()
        self.polled = threading.Event()
        self.first_polled_at: float | None = (
            None  # monotonic time the client first asked for an invocation
        )
        self.init_error: bytes | None = None
        self.event = b""
        self.request_id = ""
        self.served_at: float | None = None  # monotonic time the invocation went out
        self.outcome: tuple[bool, bytes, str] | None = None  # (ok, body, content_type)
        self.server = _runtime_api_server(self)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def offer(self, event: str, request_id: str, timeout: float) -> None:
        """The next invocation, with `timeout` seconds: served to the client's next poll."""
        with self.lock:
            self.event = event.encode("utf-8")
            self.request_id = request_id
            self.timeout = timeout
            self.served_at = None  # monotonic time the invocation went out
            self.outcome = None  # (ok, body, content_type)
            self.done.clear()
            self.offered.set()

    @property
    def address(self) -> str:
        return "127.0.0.1:{}".format(self.server.server_address[1])

    def __enter__(self) -> RuntimeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.offered.set()
        self.server.shutdown()
        self.server.server_close()

    def next_invocation(self) -> tuple[bytes, dict] | None:
        """The body and headers of the answer to `invocation/next`: the offered invocation, once
        it is offered; None once the API stops (the caller then holds the poll)."""
        with self.lock:
            if self.first_polled_at is None:
                self.first_polled_at = time.monotonic()
                self.polled.set()
        while True:
            self.offered.wait()
            with self.lock:
                if self.stop.is_set():
                    return None
                if not self.offered.is_set():
                    continue
                self.offered.clear()
                self.served_at = time.monotonic()
                event, request_id, timeout = self.event, self.request_id, self.timeout
            break
        deadline_ms = int(time.time() * 1000 + timeout * 1000)
        return event, {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": os.environ.get("_X_AMZN_TRACE_ID", _NO_TRACE_ID),
            "Content-Type": "application/json",
        }

    def record(self, path: str, body: bytes, content_type: str) -> bool:
        """Keep what the client posted to `path`: False for a path the API does not know."""
        if path == f"{_API}/invocation/{self.request_id}/response":
            self.outcome = (True, body, content_type)
        elif path == f"{_API}/invocation/{self.request_id}/error":
            self.outcome = (False, body, content_type)
        elif path == f"{_API}/init/error":
            self.init_error = body
        else:
            return False
        return True

    def report(self) -> bytes:
        """What the client posted, as the direct child reports it
        (`runner_direct_child._report_line`)."""
        if self.init_error is not None:
            message = {"ok": False, "payload": self.init_error.decode("utf-8"), "init_error": True}
        else:
            # `done` is set: the client posted its outcome.
            assert self.outcome is not None
            ok, body, content_type = self.outcome
            if content_type == "application/json":
                message = {"ok": ok, "payload": body.decode("utf-8")}
            else:
                message = {"ok": ok, "bytes": base64.b64encode(body).decode("ascii")}
        return json.dumps(message).encode("utf-8")


def _runtime_api_server(api: RuntimeApi) -> ThreadingHTTPServer:
    """An HTTP server on a free loopback port that answers the client's requests from `api`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
            pass

        def _reply(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            headers = {"Content-Type": "application/json", **(headers or {})}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self) -> None:
            if self.path != f"{_API}/invocation/next":
                return self._reply(404, b'{"errorMessage": "not found"}')
            invocation = api.next_invocation()
            if invocation is None:
                # The API stopped: the client is stopped too.
                self.close_connection = True
                return
            self._reply(200, *invocation)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            content_type = self.headers.get("Content-Type", "application/json")
            if not api.record(self.path, body, content_type):
                return self._reply(404, b'{"errorMessage": "not found"}')
            self._reply(202, b'{"status": "OK"}')
            api.done.set()

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            # The client is killed once its invocation is done: a reset connection is expected.
            pass

    return Server(("127.0.0.1", 0), Handler)
